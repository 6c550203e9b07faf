// A month of days as an ARIA grid (the WAI-ARIA APG date picker pattern): one day is in the
// tab order, the arrow keys move between days (crossing into the next or previous month),
// Home/End go to the week's ends, Page Up/Down change the month. Days with free slots can be
// chosen; the others stay reachable but say they have none.
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { language, t } from '../i18n';
import type { SlotBrowser } from './slot_browser';
import {
  addDays,
  addMonths,
  compareMonths,
  dayKey,
  daysInMonth,
  firstDayOf,
  firstWeekday,
  formatDay,
  formatMonth,
  isInMonth,
  monthOf,
  weekdayNames,
  weekdayOf,
  type DayKey,
} from './zoned_dates';

interface Props {
  browser: SlotBrowser;
  /** Prefix for element ids, unique on the page. */
  id: string;
}

/** The weeks of the month shown, each seven days or nulls for days of other months. */
function weeksOf(days: DayKey[], first: number): (DayKey | null)[][] {
  const lead = (weekdayOf(days[0]) - first + 7) % 7;
  const cells: (DayKey | null)[] = [...Array<null>(lead).fill(null), ...days];
  while (cells.length % 7) cells.push(null);
  const weeks = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return weeks;
}

export function MonthCalendar({ browser, id }: Props) {
  const lng = language.value;
  const month = browser.month.value;
  const byDay = browser.byDay.value;
  const selected = browser.selectedDay.value;
  const today = browser.today.value;
  const loading = browser.loading.value;
  const error = browser.error.value;
  const focused = useSignal<DayKey | null>(null);
  const gridRef = useRef<HTMLTableElement>(null);
  // Set by keyboard moves: focus follows the roving day after the next render.
  const moveFocus = useRef(false);

  const first = firstWeekday(lng);
  const days = Array.from({ length: daysInMonth(month) }, (_, i) =>
    dayKey(month.year, month.month, i + 1),
  );
  const firstAvailable = days.find((day) => byDay.has(day)) ?? null;
  const fallback = isInMonth(today, month) ? today : firstDayOf(month);
  const roving = [focused.value, selected, firstAvailable, fallback].find(
    (day): day is DayKey => !!day && isInMonth(day, month),
  )!;

  useEffect(() => {
    if (!moveFocus.current) return;
    const button = gridRef.current?.querySelector<HTMLButtonElement>(`[data-day="${roving}"]`);
    if (button) {
      moveFocus.current = false;
      button.focus();
    }
  });

  function moveTo(day: DayKey) {
    const target = monthOf(day);
    if (compareMonths(target, month) !== 0) {
      if (
        compareMonths(target, browser.firstMonth.peek()) < 0 ||
        compareMonths(target, browser.lastMonth.peek()) > 0
      ) {
        return; // past the bookable months: stay
      }
      void browser.show(target);
    }
    focused.value = day;
    moveFocus.current = true;
  }

  function onKeyDown(event: KeyboardEvent, day: DayKey) {
    const column = (weekdayOf(day) - first + 7) % 7;
    let target: DayKey | null = null;
    switch (event.key) {
      case 'ArrowLeft':
        target = addDays(day, -1);
        break;
      case 'ArrowRight':
        target = addDays(day, 1);
        break;
      case 'ArrowUp':
        target = addDays(day, -7);
        break;
      case 'ArrowDown':
        target = addDays(day, 7);
        break;
      case 'Home':
        target = addDays(day, -column);
        break;
      case 'End':
        target = addDays(day, 6 - column);
        break;
      case 'PageUp':
      case 'PageDown': {
        const other = addMonths(monthOf(day), event.key === 'PageUp' ? -1 : 1);
        const date = Math.min(Number(day.slice(8)), daysInMonth(other));
        target = dayKey(other.year, other.month, date);
        break;
      }
      default:
        return;
    }
    event.preventDefault();
    moveTo(target);
  }

  function choose(day: DayKey) {
    focused.value = day;
    if (byDay.has(day)) browser.selectedDay.value = day;
  }

  const monthLabel = formatMonth(month, lng);
  const headingId = `${id}-month`;
  const hintId = `${id}-hint`;
  const hasSlots = byDay.size > 0;

  return (
    <div class="month-calendar">
      <div class="month-calendar__nav">
        <button
          type="button"
          class="icon-button month-calendar__step"
          aria-label={t('booking.calendar.previous_month')}
          title={t('booking.calendar.previous_month')}
          disabled={!browser.canGoBack}
          onClick={() => void browser.show(addMonths(month, -1))}
        >
          <span aria-hidden="true">‹</span>
        </button>
        <h3 id={headingId} class="month-calendar__month" aria-live="polite">
          {monthLabel}
        </h3>
        <button
          type="button"
          class="icon-button month-calendar__step"
          aria-label={t('booking.calendar.next_month')}
          title={t('booking.calendar.next_month')}
          disabled={!browser.canGoForward}
          onClick={() => void browser.show(addMonths(month, 1))}
        >
          <span aria-hidden="true">›</span>
        </button>
      </div>
      <table
        ref={gridRef}
        role="grid"
        class="month-calendar__grid"
        aria-labelledby={headingId}
        aria-describedby={hintId}
        aria-busy={loading}
      >
        <thead>
          <tr>
            {weekdayNames(lng, first).map((name) => (
              <th key={name.long} scope="col" abbr={name.long}>
                <span aria-hidden="true">{name.short}</span>
                <span class="visually-hidden">{name.long}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {weeksOf(days, first).map((week) => (
            <tr key={week.find(Boolean)}>
              {week.map((day, index) => {
                if (!day) return <td key={`empty-${index}`} role="gridcell" />;
                const count = byDay.get(day)?.length ?? 0;
                const date = formatDay(day, lng);
                let label = count
                  ? t('booking.calendar.day_available', { date, count })
                  : t('booking.calendar.day_unavailable', { date });
                if (day === today) label = t('booking.calendar.today', { label });
                const classes = ['day'];
                if (count) classes.push('day--available');
                if (day === selected) classes.push('day--selected');
                if (day === today) classes.push('day--today');
                return (
                  <td key={day} role="gridcell" aria-selected={day === selected}>
                    <button
                      type="button"
                      class={classes.join(' ')}
                      data-day={day}
                      tabIndex={day === roving ? 0 : -1}
                      aria-label={label}
                      aria-disabled={count ? undefined : true}
                      aria-current={day === today ? 'date' : undefined}
                      onClick={() => choose(day)}
                      onKeyDown={(event) => onKeyDown(event, day)}
                    >
                      {Number(day.slice(8))}
                    </button>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p id={hintId} class="visually-hidden">
        {t('booking.calendar.keyboard_hint')}
      </p>
      <div class="month-calendar__status">
        {loading ? (
          <p role="status" class="month-calendar__loading">
            <span class="spinner spinner--small" aria-hidden="true" />
            {t('booking.calendar.loading')}
          </p>
        ) : error ? (
          <div class="form-error" role="alert">
            <p>
              {t('booking.calendar.load_failed')} {t(error)}
            </p>
            <button type="button" class="button" onClick={() => void browser.load()}>
              {t('booking.calendar.retry')}
            </button>
          </div>
        ) : !hasSlots ? (
          <p role="status" class="month-calendar__empty">
            {t('booking.calendar.none_this_month', { month: monthLabel })}{' '}
            {browser.canGoForward ? (
              <button
                type="button"
                class="link-button"
                onClick={() => void browser.show(addMonths(month, 1))}
              >
                {t('booking.calendar.next_with_times')}
              </button>
            ) : null}
          </p>
        ) : null}
      </div>
    </div>
  );
}
