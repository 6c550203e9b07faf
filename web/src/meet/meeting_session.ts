// One stay in a meeting: the signalling socket and the two RTCPeerConnections of docs/api.md
// ("Meeting signalling"), as mediasoup-client does it. The SEND connection carries our
// microphone and camera (we offer, Ruche answers); the RECV connection carries everyone else's
// tracks (Ruche offers one m-line per subscribed producer, we answer). Everything the UI shows
// is a signal here; the view never touches a peer connection.
import { signal, type Signal } from '@preact/signals';
import {
  SignallingChannel,
  signallingUrl,
  type ConsumerInfo,
  type ParticipantInfo,
  type ProducerInfo,
  type ServerMessage,
} from './signalling';

export type SessionState = 'connecting' | 'joined' | 'left' | 'failed';

/** Signed in (the server takes the name from the profile) or a guest with a chosen name. */
export type Identity = { accessToken: string } | { displayName: string };

export interface Participant {
  id: string;
  displayName: string;
  userId?: string;
  guest: boolean;
  audioMuted: boolean;
  videoMuted: boolean;
  isSelf: boolean;
}

/** The tracks we receive from one participant. */
export interface RemoteMedia {
  audio?: MediaStreamTrack;
  video?: MediaStreamTrack;
}

/**
 * Why the session ended or what just went wrong: a server errcode (`M_NOT_FOUND`,
 * `M_FORBIDDEN`, …) or one of ours (`connection_lost`, `media_failed`, `cannot_connect`).
 */
export interface SessionProblem {
  code: string;
  message?: string;
}

export interface SessionOptions {
  meetingId: string;
  key: string;
  identity: Identity;
  /** Our microphone and camera (either may be missing); the caller owns and stops them. */
  localStream: MediaStream | null;
  audioMuted: boolean;
  videoMuted: boolean;
}

/** What the browser tests read (`window.__rucheMeeting`) to call getStats(). */
export interface MeetingTestHook {
  readonly participantId: string | null;
  readonly sendPc: RTCPeerConnection | null;
  readonly recvPc: RTCPeerConnection | null;
  readonly state: SessionState;
  /** The video producers we receive (for tests that pick one). */
  readonly videoProducerIds: string[];
  /** Forces the simulcast layer (0 low … 2 high) we ask for one producer's video. */
  setPreferredLayer(producerId: string, layer: 0 | 1 | 2): void;
}

declare global {
  interface Window {
    __rucheMeeting?: MeetingTestHook;
  }
}

// Simulcast: three encodings of the camera, lowest first (Ruche orders layers as listed). Each
// subscriber then gets the one that suits its tile, switched by the SFU on a key frame.
const kSimulcast: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/** The layer a grid of `tiles` remote videos needs: small tiles do not need the full one. */
function layerForGrid(tiles: number): 0 | 1 | 2 {
  if (tiles <= 2) return 2;
  if (tiles <= 6) return 1;
  return 0;
}

// Ruche is ICE-lite and puts its host candidates in its SDP: no STUN or TURN to ask.
const kPcConfig: RTCConfiguration = {
  iceServers: [],
  bundlePolicy: 'max-bundle',
  rtcpMuxPolicy: 'require',
};

// Producers announced within this window go out in one `subscribe` (a participant's audio and
// video arrive as two messages); the server folds changes into one offer anyway.
const kSubscribeBatchMs = 30;

function toParticipant(info: ParticipantInfo, selfId: string | null): Participant {
  return {
    id: info.participant_id,
    displayName: info.display_name,
    userId: info.user_id,
    guest: info.guest,
    audioMuted: info.audio_muted,
    videoMuted: info.video_muted,
    isSelf: info.participant_id === selfId,
  };
}

export class MeetingSession {
  readonly state = signal<SessionState>('connecting');
  /** Set when state is 'failed': why. */
  readonly failure = signal<SessionProblem | null>(null);
  /** A problem that did not end the session (a refused request), shown until the next one. */
  readonly notice = signal<SessionProblem | null>(null);
  readonly participantId = signal<string | null>(null);
  readonly title = signal<string | null>(null);
  /** Everyone in the meeting, us included, in joining order. */
  readonly participants = signal<ReadonlyMap<string, Participant>>(new Map());
  /** Received tracks by participant. */
  readonly media = signal<ReadonlyMap<string, RemoteMedia>>(new Map());
  readonly activeSpeaker = signal<string | null>(null);
  readonly audioMuted: Signal<boolean>;
  readonly videoMuted: Signal<boolean>;

