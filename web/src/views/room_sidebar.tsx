import { useSignal } from '@preact/signals';
import type { Room } from 'matrix-js-sdk/lib/matrix.js';
import { useEffect } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { mentionCount, sidebarLists, unreadCount } from '../chat/room_lists';
import { t } from '../i18n';
import { Avatar } from '../settings/avatar';
import { PresenceDot, presenceLabel } from './presence_dot';
import { roomAvatar } from './room_settings_form';

interface Props {
  chat: Chat;
  teamId: string | null;
  /** The heading above the lists: the team's name, else the server's. */
  title: string;
  selectedRoomId: string | null;
  onSelect: (roomId: string) => void;
  onCreateChannel: () => void;
  /** Shown with a team's lists: asks to leave the team. */
  onLeaveTeam?: () => void;
}

function Badge({ count }: { count: number }) {
  if (count === 0) return null;
  return (
    <span class="badge" aria-hidden="true">
      {count > 99 ? '99+' : count}
    </span>
  );
}

function RoomLink({
  chat,
  room,
  direct,
  selected,
  onSelect,
}: {
  chat: Chat;
  room: Room;
  direct: boolean;
  selected: boolean;
  onSelect: (roomId: string) => void;
}) {
  const unread = selected ? 0 : unreadCount(room, chat.userId);
  const mentions = unread ? mentionCount(chat, room) : 0;
  // Notifications off: no count (a mention would not be highlighted either).
  const muted = chat.notifier.mode(room) === 'off';
  const name = chat.roomName(room);
  // A direct chat with one person shows how they are (the label says it for screen readers).
  const partner = direct ? chat.directPartner(room) : null;
  const presence = partner ? chat.presence(partner) : null;
  const picture = direct ? null : roomAvatar(room);
  let unreadLabel = unread && !muted ? t('workspace.room_unread', { name, count: unread }) : name;
  if (mentions) unreadLabel = t('notifications.room_mentions', { room: unreadLabel, count: mentions });
  if (muted) unreadLabel = t('notifications.room_muted', { room: unreadLabel });
  const label = presence
    ? t('presence.room_label', { room: unreadLabel, presence: presenceLabel(presence) })
    : unreadLabel;
  return (
    <li>
      <button
        type="button"
        class={`room-link${selected ? ' room-link--active' : ''}${unread ? ' room-link--unread' : ''}`}
        aria-current={selected ? 'page' : undefined}
        aria-label={label}
        onClick={() => onSelect(room.roomId)}
      >
        {presence ? (
          <span class="room-link__icon">
            <PresenceDot info={presence} decorative />
          </span>
        ) : picture ? (
          <Avatar chat={chat} mxc={picture} name={name} class="avatar--tiny room-link__icon" />
        ) : (
          <span class="room-link__icon" aria-hidden="true">
            {direct ? '@' : '#'}
          </span>
        )}
        <span class="room-link__name">{name}</span>
        {mentions ? (
          <span class="badge badge--mention" aria-hidden="true">
            @
          </span>
        ) : null}
        <Badge count={muted ? 0 : unread} />
      </button>
    </li>
  );
}

/** The sidebar: invitations, the team's (or Home's) channels, and direct messages. */
export function RoomSidebar({
  chat,
  teamId,
  title,
  selectedRoomId,
  onSelect,
  onCreateChannel,
  onLeaveTeam,
}: Props) {
  chat.revision.value;
  chat.notifier.rulesChanged.value;
  const busy = useSignal<string | null>(null);
  // A notification clicked opens its room the way choosing it here does.
  useEffect(() => chat.notifier.setOpener(onSelect), [chat, onSelect]);
  const error = useSignal('');
  const { channels, directs, invites } = sidebarLists(chat, teamId);

  async function answer(room: Room, accept: boolean) {
    busy.value = room.roomId;
    error.value = '';
    try {
      if (accept) {
        await chat.join(room.roomId);
        onSelect(room.roomId);
      } else {
        await chat.decline(room.roomId);
      }
    } catch {
      error.value = t('workspace.invite_failed');
    } finally {
      busy.value = null;
    }
  }

  return (
    <nav class="sidebar" aria-label={t('workspace.conversations')}>
      {teamId && onLeaveTeam ? (
        <div class="sidebar__team">
          <p class="sidebar__server">{title}</p>
          <button
            type="button"
            class="button button--quiet sidebar__leave-team"
            aria-label={t('leave.team_named', { name: title })}
            onClick={onLeaveTeam}
          >
            {t('leave.team_open')}
          </button>
        </div>
      ) : (
        <p class="sidebar__server">{title}</p>
      )}
      {chat.state.value === 'offline' ? (
        <p class="sidebar__offline" role="status">
          {t('workspace.offline')}
        </p>
      ) : null}
      {invites.length ? (
        <section class="sidebar__section" aria-labelledby="sidebar-invites">
          <h2 id="sidebar-invites" class="sidebar__heading">
            {t('workspace.invitations')}
          </h2>
          <ul class="sidebar__list">
            {invites.map((room) => (
              <li key={room.roomId} class="invite">
                <span class="invite__name">{chat.roomName(room)}</span>
                <span class="invite__actions">
                  <button
                    type="button"
                    class="button invite__join"
                    disabled={busy.value === room.roomId}
                    aria-label={t('workspace.join_named', { name: chat.roomName(room) })}
                    onClick={() => answer(room, true)}
                  >
                    {t('workspace.join')}
                  </button>
                  <button
                    type="button"
                    class="button button--quiet"
                    disabled={busy.value === room.roomId}
                    aria-label={t('workspace.decline_named', { name: chat.roomName(room) })}
                    onClick={() => answer(room, false)}
                  >
                    {t('workspace.decline')}
                  </button>
                </span>
              </li>
            ))}
          </ul>
          <p class="form-error" role="alert">
            {error.value}
          </p>
        </section>
      ) : null}
      <section class="sidebar__section" aria-labelledby="sidebar-channels">
        <div class="sidebar__section-head">
          <h2 id="sidebar-channels" class="sidebar__heading">
            {t('workspace.channels')}
          </h2>
          <button
            type="button"
            class="icon-button sidebar__add"
            aria-label={t('workspace.create_channel')}
            title={t('workspace.create_channel')}
            onClick={onCreateChannel}
          >
            <span class="plus-icon plus-icon--small" aria-hidden="true" />
          </button>
        </div>
        {channels.length ? (
          <ul class="sidebar__list">
            {channels.map((room) => (
              <RoomLink
                key={room.roomId}
                chat={chat}
                room={room}
                direct={false}
                selected={room.roomId === selectedRoomId}
                onSelect={onSelect}
              />
            ))}
          </ul>
        ) : (
          <p class="sidebar__empty">
            {chat.state.value === 'starting' ? t('app.loading') : t('workspace.channels_empty')}
          </p>
        )}
      </section>
      <section class="sidebar__section" aria-labelledby="sidebar-direct">
        <h2 id="sidebar-direct" class="sidebar__heading">
          {t('workspace.direct_messages')}
        </h2>
        {directs.length ? (
          <ul class="sidebar__list">
            {directs.map((room) => (
              <RoomLink
                key={room.roomId}
                chat={chat}
                room={room}
                direct
                selected={room.roomId === selectedRoomId}
                onSelect={onSelect}
              />
            ))}
          </ul>
        ) : (
          <p class="sidebar__empty">{t('workspace.direct_messages_empty')}</p>
        )}
      </section>
    </nav>
  );
}
