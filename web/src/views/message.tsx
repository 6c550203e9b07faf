import { useSignal } from '@preact/signals';
import { useContext } from 'preact/hooks';
import { ChatContext } from '../chat/chat_context';
import { formatFullDate, formatTime } from '../chat/date_format';
import { EditIcon, ReplyIcon, SmileIcon, ThreadIcon, TrashIcon } from '../components/chat_icons';
import { stripReplyFallback, type MessageItem } from '../chat/timeline_model';
import { t } from '../i18n';
import { EmojiPicker } from './emoji_picker';
import { FormattedBody } from './formatted_body';
import { MediaAttachment } from './media_attachment';

/** What can be done to a message; `openThread` only where threads can be opened. */
export interface MessageActions {
  reply: (item: MessageItem) => void;
  edit: (item: MessageItem) => void;
  remove: (item: MessageItem) => void;
  react: (item: MessageItem, key: string, ownEventId: string | null) => void;
  openThread?: (item: MessageItem) => void;
}

interface Props {
  item: MessageItem;
  /** Same sender as the message above, minutes apart: no avatar or name header. */
  continued: boolean;
  actions: MessageActions;
  /** Names of those who read up to this message (shown under the last message only). */
  seenBy?: string[];
  /** The message jumped to (from a search result): highlighted, and focusable to take focus. */
  highlighted?: boolean;
}

