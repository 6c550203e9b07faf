import { useSignal, type Signal } from '@preact/signals';
import type { TargetedEvent, TargetedKeyboardEvent } from 'preact';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { stripReplyFallback, type MessageItem } from '../chat/timeline_model';
import type { UploadQueue } from '../chat/uploads';
import { AttachIcon } from '../components/chat_icons';
import { t } from '../i18n';
import { UploadList } from './upload_list';

const kMaxRows = 8;

/** A composer's pending reply or edit, shared with the timeline whose buttons set them. */
export interface ComposerMode {
  replyTo: Signal<MessageItem | null>;
  editing: Signal<MessageItem | null>;
}

interface Props {
  chat: Chat;
  roomId: string;
  mode: ComposerMode;
  /** Set in a thread panel: messages go into this thread. */
  threadRoot?: string | null;
  id: string;
  label: string;
  placeholder: string;
  /** The newest message of ours, edited by ArrowUp in an empty composer. */
  lastOwn?: MessageItem | null;
  /** Where attached and pasted files go; absent: no attaching here. */
  uploads?: UploadQueue | null;
}

/**
 * The message box: Enter sends, Shift+Enter starts a new line, Escape drops a reply or an edit,
 * ArrowUp in an empty box edits our last message. Markdown is turned into formatted_body by
 * Chat.sendText. Typing notifications follow whether the box holds text.
 */
export function Composer({
  chat,
  roomId,
  mode,
  threadRoot = null,
  id,
  label,
  placeholder,
  lastOwn = null,
  uploads = null,
}: Props) {
  const text = useSignal('');
  const error = useSignal('');
  const ref = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const editing = mode.editing.value;
  const replyTo = mode.replyTo.value;

  // Starting a reply or an edit puts the cursor in the box; an edit starts from the old text,
  // in the same frame as the "Editing" banner (a layout effect: never a frame of empty box).
  useLayoutEffect(() => {
    if (editing) text.value = stripReplyFallback(editing.body);
    if (editing || replyTo) ref.current?.focus();
  }, [editing?.id, replyTo?.id]);

  useEffect(() => () => chat.typing(roomId, false), [roomId]);

  function cancel() {
    if (mode.editing.value) text.value = '';
    mode.editing.value = null;
    mode.replyTo.value = null;
  }

  async function send() {
    const value = text.value.trim();
    if (!value) return;
    const edited = mode.editing.value;
    const answered = mode.replyTo.value;
    text.value = '';
    mode.editing.value = null;
    mode.replyTo.value = null;
    error.value = '';
    try {
      if (edited) {
        if (value !== edited.body) await chat.edit(roomId, edited.event, value);
      } else {
        await chat.sendText(roomId, value, { replyTo: answered?.event ?? null, threadRoot });
      }
    } catch {
      error.value = t('chat.send_failed');
      if (!text.value) text.value = value;
    }
  }

  function onKeyDown(event: TargetedKeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void send();
    } else if (event.key === 'Escape' && (mode.editing.value || mode.replyTo.value)) {
      event.preventDefault();
      event.stopPropagation();
      cancel();
    } else if (event.key === 'ArrowUp' && !text.value && lastOwn) {
      event.preventDefault();
      mode.replyTo.value = null;
      mode.editing.value = lastOwn;
    }
  }

  // A pasted file (a screenshot, say) is shared like an attached one; pasted text stays text.
  function onPaste(event: ClipboardEvent) {
    const files = event.clipboardData?.files;
    if (!uploads || !files?.length) return;
    event.preventDefault();
    uploads.add(files);
  }

  function onInput(event: TargetedEvent<HTMLTextAreaElement>) {
    text.value = event.currentTarget.value;
    chat.typing(roomId, text.value.trim().length > 0);
  }

  const rows = Math.min(kMaxRows, Math.max(1, text.value.split('\n').length));
  const bannerId = `${id}-banner`;
  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        void send();
      }}
    >
      {editing || replyTo ? (
        <div class="composer__banner" id={bannerId}>
          <span class="composer__banner-text">
            {editing
              ? t('chat.editing')
              : t('chat.replying_to', { name: replyTo?.senderName ?? '' })}
          </span>
          <button
            type="button"
            class="button button--quiet composer__cancel"
            onClick={() => {
              cancel();
              ref.current?.focus();
            }}
          >
            {t('chat.cancel')}
          </button>
        </div>
      ) : null}
      {uploads ? <UploadList queue={uploads} /> : null}
      <div class="composer__row">
        {uploads ? (
          <>
            <button
              type="button"
              class="icon-button composer__attach"
              aria-label={t('files.attach')}
              title={t('files.attach')}
              onClick={() => fileInput.current?.click()}
            >
              <AttachIcon />
            </button>
            <input
              ref={fileInput}
              type="file"
              multiple
              hidden
              tabIndex={-1}
              onChange={(event) => {
                const input = event.currentTarget;
                if (input.files?.length) uploads.add(input.files);
                input.value = ''; // the same file can be chosen again
              }}
            />
          </>
        ) : null}
        <label class="visually-hidden" for={id}>
          {label}
        </label>
        <textarea
          id={id}
          ref={ref}
          class="composer__input"
          rows={rows}
          placeholder={placeholder}
          value={text.value}
          onInput={onInput}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onBlur={() => chat.typing(roomId, false)}
          aria-describedby={editing || replyTo ? bannerId : undefined}
          autoComplete="off"
        />
        <button type="submit" class="button button--primary composer__send" disabled={!text.value.trim()}>
          {editing ? t('chat.save') : t('chat.send')}
        </button>
      </div>
      <p class="form-error composer__error" role="alert">
        {error.value}
      </p>
    </form>
  );
}
