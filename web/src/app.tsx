import { effect, signal } from '@preact/signals';
import type { ComponentType } from 'preact';
import { language, t } from './i18n';
import { bookingDocumentTitle, parseBookingRoute } from './book/route';
import { meetingDocumentTitle, parseMeetingRoute, type MeetingRoute } from './meet/route';
import { phase, session, type Phase, type Session } from './session';
import { LoginView } from './views/login';

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

// A booking page (`/book/<user>/<slug>`) and a booking's manage link (`/book/manage/<id>?t=…`)
// are public too, and their code is a chunk of its own, fetched only for booking links.
const bookingRoute = parseBookingRoute(location);
const bookingView = signal<ComponentType | null>(null);
const bookingViewFailed = signal(false);

function loadBookingView(): void {
  const route = bookingRoute!;
  const view =
    route.kind === 'manage'
      ? import('./views/booking_manage').then(
          ({ BookingManageView }) => () => <BookingManageView route={route} />,
        )
      : import('./views/booking_page').then(
          ({ BookingPageView }) => () => <BookingPageView route={route} />,
        );
  view.then(
    (component) => (bookingView.value = component),
    () => (bookingViewFailed.value = true),
  );
}
if (bookingRoute) loadBookingView();

// The workspace (the chat and matrix-js-sdk) is a chunk of its own too, so a meeting link never
// downloads it; it is fetched at once otherwise, while the login page or the session check runs.
const workspaceView = signal<ComponentType<{ session: Session }> | null>(null);
const workspaceViewFailed = signal(false);

function loadWorkspaceView(): void {
  import('./views/workspace').then(
    (module) => (workspaceView.value = module.WorkspaceView),
    () => (workspaceViewFailed.value = true),
  );
}
if (!meetingRoute && !bookingRoute) loadWorkspaceView();

/** Keeps <html lang> and <title> in step with the language and the view (after initI18n). */
export function syncDocument(): void {
  effect(() => {
    document.documentElement.lang = language.value;
    if (meetingRoute) {
      const title = meetingDocumentTitle.value;
      document.title = title ? t('title.meeting_named', { title }) : t('title.meeting');
    } else if (bookingRoute) {
      document.title = bookingDocumentTitle.value ?? t('title.loading');
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
  if (bookingRoute) {
    const BookingView = bookingView.value;
    if (BookingView) return <BookingView />;
    return <Loading failed={bookingViewFailed.value} />;
  }
  const current = session.value;
  if (phase.value === 'signed-in' && current) {
    const WorkspaceView = workspaceView.value;
    if (WorkspaceView) return <WorkspaceView session={current} />;
    return <Loading failed={workspaceViewFailed.value} />;
  }
  if (phase.value === 'checking') return <Loading />;
  return <LoginView />;
}
