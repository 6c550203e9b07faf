// Mentions (Matrix spec v1.7+, "user and room mentions"): who the composer's `@` suggests, how a
// message that names people is written — `body` with their display names, `formatted_body` with
// matrix.to links, and `m.mentions` with their user IDs, which the push rules
// `.m.rule.is_user_mention` / `.m.rule.is_room_mention` read — and how such links are read back.
// Pure functions except mentionsFromHtml (an inert DOMParser document).
import { markdownToHtml } from './markdown';

/** Someone picked from the composer's suggestions; `name` is the text inserted for them. */
export interface UserMention {
  kind: 'user';
  userId: string;
  name: string;
}

/** `@room`: everyone in the room (needs the power level `notifications.room`). */
export interface RoomMention {
  kind: 'room';
}

export type Mention = UserMention | RoomMention;

/** A room member the composer may suggest. */
export interface Candidate {
  userId: string;
  name: string;
}

/** The `m.mentions` property of a message. */
export interface MentionsProperty {
  user_ids?: string[];
  room?: boolean;
}

export const kRoomMentionText = '@room';
const kPermalinkPrefix = 'https://matrix.to/#/';
// Spec "User Identifiers": @localpart:server_name; historical localparts allow more characters,
// so anything but whitespace, '/', '?' and ':' up to the first ':'.
const kUserIdRe = /^@[^\s:/?#]+:[A-Za-z0-9.\-[\]]+(?::\d{1,5})?$/;
const kMaxQuery = 64;
const kMaxSuggestions = 8;
// Stand-ins for mentions while the Markdown is rendered: private-use characters no keyboard
// types, taken out of the text first.
const kOpen = '\uE000';
const kClose = '\uE001';

/** Lower case without accents: "Zoë" and "ZOE" both give "zoe". */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * The `@word` being typed just before the caret: where its `@` is and the letters after it, or
 * null. The `@` starts the text or follows a space or an opening bracket or quote (not an
 * e-mail address); the query holds no space.
 */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(?:^|[\s([{"'«])@([^\s@]*)$/u.exec(before);
  if (!match || match[1].length > kMaxQuery) return null;
  return { start: caret - match[1].length - 1, query: match[1] };
}

function localpartOf(userId: string): string {
  const colon = userId.indexOf(':');
  return colon > 0 ? userId.slice(1, colon) : userId.slice(1);
}

/**
 * Members matching `query` by display name or user ID, accents and case ignored: names that
 * start with it first, then a word of the name, then the user ID's localpart, then anywhere.
 * An empty query lists everyone, by name.
 */
export function matchCandidates(
  candidates: Candidate[],
  query: string,
  limit = kMaxSuggestions,
): Candidate[] {
  const q = fold(query);
  const scored: { candidate: Candidate; score: number }[] = [];
  for (const candidate of candidates) {
    const name = fold(candidate.name);
    const id = fold(candidate.userId);
    let score: number;
    if (!q || name.startsWith(q)) score = 0;
    else if (name.split(/[\s\-_.]+/).some((word) => word.startsWith(q))) score = 1;
    else if (fold(localpartOf(candidate.userId)).startsWith(q)) score = 2;
    else if (name.includes(q) || id.includes(q)) score = 3;
    else continue;
    scored.push({ candidate, score });
  }
  scored.sort(
    (a, b) =>
      a.score - b.score ||
      a.candidate.name.localeCompare(b.candidate.name, undefined, { sensitivity: 'base' }) ||
      a.candidate.userId.localeCompare(b.candidate.userId),
  );
  return scored.slice(0, limit).map((entry) => entry.candidate);
}

/** Whether `@room` is a completion of `query` ("", "r", "Ro"…). */
export function matchesRoomMention(query: string): boolean {
  return 'room'.startsWith(fold(query));
}

/**
 * The text once the `@query` from `start` to `caret` is replaced by `inserted` and a space; the
 * caret goes after that space.
 */
export function insertMention(
  text: string,
  start: number,
  caret: number,
  inserted: string,
): { text: string; caret: number } {
  const after = text.slice(caret);
  const spacer = /^\s/.test(after) ? '' : ' ';
  const head = `${text.slice(0, start)}${inserted}${spacer}`;
  return { text: head + after, caret: head.length + (spacer ? 0 : 1) };
}

/** The text a mention puts in the composer (and the message's body). */
export function mentionText(mention: Mention): string {
  return mention.kind === 'room' ? kRoomMentionText : mention.name;
}

/** https://matrix.to/#/@user:server (spec "Matrix URIs", matrix.to navigation). */
export function userPermalink(userId: string): string {
  return `${kPermalinkPrefix}${userId}`;
}

/** The user ID a matrix.to link points at, or null for any other link (rooms, events, web). */
export function userIdFromPermalink(href: string): string | null {
  if (!href.startsWith(kPermalinkPrefix)) return null;
  let target = href.slice(kPermalinkPrefix.length).split('?')[0];
  try {
    target = decodeURIComponent(target);
  } catch {
    return null;
  }
  return kUserIdRe.test(target) ? target : null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `name` as a whole word of the text: not inside a longer word. */
function wordRe(name: string): RegExp {
  return new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(name)}(?![\\p{L}\\p{N}_])`, 'gu');
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * The content of an m.text message for the composer's `text` and the mentions picked while
 * typing it. Only mentions whose text is still in the message count. Always carries
 * `m.mentions`, empty when no one is mentioned, so receivers' legacy rules (display name in the
 * body) do not fire on a name merely written.
 */
export function textMessageContent(text: string, mentions: Mention[] = []): Record<string, unknown> {
  const users = new Map<string, UserMention>();
  let room = false;
  for (const mention of mentions) {
    if (mention.kind === 'room') {
      room ||= wordRe(kRoomMentionText).test(text);
    } else if (mention.name && !users.has(mention.userId) && wordRe(mention.name).test(text)) {
      users.set(mention.userId, mention);
    }
  }

  const content: Record<string, unknown> = { msgtype: 'm.text', body: text };
  const property: MentionsProperty = {};
  if (users.size) property.user_ids = [...users.keys()];
  if (room) property.room = true;

  let html: string | null;
  if (users.size) {
    // Each mentioned name becomes a stand-in the Markdown renderer leaves alone, then a link.
    // Longer names first, so "Ann Lee" is not taken for "Ann".
    const linked = [...users.values()].sort((a, b) => b.name.length - a.name.length);
    let marked = text.replaceAll(kOpen, '').replaceAll(kClose, '');
    linked.forEach((mention, i) => {
      marked = marked.replace(wordRe(mention.name), `${kOpen}${i}${kClose}`);
    });
    html = (markdownToHtml(marked, { always: true }) ?? '').replace(
      new RegExp(`${kOpen}(\\d+)${kClose}`, 'g'),
      (_, index: string) => {
        const mention = linked[Number(index)];
        return `<a href="${escapeHtml(userPermalink(mention.userId))}">${escapeHtml(mention.name)}</a>`;
      },
    );
  } else {
    html = markdownToHtml(text);
  }
  if (html !== null) {
    content.format = 'org.matrix.custom.html';
    content.formatted_body = html;
  }
  content['m.mentions'] = property;
  return content;
}

/** The user IDs of an event's `m.mentions`, whatever the sender put there. */
export function mentionedUserIds(content: Record<string, unknown>): string[] {
  const property = content['m.mentions'];
  if (!property || typeof property !== 'object') return [];
  const ids = (property as MentionsProperty).user_ids;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}

/**
 * The top-level `m.mentions` of an edit (spec "Mentions" — "Mentions and replacement events"):
 * only the users the edit newly mentions, so the others are not notified twice; the edit's
 * `m.new_content` keeps them all.
 */
export function editMentions(
  before: Record<string, unknown>,
  after: MentionsProperty,
): MentionsProperty {
  const old = new Set(mentionedUserIds(before));
  const added = (after.user_ids ?? []).filter((id) => !old.has(id));
  const property: MentionsProperty = {};
  if (added.length) property.user_ids = added;
  const oldRoom = (before['m.mentions'] as MentionsProperty | undefined)?.room === true;
  if (after.room && !oldRoom) property.room = true;
  return property;
}

/**
 * The mentions of a message being edited, read back from its formatted_body's matrix.to links
 * (and `@room` from its body), so an edit keeps them.
 */
export function mentionsFromHtml(html: string | null, body: string): Mention[] {
  const found: Mention[] = [];
  if (html) {
    const doc = new DOMParser().parseFromString(html, 'text/html');
    for (const link of doc.querySelectorAll('a[href]')) {
      const userId = userIdFromPermalink(link.getAttribute('href') ?? '');
      const name = link.textContent ?? '';
      if (userId && name) found.push({ kind: 'user', userId, name });
    }
  }
  if (wordRe(kRoomMentionText).test(body)) found.push({ kind: 'room' });
  return found;
}
