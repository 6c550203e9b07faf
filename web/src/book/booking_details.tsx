// When and where a booking is, in the visitor's zone: on the confirmation and the manage page.
import { language, t } from '../i18n';
import type { Booking, PublicBookingType } from './booking_api';
import { locationText } from './booking_layout';
import { formatLongDate, formatTime } from './zoned_dates';

/** "lundi 29 mars 2027" and "09:00 – 09:30" for `start`–`end` in `zone`. */
export function describeTime(start: string, end: string, zone: string) {
  const lng = language.value;
  const from = new Date(start);
  return {
    date: formatLongDate(from, zone, lng),
    time: t('booking.time_range', {
      start: formatTime(from, zone, lng),
      end: formatTime(new Date(end), zone, lng),
    }),
  };
}

interface Props {
  type: PublicBookingType | undefined;
  booking: Booking;
  zone: string;
  /** Offer the video meeting's link (not for a cancelled booking). */
  showJoin: boolean;
}

export function BookingDetails({ type, booking, zone, showJoin }: Props) {
  const { date, time } = describeTime(booking.start, booking.end, zone);
  const video = type?.location.kind === 'video' || (!type && !!booking.join_url);
  return (
    <dl class="booking-facts booking-facts--result">
      <div class="booking-facts__row">
        <dt>{t('booking.confirmation.when')}</dt>
        <dd>
          <span class="booking-when__date">{date}</span>
          <span class="booking-when__time">
            {time} <span class="booking-when__zone">({zone.replaceAll('_', ' ')})</span>
          </span>
        </dd>
      </div>
      <div class="booking-facts__row">
        <dt>{t('booking.confirmation.where')}</dt>
        <dd>
          {video && showJoin && booking.join_url ? (
            <a class="button button--primary booking-join" href={booking.join_url}>
              {t('booking.confirmation.join')}
            </a>
          ) : type ? (
            locationText(type)
          ) : (
            t('booking.location_video')
          )}
        </dd>
      </div>
    </dl>
  );
}
