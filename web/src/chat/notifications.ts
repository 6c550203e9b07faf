// Notifications: each room's setting (All messages / Mentions only / Off), kept on the server as
// the user's push rules the way Element keeps them, and the browser notifications raised for
// new messages that setting lets through while the page is hidden or another room is open.
//
// Settings as push rules (spec "Push Rules"; what Element reads and writes too):
// - Off: an override rule named after the room, `event_match room_id`, no actions — it comes
//   before every default rule, mentions included.
// - Mentions only: a room rule named after the room with no actions: messages stop there, while
//   the override rules `.m.rule.is_user_mention` / `.m.rule.is_room_mention` still notify.
// - All messages: a room rule with `notify`.
// - No rule of ours: the default, All messages in a direct chat and Mentions only in a channel
//   (what people expect of a work chat: a channel's every message is not an interruption).
// Whether a message notifies or highlights comes from the SDK evaluating those rules
// (client.getPushActionsForEvent); the server computes no unread or highlight counts.
import { signal } from '@preact/signals';
import {
  ConditionKind,
  EventType,
  PushRuleActionName,
  PushRuleKind,
  RoomEvent,
  type IPushRule,
  type IPushRules,
  type MatrixEvent,
  type Room,
} from 'matrix-js-sdk/lib/matrix.js';
import { t } from '../i18n';
import type { Chat } from './chat_client';
import { stripReplyFallback } from './timeline_model';

export type NotificationMode = 'all' | 'mentions' | 'off';
export type PermissionState = NotificationPermission | 'unsupported';

const kBodyLength = 160;
// Messages older than this when they arrive (a reconnection's catch-up) raise no notification.
const kMaxAgeMs = 5 * 60_000;
const kTextTypes = new Set(['m.text', 'm.notice', 'm.emote']);

function hasNotify(rule: IPushRule): boolean {
  return rule.actions.some((action) => action === PushRuleActionName.Notify);
}

/** Our override rule muting `roomId`: the rule named after it that matches its room_id only. */
function isMuteRule(rule: IPushRule, roomId: string): boolean {
  if (rule.rule_id !== roomId || !rule.enabled || hasNotify(rule)) return false;
  const conditions = rule.conditions ?? [];
  return (
    conditions.length === 1 &&
    conditions[0].kind === ConditionKind.EventMatch &&
    conditions[0].key === 'room_id' &&
    conditions[0].pattern === roomId
  );
}

/** The setting the push rules hold for `roomId`, or null when they hold none (the default). */
export function chosenMode(rules: IPushRules | undefined, roomId: string): NotificationMode | null {
  const global = rules?.global;
  if (global?.override?.some((rule) => isMuteRule(rule, roomId))) return 'off';
  const roomRule = global?.room?.find((rule) => rule.rule_id === roomId && rule.enabled);
  if (roomRule) return hasNotify(roomRule) ? 'all' : 'mentions';
  return null;
}

/** The setting in force: the chosen one, else All messages for a direct chat, Mentions only. */
export function effectiveMode(chosen: NotificationMode | null, direct: boolean): NotificationMode {
  return chosen ?? (direct ? 'all' : 'mentions');
}

/** What the push rules said of a message (client.getPushActionsForEvent). */
export interface PushVerdict {
  notify: boolean;
  highlight: boolean;
}

/** Whether a message that got `verdict` may notify under `mode`. */
export function modeAllows(mode: NotificationMode, verdict: PushVerdict): boolean {
  if (mode === 'off') return false;
  if (mode === 'mentions') return verdict.notify && verdict.highlight;
  return verdict.notify;
}

/** What decides whether a new message raises a browser notification. */
export interface NotifyInput {
  mode: NotificationMode;
  verdict: PushVerdict;
  ownMessage: boolean;
  /** The room is the one open on screen and the page is visible: the reader sees it already. */
  onScreen: boolean;
  permission: PermissionState;
}

export function shouldNotify(input: NotifyInput): boolean {
  if (input.ownMessage || input.onScreen || input.permission !== 'granted') return false;
  return modeAllows(input.mode, input.verdict);
}

/** A notification's text: sender (and room, for a channel), then the start of the message. */
export function notificationText(options: {
  sender: string;
  room: string;
  direct: boolean;
  msgtype: string;
  body: string;
}): { title: string; body: string } {
  const title = options.direct
    ? options.sender
    : t('notifications.title_channel', { name: options.sender, room: options.room });
  let body: string;
  if (options.msgtype === 'm.emote') body = `* ${options.sender} ${options.body}`;
  else if (kTextTypes.has(options.msgtype)) body = stripReplyFallback(options.body);
  else body = t('notifications.sent_file');
  body = body.replace(/\s+/g, ' ').trim();
  if (body.length > kBodyLength) body = `${body.slice(0, kBodyLength - 1)}…`;
  return { title, body };
}

