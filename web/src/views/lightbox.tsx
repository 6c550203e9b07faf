import { useSignal } from '@preact/signals';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { downloadUrl, saveFile, type MediaContent } from '../chat/media';
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
  const ref = useRef<HTMLDialogElement>(null);
  const src = useSignal<string | null>(null);
  const failed = useSignal(false);

  // A layout effect: its cleanup runs as the dialog leaves the page, so focus is back on the
  // thumbnail at once (a plain effect's cleanup may come a frame later, with focus on <body>).
  useLayoutEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const dialog = ref.current;
    dialog?.showModal();
    return () => {
      // NOTE: close first: while the modal dialog is open the page behind it is inert, and
      // focus() on the opener would silently do nothing.
      dialog?.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

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
