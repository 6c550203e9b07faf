// "Connect a calendar app": the CalDAV address and user name to type into Thunderbird, Apple
// Calendar or DAVx⁵, and app passwords for them — created (shown once, with a copy button),
// listed with their last use, revoked after a confirm step.
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { language, t } from '../i18n';
import { errorText, type AppPassword, type CalendarApi, type CreatedAppPassword } from './calendar_api';
import { formatTimestamp } from './calendar_dates';
import { CopyButton } from './copy_button';

interface Props {
  api: CalendarApi;
  /** The Basic user name CalDAV clients sign in with (the localpart). */
  userName: string;
}

export function AppPasswordsPanel({ api, userName }: Props) {
  const lng = language.value;
  const passwords = useSignal<AppPassword[] | null>(null);
  const error = useSignal('');
  const name = useSignal('');
  const nameInvalid = useSignal(false);
  const busy = useSignal(false);
  const created = useSignal<CreatedAppPassword | null>(null);
  const confirming = useSignal<string | null>(null);
  const status = useSignal('');
  const createdRef = useRef<HTMLHeadingElement>(null);
  const davUrl = `${location.origin}/dav/`;

  async function load() {
    try {
      passwords.value = await api.appPasswords();
    } catch (cause) {
      error.value = errorText(cause);
    }
  }
  useEffect(() => void load(), []);
  useEffect(() => {
    if (created.value) createdRef.current?.focus();
  }, [created.value]);

  async function onCreate(event: Event) {
    event.preventDefault();
    error.value = '';
    status.value = '';
    const trimmed = name.value.trim();
    if (!trimmed) {
      nameInvalid.value = true;
      error.value = t('calendar.apps.name_required');
      document.getElementById('app-password-name')?.focus();
      return;
    }
    busy.value = true;
    try {
      created.value = await api.createAppPassword(trimmed);
      name.value = '';
      await load();
    } catch (cause) {
      error.value = errorText(cause);
    } finally {
      busy.value = false;
    }
  }

  async function revoke(p: AppPassword) {
    busy.value = true;
    error.value = '';
    try {
      await api.revokeAppPassword(p.id);
      confirming.value = null;
      if (created.value?.id === p.id) created.value = null;
      status.value = t('calendar.apps.revoked', { name: p.name });
      await load();
    } catch (cause) {
      error.value = errorText(cause);
    } finally {
      busy.value = false;
    }
  }

  const fresh = created.value;
  const list = passwords.value;
  return (
    <section class="panel" aria-labelledby="apps-heading">
      <h2 id="apps-heading" class="panel__title">
        {t('calendar.apps.heading')}
      </h2>
      <p class="panel__intro">{t('calendar.apps.intro')}</p>
      <dl class="connect-facts">
        <dt>{t('calendar.apps.server_url')}</dt>
        <dd>
          <code class="connect-facts__value">{davUrl}</code>
          <CopyButton text={davUrl} label={t('calendar.apps.copy_url')} />
        </dd>
        <dt>{t('calendar.apps.user_name')}</dt>
        <dd>
          <code class="connect-facts__value">{userName}</code>
          <CopyButton text={userName} label={t('calendar.apps.copy_user_name')} />
        </dd>
      </dl>

      {fresh ? (
        <div class="new-password" role="group" aria-labelledby="new-password-heading">
          <h3 id="new-password-heading" ref={createdRef} tabIndex={-1}>
            {t('calendar.apps.created_heading', { name: fresh.name })}
          </h3>
          <p>{t('calendar.apps.created_once')}</p>
          <p class="new-password__row">
            <code class="new-password__value" aria-label={t('calendar.apps.password_label')}>
              {fresh.password}
            </code>
            <CopyButton text={fresh.password} label={t('calendar.apps.copy_password')} />
          </p>
          <button type="button" class="button button--small" onClick={() => (created.value = null)}>
            {t('calendar.apps.done')}
          </button>
        </div>
      ) : null}

      <form class="inline-form" onSubmit={onCreate} noValidate>
        <div class="field">
          <label for="app-password-name">{t('calendar.apps.name')}</label>
          <input
            id="app-password-name"
            type="text"
            maxLength={100}
            value={name.value}
            aria-invalid={nameInvalid.value}
            aria-describedby="app-password-name-hint"
            onInput={(e) => {
              name.value = e.currentTarget.value;
              nameInvalid.value = false;
            }}
          />
          <p id="app-password-name-hint" class="field__hint">
            {t('calendar.apps.name_hint')}
          </p>
        </div>
        <button type="submit" class="button button--primary" disabled={busy.value}>
          {t('calendar.apps.create')}
        </button>
      </form>
      <p class="panel__status" role="status">
        {status.value}
      </p>
      <p class="form-error" role="alert">
        {error.value}
      </p>

      <h3 class="bookings-group__heading">{t('calendar.apps.list_heading')}</h3>
      {list === null ? (
        error.value ? null : <p role="status">{t('calendar.loading')}</p>
      ) : list.length === 0 ? (
        <p class="panel__empty">{t('calendar.apps.empty')}</p>
      ) : (
        <table class="password-table">
          <thead>
            <tr>
              <th scope="col">{t('calendar.apps.name')}</th>
              <th scope="col">{t('calendar.apps.created')}</th>
              <th scope="col">{t('calendar.apps.last_used')}</th>
              <th scope="col">
                <span class="visually-hidden">{t('calendar.apps.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((p) => (
              <tr key={p.id}>
                <th scope="row">{p.name}</th>
                <td>{formatTimestamp(p.created_ts, lng)}</td>
                <td>{p.last_used_ts ? formatTimestamp(p.last_used_ts, lng) : t('calendar.apps.never_used')}</td>
                <td>
                  {confirming.value === p.id ? (
                    <div class="confirm-row" role="group" aria-labelledby={`revoke-${p.id}`}>
                      <p id={`revoke-${p.id}`}>{t('calendar.apps.revoke_question', { name: p.name })}</p>
                      <button type="button" class="button button--small" onClick={() => (confirming.value = null)}>
                        {t('calendar.apps.keep')}
                      </button>
                      <button type="button" class="button button--small button--danger" disabled={busy.value} onClick={() => revoke(p)}>
                        {t('calendar.apps.revoke_confirm')}
                      </button>
                    </div>
                  ) : (
                    <button
                      type="button"
                      class="button button--small"
                      aria-label={t('calendar.apps.revoke_named', { name: p.name })}
                      onClick={() => (confirming.value = p.id)}
                    >
                      {t('calendar.apps.revoke')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
