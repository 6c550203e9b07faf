// Calendar days, months and their formatting for the booking pages. Instants (slot times) are
// turned into a day or a wall time of a chosen IANA zone by Intl only, never by offset arithmetic;
// days and months themselves ("2027-03-29") are zone-free civil dates.
import type { Language } from '../i18n';

/** A civil date, "2027-03-29". */
export type DayKey = string;

/** A civil month; `month` is 1–12. */
export interface CivilMonth {
  year: number;
  month: number;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

// Building an Intl.DateTimeFormat is costly next to using one; a page formats hundreds of times.
const formatters = new Map<string, Intl.DateTimeFormat>();

export function formatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, found);
  }
  return found;
}

/** The zone the browser runs in ("Europe/Paris"), UTC when it does not say. */
export function detectTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Whether Intl knows `zone`. */
export function isTimeZone(zone: string): boolean {
  try {
    formatter('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Every zone the browser knows, sorted, with `include` added when it is missing. */
export function timeZoneList(include: string[]): string[] {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    // an older engine: the list is only the zones we were given
  }
  const all = new Set(zones);
  for (const zone of include) if (zone) all.add(zone);
  return [...all].sort();
}

/** The civil date of `instant` in `zone`. */
export function dayKeyIn(instant: Date, zone: string): DayKey {
  const parts = formatter('en-US', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${pad(Number(part('year')), 4)}-${part('month')}-${part('day')}`;
}

export const todayIn = (zone: string): DayKey => dayKeyIn(new Date(), zone);

function parseDay(day: DayKey): { year: number; month: number; day: number } {
  const [year, month, date] = day.split('-').map(Number);
  return { year, month, day: date };
}

/** Noon UTC of a civil date: formatted with timeZone UTC it is that date everywhere. */
function civilInstant(day: DayKey): Date {
  const { year, month, day: date } = parseDay(day);
  return new Date(Date.UTC(year, month - 1, date, 12));
}

export const dayKey = (year: number, month: number, day: number): DayKey =>
  `${pad(year, 4)}-${pad(month)}-${pad(day)}`;

export function addDays(day: DayKey, days: number): DayKey {
  const moved = civilInstant(day);
  moved.setUTCDate(moved.getUTCDate() + days);
  return dayKey(moved.getUTCFullYear(), moved.getUTCMonth() + 1, moved.getUTCDate());
}

/** 0 for Sunday … 6 for Saturday. */
export const weekdayOf = (day: DayKey): number => civilInstant(day).getUTCDay();

export function monthOf(day: DayKey): CivilMonth {
  const { year, month } = parseDay(day);
  return { year, month };
}

export function addMonths({ year, month }: CivilMonth, months: number): CivilMonth {
  const index = year * 12 + (month - 1) + months;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

/** Negative, zero or positive as `a` is before, the same as or after `b`. */
export const compareMonths = (a: CivilMonth, b: CivilMonth): number =>
  a.year * 12 + a.month - (b.year * 12 + b.month);

export const daysInMonth = ({ year, month }: CivilMonth): number =>
  new Date(Date.UTC(year, month, 0)).getUTCDate();

export const firstDayOf = ({ year, month }: CivilMonth): DayKey => dayKey(year, month, 1);

export const isInMonth = (day: DayKey, month: CivilMonth): boolean =>
  compareMonths(monthOf(day), month) === 0;

/**
 * The UTC range to ask for a month's slots in any zone: from the day before the month to the
 * day after it (zones are at most 14 hours from UTC), 33 days at most.
 */
export function monthFetchRange(month: CivilMonth): { from: string; to: string } {
  const from = civilInstant(addDays(firstDayOf(month), -1));
  const to = civilInstant(addDays(firstDayOf(addMonths(month, 1)), 1));
  from.setUTCHours(0);
  to.setUTCHours(0);
  const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { from: iso(from), to: iso(to) };
}

/** The first day of the week people of `lng` expect in a month grid: 0 Sunday, 1 Monday. */
export const firstWeekday = (lng: Language): number => (lng === 'en' ? 0 : 1);

// ---- formatting in the UI language ----------------------------------------------------------

const kLongDate: Intl.DateTimeFormatOptions = {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
};

/** "lundi 29 mars 2027", "Monday, March 29, 2027": the date of `instant` in `zone`. */
export const formatLongDate = (instant: Date, zone: string, lng: Language): string =>
  formatter(lng, { ...kLongDate, timeZone: zone }).format(instant);

/** The same for a civil date. */
export const formatDay = (day: DayKey, lng: Language): string =>
  formatter(lng, { ...kLongDate, timeZone: 'UTC' }).format(civilInstant(day));

// French writes 09:00; English 9:00 AM; Spanish 9:00.
const kHour: Record<Language, 'numeric' | '2-digit'> = { en: 'numeric', fr: '2-digit', es: 'numeric' };

/** "09:00", "9:00 AM": the wall time of `instant` in `zone`. */
export const formatTime = (instant: Date, zone: string, lng: Language): string =>
  formatter(lng, { hour: kHour[lng], minute: '2-digit', timeZone: zone }).format(instant);

/** "mars 2027", "March 2027". */
export const formatMonth = (month: CivilMonth, lng: Language): string =>
  formatter(lng, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    civilInstant(firstDayOf(month)),
  );

/** The seven weekday names from `first` on, short ("lun.") and long ("lundi"). */
export function weekdayNames(lng: Language, first: number): { short: string; long: string }[] {
  // 2023-01-01 was a Sunday.
  return Array.from({ length: 7 }, (_, i) => {
    const day = civilInstant(dayKey(2023, 1, 1 + ((first + i) % 7)));
    return {
      short: formatter(lng, { weekday: 'short', timeZone: 'UTC' }).format(day),
      long: formatter(lng, { weekday: 'long', timeZone: 'UTC' }).format(day),
    };
  });
}

/** "Europe/Paris (UTC+1)": a zone and its offset now, for a zone list. */
export function zoneLabel(zone: string, lng: Language): string {
  const name = zone.replaceAll('_', ' ');
  try {
    const parts = formatter(lng, { timeZone: zone, timeZoneName: 'shortOffset' }).formatToParts(
      new Date(),
    );
    const offset = parts.find((p) => p.type === 'timeZoneName')?.value;
    return offset ? `${name} (${offset})` : name;
  } catch {
    return name;
  }
}

/** "30 minutes", "1 heure 30 minutes". */
export function formatDuration(minutes: number, lng: Language): string {
  const unit = (value: number, u: 'hour' | 'minute') =>
    new Intl.NumberFormat(lng, { style: 'unit', unit: u, unitDisplay: 'long' }).format(value);
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (!hours) return unit(rest, 'minute');
  return rest ? `${unit(hours, 'hour')} ${unit(rest, 'minute')}` : unit(hours, 'hour');
}
