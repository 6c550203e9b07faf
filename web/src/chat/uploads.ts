// The files being shared in one room: each is uploaded, then announced with an m.image or m.file
// message. The composer's button, a paste and a drop onto the room all add to the same queue,
// which the composer shows with a progress bar and a cancel button per file.
import { signal, type Signal } from '@preact/signals';
import type { Chat } from './chat_client';
import { UploadCancelled, uploadContent } from './media';

export interface Upload {
  id: number;
  name: string;
  size: number;
  /** 0..1 of the bytes sent. */
  progress: Signal<number>;
  /** true once the upload failed (it stays listed, with its error, until dismissed). */
  failed: Signal<boolean>;
  cancel: () => void;
}

let nextId = 1;

export class UploadQueue {
  readonly uploads = signal<Upload[]>([]);

  constructor(
    private readonly chat: Chat,
    private readonly roomId: string,
  ) {}

  add(files: Iterable<File>): void {
    for (const file of files) void this.run(file);
  }

  private remove(upload: Upload): void {
    this.uploads.value = this.uploads.value.filter((other) => other !== upload);
  }

  private async run(file: File): Promise<void> {
    const controller = new AbortController();
    const upload: Upload = {
      id: nextId++,
      name: file.name || 'file',
      size: file.size,
      progress: signal(0),
      failed: signal(false),
      cancel: () => {
        controller.abort();
        this.remove(upload);
      },
    };
    this.uploads.value = [...this.uploads.value, upload];
    try {
      const content = await uploadContent(
        this.chat,
        file,
        (fraction) => (upload.progress.value = fraction),
        controller.signal,
      );
      if (controller.signal.aborted) return;
      await this.chat.sendContent(this.roomId, content);
      this.remove(upload);
    } catch (error) {
      if (error instanceof UploadCancelled || controller.signal.aborted) return;
      upload.failed.value = true;
    }
  }
}

const queues = new WeakMap<Chat, Map<string, UploadQueue>>();

/**
 * The upload queue of a room. It outlives the room's view, so an upload carries on (and its
 * message is sent) while the reader looks at another room, and is there again on return.
 */
export function uploadQueueFor(chat: Chat, roomId: string): UploadQueue {
  let byRoom = queues.get(chat);
  if (!byRoom) queues.set(chat, (byRoom = new Map()));
  let queue = byRoom.get(roomId);
  if (!queue) byRoom.set(roomId, (queue = new UploadQueue(chat, roomId)));
  return queue;
}
