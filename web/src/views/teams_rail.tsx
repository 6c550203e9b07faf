import logoUrl from '../assets/ruche-logo.svg';
import type { Chat } from '../chat/chat_client';
import { sidebarLists, teamsOf, teamUnread, unreadCount } from '../chat/room_lists';
import { t } from '../i18n';

interface Props {
  chat: Chat;
  teamId: string | null;
  onSelect: (teamId: string | null) => void;
  onCreateTeam: () => void;
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
export function TeamsRail({ chat, teamId, onSelect, onCreateTeam }: Props) {
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
            class={teamId === null ? 'rail__item rail__item--active' : 'rail__item'}
            aria-current={teamId === null ? 'page' : undefined}
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
          const active = team.roomId === teamId;
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
      </ul>
    </nav>
  );
}
