// The event editor: create (POST), change (PUT) or delete (DELETE, after a confirm step) an event
// of the user's calendar. Events made by bookings and invitations from others open read-only.
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { Dialog } from '../components/dialog';
import { language, t } from '../i18n';
import { errorText, type Answer, type AttendeeInput, type EventAttendee, type EventInput } from './calendar_api';
import {
  addDays,
  dayKeyIn,
  formatDateTime,
  formatLongDay,
  timeIn,
  utcDay,
  weekdayNames,
  zonedInstant,
  isoUtc,
  type DayKey,
} from './calendar_dates';
import { isBookingEvent, isInvitation, type CalendarModel, type ShownEvent } from './calendar_model';
import {
  buildRrule,
  byDayOf,
  kByDay,
  noRecurrence,
  parseRrule,
  type ByDay,
  type Ending,
  type Frequency,
  type Recurrence,
} from './recurrence';
import { TimeZoneField } from './time_zone_field';

interface Props {
  model: CalendarModel;
  /** The instance clicked, or null for a new event. */
  event: ShownEvent | null;
  /** Where a new event starts. */
  defaults: { day: DayKey; time: string };
  /** This server's name, for invitees typed as a bare user name ("bob"). */
  serverName: string;
  /** The signed-in user: their own answer to an invitation. */
  userId: string;
  onClose: () => void;
  /** After a save or a delete: reload the period. */
  onChanged: () => void;
}

const kFrequencies: Frequency[] = ['none', 'daily', 'weekly', 'monthly', 'yearly'];
const kUserIdRe = /^@[^:\s]+:\S+$/;
const kLocalpartRe = /^[a-z0-9._=/+-]+$/;
const kEmailRe = /^[^\s@<>]+@[^\s@<>]+$/;
const kNamedEmailRe = /^(.*?)\s*<([^\s@<>]+@[^\s@<>]+)>$/;

/** "@bob:localhost", "bob", "ana@example.org" or "Ana Lima <ana@example.org>", else null. */
export function parseInvitee(text: string, serverName: string): AttendeeInput | null {
  const value = text.trim();
  if (kUserIdRe.test(value)) return { user_id: value };
  const named = kNamedEmailRe.exec(value);
  if (named) return { email: named[2], name: named[1].replace(/^"|"$/g, '') };
  if (kEmailRe.test(value)) return { email: value, name: '' };
  if (serverName && kLocalpartRe.test(value)) return { user_id: `@${value}:${serverName}` };
  return null;
}

const inviteeKey = (a: AttendeeInput) => ('user_id' in a ? a.user_id : a.email.toLowerCase());
const inviteeLabel = (a: AttendeeInput) =>
  'user_id' in a ? a.user_id : a.name ? `${a.name} <${a.email}>` : a.email;

/** The whole editor; `event` recurring → the form holds the series' first instance. */
export function EventDialog(props: Props) {
  const { model, event } = props;
  const series = useSignal<ShownEvent | null>(event && !event.recurring ? event : null);
  const loadError = useSignal<string | null>(null);
  useEffect(() => {
    if (!event?.recurring) return;
    let gone = false;
    model.seriesStart(event).then(
      (first) => !gone && (series.value = first),
      () => !gone && (series.value = event), // the instance itself will do
    );
    return () => {
      gone = true;
    };
  }, []);

  const readOnly = event && (isBookingEvent(event) || isInvitation(event));
  const title = event
    ? readOnly
      ? event.summary
      : t('calendar.event.edit_title')
    : t('calendar.event.new_title');
  return (
    <Dialog titleId="event-dialog-title" title={title} onClose={props.onClose}>
      {readOnly ? (
        <EventDetails {...props} event={event} />
      ) : event && !series.value ? (
        <p class="dialog__body" role="status">
          {loadError.value ?? t('calendar.loading')}
        </p>
      ) : (
        <EventForm {...props} event={series.value} instance={event} />
      )}
    </Dialog>
  );
}

const kAnswers: Answer[] = ['ACCEPTED', 'TENTATIVE', 'DECLINED'];

