// The meeting page, `/meet/<id>?k=<key>`: pre-join (title, name, camera and microphone preview,
// device choice), the meeting itself (tile grid, controls) and the end screens (left, refused,
// lost). Loaded on demand by app.tsx, so the chat never downloads any of it. The protocol and the
// peer connections live in src/meet/; this file only shows their signals.
import { useComputed, useSignal, type Signal } from '@preact/signals';
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { MatrixError, NetworkError } from '../api/matrix_client';
import { fetchMeeting, type MeetingSummary } from '../api/meetings';
import { LanguageSelect } from '../components/language_select';
import { Logo } from '../components/logo';
import {
  CameraIcon,
  CameraOffIcon,
  LeaveIcon,
  MicIcon,
  MicOffIcon,
} from '../components/media_icons';
import { t } from '../i18n';
import {
  deviceIdOf,
  listDevices,
  openLocalMedia,
  stopStream,
  type DeviceLists,
  type LocalMedia,
} from '../meet/local_media';
import {
  MeetingSession,
  type Identity,
  type Participant,
  type SessionProblem,
} from '../meet/meeting_session';
import { meetingDocumentTitle, type MeetingRoute } from '../meet/route';
import { session as accountSession } from '../session';

type Screen = 'loading' | 'unavailable' | 'prejoin' | 'meeting' | 'ended';

const kMaxNameLength = 64; // docs/api.md: a guest's display_name is 1–64 characters

/** A problem as a locale key under `meeting.error`. */
function problemKey(problem: SessionProblem | null, joinedAsGuest: boolean): string {
  switch (problem?.code) {
    case 'M_NOT_FOUND':
      return 'meeting.error.not_found';
    case 'M_FORBIDDEN':
      return joinedAsGuest ? 'meeting.error.guests_not_allowed' : 'meeting.error.forbidden';
    case 'M_RESOURCE_LIMIT_EXCEEDED':
      return 'meeting.error.full';
    case 'M_UNKNOWN_TOKEN':
    case 'M_MISSING_TOKEN':
      return 'meeting.error.session_expired';
    case 'M_LIMIT_EXCEEDED':
      return 'meeting.error.rate_limited';
    case 'connection_lost':
      return 'meeting.error.connection_lost';
    case 'cannot_connect':
    case 'network':
      return 'meeting.error.cannot_connect';
    case 'media_failed':
      return 'meeting.error.media_failed';
    default:
      return 'meeting.error.unknown';
  }
}

function describeLoadError(error: unknown): SessionProblem {
  if (error instanceof NetworkError) return { code: 'network' };
  if (error instanceof MatrixError) return { code: error.errcode, message: error.message };
  return { code: 'unknown' };
}

/** "Ana María López" → "AL"; "Guest 2" → "G2"; "" → "?". */
function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  const first = [...words[0]][0] ?? '';
  const last = words.length > 1 ? ([...words[words.length - 1]][0] ?? '') : '';
  return (first + last).toLocaleUpperCase();
}

/** The grid's shape for `count` tiles: columns × rows chosen in styles.css. */
function gridClass(count: number): string {
  const size = [1, 2, 4, 6, 9, 12].find((fits) => count <= fits) ?? 'many';
  return `meeting-grid meeting-grid--${size}`;
}

// ---- media elements ----------------------------------------------------------------------

/** A <video> showing `stream` (always muted: sound goes through StreamAudio). */
function StreamVideo({ stream, class: className }: { stream: MediaStream | null; class?: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    video.srcObject = stream;
    // NOTE: autoplay covers most cases; play() again for browsers that pause a muted video
    // whose source changed. Its promise rejects (AbortError) when the source changes again.
    if (stream) video.play().catch(() => {});
  }, [stream]);
  return <video ref={ref} class={className} autoplay playsInline muted />;
}

/** Plays a remote participant's audio; reports when the browser blocks autoplay. */
function StreamAudio({ track, onBlocked }: { track: MediaStreamTrack; onBlocked: () => void }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const audio = ref.current;
    if (!audio) return;
    audio.srcObject = new MediaStream([track]);
    audio.play().catch((error: unknown) => {
      if (error instanceof DOMException && error.name === 'NotAllowedError') onBlocked();
    });
    return () => {
      audio.srcObject = null;
    };
  }, [track]);
  return <audio ref={ref} class="tile__audio" autoplay />;
}

