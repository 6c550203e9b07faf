// Chat or Calendar: which part of the workspace is shown, kept in the URL (`/calendar` or not,
// with history.pushState so Back returns), and the calendar's code loaded on demand — a chunk of
// its own (views/calendar.tsx and src/calendar/), so the chat never downloads it.
import { signal } from '@preact/signals';
import type { ComponentType } from 'preact';
import { t } from '../i18n';
import type { Session } from '../session';

export type WorkspaceSection = 'chat' | 'calendar';

const kCalendarPath = '/calendar';
const sectionOf = (path: string): WorkspaceSection =>
  path === kCalendarPath || path.startsWith(`${kCalendarPath}/`) ? 'calendar' : 'chat';

export const workspaceSection = signal<WorkspaceSection>(sectionOf(location.pathname));

const calendarView = signal<ComponentType<{ session: Session }> | null>(null);
const calendarViewFailed = signal(false);
let calendarRequested = false;

function loadCalendarView(): void {
  if (calendarRequested && !calendarViewFailed.value) return;
  calendarRequested = true;
  calendarViewFailed.value = false;
  import('./calendar').then(
    (module) => (calendarView.value = module.CalendarView),
    () => (calendarViewFailed.value = true), // offline, or a new deployment replaced the chunk
  );
}

/** Shows `next` and records it in the history (Back goes to the previous section). */
export function showSection(next: WorkspaceSection): void {
  if (next === 'calendar') loadCalendarView();
  if (workspaceSection.peek() === next) return;
  const path = next === 'calendar' ? kCalendarPath : '/';
  history.pushState({ section: next }, '', path);
  workspaceSection.value = next;
}

addEventListener('popstate', () => {
  workspaceSection.value = sectionOf(location.pathname);
  if (workspaceSection.value === 'calendar') loadCalendarView();
});
if (workspaceSection.value === 'calendar') loadCalendarView();

/** The calendar, or a loading line while its chunk comes. */
export function CalendarSection({ session }: { session: Session }) {
  const View = calendarView.value;
  if (View) return <View session={session} />;
  const failed = calendarViewFailed.value;
  return (
    <div class="loading">
      {failed ? null : <span class="spinner" aria-hidden="true" />}
      <p role={failed ? 'alert' : 'status'}>{t(failed ? 'app.load_failed' : 'app.loading')}</p>
    </div>
  );
}
