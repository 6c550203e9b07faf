// The bookings visitors made: upcoming first (soonest first), then past (latest first), each with
// its status, the visitor's details and answers, the join link, Confirm for a pending one and
// Cancel (after a confirm step).
import { useSignal } from '@preact/signals';
import { Fragment } from 'preact';
import { useEffect } from 'preact/hooks';
import { language, t } from '../i18n';
import { errorText, type Booking, type BookingType, type CalendarApi } from './calendar_api';
import { formatDateTime, formatTime } from './calendar_dates';

interface Props {
  api: CalendarApi;
  zone: string;
  /** A booking changed: the calendar's events changed too. */
  onChanged: () => void;
}

export function BookingsPanel({ api, zone, onChanged }: Props) {
  const bookings = useSignal<Booking[] | null>(null);
  const types = useSignal<BookingType[]>([]);
  const error = useSignal('');
  const rowError = useSignal<{ id: string; text: string } | null>(null);
  const confirming = useSignal<string | null>(null);
  const busy = useSignal<string | null>(null);

  async function load() {
    try {
      const [list, typeList] = await Promise.all([api.bookings(), api.bookingTypes()]);
      bookings.value = list;
      types.value = typeList;
      error.value = '';
    } catch (cause) {
      error.value = errorText(cause);
    }
  }
  useEffect(() => void load(), []);

  async function act(booking: Booking, action: 'confirm' | 'cancel') {
    busy.value = booking.id;
    rowError.value = null;
    try {
      if (action === 'confirm') await api.confirmBooking(booking.id);
      else await api.cancelBooking(booking.id);
      confirming.value = null;
      await load();
      onChanged();
    } catch (cause) {
      rowError.value = { id: booking.id, text: errorText(cause) };
    } finally {
      busy.value = null;
    }
  }

  const list = bookings.value;
  const now = Date.now();
  const upcoming = (list ?? []).filter((b) => Date.parse(b.end) >= now).sort((a, b) => a.start.localeCompare(b.start));
  const past = (list ?? []).filter((b) => Date.parse(b.end) < now).sort((a, b) => b.start.localeCompare(a.start));

  return (
    <section class="panel" aria-labelledby="bookings-heading">
      <div class="panel__header">
        <h2 id="bookings-heading" class="panel__title">
          {t('calendar.bookings.heading')}
        </h2>
        <button type="button" class="button" onClick={() => void load()}>
          {t('calendar.refresh')}
        </button>
      </div>
      <p class="form-error" role="alert">
        {error.value}
      </p>
      {list === null ? (
        error.value ? null : <p role="status">{t('calendar.loading')}</p>
      ) : (
        <>
          <BookingGroup
            id="bookings-upcoming"
            heading={t('calendar.bookings.upcoming')}
            empty={t('calendar.bookings.none_upcoming')}
            items={upcoming}
            {...{ types: types.value, zone, confirming, busy, rowError, act }}
            actions
          />
          <BookingGroup
            id="bookings-past"
            heading={t('calendar.bookings.past')}
            empty={t('calendar.bookings.none_past')}
            items={past}
            {...{ types: types.value, zone, confirming, busy, rowError, act }}
            actions={false}
          />
        </>
      )}
    </section>
  );
}

interface GroupProps {
  id: string;
  heading: string;
  empty: string;
  items: Booking[];
  types: BookingType[];
  zone: string;
  actions: boolean;
  confirming: { value: string | null };
  busy: { value: string | null };
  rowError: { value: { id: string; text: string } | null };
  act: (b: Booking, action: 'confirm' | 'cancel') => void;
}

function BookingGroup({ id, heading, empty, items, types, zone, actions, confirming, busy, rowError, act }: GroupProps) {
  const lng = language.value;
  return (
    <section class="bookings-group" aria-labelledby={id}>
      <h3 id={id} class="bookings-group__heading">
        {heading}
      </h3>
      {items.length === 0 ? (
        <p class="panel__empty">{empty}</p>
      ) : (
        <ul class="booking-list">
          {items.map((b) => {
            const type = types.find((x) => x.id === b.booking_type_id);
            const when = `${formatDateTime(new Date(b.start), zone, lng)} – ${formatTime(new Date(b.end), zone, lng)}`;
            const answers = Object.entries(b.answers ?? {}).filter(([, v]) => v);
            return (
              <li key={b.id} class={`booking-item booking-item--${b.status}`} aria-label={t('calendar.bookings.item_label', { name: b.name, when })}>
                <div class="booking-item__top">
                  <p class="booking-item__when">{when}</p>
                  <span class={`status-badge status-badge--${b.status}`}>{t(`calendar.bookings.status_${b.status}`)}</span>
                </div>
                <p class="booking-item__type">{type?.title ?? t('calendar.bookings.deleted_type')}</p>
                <dl class="booking-item__details">
                  <dt>{t('calendar.bookings.visitor')}</dt>
                  <dd>
                    {b.name} · <a href={`mailto:${b.email}`}>{b.email}</a>
                  </dd>
                  {b.notes ? (
                    <>
                      <dt>{t('calendar.bookings.notes')}</dt>
                      <dd class="booking-item__notes">{b.notes}</dd>
                    </>
                  ) : null}
                  {answers.map(([key, value]) => (
                    <Fragment key={key}>
                      <dt>{type?.questions.find((q) => q.id === key)?.label ?? key}</dt>
                      <dd>{value}</dd>
                    </Fragment>
                  ))}
                  {b.timezone && b.timezone !== zone ? (
                    <>
                      <dt>{t('calendar.bookings.visitor_zone')}</dt>
                      <dd>{b.timezone}</dd>
                    </>
                  ) : null}
                </dl>
                {actions && b.status !== 'cancelled' ? (
                  confirming.value === b.id ? (
                    <div class="confirm-row" role="group" aria-labelledby={`booking-cancel-${b.id}`}>
                      <p id={`booking-cancel-${b.id}`}>{t('calendar.bookings.cancel_question', { name: b.name })}</p>
                      <button type="button" class="button" onClick={() => (confirming.value = null)}>
                        {t('calendar.bookings.keep')}
                      </button>
                      <button type="button" class="button button--danger" disabled={busy.value === b.id} onClick={() => act(b, 'cancel')}>
                        {t('calendar.bookings.cancel_confirm')}
                      </button>
                    </div>
                  ) : (
                    <div class="booking-item__actions">
                      {b.join_url ? (
                        <a class="button button--small" href={b.join_url} target="_blank" rel="noopener noreferrer">
                          {t('calendar.bookings.join')}
                        </a>
                      ) : null}
                      {b.status === 'pending' ? (
                        <button
                          type="button"
                          class="button button--small button--primary"
                          disabled={busy.value === b.id}
                          aria-label={t('calendar.bookings.confirm_named', { name: b.name })}
                          onClick={() => act(b, 'confirm')}
                        >
                          {t('calendar.bookings.confirm')}
                        </button>
                      ) : null}
                      <button
                        type="button"
                        class="button button--small"
                        aria-label={t('calendar.bookings.cancel_named', { name: b.name })}
                        onClick={() => (confirming.value = b.id)}
                      >
                        {t('calendar.bookings.cancel')}
                      </button>
                    </div>
                  )
                ) : null}
                {rowError.value?.id === b.id ? (
                  <p class="form-error" role="alert">
                    {rowError.value.text}
                  </p>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
