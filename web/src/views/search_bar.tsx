import { useSignal } from '@preact/signals';
import type { ISearchResult } from 'matrix-js-sdk/lib/matrix.js';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { formatFullDate, formatTime, isSameDay } from '../chat/date_format';
import { stripReplyFallback } from '../chat/timeline_model';
import { SearchIcon } from '../components/chat_icons';
import { t } from '../i18n';

interface Props {
  chat: Chat;
  /** Opens a result: its room, scrolled to the message. */
  onOpen: (roomId: string, eventId: string) => void;
}

interface Hit {
  eventId: string;
  roomId: string;
  sender: string;
  ts: number;
  body: string;
}

interface Group {
  roomId: string;
  hits: Hit[];
}

function hitOf(result: ISearchResult): Hit | null {
  const event = result.result;
  const content = (event.content ?? {}) as Record<string, unknown>;
  if (!event.event_id || !event.room_id || typeof content.body !== 'string') return null;
  return {
    eventId: event.event_id,
    roomId: event.room_id,
    sender: event.sender,
    ts: event.origin_server_ts,
    body: stripReplyFallback(content.body),
  };
}

/** Results grouped by room, rooms in the order of their newest result. */
function groupByRoom(hits: Hit[]): Group[] {
  const groups = new Map<string, Group>();
  for (const hit of hits) {
    let group = groups.get(hit.roomId);
    if (!group) groups.set(hit.roomId, (group = { roomId: hit.roomId, hits: [] }));
    group.hits.push(hit);
  }
  return [...groups.values()];
}

/** `text` with each of `terms` marked, as text nodes and <mark>s (never HTML). */
function highlighted(text: string, terms: string[]): ComponentChildren[] {
  const words = terms.filter(Boolean).map((term) => term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (!words.length) return [text];
  const re = new RegExp(`(${words.join('|')})`, 'giu');
  return text.split(re).map((part, i) => (i % 2 ? <mark key={i}>{part}</mark> : part));
}

/** An excerpt of a long body around its first match. */
function excerpt(body: string, terms: string[]): string {
  const kMax = 160;
  const flat = body.replace(/\s+/g, ' ');
  if (flat.length <= kMax) return flat;
  const lower = flat.toLowerCase();
  const at = Math.min(
    ...terms.map((term) => lower.indexOf(term.toLowerCase())).filter((i) => i >= 0),
    flat.length,
  );
  const from = Math.max(0, Math.min(at - 40, flat.length - kMax));
  const before = from > 0 ? '…' : '';
  const after = from + kMax < flat.length ? '…' : '';
  return `${before}${flat.slice(from, from + kMax)}${after}`;
}

/**
 * The top bar's message search across every joined room (POST /search, newest first). Results
 * open below the box, grouped by room, with the words found highlighted; choosing one opens its
 * room at that message. Escape closes the results and returns to the box.
 */
export function SearchBar({ chat, onOpen }: Props) {
  const query = useSignal('');
  const open = useSignal(false);
  const busy = useSignal(false);
  const error = useSignal('');
  const hits = useSignal<Hit[]>([]);
  const terms = useSignal<string[]>([]);
  const count = useSignal(0);
  const nextBatch = useSignal<string | null>(null);
  const searched = useSignal(''); // the term the results are for
  const root = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);

  // A click elsewhere closes the results.
  useEffect(() => {
    if (!open.value) return;
    const onPointer = (event: PointerEvent) => {
      if (event.target instanceof Node && !root.current?.contains(event.target)) open.value = false;
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open.value]);

  async function run(term: string, more: boolean) {
    busy.value = true;
    error.value = '';
    try {
      const from = more ? (nextBatch.value ?? undefined) : undefined;
      const answer = await chat.searchMessages(term, from);
      const found = (answer.results ?? []).map(hitOf).filter((hit): hit is Hit => hit !== null);
      hits.value = more ? [...hits.value, ...found] : found;
      terms.value = answer.highlights?.length ? answer.highlights : term.split(/\s+/);
      count.value = answer.count ?? hits.value.length;
      nextBatch.value = answer.next_batch ?? null;
      searched.value = term;
    } catch {
      error.value = t('search.failed');
    } finally {
      busy.value = false;
    }
  }

  function onSubmit(event: Event) {
    event.preventDefault();
    const term = query.value.trim();
    if (!term) return;
    open.value = true;
    hits.value = [];
    nextBatch.value = null;
    void run(term, false);
  }

  function close() {
    open.value = false;
    input.current?.focus();
  }

  function choose(hit: Hit) {
    open.value = false;
    onOpen(hit.roomId, hit.eventId);
  }

  const groups = groupByRoom(hits.value);
  const now = Date.now();
  return (
    <div
      class="search"
      ref={root}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && open.value) {
          event.preventDefault();
          close();
        } else if (event.key === 'ArrowDown' && event.target === input.current && open.value) {
          event.preventDefault();
          root.current?.querySelector<HTMLElement>('.search-result')?.focus();
        }
      }}
    >
      <form role="search" class="search__form" onSubmit={onSubmit}>
        {/* On phones the box is only this icon until it has the focus. */}
        <label for="search-messages" class="search__icon">
          <SearchIcon />
        </label>
        <input
          ref={input}
          id="search-messages"
          class="search__input"
          type="search"
          aria-label={t('search.label')}
          placeholder={t('search.placeholder')}
          value={query.value}
          autoComplete="off"
          // NOTE: no aria-expanded: a search box (role searchbox) does not take it (axe:
          // aria-allowed-attr); the results it controls exist only while they are shown.
          aria-controls={open.value ? 'search-results' : undefined}
          onInput={(event) => (query.value = event.currentTarget.value)}
          onFocus={() => {
            if (searched.value && query.value.trim() === searched.value) open.value = true;
          }}
        />
      </form>
      {open.value ? (
        <section id="search-results" class="search__results" aria-label={t('search.results')}>
          <p class="search__status" role="status">
            {busy.value && !hits.value.length
              ? t('search.searching')
              : searched.value
                ? t('search.count', { count: count.value, term: searched.value })
                : ''}
          </p>
          <p class="form-error" role="alert">
            {error.value}
          </p>
          {groups.map((group) => {
            const room = chat.room(group.roomId);
            const name = room ? chat.roomName(room) : group.roomId;
            const direct = chat.directRoomIds().has(group.roomId);
            return (
              <section key={group.roomId} class="search__group" aria-label={name}>
                <h3 class="search__room">{direct ? name : `# ${name}`}</h3>
                <ul class="search__list">
                  {group.hits.map((hit) => (
                    <li key={hit.eventId}>
                      <button type="button" class="search-result" onClick={() => choose(hit)}>
                        <span class="search-result__head">
                          <span class="search-result__sender">
                            {chat.displayName(room, hit.sender)}
                          </span>
                          <time
                            class="search-result__time"
                            dateTime={new Date(hit.ts).toISOString()}
                            title={formatFullDate(hit.ts)}
                          >
                            {isSameDay(hit.ts, now) ? formatTime(hit.ts) : formatFullDate(hit.ts)}
                          </time>
                        </span>
                        <span class="search-result__body">
                          {highlighted(excerpt(hit.body, terms.value), terms.value)}
                        </span>
                      </button>
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
          {nextBatch.value ? (
            <button
              type="button"
              class="button search__more"
              disabled={busy.value}
              onClick={() => void run(searched.value, true)}
            >
              {busy.value ? t('search.searching') : t('search.more')}
            </button>
          ) : null}
        </section>
      ) : null}
    </div>
  );
}
