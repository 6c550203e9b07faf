// The signed-in part of Ruche's REST API the calendar section uses (docs/api.md: "Calendars (web
// client)", "Booking", "App passwords"). Every call carries the session's access token; failures
// are the MatrixError / NetworkError of the Matrix client, so views explain them the same way.
import { MatrixError, NetworkError, requestJson } from '../api/matrix_client';
import { t } from '../i18n';
import type { Booking, BookingLocation, BookingQuestion } from '../book/booking_api';

export type { Booking, BookingLocation, BookingQuestion };

export interface CalendarInfo {
  id: string;
  name: string;
  color: string;
  components: string[];
}

export interface EventAttendee {
  /** A user of this server ("@bob:localhost"); then `email` is empty. */
  user_id?: string;
  email: string;
  name: string;
  partstat: string;
}

/** One instance of an event; times are UTC strings, all-day ones at 00:00 UTC, end exclusive. */
export interface CalendarEvent {
  object: string;
  uid: string;
  start: string;
  end: string;
  all_day: boolean;
  recurring: boolean;
  summary: string;
  location: string;
  description: string;
  rrule: string;
  booking_id?: string;
  attendees: EventAttendee[];
  /** Set on the copy of another user's event that their invitation put in this calendar. */
  invitation?: { organizer_user_id: string; organizer: string };
}

/** An invitee's answer (iCalendar PARTSTAT). */
export type Answer = 'ACCEPTED' | 'TENTATIVE' | 'DECLINED';

export type AttendeeInput = { user_id: string } | { email: string; name: string };

/** The body of POST and PUT …/events. */
export interface EventInput {
  summary: string;
  /** UTC "2027-03-29T07:00:00Z", or a date "2027-03-29" when all_day. */
  start: string;
  end: string;
  all_day: boolean;
  timezone: string;
  rrule?: string;
  location: string;
  description: string;
  attendees: AttendeeInput[];
  /** The invitation e-mails' language. */
  language: string;
  /** A Ruche meeting made for the event (on creation only). */
  video_meeting?: boolean;
}

export interface SavedEvent {
  object: string;
  uid: string;
  etag: string;
  join_url?: string;
}

export type DayWindows = [string, string][];
export const kWeekdayKeys = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type WeekdayKey = (typeof kWeekdayKeys)[number];

export interface Availability {
  weekly: Partial<Record<WeekdayKey, DayWindows>>;
  overrides: Record<string, DayWindows>;
}

/** A booking type as its owner sees it. */
export interface BookingType {
  id: string;
  owner: string;
  slug: string;
  title: string;
  description: string;
  location: BookingLocation;
  timezone: string;
  duration_min: number;
  min_notice_min: number;
  horizon_days: number;
  seats: number;
  requires_confirmation: boolean;
  questions: BookingQuestion[];
  slot_interval_min: number;
  buffer_before_min: number;
  buffer_after_min: number;
  max_per_day: number;
  notify_email: string;
  availability: Availability;
  /** The public page's path, "/book/<user>/<slug>". */
  url: string;
}

export type BookingTypeInput = Omit<BookingType, 'id' | 'owner' | 'url'>;

export interface AppPassword {
  id: string;
  name: string;
  created_ts: number;
  /** 0 when never used; precise to the hour. */
  last_used_ts: number;
}

export interface CreatedAppPassword extends AppPassword {
  password: string;
}

const enc = encodeURIComponent;

/** The calls of one session. */
export class CalendarApi {
  constructor(private readonly token: string) {}

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return requestJson<T>(method, `/_ruche/v1${path}`, { token: this.token, body });
  }

  async calendars(): Promise<CalendarInfo[]> {
    return (await this.call<{ calendars?: CalendarInfo[] }>('GET', '/calendars')).calendars ?? [];
  }

  /** The instances overlapping [from, to) (UTC strings, at most 400 days apart). */
  async events(calendar: string, from: string, to: string): Promise<CalendarEvent[]> {
    const path = `/calendars/${enc(calendar)}/events?from=${enc(from)}&to=${enc(to)}`;
    return (await this.call<{ events?: CalendarEvent[] }>('GET', path)).events ?? [];
  }

  createEvent(calendar: string, event: EventInput): Promise<SavedEvent> {
    return this.call('POST', `/calendars/${enc(calendar)}/events`, event);
  }

  updateEvent(calendar: string, object: string, event: EventInput): Promise<SavedEvent> {
    return this.call('PUT', `/calendars/${enc(calendar)}/events/${enc(object)}`, event);
  }

  /** Answers an invitation in `calendar`: the organizer's event gets the answer too. */
  async reply(calendar: string, object: string, partstat: Answer): Promise<void> {
    await this.call('POST', `/calendars/${enc(calendar)}/events/${enc(object)}/reply`, { partstat });
  }

  async deleteEvent(calendar: string, object: string): Promise<void> {
    await this.call('DELETE', `/calendars/${enc(calendar)}/events/${enc(object)}`);
  }

  async bookingTypes(): Promise<BookingType[]> {
    return (await this.call<{ booking_types?: BookingType[] }>('GET', '/booking_types'))
      .booking_types ?? [];
  }

  createBookingType(type: BookingTypeInput): Promise<BookingType> {
    return this.call('POST', '/booking_types', type);
  }

  updateBookingType(id: string, type: BookingTypeInput): Promise<BookingType> {
    return this.call('PUT', `/booking_types/${enc(id)}`, type);
  }

  async deleteBookingType(id: string): Promise<void> {
    await this.call('DELETE', `/booking_types/${enc(id)}`);
  }

  async bookings(): Promise<Booking[]> {
    return (await this.call<{ bookings?: Booking[] }>('GET', '/bookings')).bookings ?? [];
  }

  confirmBooking(id: string): Promise<Booking> {
    return this.call('POST', `/bookings/${enc(id)}/confirm`);
  }

  /** The owner cancels (signed in, without the visitor's `t`). */
  cancelBooking(id: string): Promise<Booking> {
    return this.call('POST', `/bookings/${enc(id)}/cancel`);
  }

  async appPasswords(): Promise<AppPassword[]> {
    return (await this.call<{ app_passwords?: AppPassword[] }>('GET', '/app_passwords'))
      .app_passwords ?? [];
  }

  createAppPassword(name: string): Promise<CreatedAppPassword> {
    return this.call('POST', '/app_passwords', { name });
  }

  async revokeAppPassword(id: string): Promise<void> {
    await this.call('DELETE', `/app_passwords/${enc(id)}`);
  }
}

/**
 * What to tell the user about a failed call: the server's own words (its `error` field, which
 * says which field is wrong) when it answered, else a locale key's text.
 */
export function errorText(error: unknown): string {
  if (error instanceof NetworkError) return t('calendar.error.network');
  if (error instanceof MatrixError) {
    if (error.status === 401) return t('calendar.error.signed_out');
    if (error.errcode === 'M_LIMIT_EXCEEDED') return t('calendar.error.rate_limited');
    if (error.message) return t('calendar.error.refused', { detail: error.message });
  }
  return t('calendar.error.unknown');
}