/** "ACCEPTED" → the words for it (any other PARTSTAT: no answer yet). */
function answerLabel(partstat: string): string {
  switch (partstat) {
    case 'ACCEPTED':
      return t('calendar.event.answer.accepted');
    case 'TENTATIVE':
      return t('calendar.event.answer.tentative');
    case 'DECLINED':
      return t('calendar.event.answer.declined');
    default:
      return t('calendar.event.answer.none');
  }
}

const attendeeLabel = (a: EventAttendee) => a.name || a.user_id || a.email;

/** The invitee's own answer: three toggle buttons, the one in force pressed. */
function AnswerButtons({ model, event, userId, onChanged }: Props & { event: ShownEvent }) {
  const mine = event.attendees.find((a) => a.user_id === userId)?.partstat ?? 'NEEDS-ACTION';
  const chosen = useSignal(mine);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const answer = async (partstat: Answer) => {
    busy.value = true;
    error.value = null;
    try {
      await model.api.reply(event.calendar, event.object, partstat);
      chosen.value = partstat;
      onChanged();
    } catch (e) {
      error.value = errorText(e);
    } finally {
      busy.value = false;
    }
  };
  return (
    <div class="event-details__answer">
      <p id="event-answer-label" class="event-details__answer-label">
        {t('calendar.event.answer.question')}
      </p>
      <div role="group" aria-labelledby="event-answer-label" class="event-details__answer-buttons">
        {kAnswers.map((a) => (
          <button
            key={a}
            type="button"
            class={`button${chosen.value === a ? ' button--primary' : ''}`}
            aria-pressed={chosen.value === a}
            disabled={busy.value}
            onClick={() => void answer(a)}
          >
            {t(`calendar.event.answer.${a.toLowerCase()}_action`)}
          </button>
        ))}
      </div>
      {error.value ? (
        <p class="form-error" role="alert">
          {error.value}
        </p>
      ) : null}
    </div>
  );
}

/** A booking's event or an invitation: what, when, where, who — and, invited, one's answer. */
function EventDetails(props: Props & { event: ShownEvent }) {
  const { event, onClose } = props;
  const zone = props.model.zone;
  const lng = language.value;
  const when = event.all_day
    ? formatLongDay(utcDay(event.start), lng)
    : `${formatDateTime(new Date(event.start), zone, lng)} – ${formatDateTime(new Date(event.end), zone, lng)}`;
  const link = /^https?:\/\//.test(event.location) ? event.location : null;
  return (
    <div class="event-editor event-details">
      <p class="event-details__note">
        {isBookingEvent(event)
          ? t('calendar.event.booking_read_only')
          : t('calendar.event.invitation_from', { name: event.invitation?.organizer ?? '' })}
      </p>
      {isInvitation(event) ? <AnswerButtons {...props} /> : null}
      <dl class="event-details__list">
        <dt>{t('calendar.event.when')}</dt>
        <dd>{when}</dd>
        {event.location ? (
          <>
            <dt>{t('calendar.event.location')}</dt>
            <dd>
              {link ? (
                <a href={link} target="_blank" rel="noopener noreferrer">
                  {t('calendar.event.join')}
                </a>
              ) : (
                event.location
              )}
            </dd>
          </>
        ) : null}
        {event.description ? (
          <>
            <dt>{t('calendar.event.description')}</dt>
            <dd class="event-details__description">{event.description}</dd>
          </>
        ) : null}
        {event.attendees.length ? (
          <>
            <dt>{t('calendar.event.invitees')}</dt>
            <dd>
              <ul class="event-details__people">
                {event.attendees.map((a) => (
                  <li key={a.user_id || a.email}>
                    {attendeeLabel(a)}
                    {a.email && a.name ? ` <${a.email}>` : ''}
                    <span class="event-details__partstat"> — {answerLabel(a.partstat)}</span>
                  </li>
                ))}
              </ul>
            </dd>
          </>
        ) : null}
      </dl>
      <div class="dialog__actions">
        <button type="button" class="button button--primary" onClick={onClose} autofocus>
          {t('calendar.close')}
        </button>
      </div>
    </div>
  );
}

