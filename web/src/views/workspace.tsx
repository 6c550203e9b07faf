import { useSignal, useSignalEffect } from '@preact/signals';
import logoUrl from '../assets/ruche-logo.svg';
import { LanguageSelect } from '../components/language_select';
import { Logo } from '../components/logo';
import { t } from '../i18n';
import { signOut, type Session } from '../session';

/** "@alice:example.org" → "alice"; "example.org". */
function splitUserId(userId: string): { localpart: string; server: string } {
  const match = /^@([^:]+):(.+)$/.exec(userId);
  return match ? { localpart: match[1], server: match[2] } : { localpart: userId, server: '' };
}

/** The signed-in shell: top bar, teams rail, conversation sidebar and main pane (empty for now). */
export function WorkspaceView({ session }: { session: Session }) {
  const { localpart, server } = splitUserId(session.userId);
  const navOpen = useSignal(false); // the navigation drawer, on narrow screens only
  const signingOut = useSignal(false);

  useSignalEffect(() => {
    if (!navOpen.value) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') navOpen.value = false;
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });

  async function onSignOut() {
    signingOut.value = true;
    await signOut();
  }

  return (
    <div class={navOpen.value ? 'workspace workspace--nav-open' : 'workspace'}>
      <a class="skip-link" href="#main">
        {t('app.skip_to_main')}
      </a>
      <header class="topbar">
        <button
          type="button"
          class="icon-button topbar__menu"
          aria-controls="workspace-nav"
          aria-expanded={navOpen.value}
          aria-label={t(navOpen.value ? 'workspace.hide_navigation' : 'workspace.show_navigation')}
          onClick={() => (navOpen.value = !navOpen.value)}
        >
          <span class="menu-icon" aria-hidden="true" />
        </button>
        <Logo />
        <div class="topbar__spacer" />
        <p class="topbar__user" title={session.userId}>
          <span class="visually-hidden">{t('workspace.signed_in_as')} </span>
          <span class="avatar" aria-hidden="true">
            {localpart.charAt(0).toUpperCase()}
          </span>
          <span class="topbar__user-id">{session.userId}</span>
        </p>
        <LanguageSelect id="workspace-language" compact />
        <button
          type="button"
          class="button button--quiet"
          onClick={onSignOut}
          disabled={signingOut.value}
        >
          {signingOut.value ? t('workspace.signing_out') : t('workspace.sign_out')}
        </button>
      </header>

      <div class="workspace__nav" id="workspace-nav">
        <nav class="rail" aria-label={t('workspace.teams')}>
          <ul class="rail__list">
            <li>
              <button
                type="button"
                class="rail__item rail__item--active"
                aria-current="page"
                aria-label={t('workspace.home')}
                title={t('workspace.home')}
              >
                <img src={logoUrl} alt="" class="rail__icon" />
              </button>
            </li>
            <li>
              <button
                type="button"
                class="rail__item rail__item--add"
                disabled
                aria-label={t('workspace.create_team')}
                title={t('workspace.create_team')}
              >
                <span class="plus-icon" aria-hidden="true" />
              </button>
            </li>
          </ul>
        </nav>
        <nav class="sidebar" aria-label={t('workspace.conversations')}>
          <p class="sidebar__server">{server}</p>
          <section class="sidebar__section" aria-labelledby="sidebar-channels">
            <h2 id="sidebar-channels" class="sidebar__heading">
              {t('workspace.channels')}
            </h2>
            <p class="sidebar__empty">{t('workspace.channels_empty')}</p>
          </section>
          <section class="sidebar__section" aria-labelledby="sidebar-direct">
            <h2 id="sidebar-direct" class="sidebar__heading">
              {t('workspace.direct_messages')}
            </h2>
            <p class="sidebar__empty">{t('workspace.direct_messages_empty')}</p>
          </section>
        </nav>
      </div>
      <div class="workspace__backdrop" aria-hidden="true" onClick={() => (navOpen.value = false)} />

      <main class="workspace__main" id="main" tabIndex={-1}>
        <div class="welcome">
          <img src={logoUrl} alt="" class="welcome__mark" />
          <h1 class="welcome__heading">{t('workspace.welcome', { name: localpart })}</h1>
          <p class="welcome__body">{t('workspace.welcome_body')}</p>
          <section class="welcome__tips" aria-labelledby="welcome-tips">
            <h2 id="welcome-tips">{t('workspace.getting_started')}</h2>
            <ul>
              <li>{t('workspace.tip_channels')}</li>
              <li>{t('workspace.tip_direct')}</li>
              <li>{t('workspace.tip_language')}</li>
            </ul>
          </section>
        </div>
      </main>
    </div>
  );
}
