// The calendar section's state: the user's calendars, the shown period (a week or a month around
// `anchor`) and its events from every calendar, reloaded whenever the period changes.
import { signal } from '@preact/signals';
import type { Language } from '../i18n';
import {
  addDays,
  addMonths,
  daysFrom,
  detectTimeZone,
  isoUtc,
  monthOf,
  todayIn,
  weekStart,
  zonedInstant,
  type DayKey,
} from './calendar_dates';
import { CalendarApi, errorText, type CalendarEvent, type CalendarInfo } from './calendar_api';

export type CalendarMode = 'week' | 'month';

/** An instance and the calendar it comes from. */
export interface ShownEvent extends CalendarEvent {
  calendar: string;
  color: string;
}

/** Events made for bookings are changed from the booking, not the calendar (the API says 409). */
export const isBookingEvent = (e: CalendarEvent): boolean =>
  Boolean(e.booking_id) || e.object.startsWith('ruche-booking-');

/** Another user's event this user was invited to: a copy the organizer keeps up to date. */
export const isInvitation = (e: CalendarEvent): boolean => e.invitation != null;

export class CalendarModel {
  /** Times are shown in the browser's zone. */
  readonly zone = detectTimeZone();
  readonly calendars = signal<CalendarInfo[]>([]);
  readonly events = signal<ShownEvent[]>([]);
  readonly loading = signal(false);
  readonly error = signal<string | null>(null);
  readonly mode = signal<CalendarMode>('week');
  readonly anchor = signal<DayKey>(todayIn(this.zone));
  private generation = 0;

  constructor(readonly api: CalendarApi) {}

  today(): DayKey {
    return todayIn(this.zone);
  }

  /** The days on screen: a week, or the six weeks of a month grid. */
  days(lng: Language): DayKey[] {
    const anchor = this.anchor.value;
    if (this.mode.value === 'week') return daysFrom(weekStart(anchor, lng), 7);
    const { year, month } = monthOf(anchor);
    const first = `${year}-${String(month).padStart(2, '0')}-01`;
    return daysFrom(weekStart(first, lng), 42);
  }

  /** Moves a week or a month back (-1) or on (+1). */
  step(direction: -1 | 1): void {
    const anchor = this.anchor.value;
    if (this.mode.value === 'week') {
      this.anchor.value = addDays(anchor, 7 * direction);
    } else {
      const { year, month } = addMonths(monthOf(anchor), direction);
      this.anchor.value = `${year}-${String(month).padStart(2, '0')}-01`;
    }
  }

  /** Loads the events of the days on screen; a newer load wins over a slower older one. */
  async load(lng: Language): Promise<void> {
    const days = this.days(lng);
    const from = isoUtc(zonedInstant(days[0], '00:00', this.zone));
    const to = isoUtc(zonedInstant(addDays(days[days.length - 1], 1), '00:00', this.zone));
    const generation = ++this.generation;
    this.loading.value = true;
    try {
      let calendars = this.calendars.peek();
      if (!calendars.length) {
        calendars = (await this.api.calendars()).filter((c) => c.components.includes('VEVENT'));
        this.calendars.value = calendars;
      }
      const lists = await Promise.all(
        calendars.map(async (c) =>
          (await this.api.events(c.id, from, to)).map((e) => ({ ...e, calendar: c.id, color: c.color })),
        ),
      );
      if (generation !== this.generation) return;
      this.events.value = lists.flat().sort((a, b) => a.start.localeCompare(b.start));
      this.error.value = null;
    } catch (error) {
      if (generation === this.generation) this.error.value = errorText(error);
    } finally {
      if (generation === this.generation) this.loading.value = false;
    }
  }

  /** The earliest instance of a recurring event's series within the 399 days before `e`. */
  async seriesStart(e: ShownEvent): Promise<ShownEvent> {
    if (!e.recurring) return e;
    const start = new Date(e.start);
    const from = isoUtc(new Date(start.getTime() - 399 * 86_400_000));
    const to = isoUtc(new Date(start.getTime() + 60_000));
    const instances = await this.api.events(e.calendar, from, to);
    const first = instances
      .filter((i) => i.object === e.object)
      .sort((a, b) => a.start.localeCompare(b.start))[0];
    return first ? { ...e, start: first.start, end: first.end } : e;
  }
}
