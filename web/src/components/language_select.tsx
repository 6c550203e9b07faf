import { kLanguages, language, nativeName, setLanguage, t, type Language } from '../i18n';

interface Props {
  id: string;
  /** Hide the "Language" label visually (it stays the select's accessible name). */
  compact?: boolean;
}

/** The language switcher: each language is listed under its own name. */
export function LanguageSelect({ id, compact = false }: Props) {
  return (
    <div class={compact ? 'language-select language-select--compact' : 'language-select'}>
      <label for={id} class={compact ? 'visually-hidden' : undefined}>
        {t('language.label')}
      </label>
      <select
        id={id}
        value={language.value}
        onChange={(event) => setLanguage(event.currentTarget.value as Language)}
      >
        {kLanguages.map((lng) => (
          <option key={lng} value={lng} lang={lng}>
            {nativeName(lng)}
          </option>
        ))}
      </select>
    </div>
  );
}
