// The public booking part of Ruche's REST API (docs/api.md, "Booking"): a booking page, its free
// slots, booking one, and the manage link's view, cancel and reschedule. No account: visitors
// are identified by nothing, a booking by its manage token. Errors are the MatrixError /
// NetworkError of the Matrix client, so views explain them the same way.
import { MatrixError, NetworkError, requestJson } from '../api/matrix_client';

export type BookingLocation = { kind: 'video' } | { kind: 'in_person'; address: string };

export interface BookingQuestion {
  id: string;
  label: string;
  required: boolean;
}

/** A booking type's public fields. */
export interface PublicBookingType {
  id: string;
  owner: string;
  /** The owner's display name (the booking page only; not in a manage answer). */
  owner_name?: string;
  slug: string;
  title: string;
  description?: string;
  location: BookingLocation;
  /** The zone the owner's availability is written in. */
  timezone: string;
  duration_min: number;
  seats: number;
  requires_confirmation: boolean;
  questions: BookingQuestion[];
}

/** A free slot; times are UTC strings ("2027-03-29T07:00:00Z"). */
export interface Slot {
  start: string;
  end: string;
  seats_left: number;
}

export type BookingStatus = 'confirmed' | 'pending' | 'cancelled';

export interface Booking {
  id: string;
  booking_type_id: string;
  start: string;
  end: string;
  status: BookingStatus;
  name: string;
  email: string;
  notes: string;
  /** The visitor's zone when they booked. */
  timezone: string;
  answers: Record<string, string>;
  join_url?: string;
}

export interface CreatedBooking extends Booking {
  manage_url: string;
}

export interface ManagedBooking extends Booking {
  /** Absent when the owner deleted the booking type since. */
  booking_type?: PublicBookingType;
}

export interface BookingRequest {
  start: string;
  name: string;
  email: string;
  notes: string;
  answers: Record<string, string>;
  /** The visitor's IANA zone: the e-mails give times in it. */
  timezone: string;
  /** The e-mails' language. */
  language: string;
  consent: true;
}

function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  return requestJson<T>(method, `/_ruche/v1${path}`, { body });
}

const enc = encodeURIComponent;
const pagePath = (user: string, slug: string) => `/book/${enc(user)}/${enc(slug)}`;

/** GET /book/<user>/<slug>: 404 M_NOT_FOUND for an unknown page. */
export function fetchBookingType(user: string, slug: string): Promise<PublicBookingType> {
  return request('GET', pagePath(user, slug));
}

/** The free slots starting in [from, to) (UTC strings, at most 62 days apart). */
export async function fetchSlots(
  user: string,
  slug: string,
  from: string,
  to: string,
): Promise<Slot[]> {
  const query = `?from=${enc(from)}&to=${enc(to)}`;
  const answer = await request<{ slots?: Slot[] }>('GET', `${pagePath(user, slug)}/slots${query}`);
  return answer.slots ?? [];
}

/** Books a slot: 409 M_SLOT_TAKEN when someone took it first, 400 M_INVALID_PARAM. */
export function createBooking(
  user: string,
  slug: string,
  booking: BookingRequest,
): Promise<CreatedBooking> {
  return request('POST', pagePath(user, slug), booking);
}

const managePath = (id: string, token: string, action = '') =>
  `/bookings/${enc(id)}${action}?t=${enc(token)}`;

/** The booking behind a manage link; 404 for a wrong id or token. */
export function fetchManagedBooking(id: string, token: string): Promise<ManagedBooking> {
  return request('GET', managePath(id, token, '/manage'));
}

export function cancelBooking(id: string, token: string): Promise<Booking> {
  return request('POST', managePath(id, token, '/cancel'));
}

/** Moves a booking to another free slot: 409 M_SLOT_TAKEN when it is gone. */
export function rescheduleBooking(id: string, token: string, start: string): Promise<Booking> {
  return request('POST', managePath(id, token, '/reschedule'), { start });
}

/** What went wrong, as a locale key under `booking.error`, and the server's words if useful. */
export function bookingErrorKey(error: unknown): string {
  if (error instanceof NetworkError) return 'booking.error.network';
  if (!(error instanceof MatrixError)) return 'booking.error.unknown';
  switch (error.errcode) {
    case 'M_SLOT_TAKEN':
      return 'booking.error.slot_taken';
    case 'M_NOT_FOUND':
      return 'booking.error.not_found';
    case 'M_LIMIT_EXCEEDED':
      return 'booking.error.rate_limited';
    case 'M_INVALID_PARAM':
    case 'M_BAD_JSON':
      return 'booking.error.invalid';
    default:
      return 'booking.error.unknown';
  }
}

export function isSlotTaken(error: unknown): boolean {
  return error instanceof MatrixError && error.errcode === 'M_SLOT_TAKEN';
}
