// The event editor's repeat choices and the RRULE (RFC 5545 §3.3.10) they stand for. Only what
// the editor offers is built and read back; any other rule is kept as it is ("custom").
import { zonedInstant, type DayKey } from './calendar_dates';

export type Frequency = 'none' | 'daily' | 'weekly' | 'monthly' | 'yearly' | 'custom';
export type Ending = 'never' | 'count' | 'until';

/** RFC 5545 weekday codes, Monday first (as the API's availability days). */
export const kByDay = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
export type ByDay = (typeof kByDay)[number];

export interface Recurrence {
  frequency: Frequency;
  /** Every `interval` days, weeks, months or years. */
  interval: number;
  /** Weekly rules: the days it happens on. */
  byDay: ByDay[];
  ending: Ending;
  count: number;
  /** The last day it may happen on (inclusive), a civil date. */
  until: DayKey;
  /** A rule the editor cannot show, kept unchanged while frequency stays "custom". */
  raw: string;
}

export const noRecurrence = (): Recurrence => ({
  frequency: 'none',
  interval: 1,
  byDay: [],
  ending: 'never',
  count: 10,
  until: '',
  raw: '',
});

/** The RFC 5545 code of a civil date's weekday. */
export function byDayOf(day: DayKey): ByDay {
  const sundayFirst = new Date(`${day}T12:00:00Z`).getUTCDay();
  return kByDay[(sundayFirst + 6) % 7];
}

const kFrequencies: Record<string, Frequency> = {
  DAILY: 'daily',
  WEEKLY: 'weekly',
  MONTHLY: 'monthly',
  YEARLY: 'yearly',
};

/** Reads `rule` back into the editor's choices; anything it does not offer is "custom". */
export function parseRrule(rule: string): Recurrence {
  const result = noRecurrence();
  if (!rule) return result;
  const parts = new Map<string, string>();
  for (const pair of rule.split(';')) {
    const [key, value = ''] = pair.split('=');
    parts.set(key.toUpperCase(), value.toUpperCase());
  }
  const custom = (): Recurrence => ({ ...noRecurrence(), frequency: 'custom', raw: rule });
  const frequency = kFrequencies[parts.get('FREQ') ?? ''];
  const known = new Set(['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYDAY', 'WKST']);
  if (!frequency || [...parts.keys()].some((key) => !known.has(key))) return custom();
  result.frequency = frequency;
  result.interval = Number(parts.get('INTERVAL') ?? '1') || 1;
  if (parts.has('BYDAY')) {
    if (frequency !== 'weekly') return custom();
    const days = parts.get('BYDAY')!.split(',');
    if (!days.every((d): d is ByDay => (kByDay as readonly string[]).includes(d))) return custom();
    result.byDay = days;
  }
  if (parts.has('COUNT')) {
    result.ending = 'count';
    result.count = Number(parts.get('COUNT')) || 1;
  } else if (parts.has('UNTIL')) {
    const until = /^(\d{4})(\d{2})(\d{2})/.exec(parts.get('UNTIL')!);
    if (!until) return custom();
    result.ending = 'until';
    result.until = `${until[1]}-${until[2]}-${until[3]}`;
  }
  return result;
}

/**
 * The RRULE for the editor's choices, "" for none. UNTIL is the end of the chosen day: a date for
 * all-day events, else that day's last second in the event's zone, in UTC (RFC 5545 requires UTC
 * when DTSTART has a zone).
 */
export function buildRrule(r: Recurrence, start: DayKey, allDay: boolean, zone: string): string {
  if (r.frequency === 'none') return '';
  if (r.frequency === 'custom') return r.raw;
  const parts = [`FREQ=${r.frequency.toUpperCase()}`];
  if (r.interval > 1) parts.push(`INTERVAL=${Math.floor(r.interval)}`);
  if (r.frequency === 'weekly') {
    const days = r.byDay.length ? r.byDay : [byDayOf(start)];
    parts.push(`BYDAY=${kByDay.filter((d) => days.includes(d)).join(',')}`);
  }
  if (r.ending === 'count') parts.push(`COUNT=${Math.max(1, Math.floor(r.count))}`);
  if (r.ending === 'until' && r.until) {
    if (allDay) {
      parts.push(`UNTIL=${r.until.replaceAll('-', '')}`);
    } else {
      const last = new Date(zonedInstant(r.until, '23:59', zone).getTime() + 59_000);
      parts.push(`UNTIL=${last.toISOString().replace(/[-:]|\.\d{3}/g, '')}`);
    }
  }
  return parts.join(';');
}
