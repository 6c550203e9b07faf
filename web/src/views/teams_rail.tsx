import logoUrl from '../assets/ruche-logo.svg';
import type { Chat } from '../chat/chat_client';
import { sidebarLists, teamsOf, teamUnread, unreadCount } from '../chat/room_lists';
import { t } from '../i18n';

interface Props {
  chat: Chat;
  teamId: string | null;
  onSelect: (teamId: string | null) => void;
  onCreateTeam: () => void;
  /** The calendar is shown (then no team is the current page). */
  calendarActive?: boolean;
  onCalendar?: () => void;
}

function Badge({ count }: { count: number }) {
  if (count === 0) return null;
  return (
    <span class="rail__badge" aria-hidden="true">
      {count > 99 ? '99+' : count}
    </span>
  );
}

/** The rail of teams (Matrix spaces): Home first, each team with its unread count, then "+". */
export function TeamsRail({ chat, teamId, onSelect, onCreateTeam, calendarActive = false, onCalendar }: Props) {
  chat.revision.value;
  const teams = teamsOf(chat);
  const home = sidebarLists(chat, null);
  const homeUnread = [...home.channels, ...home.directs].reduce(
    (total, room) => total + unreadCount(room, chat.userId),
    0,
  );

  function label(name: string, unread: number) {
    return unread ? t('workspace.team_unread', { name, count: unread }) : name;
  }

  return (
    <nav class="rail" aria-label={t('workspace.teams')}>
      <ul class="rail__list">
        <li>
          <button
            type="button"
            class={teamId === null && !calendarActive ? 'rail__item rail__item--active' : 'rail__item'}
            aria-current={teamId === null && !calendarActive ? 'page' : undefined}
            aria-label={label(t('workspace.home'), homeUnread)}
            title={t('workspace.home')}
            onClick={() => onSelect(null)}
          >
            <img src={logoUrl} alt="" class="rail__icon" />
            <Badge count={homeUnread} />
          </button>
        </li>
        {teams.map((team) => {
          const unread = teamUnread(chat, team);
          const active = team.roomId === teamId && !calendarActive;
          return (
            <li key={team.roomId}>
              <button
                type="button"
                class={active ? 'rail__item rail__item--active' : 'rail__item'}
                aria-current={active ? 'page' : undefined}
                aria-label={label(team.name, unread)}
                title={team.name}
                onClick={() => onSelect(team.roomId)}
              >
                <span class="rail__initial" aria-hidden="true">
                  {team.name.charAt(0).toLocaleUpperCase()}
                </span>
                <Badge count={unread} />
              </button>
            </li>
          );
        })}
        <li>
          <button
            type="button"
            class="rail__item rail__item--add"
            aria-label={t('workspace.create_team')}
            title={t('workspace.create_team')}
            onClick={onCreateTeam}
          >
            <span class="plus-icon" aria-hidden="true" />
          </button>
        </li>
        {onCalendar ? (
          <li class="rail__calendar">
            <button
              type="button"
              class={calendarActive ? 'rail__item rail__item--active' : 'rail__item'}
              aria-current={calendarActive ? 'page' : undefined}
              aria-label={t('workspace.calendar')}
              title={t('workspace.calendar')}
              onClick={onCalendar}
            >
              <svg class="rail__svg" viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
                <rect x="3" y="5" width="18" height="16" rx="2" />
                <path d="M3 10h18M8 3v4M16 3v4" />
              </svg>
            </button>
          </li>
        ) : null}
      </ul>
    </nav>
  );
}
