// The signed-in session: kept in localStorage so a reload stays signed in, checked against the
// server with whoami on start, and dropped on sign-out or when the server refuses the token.
import { signal } from '@preact/signals';
import { MatrixError, login, logout, whoami } from './api/matrix_client';

export interface Session {
  userId: string;
  accessToken: string;
  deviceId: string;
}

/** checking: a stored session is being validated; the other two pick the view. */
export type Phase = 'checking' | 'signed-out' | 'signed-in';

const kStorageKey = 'ruche.session';

function load(): Session | null {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(kStorageKey) ?? 'null');
    if (value && typeof value === 'object') {
      const { userId, accessToken, deviceId } = value as Record<string, unknown>;
      if (typeof userId === 'string' && typeof accessToken === 'string') {
        return { userId, accessToken, deviceId: typeof deviceId === 'string' ? deviceId : '' };
      }
    }
  } catch {
    // unreadable or corrupt: start signed out
  }
  return null;
}

function save(value: Session | null): void {
  try {
    if (value) localStorage.setItem(kStorageKey, JSON.stringify(value));
    else localStorage.removeItem(kStorageKey);
  } catch {
    // storage disabled: the session lasts as long as the page
  }
}

export const session = signal<Session | null>(load());
export const phase = signal<Phase>(session.value ? 'checking' : 'signed-out');

function end(): void {
  save(null);
  session.value = null;
  phase.value = 'signed-out';
}

/** Validates the stored session with whoami; only a 401 signs out. */
export async function restoreSession(): Promise<void> {
  const current = session.value;
  if (!current) return;
  try {
    const me = await whoami(current.accessToken);
    // deviceId names "this session" in Settings; sessions saved without one get it here.
    session.value = { ...current, userId: me.user_id, deviceId: me.device_id ?? current.deviceId };
    save(session.value);
    phase.value = 'signed-in';
  } catch (error) {
    if (error instanceof MatrixError && error.status === 401) {
      end();
    } else {
      // NOTE: an unreachable server is no proof that the token is dead; keep the session so a
      // flaky network does not sign people out.
      phase.value = 'signed-in';
    }
  }
}

/** Signs in; throws MatrixError or NetworkError for the login view to explain. */
export async function signIn(user: string, password: string): Promise<void> {
  const answer = await login(user, password);
  session.value = {
    userId: answer.user_id,
    accessToken: answer.access_token,
    deviceId: answer.device_id,
  };
  save(session.value);
  phase.value = 'signed-in';
}

/**
 * The server no longer knows the token (signed out from another session, or by an admin): ends
 * the session here, without asking the server to end it again.
 */
export function sessionRevoked(): void {
  if (session.value) end();
}

/** Ends the token on the server, then locally whatever the server said. */
export async function signOut(): Promise<void> {
  const current = session.value;
  try {
    if (current) await logout(current.accessToken);
  } catch {
    // already invalid or server unreachable: the local session ends all the same
  } finally {
    end();
  }
}

// Another tab signed out (or in): follow it.
window.addEventListener('storage', (event) => {
  if (event.key !== kStorageKey) return;
  const next = load();
  if (!next) end();
  else if (next.accessToken !== session.value?.accessToken) {
    session.value = next;
    phase.value = 'signed-in';
  }
});
