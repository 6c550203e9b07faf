// The signed-in user's Matrix client: npm's matrix-js-sdk against our own origin, without
// end-to-end encryption. Views read the SDK's rooms directly and re-render when `revision`
// changes; every SDK event they care about bumps it, coalesced to one bump per task so a sync
// with a hundred events renders once. Writes go through the methods below so the views never
// build event contents themselves.
//
// NOTE: everything imports lib/matrix.js, not the package's browser entry, which also registers
// an IndexedDB store for the legacy crypto we do not use (about 20 KB gzip less).
import { signal } from '@preact/signals';
import {
  ClientEvent,
  createClient,
  Direction,
  EventTimeline,
  EventType,
  KnownMembership,
  MatrixEventEvent,
  Method,
  Preset,
  ReceiptType,
  RoomEvent,
  RoomMemberEvent,
  RoomStateEvent,
  SearchOrderBy,
  SyncState,
  UserEvent,
  type IContextResponse,
  type IResultRoomEvents,
  type MatrixClient,
  type MatrixEvent,
  type Room,
} from 'matrix-js-sdk/lib/matrix.js';
import { logger } from 'matrix-js-sdk/lib/logger.js';
import type { Session } from '../session';
import { editMentions, textMessageContent, type Mention, type MentionsProperty } from './mentions';
import { RoomNotifier } from './notifications';
import {
  presenceFromContent,
  presenceRequest,
  type PresenceChoice,
  type PresenceInfo,
} from './presence';

/** starting: before the first sync; offline: syncs fail and the SDK keeps retrying. */
export type ChatState = 'starting' | 'ready' | 'offline' | 'failed';

const kInitialSyncLimit = 30;
const kPageSize = 30;
const kTypingTimeoutMs = 20_000;
export const kSpaceType = 'm.space';

export interface SendOptions {
  /** The event this message answers (m.in_reply_to). */
  replyTo?: MatrixEvent | null;
  /** The thread root, when the message goes into a thread (rel_type m.thread). */
  threadRoot?: string | null;
  /** People (and @room) picked in the composer's suggestions (chat/mentions.ts). */
  mentions?: Mention[];
}

// The SDK types each event type's content; our contents are built at run time, so the calls
// below go through this looser view of the same methods.
interface LooseSender {
  sendEvent(roomId: string, type: string, content: Record<string, unknown>): Promise<unknown>;
  sendStateEvent(
    roomId: string,
    type: string,
    content: Record<string, unknown>,
    stateKey?: string,
  ): Promise<unknown>;
  setAccountData(type: string, content: Record<string, unknown>): Promise<unknown>;
}

export class Chat {
  readonly client: MatrixClient;
  readonly userId: string;
  readonly serverName: string;
  /** Bumped whenever rooms, timelines, receipts, typing or account data change. */
  readonly revision = signal(0);
  readonly state = signal<ChatState>('starting');
  /** Thread replies fetched with /relations, by thread root (the live timeline may miss old ones). */
  private readonly threadEvents = new Map<string, MatrixEvent[]>();
  /** Pages of older messages being fetched, by room: one at a time per room. */
  private readonly paging = new Map<string, Promise<boolean>>();
  private bumpQueued = false;
  private typingRoom: string | null = null;
  /** Browser notifications and per-room notification settings (chat/notifications.ts). */
  readonly notifier: RoomNotifier;

  constructor(session: Session) {
    // The SDK logs at error level for things that are not errors of ours (no TURN server, state
    // of a room it has not stored yet); keep the console for the app's own problems.
    const level = import.meta.env.DEV ? 'warn' : 'silent';
    logger.setLevel(level, false);
    // Module loggers are made at import time with their own level: name the noisy ones.
    (logger.getChild('MatrixRTCSessionManager') as typeof logger).setLevel(level, false);
    this.userId = session.userId;
    this.serverName = session.userId.slice(session.userId.indexOf(':') + 1);
    this.client = createClient({
      baseUrl: location.origin,
      accessToken: session.accessToken,
      userId: session.userId,
      deviceId: session.deviceId || undefined,
      timelineSupport: false,
    });
    const bump = () => this.bump();
    const client = this.client;
    client.on(ClientEvent.Sync, (syncState) => {
      if (syncState === SyncState.Prepared || syncState === SyncState.Syncing) {
        this.state.value = 'ready';
      } else if (syncState === SyncState.Error || syncState === SyncState.Reconnecting) {
        if (this.state.value !== 'starting') this.state.value = 'offline';
      }
      bump();
    });
    client.on(ClientEvent.Room, bump);
    client.on(ClientEvent.DeleteRoom, bump);
    client.on(ClientEvent.AccountData, bump);
    client.on(RoomEvent.Timeline, bump);
    client.on(RoomEvent.TimelineReset, bump);
    client.on(RoomEvent.Redaction, bump);
    client.on(RoomEvent.Receipt, bump);
    client.on(RoomEvent.Name, bump);
    client.on(RoomEvent.MyMembership, bump);
    client.on(RoomEvent.LocalEchoUpdated, bump);
    client.on(RoomMemberEvent.Typing, bump);
    client.on(RoomMemberEvent.Name, bump);
    client.on(RoomStateEvent.Events, bump);
    client.on(MatrixEventEvent.Replaced, bump);
    // Every m.presence event (a status message or an availability change leaves `presence` as
    // it was, so UserEvent.Presence alone would miss them).
    client.on(UserEvent.LastPresenceTs, bump);
    this.notifier = new RoomNotifier(this);
  }

