import { useSignal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { formatDay, isSameDay } from '../chat/date_format';
import type { MessageItem, TimelineItem } from '../chat/timeline_model';
import { t } from '../i18n';
import { Message, type MessageActions } from './message';

const kGroupGapMs = 5 * 60_000; // messages further apart start a new group
const kLoadMoreAtPx = 200; // distance from the top at which older messages are fetched
const kBottomSlackPx = 48;
const kHighlightMs = 4_000; // how long a message jumped to stays highlighted
const kRetryMs = 3_000; // wait after a failed fetch of older messages

/** A message to bring into view and highlight; `seq` tells two jumps to the same one apart. */
export interface TimelineFocus {
  eventId: string;
  seq: number;
}

interface Props {
  items: TimelineItem[];
  actions: MessageActions;
  label: string;
  /** Where the "new messages" divider goes: after this event (null: nowhere). */
  dividerAfter?: string | null;
  /** Names of those who read the last message. */
  lastSeenBy?: string[];
  /** Fetches older messages; resolves to whether there are more. Absent: nothing to fetch. */
  loadOlder?: () => Promise<boolean>;
  canLoadOlder?: boolean;
  /** Shown above the first item once the start of the history is reached. */
  start?: ComponentChildren;
  /** Shown below the last item (e.g. a way back to the latest messages). */
  end?: ComponentChildren;
  /** A message to scroll to and highlight briefly, once it is among the items. */
  focus?: TimelineFocus | null;
}

/**
 * A scrolling list of messages (role="log", so screen readers announce new ones) grouped by day
 * and sender. It stays at the bottom while the reader is there; otherwise the first visible
 * message keeps its place when messages are added above (history) or below (new ones).
 */
export function Timeline({
  items,
  actions,
  label,
  dividerAfter = null,
  lastSeenBy = [],
  loadOlder,
  canLoadOlder = false,
  start,
  end,
  focus = null,
}: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const anchor = useRef<{ key: string; offset: number } | null>(null);
  const loading = useSignal(false);
  const highlighted = useSignal<string | null>(null);
  const focusDone = useRef(0); // the seq of the last focus carried out
  const noMoreAt = useRef<string | null>(null); // the first item when loadOlder said "no more"
  const retryAt = useRef(0); // after a failed fetch, when to try again

  function remember() {
    const el = ref.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < kBottomSlackPx;
    anchor.current = null;
    for (const child of el.querySelectorAll<HTMLElement>('[data-key]')) {
      if (child.offsetTop + child.offsetHeight > el.scrollTop) {
        anchor.current = { key: child.dataset.key ?? '', offset: child.offsetTop - el.scrollTop };
        break;
      }
    }
  }

  async function fetchOlder() {
    // NOTE: `items` and `canLoadOlder` are this render's; the parent re-renders only after the
    // client's next change notification (a task away). Without this guard, a loadOlder that
    // answers "nothing older" at once would re-trigger the fill effect below in a microtask loop
    // that never lets the page paint again.
    const first = items[0]?.id ?? '';
    if (!loadOlder || !canLoadOlder || loading.value || noMoreAt.current === first) return;
    if (Date.now() < retryAt.current) return;
    loading.value = true;
    try {
      if (!(await loadOlder())) noMoreAt.current = first;
    } catch {
      retryAt.current = Date.now() + kRetryMs; // offline: scrolling up later retries
    } finally {
      loading.value = false;
    }
  }

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    } else if (anchor.current) {
      const target = el.querySelector<HTMLElement>(`[data-key="${CSS.escape(anchor.current.key)}"]`);
      if (target) el.scrollTop = target.offsetTop - anchor.current.offset;
    }
  });

  // A jump: once the message is rendered, centre it, highlight it for a few seconds and move the
  // keyboard focus to it (after the effect above, which would otherwise keep the view at the
  // bottom).
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !focus || focusDone.current === focus.seq) return;
    const target = el.querySelector<HTMLElement>(`[data-event-id="${CSS.escape(focus.eventId)}"]`);
    if (!target) return;
    focusDone.current = focus.seq;
    target.scrollIntoView({ block: 'center' });
    remember();
    highlighted.value = focus.eventId;
  });
  useEffect(() => {
    const id = highlighted.value;
    if (!id) return;
    ref.current?.querySelector<HTMLElement>(`[data-event-id="${CSS.escape(id)}"]`)?.focus({
      preventScroll: true,
    });
    const timer = setTimeout(() => {
      if (highlighted.value === id) highlighted.value = null;
    }, kHighlightMs);
    return () => clearTimeout(timer);
  }, [highlighted.value]);

  // Too few messages to scroll: fetch older ones until the view is full or history ends.
  useEffect(() => {
    const el = ref.current;
    if (el && el.scrollHeight <= el.clientHeight + kLoadMoreAtPx) void fetchOlder();
  });

  function onScroll() {
    remember();
    if ((ref.current?.scrollTop ?? 0) < kLoadMoreAtPx) void fetchOlder();
  }

  const rows: ComponentChildren[] = [];
  let previous: TimelineItem | null = null;
  let lastMessage: MessageItem | null = null;
  for (const item of items) if (item.kind === 'message') lastMessage = item;
  const dividerIndex = dividerAfter ? items.findIndex((item) => item.id === dividerAfter) : -1;

  items.forEach((item, index) => {
    if (!previous || !isSameDay(previous.ts, item.ts)) {
      const day = formatDay(item.ts);
      rows.push(
        <li class="timeline__day" key={`day-${item.id}`} data-key={`day-${item.id}`}>
          <h3 class="timeline__day-label">{day}</h3>
        </li>,
      );
      previous = null;
    }
    if (item.kind === 'notice') {
      rows.push(
        <li class="timeline__notice" key={item.id} data-key={item.id}>
          {t(`chat.notice.${item.key}`, item.values)}
        </li>,
      );
    } else {
      const prev = previous as TimelineItem | null;
      const continued =
        prev !== null &&
        prev.kind === 'message' &&
        prev.sender === item.sender &&
        !prev.deleted &&
        item.ts - prev.ts < kGroupGapMs &&
        index - 1 !== dividerIndex;
      rows.push(
        <Message
          key={item.id}
          item={item}
          continued={continued}
          actions={actions}
          seenBy={item === lastMessage ? lastSeenBy : undefined}
          highlighted={item.id === highlighted.value}
        />,
      );
    }
    previous = item;
    if (index === dividerIndex && index < items.length - 1) {
      rows.push(
        <li class="timeline__divider" key="divider" data-key="divider" role="separator">
          <span>{t('chat.new_messages')}</span>
        </li>,
      );
    }
  });

  return (
    <div class="timeline" ref={ref} onScroll={onScroll} role="log" aria-label={label} tabIndex={0}>
      {loadOlder ? (
        <p class="timeline__history" role="status">
          {loading.value ? t('chat.loading_older') : canLoadOlder ? '' : t('chat.history_start')}
        </p>
      ) : null}
      {start}
      <ol class="timeline__list">{rows}</ol>
      {end}
    </div>
  );
}
