// Choosing a free slot: the month calendar beside the chosen day's times, in the visitor's zone.
// Used by the booking page and by the manage page to reschedule.
import type { ComponentChildren } from 'preact';
import { language, t } from '../i18n';
import type { Slot } from './booking_api';
import { MonthCalendar } from './month_calendar';
import type { SlotBrowser } from './slot_browser';
import { formatDay, formatTime } from './zoned_dates';

interface Props {
  browser: SlotBrowser;
  /** Prefix for element ids, unique on the page. */
  id: string;
  heading: string;
  /** Shown under the heading (the "this time was just taken" alert). */
  notice?: ComponentChildren;
  /** Whether to say how many places are left (group sessions). */
  showSeats: boolean;
  onPick: (slot: Slot) => void;
}

export function SlotPicker({ browser, id, heading, notice, showSeats, onPick }: Props) {
  const lng = language.value;
  const zone = browser.zone.value;
  const day = browser.selectedDay.value;
  const slots = browser.daySlots.value;
  const dayHeadingId = `${id}-day`;
  const date = day ? formatDay(day, lng) : '';

  return (
    <section class="slot-picker" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`} class="booking-step__heading">
        {heading}
      </h2>
      {notice}
      <div class="slot-picker__body">
        <MonthCalendar browser={browser} id={id} />
        <div class="slot-picker__times">
          {day && slots.length ? (
            <>
              <h3 id={dayHeadingId} class="slot-picker__day">
                {date}
              </h3>
              <p class="slot-picker__zone">{t('booking.slots.in_zone', { zone: zone.replaceAll('_', ' ') })}</p>
              <p class="visually-hidden" role="status">
                {t('booking.slots.count', { count: slots.length })}
              </p>
              <ul class="slot-list" aria-label={t('booking.slots.list', { date })}>
                {slots.map((slot) => {
                  const time = formatTime(new Date(slot.start), zone, lng);
                  const seats = showSeats
                    ? t('booking.slots.seats_left', { count: slot.seats_left })
                    : null;
                  return (
                    <li key={slot.start}>
                      <button
                        type="button"
                        class="slot-button"
                        aria-label={seats ? t('booking.slots.slot_seats', { time, seats }) : undefined}
                        onClick={() => onPick(slot)}
                      >
                        <span class="slot-button__time">{time}</span>
                        {seats ? (
                          <span class="slot-button__seats" aria-hidden="true">
                            {seats}
                          </span>
                        ) : null}
                      </button>
                    </li>
                  );
                })}
              </ul>
            </>
          ) : (
            <p class="slot-picker__hint">{t('booking.slots.choose_day')}</p>
          )}
        </div>
      </div>
    </section>
  );
}
