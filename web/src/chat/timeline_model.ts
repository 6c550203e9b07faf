// Turns a room's events into what the timeline shows: messages with their latest edit applied,
// their reactions counted, the reply they answer and the size of their thread; membership
// notices; and redacted messages as "deleted". Edits (m.replace), reactions (m.annotation) and
// thread replies (m.thread) are not shown as messages of their own in the main timeline.
import { EventStatus, EventType, type MatrixEvent, type Room } from 'matrix-js-sdk/lib/matrix.js';
import type { Chat } from './chat_client';
import { mediaOf, type MediaContent } from './media';

export interface Reaction {
  key: string;
  count: number;
  /** Display names of those who reacted, for the button's label. */
  names: string[];
  /** Our own reaction's event ID, to take it back; null when we have not reacted. */
  ownEventId: string | null;
}

export interface ReplyPreview {
  eventId: string;
  senderName: string | null; // null: the message answered is not loaded
  body: string;
}

export interface MessageItem {
  kind: 'message';
  id: string;
  event: MatrixEvent;
  sender: string;
  senderName: string;
  ts: number;
  own: boolean;
  body: string;
  /** formatted_body when the format is org.matrix.custom.html; sanitized when rendered. */
  html: string | null;
  msgtype: string;
  /** The file an m.image / m.file message shares (null for text, and once deleted). */
  media: MediaContent | null;
  edited: boolean;
  deleted: boolean;
  pending: boolean;
  failed: boolean;
  replyTo: ReplyPreview | null;
  reactions: Reaction[];
  threadCount: number;
}

export interface NoticeItem {
  kind: 'notice';
  id: string;
  ts: number;
  /** i18n key under chat.notice and its values. */
  key: string;
  values: Record<string, string>;
}

export type TimelineItem = MessageItem | NoticeItem;

interface Aggregates {
  edits: Map<string, MatrixEvent>;
  reactions: Map<string, Map<string, MatrixEvent[]>>;
  threads: Map<string, MatrixEvent[]>;
}

function relationOf(event: MatrixEvent): { rel_type?: string; event_id?: string; key?: string } {
  const relation = event.getWireContent()['m.relates_to'];
  return relation && typeof relation === 'object' ? relation : {};
}

/**
 * A message that was deleted (redacted).
 * NOTE: a message without msgtype and body can only be one whose content was taken away. It is
 * also how our own deletion can look: the server's /sync leaves out unsigned.transaction_id, so
 * when /sync brings the redaction before its /redact answer, matrix-js-sdk takes it for someone
 * else's, then un-marks the message as redacted once the answer comes — with its content gone.
 */
function isDeleted(event: MatrixEvent): boolean {
  if (event.isRedacted()) return true;
  const content = event.getOriginalContent();
  return content.msgtype === undefined && content.body === undefined;
}

function aggregate(events: MatrixEvent[]): Aggregates {
  const byId = new Map(events.map((event) => [event.getId(), event]));
  const edits = new Map<string, MatrixEvent>();
  const reactions = new Map<string, Map<string, MatrixEvent[]>>();
  const threads = new Map<string, MatrixEvent[]>();
  for (const event of events) {
    if (event.isRedacted() || event.status === EventStatus.NOT_SENT) continue;
    const relation = relationOf(event);
    if (!relation.event_id) continue;
    if (relation.rel_type === 'm.replace' && event.getType() === EventType.RoomMessage) {
      const target = byId.get(relation.event_id);
      // Spec 11.37.1: only the original sender may edit a message.
      if (target && target.getSender() !== event.getSender()) continue;
      const previous = edits.get(relation.event_id);
      if (!previous || previous.getTs() <= event.getTs()) edits.set(relation.event_id, event);
    } else if (relation.rel_type === 'm.annotation' && event.getType() === EventType.Reaction) {
      if (typeof relation.key !== 'string') continue;
      let keys = reactions.get(relation.event_id);
      if (!keys) reactions.set(relation.event_id, (keys = new Map()));
      const list = keys.get(relation.key) ?? [];
      if (!list.some((other) => other.getSender() === event.getSender())) list.push(event);
      keys.set(relation.key, list);
    } else if (relation.rel_type === 'm.thread' && event.getType() === EventType.RoomMessage) {
      const list = threads.get(relation.event_id) ?? [];
      if (!list.some((other) => other.getId() === event.getId())) list.push(event);
      threads.set(relation.event_id, list);
    }
  }
  return { edits, reactions, threads };
}

