#include "store/migrations.hpp"

namespace ruche::store {

const std::vector<Migration>& AllMigrations() {
  static const std::vector<Migration> migrations = {
      {1, "accounts", R"sql(
CREATE TABLE users (
  localpart TEXT PRIMARY KEY,
  password_hash TEXT,
  is_admin INTEGER NOT NULL DEFAULT 0,
  deactivated INTEGER NOT NULL DEFAULT 0,
  created_ms BIGINT NOT NULL
);
CREATE TABLE devices (
  localpart TEXT NOT NULL,
  device_id TEXT NOT NULL,
  display_name TEXT,
  created_ms BIGINT NOT NULL,
  last_seen_ms BIGINT,
  last_seen_ip TEXT,
  PRIMARY KEY (localpart, device_id)
);
CREATE TABLE access_tokens (
  token_hash TEXT PRIMARY KEY,
  localpart TEXT NOT NULL,
  device_id TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE INDEX access_tokens_by_device ON access_tokens (localpart, device_id);
CREATE TABLE registration_tokens (
  token TEXT PRIMARY KEY,
  uses_allowed BIGINT,
  completed BIGINT NOT NULL DEFAULT 0,
  expiry_ms BIGINT,
  created_ms BIGINT NOT NULL
);
)sql"},
      {2, "rooms_and_events", R"sql(
CREATE TABLE rooms (
  room_id TEXT PRIMARY KEY,
  room_version TEXT NOT NULL,
  creator TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE events (
  stream_ordering BIGINT PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  room_id TEXT NOT NULL,
  type TEXT NOT NULL,
  state_key TEXT,
  sender TEXT NOT NULL,
  depth BIGINT NOT NULL,
  origin_server_ts BIGINT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX events_by_room ON events (room_id, stream_ordering);
CREATE TABLE room_state (
  room_id TEXT NOT NULL,
  type TEXT NOT NULL,
  state_key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (room_id, type, state_key)
);
CREATE TABLE memberships (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  membership TEXT NOT NULL,
  event_id TEXT NOT NULL,
  stream_ordering BIGINT NOT NULL,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id, membership);
CREATE TABLE room_extremities (
  room_id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL,
  depth BIGINT NOT NULL
);
CREATE TABLE transaction_ids (
  localpart TEXT NOT NULL,
  device_id TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (localpart, device_id, txn_id)
);
)sql"},
      {3, "account_data_filters_profiles", R"sql(
CREATE TABLE filters (
  localpart TEXT NOT NULL,
  filter_id BIGINT NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY (localpart, filter_id)
);
CREATE TABLE account_data (
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  type TEXT NOT NULL,
  json TEXT NOT NULL,
  stream_ordering BIGINT NOT NULL,
  PRIMARY KEY (user_id, room_id, type)
);
CREATE INDEX account_data_by_stream ON account_data (user_id, stream_ordering);
CREATE TABLE profiles (
  localpart TEXT PRIMARY KEY,
  displayname TEXT,
  avatar_url TEXT
);
)sql"},
      {4, "receipts", R"sql(
CREATE TABLE receipts (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  receipt_type TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  ts BIGINT NOT NULL,
  stream_ordering BIGINT NOT NULL,
  PRIMARY KEY (room_id, user_id, receipt_type, thread_id)
);
CREATE INDEX receipts_by_stream ON receipts (room_id, stream_ordering);
)sql"},
      {5, "event_relations", R"sql(
CREATE TABLE event_relations (
  event_id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL,
  relates_to TEXT NOT NULL,
  rel_type TEXT NOT NULL,
  type TEXT NOT NULL,
  stream_ordering BIGINT NOT NULL
);
CREATE INDEX event_relations_by_parent ON event_relations (relates_to, rel_type, stream_ordering);
)sql"},
      {6, "presence", R"sql(
CREATE TABLE presence (
  user_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  status_msg TEXT NOT NULL,
  last_active_ms BIGINT NOT NULL,
  explicit_state INTEGER NOT NULL,
  stream_ordering BIGINT NOT NULL
);
CREATE INDEX presence_by_stream ON presence (stream_ordering);
)sql"},
      {7, "media", R"sql(
CREATE TABLE media (
  media_id TEXT PRIMARY KEY,
  uploader TEXT NOT NULL,
  content_type TEXT,
  upload_name TEXT,
  sha256 TEXT,
  size BIGINT,
  created_ms BIGINT NOT NULL,
  unused_expires_ms BIGINT
);
CREATE INDEX media_by_uploader ON media (uploader, created_ms);
CREATE TABLE media_thumbnails (
  media_id TEXT NOT NULL,
  width BIGINT NOT NULL,
  height BIGINT NOT NULL,
  method TEXT NOT NULL,
  content_type TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (media_id, width, height, method)
);
)sql"},
      // Search (SQLite only: FTS5 and json_extract; a PostgreSQL backend will use tsvector).
      // The index is filled by triggers so the event-append path knows nothing of it, and a
      // redaction's UPDATE of `json` removes the old text in the same transaction. Contentless
      // (content=''): the index holds tokens, not a second copy of the plaintext; deleting a row
      // therefore re-supplies the indexed text, computed from OLD.json exactly as it was
      // inserted. FTS5 keeps a deleted row's tokens (and writes them again as delete markers)
      // until its segments are merged, and SQLite 3.40 has no `secure-delete` option: so the
      // delete is followed by 'optimize', which merges every segment into one and drops them
      // (secure_delete then zeroes the freed pages). Which field of which event type is indexed
      // is the table `search_fields`; encrypted events (m.room.encrypted) are not in it.
      {8, "search_aliases_directory", R"sql(
CREATE TABLE search_fields (type TEXT PRIMARY KEY, path TEXT NOT NULL);
INSERT INTO search_fields (type, path) VALUES
  ('m.room.message', '$.content.body'),
  ('m.room.name', '$.content.name'),
  ('m.room.topic', '$.content.topic');
CREATE VIRTUAL TABLE event_search USING fts5(
  text, content='', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER event_search_insert AFTER INSERT ON events
WHEN NEW.type IN ('m.room.message', 'm.room.name', 'm.room.topic')
BEGIN
  INSERT INTO event_search (rowid, text)
  SELECT NEW.stream_ordering, json_extract(NEW.json, f.path) FROM search_fields f
  WHERE f.type = NEW.type AND json_type(NEW.json, f.path) = 'text';
END;
CREATE TRIGGER event_search_update AFTER UPDATE OF json ON events
WHEN NEW.type IN ('m.room.message', 'm.room.name', 'm.room.topic')
BEGIN
  INSERT INTO event_search (event_search, rowid, text)
  SELECT 'delete', OLD.stream_ordering, json_extract(OLD.json, f.path) FROM search_fields f
  WHERE f.type = OLD.type AND json_type(OLD.json, f.path) = 'text';
  INSERT INTO event_search (event_search)
  SELECT 'optimize' FROM search_fields f
  WHERE f.type = OLD.type AND json_type(OLD.json, f.path) = 'text';
  INSERT INTO event_search (rowid, text)
  SELECT NEW.stream_ordering, json_extract(NEW.json, f.path) FROM search_fields f
  WHERE f.type = NEW.type AND json_type(NEW.json, f.path) = 'text';
END;
CREATE TRIGGER event_search_delete AFTER DELETE ON events
WHEN OLD.type IN ('m.room.message', 'm.room.name', 'm.room.topic')
BEGIN
  INSERT INTO event_search (event_search, rowid, text)
  SELECT 'delete', OLD.stream_ordering, json_extract(OLD.json, f.path) FROM search_fields f
  WHERE f.type = OLD.type AND json_type(OLD.json, f.path) = 'text';
  INSERT INTO event_search (event_search)
  SELECT 'optimize' FROM search_fields f
  WHERE f.type = OLD.type AND json_type(OLD.json, f.path) = 'text';
END;
INSERT INTO event_search (rowid, text)
SELECT e.stream_ordering, json_extract(e.json, f.path) FROM events e
JOIN search_fields f ON f.type = e.type WHERE json_type(e.json, f.path) = 'text';
CREATE TABLE room_aliases (
  alias TEXT PRIMARY KEY,
  room_id TEXT NOT NULL,
  creator TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE INDEX room_aliases_by_room ON room_aliases (room_id);
CREATE TABLE public_rooms (
  room_id TEXT PRIMARY KEY,
  published_ms BIGINT NOT NULL
);
)sql"},
      // Erasing redacted text from the search index in batches. FTS5 (SQLite 3.40) keeps a
      // deleted row's tokens until its segments are merged, and merging ('optimize') costs in
      // proportion to the whole index (~0.6 s at 1M messages), on the one writer: so the
      // triggers only record that a merge is owed (search_purge), and the server merges at most
      // once per `search.purge_delay_ms`, at a clean stop, and at start after a crash.
      {9, "search_purge_batched", R"sql(
CREATE TABLE search_purge (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  since_ms BIGINT NOT NULL
);
DROP TRIGGER event_search_update;
DROP TRIGGER event_search_delete;
CREATE TRIGGER event_search_update AFTER UPDATE OF json ON events
WHEN NEW.type IN ('m.room.message', 'm.room.name', 'm.room.topic')
BEGIN
  INSERT INTO event_search (event_search, rowid, text)
  SELECT 'delete', OLD.stream_ordering, json_extract(OLD.json, f.path) FROM search_fields f
  WHERE f.type = OLD.type AND json_type(OLD.json, f.path) = 'text';
  INSERT OR IGNORE INTO search_purge (id, since_ms)
  SELECT 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) FROM search_fields f
  WHERE f.type = OLD.type AND json_type(OLD.json, f.path) = 'text';
  INSERT INTO event_search (rowid, text)
  SELECT NEW.stream_ordering, json_extract(NEW.json, f.path) FROM search_fields f
  WHERE f.type = NEW.type AND json_type(NEW.json, f.path) = 'text';
END;
CREATE TRIGGER event_search_delete AFTER DELETE ON events
WHEN OLD.type IN ('m.room.message', 'm.room.name', 'm.room.topic')
BEGIN
  INSERT INTO event_search (event_search, rowid, text)
  SELECT 'delete', OLD.stream_ordering, json_extract(OLD.json, f.path) FROM search_fields f
  WHERE f.type = OLD.type AND json_type(OLD.json, f.path) = 'text';
  INSERT OR IGNORE INTO search_purge (id, since_ms)
  SELECT 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) FROM search_fields f
  WHERE f.type = OLD.type AND json_type(OLD.json, f.path) = 'text';
END;
INSERT OR IGNORE INTO search_purge (id, since_ms) VALUES (1, 0);
)sql"},
      // End-to-end encryption (the server side: it stores public keys and opaque ciphertext).
      // Signatures uploaded through /keys/signatures/upload are kept apart from the signed keys
      // so that a user-signing signature (who verified whom) is shown only to its signer.
      // to_device rows are deleted once acknowledged, so stream_high_water remembers the
      // highest position ever handed out by a table whose rows go away: sync tokens must never
      // be reused after a restart.
      {10, "e2ee", R"sql(
CREATE TABLE device_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id)
);
CREATE TABLE one_time_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  key_id TEXT NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, algorithm, key_id)
);
CREATE TABLE fallback_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  key_id TEXT NOT NULL,
  json TEXT NOT NULL,
  used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, device_id, algorithm)
);
CREATE TABLE cross_signing_keys (
  user_id TEXT NOT NULL,
  usage TEXT NOT NULL,
  public_key TEXT NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY (user_id, usage)
);
CREATE TABLE key_signatures (
  target_user TEXT NOT NULL,
  target_key TEXT NOT NULL,
  signer_user TEXT NOT NULL,
  signer_key TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (target_user, target_key, signer_user, signer_key)
);
CREATE TABLE device_list_changes (
  user_id TEXT PRIMARY KEY,
  stream_ordering BIGINT NOT NULL
);
CREATE INDEX device_list_changes_by_stream ON device_list_changes (stream_ordering);
CREATE TABLE to_device (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  stream_ordering BIGINT NOT NULL,
  sender TEXT NOT NULL,
  type TEXT NOT NULL,
  content TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, stream_ordering)
);
CREATE TABLE to_device_txns (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, txn_id)
);
CREATE TABLE stream_high_water (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  stream_ordering BIGINT NOT NULL
);
INSERT INTO stream_high_water (id, stream_ordering) VALUES (1, 0);
CREATE TABLE key_backup_versions (
  user_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  algorithm TEXT NOT NULL,
  auth_data TEXT NOT NULL,
  etag BIGINT NOT NULL DEFAULT 0,
  key_count BIGINT NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, version)
);
CREATE TABLE key_backup_sessions (
  user_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  room_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  first_message_index BIGINT NOT NULL,
  forwarded_count BIGINT NOT NULL,
  is_verified INTEGER NOT NULL,
  session_data TEXT NOT NULL,
  PRIMARY KEY (user_id, version, room_id, session_id)
);
)sql"},
      // Video meetings (src/meet): the join key is kept only as its SHA-256, like tokens.
      {11, "meetings", R"sql(
CREATE TABLE meetings (
  meeting_id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  creator TEXT NOT NULL,
  allow_guests INTEGER NOT NULL,
  key_hash TEXT NOT NULL,
  created_ts BIGINT NOT NULL
);
CREATE INDEX meetings_by_creator ON meetings (creator, created_ts);
)sql"},
      // Calendars (src/cal, CalDAV). A calendar's sync_seq grows with every change to it: it is
      // the getctag and the RFC 6578 sync-token. An object's first_start/last_end (UTC seconds,
      // last_end NULL = recurs without end) let a time-range query skip what cannot match;
      // deleted objects leave a tombstone so sync-collection can report them.
      {12, "calendars", R"sql(
CREATE TABLE calendars (
  calendar_id INTEGER PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  displayname TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  color TEXT NOT NULL DEFAULT '',
  timezone TEXT NOT NULL DEFAULT '',
  components TEXT NOT NULL,
  sync_seq BIGINT NOT NULL DEFAULT 0,
  created_ts BIGINT NOT NULL,
  UNIQUE (owner, name)
);
CREATE TABLE calendar_objects (
  calendar_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  uid TEXT NOT NULL,
  component TEXT NOT NULL,
  etag TEXT NOT NULL,
  data TEXT NOT NULL,
  size BIGINT NOT NULL,
  first_start BIGINT NOT NULL,
  last_end BIGINT,
  recurring INTEGER NOT NULL,
  modified_seq BIGINT NOT NULL,
  modified_ts BIGINT NOT NULL,
  PRIMARY KEY (calendar_id, name),
  UNIQUE (calendar_id, uid)
);
-- Covers the time-range candidate query that does not need the text (free slots): no table
-- page is read for it.
CREATE INDEX calendar_objects_by_start ON calendar_objects (calendar_id, component, first_start,
  last_end, recurring, name, uid, etag, modified_seq, modified_ts, size);
CREATE INDEX calendar_objects_by_seq ON calendar_objects (calendar_id, modified_seq);
CREATE TABLE calendar_tombstones (
  calendar_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  deleted_seq BIGINT NOT NULL,
  PRIMARY KEY (calendar_id, name)
);
CREATE TABLE dav_properties (
  path TEXT NOT NULL,
  ns TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (path, ns, name)
);
CREATE TABLE app_passwords (
  app_password_id TEXT PRIMARY KEY,
  localpart TEXT NOT NULL,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL UNIQUE,
  created_ts BIGINT NOT NULL,
  last_used_ts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX app_passwords_by_user ON app_passwords (localpart, created_ts);
)sql"},
      // Booking pages (src/cal) and the outgoing mail queue (src/mail). A booking's manage
      // token is kept as its SHA-256; rules and questions are JSON documents owned by cal/.
      {13, "bookings", R"sql(
CREATE TABLE booking_types (
  booking_type_id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  slug TEXT NOT NULL,
  settings TEXT NOT NULL,
  created_ts BIGINT NOT NULL,
  UNIQUE (owner, slug)
);
CREATE TABLE bookings (
  booking_id TEXT PRIMARY KEY,
  booking_type_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  start_ts BIGINT NOT NULL,
  end_ts BIGINT NOT NULL,
  block_start_ts BIGINT NOT NULL,
  block_end_ts BIGINT NOT NULL,
  status TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  details TEXT NOT NULL,
  manage_token_hash TEXT NOT NULL,
  meeting_url TEXT NOT NULL DEFAULT '',
  sequence BIGINT NOT NULL DEFAULT 0,
  created_ts BIGINT NOT NULL
);
CREATE INDEX bookings_by_owner_time ON bookings (owner, block_start_ts);
CREATE INDEX bookings_by_type_time ON bookings (booking_type_id, start_ts);
CREATE TABLE mail_queue (
  mail_id INTEGER PRIMARY KEY,
  recipient TEXT NOT NULL,
  message TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  next_attempt_ts BIGINT NOT NULL,
  last_error TEXT NOT NULL,
  status TEXT NOT NULL,
  created_ts BIGINT NOT NULL,
  sent_ts BIGINT NOT NULL
);
CREATE INDEX mail_queue_due ON mail_queue (status, next_attempt_ts);
)sql"},
      // /sync, /messages and friends give the sending device its transaction ID back in
      // `unsigned.transaction_id`: found from the event.
      {14, "transaction_ids_by_event", R"sql(
CREATE INDEX transaction_ids_by_event ON transaction_ids (event_id);
)sql"},
      // The copies of an event Ruche writes into its internal invitees' calendars, and whose
      // they are: only the organizer's own changes may replace or delete them (a UID alone
      // proves nothing — invitees and e-mailed guests know it).
      {15, "calendar_invitations", R"sql(
CREATE TABLE calendar_invitations (
  calendar_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  organizer TEXT NOT NULL,
  PRIMARY KEY (calendar_id, name)
);
)sql"},
      // The availability a user chose themselves ("busy", "dnd"; '' = none): kept across a
      // restart like their presence state. Being in a meeting or a calendar event is derived.
      {16, "presence_availability", R"sql(
ALTER TABLE presence ADD COLUMN availability TEXT NOT NULL DEFAULT '';
)sql"},
  };
  return migrations;
}

}  // namespace ruche::store
