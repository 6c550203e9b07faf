#include "store/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/clock.hpp"
#include "store/migrations.hpp"

namespace ruche::store {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

Error SqliteError(sqlite3* db, std::string_view what) {
  return Error::Internal(std::string(what) + ": " + sqlite3_errmsg(db));
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : statements_) {
      sqlite3_finalize(stmt);
    }
    sqlite3_close_v2(db_);
  }

  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, bool writer) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
      Error e = Error::Internal("cannot open database " + path + ": " +
                                (db ? sqlite3_errmsg(db) : "out of memory"));
      sqlite3_close_v2(db);
      return e;
    }
    auto conn = std::make_unique<SqliteConnection>(db);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_extended_result_codes(db, 1);
    // secure_delete: deleted or overwritten content (a redacted message) is zeroed in the file,
    // not left in free space. synchronous=FULL: a commit survives power loss, not only a crash.
    const char* pragmas = writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                   "PRAGMA secure_delete=ON;"
                                   "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                                 : "PRAGMA query_only=1; PRAGMA foreign_keys=ON;"
                                   "PRAGMA temp_store=MEMORY;";
    if (auto r = conn->ExecScript(pragmas); !r) {
      return r.error();
    }
    return conn;
  }

  Result<void> ExecScript(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return Error::Internal(msg);
    }
    return {};
  }

  using Connection::Execute;
  using Connection::Query;

  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    auto stmt = Prepare(sql, params);
    if (!stmt) {
      return stmt.error();
    }
    Rows rows;
    while (true) {
      int rc = sqlite3_step(*stmt);
      if (rc == SQLITE_DONE) {
        break;
      }
      if (rc != SQLITE_ROW) {
        Error e = SqliteError(db_, "query failed");
        sqlite3_reset(*stmt);
        return e;
      }
      Row row;
      int n = sqlite3_column_count(*stmt);
      row.columns.reserve(n);
      for (int i = 0; i < n; ++i) {
        row.columns.push_back(Column(*stmt, i));
      }
      rows.push_back(std::move(row));
    }
    sqlite3_reset(*stmt);
    return rows;
  }

  Result<int64_t> Execute(std::string_view sql, std::span<const Value> params) override {
    auto stmt = Prepare(sql, params);
    if (!stmt) {
      return stmt.error();
    }
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      Error e = SqliteError(db_, "statement failed");
      if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        e = Error::Conflict(e.message, "M_UNKNOWN");
      }
      sqlite3_reset(*stmt);
      return e;
    }
    sqlite3_reset(*stmt);
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

 private:
  Result<sqlite3_stmt*> Prepare(std::string_view sql, std::span<const Value> params) {
    sqlite3_stmt* stmt = nullptr;
    if (auto it = statements_.find(sql); it != statements_.end()) {
      stmt = it->second;
    } else {
      if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
        return SqliteError(db_, "prepare failed for [" + std::string(sql) + "]");
      }
      statements_.emplace(std::string(sql), stmt);
    }
    sqlite3_clear_bindings(stmt);
    int i = 1;
    for (const Value& v : params) {
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, i);
      } else if (auto p = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, i, *p);
      } else if (auto p = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, i, *p);
      } else if (auto p = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(stmt, i, p->data(), p->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) {
        return SqliteError(db_, "bind failed");
      }
      ++i;
    }
    return stmt;
  }

  static Value Column(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER:
        return static_cast<int64_t>(sqlite3_column_int64(stmt, i));
      case SQLITE_FLOAT:
        return sqlite3_column_double(stmt, i);
      case SQLITE_NULL:
        return std::monostate{};
      default: {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
        int n = sqlite3_column_bytes(stmt, i);
        return std::string(p ? p : "", static_cast<size_t>(n));
      }
    }
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> statements_;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::unique_ptr<SqliteConnection> writer,
              std::vector<std::unique_ptr<SqliteConnection>> readers, int max_batch)
      : writer_conn_(std::move(writer)), readers_(std::move(readers)), max_batch_(max_batch) {
    for (auto& r : readers_) {
      free_readers_.push_back(r.get());
    }
    writer_thread_ = std::thread([this] { WriterLoop(); });
  }
  ~SqliteStore() override { Close(); }

  ReadLease Read() override {
    std::unique_lock lock(readers_mu_);
    readers_cv_.wait(lock, [this] { return !free_readers_.empty(); });
    Connection* c = free_readers_.back();
    free_readers_.pop_back();
    return ReadLease(this, c);
  }

  void Write(WriteFn fn, WriteDone done) override {
    {
      std::lock_guard lock(queue_mu_);
      if (!stopping_) {
        queue_.push_back({std::move(fn), std::move(done)});
        queue_depth_.store(static_cast<int64_t>(queue_.size()), std::memory_order_relaxed);
        queue_cv_.notify_one();
        return;
      }
    }
    done(Error::Unavailable("the store is shutting down"));
  }

  StoreStats Stats() const override {
    return {queue_depth_.load(std::memory_order_relaxed), commits_.load(std::memory_order_relaxed),
            writes_.load(std::memory_order_relaxed), failed_.load(std::memory_order_relaxed)};
  }

  void Close() override {
    {
      std::lock_guard lock(queue_mu_);
      if (stopping_) {
        return;
      }
      stopping_ = true;
      queue_cv_.notify_one();
    }
    if (writer_thread_.joinable()) {
      writer_thread_.join();
    }
    // Checkpoint so the database file alone is complete after a clean stop.
    (void)writer_conn_->ExecScript("PRAGMA wal_checkpoint(TRUNCATE);");
  }

 protected:
  void ReleaseRead(Connection* conn) override {
    {
      std::lock_guard lock(readers_mu_);
      free_readers_.push_back(conn);
    }
    readers_cv_.notify_one();
  }

 private:
  struct Job {
    WriteFn fn;
    WriteDone done;
  };

  void WriterLoop() {
    std::vector<Job> batch;
    std::vector<Result<void>> results;
    while (true) {
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
          return;  // stopping, and everything queued has been written
        }
        while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        queue_depth_.store(static_cast<int64_t>(queue_.size()), std::memory_order_relaxed);
      }
      RunBatch(batch, results);
      for (size_t i = 0; i < batch.size(); ++i) {
        batch[i].done(std::move(results[i]));
      }
      batch.clear();
      results.clear();
    }
  }

  // One transaction for the whole batch; each write in its own savepoint so that a write that
  // fails (constraint, validation) is undone alone and the others still commit.
  void RunBatch(std::vector<Job>& batch, std::vector<Result<void>>& results) {
    if (auto r = writer_conn_->ExecScript("BEGIN IMMEDIATE"); !r) {
      for (size_t i = 0; i < batch.size(); ++i) {
        results.push_back(r.error());
      }
      failed_.fetch_add(static_cast<int64_t>(batch.size()), std::memory_order_relaxed);
      return;
    }
    int64_t ok = 0;
    for (auto& job : batch) {
      (void)writer_conn_->ExecScript("SAVEPOINT w");
      Result<void> r = job.fn(*writer_conn_);
      if (r) {
        (void)writer_conn_->ExecScript("RELEASE w");
        ++ok;
      } else {
        (void)writer_conn_->ExecScript("ROLLBACK TO w; RELEASE w");
      }
      results.push_back(std::move(r));
    }
    if (auto r = writer_conn_->ExecScript("COMMIT"); !r) {
      (void)writer_conn_->ExecScript("ROLLBACK");
      for (auto& res : results) {
        if (res) {
          res = Error::Internal("commit failed: " + r.error().message);
        }
      }
      failed_.fetch_add(static_cast<int64_t>(batch.size()), std::memory_order_relaxed);
      return;
    }
    commits_.fetch_add(1, std::memory_order_relaxed);
    writes_.fetch_add(ok, std::memory_order_relaxed);
    failed_.fetch_add(static_cast<int64_t>(batch.size()) - ok, std::memory_order_relaxed);
  }

  std::unique_ptr<SqliteConnection> writer_conn_;
  std::vector<std::unique_ptr<SqliteConnection>> readers_;
  const int max_batch_;

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<Connection*> free_readers_;  // GUARDED_BY(readers_mu_)

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job> queue_;  // GUARDED_BY(queue_mu_)
  bool stopping_ = false;  // GUARDED_BY(queue_mu_)
  std::thread writer_thread_;

  std::atomic<int64_t> queue_depth_{0};
  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> failed_{0};
};

