import { useSignal } from '@preact/signals';
import type { Room } from 'matrix-js-sdk/lib/matrix.js';
import { useEffect, useRef } from 'preact/hooks';
import type { Chat } from '../chat/chat_client';
import { BellIcon } from '../components/chat_icons';
import type { NotificationMode } from '../chat/notifications';
import { t } from '../i18n';

const kModes: NotificationMode[] = ['all', 'mentions', 'off'];

interface Props {
  chat: Chat;
  room: Room;
  /** Says a setting could not be saved (the room shows it). */
  onError: (message: string) => void;
}

/**
 * The room header's notification setting: a menu button (APG "menu button") whose menu offers
 * All messages / Mentions only / Off (menuitemradio, stored as push rules by
 * chat/notifications.ts) and, while the browser has not been asked, the item that asks it for
 * permission to show notifications — the only place the permission is ever requested.
 * Arrow keys, Home and End move through the items; Escape closes and returns to the button.
 */
export function RoomNotificationsMenu({ chat, room, onError }: Props) {
  chat.revision.value;
  chat.notifier.rulesChanged.value;
  const open = useSignal(false);
  const saving = useSignal(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const mode = chat.notifier.mode(room);
  const permission = chat.notifier.permission.value;
  const menuId = 'room-notifications-menu';

  const items = () => [...(root.current?.querySelectorAll<HTMLElement>('[role^=menuitem]') ?? [])];

  // Opening puts the focus on the setting in force; a click elsewhere closes.
  useEffect(() => {
    if (!open.value) return;
    const list = items();
    (list.find((item) => item.getAttribute('aria-checked') === 'true') ?? list[0])?.focus();
    const onPointer = (event: PointerEvent) => {
      if (event.target instanceof Node && !root.current?.contains(event.target)) open.value = false;
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open.value]);

  function close() {
    open.value = false;
    button.current?.focus();
  }

  async function choose(next: NotificationMode) {
    close();
    if (next === mode || saving.value) return;
    saving.value = true;
    try {
      await chat.notifier.setMode(room.roomId, next);
    } catch {
      onError(t('notifications.save_failed'));
    } finally {
      saving.value = false;
    }
  }

  async function askPermission() {
    close();
    await chat.notifier.requestPermission().catch(() => undefined);
  }

  function onMenuKey(event: KeyboardEvent) {
    const list = items().filter((item) => item.getAttribute('aria-disabled') !== 'true');
    const at = list.indexOf(document.activeElement as HTMLElement);
    let next: number | null = null;
    if (event.key === 'ArrowDown') next = (at + 1) % list.length;
    else if (event.key === 'ArrowUp') next = (at - 1 + list.length) % list.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = list.length - 1;
    else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      close();
      return;
    } else if (event.key === 'Tab') {
      open.value = false;
      return;
    }
    if (next !== null) {
      event.preventDefault();
      list[next]?.focus();
    }
  }

  const modeLabel = t(`notifications.mode_${mode}`);
  return (
    <div class="notify-menu" ref={root}>
      <button
        ref={button}
        type="button"
        class="button button--quiet notify-menu__button"
        aria-haspopup="menu"
        aria-expanded={open.value}
        aria-controls={open.value ? menuId : undefined}
        aria-label={t('notifications.button_label', { mode: modeLabel })}
        title={t('notifications.button_label', { mode: modeLabel })}
        aria-busy={saving.value}
        onClick={() => {
          chat.notifier.refreshPermission();
          open.value = !open.value;
        }}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault();
            chat.notifier.refreshPermission();
            open.value = true;
          }
        }}
      >
        <BellIcon off={mode === 'off'} />
        <span class="notify-menu__mode">{modeLabel}</span>
      </button>
      {open.value ? (
        <ul
          id={menuId}
          class="notify-menu__list"
          role="menu"
          aria-label={t('notifications.menu_label', { room: chat.roomName(room) })}
          onKeyDown={onMenuKey}
        >
          {kModes.map((choice) => (
            <li role="none" key={choice}>
              <button
                type="button"
                role="menuitemradio"
                aria-checked={choice === mode}
                aria-describedby={`${menuId}-${choice}-hint`}
                class="notify-menu__item"
                tabIndex={-1}
                onClick={() => void choose(choice)}
              >
                <span class="notify-menu__check" aria-hidden="true">
                  {choice === mode ? '✓' : ''}
                </span>
                <span class="notify-menu__text">
                  <span class="notify-menu__name">{t(`notifications.mode_${choice}`)}</span>
                  <span class="notify-menu__hint" id={`${menuId}-${choice}-hint`} aria-hidden="true">
                    {t(`notifications.mode_${choice}_hint`)}
                  </span>
                </span>
              </button>
            </li>
          ))}
          {permission === 'granted' ? null : (
            <>
              <li role="separator" class="notify-menu__separator" />
              <li role="none">
                {permission === 'default' ? (
                  <button
                    type="button"
                    role="menuitem"
                    aria-describedby={`${menuId}-enable-hint`}
                    class="notify-menu__item notify-menu__item--action"
                    tabIndex={-1}
                    onClick={() => void askPermission()}
                  >
                    <span class="notify-menu__check" aria-hidden="true" />
                    <span class="notify-menu__text">
                      <span class="notify-menu__name">{t('notifications.enable')}</span>
                      <span class="notify-menu__hint" id={`${menuId}-enable-hint`} aria-hidden="true">
                        {t('notifications.enable_hint')}
                      </span>
                    </span>
                  </button>
                ) : (
                  <span
                    role="menuitem"
                    aria-disabled="true"
                    class="notify-menu__item notify-menu__item--note"
                    tabIndex={-1}
                  >
                    <span class="notify-menu__check" aria-hidden="true" />
                    <span class="notify-menu__text">
                      {t(permission === 'denied' ? 'notifications.blocked' : 'notifications.unsupported')}
                    </span>
                  </span>
                )}
              </li>
            </>
          )}
        </ul>
      ) : null}
    </div>
  );
}