  sendPc: RTCPeerConnection | null = null;
  readonly recvPc: RTCPeerConnection;

  private readonly channel: SignallingChannel;
  private readonly producers = new Map<string, ProducerInfo>(); // everyone's, ours excluded
  private readonly requested = new Set<string>(); // producer ids we asked to receive
  private readonly pendingSubscribe = new Set<string>();
  private subscribeTimer: ReturnType<typeof setTimeout> | null = null;
  private consumers: ConsumerInfo[] = [];
  // The layer asked for each video producer, and the ones forced through the test hook.
  private askedLayers = new Map<string, number>();
  private forcedLayers = new Map<string, 0 | 1 | 2>();
  // Peer-connection work runs one step at a time, in message order.
  private work: Promise<void> = Promise.resolve();
  private joinError: SessionProblem | null = null;

  constructor(private readonly options: SessionOptions) {
    this.audioMuted = signal(options.audioMuted);
    this.videoMuted = signal(options.videoMuted);
    this.recvPc = new RTCPeerConnection(kPcConfig);
    this.recvPc.addEventListener('track', () => this.refreshMedia());
    this.watchConnection(this.recvPc);
    this.channel = new SignallingChannel(signallingUrl(options.meetingId), {
      onOpen: () => this.sendJoin(),
      onMessage: (message) => this.onMessage(message),
      onClose: () => this.onSocketClosed(),
    });
    // Getters, so the hook always shows this session's current connections and state.
    const session = this;
    window.__rucheMeeting = {
      get participantId() {
        return session.participantId.value;
      },
      get sendPc() {
        return session.sendPc;
      },
      get recvPc() {
        return session.recvPc;
      },
      get videoProducerIds() {
        return session.consumers.filter((c) => c.kind === 'video').map((c) => c.producer_id);
      },
      setPreferredLayer(producerId: string, layer: 0 | 1 | 2) {
        session.forcedLayers.set(producerId, layer);
        session.askLayers();
      },
      get state() {
        return session.state.value;
      },
    };
  }

  start(): void {
    this.channel.open();
  }

  /** Leaves on purpose: says goodbye, closes the socket and both connections. */
  leave(): void {
    if (this.state.value === 'left' || this.state.value === 'failed') return;
    this.channel.close();
    this.closeConnections();
    this.state.value = 'left';
  }

  setAudioMuted(muted: boolean): void {
    this.audioMuted.value = muted;
    for (const track of this.options.localStream?.getAudioTracks() ?? []) track.enabled = !muted;
    this.sendMute();
  }

  setVideoMuted(muted: boolean): void {
    this.videoMuted.value = muted;
    for (const track of this.options.localStream?.getVideoTracks() ?? []) track.enabled = !muted;
    this.sendMute();
  }

  // ---- signalling ----------------------------------------------------------------------

  private sendJoin(): void {
    const { key, identity } = this.options;
    if ('accessToken' in identity) {
      this.channel.send({ type: 'join', key, access_token: identity.accessToken });
    } else {
      this.channel.send({ type: 'join', key, display_name: identity.displayName });
    }
  }

  private sendMute(): void {
    const self = this.participantId.value;
    if (!self || this.state.value !== 'joined') return;
    this.channel.send({ type: 'mute', audio: this.audioMuted.value, video: this.videoMuted.value });
    this.updateParticipant(self, {
      audioMuted: this.audioMuted.value,
      videoMuted: this.videoMuted.value,
    });
  }

