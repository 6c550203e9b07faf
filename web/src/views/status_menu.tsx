import { useSignal } from '@preact/signals';
import { useState } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import {
  currentChoice,
  kMaxStatusBytes,
  kPresenceChoices,
  presenceFromContent,
  utf8Length,
  type PresenceChoice,
  type PresenceInfo,
} from '../chat/presence';
import { Dialog } from '../components/dialog';
import { t } from '../i18n';
import { PresenceDot, presenceLabel } from './presence_dot';

// An explicit "unavailable" looks the same as being idle in m.presence: this client remembers
// that its user chose to appear away, to show that choice as the one in force.
const kAwayKey = 'ruche.presence_away';

function choseAway(): boolean {
  try {
    return localStorage.getItem(kAwayKey) === '1';
  } catch {
    return false;
  }
}

function rememberAway(away: boolean): void {
  try {
    if (away) localStorage.setItem(kAwayKey, '1');
    else localStorage.removeItem(kAwayKey);
  } catch {
    // storage disabled: the menu then shows "Automatic" while idle, which is still true enough
  }
}

/** What the dot of a choice looks like, for the choice list. */
function choicePreview(choice: PresenceChoice): PresenceInfo {
  const content: Record<string, unknown> = {
    presence: choice === 'away' ? 'unavailable' : choice === 'offline' ? 'offline' : 'online',
  };
  if (choice === 'busy' || choice === 'dnd') content['org.ruche.availability'] = choice;
  return presenceFromContent(content);
}

interface Props {
  chat: Chat;
  onClose: () => void;
}

/**
 * The status menu, opened from the user's name in the top bar: how the user appears now, a
 * choice of Automatic / Busy / Do not disturb / Appear away / Appear offline, and a status
 * message (at most 1,024 bytes, as the server allows).
 */
export function StatusMenu({ chat, onClose }: Props) {
  chat.revision.value;
  const own = chat.presence(chat.userId);
  const choice = useSignal<PresenceChoice>(currentChoice(own, choseAway()));
  // The choice in force takes the focus when the dialog opens (a radio group is one Tab stop).
  const [initial] = useState(choice.value);
  const message = useSignal(own.statusMsg);
  const busy = useSignal(false);
  const error = useSignal('');

  const tooLong = utf8Length(message.value.trim()) > kMaxStatusBytes;

  async function onSubmit(event: Event) {
    event.preventDefault();
    if (tooLong) {
      error.value = t('presence.message_too_long');
      document.getElementById('status-message')?.focus();
      return;
    }
    busy.value = true;
    error.value = '';
    try {
      await chat.setPresence(choice.value, message.value.trim());
      rememberAway(choice.value === 'away');
      onClose();
    } catch {
      error.value = t('presence.failed');
      busy.value = false;
    }
  }

  return (
    <Dialog titleId="status-menu-title" title={t('presence.menu_title')} onClose={onClose}>
      <p class="status-menu__now">
        <span class="status-menu__now-label">{t('presence.now')}</span>
        <PresenceDot info={own} decorative />
        <span id="status-menu-current">{presenceLabel(own)}</span>
      </p>
      <form class="dialog__form status-menu" onSubmit={onSubmit} noValidate>
        <fieldset class="status-menu__choices">
          <legend class="status-menu__legend">{t('presence.show_as')}</legend>
          {kPresenceChoices.map((option) => (
            <label key={option} class="status-choice">
              <input
                type="radio"
                name="presence-choice"
                value={option}
                checked={choice.value === option}
                autofocus={option === initial}
                onChange={() => (choice.value = option)}
              />
              <PresenceDot info={choicePreview(option)} decorative />
              <span class="status-choice__text">
                <span class="status-choice__name">{t(`presence.choice.${option}`)}</span>
                <span class="status-choice__hint">{t(`presence.choice_hint.${option}`)}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label for="status-message">{t('presence.message')}</label>
          <input
            id="status-message"
            type="text"
            autocomplete="off"
            value={message.value}
            placeholder={t('presence.message_placeholder')}
            aria-describedby="status-message-hint"
            aria-invalid={tooLong ? 'true' : undefined}
            onInput={(event) => {
              message.value = event.currentTarget.value;
              error.value = '';
            }}
          />
          <p id="status-message-hint" class="status-menu__hint">
            {tooLong ? t('presence.message_too_long') : t('presence.message_hint')}
          </p>
        </div>
        <p class="form-error" role="alert">
          {error.value}
        </p>
        <div class="dialog__actions status-menu__actions">
          <button
            type="button"
            class="button button--quiet status-menu__clear"
            disabled={!message.value}
            onClick={() => {
              message.value = '';
              document.getElementById('status-message')?.focus();
            }}
          >
            {t('presence.clear_message')}
          </button>
          <button type="button" class="button" onClick={onClose}>
            {t('presence.cancel')}
          </button>
          <button type="submit" class="button button--primary" disabled={busy.value}>
            {busy.value ? t('presence.saving') : t('presence.save')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
