import { useSignal } from '@preact/signals';
import type { ComponentChildren, Ref } from 'preact';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { formatDay, isSameDay } from '../chat/date_format';
import type { MediaContent } from '../chat/media';
import type { MessageItem, TimelineItem } from '../chat/timeline_model';
import {
  needsNewRange,
  offsetsOf,
  rangeFor,
  rowAt,
  RowHeights,
  type RowRange,
} from '../chat/virtual_window';
import { t } from '../i18n';
import { Message, type MessageActions } from './message';

const kGroupGapMs = 5 * 60_000; // messages further apart start a new group
const kLoadMoreAtPx = 200; // distance from the top at which older messages are fetched
const kBottomSlackPx = 48;
const kHighlightMs = 4_000; // how long a message jumped to stays highlighted
const kRetryMs = 3_000; // wait after a failed fetch of older messages
// Rows kept in the DOM beyond each edge of the view, in pixels.
const kOverscanPx = 800;
// A timeline of at most this many rows is rendered whole (the browser's find-in-page then sees
// all of it); a longer one only around the view.
const kWholeUpTo = 160;
// Re-renders in a row to settle the window after measuring, before waiting for the next scroll.
const kMaxCorrections = 4;
// NOTE: the box media_attachment.tsx fits thumbnails in; a picture's row is estimated with its
// fitted height so that the space is there before the thumbnail loads.
const kThumbWidth = 320;
const kThumbHeight = 240;
const kHeaderPx = 24; // a message's sender and time line

type RowKind = 'day' | 'notice' | 'divider' | 'message' | 'continued' | 'media';

// Heights before any row of the kind is measured (the styles' usual sizes).
const kDefaultHeights: Record<RowKind, number> = {
  day: 40,
  notice: 22,
  divider: 30,
  message: 52,
  continued: 27,
  media: 40,
};

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
  /** Told after each render and scroll whether the "new messages" divider is above the view. */
  onDividerAbove?: (above: boolean) => void;
}

/** One line of the list: a day heading, a notice, a message or the "new messages" divider. */
interface Row {
  key: string;
  kind: RowKind;
  item: TimelineItem | null;
  /** A message in the same group as the one above (no avatar or name). */
  continued: boolean;
  /** A picture's reserved height, added to the row's estimate. */
  extra: number;
}

/** The rows the list would show were it rendered whole: grouping by day and sender. */
function rowsOf(items: TimelineItem[], dividerAfter: string | null): Row[] {
  const rows: Row[] = [];
  const dividerIndex = dividerAfter ? items.findIndex((item) => item.id === dividerAfter) : -1;
  let previous: TimelineItem | null = null;
  items.forEach((item, index) => {
    if (!previous || !isSameDay(previous.ts, item.ts)) {
      rows.push({ key: `day-${item.id}`, kind: 'day', item, continued: false, extra: 0 });
      previous = null;
    }
    if (item.kind === 'notice') {
      rows.push({ key: item.id, kind: 'notice', item, continued: false, extra: 0 });
    } else {
      const prev = previous as TimelineItem | null;
      const continued =
        prev !== null &&
        prev.kind === 'message' &&
        prev.sender === item.sender &&
        !prev.deleted &&
        item.ts - prev.ts < kGroupGapMs &&
        index - 1 !== dividerIndex;
      const picture = item.media && item.msgtype === 'm.image' ? thumbnailHeight(item.media) : 0;
      rows.push({
        key: item.id,
        kind: picture ? 'media' : continued ? 'continued' : 'message',
        item,
        continued,
        extra: picture ? picture + (continued ? 0 : kHeaderPx) : 0,
      });
    }
    previous = item;
    if (index === dividerIndex && index < items.length - 1) {
      rows.push({ key: 'divider', kind: 'divider', item: null, continued: false, extra: 0 });
    }
  });
  return rows;
}

/** The height a picture's thumbnail takes (see media_attachment.tsx), or a placeholder's. */
function thumbnailHeight(media: MediaContent): number {
  if (!media.width || !media.height) return 60;
  const scale = Math.min(1, kThumbWidth / media.width, kThumbHeight / media.height);
  return Math.max(1, Math.round(media.height * scale)) + 10;
}

