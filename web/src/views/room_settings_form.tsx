import { useSignal } from '@preact/signals';
import { EventType, type Room } from 'matrix-js-sdk/lib/matrix.js';
import { useEffect, useRef } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { t } from '../i18n';
import { Avatar } from '../settings/avatar';
import { NotAPicture, pictureRefusal, uploadAvatar } from '../settings/avatar_picture';

/** Longest name and topic accepted, in characters (code points). */
export const kMaxRoomNameChars = 255;
export const kMaxRoomTopicChars = 1000;

interface Props {
  chat: Chat;
  room: Room;
}

/** A room-wide state event's string field, or '' when unset. */
function stateText(room: Room, type: string, field: string): string {
  const value = room.currentState.getStateEvents(type, '')?.getContent()[field];
  return typeof value === 'string' ? value : '';
}

/** The room's picture (m.room.avatar), or null. */
export function roomAvatar(room: Room): string | null {
  const url = stateText(room, EventType.RoomAvatar, 'url');
  return url.startsWith('mxc://') ? url : null;
}

const characters = (text: string) => [...text].length;

/** What a refusal says: ours in the UI's language, then the server's own words when it gave any. */
function refusal(cause: unknown): string {
  const data = (cause as { data?: { error?: unknown } } | null)?.data;
  const reason = typeof data?.error === 'string' ? data.error : '';
  return reason ? t('room_settings.refused', { reason }) : t('room_settings.failed');
}

/**
 * The "About" of a room in its details panel: picture, name and topic. Those whose power level
 * lets them change a field get a form for it; everyone else reads the values.
 */
