// The frame both booking pages share: the bar with the logo and the language choice, the panel
// describing the booking type, whole-page states (loading, unavailable), and a heading that takes
// the focus when a step appears so keyboard and screen-reader users land on it.
import type { Signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { LanguageSelect } from '../components/language_select';
import { Logo } from '../components/logo';
import { language, t } from '../i18n';
import type { PublicBookingType } from './booking_api';
import { TimeZoneSelect } from './time_zone_select';
import { formatDuration } from './zoned_dates';

export function BookingLayout({ children }: { children: ComponentChildren }) {
  return (
    <div class="booking">
      <header class="booking__bar">
        <Logo />
        <LanguageSelect id="booking-language" compact />
      </header>
      <main class="booking__main" id="main">
        {children}
      </main>
    </div>
  );
}

export function BookingLoading({ message }: { message: string }) {
  return (
    <div class="booking-loading">
      <span class="spinner" aria-hidden="true" />
      <p role="status">{message}</p>
    </div>
  );
}

/** A page that cannot be shown: why, and maybe a way on. */
export function BookingProblem({
  heading,
  message,
  children,
}: {
  heading: string;
  message: string;
  children?: ComponentChildren;
}) {
  return (
    <section class="booking-card booking-card--narrow" aria-labelledby="booking-problem-heading">
      <h1 id="booking-problem-heading" class="booking-problem__heading">
        {heading}
      </h1>
      <p class="form-error booking-problem__message" role="alert">
        {message}
      </p>
      {children}
    </section>
  );
}

/** A heading that is focused when it appears (a new step, a result). */
export function FocusedHeading({
  id,
  level = 2,
  class: className,
  children,
}: {
  id: string;
  level?: 1 | 2;
  class?: string;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  const Tag = level === 1 ? 'h1' : 'h2';
  return (
    <Tag id={id} ref={ref} class={className} tabIndex={-1}>
      {children}
    </Tag>
  );
}

/** "Video meeting on Ruche", or the address. */
export function locationText(type: PublicBookingType): string {
  return type.location.kind === 'in_person' ? type.location.address : t('booking.location_video');
}

interface AboutProps {
  type: PublicBookingType;
  ownerName: string;
  zone: Signal<string>;
  /** Hide the zone choice (nothing on the page depends on it). */
  showZone?: boolean;
}

/** Who, what, how long, where, and the zone times are shown in. */
export function BookingAbout({ type, ownerName, zone, showZone = true }: AboutProps) {
  const lng = language.value;
  return (
    <aside class="booking-about" aria-labelledby="booking-title">
      <p class="booking-about__owner">{t('booking.with_owner', { name: ownerName })}</p>
      <h1 id="booking-title" class="booking-about__title">
        {type.title}
      </h1>
      <dl class="booking-facts" aria-label={t('booking.about')}>
        <div class="booking-facts__row">
          <dt>{t('booking.duration')}</dt>
          <dd>{formatDuration(type.duration_min, lng)}</dd>
        </div>
        <div class="booking-facts__row">
          <dt>{t('booking.location')}</dt>
          <dd>
            <span class="booking-facts__value">{locationText(type)}</span>
            {type.location.kind === 'video' ? (
              <span class="booking-facts__hint">{t('booking.location_video_hint')}</span>
            ) : null}
          </dd>
        </div>
      </dl>
      {type.description ? <p class="booking-about__description">{type.description}</p> : null}
      {showZone ? <TimeZoneSelect id="booking-time-zone" zone={zone} /> : null}
    </aside>
  );
}

/** A message that takes the focus when it appears, where what the visitor was using vanished. */
export function FocusedMessage({
  alert = false,
  class: className,
  children,
}: {
  alert?: boolean;
  class?: string;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <p ref={ref} class={className} role={alert ? 'alert' : 'status'} tabIndex={-1}>
      {children}
    </p>
  );
}
