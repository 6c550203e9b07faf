// The booking type editor: what a visitor books (title, link, duration, place, questions) and
// when (weekly hours per weekday, date overrides, buffers, notice, horizon, interval, daily
// maximum, seats). The server validates everything; its message is shown next to the field it
// names and in the summary above the buttons.
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { MatrixError } from '../api/matrix_client';
import { language, t } from '../i18n';
import {
  errorText,
  kWeekdayKeys,
  type BookingType,
  type BookingTypeInput,
  type DayWindows,
  type WeekdayKey,
} from './calendar_api';
import { addDays, detectTimeZone, firstWeekday, todayIn, weekdayNames } from './calendar_dates';
import { TimeZoneField } from './time_zone_field';

interface Props {
  api: { createBookingType(t: BookingTypeInput): Promise<BookingType>; updateBookingType(id: string, t: BookingTypeInput): Promise<BookingType> };
  /** The type to change, or null for a new one. */
  type: BookingType | null;
  onSaved: (type: BookingType) => void;
  onCancel: () => void;
}

type FieldId =
  | 'title'
  | 'slug'
  | 'duration'
  | 'zone'
  | 'address'
  | 'availability'
  | 'overrides'
  | 'interval'
  | 'buffers'
  | 'notice'
  | 'horizon'
  | 'max_per_day'
  | 'seats'
  | 'questions'
  | 'notify';

interface Override {
  key: number;
  date: string;
  windows: DayWindows;
}

interface Question {
  key: number;
  id: string;
  label: string;
  required: boolean;
}

interface Draft {
  title: string;
  slug: string;
  /** The user typed the slug: it no longer follows the title. */
  slugEdited: boolean;
  description: string;
  duration: number;
  timezone: string;
  video: boolean;
  address: string;
  weekly: Record<WeekdayKey, DayWindows>;
  overrides: Override[];
  bufferBefore: number;
  bufferAfter: number;
  minNotice: number;
  horizon: number;
  /** 0: slots start every `duration` minutes. */
  interval: number;
  maxPerDay: number;
  seats: number;
  questions: Question[];
  requiresConfirmation: boolean;
  notifyEmail: string;
}

let nextKey = 1;
const kDefaultHours: [string, string] = ['09:00', '17:00'];
const kSlugRe = /^[a-z0-9_-]{1,64}$/;

/** "Intro call: 30 min!" → "intro-call-30-min". */
export function slugify(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}

function draftOf(type: BookingType | null): Draft {
  const weekly = Object.fromEntries(
    kWeekdayKeys.map((d) => [d, type ? (type.availability.weekly[d] ?? []) : d === 'sat' || d === 'sun' ? [] : [kDefaultHours]]),
  ) as Record<WeekdayKey, DayWindows>;
  return {
    title: type?.title ?? '',
    slug: type?.slug ?? '',
    slugEdited: Boolean(type),
    description: type?.description ?? '',
    duration: type?.duration_min ?? 30,
    timezone: type?.timezone ?? detectTimeZone(),
    video: type ? type.location.kind === 'video' : true,
    address: type?.location.kind === 'in_person' ? type.location.address : '',
    weekly,
    overrides: Object.entries(type?.availability.overrides ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([date, windows]) => ({ key: nextKey++, date, windows })),
    bufferBefore: type?.buffer_before_min ?? 0,
    bufferAfter: type?.buffer_after_min ?? 0,
    minNotice: type?.min_notice_min ?? 0,
    horizon: type?.horizon_days ?? 60,
    interval: type?.slot_interval_min ?? 0,
    maxPerDay: type?.max_per_day ?? 0,
    seats: type?.seats ?? 1,
    questions: (type?.questions ?? []).map((q) => ({ key: nextKey++, ...q })),
    requiresConfirmation: type?.requires_confirmation ?? false,
    notifyEmail: type?.notify_email ?? '',
  };
}

