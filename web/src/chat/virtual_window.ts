// The arithmetic of a virtualized list whose rows have different heights (the room timeline):
// which rows to put in the DOM for a given scroll position, from the heights measured so far and
// estimates for the others. No DOM here: views/timeline.tsx measures and scrolls.
//
// Coordinates are "list" pixels: 0 is the top of the first row. Rows are addressed by index in
// the current list and remembered by key, since older rows are prepended and indices shift.

/** Rows [start, end) of a list. */
export interface RowRange {
  start: number;
  end: number;
}

/** offsets[i] = the top of row i; offsets[n] = the height of all n rows. */
export function offsetsOf(heights: ArrayLike<number>): Float64Array {
  const offsets = new Float64Array(heights.length + 1);
  for (let i = 0; i < heights.length; i++) offsets[i + 1] = offsets[i] + heights[i];
  return offsets;
}

/** The row that contains `y` (the first row below 0, the last one past the end); -1: no rows. */
export function rowAt(offsets: Float64Array, y: number): number {
  const n = offsets.length - 1;
  if (n <= 0) return -1;
  let low = 0;
  let high = n - 1;
  // The last row whose top is at or above y.
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (offsets[mid] <= y) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** The rows that cover [top - overscan, top + height + overscan], at least one when any. */
export function rangeFor(
  offsets: Float64Array,
  top: number,
  height: number,
  overscan: number,
): RowRange {
  const n = offsets.length - 1;
  if (n <= 0) return { start: 0, end: 0 };
  const total = offsets[n];
  // A view past either end (a stale scroll position) is brought back within the list.
  const viewTop = Math.max(0, Math.min(top, total - height));
  const start = rowAt(offsets, viewTop - overscan);
  const end = rowAt(offsets, viewTop + height + overscan) + 1;
  return { start, end: Math.max(end, start + 1) };
}

/** Where the rendered rows are, and whether they reach the ends of the list. */
export interface RenderedSpan {
  top: number;
  bottom: number;
  atStart: boolean;
  atEnd: boolean;
}

/**
 * Whether the rows in the DOM no longer suit a view of [viewTop, viewBottom]: too little margin
 * left on a side that has more rows (scrolling would soon show a gap), or far too much (the DOM
 * would grow with everything scrolled past). Between the two, nothing is re-rendered, so a
 * scroll re-renders once every few hundred pixels rather than on every event.
 */
export function needsNewRange(
  rendered: RenderedSpan,
  viewTop: number,
  viewBottom: number,
  overscan: number,
): boolean {
  const above = viewTop - rendered.top;
  const below = rendered.bottom - viewBottom;
  if (!rendered.atStart && above < overscan / 4) return true;
  if (!rendered.atEnd && below < overscan / 4) return true;
  return above > overscan * 2.5 || below > overscan * 2.5;
}

/**
 * Row heights: measured ones by key, estimates for the rest — the average of those measured of
 * the same kind, else the kind's default. A row's `extra` (a picture's reserved height) is added
 * to its estimate and kept out of the average.
 */
export class RowHeights<Kind extends string> {
  private readonly measured = new Map<string, number>();
  private readonly sums = new Map<Kind, { total: number; count: number }>();

  constructor(private readonly defaults: Record<Kind, number>) {}

  /** The measured height of `key`, else an estimate for a row of `kind`. */
  height(key: string, kind: Kind, extra = 0): number {
    const known = this.measured.get(key);
    if (known !== undefined) return known;
    const sum = this.sums.get(kind);
    return (sum ? sum.total / sum.count : this.defaults[kind]) + extra;
  }

  /** Records a measurement; true when it differs from what was known. */
  set(key: string, kind: Kind, height: number, averaged = true): boolean {
    const previous = this.measured.get(key);
    if (previous !== undefined && Math.abs(previous - height) < 0.5) return false;
    this.measured.set(key, height);
    if (averaged) {
      const sum = this.sums.get(kind) ?? { total: 0, count: 0 };
      if (previous !== undefined) sum.total -= previous;
      else sum.count++;
      sum.total += height;
      this.sums.set(kind, sum);
    }
    return true;
  }
}
