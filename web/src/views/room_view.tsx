import { useSignal } from '@preact/signals';
import { ReceiptType, type Room } from 'matrix-js-sdk/lib/matrix.js';
import type { TargetedDragEvent } from 'preact';
import { useEffect, useMemo } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { ChatContext } from '../chat/chat_context';
import { HistoryWindow } from '../chat/history_window';
import { unreadCount } from '../chat/room_lists';
import { seenBy, TimelineBuilder, typingNames, type MessageItem } from '../chat/timeline_model';
import { uploadQueueFor } from '../chat/uploads';
import { Dialog } from '../components/dialog';
import { t } from '../i18n';
import { Avatar } from '../settings/avatar';
import { Composer, type ComposerMode } from './composer';
import { JumpToUnread } from './jump_to_unread';
import type { MessageActions } from './message';
import { RoomDetails } from './room_details';
import { RoomNotificationsMenu } from './room_notifications_menu';
import { roomAvatar } from './room_settings_form';
import { ThreadPanel } from './thread_panel';
import { Timeline, type TimelineFocus } from './timeline';

interface Props {
  chat: Chat;
  room: Room;
  /** A direct chat: no "#" before its name. */
  direct: boolean;
  onInvite: () => void;
  /** A message to show (a search result): loaded if need be, scrolled to and highlighted. */
  jumpTo?: TimelineFocus | null;
  /** We left the room (from its details panel). */
  onLeft?: (roomId: string) => void;
}

// Numbers the jumps to the first unread message. NOTE: negative, so that they never repeat the
// `seq` of a search result's jump (workspace.tsx counts those up from 1).
let unreadJumps = 0;

/** Whether a drag carries files (not text or a link dragged from the page). */
function carriesFiles(event: TargetedDragEvent<HTMLElement>): boolean {
  return event.dataTransfer?.types.includes('Files') ?? false;
}

function typingText(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return t('chat.typing_one', { name: names[0] });
  if (names.length === 2) return t('chat.typing_two', { first: names[0], second: names[1] });
  return t('chat.typing_many');
}

