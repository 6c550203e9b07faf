// The user's booking types: each with its public link (and a copy button), edit and delete (after
// a confirm step); "New booking type" opens the editor in place of the list.
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { language, t } from '../i18n';
import { formatDuration } from '../book/zoned_dates';
import { errorText, type BookingType, type CalendarApi } from './calendar_api';
import { BookingTypeForm } from './booking_type_form';
import { CopyButton } from './copy_button';

export function BookingTypesPanel({ api }: { api: CalendarApi }) {
  const lng = language.value;
  const types = useSignal<BookingType[] | null>(null);
  const error = useSignal('');
  const editing = useSignal<BookingType | 'new' | null>(null);
  const confirming = useSignal<string | null>(null);
  const status = useSignal('');
  const busy = useSignal(false);
  const listHeading = useRef<HTMLHeadingElement>(null);

  async function load() {
    try {
      types.value = await api.bookingTypes();
      error.value = '';
    } catch (cause) {
      error.value = errorText(cause);
    }
  }
  useEffect(() => void load(), []);

  function backToList(message: string) {
    editing.value = null;
    status.value = message;
    void load();
    setTimeout(() => listHeading.current?.focus(), 0);
  }

  async function remove(type: BookingType) {
    busy.value = true;
    try {
      await api.deleteBookingType(type.id);
      confirming.value = null;
      backToList(t('calendar.types.deleted', { title: type.title }));
    } catch (cause) {
      error.value = errorText(cause);
    } finally {
      busy.value = false;
    }
  }

  const current = editing.value;
  if (current) {
    return (
      <BookingTypeForm
        api={api}
        type={current === 'new' ? null : current}
        onSaved={(saved) => backToList(t(current === 'new' ? 'calendar.types.created' : 'calendar.types.saved', { title: saved.title }))}
        onCancel={() => backToList('')}
      />
    );
  }

  const list = types.value;
  return (
    <section class="panel" aria-labelledby="types-heading">
      <div class="panel__header">
        <h2 id="types-heading" class="panel__title" ref={listHeading} tabIndex={-1}>
          {t('calendar.types.heading')}
        </h2>
        <button type="button" class="button button--primary" onClick={() => (editing.value = 'new')}>
          {t('calendar.types.new')}
        </button>
      </div>
      <p class="panel__intro">{t('calendar.types.intro')}</p>
      <p class="panel__status" role="status">
        {status.value}
      </p>
      <p class="form-error" role="alert">
        {error.value}
      </p>
      {list === null ? (
        error.value ? null : <p role="status">{t('calendar.loading')}</p>
      ) : list.length === 0 ? (
        <p class="panel__empty">{t('calendar.types.empty')}</p>
      ) : (
        <ul class="type-list">
          {list.map((type) => {
            const link = `${location.origin}${type.url}`;
            return (
              <li key={type.id} class="type-card">
                <h3 class="type-card__title">{type.title}</h3>
                <p class="type-card__facts">
                  {formatDuration(type.duration_min, lng)} ·{' '}
                  {type.location.kind === 'video' ? t('calendar.types.location_video') : type.location.address}
                  {type.requires_confirmation ? ` · ${t('calendar.types.needs_confirmation')}` : ''}
                </p>
                <p class="type-card__link">
                  <a href={type.url} target="_blank" rel="noopener">
                    {link}
                  </a>
                  <CopyButton text={link} label={t('calendar.types.copy_link', { title: type.title })} />
                </p>
                {confirming.value === type.id ? (
                  <div class="confirm-row" role="group" aria-labelledby={`type-delete-${type.id}`}>
                    <p id={`type-delete-${type.id}`}>{t('calendar.types.delete_question', { title: type.title })}</p>
                    <button type="button" class="button" onClick={() => (confirming.value = null)}>
                      {t('calendar.types.keep')}
                    </button>
                    <button type="button" class="button button--danger" disabled={busy.value} onClick={() => remove(type)}>
                      {t('calendar.types.delete_confirm')}
                    </button>
                  </div>
                ) : (
                  <div class="type-card__actions">
                    <button
                      type="button"
                      class="button button--small"
                      aria-label={t('calendar.types.edit_named', { title: type.title })}
                      onClick={() => (editing.value = type)}
                    >
                      {t('calendar.edit')}
                    </button>
                    <button
                      type="button"
                      class="button button--small"
                      aria-label={t('calendar.types.delete_named', { title: type.title })}
                      onClick={() => (confirming.value = type.id)}
                    >
                      {t('calendar.delete')}
                    </button>
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
