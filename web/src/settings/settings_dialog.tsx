// Settings, opened from the gear in the top bar: a modal dialog with a tab per subject (Profile;
// Language and appearance; Sessions), as Element and Teams lay theirs out. A chunk of its own,
// loaded by settings_launcher.tsx, with its words (locales/settings.*.json) and styles.
import { useSignal } from '@preact/signals';
import { useModal } from '../components/dialog';
import { t } from '../i18n';
import { AppearancePanel } from './appearance_panel';
import { ProfilePanel } from './profile_panel';
import { SessionsPanel } from './sessions_panel';
import type { SettingsProps } from './settings_launcher';
import './settings.css';
import './settings_locale';

const kTabs = ['profile', 'appearance', 'sessions'] as const;
type Tab = (typeof kTabs)[number];

export function SettingsDialog({ chat, session, profile, onClose }: SettingsProps) {
  const ref = useModal();
  const tab = useSignal<Tab>('profile');

  /** WAI-ARIA tabs: arrows move along the list (and choose), Home and End jump to the ends. */
  function onTabKey(event: KeyboardEvent) {
    const index = kTabs.indexOf(tab.value);
    const next: Record<string, number> = {
      ArrowDown: index + 1,
      ArrowRight: index + 1,
      ArrowUp: index - 1,
      ArrowLeft: index - 1,
      Home: 0,
      End: kTabs.length - 1,
    };
    if (!(event.key in next)) return;
    event.preventDefault();
    const chosen = kTabs[(next[event.key] + kTabs.length) % kTabs.length];
    tab.value = chosen;
    document.getElementById(`settings-tab-${chosen}`)?.focus();
  }

  return (
    <dialog
      ref={ref}
      class="dialog settings"
      aria-labelledby="settings-title"
      onCancel={(event) => {
        event.preventDefault(); // Escape: let the owner unmount us, which restores focus
        onClose();
      }}
    >
      <header class="settings__header">
        <h2 id="settings-title" class="dialog__title">
          {t('settings.title')}
        </h2>
        <button
          type="button"
          class="icon-button"
          aria-label={t('settings.close')}
          title={t('settings.close')}
          onClick={onClose}
        >
          <span class="close-icon" aria-hidden="true" />
        </button>
      </header>
      <div class="settings__body">
        <div
          class="settings__tabs"
          role="tablist"
          aria-orientation="vertical"
          aria-label={t('settings.sections')}
          onKeyDown={onTabKey}
        >
          {kTabs.map((name) => (
            <button
              key={name}
              type="button"
              role="tab"
              id={`settings-tab-${name}`}
              class="settings__tab"
              aria-selected={tab.value === name}
              aria-controls={`settings-panel-${name}`}
              tabIndex={tab.value === name ? 0 : -1}
              onClick={() => (tab.value = name)}
            >
              {t(`settings.tab.${name}`)}
            </button>
          ))}
        </div>
        <div
          class="settings__panel"
          role="tabpanel"
          id={`settings-panel-${tab.value}`}
          aria-labelledby={`settings-tab-${tab.value}`}
        >
          {tab.value === 'profile' ? (
            <ProfilePanel chat={chat} profile={profile} />
          ) : tab.value === 'appearance' ? (
            <AppearancePanel />
          ) : (
            <SessionsPanel session={session} />
          )}
        </div>
      </div>
    </dialog>
  );
}
