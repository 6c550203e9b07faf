import { useSignal, useSignalEffect } from '@preact/signals';
import { HttpApiEvent, KnownMembership } from 'matrix-js-sdk/lib/matrix.js';
import { useEffect, useMemo } from 'preact/hooks';
import logoUrl from '../assets/ruche-logo.svg';
import { Chat } from '../chat/chat_client';
import { sidebarLists } from '../chat/room_lists';
import { ComposeIcon } from '../components/chat_icons';
import { LanguageSelect } from '../components/language_select';
import { Logo } from '../components/logo';
import { t } from '../i18n';
import { sessionRevoked, signOut, type Session } from '../session';
import { Avatar } from '../settings/avatar';
import { useOwnProfile } from '../settings/own_profile';
import { SettingsIcon, SettingsLoader, preloadSettings } from '../settings/settings_launcher';
import { CreateRoomDialog } from './create_room_dialog';
import { InviteDialog } from './invite_dialog';
import { LeaveRoomDialog } from './leave_room_dialog';
import { NewDmDialog } from './new_dm_dialog';
import { PresenceDot, presenceLabel } from './presence_dot';
import { RoomSidebar } from './room_sidebar';
import { RoomView } from './room_view';
import { SearchBar } from './search_bar';
import { StatusMenu } from './status_menu';
import type { TimelineFocus } from './timeline';
import { TeamsRail } from './teams_rail';
import { CalendarSection, showSection, workspaceSection } from './calendar_section';

/** "@alice:example.org" → "alice"; "example.org". */
function splitUserId(userId: string): { localpart: string; server: string } {
  const match = /^@([^:]+):(.+)$/.exec(userId);
  return match ? { localpart: match[1], server: match[2] } : { localpart: userId, server: '' };
}

type DialogKind =
  | 'team'
  | 'channel'
  | 'invite'
  | 'direct'
  | 'status'
  | 'settings'
  | 'leave-team'
  | null;

let jumpCount = 0; // numbers each jump to a search result, so a repeated one still happens

/**
 * The signed-in shell: top bar, teams rail, conversation sidebar and the open room (or a welcome
 * page). Owns the Matrix client for as long as the session lasts.
 */
