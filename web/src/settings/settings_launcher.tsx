// What the workspace needs of Settings before it is opened: the top bar's gear icon and a
// loader for the dialog, whose code, words and styles are a chunk of their own
// (settings_dialog.tsx), fetched with import() on first opening.
import { signal } from '@preact/signals';
import type { ComponentType } from 'preact';
import { useEffect } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { Dialog } from '../components/dialog';
import { t } from '../i18n';
import type { Session } from '../session';
import type { OwnProfile } from './own_profile';

export interface SettingsProps {
  chat: Chat;
  session: Session;
  profile: OwnProfile;
  onClose: () => void;
}

const settingsView = signal<ComponentType<SettingsProps> | null>(null);
const settingsViewFailed = signal(false);
let requested = false;

/** Starts fetching the dialog's chunk (on hover or focus of the button, and on opening). */
export function preloadSettings(): void {
  if (requested && !settingsViewFailed.value) return;
  requested = true;
  settingsViewFailed.value = false;
  import('./settings_dialog').then(
    (module) => (settingsView.value = module.SettingsDialog),
    () => (settingsViewFailed.value = true), // offline, or a new deployment replaced the chunk
  );
}

/** The Settings dialog, or a small dialog saying it is loading (or could not be). */
export function SettingsLoader(props: SettingsProps) {
  useEffect(preloadSettings, []); // once per opening: a failed fetch is tried again next time
  const View = settingsView.value;
  if (View) return <View {...props} />;
  const failed = settingsViewFailed.value;
  return (
    <Dialog titleId="settings-loading-title" title={t('workspace.settings')} onClose={props.onClose}>
      <div class="loading">
        {failed ? null : <span class="spinner" aria-hidden="true" />}
        <p role={failed ? 'alert' : 'status'}>{t(failed ? 'app.load_failed' : 'app.loading')}</p>
      </div>
      <div class="dialog__actions">
        <button type="button" class="button" onClick={props.onClose}>
          {t('workspace.close_settings')}
        </button>
      </div>
    </Dialog>
  );
}

/** A gear, drawn inline like components/chat_icons.tsx. Decorative: the button has the label. */
export function SettingsIcon() {
  return (
    <svg
      class="icon"
      viewBox="0 0 24 24"
      width="20"
      height="20"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <circle cx="12" cy="12" r="3" />
      <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
    </svg>
  );
}
