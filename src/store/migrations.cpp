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
  };
  return migrations;
}

}  // namespace ruche::store