/** One room: header, timeline, typing indicator and composer, and the thread side panel. */
export function RoomView({ chat, room, direct, onInvite, jumpTo = null, onLeft }: Props) {
  chat.revision.value; // re-render on every change of the room
  const mode: ComposerMode = { replyTo: useSignal(null), editing: useSignal(null) };
  const threadRoot = useSignal<string | null>(null);
  const detailsOpen = useSignal(false);
  const deleting = useSignal<MessageItem | null>(null);
  const actionError = useSignal('');
  const dragging = useSignal(false);
  // Set while showing older history around a message jumped to, instead of the live timeline.
  const history = useSignal<HistoryWindow | null>(null);
  const focus = useSignal<TimelineFocus | null>(null);
  const jumping = useSignal(false);
  const dividerAbove = useSignal(false);
  const unreadDismissed = useSignal(false);
  const jumpingUnread = useSignal(false);

  const uploads = uploadQueueFor(chat, room.roomId);

  // Where the "new messages" divider goes: fixed when the room opens, so it stays put while the
  // reader looks at what is new.
  // NOTE: the receipt itself, not getEventReadUpTo(), which says null while the message read is
  // not loaded (back after many messages): the jump to the first unread one loads it.
  const dividerAfter = useMemo(
    () =>
      unreadCount(room, chat.userId) > 0
        ? (room.getReadReceiptForUserId(chat.userId, false, ReceiptType.Read)?.eventId ?? null)
        : null,
    [room.roomId],
  );

  const liveItems = new TimelineBuilder(chat, room).mainItems();
  const historyEvents = history.value?.events.value ?? null;
  const items = historyEvents
    ? new TimelineBuilder(chat, room, historyEvents).mainItems()
    : liveItems;
  const messages = liveItems.filter((item): item is MessageItem => item.kind === 'message');
  const last = messages.at(-1) ?? null;
  const lastOwn = [...messages].reverse().find((item) => item.own && !item.deleted) ?? null;

  // The room is on screen: its new messages raise no browser notification (chat/notifications.ts).
  useEffect(() => {
    chat.notifier.setOpenRoom(room.roomId);
    return () => chat.notifier.setOpenRoom(null);
  }, [room.roomId]);

  // The room is on screen: what it shows is read.
  const lastId = room.getLiveTimeline().getEvents().at(-1)?.getId();
  useEffect(() => {
    if (document.visibilityState === 'visible') chat.markRead(room);
  }, [room.roomId, lastId]);
  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible') chat.markRead(room);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [room.roomId]);

  function failed() {
    actionError.value = t('chat.action_failed');
  }

  // A jump: a message among the loaded ones is shown in the live timeline; an older one in a
  // window of history loaded around it (/context). A thread reply opens its thread.
  useEffect(() => {
    if (!jumpTo) return;
    actionError.value = '';
    const event = room.findEventById(jumpTo.eventId);
    const relation = event?.getRelation();
    if (relation?.rel_type === 'm.thread' && relation.event_id) {
      detailsOpen.value = false;
      threadRoot.value = relation.event_id;
    }
    if (liveItems.some((item) => item.id === jumpTo.eventId)) {
      history.value = null;
      focus.value = jumpTo;
      return;
    }
    let live = true;
    jumping.value = true;
    HistoryWindow.around(chat, room.roomId, jumpTo.eventId)
      .then((window) => {
        if (!live) return;
        const target = window.events.value.find((e) => e.getId() === jumpTo.eventId);
        const rel = target?.getRelation();
        if (rel?.rel_type === 'm.thread' && rel.event_id) {
          detailsOpen.value = false;
          threadRoot.value = rel.event_id;
        }
        history.value = window;
        focus.value = jumpTo;
      })
      .catch(() => live && (actionError.value = t('search.jump_failed')))
      .finally(() => live && (jumping.value = false));
    return () => {
      live = false;
    };
  }, [jumpTo?.seq]);

  // The first unread message is above the view, or older than what is loaded.
  const unreadHidden =
    dividerAfter !== null &&
    !unreadDismissed.value &&
    history.value === null &&
    (dividerAbove.value || !room.findEventById(dividerAfter));

  /** Loads older pages until the last read message is there, then shows the first unread one. */
  async function jumpToUnread() {
    if (!dividerAfter) return;
    actionError.value = '';
    jumpingUnread.value = true;
    try {
      while (!room.findEventById(dividerAfter) && (await chat.loadOlder(room))) {
        // one page of older messages at a time
      }
    } catch {
      actionError.value = t('unread.jump_failed');
      return;
    } finally {
      jumpingUnread.value = false;
    }
    const all = new TimelineBuilder(chat, room).mainItems();
    const read = all.findIndex((item) => item.id === dividerAfter);
    const first = all.slice(read + 1).find((item) => item.kind === 'message') ?? all[read + 1];
    if (first) focus.value = { eventId: first.id, seq: -++unreadJumps };
  }

  function dismissUnread() {
    unreadDismissed.value = true;
    chat.markRead(room);
    document.getElementById('room-composer')?.focus();
  }

  function backToLatest() {
    history.value = null;
    focus.value = null;
    document.getElementById('room-composer')?.focus();
  }

  function onDragOver(event: TargetedDragEvent<HTMLElement>) {
    if (!carriesFiles(event)) return;
    event.preventDefault(); // makes the room a drop target
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    dragging.value = true;
  }

  function onDragLeave(event: TargetedDragEvent<HTMLElement>) {
    const to = event.relatedTarget;
    if (!(to instanceof Node) || !event.currentTarget.contains(to)) dragging.value = false;
  }

  function onDrop(event: TargetedDragEvent<HTMLElement>) {
    dragging.value = false;
    const files = event.dataTransfer?.files;
    if (!files?.length) return;
    event.preventDefault();
    uploads.add(files);
  }

  const actions: MessageActions = {
    reply: (item) => {
      mode.editing.value = null;
      mode.replyTo.value = item;
    },
    edit: (item) => {
      mode.replyTo.value = null;
      mode.editing.value = item;
    },
    remove: (item) => (deleting.value = item),
    react: (item, key, ownEventId) => {
      actionError.value = '';
      chat.toggleReaction(room.roomId, item.id, key, ownEventId).catch(failed);
    },
    openThread: (item) => {
      detailsOpen.value = false;
      threadRoot.value = item.id;
    },
  };

  const topic = room.currentState.getStateEvents('m.room.topic', '')?.getContent().topic;
  const roomName = chat.roomName(room);
  const picture = direct ? null : roomAvatar(room); // a direct chat is its partner's
  const name = direct ? roomName : `# ${roomName}`;
  const typing = typingText(typingNames(chat, room));

  const sideOpen = threadRoot.value !== null || detailsOpen.value;
  return (
    <ChatContext.Provider value={chat}>
      <div class={sideOpen ? 'room room--thread-open' : 'room'}>
        <section
          class={dragging.value ? 'room__main room__main--drop' : 'room__main'}
          aria-labelledby="room-title"
          onDragEnter={onDragOver}
          onDragOver={onDragOver}
          onDragLeave={onDragLeave}
          onDrop={onDrop}
        >
          <header class="room__header">
            {picture ? <Avatar chat={chat} mxc={picture} name={roomName} /> : null}
            <div class="room__heading">
              <h1 id="room-title" class="room__title">
                {name}
              </h1>
              {typeof topic === 'string' && topic ? <p class="room__topic">{topic}</p> : null}
            </div>
            <RoomNotificationsMenu
              chat={chat}
              room={room}
              onError={(message) => (actionError.value = message)}
            />
            <button type="button" class="button button--quiet" onClick={onInvite}>
              {t('chat.invite')}
            </button>
            <button
              type="button"
              class="button button--quiet"
              aria-expanded={detailsOpen.value}
              onClick={() => {
                threadRoot.value = null;
                detailsOpen.value = !detailsOpen.value;
              }}
            >
              {t('details.open')}
            </button>
          </header>
          {jumping.value ? (
            <p class="room__jumping" role="status">
              {t('search.jumping')}
            </p>
          ) : null}
          <JumpToUnread
            shown={unreadHidden}
            busy={jumpingUnread.value}
            onJump={jumpToUnread}
            onDismiss={dismissUnread}
          />
          {history.value ? (
            <Timeline
              key="history"
              items={items}
              actions={actions}
              label={t('chat.timeline_label', { name: roomName })}
              loadOlder={() => history.value?.loadOlder() ?? Promise.resolve(false)}
              canLoadOlder={history.value.canLoadOlder}
              focus={focus.value}
              end={
                <div class="timeline__latest">
                  <button type="button" class="button" onClick={backToLatest}>
                    {t('search.back_to_latest')}
                  </button>
                </div>
              }
            />
          ) : (
            <Timeline
              key="live"
              items={items}
              actions={actions}
              label={t('chat.timeline_label', { name: roomName })}
              dividerAfter={dividerAfter}
              lastSeenBy={last ? seenBy(chat, room, last.event) : []}
              loadOlder={() => chat.loadOlder(room)}
              canLoadOlder={chat.canLoadOlder(room)}
              focus={focus.value}
              onDividerAbove={(above) => (dividerAbove.value = above)}
            />
          )}
          {dragging.value ? (
            <div class="room__drop" aria-hidden="true">
              <p class="room__drop-text">{t('files.drop_here', { name: roomName })}</p>
            </div>
          ) : null}
          <p class="room__typing" aria-live="polite">
            {typing}
          </p>
          <p class="form-error room__error" role="alert">
            {actionError.value}
          </p>
          <Composer
            chat={chat}
            roomId={room.roomId}
            mode={mode}
            id="room-composer"
            label={t('chat.composer_label', { name: roomName })}
            placeholder={t(direct ? 'chat.placeholder_direct' : 'chat.placeholder', {
              name: roomName,
            })}
            lastOwn={lastOwn}
            uploads={uploads}
          />
        </section>
        {detailsOpen.value ? (
          <RoomDetails
            chat={chat}
            room={room}
            onLeft={(id) => onLeft?.(id)}
            onClose={() => {
              detailsOpen.value = false;
              document.getElementById('room-composer')?.focus();
            }}
          />
        ) : null}
        {threadRoot.value ? (
          <ThreadPanel
            chat={chat}
            room={room}
            rootId={threadRoot.value}
            actions={actions}
            onClose={() => {
              threadRoot.value = null;
              document.getElementById('room-composer')?.focus();
            }}
          />
        ) : null}
        {deleting.value ? (
          <Dialog
            titleId="delete-title"
            title={t('chat.delete_title')}
            onClose={() => (deleting.value = null)}
          >
            <p class="dialog__body">{t('chat.delete_body')}</p>
            <div class="dialog__actions">
              <button type="button" class="button" onClick={() => (deleting.value = null)}>
                {t('chat.cancel')}
              </button>
              <button
                type="button"
                class="button button--danger"
                autofocus
                onClick={() => {
                  const item = deleting.value;
                  deleting.value = null;
                  if (item) chat.redact(room.roomId, item.id).catch(failed);
                }}
              >
                {t('chat.delete')}
              </button>
            </div>
          </Dialog>
        ) : null}
      </div>
    </ChatContext.Provider>
  );
}
