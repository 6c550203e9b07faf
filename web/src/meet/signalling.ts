// The meeting signalling WebSocket (docs/api.md, "Meeting signalling"): typed messages both
// ways, one JSON object per text frame. This module knows the wire format only; what to do with
// each message is meeting_session.ts's business.

export type MediaKind = 'audio' | 'video';

export interface ParticipantInfo {
  participant_id: string;
  display_name: string;
  /** Absent for guests. */
  user_id?: string;
  guest: boolean;
  audio_muted: boolean;
  video_muted: boolean;
}

export interface ProducerInfo {
  producer_id: string;
  participant_id: string;
  kind: MediaKind;
}

export interface ConsumerInfo {
  mid: string;
  producer_id: string;
  participant_id: string;
  kind: MediaKind;
}

export type ClientMessage =
  | { type: 'join'; key: string; access_token: string }
  | { type: 'join'; key: string; display_name: string }
  | { type: 'publish'; sdp: string }
  | { type: 'subscribe'; producer_ids: string[] }
  | { type: 'unsubscribe'; producer_ids: string[] }
  | { type: 'subscribe_answer'; sdp: string }
  | { type: 'preferred_layer'; producer_id: string; spatial_layer: 0 | 1 | 2 }
  | { type: 'mute'; audio: boolean; video: boolean }
  | { type: 'leave' };

export type ServerMessage =
  | {
      type: 'joined';
      participant_id: string;
      display_name: string;
      title?: string;
      /** Everyone already in the meeting (not including the one who joined). */
      participants: ParticipantInfo[];
      producers: ProducerInfo[];
    }
  | { type: 'publish_answer'; sdp: string; producers: ProducerInfo[] }
  | { type: 'subscribe_offer'; sdp: string; consumers: ConsumerInfo[] }
  | { type: 'participant_joined'; participant: ParticipantInfo }
  | { type: 'participant_left'; participant_id: string }
  | { type: 'participant_updated'; participant: ParticipantInfo }
  | { type: 'producer_added'; producer: ProducerInfo }
  | { type: 'producer_removed'; producer_id: string }
  | { type: 'active_speaker'; participant_id: string }
  | { type: 'error'; code: string; message: string; retry_after_ms?: number };

export interface SignallingHandlers {
  onOpen(): void;
  onMessage(message: ServerMessage): void;
  /** The socket closed, whoever closed it (not called after close() from our side). */
  onClose(code: number, reason: string): void;
}

/** ws:// or wss:// as the page, same host: `/_ruche/v1/meetings/<id>/ws`. */
export function signallingUrl(meetingId: string, where: Location = location): string {
  const scheme = where.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${where.host}/_ruche/v1/meetings/${encodeURIComponent(meetingId)}/ws`;
}

const kServerTypes = new Set<string>([
  'joined',
  'publish_answer',
  'subscribe_offer',
  'participant_joined',
  'participant_left',
  'participant_updated',
  'producer_added',
  'producer_removed',
  'active_speaker',
  'error',
]);

/** The message if `text` is a JSON object with a known server `type`, else null (ignored). */
export function parseServerMessage(text: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const type = (value as { type?: unknown }).type;
  // NOTE: a newer server may add message types; unknown ones are skipped, not fatal.
  return typeof type === 'string' && kServerTypes.has(type) ? (value as ServerMessage) : null;
}

/** One signalling connection. */
export class SignallingChannel {
  private socket: WebSocket | null = null;
  private closedByUs = false;

  constructor(
    private readonly url: string,
    private readonly handlers: SignallingHandlers,
  ) {}

  open(): void {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener('open', () => this.handlers.onOpen());
    socket.addEventListener('message', (event) => {
      if (typeof event.data !== 'string') return;
      const message = parseServerMessage(event.data);
      if (message) this.handlers.onMessage(message);
    });
    socket.addEventListener('close', (event) => {
      if (!this.closedByUs) this.handlers.onClose(event.code, event.reason);
    });
    // 'error' is always followed by 'close', which reports it.
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  send(message: ClientMessage): void {
    if (this.isOpen) this.socket!.send(JSON.stringify(message));
  }

  /** Says goodbye (when open) and closes without reporting onClose. */
  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    if (this.isOpen) this.send({ type: 'leave' });
    this.socket?.close(1000, 'left');
  }
}
