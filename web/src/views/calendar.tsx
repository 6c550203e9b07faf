// The calendar section of the workspace (`/calendar`): the week and month views of the user's
// calendars with the event editor, their booking types, the bookings visitors made, and app
// passwords for calendar apps. Loaded on demand by calendar_section.tsx, with its own words
// (locales/calendar.*.json) and styles, so the chat never downloads it.
import { useSignal, useSignalEffect } from '@preact/signals';
import { useMemo } from 'preact/hooks';
import '../calendar/calendar.css';
import '../calendar/calendar_locale';
import { AppPasswordsPanel } from '../calendar/app_passwords_panel';
import { CalendarApi } from '../calendar/calendar_api';
import { formatCivil, formatRange, type DayKey } from '../calendar/calendar_dates';
import { CalendarModel, type CalendarMode, type ShownEvent } from '../calendar/calendar_model';
import { BookingTypesPanel } from '../calendar/booking_types_panel';
import { BookingsPanel } from '../calendar/bookings_panel';
import { EventDialog } from '../calendar/event_dialog';
import { MonthView } from '../calendar/month_view';
import { WeekView } from '../calendar/week_view';
import { language, t } from '../i18n';
import type { Session } from '../session';

type Panel = 'calendar' | 'types' | 'bookings' | 'apps';
const kPanels: Panel[] = ['calendar', 'types', 'bookings', 'apps'];

interface Editing {
  event: ShownEvent | null;
  defaults: { day: DayKey; time: string };
}

/** "@alice:example.org" → "alice", "example.org". */
function splitUserId(userId: string): { localpart: string; server: string } {
  const match = /^@([^:]+):(.+)$/.exec(userId);
  return match ? { localpart: match[1], server: match[2] } : { localpart: userId, server: '' };
}

export function CalendarView({ session }: { session: Session }) {
  const lng = language.value;
  const model = useMemo(() => new CalendarModel(new CalendarApi(session.accessToken)), [session.accessToken]);
  const { localpart, server } = splitUserId(session.userId);
  const panel = useSignal<Panel>('calendar');
  const editing = useSignal<Editing | null>(null);

  useSignalEffect(() => {
    if (panel.value === 'calendar') void model.load(language.value);
  });

  const reload = () => void model.load(language.peek());
  const mode = model.mode.value;
  const days = model.days(lng);
  const period =
    mode === 'week'
      ? formatRange(days[0], days[6], lng)
      : formatCivil(model.anchor.value, lng, { month: 'long', year: 'numeric' });

  function setMode(next: CalendarMode) {
    model.mode.value = next;
  }

  function newEvent() {
    const today = model.today();
    const day = days.includes(today) ? today : mode === 'month' ? model.anchor.value : days[0];
    const hour = Math.min(new Date().getHours() + 1, 23);
    editing.value = { event: null, defaults: { day, time: `${String(hour).padStart(2, '0')}:00` } };
  }

  return (
    <div class="calendar">
      <header class="calendar__header">
        <h1 class="calendar__title">{t('calendar.heading')}</h1>
        <nav class="calendar__tabs" aria-label={t('calendar.sections')}>
          <ul>
            {kPanels.map((p) => (
              <li key={p}>
                <button
                  type="button"
                  class={panel.value === p ? 'calendar__tab calendar__tab--active' : 'calendar__tab'}
                  aria-current={panel.value === p ? 'page' : undefined}
                  onClick={() => (panel.value = p)}
                >
                  {t(`calendar.panel.${p}`)}
                </button>
              </li>
            ))}
          </ul>
        </nav>
      </header>

      {panel.value === 'calendar' ? (
        <section class="calendar__body" aria-labelledby="calendar-period">
          <div class="calendar__toolbar" role="toolbar" aria-label={t('calendar.toolbar')}>
            <button type="button" class="button" onClick={() => (model.anchor.value = model.today())}>
              {t('calendar.today')}
            </button>
            <button
              type="button"
              class="icon-button calendar__arrow"
              aria-label={t(mode === 'week' ? 'calendar.previous_week' : 'calendar.previous_month')}
              title={t(mode === 'week' ? 'calendar.previous_week' : 'calendar.previous_month')}
              onClick={() => model.step(-1)}
            >
              <span aria-hidden="true">‹</span>
            </button>
            <button
              type="button"
              class="icon-button calendar__arrow"
              aria-label={t(mode === 'week' ? 'calendar.next_week' : 'calendar.next_month')}
              title={t(mode === 'week' ? 'calendar.next_week' : 'calendar.next_month')}
              onClick={() => model.step(1)}
            >
              <span aria-hidden="true">›</span>
            </button>
            <h2 id="calendar-period" class="calendar__period" aria-live="polite">
              {period}
            </h2>
            <div class="segmented" role="group" aria-label={t('calendar.view')}>
              {(['week', 'month'] as CalendarMode[]).map((m) => (
                <button
                  key={m}
                  type="button"
                  class={mode === m ? 'segmented__item segmented__item--active' : 'segmented__item'}
                  aria-pressed={mode === m}
                  onClick={() => setMode(m)}
                >
                  {t(`calendar.mode_${m}`)}
                </button>
              ))}
            </div>
            <button type="button" class="button button--primary" onClick={newEvent}>
              {t('calendar.new_event')}
            </button>
          </div>
          <p class="calendar__status" role="status">
            {model.loading.value ? t('calendar.loading') : ''}
          </p>
          {model.error.value ? (
            <p class="form-error" role="alert">
              {model.error.value}{' '}
              <button type="button" class="button button--small" onClick={reload}>
                {t('calendar.retry')}
              </button>
            </p>
          ) : null}
          {mode === 'week' ? (
            <WeekView
              model={model}
              days={days}
              onOpen={(event) => (editing.value = { event, defaults: { day: days[0], time: '09:00' } })}
              onCreate={(day, time) => (editing.value = { event: null, defaults: { day, time } })}
            />
          ) : (
            <MonthView
              model={model}
              days={days}
              onOpen={(event) => (editing.value = { event, defaults: { day: days[0], time: '09:00' } })}
              onShowWeek={(day) => {
                model.anchor.value = day;
                model.mode.value = 'week';
              }}
            />
          )}
          <p class="calendar__zone">{t('calendar.zone_note', { zone: model.zone })}</p>
        </section>
      ) : null}
      {panel.value === 'types' ? <BookingTypesPanel api={model.api} /> : null}
      {panel.value === 'bookings' ? <BookingsPanel api={model.api} zone={model.zone} onChanged={reload} /> : null}
      {panel.value === 'apps' ? <AppPasswordsPanel api={model.api} userName={localpart} /> : null}

      {editing.value ? (
        <EventDialog
          model={model}
          event={editing.value.event}
          defaults={editing.value.defaults}
          serverName={server}
          userId={session.userId}
          onClose={() => (editing.value = null)}
          onChanged={reload}
        />
      ) : null}
    </div>
  );
}
