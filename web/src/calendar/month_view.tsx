// The month: six weeks of days, each with up to three event chips and "+N more" (which opens that
// day's week). A table, so screen readers announce the weekday of each cell.
import { language, t } from '../i18n';
import { formatCivil, formatLongDay, formatTime, monthOf, weekdayNames, firstWeekday, type DayKey } from './calendar_dates';
import type { CalendarModel, ShownEvent } from './calendar_model';
import { eventsOn } from './event_layout';
import { eventLabel } from './week_view';

const kShown = 3;

interface Props {
  model: CalendarModel;
  days: DayKey[];
  onOpen: (event: ShownEvent) => void;
  onShowWeek: (day: DayKey) => void;
}

export function MonthView({ model, days, onOpen, onShowWeek }: Props) {
  const lng = language.value;
  const zone = model.zone;
  const events = model.events.value;
  const today = model.today();
  const month = monthOf(model.anchor.value);
  const weekdays = weekdayNames(lng, firstWeekday(lng));
  const weeks = Array.from({ length: days.length / 7 }, (_, w) => days.slice(w * 7, w * 7 + 7));

  return (
    <table class="month" aria-labelledby="calendar-period">
      <thead>
        <tr>
          {weekdays.map((w) => (
            <th key={w.long} scope="col" abbr={w.long}>
              {w.short}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {weeks.map((week) => (
          <tr key={week[0]}>
            {week.map((day) => {
              const list = eventsOn(events, day, zone);
              const other = monthOf(day).month !== month.month;
              const classes = ['month__day'];
              if (other) classes.push('month__day--other');
              if (day === today) classes.push('month__day--today');
              const label = formatLongDay(day, lng);
              return (
                <td key={day} class={classes.join(' ')} data-day={day}>
                  <button
                    type="button"
                    class="month__date"
                    aria-label={t('calendar.show_week_of', { date: day === today ? t('calendar.today_label', { date: label }) : label })}
                    aria-current={day === today ? 'date' : undefined}
                    onClick={() => onShowWeek(day)}
                  >
                    {formatCivil(day, lng, { day: 'numeric' })}
                  </button>
                  <ul class="month__events">
                    {list.slice(0, kShown).map((e) => (
                      <li key={`${e.object}|${e.start}`}>
                        <button
                          type="button"
                          class={e.all_day ? 'event-chip event-chip--all-day' : 'event-chip'}
                          aria-label={eventLabel(e, zone)}
                          onClick={() => onOpen(e)}
                        >
                          {e.all_day ? null : (
                            <span class="event-chip__time">{formatTime(new Date(e.start), zone, lng)} </span>
                          )}
                          {e.summary || t('calendar.untitled')}
                        </button>
                      </li>
                    ))}
                  </ul>
                  {list.length > kShown ? (
                    <button
                      type="button"
                      class="month__more"
                      aria-label={t('calendar.more_on', { count: list.length - kShown, date: label })}
                      onClick={() => onShowWeek(day)}
                    >
                      {t('calendar.more', { count: list.length - kShown })}
                    </button>
                  ) : null}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