interface ServerThread {
  count?: number;
  latest_event?: { origin_server_ts?: number };
}

/** Replies in a thread: the server's count when the root was loaded, plus newer ones seen since. */
function threadCount(root: MatrixEvent, seen: MatrixEvent[]): number {
  const server = root.getServerAggregatedRelation<ServerThread>('m.thread');
  if (!server || typeof server.count !== 'number') return seen.length;
  const latestTs = server.latest_event?.origin_server_ts ?? 0;
  const newer = seen.filter((event) => event.getTs() > latestTs).length;
  return Math.max(server.count + newer, seen.length);
}

function textOf(content: Record<string, unknown>): { body: string; html: string | null } {
  const body = typeof content.body === 'string' ? content.body : '';
  const html =
    content.format === 'org.matrix.custom.html' && typeof content.formatted_body === 'string'
      ? content.formatted_body
      : null;
  return { body, html };
}

export class TimelineBuilder {
  /** `events`: a window of history to show instead of the live timeline (see HistoryWindow). */
  constructor(
    private readonly chat: Chat,
    private readonly room: Room,
    private readonly events: MatrixEvent[] | null = null,
  ) {}

  /** Every event of the live timeline plus the thread replies fetched for open threads. */
  private allEvents(extra: MatrixEvent[] = []): MatrixEvent[] {
    // NOTE: with the SDK's default "chronological" ordering, local echoes are in the live
    // timeline already.
    return [...(this.events ?? this.room.getLiveTimeline().getEvents()), ...extra];
  }

  /** The main timeline: messages (thread replies left out) and membership notices. */
  mainItems(): TimelineItem[] {
    const events = this.allEvents();
    const aggregates = aggregate(events);
    const items: TimelineItem[] = [];
    const seen = new Set<string>();
    for (const event of events) {
      const id = event.getId() ?? '';
      if (seen.has(id)) continue;
      seen.add(id);
      if (event.getType() === EventType.RoomMessage) {
        const relation = relationOf(event).rel_type;
        if (relation === 'm.replace' || relation === 'm.thread') continue;
        items.push(this.message(event, aggregates));
      } else if (event.getType() === EventType.RoomMember) {
        const notice = this.membershipNotice(event);
        if (notice) items.push(notice);
      } else if (event.getType() === EventType.RoomCreate) {
        items.push({
          kind: 'notice',
          id,
          ts: event.getTs(),
          key: 'created',
          values: { name: this.chat.displayName(this.room, event.getSender() ?? '') },
        });
      }
    }
    return items;
  }

  /** A thread: its root, then its replies oldest first. */
  threadItems(rootId: string): { root: MessageItem | null; replies: MessageItem[] } {
    const fetched = this.chat.fetchedThread(rootId);
    const events = this.allEvents(fetched);
    const aggregates = aggregate(events);
    const rootEvent = this.room.findEventById(rootId) ?? null;
    const replies = (aggregates.threads.get(rootId) ?? [])
      .slice()
      .sort((a, b) => a.getTs() - b.getTs())
      .map((event) => this.message(event, aggregates));
    return { root: rootEvent ? this.message(rootEvent, aggregates) : null, replies };
  }