/** Whether frames arrive on a remote track (a remote track is "muted" until RTP flows). */
function useTrackFlowing(track: MediaStreamTrack | undefined): boolean {
  const flowing = useSignal(track ? !track.muted : false);
  useEffect(() => {
    flowing.value = track ? !track.muted : false;
    if (!track) return;
    const update = () => (flowing.value = !track.muted);
    track.addEventListener('mute', update);
    track.addEventListener('unmute', update);
    return () => {
      track.removeEventListener('mute', update);
      track.removeEventListener('unmute', update);
    };
  }, [track]);
  return flowing.value;
}

// ---- tiles -------------------------------------------------------------------------------

interface TileProps {
  participant: Participant;
  /** Our own camera for our tile; the received video for the others. */
  videoTrack: MediaStreamTrack | undefined;
  audioTrack: MediaStreamTrack | undefined;
  speaking: boolean;
  onAudioBlocked: () => void;
}

function Tile({ participant, videoTrack, audioTrack, speaking, onAudioBlocked }: TileProps) {
  const stream = useMemo(() => (videoTrack ? new MediaStream([videoTrack]) : null), [videoTrack]);
  const flowing = useTrackFlowing(participant.isSelf ? undefined : videoTrack);
  const cameraOff =
    participant.videoMuted || !videoTrack || (!participant.isSelf && !flowing);
  const label = [
    participant.isSelf
      ? t('meeting.tile.you', { name: participant.displayName })
      : participant.displayName,
    participant.audioMuted ? t('meeting.tile.mic_muted') : null,
    participant.videoMuted ? t('meeting.tile.camera_off') : null,
    speaking ? t('meeting.tile.speaking') : null,
  ]
    .filter(Boolean)
    .join(', ');
  const classes = ['tile'];
  if (participant.isSelf) classes.push('tile--self');
  if (speaking) classes.push('tile--speaking');
  if (cameraOff) classes.push('tile--camera-off');
  return (
    <li class={classes.join(' ')} aria-label={label} data-participant-id={participant.id}>
      <StreamVideo stream={stream} class="tile__video" />
      {cameraOff ? (
        <span class="tile__avatar" aria-hidden="true">
          {initials(participant.displayName)}
        </span>
      ) : null}
      {audioTrack && !participant.isSelf ? (
        <StreamAudio track={audioTrack} onBlocked={onAudioBlocked} />
      ) : null}
      <span class="tile__label" aria-hidden="true">
        {participant.audioMuted ? <MicOffIcon class="tile__muted" /> : null}
        <span class="tile__name">{participant.displayName}</span>
        {participant.isSelf ? <span class="tile__you">{t('meeting.tile.you_badge')}</span> : null}
      </span>
    </li>
  );
}

// ---- controls ----------------------------------------------------------------------------

interface ToggleProps {
  /** True when the device is off (the button's pressed state). */
  off: boolean;
  label: string;
  onIcon: JSX.Element;
  offIcon: JSX.Element;
  disabled?: boolean;
  onToggle: () => void;
}

/** A mute-style switch: a constant label, aria-pressed when the device is off. */
interface DeviceSelectProps {
  id: string;
  label: string;
  devices: MediaDeviceInfo[];
  disabled: boolean;
  choice: Signal<string | null>;
  /** Locale key naming an unlabelled device by its position ({{n}}). */
  nameKey: string;
  onChange: () => void;
}

/** A camera or microphone choice on the pre-join screen. */
function DeviceSelect({ id, label, devices, disabled, choice, nameKey, onChange }: DeviceSelectProps) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select
        id={id}
        disabled={disabled || !devices.length}
        value={choice.value ?? ''}
        onChange={(e) => {
          choice.value = e.currentTarget.value || null;
          onChange();
        }}
      >
        {devices.length ? null : <option value="">{t('meeting.prejoin.none_found')}</option>}
        {devices.map((device, index) => (
          <option key={device.deviceId} value={device.deviceId}>
            {device.label || t(nameKey, { n: index + 1 })}
          </option>
        ))}
      </select>
    </div>
  );
}

function DeviceToggle({ off, label, onIcon, offIcon, disabled, onToggle }: ToggleProps) {
  return (
    <button
      type="button"
      class={off ? 'control control--off' : 'control'}
      aria-label={label}
      aria-pressed={off}
      title={label}
      disabled={disabled}
      onClick={onToggle}
    >
      {off ? offIcon : onIcon}
    </button>
  );
}

// ---- the page ----------------------------------------------------------------------------

