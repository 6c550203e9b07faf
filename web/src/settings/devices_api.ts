// The user's sessions (Matrix devices, docs/api.md): list, rename, and sign out — the last
// behind user-interactive auth with the account password. A session (UIA) is asked for with a
// first call without `auth` (401 with `session`), then the call is sent again with the password.
import { MatrixError, NetworkError, requestJson } from '../api/matrix_client';

const kClientApi = '/_matrix/client/v3';

export interface Device {
  deviceId: string;
  displayName: string;
  lastSeenTs: number | null;
  lastSeenIp: string | null;
}

/** Longest device name the server takes, in UTF-8 bytes (docs/api.md). */
export const kMaxDeviceNameBytes = 255;

/** GET /devices, the most recently active first. */
export async function listDevices(token: string): Promise<Device[]> {
  const answer = await requestJson<{ devices?: unknown }>('GET', `${kClientApi}/devices`, { token });
  const raw = Array.isArray(answer.devices) ? answer.devices : [];
  const devices: Device[] = [];
  for (const item of raw as Record<string, unknown>[]) {
    if (typeof item?.device_id !== 'string') continue;
    devices.push({
      deviceId: item.device_id,
      displayName: typeof item.display_name === 'string' ? item.display_name : '',
      lastSeenTs: typeof item.last_seen_ts === 'number' ? item.last_seen_ts : null,
      lastSeenIp: typeof item.last_seen_ip === 'string' ? item.last_seen_ip : null,
    });
  }
  return devices.sort((a, b) => (b.lastSeenTs ?? 0) - (a.lastSeenTs ?? 0));
}

/** PUT /devices/{id} with its new name. */
export async function renameDevice(token: string, deviceId: string, name: string): Promise<void> {
  await requestJson('PUT', `${kClientApi}/devices/${encodeURIComponent(deviceId)}`, {
    token,
    body: { display_name: name },
  });
}

/** What one UIA round answered: done, or the session to send the password with. */
type UiaAnswer = { done: true } | { done: false; session: string; errcode: string | null };

async function uiaCall(token: string, method: string, url: string, body: object): Promise<UiaAnswer> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        Authorization: `Bearer ${token}`,
      },
      body: JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (cause) {
    throw new NetworkError(cause);
  }
  const payload: Record<string, unknown> = await response.json().catch(() => ({}));
  if (response.ok) return { done: true };
  const errcode = typeof payload.errcode === 'string' ? payload.errcode : null;
  if (response.status === 401 && typeof payload.session === 'string') {
    return { done: false, session: payload.session, errcode };
  }
  const retryAfterMs =
    typeof payload.retry_after_ms === 'number' ? payload.retry_after_ms : undefined;
  const message = typeof payload.error === 'string' ? payload.error : response.statusText;
  throw new MatrixError(response.status, errcode ?? 'M_UNKNOWN', message, retryAfterMs);
}

/**
 * Signs `deviceIds` out (DELETE /devices/{id} for one, POST /delete_devices for several),
 * confirming with `password`. Throws MatrixError: M_FORBIDDEN for a wrong password,
 * M_LIMIT_EXCEEDED after too many; NetworkError when the server does not answer.
 */
export async function deleteDevices(
  token: string,
  userId: string,
  deviceIds: string[],
  password: string,
): Promise<void> {
  const [method, url, body] =
    deviceIds.length === 1
      ? ['DELETE', `${kClientApi}/devices/${encodeURIComponent(deviceIds[0])}`, {}]
      : ['POST', `${kClientApi}/delete_devices`, { devices: deviceIds }];
  const first = await uiaCall(token, method, url, body);
  if (first.done) return; // a server that asks for no password
  const auth = {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: userId },
    password,
    session: first.session,
  };
  const second = await uiaCall(token, method, url, { ...body, auth });
  if (second.done) return;
  // 401 again: the password was refused (the spec's UIA answer carries the stage's error).
  throw new MatrixError(401, second.errcode ?? 'M_FORBIDDEN', 'password refused');
}