  private onMessage(message: ServerMessage): void {
    if (this.state.value === 'left' || this.state.value === 'failed') return;
    switch (message.type) {
      case 'joined':
        this.onJoined(message);
        break;
      case 'error':
        if (this.state.value === 'connecting') {
          // A refused join: the server closes the socket next; report this, not "lost".
          this.joinError = { code: message.code, message: message.message };
        } else {
          this.notice.value = { code: message.code, message: message.message };
        }
        break;
      case 'publish_answer':
        this.enqueue(async () => {
          await this.sendPc?.setRemoteDescription({ type: 'answer', sdp: message.sdp });
        });
        break;
      case 'subscribe_offer':
        this.enqueue(() => this.answerSubscription(message.sdp, message.consumers));
        break;
      case 'participant_joined':
      case 'participant_updated': {
        const next = new Map(this.participants.value);
        const updated = toParticipant(message.participant, this.participantId.value);
        if (updated.isSelf) {
          // Our own switches are the truth for us; the echo may lag a later click.
          updated.audioMuted = this.audioMuted.value;
          updated.videoMuted = this.videoMuted.value;
        }
        next.set(updated.id, updated);
        this.participants.value = next;
        break;
      }
      case 'participant_left': {
        const next = new Map(this.participants.value);
        next.delete(message.participant_id);
        this.participants.value = next;
        if (this.activeSpeaker.value === message.participant_id) this.activeSpeaker.value = null;
        for (const [id, producer] of this.producers) {
          if (producer.participant_id === message.participant_id) this.forgetProducer(id);
        }
        this.refreshMedia();
        break;
      }
      case 'producer_added':
        this.learnProducer(message.producer);
        break;
      case 'producer_removed':
        this.forgetProducer(message.producer_id);
        this.refreshMedia();
        break;
      case 'active_speaker':
        this.activeSpeaker.value = message.participant_id;
        break;
    }
  }

  private onJoined(message: Extract<ServerMessage, { type: 'joined' }>): void {
    const selfId = message.participant_id;
    this.participantId.value = selfId;
    if (message.title) this.title.value = message.title;
    const all = new Map<string, Participant>();
    for (const info of message.participants) {
      all.set(info.participant_id, toParticipant(info, selfId));
    }
    const identity = this.options.identity;
    all.set(selfId, {
      id: selfId,
      displayName: message.display_name,
      guest: !('accessToken' in identity),
      audioMuted: this.audioMuted.value,
      videoMuted: this.videoMuted.value,
      isSelf: true,
    });
    this.participants.value = all;
    this.state.value = 'joined';
    if (this.audioMuted.value || this.videoMuted.value) this.sendMute();
    for (const producer of message.producers) this.learnProducer(producer);
    this.enqueue(() => this.publish());
  }

  private onSocketClosed(): void {
    if (this.state.value === 'left' || this.state.value === 'failed') return;
    const wasJoined = this.state.value === 'joined';
    this.fail(this.joinError ?? { code: wasJoined ? 'connection_lost' : 'cannot_connect' });
  }

  private fail(problem: SessionProblem): void {
    if (this.state.value === 'left' || this.state.value === 'failed') return;
    this.failure.value = problem;
    this.state.value = 'failed';
    this.channel.close();
    this.closeConnections();
  }

  // ---- producers and subscriptions --------------------------------------------------------

  private learnProducer(producer: ProducerInfo): void {
    if (producer.participant_id === this.participantId.value) return; // our own: never receive
    this.producers.set(producer.producer_id, producer);
    if (this.requested.has(producer.producer_id)) return;
    this.requested.add(producer.producer_id);
    this.pendingSubscribe.add(producer.producer_id);
    this.subscribeTimer ??= setTimeout(() => this.flushSubscribe(), kSubscribeBatchMs);
  }

  private flushSubscribe(): void {
    this.subscribeTimer = null;
    const ids = [...this.pendingSubscribe].filter((id) => this.producers.has(id));
    this.pendingSubscribe.clear();
    if (ids.length && this.state.value === 'joined') {
      this.channel.send({ type: 'subscribe', producer_ids: ids });
    }
  }

  /** The server drops the matching consumer itself and sends a new offer. */
  private forgetProducer(producerId: string): void {
    this.producers.delete(producerId);
    this.requested.delete(producerId);
    this.pendingSubscribe.delete(producerId);
    this.consumers = this.consumers.filter((c) => c.producer_id !== producerId);
  }

  // ---- peer connections ----------------------------------------------------------------

