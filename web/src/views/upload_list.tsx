import type { UploadQueue } from '../chat/uploads';
import { formatSize } from '../chat/media';
import { language, t } from '../i18n';

/** The files being uploaded: name, size, a progress bar and a button to cancel (or dismiss). */
export function UploadList({ queue }: { queue: UploadQueue }) {
  const uploads = queue.uploads.value;
  if (!uploads.length) return null;
  return (
    <ul class="uploads" aria-label={t('files.uploads')}>
      {uploads.map((upload) => {
        const percent = Math.round(upload.progress.value * 100);
        const failed = upload.failed.value;
        return (
          <li key={upload.id} class={failed ? 'upload upload--failed' : 'upload'}>
            <span class="upload__name">{upload.name}</span>
            <span class="upload__size">{formatSize(upload.size, language.value)}</span>
            {failed ? (
              <span class="upload__error" role="alert">
                {t('files.upload_failed')}
              </span>
            ) : (
              <progress
                class="upload__bar"
                max={100}
                value={percent}
                aria-label={t('files.uploading', { name: upload.name })}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={percent}
              />
            )}
            <button
              type="button"
              class="button button--quiet upload__cancel"
              aria-label={t(failed ? 'files.dismiss_named' : 'files.cancel_named', {
                name: upload.name,
              })}
              onClick={upload.cancel}
            >
              {failed ? t('files.dismiss') : t('chat.cancel')}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
