// The visitor's details for a chosen slot: name, e-mail, the owner's questions, notes and
// consent, checked here first (each problem said beside its field, the first one focused),
// then sent. A slot someone took meanwhile goes back to the page (onSlotTaken).
import { signal, useSignal, type Signal } from '@preact/signals';
import { language, t } from '../i18n';
import {
  bookingErrorKey,
  createBooking,
  isSlotTaken,
  type CreatedBooking,
  type PublicBookingType,
  type Slot,
} from './booking_api';
import { describeTime } from './booking_details';
import { FocusedHeading } from './booking_layout';
import { MatrixError } from '../api/matrix_client';

/** What the visitor typed, kept by the page so going back to change the time loses nothing. */
export interface BookingFormValues {
  name: Signal<string>;
  email: Signal<string>;
  notes: Signal<string>;
  answers: Signal<Record<string, string>>;
  consent: Signal<boolean>;
}

export function newFormValues(): BookingFormValues {
  return {
    name: signal(''),
    email: signal(''),
    notes: signal(''),
    answers: signal({}),
    consent: signal(false),
  };
}

// Loose on purpose: the server has the last word; this catches typos such as a missing @.
const kEmailRe = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const kMaxName = 200;
const kMaxNotes = 5000;
const kMaxAnswer = 2000;

interface Props {
  type: PublicBookingType;
  ownerName: string;
  user: string;
  slot: Slot;
  zone: string;
  values: BookingFormValues;
  onBooked: (booking: CreatedBooking) => void;
  onSlotTaken: () => void;
  onChangeTime: () => void;
}

type Errors = Record<string, string>; // field id → locale key

