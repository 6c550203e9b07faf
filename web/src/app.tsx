import { effect } from '@preact/signals';
import { language, t } from './i18n';
import { phase, session, type Phase } from './session';
import { LoginView } from './views/login';
import { WorkspaceView } from './views/workspace';

const kTitles: Record<Phase, string> = {
  'checking': 'title.loading',
  'signed-out': 'title.login',
  'signed-in': 'title.workspace',
};

/** Keeps <html lang> and <title> in step with the language and the view (after initI18n). */
export function syncDocument(): void {
  effect(() => {
    document.documentElement.lang = language.value;
    document.title = t(kTitles[phase.value]);
  });
}

export function App() {
  const current = session.value;
  if (phase.value === 'signed-in' && current) return <WorkspaceView session={current} />;
  if (phase.value === 'checking') {
    return (
      <main class="loading" id="main">
        <span class="spinner" aria-hidden="true" />
        <p role="status">{t('app.loading')}</p>
      </main>
    );
  }
  return <LoginView />;
}
