// A stretch of a room's history around one event, for jumping to a message (a search result)
// that is not among the loaded events of the live timeline. Loaded with /context, paged further
// back with /messages; "back to the latest" leaves it for the live timeline again.
import { signal } from '@preact/signals';
import type { MatrixEvent } from 'matrix-js-sdk/lib/matrix.js';
import type { Chat } from './chat_client';

const kContextLimit = 40;
const kPageSize = 30;

export class HistoryWindow {
  /** Oldest first. */
  readonly events = signal<MatrixEvent[]>([]);
  private start: string | null = null;

  private constructor(
    private readonly chat: Chat,
    private readonly roomId: string,
  ) {}

  static async around(chat: Chat, roomId: string, eventId: string): Promise<HistoryWindow> {
    const window = new HistoryWindow(chat, roomId);
    const context = await chat.eventContext(roomId, eventId, kContextLimit);
    window.events.value = context.events;
    window.start = context.start;
    return window;
  }

  get canLoadOlder(): boolean {
    return this.start !== null && this.events.value[0]?.getType() !== 'm.room.create';
  }

  /** Loads a page of older events; resolves to whether there are more. */
  async loadOlder(): Promise<boolean> {
    if (!this.start || !this.canLoadOlder) return false;
    const page = await this.chat.messages(this.roomId, this.start, 'backward', kPageSize);
    const known = new Set(this.events.value.map((event) => event.getId()));
    const older = page.events.filter((event) => !known.has(event.getId())).reverse();
    this.events.value = [...older, ...this.events.value];
    this.start = page.end;
    return this.canLoadOlder;
  }
}
