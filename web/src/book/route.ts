// Booking links (docs/api.md, "Booking"): a public booking page `/book/<user>/<slug>` and the
// visitor's manage link `/book/manage/<id>?t=<token>` from the confirmation e-mail. Kept apart
// from the booking views so app.tsx can route without loading any booking code.
import { signal } from '@preact/signals';

export interface BookingPageRoute {
  kind: 'page';
  user: string;
  slug: string;
}

export interface BookingManageRoute {
  kind: 'manage';
  bookingId: string;
  token: string;
}

export type BookingRoute = BookingPageRoute | BookingManageRoute;

// NOTE: `manage` as the first segment is the manage link, so a user named "manage" has no
// booking pages in the web client.
const kManagePathRe = /^\/book\/manage\/([A-Za-z0-9_-]{1,128})\/?$/;
const kPagePathRe = /^\/book\/([^/]{1,255})\/([a-z0-9_-]{1,64})\/?$/;

/** The booking page or manage link a URL points at, or null for any other URL. */
export function parseBookingRoute(where: { pathname: string; search: string }): BookingRoute | null {
  const manage = kManagePathRe.exec(where.pathname);
  if (manage) {
    const token = new URLSearchParams(where.search).get('t') ?? '';
    return { kind: 'manage', bookingId: manage[1], token };
  }
  const page = kPagePathRe.exec(where.pathname);
  if (!page) return null;
  let user: string;
  try {
    user = decodeURIComponent(page[1]);
  } catch {
    return null; // a malformed %-escape: not a link we made
  }
  return { kind: 'page', user, slug: page[2] };
}

/** The page title the booking views want (translated by them), for syncDocument. */
export const bookingDocumentTitle = signal<string | null>(null);