  private enqueue(step: () => Promise<void>): void {
    this.work = this.work.then(async () => {
      if (this.state.value !== 'joined') return;
      try {
        await step();
      } catch (error) {
        if (this.state.value !== 'joined') return; // closed under our feet: not a failure
        console.warn('meeting: negotiation failed', error);
        this.fail({ code: 'media_failed', message: String(error) });
      }
    });
  }

  /** Offers our tracks on the send connection (nothing to send: receive only). */
  private async publish(): Promise<void> {
    const stream = this.options.localStream;
    const audio = stream?.getAudioTracks()[0];
    const video = stream?.getVideoTracks()[0];
    if (!stream || (!audio && !video)) return;
    const pc = new RTCPeerConnection(kPcConfig);
    this.sendPc = pc;
    this.watchConnection(pc);
    if (audio) pc.addTransceiver(audio, { direction: 'sendonly', streams: [stream] });
    if (video) {
      pc.addTransceiver(video, { direction: 'sendonly', streams: [stream], sendEncodings: kSimulcast });
    }
    await pc.setLocalDescription(await pc.createOffer());
    // NOTE: no candidates to trickle: Ruche is ICE-lite and learns our address from our
    // connectivity checks, so the offer goes out as soon as it exists.
    this.channel.send({ type: 'publish', sdp: pc.localDescription!.sdp });
  }

  private async answerSubscription(sdp: string, consumers: ConsumerInfo[]): Promise<void> {
    const pc = this.recvPc;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    this.consumers = consumers.filter((c) => c.participant_id !== this.participantId.value);
    await pc.setLocalDescription(await pc.createAnswer());
    this.channel.send({ type: 'subscribe_answer', sdp: pc.localDescription!.sdp });
    this.refreshMedia();
    this.askLayers();
  }

  /** Tells Ruche which simulcast layer each video needs, when that changes. */
  private askLayers(): void {
    const videos = this.consumers.filter((c) => c.kind === 'video');
    const layer = layerForGrid(videos.length);
    for (const c of videos) {
      const wanted = this.forcedLayers.get(c.producer_id) ?? layer;
      if (this.askedLayers.get(c.producer_id) === wanted) continue;
      this.askedLayers.set(c.producer_id, wanted);
      this.channel.send({ type: 'preferred_layer', producer_id: c.producer_id, spatial_layer: wanted });
    }
  }

  /** Maps each consumer's mid to its receiver's track, grouped by participant. */
  private refreshMedia(): void {
    const byMid = new Map<string, MediaStreamTrack>();
    if (this.recvPc.signalingState !== 'closed') {
      for (const transceiver of this.recvPc.getTransceivers()) {
        if (transceiver.mid !== null && transceiver.currentDirection !== 'stopped') {
          byMid.set(transceiver.mid, transceiver.receiver.track);
        }
      }
    }
    const media = new Map<string, RemoteMedia>();
    for (const consumer of this.consumers) {
      const track = byMid.get(consumer.mid);
      if (!track || !this.producers.has(consumer.producer_id)) continue;
      const entry = media.get(consumer.participant_id) ?? {};
      entry[consumer.kind] = track;
      media.set(consumer.participant_id, entry);
    }
    if (!sameMedia(media, this.media.value)) this.media.value = media;
  }

  private watchConnection(pc: RTCPeerConnection): void {
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed') {
        this.fail({ code: 'media_failed', message: 'peer connection failed' });
      }
    });
  }

  private closeConnections(): void {
    if (this.subscribeTimer !== null) clearTimeout(this.subscribeTimer);
    this.subscribeTimer = null;
    this.sendPc?.close();
    this.recvPc.close();
  }

  private updateParticipant(id: string, changes: Partial<Participant>): void {
    const current = this.participants.value.get(id);
    if (!current) return;
    const next = new Map(this.participants.value);
    next.set(id, { ...current, ...changes });
    this.participants.value = next;
  }
}

function sameMedia(a: ReadonlyMap<string, RemoteMedia>, b: ReadonlyMap<string, RemoteMedia>) {
  if (a.size !== b.size) return false;
  for (const [id, entry] of a) {
    const other = b.get(id);
    if (!other || other.audio !== entry.audio || other.video !== entry.video) return false;
  }
  return true;
}
