import { useSignal } from '@preact/signals';
import type { Room } from 'matrix-js-sdk/lib/matrix.js';
import { useEffect, useMemo } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { unreadCount } from '../chat/room_lists';
import { seenBy, TimelineBuilder, typingNames, type MessageItem } from '../chat/timeline_model';
import { Dialog } from '../components/dialog';
import { t } from '../i18n';
import { Composer, type ComposerMode } from './composer';
import type { MessageActions } from './message';
import { ThreadPanel } from './thread_panel';
import { Timeline } from './timeline';

interface Props {
  chat: Chat;
  room: Room;
  /** A direct chat: no "#" before its name. */
  direct: boolean;
  onInvite: () => void;
}

function typingText(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return t('chat.typing_one', { name: names[0] });
  if (names.length === 2) return t('chat.typing_two', { first: names[0], second: names[1] });
  return t('chat.typing_many');
}

/** One room: header, timeline, typing indicator and composer, and the thread side panel. */
export function RoomView({ chat, room, direct, onInvite }: Props) {
  chat.revision.value; // re-render on every change of the room
  const mode: ComposerMode = { replyTo: useSignal(null), editing: useSignal(null) };
  const threadRoot = useSignal<string | null>(null);
  const deleting = useSignal<MessageItem | null>(null);
  const actionError = useSignal('');

  // Where the "new messages" divider goes: fixed when the room opens, so it stays put while the
  // reader looks at what is new.
  const dividerAfter = useMemo(
    () => (unreadCount(room, chat.userId) > 0 ? room.getEventReadUpTo(chat.userId) : null),
    [room.roomId],
  );

  const items = new TimelineBuilder(chat, room).mainItems();
  const messages = items.filter((item): item is MessageItem => item.kind === 'message');
  const last = messages.at(-1) ?? null;
  const lastOwn = [...messages].reverse().find((item) => item.own && !item.deleted) ?? null;

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
    openThread: (item) => (threadRoot.value = item.id),
  };

  const topic = room.currentState.getStateEvents('m.room.topic', '')?.getContent().topic;
  const name = direct ? room.name : `# ${room.name}`;
  const typing = typingText(typingNames(chat, room));

  return (
    <div class={threadRoot.value ? 'room room--thread-open' : 'room'}>
      <section class="room__main" aria-labelledby="room-title">
        <header class="room__header">
          <div class="room__heading">
            <h1 id="room-title" class="room__title">
              {name}
            </h1>
            {typeof topic === 'string' && topic ? <p class="room__topic">{topic}</p> : null}
          </div>
          <button type="button" class="button button--quiet" onClick={onInvite}>
            {t('chat.invite')}
          </button>
        </header>
        <Timeline
          items={items}
          actions={actions}
          label={t('chat.timeline_label', { name: room.name })}
          dividerAfter={dividerAfter}
          lastSeenBy={last ? seenBy(chat, room, last.event) : []}
          loadOlder={() => chat.loadOlder(room)}
          canLoadOlder={chat.canLoadOlder(room)}
        />
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
          label={t('chat.composer_label', { name: room.name })}
          placeholder={t(direct ? 'chat.placeholder_direct' : 'chat.placeholder', {
            name: room.name,
          })}
          lastOwn={lastOwn}
        />
      </section>
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
  );
}
