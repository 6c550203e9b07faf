// Days, weeks and wall times for the calendar views. Instants become a day or a wall time of an
// IANA zone through Intl only, and a wall time becomes an instant by asking Intl for the zone's
// offset there (twice, so a daylight-saving change in between is seen), never by fixed offsets.
import {
  addDays,
  dayKeyIn,
  firstWeekday,
  formatter,
  weekdayOf,
  type DayKey,
} from '../book/zoned_dates';
import type { Language } from '../i18n';

export {
  addDays,
  addMonths,
  dayKeyIn,
  detectTimeZone,
  firstWeekday,
  monthOf,
  timeZoneList,
  todayIn,
  weekdayNames,
  weekdayOf,
  zoneLabel,
  type CivilMonth,
  type DayKey,
} from '../book/zoned_dates';

const pad = (n: number) => String(n).padStart(2, '0');

/** "09:30" (24-hour) of `instant` in `zone`. */
export function timeIn(instant: Date, zone: string): string {
  const parts = formatter('en-US', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  return `${part('hour')}:${part('minute')}`;
}

/** How far `zone`'s wall clock is ahead of UTC at `instant`, in ms. */
function offsetAt(instant: number, zone: string): number {
  const date = new Date(instant);
  const [y, m, d] = dayKeyIn(date, zone).split('-').map(Number);
  const [hh, mm] = timeIn(date, zone).split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm, date.getUTCSeconds(), date.getUTCMilliseconds());
  return wall - instant;
}

/**
 * The instant that is `time` ("09:30") on `day` in `zone`. A wall time skipped by a
 * daylight-saving change comes out an hour later, one that happens twice as the first.
 */
export function zonedInstant(day: DayKey, time: string, zone: string): Date {
  const [y, m, d] = day.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const naive = Date.UTC(y, m - 1, d, hh, mm);
  const first = naive - offsetAt(naive, zone);
  const second = naive - offsetAt(first, zone);
  const candidates = [Math.min(first, second), Math.max(first, second)];
  const matches = (instant: number) =>
    dayKeyIn(new Date(instant), zone) === day && timeIn(new Date(instant), zone) === time;
  return new Date(candidates.find(matches) ?? candidates[1]);
}

/** "2027-03-29T07:00:00Z": the API's UTC form. */
export const isoUtc = (instant: Date): string => instant.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The civil date of an all-day event's UTC midnight ("2027-03-29T00:00:00Z" → "2027-03-29"). */
export const utcDay = (iso: string): DayKey => iso.slice(0, 10);

/** The first day of the week holding `day`: Monday for fr/es, Sunday for en. */
export function weekStart(day: DayKey, lng: Language): DayKey {
  const back = (weekdayOf(day) - firstWeekday(lng) + 7) % 7;
  return addDays(day, -back);
}

/** The days [from, from + count). */
export const daysFrom = (from: DayKey, count: number): DayKey[] =>
  Array.from({ length: count }, (_, i) => addDays(from, i));

/** Noon UTC of a civil date: formatted with timeZone UTC it is that date everywhere. */
const civil = (day: DayKey) => new Date(`${day}T12:00:00Z`);

/** A civil date with `options` ("lun. 29", "March 2027"), in the UI language. */
export const formatCivil = (day: DayKey, lng: Language, options: Intl.DateTimeFormatOptions) =>
  formatter(lng, { ...options, timeZone: 'UTC' }).format(civil(day));

/** "lundi 29 mars 2027". */
export const formatLongDay = (day: DayKey, lng: Language) =>
  formatCivil(day, lng, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

// French writes 09:00; English 9:00 AM; Spanish 9:00.
const kHour: Record<Language, 'numeric' | '2-digit'> = { en: 'numeric', fr: '2-digit', es: 'numeric' };

/** "09:00", "9:00 AM": the wall time of `instant` in `zone`. */
export const formatTime = (instant: Date, zone: string, lng: Language): string =>
  formatter(lng, { hour: kHour[lng], minute: '2-digit', timeZone: zone }).format(instant);

/** "9 AM", "09 h", the label of an hour row. */
export const formatHour = (hour: number, lng: Language): string =>
  formatter(lng, { hour: kHour[lng], timeZone: 'UTC' }).format(
    new Date(Date.UTC(2023, 0, 2, hour)),
  );

/** "29 mars – 4 avril 2027", "Mar 29 – Apr 4, 2027": a week's span. */
export function formatRange(first: DayKey, last: DayKey, lng: Language): string {
  const options: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short', year: 'numeric' };
  return formatter(lng, { ...options, timeZone: 'UTC' }).formatRange(civil(first), civil(last));
}

/** "lun. 29 mars 2027, 09:00", for a date and a time of an instant in `zone`. */
export const formatDateTime = (instant: Date, zone: string, lng: Language): string =>
  formatter(lng, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: kHour[lng],
    minute: '2-digit',
    timeZone: zone,
  }).format(instant);

/** "29/03/2027, 14:00": a timestamp in the browser's zone (lists of app passwords). */
export const formatTimestamp = (ms: number, lng: Language): string =>
  formatter(lng, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));

export { pad };