function initial(name: string): string {
  const letter = name.replace(/^[@#]/, '').charAt(0);
  return letter ? letter.toLocaleUpperCase() : '?';
}

function Body({ item }: { item: MessageItem }) {
  const chat = useContext(ChatContext);
  if (item.deleted) return <p class="message__deleted">{t('chat.message_deleted')}</p>;
  if (item.media && chat) return <MediaAttachment chat={chat} item={item} media={item.media} />;
  if (item.msgtype === 'm.emote') {
    return (
      <p class="message__body message__body--emote">
        * {item.senderName} {item.body}
      </p>
    );
  }
  if (item.html !== null) return <FormattedBody html={item.html} />;
  const body = item.replyTo ? stripReplyFallback(item.body) : item.body;
  return (
    <p class={item.msgtype === 'm.notice' ? 'message__body message__body--notice' : 'message__body'}>
      {body}
    </p>
  );
}

export function Message({
  item,
  continued,
  actions,
  seenBy = [],
  highlighted = false,
}: Props) {
  const pickerOpen = useSignal(false);
  const chat = useContext(ChatContext);
  // Mentions us (by the push rules: our name picked in a mention, or @room).
  const mentionsMe = !!chat && !item.own && !item.deleted && chat.notifier.mentionsMe(item.event);
  const time = formatTime(item.ts);
  const fullDate = formatFullDate(item.ts);
  const isoDate = new Date(item.ts).toISOString();
  const classes = ['message'];
  if (continued) classes.push('message--continued');
  if (item.pending) classes.push('message--pending');
  if (highlighted) classes.push('message--highlighted');
  if (mentionsMe) classes.push('message--mention');

  return (
    <li
      class={classes.join(' ')}
      data-event-id={item.id}
      data-key={item.id}
      tabIndex={highlighted ? -1 : undefined}
    >
      <div class="message__gutter" aria-hidden="true">
        {continued ? (
          <span class="message__gutter-time">{time}</span>
        ) : (
          <span class="avatar message__avatar">{initial(item.senderName)}</span>
        )}
      </div>
      <div class="message__main">
        {continued ? (
          <span class="visually-hidden">
            {item.senderName}, <time dateTime={isoDate}>{time}</time>
            {mentionsMe ? `, ${t('mentions.mentions_you')}` : null}
          </span>
        ) : (
          <p class="message__header">
            <span class="message__sender" title={item.sender}>
              {item.senderName}
            </span>
            <time class="message__time" dateTime={isoDate} title={fullDate}>
              {time}
            </time>
            {mentionsMe ? <span class="message__mention-tag">{t('mentions.mentions_you')}</span> : null}
          </p>
        )}
        {item.replyTo ? (
          <blockquote class="message__reply">
            {item.replyTo.senderName === null ? (
              <span class="message__reply-missing">{t('chat.reply_unavailable')}</span>
            ) : (
              <>
                <span class="message__reply-sender">
                  {t('chat.in_reply_to', { name: item.replyTo.senderName })}
                </span>
                <span class="message__reply-body">
                  {item.replyTo.body || t('chat.message_deleted')}
                </span>
              </>
            )}
          </blockquote>
        ) : null}
        <Body item={item} />
        {item.edited && !item.deleted ? (
          <span class="message__edited">{t('chat.edited')}</span>
        ) : null}
        {item.pending ? <span class="message__status">{t('chat.sending')}</span> : null}
        {item.failed ? (
          <span class="message__status message__status--failed" role="alert">
            {t('chat.send_failed')}
          </span>
        ) : null}
        {item.reactions.length ? (
          <ul class="reactions" aria-label={t('chat.reactions')}>
            {item.reactions.map((reaction) => (
              <li key={reaction.key}>
                <button
                  type="button"
                  class="reaction"
                  aria-pressed={reaction.ownEventId !== null}
                  aria-label={t('chat.reaction_label', {
                    emoji: reaction.key,
                    count: reaction.count,
                    names: reaction.names.join(', '),
                  })}
                  title={reaction.names.join(', ')}
                  onClick={() => actions.react(item, reaction.key, reaction.ownEventId)}
                >
                  <span aria-hidden="true">{reaction.key}</span>
                  <span class="reaction__count" aria-hidden="true">
                    {reaction.count}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        ) : null}
        {item.threadCount > 0 && actions.openThread ? (
          <button
            type="button"
            class="message__thread-link"
            onClick={() => actions.openThread?.(item)}
          >
            {t('chat.thread_replies', { count: item.threadCount })}
          </button>
        ) : null}
        {seenBy.length ? (
          <p class="message__seen">
            {seenBy.length > 3
              ? t('chat.seen_by_many', { names: seenBy.slice(0, 3).join(', '), count: seenBy.length - 3 })
              : t('chat.seen_by', { names: seenBy.join(', ') })}
          </p>
        ) : null}
      </div>
      {item.deleted || item.pending || item.failed ? null : (
        <div
          class={pickerOpen.value ? 'message__actions message__actions--open' : 'message__actions'}
          role="group"
          aria-label={t('chat.message_actions', { name: item.senderName })}
        >
          <button
            type="button"
            class="message__action message__react"
            aria-label={t('chat.add_reaction')}
            title={t('chat.add_reaction')}
            aria-expanded={pickerOpen.value}
            onClick={() => (pickerOpen.value = !pickerOpen.value)}
          >
            <SmileIcon />
          </button>
          <button
            type="button"
            class="message__action"
            aria-label={t('chat.reply')}
            title={t('chat.reply')}
            onClick={() => actions.reply(item)}
          >
            <ReplyIcon />
          </button>
          {actions.openThread ? (
            <button
              type="button"
              class="message__action"
              aria-label={t('chat.reply_in_thread')}
              title={t('chat.reply_in_thread')}
              onClick={() => actions.openThread?.(item)}
            >
              <ThreadIcon />
            </button>
          ) : null}
          {item.own ? (
            <>
              <button
                type="button"
                class="message__action"
                aria-label={t('chat.edit')}
                title={t('chat.edit')}
                onClick={() => actions.edit(item)}
              >
                <EditIcon />
              </button>
              <button
                type="button"
                class="message__action message__action--danger"
                aria-label={t('chat.delete')}
                title={t('chat.delete')}
                onClick={() => actions.remove(item)}
              >
                <TrashIcon />
              </button>
            </>
          ) : null}
          {pickerOpen.value ? (
            <EmojiPicker
              onClose={() => (pickerOpen.value = false)}
              onPick={(emoji) => {
                const mine = item.reactions.find((r) => r.key === emoji)?.ownEventId ?? null;
                actions.react(item, emoji, mine);
              }}
            />
          ) : null}
        </div>
      )}
    </li>
  );
}
