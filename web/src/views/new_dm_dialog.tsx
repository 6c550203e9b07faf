import { useSignal } from '@preact/signals';
import { MatrixError } from 'matrix-js-sdk/lib/matrix.js';
import { useEffect } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { Dialog } from '../components/dialog';
import { t } from '../i18n';

const kSearchDelayMs = 250; // typing pauses this long before the directory is asked

interface Props {
  chat: Chat;
  /** The direct chat is ready (found or created): open it. */
  onOpened: (roomId: string) => void;
  onClose: () => void;
}

/**
 * "New message": finds people in the server's user directory as you type and opens the direct
 * chat with the one chosen — the existing one if there is one, else a new room inviting them.
 */
export function NewDmDialog({ chat, onOpened, onClose }: Props) {
  const term = useSignal('');
  const people = useSignal<{ userId: string; displayName: string }[]>([]);
  const searching = useSignal(false);
  const searched = useSignal('');
  const busy = useSignal<string | null>(null);
  const error = useSignal('');

  useEffect(() => {
    const value = term.value.trim();
    if (!value) {
      people.value = [];
      searched.value = '';
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      searching.value = true;
      chat
        .searchPeople(value)
        .then((found) => {
          if (!live) return;
          people.value = found;
          searched.value = value;
          error.value = '';
        })
        .catch(() => live && (error.value = t('direct.search_failed')))
        .finally(() => live && (searching.value = false));
    }, kSearchDelayMs);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [term.value]);

  async function choose(userId: string) {
    busy.value = userId;
    error.value = '';
    try {
      onOpened(await chat.openDirect(userId));
    } catch (cause) {
      error.value =
        cause instanceof MatrixError && cause.errcode === 'M_LIMIT_EXCEEDED'
          ? t('create.rate_limited')
          : t('direct.failed');
      busy.value = null;
    }
  }

  let status = '';
  if (searching.value) status = t('direct.searching');
  else if (searched.value && !people.value.length) {
    status = t('direct.none', { term: searched.value });
  }
  return (
    <Dialog titleId="new-dm-title" title={t('direct.title')} onClose={onClose}>
      <form class="dialog__form" onSubmit={(event) => event.preventDefault()} noValidate>
        <p class="dialog__body">{t('direct.intro')}</p>
        <div class="field">
          <label for="new-dm-search">{t('direct.search')}</label>
          <input
            id="new-dm-search"
            type="search"
            value={term.value}
            autofocus
            autoComplete="off"
            onInput={(event) => (term.value = event.currentTarget.value)}
          />
        </div>
        <p class="dialog__status" role="status">
          {status}
        </p>
        {people.value.length ? (
          <ul class="people" aria-label={t('direct.people')}>
            {people.value.map((person) => (
              <li key={person.userId}>
                <button
                  type="button"
                  class="person"
                  disabled={busy.value !== null}
                  aria-label={t('direct.message_person', { name: person.displayName })}
                  onClick={() => choose(person.userId)}
                >
                  <span class="avatar" aria-hidden="true">
                    {person.displayName.charAt(0).toLocaleUpperCase()}
                  </span>
                  <span class="person__text">
                    <span class="person__name">{person.displayName}</span>
                    <span class="person__id">{person.userId}</span>
                  </span>
                  {busy.value === person.userId ? (
                    <span class="person__busy">{t('direct.opening')}</span>
                  ) : null}
                </button>
              </li>
            ))}
          </ul>
        ) : null}
        <p class="form-error" role="alert">
          {error.value}
        </p>
        <div class="dialog__actions">
          <button type="button" class="button" onClick={onClose}>
            {t('chat.cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
