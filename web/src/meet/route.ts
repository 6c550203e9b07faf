// The meeting link `/meet/<id>?k=<key>[&name=<n>&autojoin=1]` (docs/api.md, "Meetings"). Kept
// apart from the meeting view so app.tsx can route without loading any meeting code.
import { signal } from '@preact/signals';

export interface MeetingRoute {
  meetingId: string;
  key: string;
  /** Guest name given by the link (kiosk links, tests). */
  name: string | null;
  /** Join with no click, as the link's guest name (or the signed-in account). */
  autojoin: boolean;
}

const kMeetPathRe = /^\/meet\/([A-Za-z0-9_-]{1,128})\/?$/;

/** The meeting a URL points at, or null when it is not a meeting link. */
export function parseMeetingRoute(where: {
  pathname: string;
  search: string;
}): MeetingRoute | null {
  const match = kMeetPathRe.exec(where.pathname);
  if (!match) return null;
  const params = new URLSearchParams(where.search);
  const name = params.get('name')?.trim() || null;
  const autojoin = params.get('autojoin') === '1' || params.get('autojoin') === 'true';
  return { meetingId: match[1], key: params.get('k') ?? '', name, autojoin };
}

/** The page title the meeting view wants (the meeting's title once known), for syncDocument. */
export const meetingDocumentTitle = signal<string | null>(null);
