import { useSignal } from '@preact/signals';
import { MatrixError, NetworkError } from '../api/matrix_client';
import { LanguageSelect } from '../components/language_select';
import { Logo } from '../components/logo';
import { t } from '../i18n';
import { signIn } from '../session';

/** What went wrong, as a locale key (and count), so the message follows language switches. */
interface LoginError {
  key: string;
  count?: number;
}

function describe(error: unknown): LoginError {
  if (error instanceof NetworkError) return { key: 'login.error.network' };
  if (error instanceof MatrixError) {
    if (error.errcode === 'M_FORBIDDEN') return { key: 'login.error.forbidden' };
    if (error.errcode === 'M_LIMIT_EXCEEDED') {
      if (error.retryAfterMs === undefined) return { key: 'login.error.rate_limited_later' };
      const seconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
      return { key: 'login.error.rate_limited', count: seconds };
    }
  }
  return { key: 'login.error.unknown' };
}

export function LoginView() {
  const username = useSignal('');
  const password = useSignal('');
  const busy = useSignal(false);
  const error = useSignal<LoginError | null>(null);

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy.value) return;
    busy.value = true;
    error.value = null;
    try {
      await signIn(username.value.trim(), password.value);
    } catch (failure) {
      error.value = describe(failure);
      busy.value = false;
    }
  }

  return (
    <div class="login-page">
      <header class="login-page__bar">
        <LanguageSelect id="login-language" />
      </header>
      <main class="login-page__main" id="main">
        <div class="login-card">
          <Logo size="large" />
          <h1 class="login-card__heading">{t('login.heading')}</h1>
          <p class="login-card__intro">{t('login.intro')}</p>
          {/* method="post": were the handler ever missing, the password stays out of the URL. */}
          <form class="login-form" method="post" onSubmit={onSubmit}>
            <div class="field">
              <label for="login-username">{t('login.username')}</label>
              <input
                id="login-username"
                name="username"
                type="text"
                autocomplete="username"
                autocapitalize="none"
                spellcheck={false}
                required
                value={username.value}
                onInput={(e) => (username.value = e.currentTarget.value)}
              />
            </div>
            <div class="field">
              <label for="login-password">{t('login.password')}</label>
              <input
                id="login-password"
                name="password"
                type="password"
                autocomplete="current-password"
                required
                value={password.value}
                onInput={(e) => (password.value = e.currentTarget.value)}
              />
            </div>
            <p id="login-error" class="form-error" role="alert">
              {error.value ? t(error.value.key, { count: error.value.count }) : null}
            </p>
            <button
              type="submit"
              class="button button--primary button--block"
              disabled={busy.value}
            >
              {busy.value ? t('login.submitting') : t('login.submit')}
            </button>
          </form>
        </div>
        <p class="login-page__tagline">{t('app.tagline')}</p>
      </main>
    </div>
  );
}
