import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { downloadUrl, saveFile, type MediaContent } from '../chat/media';
import { useModal } from '../components/dialog';
import { t } from '../i18n';

interface Props {
  chat: Chat;
  media: MediaContent;
  sender: string;
  onClose: () => void;
}

/**
 * A picture at full size over the page, on the native <dialog> (the page behind is inert, Tab
 * stays inside). Escape, the close button or a click beside the picture close it; focus then
 * goes back to the thumbnail that opened it.
 */
export function Lightbox({ chat, media, sender, onClose }: Props) {
  const ref = useModal(); // focus goes back to the thumbnail when it closes
  const src = useSignal<string | null>(null);
  const failed = useSignal(false);

  useEffect(() => {
    let live = true;
    downloadUrl(chat, media.url)
      .then((url) => live && (src.value = url))
      .catch(() => live && (failed.value = true));
    return () => {
      live = false;
    };
  }, [media.url]);

  return (
    <dialog
      ref={ref}
      class="lightbox"
      aria-labelledby="lightbox-title"
      onCancel={(event) => {
        event.preventDefault(); // Escape: the owner unmounts us, which restores focus
        onClose();
      }}
      onClick={(event) => {
        if (event.target === event.currentTarget) onClose(); // the backdrop
      }}
    >
      <header class="lightbox__bar">
        <h2 id="lightbox-title" class="lightbox__title">
          {media.name || t('files.unnamed')}
          <span class="lightbox__sender">{t('files.shared_by', { name: sender })}</span>
        </h2>
        <button
          type="button"
          class="button lightbox__download"
          onClick={() => saveFile(chat, media).catch(() => (failed.value = true))}
        >
          {t('files.download')}
        </button>
        <button
          type="button"
          class="icon-button lightbox__close"
          aria-label={t('files.close_image')}
          title={t('files.close_image')}
          autofocus
          onClick={onClose}
        >
          <span class="close-icon" aria-hidden="true" />
        </button>
      </header>
      <div class="lightbox__stage">
        {src.value ? (
          <img class="lightbox__image" src={src.value} alt={media.name} />
        ) : failed.value ? (
          <p class="lightbox__status" role="alert">
            {t('files.image_failed')}
          </p>
        ) : (
          <p class="lightbox__status" role="status">
            {t('files.loading_image')}
          </p>
        )}
      </div>
    </dialog>
  );
}
