// A person's presence as a small dot. Not colour alone (WCAG 1.4.1): each state has its own
// glyph — a tick (available), clock hands (away), a plain disc (busy), a bar (do not disturb), a
// camera (in a meeting), a ring (offline) — plus a title and, unless the surrounding control
// already says it, an accessible name.
import type { PresenceInfo, PresenceState } from '../chat/presence';
import { t } from '../i18n';

/** "Do not disturb", in the UI language. */
export function presenceStateLabel(state: PresenceState): string {
  return t(`presence.state.${state}`);
}

/** "Do not disturb: Writing the report" (the state, then the status message when there is one). */
export function presenceLabel(info: PresenceInfo): string {
  const state = presenceStateLabel(info.state);
  return info.statusMsg ? t('presence.with_status', { state, status: info.statusMsg }) : state;
}

function Glyph({ state }: { state: PresenceState }) {
  switch (state) {
    case 'available':
      return <path class="presence-dot__glyph" d="M4.8 8.2l2.2 2.2 4.2-4.4" />;
    case 'away':
      return <path class="presence-dot__glyph" d="M8 4.2V8.4l2.6 1.6" />;
    case 'dnd':
      return <path class="presence-dot__glyph" d="M4.6 8h6.8" />;
    case 'in_meeting':
      return <path class="presence-dot__glyph presence-dot__glyph--solid" d="M3.8 5.6h5.2v4.8H3.8zM9.6 7.4l2.6-1.6v4.4L9.6 8.6z" />;
    default:
      return null; // busy: a plain disc; offline: a ring
  }
}

interface Props {
  info: PresenceInfo;
  /**
   * Hidden from assistive technology when the control around it already names the presence
   * (a sidebar entry's label); the title stays for pointer users.
   */
  decorative?: boolean;
  /** Extra class: where it sits (on an avatar's corner, in a line of text). */
  class?: string;
}

export function PresenceDot({ info, decorative = false, class: extra }: Props) {
  const label = presenceLabel(info);
  return (
    <span
      class={`presence-dot presence-dot--${info.state.replace('_', '-')}${extra ? ` ${extra}` : ''}`}
      data-presence={info.state}
      title={label}
      role={decorative ? undefined : 'img'}
      aria-label={decorative ? undefined : label}
      aria-hidden={decorative ? 'true' : undefined}
    >
      <svg class="presence-dot__svg" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
        <circle class="presence-dot__disc" cx="8" cy="8" r="6.5" />
        <Glyph state={info.state} />
      </svg>
    </span>
  );
}
