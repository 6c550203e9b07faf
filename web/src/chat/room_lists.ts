// What the rail and the sidebar list: teams (Matrix spaces), the channels of the selected team
// (its m.space.child rooms) or, on Home, the rooms in no team; direct chats (m.direct account
// data); invitations. Also the unread counts shown as badges.
import { EventType, KnownMembership, type MatrixEvent, type Room } from 'matrix-js-sdk/lib/matrix.js';
import { kSpaceType, type Chat } from './chat_client';

export interface SidebarLists {
  channels: Room[];
  directs: Room[];
  invites: Room[];
}

function isSpace(room: Room): boolean {
  return room.getType() === kSpaceType;
}

function byName(a: Room, b: Room): number {
  return a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
}

/** Joined teams, by name. */
export function teamsOf(chat: Chat): Room[] {
  return chat.client
    .getRooms()
    .filter((room) => room.getMyMembership() === KnownMembership.Join && isSpace(room))
    .sort(byName);
}

/** Room IDs a space lists as children: m.space.child state events with a non-empty `via`. */
function childIds(space: Room): string[] {
  return space.currentState
    .getStateEvents(EventType.SpaceChild)
    .filter((event) => {
      const via = event.getContent().via;
      return Array.isArray(via) && via.length > 0;
    })
    .map((event) => event.getStateKey() ?? '')
    .filter(Boolean);
}

/** The sidebar's sections for `teamId` (null: Home). */
export function sidebarLists(chat: Chat, teamId: string | null): SidebarLists {
  const rooms = chat.client.getRooms();
  const directIds = chat.directRoomIds();
  const joined = rooms.filter(
    (room) => room.getMyMembership() === KnownMembership.Join && !isSpace(room),
  );

  let channels: Room[];
  if (teamId) {
    const team = chat.client.getRoom(teamId);
    const children = new Set(team ? childIds(team) : []);
    channels = joined.filter((room) => children.has(room.roomId) && !directIds.has(room.roomId));
  } else {
    const inTeam = new Set<string>();
    for (const team of teamsOf(chat)) for (const id of childIds(team)) inTeam.add(id);
    channels = joined.filter((room) => !inTeam.has(room.roomId) && !directIds.has(room.roomId));
  }
  const directs = joined.filter((room) => directIds.has(room.roomId));
  const invites = rooms.filter((room) => room.getMyMembership() === KnownMembership.Invite);
  return { channels: channels.sort(byName), directs: directs.sort(byName), invites };
}

/** Messages from others after our read receipt, among the loaded events. */
function unreadMessages(room: Room, userId: string): MatrixEvent[] {
  const readUpTo = room.getEventReadUpTo(userId);
  const events = room.getLiveTimeline().getEvents();
  const unread: MatrixEvent[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i];
    if (event.getId() === readUpTo) break;
    if (event.getSender() === userId) break; // we wrote after it: we had read what came before
    if (event.getType() === EventType.RoomMessage && !event.isRedacted()) {
      const relation = event.getRelation()?.rel_type;
      if (relation !== 'm.replace') unread.push(event);
    }
  }
  return unread;
}

export function unreadCount(room: Room, userId: string): number {
  return unreadMessages(room, userId).length;
}

/**
 * Unread messages that mention us: those the push rules highlight (chat/notifications.ts).
 * NOTE: counted here, among the loaded events, like unreadCount. Ruche's /sync now sends
 * unread_notifications (server-side push rules, the whole history after the receipt); moving the
 * badges onto them (Room.getUnreadNotificationCount) is a follow-up.
 */
export function mentionCount(chat: Chat, room: Room): number {
  return unreadMessages(room, chat.userId).filter((event) => chat.notifier.mentionsMe(event))
    .length;
}

/** The unread total of a team's channels. */
export function teamUnread(chat: Chat, team: Room): number {
  let total = 0;
  for (const id of childIds(team)) {
    const room = chat.client.getRoom(id);
    if (room && room.getMyMembership() === KnownMembership.Join) {
      total += unreadCount(room, chat.userId);
    }
  }
  return total;
}
