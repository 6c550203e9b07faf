// Where events go on screen: the part of each event inside each shown day (in the display zone),
// and side-by-side lanes for timed events that overlap, as calendar apps draw them.
import { addDays, utcDay, zonedInstant, type DayKey } from './calendar_dates';
import type { ShownEvent } from './calendar_model';

export interface DaySegment {
  event: ShownEvent;
  /** Fractions of the day (0–1) where the part starts and ends. */
  top: number;
  bottom: number;
  /** Whether the event goes on before this day / after it. */
  continuesBefore: boolean;
  continuesAfter: boolean;
  lane: number;
  lanes: number;
}

/** Whether an all-day event covers `day` (its dates are UTC midnights, end exclusive). */
export const allDayCovers = (e: ShownEvent, day: DayKey): boolean =>
  utcDay(e.start) <= day && day < utcDay(e.end);

/** The all-day events of `day`. */
export const allDayOn = (events: ShownEvent[], day: DayKey): ShownEvent[] =>
  events.filter((e) => e.all_day && allDayCovers(e, day));

/** The timed events' parts inside `day` in `zone`, with their lanes. */
export function timedSegments(events: ShownEvent[], day: DayKey, zone: string): DaySegment[] {
  const dayStart = zonedInstant(day, '00:00', zone).getTime();
  const dayEnd = zonedInstant(addDays(day, 1), '00:00', zone).getTime();
  const length = dayEnd - dayStart; // 23 or 25 hours on a daylight-saving change
  const segments: DaySegment[] = [];
  for (const event of events) {
    if (event.all_day) continue;
    const start = Date.parse(event.start);
    const end = Math.max(Date.parse(event.end), start + 1);
    if (end <= dayStart || start >= dayEnd) continue;
    segments.push({
      event,
      top: (Math.max(start, dayStart) - dayStart) / length,
      bottom: (Math.min(end, dayEnd) - dayStart) / length,
      continuesBefore: start < dayStart,
      continuesAfter: end > dayEnd,
      lane: 0,
      lanes: 1,
    });
  }
  segments.sort((a, b) => a.top - b.top || b.bottom - a.bottom);
  // Clusters of overlapping segments share the width; each takes the first free lane.
  const kMinHeight = 0.5 / 24; // a short event is drawn half an hour tall: it overlaps that much
  let cluster: DaySegment[] = [];
  let clusterEnd = -1;
  const close = () => {
    const lanes = Math.max(1, ...cluster.map((s) => s.lane + 1));
    for (const s of cluster) s.lanes = lanes;
    cluster = [];
  };
  for (const segment of segments) {
    const bottom = Math.max(segment.bottom, segment.top + kMinHeight);
    if (segment.top >= clusterEnd) close();
    const laneEnds: number[] = [];
    for (const s of cluster) {
      laneEnds[s.lane] = Math.max(laneEnds[s.lane] ?? -1, Math.max(s.bottom, s.top + kMinHeight));
    }
    let lane = 0;
    while (laneEnds[lane] !== undefined && laneEnds[lane] > segment.top) lane += 1;
    segment.lane = lane;
    cluster.push(segment);
    clusterEnd = Math.max(clusterEnd, bottom);
  }
  close();
  return segments;
}

/** Every event touching `day` (all-day first, then by start), for the month grid. */
export function eventsOn(events: ShownEvent[], day: DayKey, zone: string): ShownEvent[] {
  const dayStart = zonedInstant(day, '00:00', zone).getTime();
  const dayEnd = zonedInstant(addDays(day, 1), '00:00', zone).getTime();
  const timed = events.filter((e) => {
    if (e.all_day) return false;
    const start = Date.parse(e.start);
    const end = Math.max(Date.parse(e.end), start + 1);
    return start < dayEnd && end > dayStart;
  });
  return [...allDayOn(events, day), ...timed];
}