function inputOf(d: Draft): BookingTypeInput {
  const used = new Set<string>();
  const questions = d.questions
    .filter((q) => q.label.trim())
    .map((q) => {
      let id = q.id || slugify(q.label).replaceAll('-', '_') || 'question';
      for (let n = 2; used.has(id); n += 1) id = `${q.id || slugify(q.label).replaceAll('-', '_')}_${n}`;
      used.add(id);
      return { id, label: q.label.trim(), required: q.required };
    });
  return {
    slug: d.slug,
    title: d.title.trim(),
    description: d.description,
    duration_min: d.duration,
    timezone: d.timezone,
    location: d.video ? { kind: 'video' } : { kind: 'in_person', address: d.address.trim() },
    availability: {
      weekly: d.weekly,
      overrides: Object.fromEntries(d.overrides.filter((o) => o.date).map((o) => [o.date, o.windows])),
    },
    buffer_before_min: d.bufferBefore,
    buffer_after_min: d.bufferAfter,
    min_notice_min: d.minNotice,
    horizon_days: d.horizon,
    slot_interval_min: d.interval,
    max_per_day: d.maxPerDay,
    seats: d.seats,
    questions,
    requires_confirmation: d.requiresConfirmation,
    notify_email: d.notifyEmail.trim(),
  };
}

/** Which field a server message is about ("slug: lower-case letters…" → slug). */
export function fieldOfMessage(error: unknown): FieldId | null {
  if (!(error instanceof MatrixError)) return null;
  if (error.errcode === 'M_IN_USE') return 'slug';
  const m = error.message.toLowerCase();
  const rules: [RegExp, FieldId][] = [
    [/^slug/, 'slug'],
    [/^title/, 'title'],
    [/^timezone/, 'zone'],
    [/location/, 'address'],
    [/override/, 'overrides'],
    [/availability/, 'availability'],
    [/^duration/, 'duration'],
    [/slot interval/, 'interval'],
    [/buffer/, 'buffers'],
    [/notice/, 'notice'],
    [/how far ahead/, 'horizon'],
    [/maximum per day/, 'max_per_day'],
    [/^seats/, 'seats'],
    [/question/, 'questions'],
    [/notify_email/, 'notify'],
  ];
  return rules.find(([re]) => re.test(m))?.[1] ?? null;
}

/** Time ranges of a day: "from" and "to" inputs, remove, add. */
function WindowsEditor({
  idPrefix,
  dayName,
  windows,
  onChange,
}: {
  idPrefix: string;
  dayName: string;
  windows: DayWindows;
  onChange: (next: DayWindows) => void;
}) {
  const set = (i: number, part: 0 | 1, value: string) =>
    onChange(windows.map((w, j) => (j === i ? ((part === 0 ? [value, w[1]] : [w[0], value]) as [string, string]) : w)));
  return (
    <div class="hours">
      <ul class="hours__list">
        {windows.map((w, i) => (
          <li key={i} class="hours__range">
            <input
              id={`${idPrefix}-${i}-from`}
              type="time"
              value={w[0]}
              aria-label={t('calendar.types.range_from', { day: dayName, n: i + 1 })}
              onChange={(e) => set(i, 0, e.currentTarget.value)}
            />
            <span aria-hidden="true">–</span>
            <input
              id={`${idPrefix}-${i}-to`}
              type="time"
              value={w[1] === '24:00' ? '23:59' : w[1]}
              aria-label={t('calendar.types.range_to', { day: dayName, n: i + 1 })}
              onChange={(e) => set(i, 1, e.currentTarget.value)}
            />
            <button
              type="button"
              class="icon-button"
              aria-label={t('calendar.types.remove_range', { day: dayName, n: i + 1 })}
              onClick={() => onChange(windows.filter((_, j) => j !== i))}
            >
              <span aria-hidden="true">×</span>
            </button>
          </li>
        ))}
      </ul>
      <button
        type="button"
        class="button button--small"
        aria-label={t('calendar.types.add_range_to', { day: dayName })}
        onClick={() => {
          const last = windows[windows.length - 1];
          const next: [string, string] = last && last[1] < '22:00' ? [last[1], `${String(Math.min(Number(last[1].slice(0, 2)) + 2, 23)).padStart(2, '0')}:00`] : kDefaultHours;
          onChange([...windows, next]);
        }}
      >
        {t('calendar.types.add_range')}
      </button>
    </div>
  );
}