/** What the last render put in the DOM, for the scroll handler and the measurements. */
interface Rendered {
  rows: Row[];
  offsets: Float64Array;
  range: RowRange;
}

/**
 * A scrolling list of messages (role="log", so screen readers announce new ones) grouped by day
 * and sender. It stays at the bottom while the reader is there; otherwise the first visible
 * message keeps its place when messages are added above (history) or below (new ones).
 *
 * Only the rows around the view are in the DOM (chat/virtual_window.ts does the arithmetic):
 * a space above and below the list stands for the others, at their measured heights or, for
 * rows never shown, estimated ones. What keeps the view still is not those estimates but an
 * anchor — the first visible message and its distance from the top of the view — restored after
 * every render and every change of a row's size (a picture loading).
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
  onDividerAbove,
}: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const topSpace = useRef<HTMLDivElement>(null); // where row 0 is, rendered or not
  const atBottom = useRef(true);
  const anchor = useRef<{ key: string; offset: number } | null>(null);
  const viewTop = useRef(0); // the top of the view in list pixels, when no anchor is known
  const viewHeight = useRef(800);
  const heights = useRef(new RowHeights<RowKind>(kDefaultHeights)).current;
  const rendered = useRef<Rendered | null>(null);
  const observer = useRef<ResizeObserver | null>(null);
  const observed = useRef(new Set<Element>()).current;
  const corrections = useRef(0);
  const tick = useSignal(0); // bumped to render another window
  const loading = useSignal(false);
  const highlighted = useSignal<string | null>(null);
  const focusDone = useRef(0); // the seq of the last focus carried out
  const noMoreAt = useRef<string | null>(null); // the first item when loadOlder said "no more"
  const retryAt = useRef(0); // after a failed fetch, when to try again
  const retryTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(retryTimer.current), []);

  /** The rendered row elements, top to bottom. */
  function rowElements(): HTMLElement[] {
    return listRef.current ? (Array.from(listRef.current.children) as HTMLElement[]) : [];
  }

  /** Notes where the view is: at the bottom or not, and the first visible message. */
  function remember() {
    const el = ref.current;
    const origin = topSpace.current?.offsetTop;
    const last = rendered.current;
    if (!el || origin === undefined || !last) return;
    viewHeight.current = el.clientHeight;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < kBottomSlackPx;
    viewTop.current = el.scrollTop - origin;
    anchor.current = null;
    const children = rowElements();
    if (!children.length) return;
    const { offsets, range, rows } = last;
    const y = el.scrollTop - origin; // the top of the view, in list pixels
    const lastChild = children[children.length - 1];
    const renderedEnd = lastChild.offsetTop + lastChild.offsetHeight - origin;
    // The top of the view may be among rows that are not rendered (the scroll position jumped:
    // the scroll bar dragged, Home, End, a programmatic scroll). Those above the rendered rows
    // are where their offsets say (the space above the list is their sum); those below start
    // where the rendered ones end.
    const above = range.start > 0 && y < offsets[range.start];
    const below = range.end < rows.length && y >= renderedEnd;
    if (above || below) {
      const shift = above ? 0 : renderedEnd - offsets[range.end];
      const limit = above ? range.start : rows.length;
      let index = rowAt(offsets, y - shift);
      const unfit = (i: number) => offsets[i] + shift < y || !anchorable(rows[i].key);
      while (index < limit - 1 && unfit(index)) index++;
      if (index < limit && anchorable(rows[index].key)) {
        anchor.current = {
          key: rows[index].key,
          offset: origin + offsets[index] + shift - el.scrollTop,
        };
        return;
      }
    }
    // Among the rendered rows: the first whose top is in view (a picture loading above it then
    // moves nothing the reader sees), else the one that fills the view.
    let partly: HTMLElement | null = null;
    for (const child of children) {
      const key = child.dataset.key ?? '';
      if (!anchorable(key)) continue;
      const top = child.offsetTop;
      if (top >= el.scrollTop + el.clientHeight) break;
      if (top >= el.scrollTop) {
        anchor.current = { key, offset: top - el.scrollTop };
        return;
      }
      if (top + child.offsetHeight > el.scrollTop) partly = child;
    }
    if (partly) {
      anchor.current = { key: partly.dataset.key ?? '', offset: partly.offsetTop - el.scrollTop };
    }
  }

  /** Puts the view back: at the bottom, or with the anchor where it was. */
  function restore() {
    const el = ref.current;
    const list = listRef.current;
    if (!el || !list) return;
    let top: number | null = null;
    if (atBottom.current) {
      top = el.scrollHeight - el.clientHeight;
    } else if (anchor.current) {
      const key = CSS.escape(anchor.current.key);
      const target = list.querySelector<HTMLElement>(`[data-key="${key}"]`);
      if (target) top = target.offsetTop - anchor.current.offset;
    }
    // NOTE: setting scrollTop, even to what it is, stops a smooth scroll under way (the End key,
    // a click in the scroll bar's track).
    if (top !== null && Math.abs(el.scrollTop - top) >= 1) el.scrollTop = top;
  }

  /** Records the height of each rendered row; true when one changed. */
  function measure(elements: Iterable<Element>): boolean {
    const last = rendered.current;
    if (!last) return false;
    let changed = false;
    for (const element of elements) {
      if (!(element instanceof HTMLElement) || !element.isConnected) continue;
      const key = element.dataset.key;
      const index = key ? indexOfKey(last, key) : -1;
      if (index < 0) continue;
      const row = last.rows[index];
      const height = element.getBoundingClientRect().height;
      if (height <= 0) continue;
      changed = heights.set(row.key, row.kind, height, row.kind !== 'media') || changed;
    }
    return changed;
  }

  /** Asks for another window when the rendered rows no longer suit the view. */
  function settle() {
    const el = ref.current;
    const last = rendered.current;
    const children = rowElements();
    if (!el || !last || !children.length) return;
    if (last.range.start === 0 && last.range.end === last.rows.length) return; // all rendered
    const first = children[0];
    const lastChild = children[children.length - 1];
    const span = {
      top: first.offsetTop,
      bottom: lastChild.offsetTop + lastChild.offsetHeight,
      atStart: last.range.start === 0,
      atEnd: last.range.end === last.rows.length,
    };
    if (!needsNewRange(span, el.scrollTop, el.scrollTop + el.clientHeight, kOverscanPx)) {
      corrections.current = 0;
    } else if (corrections.current < kMaxCorrections) {
      corrections.current++;
      tick.value++;
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
      // Offline or refused: try again later — by then the reader may have stopped scrolling, so
      // a render is asked for then, whose effect below fetches if the view is still at the top.
      retryAt.current = Date.now() + kRetryMs;
      clearTimeout(retryTimer.current);
      retryTimer.current = setTimeout(() => tick.value++, kRetryMs + 50);
    } finally {
      loading.value = false;
    }
  }

  // Rows that change size after they are rendered (a picture loading, a reaction added, the
  // window resized): measured again, and the view kept where it was. (A layout effect, declared
  // first: the observer is there for the rows of the first render.)
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const rows = new ResizeObserver((entries) => {
      const gone = entries.filter((entry) => !entry.target.isConnected);
      for (const entry of gone) {
        rows.unobserve(entry.target);
        observed.delete(entry.target);
      }
      if (measure(entries.map((entry) => entry.target))) {
        restore();
        settle();
      }
    });
    const view = new ResizeObserver(() => {
      viewHeight.current = el.clientHeight;
      restore();
      settle();
    });
    view.observe(el);
    observer.current = rows;
    return () => {
      rows.disconnect();
      view.disconnect();
      observer.current = null;
      observed.clear();
    };
  }, []);

  // After every render: measure the new rows, then put the view back where the reader had it —
  // or on the message jumped to. A jump centres the message, highlights it for a few seconds
  // and moves the keyboard focus to it.
  useLayoutEffect(() => {
    const el = ref.current;
    const list = listRef.current;
    if (!el || !list) return;
    const children = rowElements();
    measure(children);
    const rowObserver = observer.current;
    for (const child of children) {
      if (rowObserver && !observed.has(child)) {
        rowObserver.observe(child);
        observed.add(child);
      }
    }
    for (const element of observed) {
      if (!element.isConnected) {
        rowObserver?.unobserve(element);
        observed.delete(element);
      }
    }
    describePositions(children);
    const target =
      focus && focusDone.current !== focus.seq
        ? list.querySelector<HTMLElement>(`[data-event-id="${CSS.escape(focus.eventId)}"]`)
        : null;
    if (focus && target) {
      focusDone.current = focus.seq;
      target.scrollIntoView({ block: 'center' });
      remember();
      highlighted.value = focus.eventId;
    } else {
      restore();
    }
    settle();
    reportDivider();
  });

  /** Whether the divider's bottom edge is above the top of the view (false: no divider). */
  function reportDivider() {
    const el = ref.current;
    const last = rendered.current;
    if (!onDividerAbove || !el || !last) return;
    const index = last.rows.findIndex((row) => row.kind === 'divider');
    if (index < 0) {
      onDividerAbove(false);
      return;
    }
    // Rows not rendered are beyond the overscan on their side of the view.
    if (index < last.range.start || index >= last.range.end) {
      onDividerAbove(index < last.range.start);
      return;
    }
    const element = listRef.current?.querySelector<HTMLElement>('[data-key="divider"]');
    onDividerAbove(!!element && element.offsetTop + element.offsetHeight <= el.scrollTop);
  }

  /** Each row's place in the whole list, for screen readers (only some rows are in the DOM). */
  function describePositions(children: HTMLElement[]) {
    const last = rendered.current;
    if (!last) return;
    // The divider (a separator in its own list item) is not one of the messages.
    const divider = last.rows.findIndex((row) => row.kind === 'divider');
    const count = last.rows.length - (divider >= 0 ? 1 : 0);
    const total = canLoadOlder ? '-1' : String(count); // -1: more may come (ARIA 1.2)
    children.forEach((child, i) => {
      if (child.dataset.key === 'divider') return;
      const index = last.range.start + i;
      const position = index + 1 - (divider >= 0 && index > divider ? 1 : 0);
      child.setAttribute('aria-posinset', String(position));
      child.setAttribute('aria-setsize', total);
    });
  }

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

  // After every render (a page landed, a fetch ended): fetch older messages while the view is
  // near the top, or too few messages fill it. NOTE: not only on scroll events — a reader who
  // reached the top while a page was loading, or whom the page left at the top, scrolls no more,
  // and scrolling to where one already is fires no event.
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.scrollTop < kLoadMoreAtPx || el.scrollHeight <= el.clientHeight + kLoadMoreAtPx) {
      void fetchOlder();
    }
  });

  // Home and End on the log go to the first and last loaded rows at once (the browser's own
  // smooth scroll aims at a height that changes as the rows there are rendered and measured).
  function onKeyDown(event: KeyboardEvent) {
    const el = ref.current;
    const last = rendered.current;
    const target = event.target;
    if (!el || !last || event.altKey || event.shiftKey || event.defaultPrevented) return;
    if (event.key !== 'Home' && event.key !== 'End') return;
    const editable =
      target instanceof HTMLElement &&
      (target.isContentEditable || target.closest('input, textarea, select') !== null);
    if (editable) return;
    event.preventDefault();
    corrections.current = 0;
    if (event.key === 'End') {
      atBottom.current = true;
      anchor.current = null;
    } else {
      atBottom.current = false;
      anchor.current = null;
      viewTop.current = 0;
      el.scrollTop = 0;
    }
    tick.value++;
  }

  function onScroll() {
    corrections.current = 0;
    remember();
    settle();
    reportDivider();
    if ((ref.current?.scrollTop ?? 0) < kLoadMoreAtPx) void fetchOlder();
  }

  tick.value; // a new window is rendered when settle() asks for one
  const rows = rowsOf(items, dividerAfter);
  const offsets = offsetsOf(rows.map((row) => heights.height(row.key, row.kind, row.extra)));
  const range = windowOf(rows, offsets);
  rendered.current = { rows, offsets, range };
  keepFocusOnLog(rows, range);

  /** The rows to render: around the message jumped to, the bottom, or the anchor. */
  function windowOf(all: Row[], tops: Float64Array): RowRange {
    if (all.length <= kWholeUpTo) return { start: 0, end: all.length };
    const height = viewHeight.current;
    const total = tops[all.length];
    let top = viewTop.current;
    const jumpTo = focus && focusDone.current !== focus.seq ? focus.eventId : null;
    const jumpIndex = jumpTo ? all.findIndex((row) => row.key === jumpTo) : -1;
    const anchorKey = anchor.current?.key;
    const anchorIndex = anchorKey ? all.findIndex((row) => row.key === anchorKey) : -1;
    if (jumpIndex >= 0) top = tops[jumpIndex] - height / 2;
    else if (atBottom.current) top = total - height;
    else if (anchorIndex >= 0) top = tops[anchorIndex] - (anchor.current?.offset ?? 0);
    return rangeFor(tops, top, height, kOverscanPx);
  }

  /**
   * A row that holds the keyboard focus and is about to leave the DOM (the reader scrolled it far
   * away with the mouse) hands the focus to the log itself rather than to the page's body.
   * NOTE: done during render, while the row is still there to give the focus away.
   */
  function keepFocusOnLog(all: Row[], window: RowRange) {
    const el = ref.current;
    const active = document.activeElement;
    if (!el || !active || !listRef.current?.contains(active)) return;
    const key = active.closest<HTMLElement>('[data-key]')?.dataset.key;
    const index = key ? all.findIndex((row) => row.key === key) : -1;
    if (index < window.start || index >= window.end) el.focus({ preventScroll: true });
  }

  let lastMessage: MessageItem | null = null;
  for (let i = items.length - 1; i >= 0 && !lastMessage; i--) {
    const item = items[i];
    if (item.kind === 'message') lastMessage = item;
  }

  const elements: ComponentChildren[] = [];
  for (let index = range.start; index < range.end; index++) {
    const row = rows[index];
    const item = row.item;
    if (row.kind === 'divider') {
      elements.push(
        // A list item holding the separator: a list's children must all be items (axe "list").
        <li key="divider" data-key="divider">
          <div class="timeline__divider" role="separator">
            <span>{t('chat.new_messages')}</span>
          </div>
        </li>,
      );
    } else if (row.kind === 'day' && item) {
      elements.push(
        <li class="timeline__day" key={row.key} data-key={row.key}>
          <h3 class="timeline__day-label">{formatDay(item.ts)}</h3>
        </li>,
      );
    } else if (item?.kind === 'notice') {
      elements.push(
        <li class="timeline__notice" key={row.key} data-key={row.key}>
          {t(`chat.notice.${item.key}`, item.values)}
        </li>,
      );
    } else if (item?.kind === 'message') {
      elements.push(
        <Message
          key={row.key}
          item={item}
          continued={row.continued}
          actions={actions}
          seenBy={item === lastMessage ? lastSeenBy : undefined}
          highlighted={item.id === highlighted.value}
        />,
      );
    }
  }

  return (
    <div
      class="timeline"
      ref={ref}
      onScroll={onScroll}
      onKeyDown={onKeyDown}
      role="log"
      aria-label={label}
      tabIndex={0}
    >
      {loadOlder ? (
        <p class="timeline__history" role="status">
          {loading.value ? t('chat.loading_older') : canLoadOlder ? '' : t('chat.history_start')}
        </p>
      ) : null}
      {start}
      <Space height={offsets[range.start]} spaceRef={topSpace} />
      <ol class="timeline__list" ref={listRef}>
        {elements}
      </ol>
      <Space height={offsets[rows.length] - offsets[range.end]} />
      {end}
    </div>
  );
}

/**
 * The room the rows that are not rendered take, above or below the list.
 * NOTE: an SVG's height attribute rather than a style: nothing in the log carries a style
 * attribute (the CSP forbids inline styles; the browser tests check that none reach the log).
 */
function Space({ height, spaceRef }: { height: number; spaceRef?: Ref<HTMLDivElement> }) {
  return (
    <div class="timeline__space" aria-hidden="true" ref={spaceRef}>
      <svg width="1" height={String(Math.max(0, height))} focusable="false" />
    </div>
  );
}

/**
 * Whether a row can anchor the view. Day headings and the divider cannot: a day's heading
 * changes key when older messages of the same day arrive, and the divider moves.
 */
function anchorable(key: string): boolean {
  return key !== 'divider' && !key.startsWith('day-');
}

/** The index of the row with `key` in what was rendered last, looked for near the window first. */
function indexOfKey(rendered: Rendered, key: string): number {
  const { rows, range } = rendered;
  for (let i = range.start; i < range.end; i++) if (rows[i].key === key) return i;
  return rows.findIndex((row) => row.key === key);
}
