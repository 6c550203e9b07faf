#pragma once
// Server-side key backup (spec "Server-side key backups"): /room_keys/version (create, read,
// update, delete) and /room_keys/keys for all rooms, one room or one session. The server keeps
// opaque encrypted session data per (room, session) of a backup version and applies the spec's
// rule for which of two copies of a session key to keep; versions are numbered per user and
// never reused, and writes go only to the newest version.
#include "matrix/client_api.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class KeyBackupRoutes {
 public:
  KeyBackupRoutes(net::Router& router, MatrixDeps deps);

 private:
  enum class Scope { kAll, kRoom, kSession };
  boost::asio::awaitable<net::Response> CreateVersion(net::Request& req);
  boost::asio::awaitable<net::Response> GetVersion(net::Request& req, bool latest);
  boost::asio::awaitable<net::Response> UpdateVersion(net::Request& req);
  boost::asio::awaitable<net::Response> DeleteVersion(net::Request& req);
  boost::asio::awaitable<net::Response> PutKeys(net::Request& req, Scope scope);
  boost::asio::awaitable<net::Response> GetKeys(net::Request& req, Scope scope);
  boost::asio::awaitable<net::Response> DeleteKeys(net::Request& req, Scope scope);

  MatrixDeps deps_;
};

}  // namespace ruche::matrix