  async start(): Promise<void> {
    try {
      await this.client.startClient({
        initialSyncLimit: kInitialSyncLimit,
        lazyLoadMembers: false,
        threadSupport: false,
      });
    } catch {
      this.state.value = 'failed';
    }
  }

  stop(): void {
    this.client.stopClient();
    this.client.removeAllListeners();
  }

  private bump(): void {
    if (this.bumpQueued) return;
    this.bumpQueued = true;
    setTimeout(() => {
      this.bumpQueued = false;
      this.revision.value += 1;
    }, 0);
  }

  private get loose(): LooseSender {
    return this.client as unknown as LooseSender;
  }

  // ---- Reading ------------------------------------------------------------------------------

  room(roomId: string | null): Room | null {
    return roomId ? this.client.getRoom(roomId) : null;
  }

  /** A member's display name in `room`, else the user ID's localpart. */
  displayName(room: Room | null, userId: string): string {
    const name = room?.getMember(userId)?.name || this.client.getUser(userId)?.displayName;
    return name && name !== userId ? name : localpart(userId);
  }

  /**
   * A room's name: its m.room.name or alias when it has one, else the people in it by our
   * display rules. NOTE: the SDK's own fallback shows an invitee without a display name by
   * user ID, and an invitation whose stripped state lacks the inviter as "Empty room".
   */
  roomName(room: Room): string {
    const named = room.currentState.getStateEvents(EventType.RoomName, '')?.getContent().name;
    if ((typeof named === 'string' && named) || room.getCanonicalAlias()) return room.name;
    const others = room
      .getMembers()
      .filter((member) => {
        if (member.userId === this.userId) return false;
        const membership = member.membership;
        return membership === KnownMembership.Join || membership === KnownMembership.Invite;
      })
      .map((member) => this.displayName(room, member.userId))
      .sort((a, b) => a.localeCompare(b));
    if (others.length) return others.join(', ');
    const inviter =
      room.getMyMembership() === KnownMembership.Invite
        ? room.currentState.getStateEvents(EventType.RoomMember, this.userId)?.getSender()
        : undefined;
    return inviter && inviter !== this.userId ? this.displayName(room, inviter) : room.name;
  }

  /** Room IDs of direct chats, from the m.direct account data. */
  directRoomIds(): Set<string> {
    const content = this.client.getAccountData(EventType.Direct)?.getContent() ?? {};
    const ids = new Set<string>();
    for (const value of Object.values(content)) {
      if (Array.isArray(value)) for (const id of value) if (typeof id === 'string') ids.add(id);
    }
    return ids;
  }

  /**
   * A person's presence (ourselves included) from the m.presence events /sync delivered: the
   * changes of people sharing a room, and the current presence of people newly met in one.
   */
  presence(userId: string): PresenceInfo {
    const event = this.client.getUser(userId)?.events.presence;
    return presenceFromContent(event ? (event.getContent() as Record<string, unknown>) : null);
  }

  /**
   * The other person of a direct chat: the m.direct entry listing the room, else the only other
   * member; null for a group chat.
   */
  directPartner(room: Room): string | null {
    const content = this.client.getAccountData(EventType.Direct)?.getContent() ?? {};
    for (const [userId, ids] of Object.entries(content)) {
      if (userId !== this.userId && Array.isArray(ids) && ids.includes(room.roomId)) return userId;
    }
    const others = room
      .getMembers()
      .filter((member) => member.userId !== this.userId)
      .filter((m) => m.membership === KnownMembership.Join || m.membership === KnownMembership.Invite);
    return others.length === 1 ? others[0].userId : null;
  }