export function RoomSettingsForm({ chat, room }: Props) {
  chat.revision.value; // re-render on every change of the room (a new name or picture)
  const me = chat.userId;
  const state = room.currentState;
  const canName = state.maySendStateEvent(EventType.RoomName, me);
  const canTopic = state.maySendStateEvent(EventType.RoomTopic, me);
  const canAvatar = state.maySendStateEvent(EventType.RoomAvatar, me);
  const storedName = stateText(room, EventType.RoomName, 'name');
  const storedTopic = stateText(room, EventType.RoomTopic, 'topic');
  const avatar = roomAvatar(room);

  const name = useSignal(storedName);
  const topic = useSignal(storedTopic);
  const edited = useSignal(false);
  // A change made elsewhere shows here unless the reader is typing over it.
  useEffect(() => {
    if (!edited.peek()) {
      name.value = storedName;
      topic.value = storedTopic;
    }
  }, [storedName, storedTopic]);
  const nameError = useSignal('');
  const topicError = useSignal('');
  const saveError = useSignal('');
  const status = useSignal('');
  const saving = useSignal(false);

  const busyAvatar = useSignal(false);
  const avatarError = useSignal('');
  const fileInput = useRef<HTMLInputElement>(null);

  async function onSave(event: Event) {
    event.preventDefault();
    status.value = '';
    saveError.value = '';
    const newName = name.value.trim();
    const newTopic = topic.value.trim();
    nameError.value =
      canName && !newName
        ? t('room_settings.name_required')
        : characters(newName) > kMaxRoomNameChars
          ? t('room_settings.name_too_long', { max: kMaxRoomNameChars })
          : '';
    topicError.value =
      characters(newTopic) > kMaxRoomTopicChars
        ? t('room_settings.topic_too_long', { max: kMaxRoomTopicChars })
        : '';
    if (nameError.value) {
      document.getElementById('room-settings-name')?.focus();
      return;
    }
    if (topicError.value) {
      document.getElementById('room-settings-topic')?.focus();
      return;
    }
    saving.value = true;
    try {
      if (canName && newName !== storedName) {
        await chat.setRoomState(room.roomId, EventType.RoomName, { name: newName });
      }
      if (canTopic && newTopic !== storedTopic) {
        await chat.setRoomState(room.roomId, EventType.RoomTopic, { topic: newTopic });
      }
      edited.value = false;
      status.value = t('room_settings.saved');
    } catch (cause) {
      saveError.value = refusal(cause);
    } finally {
      saving.value = false;
    }
  }

  async function onPicked(file: File | undefined) {
    if (!file) return;
    status.value = '';
    avatarError.value = '';
    const refused = pictureRefusal(file);
    if (refused) {
      avatarError.value = refused;
      return;
    }
    busyAvatar.value = true;
    try {
      const mxc = await uploadAvatar(chat, file, 'room', () => undefined, new AbortController().signal);
      await chat.setRoomState(room.roomId, EventType.RoomAvatar, { url: mxc });
      status.value = t('room_settings.picture_saved');
    } catch (cause) {
      avatarError.value =
        cause instanceof NotAPicture ? t('settings.profile.not_a_picture') : refusal(cause);
    } finally {
      busyAvatar.value = false;
    }
  }

  async function onRemovePicture() {
    status.value = '';
    avatarError.value = '';
    busyAvatar.value = true;
    try {
      await chat.setRoomState(room.roomId, EventType.RoomAvatar, {});
      status.value = t('room_settings.picture_removed');
    } catch (cause) {
      avatarError.value = refusal(cause);
    } finally {
      busyAvatar.value = false;
    }
  }

  const shownName = chat.roomName(room);
  return (
    <div class="room-settings">
      <div class="room-settings__picture">
        <Avatar chat={chat} mxc={avatar} name={shownName} class="avatar--room" />
        {canAvatar ? (
          <div class="room-settings__picture-actions">
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
              class="button button--quiet"
              disabled={busyAvatar.value}
              onClick={() => fileInput.current?.click()}
            >
              {t(avatar ? 'room_settings.change_picture' : 'room_settings.upload_picture')}
            </button>
            {avatar ? (
              <button
                type="button"
                class="button button--quiet"
                disabled={busyAvatar.value}
                onClick={onRemovePicture}
              >
                {t('room_settings.remove_picture')}
              </button>
            ) : null}
          </div>
        ) : null}
      </div>
      <p class="form-error" role="alert">
        {avatarError.value}
      </p>
      {canName || canTopic ? (
        <form class="room-settings__form" onSubmit={onSave} noValidate>
          {canName ? (
            <div class="field">
              <label for="room-settings-name">{t('details.name')}</label>
              <input
                id="room-settings-name"
                type="text"
                value={name.value}
                aria-invalid={nameError.value !== ''}
                aria-describedby="room-settings-name-error"
                onInput={(event) => {
                  name.value = event.currentTarget.value;
                  edited.value = true;
                  nameError.value = '';
                  status.value = '';
                }}
              />
              <p id="room-settings-name-error" class="form-error">
                {nameError.value}
              </p>
            </div>
          ) : (
            <ReadOnly label={t('details.name')} value={shownName} />
          )}
          {canTopic ? (
            <div class="field">
              <label for="room-settings-topic">{t('details.topic')}</label>
              <textarea
                id="room-settings-topic"
                rows={3}
                value={topic.value}
                aria-invalid={topicError.value !== ''}
                aria-describedby="room-settings-topic-error"
                onInput={(event) => {
                  topic.value = event.currentTarget.value;
                  edited.value = true;
                  topicError.value = '';
                  status.value = '';
                }}
              />
              <p id="room-settings-topic-error" class="form-error">
                {topicError.value}
              </p>
            </div>
          ) : (
            <ReadOnly label={t('details.topic')} value={storedTopic || t('details.no_topic')} />
          )}
          <div class="room-settings__actions">
            <button type="submit" class="button button--primary" disabled={saving.value}>
              {saving.value ? t('room_settings.saving') : t('room_settings.save')}
            </button>
          </div>
        </form>
      ) : (
        <dl class="details-panel__facts">
          <dt>{t('details.name')}</dt>
          <dd>{shownName}</dd>
          <dt>{t('details.topic')}</dt>
          <dd>{storedTopic || t('details.no_topic')}</dd>
        </dl>
      )}
      <p class="room-settings__status" role="status">
        {status.value}
      </p>
      <p class="form-error" role="alert">
        {saveError.value}
      </p>
    </div>
  );
}

function ReadOnly({ label, value }: { label: string; value: string }) {
  return (
    <dl class="details-panel__facts">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </dl>
  );
}
