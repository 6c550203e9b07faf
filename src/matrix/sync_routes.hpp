#pragma once
// GET /sync: initial and incremental sync with long-polling. Joined rooms (timeline with
// limited/prev_batch, state), invites (stripped state) and rooms left since the last sync.
// Every section is built with one query for all rooms, not one per room.
#include "matrix/client_api.hpp"
#include "matrix/notifier.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class SyncRoutes {
 public:
  SyncRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier);

 private:
  boost::asio::awaitable<net::Response> Sync(net::Request& req);

  MatrixDeps deps_;
  Notifier& notifier_;
};

}  // namespace ruche::matrix
