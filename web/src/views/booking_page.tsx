// The public booking page, `/book/<user>/<slug>`: the booking type, a month of free days and the
// chosen day's times in the visitor's zone, the visitor's details, then the confirmation.
// Loaded on demand by app.tsx (with its own words and styles), so the chat never downloads it.
import { useSignal, useSignalEffect } from '@preact/signals';
import { useEffect, useMemo } from 'preact/hooks';
import '../book/booking.css';
import '../book/booking_locale';
import {
  bookingErrorKey,
  fetchBookingType,
  type CreatedBooking,
  type PublicBookingType,
  type Slot,
} from '../book/booking_api';
import { BookingConfirmation } from '../book/booking_confirmation';
import { BookingForm, newFormValues } from '../book/booking_form';
import {
  BookingAbout,
  BookingLayout,
  BookingLoading,
  BookingProblem,
  FocusedMessage,
} from '../book/booking_layout';
import { bookingDocumentTitle, type BookingPageRoute } from '../book/route';
import { SlotBrowser } from '../book/slot_browser';
import { SlotPicker } from '../book/slot_picker';
import { detectTimeZone } from '../book/zoned_dates';
import { t } from '../i18n';

type Step = 'pick' | 'details' | 'done';

export function BookingPageView({ route }: { route: BookingPageRoute }) {
  const type = useSignal<PublicBookingType | null>(null);
  const loadError = useSignal<string | null>(null);
  const zone = useSignal(detectTimeZone());
  const browser = useMemo(() => new SlotBrowser(route.user, route.slug, zone), []);
  const step = useSignal<Step>('pick');
  const chosen = useSignal<Slot | null>(null);
  const slotTaken = useSignal(false);
  const booked = useSignal<CreatedBooking | null>(null);
  const values = useMemo(newFormValues, []);

  useEffect(() => {
    let gone = false;
    fetchBookingType(route.user, route.slug).then(
      (found) => {
        if (gone) return;
        type.value = found;
        void browser.load();
      },
      (error: unknown) => {
        if (!gone) loadError.value = bookingErrorKey(error);
      },
    );
    return () => {
      gone = true;
      bookingDocumentTitle.value = null;
    };
  }, []);

  useSignalEffect(() => {
    const title = type.value?.title;
    bookingDocumentTitle.value = title
      ? t('booking.document_title', { title })
      : t('booking.document_title', { title: t('app.name') });
  });

  if (loadError.value) {
    return (
      <BookingLayout>
        <BookingProblem
          heading={t('booking.unavailable_heading')}
          message={t(loadError.value, { detail: '' })}
        />
      </BookingLayout>
    );
  }
  const current = type.value;
  if (!current) {
    return (
      <BookingLayout>
        <BookingLoading message={t('booking.loading')} />
      </BookingLayout>
    );
  }
  const ownerName = current.owner_name || current.owner;

  function backToSlots(taken: boolean) {
    slotTaken.value = taken;
    chosen.value = null;
    step.value = 'pick';
    void browser.load();
  }

  let content;
  const slot = chosen.value;
  if (step.value === 'done' && booked.value) {
    content = (
      <BookingConfirmation
        type={current}
        ownerName={ownerName}
        booking={booked.value}
        zone={zone.value}
        onBookAnother={() => {
          booked.value = null;
          backToSlots(false);
        }}
      />
    );
  } else if (step.value === 'details' && slot) {
    content = (
      <BookingForm
        type={current}
        ownerName={ownerName}
        user={route.user}
        slot={slot}
        zone={zone.value}
        values={values}
        onBooked={(booking) => {
          booked.value = booking;
          step.value = 'done';
        }}
        onSlotTaken={() => backToSlots(true)}
        onChangeTime={() => backToSlots(false)}
      />
    );
  } else {
    content = (
      <SlotPicker
        browser={browser}
        id="booking-slots"
        heading={t('booking.calendar.heading')}
        showSeats={current.seats > 1}
        notice={
          slotTaken.value ? (
            <FocusedMessage alert class="form-error booking-notice">
              {t('booking.error.slot_taken')}
            </FocusedMessage>
          ) : null
        }
        onPick={(picked) => {
          slotTaken.value = false;
          chosen.value = picked;
          step.value = 'details';
        }}
      />
    );
  }

  return (
    <BookingLayout>
      <div class="booking-card">
        <BookingAbout type={current} ownerName={ownerName} zone={zone} />
        <div class="booking-card__content">{content}</div>
      </div>
    </BookingLayout>
  );
}