export function BookingForm(props: Props) {
  const { type, ownerName, slot, zone, values } = props;
  const errors = useSignal<Errors>({});
  const submitting = useSignal(false);
  const failure = useSignal<string | null>(null);
  const questionId = (index: number) => `booking-question-${index}`;

  function validate(): Errors {
    const found: Errors = {};
    if (!values.name.value.trim()) found['booking-name'] = 'booking.form.errors.name_required';
    const email = values.email.value.trim();
    if (!email) found['booking-email'] = 'booking.form.errors.email_required';
    else if (!kEmailRe.test(email)) found['booking-email'] = 'booking.form.errors.email_invalid';
    type.questions.forEach((question, index) => {
      if (question.required && !(values.answers.value[question.id] ?? '').trim()) {
        found[questionId(index)] = 'booking.form.errors.answer_required';
      }
    });
    if (!values.consent.value) found['booking-consent'] = 'booking.form.errors.consent_required';
    return found;
  }

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (submitting.value) return;
    const found = validate();
    errors.value = found;
    failure.value = null;
    // validate() finds problems in page order: the first one gets the focus.
    const first = Object.keys(found)[0];
    if (first) {
      document.getElementById(first)?.focus();
      return;
    }
    submitting.value = true;
    try {
      const answers: Record<string, string> = {};
      for (const question of type.questions) {
        answers[question.id] = (values.answers.value[question.id] ?? '').trim();
      }
      const booking = await createBooking(props.user, type.slug, {
        start: slot.start,
        name: values.name.value.trim(),
        email: values.email.value.trim(),
        notes: values.notes.value.trim(),
        answers,
        timezone: zone,
        language: language.value,
        consent: true,
      });
      props.onBooked(booking);
    } catch (error) {
      if (isSlotTaken(error)) {
        props.onSlotTaken();
        return;
      }
      const key = bookingErrorKey(error);
      failure.value = t(key, { detail: error instanceof MatrixError ? error.message : '' });
    } finally {
      submitting.value = false;
    }
  }

  const errorCount = Object.keys(errors.value).length;
  const { date, time } = describeTime(slot.start, slot.end, zone);

  /** aria and the message for a field with a problem. */
  function problem(id: string) {
    const key = errors.value[id];
    return {
      invalid: !!key,
      describedBy: key ? `${id}-error` : undefined,
      message: key ? (
        <p id={`${id}-error`} class="field__error">
          {t(key)}
        </p>
      ) : null,
    };
  }

  function clear(id: string) {
    if (errors.value[id]) {
      const rest = { ...errors.value };
      delete rest[id];
      errors.value = rest;
    }
  }

  const name = problem('booking-name');
  const email = problem('booking-email');
  const consent = problem('booking-consent');
  const optional = ` (${t('booking.form.optional')})`;

  return (
    <section class="booking-step" aria-labelledby="booking-form-heading">
      <FocusedHeading id="booking-form-heading" class="booking-step__heading">
        {t('booking.form.heading')}
      </FocusedHeading>
      <div class="booking-chosen">
        <p>
          <span class="booking-chosen__label">{t('booking.form.chosen_time')}</span>
          <span class="booking-chosen__when">
            {date}, {time}
          </span>
          <span class="booking-chosen__zone">{zone.replaceAll('_', ' ')}</span>
        </p>
        <button type="button" class="button" onClick={props.onChangeTime}>
          {t('booking.form.change_time')}
        </button>
      </div>

      <form class="booking-form" onSubmit={onSubmit} noValidate>
        {errorCount ? (
          <p class="form-error" role="alert">
            {t('booking.form.errors.summary', { count: errorCount })}
          </p>
        ) : null}

        <div class="field">
          <label for="booking-name">{t('booking.form.name')}</label>
          <input
            id="booking-name"
            name="name"
            type="text"
            autocomplete="name"
            maxLength={kMaxName}
            required
            aria-invalid={name.invalid}
            aria-describedby={name.describedBy}
            value={values.name.value}
            onInput={(e) => {
              values.name.value = e.currentTarget.value;
              clear('booking-name');
            }}
          />
          {name.message}
        </div>

        <div class="field">
          <label for="booking-email">{t('booking.form.email')}</label>
          <input
            id="booking-email"
            name="email"
            type="email"
            autocomplete="email"
            inputMode="email"
            spellcheck={false}
            required
            aria-invalid={email.invalid}
            aria-describedby={['booking-email-hint', email.describedBy].filter(Boolean).join(' ')}
            value={values.email.value}
            onInput={(e) => {
              values.email.value = e.currentTarget.value;
              clear('booking-email');
            }}
          />
          <p id="booking-email-hint" class="field__hint">
            {t('booking.form.email_hint')}
          </p>
          {email.message}
        </div>

        {type.questions.map((question, index) => {
          const id = questionId(index);
          const state = problem(id);
          return (
            <div class="field" key={question.id}>
              <label for={id}>
                {question.label}
                {question.required ? null : optional}
              </label>
              <input
                id={id}
                    type="text"
                maxLength={kMaxAnswer}
                required={question.required}
                aria-invalid={state.invalid}
                aria-describedby={state.describedBy}
                value={values.answers.value[question.id] ?? ''}
                onInput={(e) => {
                  values.answers.value = {
                    ...values.answers.value,
                    [question.id]: e.currentTarget.value,
                  };
                  clear(id);
                }}
              />
              {state.message}
            </div>
          );
        })}

        <div class="field">
          <label for="booking-notes">
            {t('booking.form.notes')}
            {optional}
          </label>
          <textarea
            id="booking-notes"
            name="notes"
            rows={3}
            maxLength={kMaxNotes}
            aria-describedby="booking-notes-hint"
            value={values.notes.value}
            onInput={(e) => (values.notes.value = e.currentTarget.value)}
          />
          <p id="booking-notes-hint" class="field__hint">
            {t('booking.form.notes_hint')}
          </p>
        </div>

        <div class="field field--checkbox">
          <input
            id="booking-consent"
            type="checkbox"
            required
            aria-invalid={consent.invalid}
            aria-describedby={consent.describedBy}
            checked={values.consent.value}
            onChange={(e) => {
              values.consent.value = e.currentTarget.checked;
              clear('booking-consent');
            }}
          />
          <label for="booking-consent">{t('booking.form.consent', { owner: ownerName })}</label>
          {consent.message}
        </div>

        {failure.value ? (
          <p class="form-error" role="alert">
            {failure.value}
          </p>
        ) : null}

        <button
          type="submit"
          class="button button--primary button--block"
          disabled={submitting.value}
          aria-busy={submitting.value}
        >
          {submitting.value
            ? t('booking.form.submitting')
            : type.requires_confirmation
              ? t('booking.form.submit_request')
              : t('booking.form.submit')}
        </button>
      </form>
    </section>
  );
}