export function MeetingView({ route }: { route: MeetingRoute }) {
  const screen = useSignal<Screen>('loading');
  const summary = useSignal<MeetingSummary | null>(null);
  const loadError = useSignal<SessionProblem | null>(null);
  const local = useSignal<LocalMedia>({ stream: null, problem: null });
  const acquiring = useSignal(false);
  const devices = useSignal<DeviceLists>({ cameras: [], microphones: [] });
  const cameraId = useSignal<string | null>(null);
  const microphoneId = useSignal<string | null>(null);
  const micOff = useSignal(false);
  const cameraOff = useSignal(false);
  const name = useSignal(route.name ?? '');
  const nameError = useSignal(false);
  const meeting = useSignal<MeetingSession | null>(null);
  const lastIdentity = useSignal<Identity | null>(null);
  const audioBlocked = useSignal(false);

  // Mutable bookkeeping that must not re-render: which acquisition is the latest, unmounted.
  const book = useRef({ generation: 0, unmounted: false });

  /** (Re)opens camera and microphone with the chosen devices; the newest call wins. */
  async function acquire(): Promise<void> {
    const generation = ++book.current.generation;
    stopStream(local.peek().stream);
    local.value = { stream: null, problem: null };
    acquiring.value = true;
    const opened = await openLocalMedia({
      cameraId: cameraId.peek(),
      microphoneId: microphoneId.peek(),
    });
    if (generation !== book.current.generation || book.current.unmounted) {
      stopStream(opened.stream);
      return;
    }
    for (const track of opened.stream?.getAudioTracks() ?? []) track.enabled = !micOff.peek();
    for (const track of opened.stream?.getVideoTracks() ?? []) track.enabled = !cameraOff.peek();
    local.value = opened;
    cameraId.value = deviceIdOf(opened.stream, 'video') ?? cameraId.peek();
    microphoneId.value = deviceIdOf(opened.stream, 'audio') ?? microphoneId.peek();
    devices.value = await listDevices();
    acquiring.value = false;
  }

  async function join(identity: Identity): Promise<void> {
    lastIdentity.value = identity;
    const stream = local.peek().stream;
    if (!stream || stream.getTracks().every((track) => track.readyState === 'ended')) {
      await acquire();
    }
    if (book.current.unmounted) return;
    const next = new MeetingSession({
      meetingId: route.meetingId,
      key: route.key,
      identity,
      localStream: local.peek().stream,
      audioMuted: micOff.peek(),
      videoMuted: cameraOff.peek(),
    });
    meeting.value = next;
    audioBlocked.value = false;
    screen.value = 'meeting';
    next.start();
  }

  function endMeeting(): void {
    meeting.peek()?.leave();
    stopStream(local.peek().stream); // the camera light goes off with the meeting
    local.value = { stream: null, problem: null };
    screen.value = 'ended';
  }

  async function rejoin(): Promise<void> {
    const identity = lastIdentity.peek();
    if (identity) await join(identity);
  }

  // Load the meeting's description, then either join (autojoin links) or show the pre-join.
  useEffect(() => {
    const state = book.current;
    state.unmounted = false;
    meetingDocumentTitle.value = null;
    (async () => {
      if (!route.key) {
        loadError.value = { code: 'M_NOT_FOUND' };
        screen.value = 'unavailable';
        return;
      }
      let described: MeetingSummary;
      try {
        described = await fetchMeeting(route.meetingId, route.key);
      } catch (error) {
        if (state.unmounted) return;
        loadError.value = describeLoadError(error);
        screen.value = 'unavailable';
        return;
      }
      if (state.unmounted) return;
      summary.value = described;
      meetingDocumentTitle.value = described.title;
      const account = accountSession.peek();
      let identity: Identity | null = null;
      if (route.autojoin && route.name) {
        identity = { displayName: [...route.name].slice(0, kMaxNameLength).join('') };
      } else if (route.autojoin && account) {
        identity = { accessToken: account.accessToken };
      }
      if (identity) {
        await join(identity);
      } else {
        screen.value = 'prejoin';
        await acquire();
      }
    })();
    const onPageHide = () => meeting.peek()?.leave();
    window.addEventListener('pagehide', onPageHide);
    const onDeviceChange = () => {
      void listDevices().then((lists) => (devices.value = lists));
    };
    navigator.mediaDevices?.addEventListener?.('devicechange', onDeviceChange);
    return () => {
      state.unmounted = true;
      window.removeEventListener('pagehide', onPageHide);
      navigator.mediaDevices?.removeEventListener?.('devicechange', onDeviceChange);
      meeting.peek()?.leave();
      stopStream(local.peek().stream);
      meetingDocumentTitle.value = null;
    };
  }, []);

  // The session ending on its own (refused, connection lost): release the camera too.
  const sessionState = meeting.value?.state.value;
  useEffect(() => {
    if (sessionState === 'failed' && screen.peek() === 'meeting') endMeeting();
  }, [sessionState]);

  switch (screen.value) {
    case 'loading':
      return (
        <main class="loading" id="main">
          <span class="spinner" aria-hidden="true" />
          <p role="status">{t('meeting.loading')}</p>
        </main>
      );
    case 'unavailable':
      return (
        <EndCard
          heading={t('meeting.unavailable_heading')}
          message={t(problemKey(loadError.value, true))}
        />
      );
    case 'prejoin':
      return (
        <PreJoin
          summary={summary.value!}
          local={local}
          acquiring={acquiring.value}
          devices={devices.value}
          cameraId={cameraId}
          microphoneId={microphoneId}
          micOff={micOff}
          cameraOff={cameraOff}
          name={name}
          nameError={nameError}
          onDeviceChange={() => void acquire()}
          onJoin={(identity) => void join(identity)}
        />
      );
    case 'meeting':
      return (
        <InMeeting
          meeting={meeting.value!}
          localStream={local.value.stream}
          fallbackTitle={summary.value?.title ?? ''}
          audioBlocked={audioBlocked}
          onLeave={endMeeting}
        />
      );
    case 'ended': {
      const ended = meeting.value;
      const failure = ended?.state.value === 'failed' ? ended.failure.value : null;
      const asGuest = !!lastIdentity.value && 'displayName' in lastIdentity.value;
      // Trying again cannot help when the link is wrong or we are not admitted.
      const hopeless = failure?.code === 'M_NOT_FOUND' || failure?.code === 'M_FORBIDDEN';
      return (
        <EndCard
          heading={failure ? t('meeting.failed_heading') : t('meeting.left_heading')}
          message={failure ? t(problemKey(failure, asGuest)) : t('meeting.left_body')}
          alert={!!failure}
          action={
            hopeless
              ? undefined
              : { label: t('meeting.rejoin'), busy: acquiring.value, run: () => void rejoin() }
          }
        />
      );
    }
  }
}

