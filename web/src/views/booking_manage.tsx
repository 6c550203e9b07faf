// The visitor's manage link, `/book/manage/<id>?t=<token>` (from the confirmation e-mail): the
// booking in their zone, Cancel (after a confirmation step) and Reschedule (a new slot chosen
// like on the booking page). Loaded on demand by app.tsx, like the booking page.
import { useSignal, useSignalEffect, type Signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import '../book/booking.css';
import '../book/booking_locale';
import {
  bookingErrorKey,
  cancelBooking,
  fetchBookingType,
  fetchManagedBooking,
  isSlotTaken,
  rescheduleBooking,
  type Booking,
  type ManagedBooking,
  type PublicBookingType,
  type Slot,
} from '../book/booking_api';
import { BookingDetails, describeTime } from '../book/booking_details';
import {
  BookingAbout,
  BookingLayout,
  BookingLoading,
  BookingProblem,
  FocusedHeading,
  FocusedMessage,
} from '../book/booking_layout';
import { bookingDocumentTitle, type BookingManageRoute } from '../book/route';
import { SlotBrowser } from '../book/slot_browser';
import { SlotPicker } from '../book/slot_picker';
import { detectTimeZone } from '../book/zoned_dates';
import { t } from '../i18n';
import { MatrixError } from '../api/matrix_client';

type Mode = 'view' | 'confirm-cancel' | 'reschedule' | 'confirm-reschedule';
type Outcome = 'cancelled' | 'rescheduled' | null;

export function BookingManageView({ route }: { route: BookingManageRoute }) {
  const booking = useSignal<ManagedBooking | null>(null);
  const loadError = useSignal<string | null>(null);
  const ownerName = useSignal<string | null>(null);
  const zone = useSignal(detectTimeZone());
  const browser = useSignal<SlotBrowser | null>(null);
  const mode = useSignal<Mode>('view');
  const chosen = useSignal<Slot | null>(null);
  const slotTaken = useSignal(false);
  const busy = useSignal(false);
  const actionError = useSignal<string | null>(null);
  const outcome = useSignal<Outcome>(null);

  useEffect(() => {
    let gone = false;
    (async () => {
      if (!route.token) {
        loadError.value = 'booking.manage.not_found';
        return;
      }
      try {
        const found = await fetchManagedBooking(route.bookingId, route.token);
        if (gone) return;
        booking.value = found;
        const type = found.booking_type;
        if (type) {
          browser.value = new SlotBrowser(type.owner, type.slug, zone);
          // The owner's display name is on the public page only; the login name will do.
          fetchBookingType(type.owner, type.slug).then(
            (page) => !gone && (ownerName.value = page.owner_name || null),
            () => {},
          );
        }
      } catch (error) {
        if (gone) return;
        const key = bookingErrorKey(error);
        loadError.value = key === 'booking.error.not_found' ? 'booking.manage.not_found' : key;
      }
    })();
    return () => {
      gone = true;
      bookingDocumentTitle.value = null;
    };
  }, []);

  useSignalEffect(() => {
    bookingDocumentTitle.value = t('booking.document_title_manage');
  });

  if (loadError.value) {
    return (
      <BookingLayout>
        <BookingProblem
          heading={t('booking.manage.not_found_heading')}
          message={t(loadError.value, { detail: '' })}
        />
      </BookingLayout>
    );
  }
  const current = booking.value;
  if (!current) {
    return (
      <BookingLayout>
        <BookingLoading message={t('booking.loading_manage')} />
      </BookingLayout>
    );
  }
  const type = current.booking_type;
  const owner = ownerName.value ?? type?.owner ?? '';

  function updated(next: Booking) {
    booking.value = { ...next, booking_type: booking.peek()?.booking_type };
  }

  function failed(error: unknown) {
    actionError.value = t(bookingErrorKey(error), {
      detail: error instanceof MatrixError ? error.message : '',
    });
  }

  async function cancel() {
    busy.value = true;
    actionError.value = null;
    try {
      updated(await cancelBooking(route.bookingId, route.token));
      outcome.value = 'cancelled';
      mode.value = 'view';
    } catch (error) {
      failed(error);
    } finally {
      busy.value = false;
    }
  }

  async function reschedule(slot: Slot) {
    busy.value = true;
    actionError.value = null;
    try {
      updated(await rescheduleBooking(route.bookingId, route.token, slot.start));
      outcome.value = 'rescheduled';
      mode.value = 'view';
      chosen.value = null;
    } catch (error) {
      if (isSlotTaken(error)) {
        slotTaken.value = true;
        chosen.value = null;
        mode.value = 'reschedule';
        void browser.peek()?.load();
      } else {
        failed(error);
      }
    } finally {
      busy.value = false;
    }
  }

  function startReschedule() {
    outcome.value = null;
    actionError.value = null;
    slotTaken.value = false;
    mode.value = 'reschedule';
    void browser.peek()?.load();
  }

  let content;
  if (mode.value === 'reschedule' && browser.value && type) {
    content = (
      <>
        <SlotPicker
          browser={browser.value}
          id="manage-slots"
          heading={t('booking.manage.reschedule_heading')}
          showSeats={type.seats > 1}
          notice={
            slotTaken.value ? (
              <FocusedMessage alert class="form-error booking-notice">
                {t('booking.error.slot_taken')}
              </FocusedMessage>
            ) : null
          }
          onPick={(slot) => {
            slotTaken.value = false;
            chosen.value = slot;
            mode.value = 'confirm-reschedule';
          }}
        />
        <div class="booking-actions">
          <button type="button" class="button" onClick={() => (mode.value = 'view')}>
            {t('booking.manage.reschedule_back')}
          </button>
        </div>
      </>
    );
  } else {
    content = (
      <ManageSummary
        booking={current}
        type={type}
        owner={owner}
        zone={zone}
        mode={mode}
        chosen={chosen.value}
        busy={busy.value}
        outcome={outcome.value}
        actionError={actionError.value}
        onCancel={() => void cancel()}
        onReschedule={startReschedule}
        onConfirmReschedule={(slot) => void reschedule(slot)}
      />
    );
  }

  return (
    <BookingLayout>
      <div class={type ? 'booking-card' : 'booking-card booking-card--narrow'}>
        {type ? <BookingAbout type={type} ownerName={owner} zone={zone} /> : null}
        <div class="booking-card__content">{content}</div>
      </div>
    </BookingLayout>
  );
}

interface SummaryProps {
  booking: ManagedBooking;
  type: PublicBookingType | undefined;
  owner: string;
  zone: Signal<string>;
  mode: Signal<Mode>;
  chosen: Slot | null;
  busy: boolean;
  outcome: Outcome;
  actionError: string | null;
  onCancel: () => void;
  onReschedule: () => void;
  onConfirmReschedule: (slot: Slot) => void;
}

/** The booking, what just happened to it, and what can be done with it. */
function ManageSummary(props: SummaryProps) {
  const { booking, type, owner, mode, chosen, busy, outcome, actionError } = props;
  const zone = props.zone.value;
  const cancelled = booking.status === 'cancelled';
  const passed = new Date(booking.end).getTime() < Date.now();
  const canChange = !cancelled && !passed;

  /** Back from the cancel question, to the button that asked it. */
  function keep() {
    mode.value = 'view';
    requestAnimationFrame(() => document.getElementById('manage-cancel')?.focus());
  }

  let heading;
  if (outcome === 'cancelled') {
    heading = (
      <FocusedHeading id="manage-heading" class="booking-step__heading">
        {t('booking.manage.cancelled_heading')}
      </FocusedHeading>
    );
  } else {
    heading = (
      <h2 id="manage-heading" class="booking-step__heading">
        {t('booking.manage.heading')}
      </h2>
    );
  }

  return (
    <section class="booking-step" aria-labelledby="manage-heading">
      {heading}
      {outcome === 'cancelled' ? (
        <p class="booking-outcome">
          {t('booking.manage.cancelled_body', { email: booking.email })}
        </p>
      ) : null}
      {outcome === 'rescheduled' ? (
        <FocusedMessage class="booking-outcome booking-outcome--success">
          {t('booking.manage.rescheduled', { email: booking.email })}
        </FocusedMessage>
      ) : null}
      <dl class="booking-facts booking-facts--result">
        <div class="booking-facts__row">
          <dt>{t('booking.manage.status_label')}</dt>
          <dd>
            <span class={`booking-status booking-status--${booking.status}`}>
              {t(`booking.manage.status.${booking.status}`)}
            </span>
          </dd>
        </div>
        <div class="booking-facts__row">
          <dt>{t('booking.manage.booked_for')}</dt>
          <dd>
            {booking.name} <span class="booking-facts__hint">{booking.email}</span>
          </dd>
        </div>
      </dl>
      <BookingDetails type={type} booking={booking} zone={zone} showJoin={!cancelled} />

      {passed && !cancelled ? <p class="booking-outcome">{t('booking.manage.passed')}</p> : null}
      {canChange && !type ? <p class="booking-outcome">{t('booking.manage.type_gone')}</p> : null}
      {actionError ? (
        <p class="form-error" role="alert">
          {actionError}
        </p>
      ) : null}

      {canChange && mode.value === 'confirm-cancel' ? (
        <div class="booking-confirm" role="group" aria-labelledby="manage-cancel-question">
          <h3 id="manage-cancel-question" class="booking-confirm__question" tabIndex={-1} ref={focusOnMount}>
            {t('booking.manage.cancel_question')}
          </h3>
          <p>{t('booking.manage.cancel_body', { owner })}</p>
          <div class="booking-actions">
            <button type="button" class="button button--danger" disabled={busy} onClick={props.onCancel}>
              {busy ? t('booking.manage.cancelling') : t('booking.manage.cancel_confirm')}
            </button>
            <button type="button" class="button" disabled={busy} onClick={keep}>
              {t('booking.manage.keep')}
            </button>
          </div>
        </div>
      ) : null}

      {canChange && mode.value === 'confirm-reschedule' && chosen ? (
        <RescheduleQuestion
          slot={chosen}
          zone={zone}
          busy={busy}
          onConfirm={() => props.onConfirmReschedule(chosen)}
          onBack={() => (mode.value = 'view')}
        />
      ) : null}

      {canChange && mode.value === 'view' ? (
        <div class="booking-actions">
          {type ? (
            <button type="button" class="button button--primary" onClick={props.onReschedule}>
              {t('booking.manage.reschedule')}
            </button>
          ) : null}
          <button
            id="manage-cancel"
            type="button"
            class="button button--danger"
            onClick={() => (mode.value = 'confirm-cancel')}
          >
            {t('booking.manage.cancel')}
          </button>
        </div>
      ) : null}

      {cancelled && type ? (
        <div class="booking-actions">
          <a class="button" href={`/book/${encodeURIComponent(type.owner)}/${type.slug}`}>
            {t('booking.manage.book_again')}
          </a>
        </div>
      ) : null}
    </section>
  );
}

/** Focuses an element the first time it is attached (a ref callback). */
function focusOnMount(element: HTMLElement | null) {
  if (element && !element.dataset.focused) {
    element.dataset.focused = '1';
    element.focus();
  }
}

function RescheduleQuestion(props: {
  slot: Slot;
  zone: string;
  busy: boolean;
  onConfirm: () => void;
  onBack: () => void;
}) {
  const { date, time } = describeTime(props.slot.start, props.slot.end, props.zone);
  return (
    <div class="booking-confirm" role="group" aria-labelledby="manage-reschedule-question">
      <h3 id="manage-reschedule-question" class="booking-confirm__question" tabIndex={-1} ref={focusOnMount}>
        {t('booking.manage.reschedule_question', { when: `${date}, ${time}` })}
      </h3>
      <div class="booking-actions">
        <button
          type="button"
          class="button button--primary"
          disabled={props.busy}
          onClick={props.onConfirm}
        >
          {props.busy ? t('booking.manage.rescheduling') : t('booking.manage.reschedule_confirm')}
        </button>
        <button type="button" class="button" disabled={props.busy} onClick={props.onBack}>
          {t('booking.manage.reschedule_back')}
        </button>
      </div>
    </div>
  );
}
