#pragma once
// The storage interface every module talks to. Backends: SQLite (embedded default, sqlite/) and,
// later, PostgreSQL. SQL handed to a Connection is portable: `?` placeholders, standard types
// (TEXT, BIGINT, DOUBLE PRECISION, BLOB→bytes), no backend-only functions.
//
// Durable before visible: writes go to one writer thread that batches many writes into one
// transaction (group commit) and calls each write's completion only after COMMIT returned.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.hpp"

namespace ruche::store {

// "?, ?, ?" for `n` parameters: the inside of an SQL `IN (...)` list.
std::string Placeholders(size_t n);

// A bound parameter or a column value. std::monostate is SQL NULL.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

struct Row {
  std::vector<Value> columns;

  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(columns.at(i)); }
  int64_t Int(size_t i) const;              // NULL -> 0
  double Real(size_t i) const;              // NULL -> 0
  const std::string& Text(size_t i) const;  // NULL -> ""
};
using Rows = std::vector<Row>;

// One database connection. Not thread-safe: used by one thread at a time (a read lease or the
// writer). Statements are prepared once per connection and cached by their SQL text.
class Connection {
 public:
  virtual ~Connection() = default;
  // Parameters as a list of any length (e.g. an IN (?, ?, …) built for a set of rooms).
  virtual Result<Rows> Query(std::string_view sql, std::span<const Value> params) = 0;
  // Returns the number of rows changed.
  virtual Result<int64_t> Execute(std::string_view sql, std::span<const Value> params) = 0;

  Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  Result<int64_t> Execute(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Execute(sql, std::span<const Value>(params.begin(), params.size()));
  }
  // The first row, or nullopt when there is none.
  Result<std::optional<Row>> QueryOne(std::string_view sql,
                                      std::initializer_list<Value> params = {});
};

using WriteFn = std::function<Result<void>(Connection&)>;
using WriteDone = std::function<void(Result<void>)>;

struct StoreStats {
  int64_t write_queue_depth = 0;
  int64_t commits = 0;  // transactions committed by the writer
  int64_t writes = 0;   // writes committed (writes / commits = mean batch size)
  int64_t failed_writes = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // A read connection from the pool, returned when the lease dies. Reads are short (µs to ms):
  // take one, query, let it go; never hold one across an await.
  class ReadLease {
   public:
    ReadLease(Store* owner, Connection* conn) : owner_(owner), conn_(conn) {}
    ReadLease(ReadLease&& o) noexcept : owner_(o.owner_), conn_(o.conn_) { o.conn_ = nullptr; }
    ReadLease(const ReadLease&) = delete;
    ReadLease& operator=(const ReadLease&) = delete;
    ~ReadLease() {
      if (conn_ != nullptr) {
        owner_->ReleaseRead(conn_);
      }
    }
    Connection& conn() { return *conn_; }
    Connection* operator->() { return conn_; }

   private:
    Store* owner_;
    Connection* conn_;
  };
  virtual ReadLease Read() = 0;

  // Queues `fn` for the writer thread. It runs inside the batch's transaction in its own
  // savepoint, so a failing write rolls back alone. `done` runs on the writer thread once the
  // batch is committed (or failed); it must be quick — post elsewhere for real work.
  virtual void Write(WriteFn fn, WriteDone done) = 0;

  // Write() and wait for the commit (CLI commands, start-up). Never call from an I/O thread.
  Result<void> WriteSync(WriteFn fn);

  virtual StoreStats Stats() const = 0;

  // Drains queued writes, stops the writer, closes every connection.
  virtual void Close() = 0;

 protected:
  virtual void ReleaseRead(Connection* conn) = 0;
};

using StorePtr = std::unique_ptr<Store>;

}  // namespace ruche::store