export function WorkspaceView({ session }: { session: Session }) {
  const { localpart, server } = splitUserId(session.userId);
  const navOpen = useSignal(false); // the navigation drawer, on narrow screens only
  const signingOut = useSignal(false);
  const teamId = useSignal<string | null>(null);
  const roomId = useSignal<string | null>(null);
  const dialog = useSignal<DialogKind>(null);
  // The message a search result asked for, handed to the room once it is open.
  const jump = useSignal<(TimelineFocus & { roomId: string }) | null>(null);

  const chat = useMemo(() => new Chat(session), [session.accessToken]);
  useEffect(() => {
    void chat.start();
    // Signed out from another session (Settings → Sessions): back to the login page.
    chat.client.on(HttpApiEvent.SessionLoggedOut, sessionRevoked);
    return () => {
      chat.client.off(HttpApiEvent.SessionLoggedOut, sessionRevoked);
      chat.stop();
    };
  }, [chat]);
  chat.revision.value; // re-render on every change
  const profile = useOwnProfile(chat);
  const ownName = profile.displayName.value || session.userId;

  // A team just created may not have come down /sync yet, and one left is gone: either way the
  // sidebar shows Home until the team is there.
  const selectedTeam = chat.room(teamId.value);
  const team = selectedTeam?.getMyMembership() === KnownMembership.Join ? selectedTeam : null;
  const channelTeam = useSignal<string | null>(null); // the team of the channel being created
  const room = chat.room(roomId.value);
  const openRoom = room?.getMyMembership() === KnownMembership.Join ? room : null;
  const direct = openRoom ? chat.directRoomIds().has(openRoom.roomId) : false;
  const ownPresence = chat.presence(session.userId);

  function selectRoom(id: string) {
    showSection('chat');
    roomId.value = id;
    jump.value = null;
    navOpen.value = false;
    // After the click that chose it, the reader is in the room: put them in its composer.
    setTimeout(() => document.getElementById('room-composer')?.focus(), 0);
  }

  /** After leaving a room: the next one of the same sidebar (team or Home), else the welcome. */
  function afterLeaving(leftId: string) {
    const { channels, directs } = sidebarLists(chat, team?.roomId ?? null);
    const next = [...channels, ...directs].find((candidate) => candidate.roomId !== leftId);
    if (next) {
      selectRoom(next.roomId);
    } else {
      roomId.value = null;
      document.getElementById('main')?.focus();
    }
  }

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
    chat.stop();
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
        <SearchBar
          chat={chat}
          onOpen={(id, eventId) => {
            roomId.value = id;
            navOpen.value = false;
            jump.value = { roomId: id, eventId, seq: ++jumpCount };
          }}
        />
        <button
          type="button"
          class="button button--quiet topbar__new-message"
          title={t('direct.new_message')}
          onClick={() => (dialog.value = 'direct')}
        >
          <ComposeIcon />
          <span class="topbar__new-message-text">{t('direct.new_message')}</span>
        </button>
        <div class="topbar__spacer" />
        <button
          type="button"
          class="topbar__user"
          title={`${session.userId} · ${presenceLabel(ownPresence)}`}
          aria-haspopup="dialog"
          aria-expanded={dialog.value === 'status'}
          onClick={() => (dialog.value = 'status')}
        >
          {/* Named by its text, which holds the visible user ID (WCAG 2.5.3). */}
          <span class="visually-hidden">{t('workspace.signed_in_as')} </span>
          <span class="avatar-with-presence" aria-hidden="true">
            <Avatar chat={chat} mxc={profile.avatarUrl.value} name={ownName} />
            <PresenceDot info={ownPresence} decorative class="presence-dot--on-avatar" />
          </span>
          <span class="topbar__user-id">{ownName}</span>
          <span class="visually-hidden">
            {t('presence.menu_button_end', { presence: presenceLabel(ownPresence) })}
          </span>
        </button>
        <LanguageSelect id="workspace-language" compact />
        <button
          type="button"
          class="icon-button"
          aria-label={t('workspace.settings')}
          title={t('workspace.settings')}
          aria-haspopup="dialog"
          aria-expanded={dialog.value === 'settings'}
          onPointerEnter={preloadSettings}
          onFocus={preloadSettings}
          onClick={() => (dialog.value = 'settings')}
        >
          <SettingsIcon />
        </button>
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
        <TeamsRail
          chat={chat}
          teamId={team?.roomId ?? null}
          onSelect={(id) => {
            teamId.value = id;
            showSection('chat');
          }}
          onCreateTeam={() => (dialog.value = 'team')}
          calendarActive={workspaceSection.value === 'calendar'}
          onCalendar={() => {
            showSection('calendar');
            navOpen.value = false;
          }}
        />
        {workspaceSection.value === 'calendar' ? null : (
        <RoomSidebar
          chat={chat}
          teamId={team?.roomId ?? null}
          title={team?.name ?? server}
          selectedRoomId={openRoom?.roomId ?? null}
          onSelect={selectRoom}
          onCreateChannel={() => {
            channelTeam.value = team?.roomId ?? null;
            dialog.value = 'channel';
          }}
          onLeaveTeam={() => (dialog.value = 'leave-team')}
        />
        )}
      </div>
      <div class="workspace__backdrop" aria-hidden="true" onClick={() => (navOpen.value = false)} />

      <main class="workspace__main" id="main" tabIndex={-1}>
        {workspaceSection.value === 'calendar' ? (
          <CalendarSection session={session} />
        ) : openRoom ? (
          <RoomView
            key={openRoom.roomId}
            chat={chat}
            room={openRoom}
            direct={direct}
            onInvite={() => (dialog.value = 'invite')}
            jumpTo={jump.value?.roomId === openRoom.roomId ? jump.value : null}
            onLeft={afterLeaving}
          />
        ) : (
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
        )}
      </main>

      {dialog.value === 'team' ? (
        <CreateRoomDialog
          kind="team"
          create={(name, topic) => chat.createTeam(name, topic)}
          onCreated={(id) => {
            dialog.value = null;
            teamId.value = id;
          }}
          onClose={() => (dialog.value = null)}
        />
      ) : null}
      {dialog.value === 'channel' ? (
        <CreateRoomDialog
          kind="channel"
          teamName={chat.room(channelTeam.value)?.name ?? null}
          create={(name, topic) => chat.createChannel(name, topic, channelTeam.value)}
          onCreated={(id) => {
            dialog.value = null;
            selectRoom(id);
          }}
          onClose={() => (dialog.value = null)}
        />
      ) : null}
      {dialog.value === 'direct' ? (
        <NewDmDialog
          chat={chat}
          onOpened={(id) => {
            dialog.value = null;
            teamId.value = null; // direct chats are listed on Home
            selectRoom(id);
          }}
          onClose={() => (dialog.value = null)}
        />
      ) : null}
      {dialog.value === 'settings' ? (
        <SettingsLoader
          chat={chat}
          session={session}
          profile={profile}
          onClose={() => (dialog.value = null)}
        />
      ) : null}
      {dialog.value === 'status' ? (
        <StatusMenu chat={chat} onClose={() => (dialog.value = null)} />
      ) : null}
      {dialog.value === 'leave-team' && team ? (
        <LeaveRoomDialog
          chat={chat}
          room={team}
          team
          onClose={() => (dialog.value = null)}
          onLeft={() => {
            dialog.value = null;
            teamId.value = null; // Home; a channel of the team left open stays open
            document.getElementById('main')?.focus();
          }}
        />
      ) : null}
      {dialog.value === 'invite' && openRoom ? (
        <InviteDialog
          roomName={chat.roomName(openRoom)}
          serverName={chat.serverName}
          invite={(userId) => chat.client.invite(openRoom.roomId, userId).then(() => undefined)}
          onClose={() => (dialog.value = null)}
        />
      ) : null}
    </div>
  );
}
