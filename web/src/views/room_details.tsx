import { useSignal } from '@preact/signals';
import { KnownMembership, type Room, type RoomMember } from 'matrix-js-sdk/lib/matrix.js';
import { useEffect } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { formatFullDate } from '../chat/date_format';
import { fetchRoomFiles, mergeLiveFiles, type SharedFile } from '../chat/room_files';
import { t } from '../i18n';
import { LeaveRoomDialog } from './leave_room_dialog';
import { FileCard } from './media_attachment';
import { PresenceDot } from './presence_dot';
import { RoomSettingsForm } from './room_settings_form';

interface Props {
  chat: Chat;
  room: Room;
  onClose: () => void;
  /** We left the room (after confirming in the dialog). */
  onLeft: (roomId: string) => void;
}

/** The role a power level stands for (the levels Matrix clients commonly name). */
function roleKey(member: RoomMember): string {
  if (member.powerLevel >= 100) return 'details.role_admin';
  if (member.powerLevel >= 50) return 'details.role_moderator';
  return 'details.role_member';
}

/** Admins first, then by name. */
function byRole(a: RoomMember, b: RoomMember): number {
  const role = b.powerLevel - a.powerLevel;
  return role || a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
}

/**
 * The side panel about a room: its picture, name and topic (editable by those allowed), its
 * members and their roles, its files, and a way to leave it.
 */
export function RoomDetails({ chat, room, onClose, onLeft }: Props) {
  chat.revision.value; // re-render on every change of the room
  const fetched = useSignal<SharedFile[] | null>(null);
  const failed = useSignal(false);
  const leaving = useSignal(false);

  useEffect(() => {
    let live = true;
    fetchRoomFiles(chat, room.roomId)
      .then((files) => live && (fetched.value = files))
      .catch(() => live && (failed.value = true));
    document.getElementById('details-close')?.focus();
    return () => {
      live = false;
    };
  }, [room.roomId]);

  const members = room
    .getMembers()
    .filter((m) => m.membership === KnownMembership.Join || m.membership === KnownMembership.Invite)
    .sort(byRole);
  const files = fetched.value ? mergeLiveFiles(room, fetched.value) : null;

  // NOTE: the dialog sits beside the panel, not in it: Escape in the dialog would otherwise
  // bubble up to the panel's own Escape handler and close both.
  return (
    <>
      <aside
        class="details-panel"
        aria-labelledby="details-title"
        onKeyDown={(event) => {
          if (event.key === 'Escape' && !event.defaultPrevented) onClose();
        }}
      >
        <header class="thread-panel__header">
          <h2 id="details-title" class="thread-panel__title">
            {t('details.title')}
          </h2>
          <button
            type="button"
            id="details-close"
            class="icon-button"
            aria-label={t('details.close')}
            title={t('details.close')}
            onClick={onClose}
          >
            <span class="close-icon" aria-hidden="true" />
          </button>
        </header>
        <div class="details-panel__body">
          <section class="details-panel__section" aria-labelledby="details-about">
            <h3 id="details-about" class="details-panel__heading">
              {t('details.about')}
            </h3>
            <RoomSettingsForm key={room.roomId} chat={chat} room={room} />
          </section>
          <section class="details-panel__section" aria-labelledby="details-members">
            <h3 id="details-members" class="details-panel__heading">
              {t('details.members', { count: members.length })}
            </h3>
            <ul class="details-panel__list">
              {members.map((member) => {
                const presence = chat.presence(member.userId);
                return (
                  <li key={member.userId} class="member">
                    <span class="avatar-with-presence">
                      <span class="avatar member__avatar" aria-hidden="true">
                        {chat.displayName(room, member.userId).charAt(0).toLocaleUpperCase()}
                      </span>
                      <PresenceDot info={presence} class="presence-dot--on-avatar" />
                    </span>
                    <span class="member__text">
                      <span class="member__name" title={member.userId}>
                        {chat.displayName(room, member.userId)}
                        {member.membership === KnownMembership.Invite ? (
                          <span class="member__invited"> {t('details.invited')}</span>
                        ) : null}
                      </span>
                      {presence.statusMsg ? (
                        <span class="member__status" aria-hidden="true">
                          {presence.statusMsg}
                        </span>
                      ) : null}
                    </span>
                    <span class="member__role">{t(roleKey(member))}</span>
                  </li>
                );
              })}
            </ul>
          </section>
          <section class="details-panel__section" aria-labelledby="details-files">
            <h3 id="details-files" class="details-panel__heading">
              {t('details.files')}
            </h3>
            {failed.value ? (
              <p class="form-error" role="alert">
                {t('details.files_failed')}
              </p>
            ) : files === null ? (
              <p class="sidebar__empty" role="status">
                {t('app.loading')}
              </p>
            ) : files.length === 0 ? (
              <p class="sidebar__empty">{t('details.no_files')}</p>
            ) : (
              <ul class="details-panel__list" aria-labelledby="details-files">
                {files.map((file) => (
                  <li key={file.eventId} class="details-file">
                    <FileCard chat={chat} media={file.media} />
                    <p class="details-file__meta">
                      {t('details.file_meta', {
                        name: chat.displayName(room, file.sender),
                        date: formatFullDate(file.ts),
                      })}
                    </p>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section class="details-panel__section" aria-labelledby="details-leave">
            <h3 id="details-leave" class="details-panel__heading">
              {t('leave.heading')}
            </h3>
            <button type="button" class="button" onClick={() => (leaving.value = true)}>
              {t('leave.open')}
            </button>
          </section>
        </div>
      </aside>
      {leaving.value ? (
        <LeaveRoomDialog
          chat={chat}
          room={room}
          onClose={() => (leaving.value = false)}
          onLeft={onLeft}
        />
      ) : null}
    </>
  );
}
