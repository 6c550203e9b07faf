import type { TargetedKeyboardEvent } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { kReactionEmoji } from '../chat/emoji';
import { t } from '../i18n';

const kColumns = 8;

interface Props {
  onPick: (emoji: string) => void;
  onClose: () => void;
}

/**
 * A small grid of reactions. Focus moves into it on open (arrows move between emoji, Escape
 * closes) and goes back to the button that opened it; a click elsewhere closes it.
 */
export function EmojiPicker({ onPick, onClose }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const root = ref.current;
    root?.querySelector('button')?.focus();
    const onPointerDown = (event: PointerEvent) => {
      if (!root?.contains(event.target as Node)) onClose();
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => {
      document.removeEventListener('pointerdown', onPointerDown);
      // Only when focus was still ours: a click elsewhere put it where the user wanted it.
      const active = document.activeElement;
      const ours = !active || active === document.body || root?.contains(active);
      if (opener?.isConnected && ours) {
        opener.focus();
      }
    };
  }, []);

  function onKeyDown(event: TargetedKeyboardEvent<HTMLDivElement>) {
    const buttons = [...(ref.current?.querySelectorAll('button') ?? [])];
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const moves: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: kColumns,
      ArrowUp: -kColumns,
    };
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onClose();
    } else if (event.key in moves && index >= 0) {
      event.preventDefault();
      const next = buttons[index + moves[event.key]];
      next?.focus();
    }
  }

  return (
    <div
      class="emoji-picker"
      role="dialog"
      aria-label={t('chat.pick_reaction')}
      ref={ref}
      onKeyDown={onKeyDown}
    >
      <div class="emoji-picker__grid">
        {kReactionEmoji.map((emoji) => (
          <button
            type="button"
            key={emoji}
            class="emoji-picker__emoji"
            aria-label={t('chat.react_with', { emoji })}
            onClick={() => {
              onPick(emoji);
              onClose();
            }}
          >
            {emoji}
          </button>
        ))}
      </div>
    </div>
  );
}