// ---- pre-join ----------------------------------------------------------------------------

interface PreJoinProps {
  summary: MeetingSummary;
  local: Signal<LocalMedia>;
  acquiring: boolean;
  devices: DeviceLists;
  cameraId: Signal<string | null>;
  microphoneId: Signal<string | null>;
  micOff: Signal<boolean>;
  cameraOff: Signal<boolean>;
  name: Signal<string>;
  nameError: Signal<boolean>;
  onDeviceChange: () => void;
  onJoin: (identity: Identity) => void;
}

function PreJoin(props: PreJoinProps) {
  const { summary, local, acquiring, devices, micOff, cameraOff, name, nameError } = props;
  const account = accountSession.value;
  const stream = local.value.stream;
  const hasVideo = !!stream?.getVideoTracks().length;
  const hasAudio = !!stream?.getAudioTracks().length;
  const videoStream = useComputed(() => {
    const s = local.value.stream;
    const video = s?.getVideoTracks()[0];
    return video ? new MediaStream([video]) : null;
  });
  const guestsRefused = !account && !summary.allow_guests;
  const problem = local.value.problem;

  function setTracks(kind: 'audio' | 'video', off: boolean) {
    const s = local.peek().stream;
    const tracks = kind === 'audio' ? s?.getAudioTracks() : s?.getVideoTracks();
    for (const track of tracks ?? []) track.enabled = !off;
  }

  function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (account) {
      props.onJoin({ accessToken: account.accessToken });
      return;
    }
    const chosen = name.value.trim();
    if (!chosen || [...chosen].length > kMaxNameLength) {
      nameError.value = true;
      return;
    }
    nameError.value = false;
    props.onJoin({ displayName: chosen });
  }

  const cameraLabel = t('meeting.prejoin.camera');
  const microphoneLabel = t('meeting.prejoin.microphone');

  return (
    <div class="prejoin">
      <header class="prejoin__bar">
        <Logo />
        <LanguageSelect id="meeting-language" compact />
      </header>
      <main class="prejoin__main" id="main">
        <section class="prejoin__preview" aria-label={t('meeting.prejoin.preview')}>
          <div class={cameraOff.value || !hasVideo ? 'preview preview--off' : 'preview'}>
            <StreamVideo stream={videoStream.value} class="preview__video" />
            {cameraOff.value || !hasVideo ? (
              <p class="preview__status">
                {acquiring
                  ? t('meeting.prejoin.starting_camera')
                  : !hasVideo
                    ? t('meeting.prejoin.no_camera')
                    : t('meeting.prejoin.camera_is_off')}
              </p>
            ) : null}
            <div class="preview__controls" role="group" aria-label={t('meeting.controls')}>
              <DeviceToggle
                off={micOff.value || !hasAudio}
                disabled={!hasAudio}
                label={t('meeting.mute_microphone')}
                onIcon={<MicIcon />}
                offIcon={<MicOffIcon />}
                onToggle={() => {
                  micOff.value = !micOff.value;
                  setTracks('audio', micOff.value);
                }}
              />
              <DeviceToggle
                off={cameraOff.value || !hasVideo}
                disabled={!hasVideo}
                label={t('meeting.turn_camera_off')}
                onIcon={<CameraIcon />}
                offIcon={<CameraOffIcon />}
                onToggle={() => {
                  cameraOff.value = !cameraOff.value;
                  setTracks('video', cameraOff.value);
                }}
              />
            </div>
          </div>
          {problem ? (
            <p class="prejoin__media-problem" role="status">
              {t(`meeting.media_problem.${problem}`)}
            </p>
          ) : null}
        </section>

        <section class="prejoin__card" aria-labelledby="prejoin-heading">
          <p class="prejoin__kicker">{t('meeting.prejoin.kicker')}</p>
          <h1 id="prejoin-heading" class="prejoin__title">
            {summary.title}
          </h1>
          <p class="prejoin__people">
            {summary.participants > 0
              ? t('meeting.prejoin.in_meeting', { count: summary.participants })
              : t('meeting.prejoin.nobody_yet')}
          </p>
          {guestsRefused ? (
            <div class="form-error" role="alert">
              <p>{t('meeting.error.guests_not_allowed')}</p>
              <p>
                <a href="/">{t('meeting.prejoin.sign_in')}</a>
              </p>
            </div>
          ) : (
            <form class="prejoin__form" onSubmit={onSubmit} noValidate>
              {account ? (
                <p class="prejoin__account">
                  {t('meeting.prejoin.joining_as')}{' '}
                  <strong class="prejoin__user-id">{account.userId}</strong>
                </p>
              ) : (
                <div class="field">
                  <label for="meeting-name">{t('meeting.prejoin.your_name')}</label>
                  <input
                    id="meeting-name"
                    name="name"
                    type="text"
                    autocomplete="name"
                    maxLength={kMaxNameLength}
                    required
                    aria-invalid={nameError.value}
                    aria-describedby={nameError.value ? 'meeting-name-error' : undefined}
                    value={name.value}
                    onInput={(e) => {
                      name.value = e.currentTarget.value;
                      if (nameError.value) nameError.value = false;
                    }}
                  />
                  {nameError.value ? (
                    <p id="meeting-name-error" class="form-error" role="alert">
                      {t('meeting.prejoin.name_required')}
                    </p>
                  ) : null}
                </div>
              )}
              <div class="prejoin__devices">
                <DeviceSelect
                  id="meeting-camera"
                  label={cameraLabel}
                  devices={devices.cameras}
                  disabled={acquiring}
                  choice={props.cameraId}
                  nameKey="meeting.prejoin.camera_n"
                  onChange={props.onDeviceChange}
                />
                <DeviceSelect
                  id="meeting-microphone"
                  label={microphoneLabel}
                  devices={devices.microphones}
                  disabled={acquiring}
                  choice={props.microphoneId}
                  nameKey="meeting.prejoin.microphone_n"
                  onChange={props.onDeviceChange}
                />
              </div>
              <button type="submit" class="button button--primary button--block">
                {t('meeting.prejoin.join')}
              </button>
            </form>
          )}
        </section>
      </main>
    </div>
  );
}

