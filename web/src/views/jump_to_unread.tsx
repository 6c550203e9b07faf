import { t } from '../i18n';

interface Props {
  /** Whether the bar shows: unread messages lie above the view. */
  shown: boolean;
  /** Loading older messages on the way to the first unread one. */
  busy: boolean;
  onJump: () => void;
  onDismiss: () => void;
}

/**
 * The bar at the top of a room's timeline while its first unread message is above the view:
 * "Jump to first unread", and "Mark as read" to dismiss it. The slot is a live region, so the
 * bar is announced when it appears.
 */
export function JumpToUnread({ shown, busy, onJump, onDismiss }: Props) {
  return (
    <div class="jump-unread-slot" aria-live="polite">
      {shown ? (
        <div class="jump-unread">
          <span class="jump-unread__text">{t('unread.above')}</span>
          <button type="button" class="button jump-unread__jump" disabled={busy} onClick={onJump}>
            {busy ? t('unread.jumping') : t('unread.jump')}
          </button>
          <button type="button" class="button button--quiet" onClick={onDismiss}>
            {t('unread.mark_read')}
          </button>
        </div>
      ) : null}
    </div>
  );
}
