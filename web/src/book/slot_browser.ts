// The free slots of one booking page, a month at a time, as the visitor browses them: the month
// shown, its slots grouped by day in the visitor's zone, the chosen day. Shared by the booking
// page and the manage page's reschedule; the views only read its signals.
import { computed, signal, type ReadonlySignal, type Signal } from '@preact/signals';
import { bookingErrorKey, fetchSlots, type Slot } from './booking_api';
import {
  addMonths,
  compareMonths,
  dayKeyIn,
  isInMonth,
  monthFetchRange,
  monthOf,
  todayIn,
  type CivilMonth,
  type DayKey,
} from './zoned_dates';

// NOTE: the public booking type does not say how far ahead it books (horizon_days), so the
// months stop at the server's largest horizon, 730 days; months past the real one are empty.
const kMonthsAhead = 24;

export class SlotBrowser {
  /** The month shown, in the visitor's zone. */
  readonly month: Signal<CivilMonth>;
  readonly loading = signal(false);
  /** A locale key when the last load failed. */
  readonly error = signal<string | null>(null);
  readonly selectedDay = signal<DayKey | null>(null);
  readonly today: ReadonlySignal<DayKey>;
  readonly firstMonth: ReadonlySignal<CivilMonth>;
  readonly lastMonth: ReadonlySignal<CivilMonth>;
  /** The month's free slots by day in the visitor's zone, in time order. */
  readonly byDay: ReadonlySignal<Map<DayKey, Slot[]>>;
  /** The chosen day's slots (empty with no day chosen). */
  readonly daySlots: ReadonlySignal<Slot[]>;

  // The slots of the fetched range around `month` (a day more on each side).
  private readonly slots = signal<Slot[]>([]);
  private generation = 0;

  constructor(
    private readonly user: string,
    private readonly slug: string,
    /** The visitor's zone: days and times are shown in it. */
    readonly zone: ReadonlySignal<string>,
  ) {
    this.today = computed(() => todayIn(zone.value));
    this.firstMonth = computed(() => monthOf(this.today.value));
    this.lastMonth = computed(() => addMonths(this.firstMonth.value, kMonthsAhead));
    this.month = signal(this.firstMonth.peek());
    this.byDay = computed(() => {
      const days = new Map<DayKey, Slot[]>();
      const zoneNow = this.zone.value;
      for (const slot of this.slots.value) {
        const day = dayKeyIn(new Date(slot.start), zoneNow);
        if (!isInMonth(day, this.month.value)) continue;
        const list = days.get(day);
        if (list) list.push(slot);
        else days.set(day, [slot]);
      }
      return days;
    });
    this.daySlots = computed(() => {
      const day = this.selectedDay.value;
      return day ? (this.byDay.value.get(day) ?? []) : [];
    });
  }

  get canGoBack(): boolean {
    return compareMonths(this.month.value, this.firstMonth.value) > 0;
  }

  get canGoForward(): boolean {
    return compareMonths(this.month.value, this.lastMonth.value) < 0;
  }

  /** Shows `month` (kept within the bookable months) and loads its slots. */
  show(month: CivilMonth): Promise<void> {
    let target = month;
    if (compareMonths(target, this.firstMonth.peek()) < 0) target = this.firstMonth.peek();
    if (compareMonths(target, this.lastMonth.peek()) > 0) target = this.lastMonth.peek();
    if (compareMonths(target, this.month.peek()) !== 0) {
      this.month.value = target;
      this.slots.value = [];
      const day = this.selectedDay.peek();
      if (day && !isInMonth(day, target)) this.selectedDay.value = null;
    }
    return this.load();
  }

  /** (Re)loads the shown month's slots; the newest call wins. */
  async load(): Promise<void> {
    const generation = ++this.generation;
    const month = this.month.peek();
    const { from, to } = monthFetchRange(month);
    this.loading.value = true;
    this.error.value = null;
    try {
      const slots = await fetchSlots(this.user, this.slug, from, to);
      if (generation !== this.generation) return;
      this.slots.value = [...slots].sort((a, b) => a.start.localeCompare(b.start));
    } catch (error) {
      if (generation !== this.generation) return;
      this.slots.value = [];
      this.error.value = bookingErrorKey(error);
    } finally {
      if (generation === this.generation) this.loading.value = false;
    }
  }
}
