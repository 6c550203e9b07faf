#pragma once
// The database schema, as an ordered list of migrations. Each is applied once, in its own
// transaction, and recorded in `schema_migrations`. A database whose newest migration is newer
// than this binary knows is refused at start (never half-understood).
#include <vector>

namespace ruche::store {

struct Migration {
  int version;
  const char* name;
  const char* sql;  // portable SQL; several statements separated by ';'
};

const std::vector<Migration>& AllMigrations();

}  // namespace ruche::store
