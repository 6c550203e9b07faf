import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { formatSize, saveFile, thumbnailUrl, type MediaContent } from '../chat/media';
import type { MessageItem } from '../chat/timeline_model';
import { language, t } from '../i18n';
import { Lightbox } from './lightbox';

// The box a thumbnail fits in, in CSS pixels; the server is asked for twice that (sharp on
// high-density screens).
const kThumbWidth = 320;
const kThumbHeight = 240;

/** The size an image of `media`'s dimensions is shown at in the timeline. */
function fitted(media: MediaContent): { width: number; height: number } | null {
  if (!media.width || !media.height) return null;
  const scale = Math.min(1, kThumbWidth / media.width, kThumbHeight / media.height);
  return {
    width: Math.max(1, Math.round(media.width * scale)),
    height: Math.max(1, Math.round(media.height * scale)),
  };
}

/** A file's name, size and a download button; `chat` fetches it with our access token. */
export function FileCard({ chat, media }: { chat: Chat; media: MediaContent }) {
  const failed = useSignal(false);
  const size = media.size !== null ? formatSize(media.size, language.value) : '';
  return (
    <div class="file-card">
      <span class="file-card__icon" aria-hidden="true" />
      <span class="file-card__text">
        <span class="file-card__name">{media.name || t('files.unnamed')}</span>
        {size ? <span class="file-card__size">{size}</span> : null}
        {failed.value ? (
          <span class="file-card__error" role="alert">
            {t('files.download_failed')}
          </span>
        ) : null}
      </span>
      <button
        type="button"
        class="button file-card__download"
        aria-label={t('files.download_named', { name: media.name })}
        onClick={() => {
          failed.value = false;
          saveFile(chat, media).catch(() => (failed.value = true));
        }}
      >
        {t('files.download')}
      </button>
    </div>
  );
}

/** A shared picture (a thumbnail opening the lightbox) or file (a card with a download button). */
export function MediaAttachment({
  chat,
  item,
  media,
}: {
  chat: Chat;
  item: MessageItem;
  media: MediaContent;
}) {
  const src = useSignal<string | null>(null);
  const broken = useSignal(false);
  const open = useSignal(false);
  const image = item.msgtype === 'm.image';

  useEffect(() => {
    if (!image) return;
    let live = true;
    thumbnailUrl(chat, media.url, kThumbWidth * 2, kThumbHeight * 2)
      .then((url) => live && (src.value = url))
      .catch(() => live && (broken.value = true));
    return () => {
      live = false;
    };
  }, [media.url]);

  if (!image || broken.value) return <FileCard chat={chat} media={media} />;
  const size = fitted(media);
  return (
    <div class="media">
      <button
        type="button"
        class="media__open"
        aria-label={t('files.open_image', { name: media.name })}
        onClick={() => (open.value = true)}
      >
        {src.value ? (
          <img
            class="media__thumbnail"
            src={src.value}
            alt={media.name}
            width={size?.width}
            height={size?.height}
          />
        ) : (
          // The thumbnail's size, when known, is kept for it (an SVG's size, since nothing in
          // the timeline carries a style attribute), so the timeline does not move when it loads.
          <span
            class={size ? 'media__placeholder media__placeholder--sized' : 'media__placeholder'}
            role="status"
          >
            {size ? (
              <svg
                class="media__placeholder-space"
                width={String(size.width)}
                height={String(size.height)}
                aria-hidden="true"
                focusable="false"
              />
            ) : null}
            <span class="media__placeholder-text">{t('files.loading_image')}</span>
          </span>
        )}
      </button>
      {open.value ? (
        <Lightbox
          chat={chat}
          media={media}
          sender={item.senderName}
          onClose={() => (open.value = false)}
        />
      ) : null}
    </div>
  );
}
