import { useSignal } from '@preact/signals';
import type { Room } from 'matrix-js-sdk/lib/matrix.js';
import { useEffect } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { TimelineBuilder } from '../chat/timeline_model';
import { t } from '../i18n';
import { Composer, type ComposerMode } from './composer';
import { Message, type MessageActions } from './message';
import { Timeline } from './timeline';

interface Props {
  chat: Chat;
  room: Room;
  rootId: string;
  actions: Omit<MessageActions, 'openThread'>;
  onClose: () => void;
}

/** The side panel of one thread: its root message, its replies and a composer for the thread. */
export function ThreadPanel({ chat, room, rootId, actions, onClose }: Props) {
  chat.revision.value; // re-render on every change of the room
  const mode: ComposerMode = {
    replyTo: useSignal(null),
    editing: useSignal(null),
  };
  const failed = useSignal(false);

  useEffect(() => {
    failed.value = false;
    chat.fetchThread(room.roomId, rootId).catch(() => (failed.value = true));
    document.getElementById('thread-composer')?.focus();
  }, [rootId]);

  const { root, replies } = new TimelineBuilder(chat, room).threadItems(rootId);
  const threadActions: MessageActions = {
    ...actions,
    openThread: undefined, // already in it
    reply: (item) => {
      mode.editing.value = null;
      mode.replyTo.value = item;
    },
    edit: (item) => {
      mode.replyTo.value = null;
      mode.editing.value = item;
    },
  };
  const lastOwn = [...replies].reverse().find((item) => item.own && !item.deleted) ?? null;

  return (
    <aside
      class="thread-panel"
      aria-labelledby="thread-title"
      onKeyDown={(event) => {
        if (event.key === 'Escape' && !event.defaultPrevented) onClose();
      }}
    >
      <header class="thread-panel__header">
        <h2 id="thread-title" class="thread-panel__title">
          {t('chat.thread')}
        </h2>
        <button
          type="button"
          class="icon-button"
          aria-label={t('chat.close_thread')}
          title={t('chat.close_thread')}
          onClick={onClose}
        >
          <span class="close-icon" aria-hidden="true" />
        </button>
      </header>
      <Timeline
        items={replies}
        actions={threadActions}
        label={t('chat.thread_log')}
        start={
          <div class="thread-panel__root">
            {root ? (
              <ol class="timeline__list">
                <Message item={root} continued={false} actions={threadActions} />
              </ol>
            ) : (
              <p class="sidebar__empty">{t('chat.thread_root_unavailable')}</p>
            )}
            <p class="thread-panel__count">
              {failed.value
                ? t('chat.thread_load_failed')
                : t('chat.thread_replies', { count: replies.length })}
            </p>
          </div>
        }
      />
      <Composer
        chat={chat}
        roomId={room.roomId}
        mode={mode}
        threadRoot={rootId}
        id="thread-composer"
        label={t('chat.thread_composer_label')}
        placeholder={t('chat.thread_placeholder')}
        lastOwn={lastOwn}
      />
    </aside>
  );
}
