import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { MatrixError, NetworkError } from '../api/matrix_client';
import type { Chat } from '../chat/chat_client';
import { t } from '../i18n';
import { Avatar } from './avatar';
import { NotAPicture, pictureRefusal, uploadAvatar } from './avatar_picture';
import { kMaxDisplayNameBytes, utf8Bytes, type OwnProfile } from './own_profile';

interface Props {
  chat: Chat;
  profile: OwnProfile;
}

function saveError(cause: unknown): string {
  if (cause instanceof MatrixError && cause.errcode === 'M_LIMIT_EXCEEDED') {
    return t('settings.error.rate_limited');
  }
  if (cause instanceof NetworkError) return t('settings.error.network');
  return t('settings.error.failed');
}

/** The user's picture and display name, as others see them. */
export function ProfilePanel({ chat, profile }: Props) {
  const name = useSignal(profile.displayName.value);
  const nameEdited = useSignal(false);
  // The profile may still be loading when Settings opens: show it once it comes, unless typed over.
  const loadedName = profile.displayName.value;
  useEffect(() => {
    if (!nameEdited.peek()) name.value = loadedName;
  }, [loadedName]);
  const nameError = useSignal('');
  const nameStatus = useSignal('');
  const savingName = useSignal(false);

  const progress = useSignal<number | null>(null); // 0..1 while a picture uploads
  const avatarError = useSignal('');
  const avatarStatus = useSignal('');
  const fileInput = useRef<HTMLInputElement>(null);
  const upload = useRef<AbortController | null>(null);
  useEffect(() => () => upload.current?.abort(), []); // closing Settings stops an upload

  const shownName = profile.displayName.value || chat.userId;
  const avatar = profile.avatarUrl.value;
  const busyAvatar = progress.value !== null;

  async function onSaveName(event: Event) {
    event.preventDefault();
    nameStatus.value = '';
    const value = name.value.trim();
    if (utf8Bytes(value) > kMaxDisplayNameBytes) {
      nameError.value = t('settings.profile.name_too_long', { max: kMaxDisplayNameBytes });
      return;
    }
    nameError.value = '';
    savingName.value = true;
    try {
      await profile.setDisplayName(value);
      name.value = value;
      nameStatus.value = value
        ? t('settings.profile.name_saved')
        : t('settings.profile.name_cleared', { userId: chat.userId });
    } catch (cause) {
      nameError.value = saveError(cause);
    } finally {
      savingName.value = false;
    }
  }

  async function onPicked(file: File | undefined) {
    if (!file) return;
    avatarStatus.value = '';
    avatarError.value = '';
    const refused = pictureRefusal(file);
    if (refused) {
      avatarError.value = refused;
      return;
    }
    const controller = new AbortController();
    upload.current = controller;
    progress.value = 0;
    try {
      const mxc = await uploadAvatar(chat, file, 'avatar', (f) => (progress.value = f), controller.signal);
      await profile.setAvatar(mxc);
      avatarStatus.value = t('settings.profile.picture_saved');
    } catch (cause) {
      if (controller.signal.aborted) return;
      avatarError.value =
        cause instanceof NotAPicture
          ? t('settings.profile.not_a_picture')
          : cause instanceof Error && /^upload 413$/.test(cause.message)
            ? t('settings.profile.picture_refused')
            : saveError(cause);
    } finally {
      if (upload.current === controller) upload.current = null;
      progress.value = null;
    }
  }

  async function onRemove() {
    avatarStatus.value = '';
    avatarError.value = '';
    progress.value = 0;
    try {
      await profile.setAvatar(null);
      avatarStatus.value = t('settings.profile.picture_removed');
    } catch (cause) {
      avatarError.value = saveError(cause);
    } finally {
      progress.value = null;
    }
  }

  return (
    <div class="settings__sections">
      <section class="settings__section" aria-labelledby="settings-picture-heading">
        <h3 id="settings-picture-heading" class="settings__heading">
          {t('settings.profile.picture')}
        </h3>
        <div class="settings__picture">
          <Avatar chat={chat} mxc={avatar} name={shownName} class="avatar--large" />
          <div class="settings__picture-actions">
            <input
              ref={fileInput}
              type="file"
              accept="image/png,image/jpeg,image/gif,image/webp"
              hidden
              onChange={(event) => {
                const input = event.currentTarget;
                void onPicked(input.files?.[0]);
                input.value = ''; // the same file may be picked again
              }}
            />
            <button
              type="button"
              class="button"
              disabled={busyAvatar}
              onClick={() => fileInput.current?.click()}
            >
              {t(avatar ? 'settings.profile.change_picture' : 'settings.profile.upload_picture')}
            </button>
            {avatar ? (
              <button type="button" class="button" disabled={busyAvatar} onClick={onRemove}>
                {t('settings.profile.remove_picture')}
              </button>
            ) : null}
          </div>
        </div>
        {progress.value !== null ? (
          <progress
            class="settings__progress"
            max={1}
            value={progress.value}
            aria-label={t('settings.profile.uploading')}
          />
        ) : null}
        <p class="settings__status" role="status">
          {avatarStatus.value}
        </p>
        <p class="form-error" role="alert">
          {avatarError.value}
        </p>
      </section>

      <section class="settings__section" aria-labelledby="settings-name-heading">
        <h3 id="settings-name-heading" class="settings__heading">
          {t('settings.profile.identity')}
        </h3>
        <form class="dialog__form" onSubmit={onSaveName} noValidate>
          <div class="field">
            <label for="settings-display-name">{t('settings.profile.display_name')}</label>
            <input
              id="settings-display-name"
              type="text"
              autocomplete="name"
              value={name.value}
              placeholder={chat.userId}
              aria-describedby="settings-display-name-hint"
              aria-invalid={nameError.value !== ''}
              onInput={(event) => {
                name.value = event.currentTarget.value;
                nameEdited.value = true;
                nameError.value = '';
                nameStatus.value = '';
              }}
            />
            <p id="settings-display-name-hint" class="settings__hint">
              {t('settings.profile.display_name_hint', { userId: chat.userId })}
            </p>
          </div>
          <p class="settings__status" role="status">
            {nameStatus.value}
          </p>
          <p class="form-error" role="alert">
            {nameError.value}
          </p>
          <div class="settings__actions">
            <button type="submit" class="button button--primary" disabled={savingName.value}>
              {savingName.value ? t('settings.saving') : t('settings.save')}
            </button>
          </div>
        </form>
        <dl class="settings__facts">
          <dt>{t('settings.profile.user_id')}</dt>
          <dd>{chat.userId}</dd>
        </dl>
      </section>
    </div>
  );
}
