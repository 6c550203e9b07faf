import { useSignal } from '@preact/signals';
import { MatrixError } from 'matrix-js-sdk/lib/matrix.js';
import { Dialog } from '../components/dialog';
import { t } from '../i18n';

const kMaxNameLength = 80;

interface Props {
  kind: 'channel' | 'team';
  /** The team a new channel goes into; null: a standalone channel. */
  teamName?: string | null;
  /** Creates the room; its ID is handed to onCreated. */
  create: (name: string, topic: string) => Promise<string>;
  onCreated: (roomId: string) => void;
  onClose: () => void;
}

/** The dialog creating a channel (in the current team or standalone) or a team (a space). */
export function CreateRoomDialog({ kind, teamName = null, create, onCreated, onClose }: Props) {
  const name = useSignal('');
  const topic = useSignal('');
  const busy = useSignal(false);
  const error = useSignal('');
  const nameInvalid = useSignal(false);

  async function onSubmit(event: Event) {
    event.preventDefault();
    const trimmed = name.value.trim();
    if (!trimmed) {
      nameInvalid.value = true;
      error.value = t('create.name_required');
      return;
    }
    busy.value = true;
    error.value = '';
    try {
      const roomId = await create(trimmed, topic.value.trim());
      onCreated(roomId);
    } catch (cause) {
      error.value =
        cause instanceof MatrixError && cause.errcode === 'M_LIMIT_EXCEEDED'
          ? t('create.rate_limited')
          : t('create.failed');
      busy.value = false;
    }
  }

  const prefix = kind === 'team' ? 'create.team' : 'create.channel';
  const title =
    kind === 'channel' && teamName
      ? t('create.channel_in_team_title', { team: teamName })
      : t(`${prefix}_title`);
  return (
    <Dialog titleId="create-room-title" title={title} onClose={onClose}>
      <form class="dialog__form" onSubmit={onSubmit} noValidate>
        <p class="dialog__body">{t(`${prefix}_intro`)}</p>
        <div class="field">
          <label for="create-room-name">{t('create.name')}</label>
          <input
            id="create-room-name"
            type="text"
            maxLength={kMaxNameLength}
            value={name.value}
            aria-invalid={nameInvalid.value}
            autofocus
            onInput={(event) => {
              name.value = event.currentTarget.value;
              nameInvalid.value = false;
            }}
            placeholder={t(`${prefix}_name_placeholder`)}
          />
        </div>
        <div class="field">
          <label for="create-room-topic">{t('create.topic')}</label>
          <input
            id="create-room-topic"
            type="text"
            value={topic.value}
            onInput={(event) => (topic.value = event.currentTarget.value)}
          />
        </div>
        <p class="form-error" role="alert">
          {error.value}
        </p>
        <div class="dialog__actions">
          <button type="button" class="button" onClick={onClose}>
            {t('chat.cancel')}
          </button>
          <button type="submit" class="button button--primary" disabled={busy.value}>
            {busy.value ? t('create.creating') : t('create.submit')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
