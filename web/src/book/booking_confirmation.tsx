// What the visitor sees once booked: confirmed or waiting for the owner, when (in their zone),
// where or the video link, and that an e-mail is coming. Its heading takes the focus.
import { t } from '../i18n';
import type { CreatedBooking, PublicBookingType } from './booking_api';
import { BookingDetails } from './booking_details';
import { FocusedHeading } from './booking_layout';

interface Props {
  type: PublicBookingType;
  ownerName: string;
  booking: CreatedBooking;
  zone: string;
  onBookAnother: () => void;
}

export function BookingConfirmation({ type, ownerName, booking, zone, onBookAnother }: Props) {
  const pending = booking.status === 'pending';
  return (
    <section class="booking-step booking-confirmation" aria-labelledby="booking-done-heading">
      <span class="booking-confirmation__mark" aria-hidden="true">
        ✓
      </span>
      <FocusedHeading id="booking-done-heading" class="booking-step__heading">
        {pending
          ? t('booking.confirmation.heading_pending')
          : t('booking.confirmation.heading_confirmed')}
      </FocusedHeading>
      {pending ? (
        <p class="booking-confirmation__pending">
          {t('booking.confirmation.pending_body', { owner: ownerName })}
        </p>
      ) : null}
      <BookingDetails type={type} booking={booking} zone={zone} showJoin={!pending} />
      <p class="booking-confirmation__email">
        {t('booking.confirmation.email_on_its_way', { email: booking.email })}
      </p>
      <p class="booking-confirmation__hint">{t('booking.confirmation.manage_hint')}</p>
      <div class="booking-actions">
        <button type="button" class="button" onClick={onBookAnother}>
          {t('booking.confirmation.book_another')}
        </button>
      </div>
    </section>
  );
}
