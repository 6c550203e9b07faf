import { effect, signal } from '@preact/signals';
import type { ComponentType } from 'preact';
import { language, t } from './i18n';
import { meetingDocumentTitle, parseMeetingRoute, type MeetingRoute } from './meet/route';
import { phase, session, type Phase } from './session';
import { LoginView } from './views/login';
import { WorkspaceView } from './views/workspace';

const kTitles: Record<Phase, string> = {
  'checking': 'title.loading',
  'signed-out': 'title.login',
  'signed-in': 'title.workspace',
};

// A meeting link (`/meet/<id>?k=…`) opens the meeting page whether signed in or not. Its code
// is a separate chunk, fetched only for meeting links, so the chat never loads it.
const meetingRoute = parseMeetingRoute(location);
const meetingView = signal<ComponentType<{ route: MeetingRoute }> | null>(null);
const meetingViewFailed = signal(false);

function loadMeetingView(): void {
  import('./views/meeting').then(
    (module) => (meetingView.value = module.MeetingView),
    () => (meetingViewFailed.value = true), // offline, or a new deployment replaced the chunk
  );
}
if (meetingRoute) loadMeetingView();

/** Keeps <html lang> and <title> in step with the language and the view (after initI18n). */
export function syncDocument(): void {
  effect(() => {
    document.documentElement.lang = language.value;
    if (meetingRoute) {
      const title = meetingDocumentTitle.value;
      document.title = title ? t('title.meeting_named', { title }) : t('title.meeting');
    } else {
      document.title = t(kTitles[phase.value]);
    }
  });
}

function Loading({ failed = false }: { failed?: boolean }) {
  return (
    <main class="loading" id="main">
      {failed ? null : <span class="spinner" aria-hidden="true" />}
      <p role={failed ? 'alert' : 'status'}>{t(failed ? 'app.load_failed' : 'app.loading')}</p>
    </main>
  );
}

export function App() {
  if (meetingRoute) {
    const MeetingView = meetingView.value;
    if (MeetingView) return <MeetingView route={meetingRoute} />;
    return <Loading failed={meetingViewFailed.value} />;
  }
  const current = session.value;
  if (phase.value === 'signed-in' && current) return <WorkspaceView session={current} />;
  if (phase.value === 'checking') return <Loading />;
  return <LoginView />;
}
