import { useSignal } from '@preact/signals';
import { MatrixError, NetworkError } from '../api/matrix_client';
import { Dialog } from '../components/dialog';
import { t } from '../i18n';

interface Props {
  title: string;
  /** What will happen, in a sentence. */
  body: string;
  confirmLabel: string;
  /** Does the work with the password; its MatrixError / NetworkError is explained here. */
  confirm: (password: string) => Promise<void>;
  onDone: () => void;
  onClose: () => void;
}

function failure(cause: unknown): string {
  if (cause instanceof MatrixError) {
    if (cause.errcode === 'M_FORBIDDEN') return t('settings.password.wrong');
    if (cause.errcode === 'M_LIMIT_EXCEEDED') {
      return cause.retryAfterMs
        ? t('settings.password.rate_limited', { count: Math.ceil(cause.retryAfterMs / 1000) })
        : t('settings.error.rate_limited');
    }
  }
  if (cause instanceof NetworkError) return t('settings.error.network');
  return t('settings.error.failed');
}

/** Asks for the account password before something only its owner may do (signing sessions out). */
export function PasswordPrompt({ title, body, confirmLabel, confirm, onDone, onClose }: Props) {
  const password = useSignal('');
  const error = useSignal('');
  const busy = useSignal(false);

  async function onSubmit(event: Event) {
    event.preventDefault();
    if (!password.value) {
      error.value = t('settings.password.required');
      return;
    }
    busy.value = true;
    error.value = '';
    try {
      await confirm(password.value);
      onDone();
    } catch (cause) {
      error.value = failure(cause);
      password.value = '';
      busy.value = false;
      document.getElementById('settings-password')?.focus();
    }
  }

  return (
    <Dialog titleId="settings-password-title" title={title} onClose={onClose}>
      <form class="dialog__form" onSubmit={onSubmit} noValidate>
        <p class="dialog__body">{body}</p>
        <div class="field">
          <label for="settings-password">{t('settings.password.label')}</label>
          <input
            id="settings-password"
            type="password"
            autocomplete="current-password"
            value={password.value}
            aria-invalid={error.value !== ''}
            aria-describedby="settings-password-error"
            autofocus
            onInput={(event) => (password.value = event.currentTarget.value)}
          />
        </div>
        <p id="settings-password-error" class="form-error" role="alert">
          {error.value}
        </p>
        <div class="dialog__actions">
          <button type="button" class="button" onClick={onClose}>
            {t('settings.cancel')}
          </button>
          <button type="submit" class="button button--danger" disabled={busy.value}>
            {busy.value ? t('settings.sessions.signing_out') : confirmLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