  private message(event: MatrixEvent, aggregates: Aggregates): MessageItem {
    const id = event.getId() ?? '';
    const sender = event.getSender() ?? '';
    const deleted = isDeleted(event);
    let content = event.getOriginalContent() as Record<string, unknown>;
    let edited = false;
    if (!deleted) {
      const edit = aggregates.edits.get(id) ?? event.replacingEvent() ?? null;
      const newContent = edit?.getWireContent()['m.new_content'];
      if (newContent && typeof newContent === 'object') {
        content = newContent;
        edited = true;
      } else {
        const server = event.getServerAggregatedRelation<{ content?: Record<string, unknown> }>(
          'm.replace',
        );
        const serverNew = server?.content?.['m.new_content'];
        if (serverNew && typeof serverNew === 'object') {
          content = serverNew as Record<string, unknown>;
          edited = true;
        }
      }
    }
    const { body, html } = textOf(content);
    const status = event.status;
    return {
      kind: 'message',
      id,
      event,
      sender,
      senderName: this.chat.displayName(this.room, sender),
      ts: event.getTs(),
      own: sender === this.chat.userId,
      body,
      html,
      msgtype: typeof content.msgtype === 'string' ? content.msgtype : 'm.text',
      media: deleted ? null : mediaOf(content),
      edited,
      deleted,
      pending: status !== null && status !== EventStatus.NOT_SENT && status !== EventStatus.SENT,
      failed: status === EventStatus.NOT_SENT,
      replyTo: deleted ? null : this.replyPreview(event),
      reactions: deleted ? [] : this.reactions(aggregates.reactions.get(id)),
      threadCount: deleted ? 0 : threadCount(event, aggregates.threads.get(id) ?? []),
    };
  }

  private replyPreview(event: MatrixEvent): ReplyPreview | null {
    const relation = event.getWireContent()['m.relates_to'];
    const target = relation?.['m.in_reply_to']?.event_id;
    if (typeof target !== 'string') return null;
    // A thread reply's in_reply_to is only a fallback for clients without threads.
    if (relation?.rel_type === 'm.thread' && relation?.is_falling_back) return null;
    const parent = this.room.findEventById(target);
    if (!parent) return { eventId: target, senderName: null, body: '' };
    const parentContent = parent.getContent() as Record<string, unknown>;
    return {
      eventId: target,
      senderName: this.chat.displayName(this.room, parent.getSender() ?? ''),
      body: isDeleted(parent) ? '' : stripReplyFallback(textOf(parentContent).body),
    };
  }

  private reactions(keys: Map<string, MatrixEvent[]> | undefined): Reaction[] {
    if (!keys) return [];
    const result: Reaction[] = [];
    for (const [key, events] of keys) {
      const own = events.find((event) => event.getSender() === this.chat.userId);
      result.push({
        key,
        count: events.length,
        names: events.map((event) => this.chat.displayName(this.room, event.getSender() ?? '')),
        ownEventId: own?.getId() ?? null,
      });
    }
    return result;
  }

  private membershipNotice(event: MatrixEvent): NoticeItem | null {
    const membership = event.getContent().membership;
    const previous = event.getPrevContent().membership;
    const target = event.getStateKey() ?? '';
    const sender = event.getSender() ?? '';
    let key: string;
    if (membership === 'join' && previous !== 'join') key = 'joined';
    else if (membership === 'invite') key = 'invited';
    else if (membership === 'leave' && previous === 'invite' && sender === target) key = 'declined';
    else if (membership === 'leave' && sender === target) key = 'left';
    else if (membership === 'leave' || membership === 'ban') key = 'removed';
    else return null;
    return {
      kind: 'notice',
      id: event.getId() ?? '',
      ts: event.getTs(),
      key,
      values: {
        name: this.chat.displayName(this.room, target),
        actor: this.chat.displayName(this.room, sender),
      },
    };
  }
}

/** A body's reply fallback ("> <@a:b> quoted\n\n") removed, for old clients' replies. */
export function stripReplyFallback(body: string): string {
  if (!body.startsWith('> ')) return body;
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i].startsWith('> ')) i++;
  if (i < lines.length && lines[i] === '') i++;
  return lines.slice(i).join('\n');
}

/** Users typing in `room`, ourselves left out. */
export function typingNames(chat: Chat, room: Room): string[] {
  return room
    .getMembers()
    .filter((member) => member.typing && member.userId !== chat.userId)
    .map((member) => chat.displayName(room, member.userId));
}

/** Who has read up to `event` (others than us and its sender). */
export function seenBy(chat: Chat, room: Room, event: MatrixEvent): string[] {
  return room
    .getUsersReadUpTo(event)
    .filter((userId) => userId !== chat.userId && userId !== event.getSender())
    .map((userId) => chat.displayName(room, userId));
}