  /** Thread replies fetched for `rootId` (see fetchThread). */
  fetchedThread(rootId: string): MatrixEvent[] {
    return this.threadEvents.get(rootId) ?? [];
  }

  /** Another person's direct chat with us that we are joined to (the newest), or null. */
  directRoomWith(userId: string): Room | null {
    const content = this.client.getAccountData(EventType.Direct)?.getContent() ?? {};
    const ids: unknown[] = Array.isArray(content[userId]) ? content[userId] : [];
    for (const id of [...ids].reverse()) {
      const room = typeof id === 'string' ? this.client.getRoom(id) : null;
      if (!room || room.getMyMembership() !== KnownMembership.Join) continue;
      const theirs = room.getMember(userId)?.membership;
      if (theirs === KnownMembership.Join || theirs === KnownMembership.Invite) return room;
    }
    return null;
  }

  // ---- Searching ----------------------------------------------------------------------------

  /** Messages matching `term` in every joined room, newest first (POST /search). */
  async searchMessages(term: string, nextBatch?: string): Promise<IResultRoomEvents> {
    const answer = await this.client.search({
      body: {
        search_categories: {
          room_events: {
            search_term: term,
            keys: ['content.body'],
            order_by: SearchOrderBy.Recent,
            filter: { limit: 20 },
          },
        },
      },
      next_batch: nextBatch,
    });
    return answer.search_categories.room_events;
  }

  /** People in the server's user directory matching `term`, ourselves left out. */
  async searchPeople(term: string): Promise<{ userId: string; displayName: string }[]> {
    const answer = await this.client.searchUserDirectory({ term, limit: 20 });
    return answer.results
      .filter((user) => user.user_id !== this.userId)
      .map((user) => ({
        userId: user.user_id,
        displayName: user.display_name || localpart(user.user_id),
      }));
  }

  /** An event and those around it, oldest first, with the tokens to page further (/context). */
  async eventContext(
    roomId: string,
    eventId: string,
    limit: number,
  ): Promise<{ events: MatrixEvent[]; start: string | null; end: string | null }> {
    const path = `/rooms/${encodeURIComponent(roomId)}/context/${encodeURIComponent(eventId)}`;
    const answer = await this.client.http.authedRequest<IContextResponse>(Method.Get, path, {
      limit: String(limit),
    });
    const mapper = this.client.getEventMapper();
    const raw = [...answer.events_before.slice().reverse(), answer.event, ...answer.events_after];
    return {
      events: raw.map((event) => mapper({ ...event, room_id: roomId })),
      start: answer.start ?? null,
      end: answer.end ?? null,
    };
  }

  /** A page of history from `from` (/messages), in the order of `direction`. */
  async messages(
    roomId: string,
    from: string,
    direction: 'backward' | 'forward',
    limit: number,
  ): Promise<{ events: MatrixEvent[]; end: string | null }> {
    const dir = direction === 'backward' ? Direction.Backward : Direction.Forward;
    const answer = await this.client.createMessagesRequest(roomId, from, limit, dir);
    const mapper = this.client.getEventMapper();
    return {
      events: answer.chunk.map((event) => mapper({ ...event, room_id: roomId })),
      end: answer.chunk.length ? (answer.end ?? null) : null,
    };
  }

  // ---- Writing ------------------------------------------------------------------------------

  /**
   * Sets our presence, Ruche availability and status message (PUT /presence/{me}/status); the
   * change comes back to every client, this one included, through /sync.
   */
  async setPresence(choice: PresenceChoice, statusMsg: string): Promise<void> {
    const path = `/presence/${encodeURIComponent(this.userId)}/status`;
    await this.client.http.authedRequest(
      Method.Put,
      path,
      undefined,
      presenceRequest(choice, statusMsg),
    );
  }

  /** Sends a message whose content is already built (a file's m.image or m.file). */
  async sendContent(roomId: string, content: Record<string, unknown>): Promise<void> {
    await this.loose.sendEvent(roomId, EventType.RoomMessage, content);
  }

  /**
   * Our direct chat with `userId`: the one we have when there is one, else a new room inviting
   * them, marked is_direct (for their client) and listed in our m.direct account data.
   */
  async openDirect(userId: string): Promise<string> {
    const existing = this.directRoomWith(userId);
    if (existing) return existing.roomId;
    const { room_id: roomId } = await this.client.createRoom({
      preset: Preset.TrustedPrivateChat,
      is_direct: true,
      invite: [userId],
    });
    await this.addDirect(userId, roomId);
    return roomId;
  }

