#pragma once
// The embedded SQLite backend: WAL journal, synchronous=FULL (a commit survives power loss, not
// only a crash), one writer thread with group commit, a pool of read connections.
#include <string>

#include "store/store.hpp"

namespace ruche::store {

struct SqliteOptions {
  std::string path;          // database file; its folder must exist
  int read_connections = 4;  // pool size
  int max_batch_writes = 512;
};

// Opens (creating if needed) the database and applies pending migrations. Fails with a clear
// message if the file's schema is newer than this binary.
Result<StorePtr> OpenSqliteStore(const SqliteOptions& options);

}  // namespace ruche::store
