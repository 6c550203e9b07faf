import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { thumbnailUrl } from '../chat/media';

interface Props {
  chat: Chat;
  /** mxc:// URI of the picture, or null for the initial. */
  mxc: string | null;
  /** The name whose first letter stands in while there is no picture (or it fails to load). */
  name: string;
  /** Extra class: its size where it sits (`avatar--large` in Settings). */
  class?: string;
}

/**
 * A round avatar: the picture, fetched as authenticated media into a blob: URL (media.ts), else
 * the name's first letter. Decorative: whatever it sits in carries the name.
 */
export function Avatar({ chat, mxc, name, class: extra }: Props) {
  const src = useSignal<string | null>(null);
  useEffect(() => {
    src.value = null;
    if (!mxc) return;
    let live = true;
    // 96×96: the server's thumbnail size just above the largest avatar shown (80 px).
    thumbnailUrl(chat, mxc, 96, 96).then(
      (url) => live && (src.value = url),
      () => undefined, // the initial stays
    );
    return () => {
      live = false;
    };
  }, [chat, mxc]);
  const initial = [...name.replace(/^@/, '')][0]?.toLocaleUpperCase() ?? '?';
  return (
    <span class={extra ? `avatar ${extra}` : 'avatar'} aria-hidden="true">
      {src.value ? <img class="avatar__image" src={src.value} alt="" /> : initial}
    </span>
  );
}
