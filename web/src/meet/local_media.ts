// Our camera and microphone: open them (falling back to whichever one works), list the
// devices to choose from, stop them. The caller owns the stream and must stop it.

/** Why we have less than a camera and a microphone. */
export type MediaProblem =
  | 'insecure' // no navigator.mediaDevices: the page is not a secure context (plain http)
  | 'denied' // the user or the browser refused access
  | 'unavailable' // no such device, or it is busy
  | 'no_camera' // only the microphone opened
  | 'no_microphone'; // only the camera opened

export interface LocalMedia {
  stream: MediaStream | null;
  problem: MediaProblem | null;
}

export interface DeviceChoice {
  cameraId: string | null;
  microphoneId: string | null;
}

export interface DeviceLists {
  cameras: MediaDeviceInfo[];
  microphones: MediaDeviceInfo[];
}

// 640×360 is plenty for a tile and light on the SFU; the browser picks the nearest mode.
const kVideo: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 360 } };

/** Opens camera and microphone; when both fail together, tries each alone. */
export async function openLocalMedia(choice: DeviceChoice): Promise<LocalMedia> {
  const devices = navigator.mediaDevices;
  if (!devices?.getUserMedia) return { stream: null, problem: 'insecure' };
  const audio: MediaTrackConstraints | true = choice.microphoneId
    ? { deviceId: { exact: choice.microphoneId } }
    : true;
  const video: MediaTrackConstraints = choice.cameraId
    ? { ...kVideo, deviceId: { exact: choice.cameraId } }
    : kVideo;
  let lastError: unknown = null;
  const attempts: [MediaStreamConstraints, MediaProblem | null][] = [
    [{ audio, video }, null],
    [{ audio }, 'no_camera'],
    [{ video }, 'no_microphone'],
  ];
  for (const [constraints, problem] of attempts) {
    try {
      return { stream: await devices.getUserMedia(constraints), problem };
    } catch (error) {
      lastError = error;
      // A refusal covers both devices: asking again for one of them only asks again.
      if (error instanceof DOMException && error.name === 'NotAllowedError') break;
    }
  }
  const denied = lastError instanceof DOMException && lastError.name === 'NotAllowedError';
  return { stream: null, problem: denied ? 'denied' : 'unavailable' };
}

/** Cameras and microphones (named only once the page has been granted access). */
export async function listDevices(): Promise<DeviceLists> {
  const all = (await navigator.mediaDevices?.enumerateDevices?.().catch(() => [])) ?? [];
  return {
    cameras: all.filter((d) => d.kind === 'videoinput' && d.deviceId),
    microphones: all.filter((d) => d.kind === 'audioinput' && d.deviceId),
  };
}

/** The device a stream's track of `kind` came from, for the device selects. */
export function deviceIdOf(stream: MediaStream | null, kind: 'audio' | 'video'): string | null {
  const track = kind === 'audio' ? stream?.getAudioTracks()[0] : stream?.getVideoTracks()[0];
  return track?.getSettings().deviceId ?? null;
}

export function stopStream(stream: MediaStream | null | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
