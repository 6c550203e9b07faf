import { useSignal } from '@preact/signals';
import { MatrixError } from 'matrix-js-sdk/lib/matrix.js';
import { Dialog } from '../components/dialog';
import { t } from '../i18n';

interface InviteProps {
  roomName: string;
  serverName: string;
  invite: (userId: string) => Promise<void>;
  onClose: () => void;
}

/** Invites someone to the current room by user ID (or localpart on our server). */
export function InviteDialog({ roomName, serverName, invite, onClose }: InviteProps) {
  const user = useSignal('');
  const busy = useSignal(false);
  const error = useSignal('');
  const done = useSignal('');

  async function onSubmit(event: Event) {
    event.preventDefault();
    let userId = user.value.trim();
    if (!userId) return;
    if (!userId.startsWith('@')) userId = `@${userId}`;
    if (!userId.includes(':')) userId = `${userId}:${serverName}`;
    busy.value = true;
    error.value = '';
    done.value = '';
    try {
      await invite(userId);
      done.value = t('invite.done', { user: userId });
      user.value = '';
    } catch (cause) {
      error.value =
        cause instanceof MatrixError && cause.errcode === 'M_FORBIDDEN'
          ? t('invite.forbidden')
          : t('invite.failed');
    } finally {
      busy.value = false;
    }
  }

  return (
    <Dialog titleId="invite-title" title={t('invite.title', { name: roomName })} onClose={onClose}>
      <form class="dialog__form" onSubmit={onSubmit} noValidate>
        <div class="field">
          <label for="invite-user">{t('invite.user')}</label>
          <input
            id="invite-user"
            type="text"
            value={user.value}
            autofocus
            placeholder={`@name:${serverName}`}
            onInput={(event) => (user.value = event.currentTarget.value)}
          />
        </div>
        <p class="form-error" role="alert">
          {error.value}
        </p>
        <p class="dialog__status" role="status">
          {done.value}
        </p>
        <div class="dialog__actions">
          <button type="button" class="button" onClick={onClose}>
            {t('invite.close')}
          </button>
          <button type="submit" class="button button--primary" disabled={busy.value}>
            {t('invite.submit')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
