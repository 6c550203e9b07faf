// A tiny wrapper over fetch for the Matrix Client-Server API of the same origin (docs/api.md).
// Every failure becomes either a MatrixError (the server answered) or a NetworkError (it did not),
// so views map errors to messages without looking at HTTP details.

const kClientApi = '/_matrix/client/v3';

/** The server answered with an error body `{errcode, error, retry_after_ms?}`. */
export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'MatrixError';
  }
}

/** The request never got an HTTP answer (server down, connection refused, offline). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('network error', { cause });
    this.name = 'NetworkError';
  }
}

export interface LoginResponse {
  user_id: string;
  access_token: string;
  device_id: string;
}

export interface WhoamiResponse {
  user_id: string;
  device_id?: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
}

/** The Client-Server API of this origin (`/_matrix/client/v3` + path). */
function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  return requestJson<T>(method, kClientApi + path, options);
}

/**
 * One JSON request to this origin's `url` (Matrix or Ruche's `/_ruche/v1`): a MatrixError when
 * the server answered with an error, a NetworkError when it did not answer.
 */
export async function requestJson<T>(
  method: string,
  url: string,
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.token) headers.Authorization = `Bearer ${options.token}`;

  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: 'no-store',
    });
  } catch (cause) {
    throw new NetworkError(cause);
  }

  // NOTE: a proxy in front of the server may answer with HTML; treat an unreadable body as
  // empty rather than failing with a JSON syntax error.
  const payload: Record<string, unknown> = await response.json().catch(() => ({}));
  if (response.ok) return payload as T;

  const errcode = typeof payload.errcode === 'string' ? payload.errcode : 'M_UNKNOWN';
  const message = typeof payload.error === 'string' ? payload.error : response.statusText;
  const retryAfterMs =
    typeof payload.retry_after_ms === 'number' ? payload.retry_after_ms : undefined;
  throw new MatrixError(response.status, errcode, message, retryAfterMs);
}

/**
 * "Ruche web · Firefox · Linux": how this sign-in is named in the sessions list, from the
 * browser's user agent (the first known name in each list wins; unknown ones are left out).
 */
export function deviceName(userAgent: string = navigator.userAgent): string {
  const browsers: [RegExp, string][] = [
    [/Edg\//, 'Edge'],
    [/OPR\//, 'Opera'],
    [/Firefox\//, 'Firefox'],
    [/Chrom(e|ium)\//, 'Chrome'],
    [/Safari\//, 'Safari'],
  ];
  const systems: [RegExp, string][] = [
    [/Android/, 'Android'],
    [/iPhone|iPad/, 'iOS'],
    [/Windows/, 'Windows'],
    [/Mac OS X/, 'macOS'],
    [/CrOS/, 'ChromeOS'],
    [/Linux/, 'Linux'],
  ];
  const browser = browsers.find(([re]) => re.test(userAgent))?.[1];
  const system = systems.find(([re]) => re.test(userAgent))?.[1];
  return ['Ruche web', browser, system].filter(Boolean).join(' · ');
}

/** POST /login with a user name (localpart or full MXID) and password. */
export function login(user: string, password: string): Promise<LoginResponse> {
  return request<LoginResponse>('POST', '/login', {
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user },
      password,
      initial_device_display_name: deviceName(),
    },
  });
}

/** GET /account/whoami: a 401 MatrixError means the token is no longer valid. */
export function whoami(token: string): Promise<WhoamiResponse> {
  return request<WhoamiResponse>('GET', '/account/whoami', { token });
}

/** POST /logout: ends this token and deletes its device on the server. */
export async function logout(token: string): Promise<void> {
  await request<unknown>('POST', '/logout', { token, body: {} });
}
