// The files shared in a room, for its details panel: every m.image / m.file message, newest
// first. The server's /messages takes no filter, so history is walked page by page (bounded),
// and messages arriving later are merged in from the live timeline.
import { Direction, type MatrixEvent, type Room } from 'matrix-js-sdk/lib/matrix.js';
import type { Chat } from './chat_client';
import { mediaOf, type MediaContent } from './media';

const kPageSize = 100;
const kMaxPages = 20; // 2,000 events: enough for the panel, bounded for a very long room

export interface SharedFile {
  eventId: string;
  sender: string;
  ts: number;
  msgtype: string;
  media: MediaContent;
}

function fileOf(event: MatrixEvent): SharedFile | null {
  if (event.getType() !== 'm.room.message' || event.isRedacted()) return null;
  const content = event.getContent() as Record<string, unknown>;
  const relation = content['m.relates_to'] as { rel_type?: string } | undefined;
  if (relation?.rel_type === 'm.replace') return null;
  const media = mediaOf(content);
  if (!media) return null;
  return {
    eventId: event.getId() ?? '',
    sender: event.getSender() ?? '',
    ts: event.getTs(),
    msgtype: content.msgtype as string,
    media,
  };
}

/** Walks the room's history back from now; resolves to the files found, newest first. */
export async function fetchRoomFiles(chat: Chat, roomId: string): Promise<SharedFile[]> {
  const found: SharedFile[] = [];
  let from: string | null = null;
  for (let page = 0; page < kMaxPages; page++) {
    const answer = await chat.client.createMessagesRequest(
      roomId,
      from,
      kPageSize,
      Direction.Backward,
    );
    const mapper = chat.client.getEventMapper();
    for (const raw of answer.chunk) {
      const file = fileOf(mapper({ ...raw, room_id: roomId }));
      if (file) found.push(file);
    }
    if (!answer.chunk.length || !answer.end || answer.end === from) break;
    from = answer.end;
  }
  return found;
}

/** `fetched` plus files in the live timeline, without those deleted since; newest first. */
export function mergeLiveFiles(room: Room, fetched: SharedFile[]): SharedFile[] {
  const byId = new Map(fetched.map((file) => [file.eventId, file]));
  for (const event of room.getLiveTimeline().getEvents()) {
    const id = event.getId() ?? '';
    if (event.isRedacted()) byId.delete(id);
    const file = fileOf(event);
    if (file && id.startsWith('$')) byId.set(id, file);
  }
  return [...byId.values()].sort((a, b) => b.ts - a.ts);
}