export function BookingTypeForm({ api, type, onSaved, onCancel }: Props) {
  const lng = language.value;
  const draft = useSignal<Draft>(draftOf(type));
  const busy = useSignal(false);
  const error = useSignal('');
  const errorField = useSignal<FieldId | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const d = draft.value;
  const update = (patch: Partial<Draft>) => (draft.value = { ...draft.value, ...patch });
  const fieldError = (field: FieldId) =>
    errorField.value === field ? (
      <p id={`bt-${field}-error`} class="form-error">
        {error.value}
      </p>
    ) : null;
  const invalid = (field: FieldId) => errorField.value === field;
  const describedBy = (field: FieldId, hint?: string) =>
    [hint, invalid(field) ? `bt-${field}-error` : ''].filter(Boolean).join(' ') || undefined;

  async function onSubmit(event: Event) {
    event.preventDefault();
    error.value = '';
    errorField.value = null;
    let local: [FieldId, string] | null = null;
    if (!d.title.trim()) local = ['title', t('calendar.types.title_required')];
    else if (!kSlugRe.test(d.slug)) local = ['slug', t('calendar.types.slug_invalid')];
    else if (!d.video && !d.address.trim()) local = ['address', t('calendar.types.address_required')];
    if (local) {
      [errorField.value, error.value] = local;
      document.getElementById(`bt-${local[0]}`)?.focus();
      return;
    }
    busy.value = true;
    try {
      const saved = type ? await api.updateBookingType(type.id, inputOf(d)) : await api.createBookingType(inputOf(d));
      onSaved(saved);
    } catch (cause) {
      error.value = errorText(cause);
      errorField.value = fieldOfMessage(cause);
      busy.value = false;
      if (errorField.value) document.getElementById(`bt-${errorField.value}`)?.focus();
    }
  }

  const first = firstWeekday(lng);
  const names = weekdayNames(lng, first);
  // kWeekdayKeys is Monday first; weekdayNames(…, first) starts on Sunday for English.
  const order = names.map((_, i) => kWeekdayKeys[(first + i + 6) % 7]);
  const number = (field: keyof Draft, value: string) => update({ [field]: Math.max(0, Math.floor(Number(value) || 0)) });

  return (
    <form class="booking-type-form" onSubmit={onSubmit} noValidate aria-labelledby="bt-heading">
      <h2 id="bt-heading" ref={heading} tabIndex={-1} class="panel__title">
        {type ? t('calendar.types.edit_heading', { title: type.title }) : t('calendar.types.new_heading')}
      </h2>

      <fieldset class="form-section">
        <legend>{t('calendar.types.section_what')}</legend>
        <div class="field">
          <label for="bt-title">{t('calendar.types.title')}</label>
          <input
            id="bt-title"
            type="text"
            maxLength={200}
            value={d.title}
            aria-invalid={invalid('title')}
            aria-describedby={describedBy('title')}
            onInput={(e) => {
              const title = e.currentTarget.value;
              update(d.slugEdited ? { title } : { title, slug: slugify(title) });
            }}
          />
          {fieldError('title')}
        </div>
        <div class="field">
          <label for="bt-slug">{t('calendar.types.slug')}</label>
          <input
            id="bt-slug"
            type="text"
            maxLength={64}
            value={d.slug}
            aria-invalid={invalid('slug')}
            aria-describedby={describedBy('slug', 'bt-slug-hint')}
            onInput={(e) => update({ slug: e.currentTarget.value, slugEdited: true })}
          />
          <p id="bt-slug-hint" class="field__hint">
            {t('calendar.types.slug_hint', { url: `${location.origin}/book/…/${d.slug || '…'}` })}
          </p>
          {fieldError('slug')}
        </div>
        <div class="field">
          <label for="bt-description">{t('calendar.types.description')}</label>
          <textarea id="bt-description" rows={3} maxLength={5000} value={d.description} onInput={(e) => update({ description: e.currentTarget.value })} />
        </div>
        <div class="field field--short">
          <label for="bt-duration">{t('calendar.types.duration')}</label>
          <input
            id="bt-duration"
            type="number"
            min={5}
            max={1440}
            step={5}
            value={d.duration}
            aria-invalid={invalid('duration')}
            aria-describedby={describedBy('duration')}
            onInput={(e) => number('duration', e.currentTarget.value)}
          />
          {fieldError('duration')}
        </div>
        <fieldset class="choice-group">
          <legend>{t('calendar.types.location')}</legend>
          <label class="check">
            <input type="radio" name="bt-location" checked={d.video} onChange={() => update({ video: true })} />
            {t('calendar.types.location_video')}
          </label>
          <label class="check">
            <input type="radio" name="bt-location" checked={!d.video} onChange={() => update({ video: false })} />
            {t('calendar.types.location_in_person')}
          </label>
          {d.video ? null : (
            <div class="field">
              <label for="bt-address">{t('calendar.types.address')}</label>
              <input
                id="bt-address"
                type="text"
                maxLength={500}
                value={d.address}
                aria-invalid={invalid('address')}
                aria-describedby={describedBy('address')}
                onInput={(e) => update({ address: e.currentTarget.value })}
              />
              {fieldError('address')}
            </div>
          )}
        </fieldset>
      </fieldset>

      <fieldset class="form-section" id="bt-availability" tabIndex={-1} aria-describedby={describedBy('availability')}>
        <legend>{t('calendar.types.section_when')}</legend>
        <TimeZoneField
          id="bt-zone"
          value={d.timezone}
          onChange={(timezone) => update({ timezone })}
          hint={t('calendar.types.zone_hint')}
        />
        {fieldError('zone')}
        <h3 class="form-section__heading">{t('calendar.types.weekly')}</h3>
        {fieldError('availability')}
        <ul class="weekly">
          {order.map((key, i) => {
            const dayName = names[i].long;
            const windows = d.weekly[key];
            return (
              <li key={key} class="weekly__day">
                <label class="check weekly__name">
                  <input
                    type="checkbox"
                    checked={windows.length > 0}
                    onChange={(e) =>
                      update({ weekly: { ...d.weekly, [key]: e.currentTarget.checked ? [kDefaultHours] : [] } })
                    }
                  />
                  {dayName}
                </label>
                {windows.length ? (
                  <WindowsEditor
                    idPrefix={`bt-${key}`}
                    dayName={dayName}
                    windows={windows}
                    onChange={(next) => update({ weekly: { ...d.weekly, [key]: next } })}
                  />
                ) : (
                  <span class="weekly__off">{t('calendar.types.unavailable')}</span>
                )}
              </li>
            );
          })}
        </ul>

        <h3 class="form-section__heading" id="bt-overrides" tabIndex={-1}>
          {t('calendar.types.overrides')}
        </h3>
        <p class="field__hint">{t('calendar.types.overrides_hint')}</p>
        {fieldError('overrides')}
        <ul class="overrides">
          {d.overrides.map((o, i) => {
            const dateLabel = t('calendar.types.override_date', { n: i + 1 });
            const setOverride = (patch: Partial<Override>) =>
              update({ overrides: d.overrides.map((x) => (x.key === o.key ? { ...x, ...patch } : x)) });
            return (
              <li key={o.key} class="overrides__item">
                <input type="date" aria-label={dateLabel} value={o.date} onChange={(e) => setOverride({ date: e.currentTarget.value })} />
                <label class="check">
                  <input
                    type="checkbox"
                    checked={o.windows.length === 0}
                    onChange={(e) => setOverride({ windows: e.currentTarget.checked ? [] : [kDefaultHours] })}
                  />
                  {t('calendar.types.day_off')}
                </label>
                {o.windows.length ? (
                  <WindowsEditor
                    idPrefix={`bt-override-${o.key}`}
                    dayName={o.date || dateLabel}
                    windows={o.windows}
                    onChange={(windows) => setOverride({ windows })}
                  />
                ) : null}
                <button
                  type="button"
                  class="button button--small"
                  aria-label={t('calendar.types.remove_override', { date: o.date || dateLabel })}
                  onClick={() => update({ overrides: d.overrides.filter((x) => x.key !== o.key) })}
                >
                  {t('calendar.remove')}
                </button>
              </li>
            );
          })}
        </ul>
        <button
          type="button"
          class="button button--small"
          onClick={() => update({ overrides: [...d.overrides, { key: nextKey++, date: addDays(todayIn(d.timezone), 7), windows: [] }] })}
        >
          {t('calendar.types.add_override')}
        </button>
      </fieldset>

      <fieldset class="form-section">
        <legend>{t('calendar.types.section_rules')}</legend>
        <div class="rules-grid">
          {(
            [
              ['bufferBefore', 'buffers', 'buffer_before', 0, 1440],
              ['bufferAfter', 'buffers', 'buffer_after', 0, 1440],
              ['minNotice', 'notice', 'min_notice', 0, 525600],
              ['horizon', 'horizon', 'horizon', 1, 730],
              ['interval', 'interval', 'interval', 0, 1440],
              ['maxPerDay', 'max_per_day', 'max_per_day', 0, 1000],
              ['seats', 'seats', 'seats', 1, 1000],
            ] as [keyof Draft, FieldId, string, number, number][]
          ).map(([key, field, label, min, max]) => {
            const id = key === 'bufferAfter' ? 'bt-buffers-after' : `bt-${field}`;
            return (
              <div class="field" key={key}>
                <label for={id}>{t(`calendar.types.${label}`)}</label>
                <input
                  id={id}
                  type="number"
                  min={min}
                  max={max}
                  value={d[key] as number}
                  aria-invalid={invalid(field)}
                  aria-describedby={describedBy(field, `${id}-hint`)}
                  onInput={(e) => number(key, e.currentTarget.value)}
                />
                <p id={`${id}-hint`} class="field__hint">
                  {t(`calendar.types.${label}_hint`)}
                </p>
                {key === 'bufferAfter' ? null : fieldError(field)}
              </div>
            );
          })}
        </div>
        <label class="check">
          <input type="checkbox" checked={d.requiresConfirmation} onChange={(e) => update({ requiresConfirmation: e.currentTarget.checked })} />
          {t('calendar.types.requires_confirmation')}
        </label>
        <div class="field">
          <label for="bt-notify">{t('calendar.types.notify_email')}</label>
          <input
            id="bt-notify"
            type="email"
            maxLength={254}
            value={d.notifyEmail}
            aria-invalid={invalid('notify')}
            aria-describedby={describedBy('notify', 'bt-notify-hint')}
            onInput={(e) => update({ notifyEmail: e.currentTarget.value })}
          />
          <p id="bt-notify-hint" class="field__hint">
            {t('calendar.types.notify_email_hint')}
          </p>
          {fieldError('notify')}
        </div>
      </fieldset>

      <fieldset class="form-section" id="bt-questions" tabIndex={-1}>
        <legend>{t('calendar.types.questions')}</legend>
        <p class="field__hint">{t('calendar.types.questions_hint')}</p>
        {fieldError('questions')}
        <ul class="questions">
          {d.questions.map((q, i) => {
            const setQuestion = (patch: Partial<Question>) =>
              update({ questions: d.questions.map((x) => (x.key === q.key ? { ...x, ...patch } : x)) });
            return (
              <li key={q.key} class="questions__item">
                <div class="field">
                  <label for={`bt-question-${q.key}`}>{t('calendar.types.question_label', { n: i + 1 })}</label>
                  <input id={`bt-question-${q.key}`} type="text" maxLength={500} value={q.label} onInput={(e) => setQuestion({ label: e.currentTarget.value })} />
                </div>
                <label class="check">
                  <input type="checkbox" checked={q.required} onChange={(e) => setQuestion({ required: e.currentTarget.checked })} />
                  {t('calendar.types.question_required')}
                </label>
                <button
                  type="button"
                  class="button button--small"
                  aria-label={t('calendar.types.remove_question', { n: i + 1 })}
                  onClick={() => update({ questions: d.questions.filter((x) => x.key !== q.key) })}
                >
                  {t('calendar.remove')}
                </button>
              </li>
            );
          })}
        </ul>
        <button
          type="button"
          class="button button--small"
          onClick={() => update({ questions: [...d.questions, { key: nextKey++, id: '', label: '', required: false }] })}
        >
          {t('calendar.types.add_question')}
        </button>
      </fieldset>

      <p class="form-error" role="alert">
        {error.value}
      </p>
      <div class="form-actions">
        <button type="button" class="button" onClick={onCancel}>
          {t('calendar.cancel')}
        </button>
        <button type="submit" class="button button--primary" disabled={busy.value}>
          {busy.value ? t('calendar.saving') : type ? t('calendar.save') : t('calendar.types.create')}
        </button>
      </div>
    </form>
  );
}