  async sendText(roomId: string, text: string, options: SendOptions = {}): Promise<void> {
    const content = textMessageContent(text, options.mentions);
    // Spec "Mentions": a reply mentions the sender of the message it answers.
    const answered = options.replyTo?.getSender();
    if (answered && answered !== this.userId) {
      const property = content['m.mentions'] as MentionsProperty;
      property.user_ids = [...new Set([...(property.user_ids ?? []), answered])];
    }
    const relation: Record<string, unknown> = {};
    if (options.threadRoot) {
      relation.rel_type = 'm.thread';
      relation.event_id = options.threadRoot;
      // Spec 11.24.1: clients without threads show a thread reply as a reply to the latest
      // event; `is_falling_back` says this reply is only that fallback.
      relation.is_falling_back = !options.replyTo;
      relation['m.in_reply_to'] = { event_id: options.replyTo?.getId() ?? options.threadRoot };
    } else if (options.replyTo) {
      relation['m.in_reply_to'] = { event_id: options.replyTo.getId() };
    }
    if (Object.keys(relation).length) content['m.relates_to'] = relation;
    this.stopTyping();
    await this.loose.sendEvent(roomId, EventType.RoomMessage, content);
  }

  /** Replaces the text of one of our messages (rel_type m.replace). */
  async edit(
    roomId: string,
    original: MatrixEvent,
    text: string,
    mentions: Mention[] = [],
  ): Promise<void> {
    const newContent = textMessageContent(text, mentions);
    const before = original.getOriginalContent() as Record<string, unknown>;
    const content: Record<string, unknown> = {
      ...newContent,
      body: `* ${text}`,
      'm.mentions': editMentions(before, newContent['m.mentions'] as MentionsProperty),
      'm.new_content': newContent,
      'm.relates_to': { rel_type: 'm.replace', event_id: original.getId() },
    };
    if (typeof newContent.formatted_body === 'string') {
      content.formatted_body = `* ${newContent.formatted_body}`;
    }
    this.stopTyping();
    await this.loose.sendEvent(roomId, EventType.RoomMessage, content);
  }

  async redact(roomId: string, eventId: string): Promise<void> {
    await this.client.redactEvent(roomId, eventId);
  }

  /** Adds our `key` reaction to an event, or removes it (`ownReactionId`) when we had one. */
  async toggleReaction(
    roomId: string,
    eventId: string,
    key: string,
    ownReactionId: string | null,
  ): Promise<void> {
    if (ownReactionId) {
      await this.client.redactEvent(roomId, ownReactionId);
      return;
    }
    await this.loose.sendEvent(roomId, EventType.Reaction, {
      'm.relates_to': { rel_type: 'm.annotation', event_id: eventId, key },
    });
  }

  /** Tells the room we are typing; repeated calls within the timeout send nothing new. */
  typing(roomId: string, isTyping: boolean): void {
    if (isTyping && this.typingRoom === roomId) return;
    if (!isTyping && this.typingRoom !== roomId) return;
    this.typingRoom = isTyping ? roomId : null;
    this.client.sendTyping(roomId, isTyping, kTypingTimeoutMs).catch(() => {
      this.typingRoom = null;
    });
    if (isTyping) {
      // The server forgets after the timeout; so must we, or we would never announce it again.
      setTimeout(() => {
        if (this.typingRoom === roomId) this.typingRoom = null;
      }, kTypingTimeoutMs - 2_000);
    }
  }

  private stopTyping(): void {
    if (this.typingRoom) this.typing(this.typingRoom, false);
  }

  /** Sends m.read for the newest event of the room when it is not already read. */
  markRead(room: Room): void {
    const events = room.getLiveTimeline().getEvents();
    for (let i = events.length - 1; i >= 0; i--) {
      const event = events[i];
      if (!event.getId()?.startsWith('$')) continue; // local echo: not on the server yet
      if (room.getEventReadUpTo(this.userId, true) === event.getId()) return;
      this.client.sendReadReceipt(event, ReceiptType.Read, true).catch(() => undefined);
      return;
    }
  }

  /** Loads older messages; false once the start of the room is reached. */
  async loadOlder(room: Room): Promise<boolean> {
    if (!this.canLoadOlder(room)) return false;
    let paging = this.paging.get(room.roomId);
    if (!paging) {
      paging = this.pageBack(room).finally(() => this.paging.delete(room.roomId));
      this.paging.set(room.roomId, paging);
    }
    return paging;
  }