function currentPermission(): PermissionState {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/**
 * One signed-in client's notifications: owned by Chat, listening to its timeline for as long as
 * the client runs. The room view says which room is on screen; the workspace's sidebar says how
 * to open a room when a notification is clicked.
 */
export class RoomNotifier {
  /** The browser's permission, refreshed when we ask for it. */
  readonly permission = signal<PermissionState>(currentPermission());
  /** Bumped when setMode has stored a setting, before /sync brings it back. */
  readonly rulesChanged = signal(0);
  private openRoomId: string | null = null;
  private opener: ((roomId: string) => void) | null = null;
  private readonly shown = new Map<string, Notification[]>();

  constructor(private readonly chat: Chat) {
    chat.client.on(RoomEvent.Timeline, (event, room, toStartOfTimeline, removed, data) => {
      if (room && !toStartOfTimeline && !removed && data.liveEvent) this.onMessage(event, room);
    });
  }

  /** The room shown on screen (null: none); its notifications are closed. */
  setOpenRoom(roomId: string | null): void {
    this.openRoomId = roomId;
    if (roomId) this.closeFor(roomId);
  }

  /** What clicking a notification does with its room (the workspace opens it). */
  setOpener(opener: (roomId: string) => void): void {
    this.opener = opener;
  }

  /** The setting chosen for a room, null for the default. */
  chosenMode(roomId: string): NotificationMode | null {
    return chosenMode(this.chat.client.pushRules, roomId);
  }

  mode(room: Room): NotificationMode {
    return effectiveMode(this.chosenMode(room.roomId), this.chat.directRoomIds().has(room.roomId));
  }

  /** What the push rules say of `event` (cached on the event by the SDK). */
  verdict(event: MatrixEvent): PushVerdict {
    const actions = this.chat.client.getPushActionsForEvent(event);
    return { notify: !!actions?.notify, highlight: !!actions?.tweaks?.highlight };
  }

  /** Whether `event` mentions us: the push rules highlight it (and it is someone else's). */
  mentionsMe(event: MatrixEvent): boolean {
    return event.getSender() !== this.chat.userId && this.verdict(event).highlight;
  }

  /** Stores a room's setting as push rules (see the top of this file). */
  async setMode(roomId: string, mode: NotificationMode): Promise<void> {
    const client = this.chat.client;
    const global = client.pushRules?.global;
    const hasOverride = global?.override?.some((rule) => rule.rule_id === roomId) ?? false;
    const hasRoomRule = global?.room?.some((rule) => rule.rule_id === roomId) ?? false;
    if (mode === 'off') {
      await client.addPushRule('global', PushRuleKind.Override, roomId, {
        conditions: [{ kind: ConditionKind.EventMatch, key: 'room_id', pattern: roomId }],
        actions: [],
      });
      if (hasRoomRule) await client.deletePushRule('global', PushRuleKind.RoomSpecific, roomId);
    } else {
      await client.addPushRule('global', PushRuleKind.RoomSpecific, roomId, {
        actions: mode === 'all' ? [PushRuleActionName.Notify] : [],
      });
      if (hasOverride) await client.deletePushRule('global', PushRuleKind.Override, roomId);
    }
    // The change also comes back through /sync (m.push_rules); reading it now shows it at once.
    client.setPushRules(await client.getPushRules());
    this.rulesChanged.value += 1;
  }

  /** Reads the browser's permission again (the user may have changed it in its settings). */
  refreshPermission(): void {
    this.permission.value = currentPermission();
  }

  /** Asks the browser for permission; only from a control the user chose (never on load). */
  async requestPermission(): Promise<void> {
    if (typeof Notification === 'undefined') return;
    try {
      await Notification.requestPermission();
    } finally {
      this.permission.value = currentPermission();
    }
  }

  private onMessage(event: MatrixEvent, room: Room): void {
    // The first sync's events are history, not news; so are those of a long reconnection.
    if (this.chat.client.getSyncState() === null) return;
    if (event.getType() !== EventType.RoomMessage || event.isRedacted()) return;
    if (event.getRelation()?.rel_type === 'm.replace') return;
    if (event.getLocalAge() > kMaxAgeMs) return;
    const roomId = room.roomId;
    const direct = this.chat.directRoomIds().has(roomId);
    this.refreshPermission();
    const notify = shouldNotify({
      mode: this.mode(room),
      verdict: this.verdict(event),
      ownMessage: event.getSender() === this.chat.userId,
      onScreen: this.openRoomId === roomId && document.visibilityState === 'visible',
      permission: this.permission.value,
    });
    if (!notify) return;
    const content = event.getContent();
    const { title, body } = notificationText({
      sender: this.chat.displayName(room, event.getSender() ?? ''),
      room: this.chat.roomName(room),
      direct,
      msgtype: typeof content.msgtype === 'string' ? content.msgtype : '',
      body: typeof content.body === 'string' ? content.body : '',
    });
    let notification: Notification;
    try {
      notification = new Notification(title, { body, lang: document.documentElement.lang });
    } catch {
      return; // some browsers (Android Chrome) only notify from a service worker
    }
    notification.onclick = () => {
      window.focus();
      this.opener?.(roomId);
      notification.close();
    };
    notification.onclose = () => {
      const list = this.shown.get(roomId)?.filter((n) => n !== notification) ?? [];
      if (list.length) this.shown.set(roomId, list);
      else this.shown.delete(roomId);
    };
    this.shown.set(roomId, [...(this.shown.get(roomId) ?? []), notification]);
  }

  private closeFor(roomId: string): void {
    for (const notification of this.shown.get(roomId) ?? []) notification.close();
    this.shown.delete(roomId);
  }
}
