// Dates and times in the user's language (the UI language, so a French UI says "mardi 3 mars")
// and the browser's time zone, through Intl: no date strings in the locale files.
import { language } from '../i18n';

const kDayMs = 86_400_000;

function startOfDay(ts: number): number {
  const date = new Date(ts);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

export function isSameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

/** "14:05" / "2:05 PM": the locale's own short time (French writes "09:05"). */
export function formatTime(ts: number): string {
  return new Intl.DateTimeFormat(language.value, { timeStyle: 'short' }).format(ts);
}

/** The full date and time, for a tooltip. */
export function formatFullDate(ts: number): string {
  return new Intl.DateTimeFormat(language.value, { dateStyle: 'full', timeStyle: 'short' }).format(
    ts,
  );
}

/** A day separator: "Today", "Yesterday", else "Tuesday, March 3, 2026" in the user's locale. */
export function formatDay(ts: number, now = Date.now()): string {
  const days = Math.round((startOfDay(now) - startOfDay(ts)) / kDayMs);
  if (days === 0 || days === 1) {
    const text = new Intl.RelativeTimeFormat(language.value, { numeric: 'auto' }).format(-days, 'day');
    return text.charAt(0).toLocaleUpperCase(language.value) + text.slice(1);
  }
  return new Intl.DateTimeFormat(language.value, {
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
  }).format(ts);
}
