import type { Mention } from '../chat/mentions';
import { t } from '../i18n';

/** One suggestion: a member, or @room. */
export interface Suggestion {
  mention: Mention;
  /** What the option shows: a display name, or "@room". */
  label: string;
  /** Under it: the user ID, or what @room does. */
  detail: string;
}

interface Props {
  /** The listbox's id (the composer's aria-controls); options are `${id}-<index>`. */
  id: string;
  suggestions: Suggestion[];
  active: number;
  onPick: (index: number) => void;
  onHover: (index: number) => void;
}

export function optionId(listId: string, index: number): string {
  return `${listId}-${index}`;
}

/**
 * The composer's `@` suggestions: a listbox the composer (a combobox) drives from the keyboard
 * through aria-activedescendant, so the focus never leaves the text. A click picks; pressing
 * down does not move the focus from the composer.
 */
export function MentionAutocomplete({ id, suggestions, active, onPick, onHover }: Props) {
  return (
    <ul id={id} class="mention-list" role="listbox" aria-label={t('mentions.suggestions')}>
      {suggestions.map((suggestion, index) => (
        <li
          key={suggestion.mention.kind === 'room' ? '@room' : suggestion.mention.userId}
          id={optionId(id, index)}
          role="option"
          aria-selected={index === active}
          class={index === active ? 'mention-option mention-option--active' : 'mention-option'}
          onMouseDown={(event) => event.preventDefault()}
          onMouseMove={() => index !== active && onHover(index)}
          onClick={() => onPick(index)}
        >
          <span class="mention-option__avatar" aria-hidden="true">
            {suggestion.label.replace(/^@/, '').charAt(0).toLocaleUpperCase() || '?'}
          </span>
          <span class="mention-option__name">{suggestion.label}</span>
          <span class="mention-option__detail">{suggestion.detail}</span>
        </li>
      ))}
    </ul>
  );
}
