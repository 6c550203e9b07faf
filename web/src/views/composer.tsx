import { useSignal, type Signal } from '@preact/signals';
import type { TargetedEvent, TargetedKeyboardEvent } from 'preact';
import type { Room } from 'matrix-js-sdk/lib/matrix.js';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import {
  insertMention,
  kRoomMentionText,
  matchCandidates,
  matchesRoomMention,
  mentionQuery,
  mentionsFromHtml,
  mentionText,
  type Mention,
} from '../chat/mentions';
import { stripReplyFallback, type MessageItem } from '../chat/timeline_model';
import type { UploadQueue } from '../chat/uploads';
import { AttachIcon } from '../components/chat_icons';
import { t } from '../i18n';
import { MentionAutocomplete, optionId, type Suggestion } from './mention_autocomplete';
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

/** Who `@query` may mention in `room`: its joined members but us, then @room if we may. */
function suggestionsFor(chat: Chat, room: Room, query: string): Suggestion[] {
  const candidates = room
    .getJoinedMembers()
    .filter((member) => member.userId !== chat.userId)
    .map((member) => ({ userId: member.userId, name: chat.displayName(room, member.userId) }));
  const found: Suggestion[] = matchCandidates(candidates, query).map((candidate) => ({
    mention: { kind: 'user', userId: candidate.userId, name: candidate.name },
    label: candidate.name,
    detail: candidate.userId,
  }));
  // Spec "Room mentions": allowed by the power level `notifications.room` (default 50).
  if (matchesRoomMention(query) && room.currentState.mayTriggerNotifOfType('room', chat.userId)) {
    found.push({ mention: { kind: 'room' }, label: kRoomMentionText, detail: t('mentions.room_detail') });
  }
  return found;
}

/**
 * The message box: Enter sends, Shift+Enter starts a new line, Escape drops a reply or an edit,
 * ArrowUp in an empty box edits our last message. Markdown is turned into formatted_body by
 * Chat.sendText. Typing notifications follow whether the box holds text. `@` and letters
 * suggest the room's members (an ARIA combobox: Up/Down choose, Enter or Tab pick, Escape
 * closes); a person picked goes in as their name and is sent as a mention.
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
  // Mentions picked for the text being written; the `@word` being typed; the suggestion
  // chosen; the `@` whose suggestions Escape closed.
  const mentions = useSignal<Mention[]>([]);
  const query = useSignal<{ start: number; query: string } | null>(null);
  const active = useSignal(0);
  const dismissed = useSignal<number | null>(null);
  const pendingCaret = useRef<number | null>(null);

  // Starting a reply or an edit puts the cursor in the box; an edit starts from the old text,
  // in the same frame as the "Editing" banner (a layout effect: never a frame of empty box).
  useLayoutEffect(() => {
    if (editing) {
      text.value = stripReplyFallback(editing.body);
      mentions.value = mentionsFromHtml(editing.html, editing.body);
    }
    if (editing || replyTo) ref.current?.focus();
  }, [editing?.id, replyTo?.id]);

  // After a suggestion is picked, the caret goes after the name inserted.
  useLayoutEffect(() => {
    const caret = pendingCaret.current;
    if (caret === null || !ref.current) return;
    pendingCaret.current = null;
    ref.current.setSelectionRange(caret, caret);
  });

  const room = chat.room(roomId);
  const typed = query.value;
  const suggestions =
    typed && room && typed.start !== dismissed.value ? suggestionsFor(chat, room, typed.query) : [];
  const listOpen = suggestions.length > 0;
  const chosen = Math.min(active.value, Math.max(0, suggestions.length - 1));
  const listId = `${id}-mentions`;

  /** Reads the `@word` before the caret again (after typing, a click, a caret move). */
  function readQuery(input: HTMLTextAreaElement) {
    const caret = input.selectionStart;
    const found = caret === input.selectionEnd ? mentionQuery(input.value, caret) : null;
    const before = query.value;
    if (found?.start !== before?.start || found?.query !== before?.query) active.value = 0;
    if (found?.start !== dismissed.value) dismissed.value = null;
    query.value = found;
  }

  function pick(index: number) {
    const input = ref.current;
    const suggestion = suggestions[index];
    if (!input || !typed || !suggestion) return;
    const inserted = insertMention(
      input.value,
      typed.start,
      input.selectionStart,
      mentionText(suggestion.mention),
    );
    text.value = inserted.text;
    mentions.value = [...mentions.value, suggestion.mention];
    query.value = null;
    pendingCaret.current = inserted.caret;
    chat.typing(roomId, true);
  }

  useEffect(() => () => chat.typing(roomId, false), [roomId]);

  function cancel() {
    if (mode.editing.value) {
      text.value = '';
      mentions.value = [];
    }
    mode.editing.value = null;
    mode.replyTo.value = null;
  }

  async function send() {
    const value = text.value.trim();
    if (!value) return;
    const edited = mode.editing.value;
    const answered = mode.replyTo.value;
    const picked = mentions.value;
    text.value = '';
    mentions.value = [];
    query.value = null;
    mode.editing.value = null;
    mode.replyTo.value = null;
    error.value = '';
    try {
      if (edited) {
        if (value !== edited.body) await chat.edit(roomId, edited.event, value, picked);
      } else {
        await chat.sendText(roomId, value, {
          replyTo: answered?.event ?? null,
          threadRoot,
          mentions: picked,
        });
      }
    } catch {
      error.value = t('chat.send_failed');
      if (!text.value) {
        text.value = value;
        mentions.value = picked;
      }
    }
  }

  function onKeyDown(event: TargetedKeyboardEvent<HTMLTextAreaElement>) {
    if (listOpen && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
      const count = suggestions.length;
      const plain = !event.shiftKey;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        active.value = (chosen + step + count) % count;
        return;
      }
      if ((event.key === 'Enter' || event.key === 'Tab') && plain) {
        event.preventDefault();
        pick(chosen);
        return;
      }
      if (event.key === 'Escape') {
        // Closes the suggestions only: a reply or an edit stays, the panel stays open.
        event.preventDefault();
        event.stopPropagation();
        dismissed.value = typed?.start ?? null;
        return;
      }
    }
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
    readQuery(event.currentTarget);
    chat.typing(roomId, text.value.trim().length > 0);
  }

  function onKeyUp(event: TargetedKeyboardEvent<HTMLTextAreaElement>) {
    if (['ArrowLeft', 'ArrowRight', 'Home', 'End', 'PageUp', 'PageDown'].includes(event.key)) {
      readQuery(event.currentTarget);
    }
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
      {listOpen ? (
        <MentionAutocomplete
          id={listId}
          suggestions={suggestions}
          active={chosen}
          onPick={pick}
          onHover={(index) => (active.value = index)}
        />
      ) : null}
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
          onKeyUp={onKeyUp}
          onClick={(event) => readQuery(event.currentTarget)}
          onPaste={onPaste}
          onBlur={() => {
            chat.typing(roomId, false);
            query.value = null;
          }}
          // The ARIA combobox pattern (APG, "editable combobox with list autocomplete"), as
          // mention pickers do. NOTE: Preact's types allow only "textbox" on a <textarea>.
          role={'combobox' as 'textbox'}
          aria-autocomplete="list"
          aria-expanded={listOpen}
          aria-controls={listOpen ? listId : undefined}
          aria-activedescendant={listOpen ? optionId(listId, chosen) : undefined}
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