interface FormProps extends Props {
  /** The series' first instance (the event to write), null for a new event. */
  event: ShownEvent | null;
  /** The instance that was opened. */
  instance: ShownEvent | null;
}

function initialTimes(event: ShownEvent | null, zone: string, defaults: Props['defaults']) {
  if (!event) {
    const [h, m] = defaults.time.split(':').map(Number);
    const endHour = Math.min(h + 1, 23);
    const end = `${String(endHour).padStart(2, '0')}:${String(h + 1 > 23 ? 59 : m).padStart(2, '0')}`;
    return { startDay: defaults.day, startTime: defaults.time, endDay: defaults.day, endTime: end };
  }
  if (event.all_day) {
    const startDay = utcDay(event.start);
    return {
      startDay,
      startTime: '09:00',
      endDay: addDays(utcDay(event.end), -1) < startDay ? startDay : addDays(utcDay(event.end), -1),
      endTime: '10:00',
    };
  }
  const start = new Date(event.start);
  const end = new Date(event.end);
  return {
    startDay: dayKeyIn(start, zone),
    startTime: timeIn(start, zone),
    endDay: dayKeyIn(end, zone),
    endTime: timeIn(end, zone),
  };
}

function EventForm({ model, event, instance, defaults, serverName, onClose, onChanged }: FormProps) {
  const lng = language.value;
  const initial = initialTimes(event, model.zone, defaults);
  const summary = useSignal(event?.summary ?? '');
  const allDay = useSignal(event?.all_day ?? false);
  const startDay = useSignal(initial.startDay);
  const startTime = useSignal(initial.startTime);
  const endDay = useSignal(initial.endDay);
  const endTime = useSignal(initial.endTime);
  const zone = useSignal(model.zone);
  const recurrence = useSignal<Recurrence>(event ? parseRrule(event.rrule) : noRecurrence());
  const location = useSignal(event?.location ?? '');
  const description = useSignal(event?.description ?? '');
  const invitees = useSignal<AttendeeInput[]>(
    (event?.attendees ?? []).map((a) =>
      a.user_id ? { user_id: a.user_id } : { email: a.email, name: a.name },
    ),
  );
  const inviteeText = useSignal('');
  const inviteeError = useSignal('');
  const video = useSignal(false);
  const calendar = useSignal(event?.calendar ?? model.calendars.value[0]?.id ?? 'personal');
  const busy = useSignal(false);
  const error = useSignal('');
  const invalid = useSignal<'summary' | 'end' | null>(null);
  const confirmDelete = useSignal(false);
  const question = useRef<HTMLParagraphElement>(null);
  // The form may come after the dialog opened (a series' first instance is fetched first), and
  // the delete question replaces the button that had the focus: move the focus by hand.
  useEffect(() => {
    if (confirmDelete.value) question.current?.focus();
    else document.getElementById('event-summary')?.focus();
  }, [confirmDelete.value]);

  const rule = recurrence.value;
  const setRule = (change: Partial<Recurrence>) => (recurrence.value = { ...recurrence.value, ...change });

  /** Moving the start keeps the duration, as calendar apps do. */
  function moveStart(day: string, time: string) {
    const before = zonedInstant(startDay.value, startTime.value, zone.value).getTime();
    const endBefore = zonedInstant(endDay.value, endTime.value, zone.value).getTime();
    const dayShift = Math.round(
      (Date.parse(`${day}T00:00:00Z`) - Date.parse(`${startDay.value}T00:00:00Z`)) / 86_400_000,
    );
    startDay.value = day;
    startTime.value = time;
    if (allDay.value) {
      endDay.value = addDays(endDay.value, dayShift);
      return;
    }
    const after = zonedInstant(day, time, zone.value).getTime();
    const end = new Date(after + Math.max(endBefore - before, 0));
    endDay.value = dayKeyIn(end, zone.value);
    endTime.value = timeIn(end, zone.value);
  }

  function addInvitee(): boolean {
    const text = inviteeText.value.trim();
    if (!text) return true;
    const parsed = parseInvitee(text, serverName);
    if (!parsed) {
      inviteeError.value = t('calendar.event.invitee_invalid', { value: text });
      return false;
    }
    if (!invitees.value.some((a) => inviteeKey(a) === inviteeKey(parsed))) {
      invitees.value = [...invitees.value, parsed];
    }
    inviteeText.value = '';
    inviteeError.value = '';
    return true;
  }

  async function onSubmit(submitEvent: Event) {
    submitEvent.preventDefault();
    error.value = '';
    invalid.value = null;
    if (!summary.value.trim()) {
      invalid.value = 'summary';
      error.value = t('calendar.event.summary_required');
      document.getElementById('event-summary')?.focus();
      return;
    }
    if (!addInvitee()) {
      document.getElementById('event-invitee')?.focus();
      return;
    }
    let start: string;
    let end: string;
    if (allDay.value) {
      if (endDay.value < startDay.value) {
        invalid.value = 'end';
        error.value = t('calendar.event.end_before_start');
        return;
      }
      start = startDay.value;
      end = addDays(endDay.value, 1);
    } else {
      const s = zonedInstant(startDay.value, startTime.value, zone.value);
      const e = zonedInstant(endDay.value, endTime.value, zone.value);
      if (e <= s) {
        invalid.value = 'end';
        error.value = t('calendar.event.end_before_start');
        return;
      }
      start = isoUtc(s);
      end = isoUtc(e);
    }
    const body: EventInput = {
      summary: summary.value.trim(),
      start,
      end,
      all_day: allDay.value,
      timezone: zone.value,
      location: location.value.trim(),
      description: description.value,
      attendees: invitees.value,
      language: lng,
    };
    const rrule = buildRrule(rule, startDay.value, allDay.value, zone.value);
    if (rrule) body.rrule = rrule;
    if (!event) body.video_meeting = video.value;
    busy.value = true;
    try {
      if (event) await model.api.updateEvent(event.calendar, event.object, body);
      else await model.api.createEvent(calendar.value, body);
      onChanged();
      onClose();
    } catch (cause) {
      error.value = errorText(cause);
      busy.value = false;
    }
  }

  async function onDelete() {
    if (!event) return;
    busy.value = true;
    error.value = '';
    try {
      await model.api.deleteEvent(event.calendar, event.object);
      onChanged();
      onClose();
    } catch (cause) {
      error.value = errorText(cause);
      busy.value = false;
    }
  }

  if (confirmDelete.value && event) {
    return (
      <div class="event-editor">
        <p class="dialog__body" id="event-delete-question" tabIndex={-1} ref={question}>
          {t('calendar.event.delete_question', { title: event.summary })}
        </p>
        {event.recurring ? <p class="dialog__body">{t('calendar.event.delete_series')}</p> : null}
        {event.attendees.length ? <p class="dialog__body">{t('calendar.event.delete_invitees')}</p> : null}
        <p class="form-error" role="alert">
          {error.value}
        </p>
        <div class="dialog__actions">
          <button type="button" class="button" onClick={() => (confirmDelete.value = false)}>
            {t('calendar.event.keep')}
          </button>
          <button type="button" class="button button--danger" disabled={busy.value} onClick={onDelete}>
            {busy.value ? t('calendar.event.deleting') : t('calendar.event.delete_confirm')}
          </button>
        </div>
      </div>
    );
  }

  const weekdays = weekdayNames(lng, 1); // Monday first, as kByDay
  const calendars = model.calendars.value;
  return (
    <form class="dialog__form event-editor" onSubmit={onSubmit} noValidate>
      {instance?.recurring ? <p class="dialog__body">{t('calendar.event.series_hint')}</p> : null}
      <div class="field">
        <label for="event-summary">{t('calendar.event.summary')}</label>
        <input
          id="event-summary"
          type="text"
          maxLength={500}
          value={summary.value}
          aria-invalid={invalid.value === 'summary'}
          autofocus
          onInput={(e) => {
            summary.value = e.currentTarget.value;
            invalid.value = null;
          }}
        />
      </div>
      {calendars.length > 1 && !event ? (
        <div class="field">
          <label for="event-calendar">{t('calendar.event.calendar')}</label>
          <select id="event-calendar" value={calendar.value} onChange={(e) => (calendar.value = e.currentTarget.value)}>
            {calendars.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <label class="check">
        <input type="checkbox" checked={allDay.value} onChange={(e) => (allDay.value = e.currentTarget.checked)} />
        {t('calendar.event.all_day')}
      </label>
      <fieldset class="event-editor__when">
        <legend class="visually-hidden">{t('calendar.event.when')}</legend>
        <div class="field">
          <label for="event-start-date">{t('calendar.event.start_date')}</label>
          <input
            id="event-start-date"
            type="date"
            required
            value={startDay.value}
            onChange={(e) => e.currentTarget.value && moveStart(e.currentTarget.value, startTime.value)}
          />
        </div>
        {allDay.value ? null : (
          <div class="field">
            <label for="event-start-time">{t('calendar.event.start_time')}</label>
            <input
              id="event-start-time"
              type="time"
              required
              value={startTime.value}
              onChange={(e) => e.currentTarget.value && moveStart(startDay.value, e.currentTarget.value)}
            />
          </div>
        )}
        <div class="field">
          <label for="event-end-date">{t('calendar.event.end_date')}</label>
          <input
            id="event-end-date"
            type="date"
            required
            value={endDay.value}
            aria-invalid={invalid.value === 'end'}
            onChange={(e) => (endDay.value = e.currentTarget.value)}
          />
        </div>
        {allDay.value ? null : (
          <div class="field">
            <label for="event-end-time">{t('calendar.event.end_time')}</label>
            <input
              id="event-end-time"
              type="time"
              required
              value={endTime.value}
              aria-invalid={invalid.value === 'end'}
              onChange={(e) => (endTime.value = e.currentTarget.value)}
            />
          </div>
        )}
      </fieldset>
      {allDay.value ? null : (
        <TimeZoneField id="event-zone" value={zone.value} onChange={(z) => (zone.value = z)} />
      )}

      <fieldset class="event-editor__repeat">
        <legend>{t('calendar.event.repeat')}</legend>
        <div class="field">
          <label for="event-frequency">{t('calendar.event.frequency')}</label>
          <select
            id="event-frequency"
            value={rule.frequency}
            onChange={(e) => {
              const frequency = e.currentTarget.value as Frequency;
              setRule({
                frequency,
                byDay: frequency === 'weekly' && !rule.byDay.length ? [byDayOf(startDay.value)] : rule.byDay,
              });
            }}
          >
            {(rule.frequency === 'custom' ? [...kFrequencies, 'custom' as const] : kFrequencies).map((f) => (
              <option key={f} value={f}>
                {t(`calendar.repeat.${f}`)}
              </option>
            ))}
          </select>
        </div>
        {rule.frequency === 'custom' ? <p class="field__hint">{t('calendar.repeat.custom_hint', { rule: rule.raw })}</p> : null}
        {rule.frequency !== 'none' && rule.frequency !== 'custom' ? (
          <>
            <div class="field field--inline">
              <label for="event-interval">{t(`calendar.repeat.interval_${rule.frequency}`)}</label>
              <input
                id="event-interval"
                type="number"
                min={1}
                max={99}
                value={rule.interval}
                onInput={(e) => setRule({ interval: Math.max(1, Number(e.currentTarget.value) || 1) })}
              />
            </div>
            {rule.frequency === 'weekly' ? (
              <fieldset class="weekday-checks">
                <legend>{t('calendar.repeat.on_days')}</legend>
                {kByDay.map((code: ByDay, i) => (
                  <label key={code} class="weekday-checks__day">
                    <input
                      type="checkbox"
                      checked={rule.byDay.includes(code)}
                      onChange={(e) =>
                        setRule({
                          byDay: e.currentTarget.checked
                            ? [...rule.byDay, code]
                            : rule.byDay.filter((d) => d !== code),
                        })
                      }
                    />
                    <span aria-hidden="true">{weekdays[i].short}</span>
                    <span class="visually-hidden">{weekdays[i].long}</span>
                  </label>
                ))}
              </fieldset>
            ) : null}
            <fieldset class="repeat-ending">
              <legend>{t('calendar.repeat.ends')}</legend>
              {(['never', 'count', 'until'] as Ending[]).map((ending) => (
                <div class="repeat-ending__choice" key={ending}>
                  <label class="check">
                    <input
                      type="radio"
                      name="event-ending"
                      value={ending}
                      checked={rule.ending === ending}
                      onChange={() =>
                        setRule({
                          ending,
                          until: ending === 'until' && !rule.until ? addDays(startDay.value, 28) : rule.until,
                        })
                      }
                    />
                    {t(`calendar.repeat.ends_${ending}`)}
                  </label>
                  {ending === 'count' && rule.ending === 'count' ? (
                    <input
                      type="number"
                      min={1}
                      max={999}
                      aria-label={t('calendar.repeat.count_label')}
                      value={rule.count}
                      onInput={(e) => setRule({ count: Math.max(1, Number(e.currentTarget.value) || 1) })}
                    />
                  ) : null}
                  {ending === 'until' && rule.ending === 'until' ? (
                    <input
                      type="date"
                      aria-label={t('calendar.repeat.until_label')}
                      value={rule.until}
                      min={startDay.value}
                      onChange={(e) => setRule({ until: e.currentTarget.value })}
                    />
                  ) : null}
                </div>
              ))}
            </fieldset>
          </>
        ) : null}
      </fieldset>

      <div class="field">
        <label for="event-location">{t('calendar.event.location')}</label>
        <input id="event-location" type="text" maxLength={1000} value={location.value} onInput={(e) => (location.value = e.currentTarget.value)} />
      </div>
      {event ? null : (
        <label class="check">
          <input type="checkbox" checked={video.value} onChange={(e) => (video.value = e.currentTarget.checked)} />
          {t('calendar.event.video_meeting')}
        </label>
      )}
      <div class="field">
        <label for="event-description">{t('calendar.event.description')}</label>
        <textarea id="event-description" rows={3} maxLength={10000} value={description.value} onInput={(e) => (description.value = e.currentTarget.value)} />
      </div>

      <div class="field">
        <label for="event-invitee">{t('calendar.event.invitees')}</label>
        <div class="invitee-input">
          <input
            id="event-invitee"
            type="text"
            value={inviteeText.value}
            aria-describedby="event-invitee-hint event-invitee-error"
            aria-invalid={Boolean(inviteeError.value)}
            onInput={(e) => {
              inviteeText.value = e.currentTarget.value;
              inviteeError.value = '';
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addInvitee();
              }
            }}
          />
          <button type="button" class="button" onClick={addInvitee}>
            {t('calendar.event.add_invitee')}
          </button>
        </div>
        <p id="event-invitee-hint" class="field__hint">
          {t('calendar.event.invitee_hint', { example: `@bob:${serverName || 'example.org'}` })}
        </p>
        <p id="event-invitee-error" class="form-error" role="alert">
          {inviteeError.value}
        </p>
        {invitees.value.length ? (
          <ul class="invitee-list" aria-label={t('calendar.event.invitee_list')}>
            {invitees.value.map((a) => (
              <li key={inviteeKey(a)} class="invitee-list__item">
                <span>{inviteeLabel(a)}</span>
                <button
                  type="button"
                  class="icon-button invitee-list__remove"
                  aria-label={t('calendar.event.remove_invitee', { name: inviteeLabel(a) })}
                  onClick={() => (invitees.value = invitees.value.filter((b) => inviteeKey(b) !== inviteeKey(a)))}
                >
                  <span aria-hidden="true">×</span>
                </button>
              </li>
            ))}
          </ul>
        ) : null}
      </div>

      <p class="form-error" role="alert">
        {error.value}
      </p>
      <div class="dialog__actions">
        {event ? (
          <button type="button" class="button button--danger event-editor__delete" onClick={() => (confirmDelete.value = true)}>
            {t('calendar.event.delete')}
          </button>
        ) : null}
        <button type="button" class="button" onClick={onClose}>
          {t('calendar.cancel')}
        </button>
        <button type="submit" class="button button--primary" disabled={busy.value}>
          {busy.value ? t('calendar.saving') : t('calendar.save')}
        </button>
      </div>
    </form>
  );
}
