import { useSignal } from '@preact/signals';
import { KnownMembership, type Room } from 'matrix-js-sdk/lib/matrix.js';
import type { Chat } from '../chat/chat_client';
import { Dialog } from '../components/dialog';
import { t } from '../i18n';

const kAdminLevel = 100;

interface Props {
  chat: Chat;
  room: Room;
  /** A team (space) rather than a channel or direct chat: only the words differ. */
  team?: boolean;
  onClose: () => void;
  /** Called once the server has taken the leave. */
  onLeft: (roomId: string) => void;
}

/**
 * Whether we are the room's last admin while others are still in it: once we leave, nobody can
 * change its settings or power levels any more.
 */
export function isLastAdmin(room: Room, userId: string): boolean {
  const me = room.getMember(userId);
  if (!me || me.powerLevel < kAdminLevel) return false;
  const others = room
    .getMembers()
    .filter((m) => m.userId !== userId && m.membership === KnownMembership.Join);
  return others.length > 0 && !others.some((m) => m.powerLevel >= kAdminLevel);
}

/** "Leave #room?": a confirmation, with a warning when we are its last admin. */
export function LeaveRoomDialog({ chat, room, team = false, onClose, onLeft }: Props) {
  const busy = useSignal(false);
  const error = useSignal('');
  const name = chat.roomName(room);
  const lastAdmin = isLastAdmin(room, chat.userId);

  async function leave() {
    busy.value = true;
    error.value = '';
    try {
      await chat.leave(room.roomId);
      onLeft(room.roomId);
    } catch {
      error.value = t('leave.failed');
      busy.value = false;
    }
  }

  return (
    <Dialog
      titleId="leave-title"
      title={t(team ? 'leave.title_team' : 'leave.title', { name })}
      onClose={onClose}
    >
      <p class="dialog__body">{t(team ? 'leave.body_team' : 'leave.body')}</p>
      {lastAdmin ? (
        <p class="dialog__body leave__warning" id="leave-warning">
          {t('leave.last_admin')}
        </p>
      ) : null}
      <p class="form-error" role="alert">
        {error.value}
      </p>
      <div class="dialog__actions">
        <button type="button" class="button" onClick={onClose}>
          {t('chat.cancel')}
        </button>
        <button
          type="button"
          class="button button--danger"
          autofocus
          disabled={busy.value}
          aria-describedby={lastAdmin ? 'leave-warning' : undefined}
          onClick={leave}
        >
          {busy.value ? t('leave.leaving') : t('leave.confirm')}
        </button>
      </div>
    </Dialog>
  );
}
