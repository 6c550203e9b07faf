// People's presence as the UI shows it: one of six states from an m.presence event's content
// (the spec's online / unavailable / offline, plus Ruche's "org.ruche.availability": see
// docs/api.md), and the requests the status menu sends to change one's own.
//
// NOTE: Chat.presence reads the User's raw m.presence event into this, not the SDK's User
// fields: the SDK keeps the last non-empty status_msg when a later event has none, so a cleared
// status message would stay on screen.

/** What a dot shows, from most to least reachable. */
export type PresenceState = 'available' | 'away' | 'busy' | 'in_meeting' | 'dnd' | 'offline';

/** Where a busy / in a meeting / do not disturb comes from. */
export type AvailabilitySource = 'user' | 'meeting' | 'calendar';

export interface PresenceInfo {
  state: PresenceState;
  /** The person's status message ('' when none). */
  statusMsg: string;
  /** The spec's state as received (null: no presence known yet). */
  presence: 'online' | 'unavailable' | 'offline' | null;
  source: AvailabilitySource | null;
}

/** What the status menu offers: the choices map onto PUT /presence/{me}/status. */
export type PresenceChoice = 'automatic' | 'busy' | 'dnd' | 'away' | 'offline';
export const kPresenceChoices: PresenceChoice[] = ['automatic', 'busy', 'dnd', 'away', 'offline'];

/** docs/api.md: status_msg is at most 1,024 bytes (UTF-8). */
export const kMaxStatusBytes = 1024;

export const kAvailabilityKey = 'org.ruche.availability';
const kSourceKey = 'org.ruche.availability_source';

const kSpecStates = new Set(['online', 'unavailable', 'offline']);
const kSources = new Set<string>(['user', 'meeting', 'calendar']);

/**
 * The state of an m.presence content. Offline wins (the server hides availabilities then); then
 * do not disturb, in a meeting, busy (each set only by the rule that gives it priority on the
 * server: the user's choice, then a meeting, then the calendar); then away (idle or chosen);
 * else available. No content at all (nobody told us yet) reads as offline.
 */
export function presenceFromContent(content: Record<string, unknown> | null | undefined): PresenceInfo {
  const raw = content?.presence;
  const presence = typeof raw === 'string' && kSpecStates.has(raw) ? (raw as PresenceInfo['presence']) : null;
  const statusMsg = typeof content?.status_msg === 'string' ? content.status_msg : '';
  const rawSource = content?.[kSourceKey];
  const source =
    typeof rawSource === 'string' && kSources.has(rawSource) ? (rawSource as AvailabilitySource) : null;
  const availability = content?.[kAvailabilityKey];
  let state: PresenceState;
  if (presence === null || presence === 'offline') state = 'offline';
  else if (availability === 'dnd') state = 'dnd';
  else if (availability === 'in_meeting') state = 'in_meeting';
  else if (availability === 'busy') state = 'busy';
  else if (presence === 'unavailable') state = 'away';
  else state = 'available';
  return { state, statusMsg, presence, source: state === 'offline' ? null : source };
}

/**
 * Which choice of the status menu is in force, from our own presence. An explicit "unavailable"
 * looks the same as being idle, so `choseAway` (remembered by this client) tells them apart.
 */
export function currentChoice(own: PresenceInfo, choseAway: boolean): PresenceChoice {
  const availability = own.source === 'user' ? own.state : null;
  if (availability === 'dnd') return 'dnd';
  if (availability === 'busy') return 'busy';
  // A connected client that sees itself offline has chosen to appear so: an automatic offline
  // only comes once no /sync has been open for a while.
  if (own.presence === 'offline') return 'offline';
  if (own.presence === 'unavailable' && choseAway) return 'away';
  return 'automatic';
}

/**
 * The body of PUT /presence/{me}/status for a choice: `presence`, the status message, and
 * Ruche's availability (null clears the user's own, handing back to meetings and calendars).
 */
export function presenceRequest(choice: PresenceChoice, statusMsg: string): Record<string, unknown> {
  const presence = choice === 'away' ? 'unavailable' : choice === 'offline' ? 'offline' : 'online';
  const availability = choice === 'busy' || choice === 'dnd' ? choice : null;
  return { presence, status_msg: statusMsg, [kAvailabilityKey]: availability };
}

/** The length of `text` in UTF-8 bytes, which is what the server limits. */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}