// ---- in the meeting ----------------------------------------------------------------------

interface InMeetingProps {
  meeting: MeetingSession;
  localStream: MediaStream | null;
  fallbackTitle: string;
  audioBlocked: Signal<boolean>;
  onLeave: () => void;
}

function InMeeting({ meeting, localStream, fallbackTitle, audioBlocked, onLeave }: InMeetingProps) {
  const state = meeting.state.value;
  const participants = [...meeting.participants.value.values()].sort(
    (a, b) => Number(b.isSelf) - Number(a.isSelf),
  );
  const media = meeting.media.value;
  const speaker = meeting.activeSpeaker.value;
  const notice = meeting.notice.value;
  const localVideo = localStream?.getVideoTracks()[0];
  const hasAudio = !!localStream?.getAudioTracks().length;
  const title = meeting.title.value ?? fallbackTitle;
  const count = participants.length;

  function enableSound() {
    audioBlocked.value = false;
    for (const audio of document.querySelectorAll<HTMLAudioElement>('audio.tile__audio')) {
      audio.play().catch(() => (audioBlocked.value = true));
    }
  }

  return (
    <div class="meeting">
      <header class="meeting__bar">
        <Logo />
        <h1 class="meeting__title">{title}</h1>
        <p class="meeting__count">{t('meeting.people', { count })}</p>
      </header>
      <main class="meeting__stage" id="main">
        {state === 'connecting' ? (
          <div class="loading loading--inline">
            <span class="spinner" aria-hidden="true" />
            <p role="status">{t('meeting.joining')}</p>
          </div>
        ) : (
          <ul class={gridClass(count)} aria-label={t('meeting.participants', { count })}>
            {participants.map((p) => (
              <Tile
                key={p.id}
                participant={p}
                videoTrack={p.isSelf ? localVideo : media.get(p.id)?.video}
                audioTrack={p.isSelf ? undefined : media.get(p.id)?.audio}
                speaking={speaker === p.id && count > 1}
                onAudioBlocked={() => (audioBlocked.value = true)}
              />
            ))}
          </ul>
        )}
      </main>
      <div class="meeting__notices">
        <p class="meeting__notice" role="status">
          {notice ? t(problemKey(notice, false)) : null}
        </p>
        {audioBlocked.value ? (
          <button type="button" class="button" onClick={enableSound}>
            {t('meeting.enable_sound')}
          </button>
        ) : null}
      </div>
      <div class="meeting__controls" role="group" aria-label={t('meeting.controls')}>
        <DeviceToggle
          off={meeting.audioMuted.value || !hasAudio}
          disabled={!hasAudio || state !== 'joined'}
          label={t('meeting.mute_microphone')}
          onIcon={<MicIcon />}
          offIcon={<MicOffIcon />}
          onToggle={() => meeting.setAudioMuted(!meeting.audioMuted.value)}
        />
        <DeviceToggle
          off={meeting.videoMuted.value || !localVideo}
          disabled={!localVideo || state !== 'joined'}
          label={t('meeting.turn_camera_off')}
          onIcon={<CameraIcon />}
          offIcon={<CameraOffIcon />}
          onToggle={() => meeting.setVideoMuted(!meeting.videoMuted.value)}
        />
        <button
          type="button"
          class="control control--leave"
          aria-label={t('meeting.leave')}
          title={t('meeting.leave')}
          onClick={onLeave}
        >
          <LeaveIcon />
        </button>
      </div>
    </div>
  );
}

// ---- end screens -------------------------------------------------------------------------

interface EndCardProps {
  heading: string;
  message: string;
  alert?: boolean;
  action?: { label: string; busy: boolean; run: () => void };
}

function EndCard({ heading, message, alert = true, action }: EndCardProps) {
  const signedIn = !!accountSession.value;
  return (
    <div class="prejoin">
      <header class="prejoin__bar">
        <Logo />
        <LanguageSelect id="meeting-language" compact />
      </header>
      <main class="prejoin__main prejoin__main--single" id="main">
        <section class="end-card" aria-labelledby="end-heading">
          <h1 id="end-heading" class="end-card__heading">
            {heading}
          </h1>
          <p
            class={alert ? 'end-card__message form-error' : 'end-card__message'}
            role={alert ? 'alert' : 'status'}
          >
            {message}
          </p>
          <div class="end-card__actions">
            {action ? (
              <button
                type="button"
                class="button button--primary"
                disabled={action.busy}
                onClick={action.run}
              >
                {action.label}
              </button>
            ) : null}
            {signedIn ? (
              <a class="button" href="/">
                {t('meeting.back_to_workspace')}
              </a>
            ) : null}
          </div>
        </section>
      </main>
    </div>
  );
}