  /**
   * One page of /messages before the live timeline's start.
   * NOTE: not client.scrollback() nor paginateEventTimeline(): a limited /sync replaces the live
   * timeline, and a page that was asked for before it then either landed at the start of the
   * new timeline (scrollback: a gap in history) or in the discarded one, which makes the SDK
   * stop the new timeline's pagination at the events it shares with it. A page for a timeline
   * that is no longer live is dropped here instead.
   */
  private async pageBack(room: Room): Promise<boolean> {
    const timeline = room.getLiveTimeline();
    const token = timeline.getPaginationToken(EventTimeline.BACKWARDS);
    const answer = await this.client.createMessagesRequest(
      room.roomId,
      token,
      kPageSize,
      Direction.Backward,
    );
    if (room.getLiveTimeline() === timeline) {
      const events = answer.chunk.map(this.client.getEventMapper());
      const [timelineEvents, , unknownRelations] = room.partitionThreadedEvents(events);
      room
        .getUnfilteredTimelineSet()
        .addEventsToTimeline(timelineEvents, true, false, timeline, answer.end ?? null);
      this.client.processAggregatedTimelineEvents(room, timelineEvents);
      for (const event of unknownRelations) room.relations.aggregateChildEvent(event);
      if (!answer.chunk.length || !answer.end || answer.end === answer.start) {
        timeline.setPaginationToken(null, EventTimeline.BACKWARDS); // the start of the room
      }
    }
    this.bump();
    return this.canLoadOlder(room);
  }

  canLoadOlder(room: Room): boolean {
    const timeline = room.getLiveTimeline();
    if (timeline.getPaginationToken(EventTimeline.BACKWARDS) === null) return false;
    // The room's first event is loaded: nothing is older.
    return timeline.getEvents()[0]?.getType() !== EventType.RoomCreate;
  }

  /** Fetches every reply of a thread with /relations (newest first, all pages). */
  async fetchThread(roomId: string, rootId: string): Promise<void> {
    const found: MatrixEvent[] = [];
    let from: string | undefined;
    for (let page = 0; page < 20; page++) {
      const answer = await this.client.relations(roomId, rootId, 'm.thread', null, {
        from,
        limit: 50,
      } as never);
      found.push(...answer.events);
      if (!answer.nextBatch) break;
      from = answer.nextBatch;
    }
    this.threadEvents.set(rootId, found);
    this.bump();
  }

  async createChannel(name: string, topic: string, teamId: string | null): Promise<string> {
    const initialState: { type: string; state_key: string; content: Record<string, unknown> }[] =
      [];
    if (teamId) {
      initialState.push({
        type: 'm.space.parent',
        state_key: teamId,
        content: { via: [this.serverName], canonical: true },
      });
    }
    const { room_id: roomId } = await this.client.createRoom({
      name,
      topic: topic || undefined,
      preset: Preset.PrivateChat,
      initial_state: initialState,
    });
    if (teamId) {
      await this.loose.sendStateEvent(teamId, 'm.space.child', { via: [this.serverName] }, roomId);
    }
    return roomId;
  }

  async createTeam(name: string, topic: string): Promise<string> {
    const { room_id: roomId } = await this.client.createRoom({
      name,
      topic: topic || undefined,
      preset: Preset.PrivateChat,
      creation_content: { type: kSpaceType },
      // A space's timeline is not a chat: only admins post there.
      power_level_content_override: { events_default: 100 },
    });
    return roomId;
  }

  async join(roomId: string): Promise<void> {
    const room = this.client.getRoom(roomId);
    const inviter = room?.getDMInviter();
    await this.client.joinRoom(roomId);
    if (inviter) await this.addDirect(inviter, roomId);
  }

  async decline(roomId: string): Promise<void> {
    await this.client.leave(roomId);
  }

  /** Leaves a room or team (the sidebar drops it when /sync brings our leave event). */
  async leave(roomId: string): Promise<void> {
    await this.client.leave(roomId);
  }

  /** Sets a room-wide state event (state key ""): m.room.name, m.room.topic, m.room.avatar. */
  async setRoomState(roomId: string, type: string, content: Record<string, unknown>): Promise<void> {
    await this.loose.sendStateEvent(roomId, type, content, '');
  }

  private async addDirect(userId: string, roomId: string): Promise<void> {
    const content = { ...(this.client.getAccountData(EventType.Direct)?.getContent() ?? {}) };
    const list: unknown[] = Array.isArray(content[userId]) ? content[userId] : [];
    if (list.includes(roomId)) return;
    content[userId] = [...list, roomId];
    await this.loose.setAccountData(EventType.Direct, content);
  }
}

/** "@alice:example.org" → "alice". */
export function localpart(userId: string): string {
  const match = /^@([^:]+):/.exec(userId);
  return match ? match[1] : userId;
}
