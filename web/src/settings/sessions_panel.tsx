import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { MatrixError, NetworkError } from '../api/matrix_client';
import { language, t } from '../i18n';
import { signOut, type Session } from '../session';
import { deleteDevices, kMaxDeviceNameBytes, listDevices, renameDevice, type Device } from './devices_api';
import { utf8Bytes } from './own_profile';
import { PasswordPrompt } from './password_prompt';

interface Props {
  session: Session;
}

/** Who to sign out once the password is given: one session, or every other one. */
interface Pending {
  deviceIds: string[];
  title: string;
  body: string;
  confirmLabel: string;
  done: string;
}

const deviceName = (device: Device) => device.displayName || t('settings.sessions.unnamed');

function loadError(cause: unknown): string {
  return cause instanceof NetworkError ? t('settings.error.network') : t('settings.error.failed');
}

/** When and where a session was last active, in the UI's language and the browser's zone. */
function LastSeen({ device, current }: { device: Device; current: boolean }) {
  if (current) return <span>{t('settings.sessions.active_now')}</span>;
  if (device.lastSeenTs === null) return <span>{t('settings.sessions.never_seen')}</span>;
  const when = new Intl.DateTimeFormat(language.value, {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(device.lastSeenTs);
  return (
    <span>
      {t('settings.sessions.last_active')}{' '}
      <time dateTime={new Date(device.lastSeenTs).toISOString()}>{when}</time>
    </span>
  );
}

/** The account's sessions (devices): this one, the others, renaming and signing out. */
export function SessionsPanel({ session }: Props) {
  const devices = useSignal<Device[] | null>(null);
  const error = useSignal('');
  const status = useSignal('');
  const renaming = useSignal<string | null>(null); // the device whose name is being edited
  const newName = useSignal('');
  const renameError = useSignal('');
  const pending = useSignal<Pending | null>(null);

  async function reload() {
    try {
      devices.value = await listDevices(session.accessToken);
      error.value = '';
    } catch (cause) {
      error.value = loadError(cause);
    }
  }
  useEffect(() => void reload(), [session.accessToken]);

  const list = devices.value;
  const current = list?.find((d) => d.deviceId === session.deviceId) ?? null;
  const others = list?.filter((d) => d.deviceId !== session.deviceId) ?? [];

  function startRename(device: Device) {
    renaming.value = device.deviceId;
    newName.value = device.displayName;
    renameError.value = '';
    status.value = '';
    setTimeout(() => document.getElementById(`settings-name-${device.deviceId}`)?.focus(), 0);
  }

  async function onRename(event: Event, device: Device) {
    event.preventDefault();
    const name = newName.value.trim();
    if (!name) {
      renameError.value = t('settings.sessions.name_required');
      return;
    }
    if (utf8Bytes(name) > kMaxDeviceNameBytes) {
      renameError.value = t('settings.sessions.name_too_long', { max: kMaxDeviceNameBytes });
      return;
    }
    try {
      await renameDevice(session.accessToken, device.deviceId, name);
      renaming.value = null;
      status.value = t('settings.sessions.renamed', { name });
      await reload();
      document.getElementById(`settings-rename-${device.deviceId}`)?.focus();
    } catch (cause) {
      renameError.value =
        cause instanceof MatrixError && cause.errcode === 'M_LIMIT_EXCEEDED'
          ? t('settings.error.rate_limited')
          : loadError(cause);
    }
  }

  function askSignOut(device: Device) {
    status.value = '';
    const name = deviceName(device);
    pending.value = {
      deviceIds: [device.deviceId],
      title: t('settings.sessions.sign_out_title', { name }),
      body: t('settings.sessions.sign_out_body', { name }),
      confirmLabel: t('settings.sessions.sign_out'),
      done: t('settings.sessions.signed_out', { name }),
    };
  }

  function askSignOutOthers() {
    status.value = '';
    pending.value = {
      deviceIds: others.map((d) => d.deviceId),
      title: t('settings.sessions.sign_out_others_title'),
      body: t('settings.sessions.sign_out_others_body', { count: others.length }),
      confirmLabel: t('settings.sessions.sign_out_others'),
      done: t('settings.sessions.signed_out_others', { count: others.length }),
    };
  }

  function row(device: Device, isCurrent: boolean) {
    const name = deviceName(device);
    const editing = renaming.value === device.deviceId;
    return (
      <li key={device.deviceId} class="session" aria-label={name}>
        <div class="session__text">
          <p class="session__name">
            <span>{name}</span>
            {isCurrent ? <span class="session__badge">{t('settings.sessions.this_session')}</span> : null}
          </p>
          <p class="session__meta">
            <span>{t('settings.sessions.device_id', { id: device.deviceId })}</span>
            <LastSeen device={device} current={isCurrent} />
            {device.lastSeenIp ? (
              <span>{t('settings.sessions.ip', { ip: device.lastSeenIp })}</span>
            ) : null}
          </p>
          {editing ? (
            <form class="session__rename" onSubmit={(event) => onRename(event, device)} noValidate>
              <div class="field">
                <label for={`settings-name-${device.deviceId}`}>
                  {t('settings.sessions.new_name', { name })}
                </label>
                <input
                  id={`settings-name-${device.deviceId}`}
                  type="text"
                  value={newName.value}
                  aria-invalid={renameError.value !== ''}
                  onInput={(event) => {
                    newName.value = event.currentTarget.value;
                    renameError.value = '';
                  }}
                  onKeyDown={(event) => {
                    if (event.key === 'Escape') {
                      event.preventDefault(); // not the whole Settings dialog
                      event.stopPropagation();
                      renaming.value = null;
                      setTimeout(() => document.getElementById(`settings-rename-${device.deviceId}`)?.focus(), 0);
                    }
                  }}
                />
              </div>
              <p class="form-error" role="alert">
                {renameError.value}
              </p>
              <div class="settings__actions">
                <button type="button" class="button" onClick={() => (renaming.value = null)}>
                  {t('settings.cancel')}
                </button>
                <button type="submit" class="button button--primary">
                  {t('settings.save')}
                </button>
              </div>
            </form>
          ) : null}
        </div>
        {editing ? null : (
          <div class="session__actions">
            <button
              type="button"
              class="button"
              id={`settings-rename-${device.deviceId}`}
              aria-label={t('settings.sessions.rename_named', { name })}
              onClick={() => startRename(device)}
            >
              {t('settings.sessions.rename')}
            </button>
            {isCurrent ? (
              <button type="button" class="button" onClick={() => void signOut()}>
                {t('settings.sessions.sign_out')}
              </button>
            ) : (
              <button
                type="button"
                class="button button--danger"
                aria-label={t('settings.sessions.sign_out_named', { name })}
                onClick={() => askSignOut(device)}
              >
                {t('settings.sessions.sign_out')}
              </button>
            )}
          </div>
        )}
      </li>
    );
  }

  return (
    <div class="settings__sections">
      <p class="settings__status" role="status">
        {status.value}
      </p>
      <p class="form-error" role="alert">
        {error.value}
      </p>
      {list === null && !error.value ? (
        <p class="settings__hint">{t('app.loading')}</p>
      ) : null}
      {current ? (
        <section class="settings__section" aria-labelledby="settings-current-heading">
          <h3 id="settings-current-heading" class="settings__heading">
            {t('settings.sessions.current')}
          </h3>
          <ul class="sessions">{row(current, true)}</ul>
        </section>
      ) : null}
      {list ? (
        <section class="settings__section" aria-labelledby="settings-others-heading">
          <div class="settings__heading-row">
            <h3 id="settings-others-heading" class="settings__heading">
              {t('settings.sessions.others', { count: others.length })}
            </h3>
            {others.length > 0 ? (
              <button type="button" class="button button--danger" onClick={askSignOutOthers}>
                {t('settings.sessions.sign_out_others')}
              </button>
            ) : null}
          </div>
          {others.length ? (
            <ul class="sessions">{others.map((device) => row(device, false))}</ul>
          ) : (
            <p class="settings__hint">{t('settings.sessions.no_others')}</p>
          )}
        </section>
      ) : null}
      {pending.value ? (
        <PasswordPrompt
          title={pending.value.title}
          body={pending.value.body}
          confirmLabel={pending.value.confirmLabel}
          confirm={(password) =>
            deleteDevices(session.accessToken, session.userId, pending.value!.deviceIds, password)
          }
          onDone={() => {
            status.value = pending.value?.done ?? '';
            pending.value = null;
            void reload();
          }}
          onClose={() => (pending.value = null)}
        />
      ) : null}
    </div>
  );
}