Result<void> Migrate(SqliteConnection& conn) {
  if (auto r = conn.ExecScript(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
          "name TEXT NOT NULL, applied_ms BIGINT NOT NULL)");
      !r) {
    return r;
  }
  auto cur = conn.QueryOne("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!cur) {
    return cur.error();
  }
  int64_t current = (*cur)->Int(0);
  const auto& all = AllMigrations();
  int64_t known = all.empty() ? 0 : all.back().version;
  if (current > known) {
    return Error::Unavailable("the database schema is version " + std::to_string(current) +
                              ", newer than this ruche binary understands (" +
                              std::to_string(known) +
                              "): run a newer ruche, or restore a backup made for this version");
  }
  for (const Migration& m : all) {
    if (m.version <= current) {
      continue;
    }
    if (auto r = conn.ExecScript("BEGIN IMMEDIATE"); !r) {
      return r;
    }
    auto applied = conn.ExecScript(m.sql);
    if (applied) {
      auto rec = conn.Execute(
          "INSERT INTO schema_migrations (version, name, applied_ms) "
          "VALUES (?, ?, ?)",
          {int64_t{m.version}, std::string(m.name), core::NowMs()});
      if (!rec) {
        applied = rec.error();
      }
    }
    if (!applied) {
      (void)conn.ExecScript("ROLLBACK");
      return Error::Internal("migration " + std::to_string(m.version) + " (" + m.name +
                             ") failed: " + applied.error().message);
    }
    if (auto r = conn.ExecScript("COMMIT"); !r) {
      return r;
    }
  }
  return {};
}

}  // namespace

Result<StorePtr> OpenSqliteStore(const SqliteOptions& options) {
  auto writer = SqliteConnection::Open(options.path, /*writer=*/true);
  if (!writer) {
    return writer.error();
  }
  if (auto r = Migrate(**writer); !r) {
    return r.error();
  }
  std::vector<std::unique_ptr<SqliteConnection>> readers;
  for (int i = 0; i < std::max(1, options.read_connections); ++i) {
    auto reader = SqliteConnection::Open(options.path, /*writer=*/false);
    if (!reader) {
      return reader.error();
    }
    readers.push_back(std::move(*reader));
  }
  return StorePtr(std::make_unique<SqliteStore>(std::move(*writer), std::move(readers),
                                                std::max(1, options.max_batch_writes)));
}

}  // namespace ruche::store
