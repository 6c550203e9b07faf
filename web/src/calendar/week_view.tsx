// The week: a column per day with its all-day events on top and its timed events placed by
// time on a 24-hour scale (in the browser's zone); a line marks now. Each day is a labelled
// region listing its events as buttons, so screen readers and keyboards go day by day.
import { useEffect, useRef } from 'preact/hooks';
import { language, t } from '../i18n';
import {
  formatCivil,
  formatHour,
  formatLongDay,
  formatTime,
  timeIn,
  type DayKey,
} from './calendar_dates';
import type { CalendarModel, ShownEvent } from './calendar_model';
import { allDayOn, timedSegments } from './event_layout';

const kHourHeight = 48; // px: calendar.css draws the hour lines at the same step
const kHours = Array.from({ length: 24 }, (_, h) => h);

interface Props {
  model: CalendarModel;
  days: DayKey[];
  onOpen: (event: ShownEvent) => void;
  onCreate: (day: DayKey, time: string) => void;
}

/** "Design review, 10:00 – 11:00" (the accessible name of an event's button). */
export function eventLabel(e: ShownEvent, zone: string): string {
  const lng = language.value;
  const title = e.summary || t('calendar.untitled');
  if (e.all_day) return t('calendar.event_all_day', { title });
  const start = formatTime(new Date(e.start), zone, lng);
  const end = formatTime(new Date(e.end), zone, lng);
  return t('calendar.event_label', { title, start, end });
}

export function WeekView({ model, days, onOpen, onCreate }: Props) {
  const lng = language.value;
  const zone = model.zone;
  const events = model.events.value;
  const today = model.today();
  const scroller = useRef<HTMLDivElement>(null);

  // Open on the working day (07:00), not on midnight.
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 7 * kHourHeight;
  }, []);

  const allDay = days.map((day) => allDayOn(events, day));
  const allDayRows = Math.max(1, ...allDay.map((list) => list.length));
  const now = new Date();
  const nowTime = timeIn(now, zone);
  const nowFraction = (Number(nowTime.slice(0, 2)) * 60 + Number(nowTime.slice(3))) / 1440;

  /** A click on the free part of a day: a new event at that half-hour. */
  function createAt(day: DayKey, event: MouseEvent) {
    if (event.target !== event.currentTarget) return;
    const box = (event.currentTarget as HTMLElement).getBoundingClientRect();
    const minutes = Math.floor(((event.clientY - box.top) / box.height) * 48) * 30;
    const clamped = Math.min(Math.max(minutes, 0), 23 * 60);
    const time = `${String(Math.floor(clamped / 60)).padStart(2, '0')}:${String(clamped % 60).padStart(2, '0')}`;
    onCreate(day, time);
  }

  return (
    <div class="week" ref={scroller} style={{ '--allday-rows': String(allDayRows) }}>
      <div class="week__grid">
        <div class="week__gutter" aria-hidden="true">
          <div class="week__head week__head--gutter">
            <span class="week__allday-label">{t('calendar.all_day')}</span>
          </div>
          <div class="week__hours">
            {kHours.map((h) => (
              <span key={h} class="week__hour">
                {h ? formatHour(h, lng) : ''}
              </span>
            ))}
          </div>
        </div>
        {days.map((day, i) => {
          const segments = timedSegments(events, day, zone);
          const isToday = day === today;
          return (
            <section
              key={day}
              class={isToday ? 'week__day week__day--today' : 'week__day'}
              aria-label={isToday ? t('calendar.today_label', { date: formatLongDay(day, lng) }) : formatLongDay(day, lng)}
              data-day={day}
            >
              <div class="week__head">
                <p class="week__date" aria-hidden="true">
                  <span class="week__weekday">{formatCivil(day, lng, { weekday: 'short' })}</span>
                  <span class="week__number">{formatCivil(day, lng, { day: 'numeric' })}</span>
                </p>
                <ul class="week__allday" aria-label={t('calendar.all_day')}>
                  {allDay[i].map((e) => (
                    <li key={`${e.object}|${e.start}`}>
                      <button type="button" class="event-chip event-chip--all-day" onClick={() => onOpen(e)} aria-label={eventLabel(e, zone)}>
                        {e.summary || t('calendar.untitled')}
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
              <div class="week__times" onClick={(event) => createAt(day, event)}>
                {isToday ? (
                  <div class="week__now" aria-hidden="true" style={{ top: `${nowFraction * 100}%` }} />
                ) : null}
                <ul class="week__events">
                  {segments.map((s) => (
                    <li
                      key={`${s.event.object}|${s.event.start}`}
                      class="week__slot"
                      style={{
                        top: `${s.top * 100}%`,
                        height: `max(${(s.bottom - s.top) * 100}%, 22px)`,
                        left: `${(s.lane / s.lanes) * 100}%`,
                        width: `${100 / s.lanes}%`,
                      }}
                    >
                      <button
                        type="button"
                        class={`event-block${s.event.booking_id ? ' event-block--booking' : ''}${
                          (s.bottom - s.top) * 24 * 60 < 45 ? ' event-block--short' : ''
                        }`}
                        aria-label={eventLabel(s.event, zone)}
                        onClick={() => onOpen(s.event)}
                      >
                        <span class="event-block__title">{s.event.summary || t('calendar.untitled')}</span>
                        {/* A space in the text, so the visible words are the label's (WCAG 2.5.3). */}{' '}
                        <span class="event-block__time">
                          {formatTime(new Date(s.event.start), zone, lng)}
                          {s.event.recurring ? <span class="event-block__repeat" title={t('calendar.recurring')}> ↻</span> : null}
                        </span>
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            </section>
          );
        })}
      </div>
    </div>
  );
}
