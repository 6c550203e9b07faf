// Civil dates and wall times for the browser tests, through Intl (never by hand-written offset
// arithmetic): what the pages under test show is computed the same way, in the page's zone.

/** The civil date and wall time of `instant` in `zone`: {day: '2027-03-29', time: '09:00'}. */
export function wallClock(instant, zone) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(instant);
  const part = (type) => parts.find((p) => p.type === type).value;
  return {
    day: `${part('year')}-${part('month')}-${part('day')}`,
    time: `${part('hour')}:${part('minute')}`,
  };
}

/** The instant that is `time` on `day` in `zone`, found by asking Intl (not by offsets). */
export function zonedInstant(day, time, zone) {
  const [y, m, d] = day.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const naive = Date.UTC(y, m - 1, d, hh, mm);
  for (let shift = -14 * 60; shift <= 14 * 60; shift += 15) {
    const candidate = new Date(naive - shift * 60_000);
    const wall = wallClock(candidate, zone);
    if (wall.day === day && wall.time === time) return candidate;
  }
  throw new Error(`${day} ${time} does not exist in ${zone}`);
}

/** 2027-03-29T07:00:00Z (the API's form: no milliseconds). */
export const isoUtc = (instant) => instant.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The civil date `n` days after `day` ('2027-03-29'). */
export const addDays = (day, n) => {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
};
