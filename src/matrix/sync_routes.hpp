#pragma once
// GET /sync: initial and incremental sync with long-polling. Joined rooms (timeline with
// limited/prev_batch, state, ephemeral typing and receipts), invites (stripped state), rooms left
// since the last sync, account data and presence. Every section is built with one query for all
// rooms, not one per room.
#include "matrix/client_api.hpp"
#include "matrix/notifier.hpp"
#include "matrix/presence.hpp"
#include "matrix/typing.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class SyncRoutes {
 public:
  SyncRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier, TypingState& typing,
             PresenceTracker& presence);

 private:
  boost::asio::awaitable<net::Response> Sync(net::Request& req);

  MatrixDeps deps_;
  Notifier& notifier_;
  TypingState& typing_;
  PresenceTracker& presence_;
};

}  // namespace ruche::matrix
