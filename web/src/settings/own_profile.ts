// The signed-in user's own profile (display name and avatar), read once with GET /profile and
// changed from Settings. The top bar and the Settings dialog read the same signals. The server
// announces a change in every joined room itself (the user's member events; docs/api.md).
import { signal } from '@preact/signals';
import { useEffect, useMemo } from 'preact/hooks';
import { requestJson } from '../api/matrix_client';
import type { Chat } from '../chat/chat_client';

/** The server's limit on a profile field (docs/api.md), in UTF-8 bytes. */
export const kMaxDisplayNameBytes = 1024;

export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

type ProfileField = 'displayname' | 'avatar_url';

export class OwnProfile {
  /** '' when none is set: the user ID stands for the name. */
  readonly displayName = signal('');
  /** mxc:// URI of the avatar, or null. */
  readonly avatarUrl = signal<string | null>(null);

  constructor(private readonly chat: Chat) {}

  private get token(): string {
    return this.chat.client.getAccessToken() ?? '';
  }

  private get path(): string {
    return `/_matrix/client/v3/profile/${encodeURIComponent(this.chat.userId)}`;
  }

  /** Reads the profile; a failure leaves the user ID and the initial in place. */
  async load(): Promise<void> {
    try {
      const answer = await requestJson<Record<string, unknown>>('GET', this.path, {
        token: this.token,
      });
      const name = answer.displayname;
      const avatar = answer.avatar_url;
      this.displayName.value = typeof name === 'string' ? name : '';
      this.avatarUrl.value = typeof avatar === 'string' && avatar.startsWith('mxc://') ? avatar : null;
    } catch {
      // offline or refused: nothing better to show than what we have
    }
  }

  /** Sets the display name (trimmed; empty clears it). Throws MatrixError / NetworkError. */
  async setDisplayName(name: string): Promise<void> {
    const value = name.trim() || null;
    await this.put('displayname', value);
    this.displayName.value = value ?? '';
  }

  /** Sets (mxc:// URI) or removes (null) the avatar. Throws MatrixError / NetworkError. */
  async setAvatar(mxc: string | null): Promise<void> {
    await this.put('avatar_url', mxc);
    this.avatarUrl.value = mxc;
  }

  private async put(field: ProfileField, value: string | null): Promise<void> {
    // null clears the field (so does "", the spec's way).
    await requestJson('PUT', `${this.path}/${field}`, {
      token: this.token,
      body: { [field]: value },
    });
  }
}

/** The workspace's OwnProfile for `chat`, loaded once. */
export function useOwnProfile(chat: Chat): OwnProfile {
  const profile = useMemo(() => new OwnProfile(chat), [chat]);
  useEffect(() => void profile.load(), [profile]);
  return profile;
}
