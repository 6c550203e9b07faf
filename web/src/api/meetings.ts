// The meetings part of Ruche's own REST API (docs/api.md, "Meetings"). Errors are the same
// MatrixError / NetworkError as the Matrix client's, so views explain them the same way.
import { MatrixError, NetworkError } from './matrix_client';

export interface MeetingSummary {
  id: string;
  title: string;
  allow_guests: boolean;
  /** How many people are in it right now. */
  participants: number;
}

/** GET /_ruche/v1/meetings/<id>?k=<key>: 404 M_NOT_FOUND for an unknown meeting or wrong key. */
export async function fetchMeeting(id: string, key: string): Promise<MeetingSummary> {
  const url = `/_ruche/v1/meetings/${encodeURIComponent(id)}?k=${encodeURIComponent(key)}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch (cause) {
    throw new NetworkError(cause);
  }
  const payload: Record<string, unknown> = await response.json().catch(() => ({}));
  if (response.ok) return payload as unknown as MeetingSummary;
  const errcode = typeof payload.errcode === 'string' ? payload.errcode : 'M_UNKNOWN';
  const message = typeof payload.error === 'string' ? payload.error : response.statusText;
  throw new MatrixError(response.status, errcode, message);
}
