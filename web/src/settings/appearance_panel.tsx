import { LanguageSelect } from '../components/language_select';
import { language, t } from '../i18n';
import { kThemes, setTheme, theme } from './theme';

/** The browser's time zone ("Europe/Paris"), which every date and time of the app is shown in. */
function timeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

/** Language (dates and times follow it, in the browser's time zone) and the colour theme. */
export function AppearancePanel() {
  const sample = new Intl.DateTimeFormat(language.value, {
    dateStyle: 'full',
    timeStyle: 'short',
  }).format(Date.now());
  return (
    <div class="settings__sections">
      <section class="settings__section" aria-labelledby="settings-language-heading">
        <h3 id="settings-language-heading" class="settings__heading">
          {t('settings.language.heading')}
        </h3>
        <LanguageSelect id="settings-language" compact />
        <p class="settings__hint">
          {t('settings.language.dates', { zone: timeZone(), sample })}
        </p>
      </section>
      <section class="settings__section">
        <fieldset class="settings__choices">
          <legend class="settings__heading">{t('settings.theme.heading')}</legend>
          {kThemes.map((choice) => (
            <label key={choice} class="settings__choice">
              <input
                type="radio"
                name="settings-theme"
                value={choice}
                checked={theme.value === choice}
                onChange={() => setTheme(choice)}
              />
              <span class={`theme-swatch theme-swatch--${choice}`} aria-hidden="true" />
              <span>{t(`settings.theme.${choice}`)}</span>
            </label>
          ))}
        </fieldset>
        <p class="settings__hint">{t('settings.theme.hint')}</p>
      </section>
    </div>
  );
}
