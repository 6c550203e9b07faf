#pragma once
// GET /sync: initial and incremental sync with long-polling. Joined rooms (timeline with
// limited/prev_batch, state, ephemeral typing and receipts), invites (stripped state), rooms left
// since the last sync, account data, presence, to-device messages and the E2EE device lists and
// key counts. Every section is built with one query for all
// rooms, not one per room.
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "matrix/client_api.hpp"
#include "matrix/device_keys.hpp"
#include "matrix/notifier.hpp"
#include "matrix/presence.hpp"
#include "matrix/typing.hpp"
#include "net/router.hpp"
#include "store/store.hpp"

namespace ruche::matrix {

class SyncRoutes {
 public:
  SyncRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier, TypingState& typing,
             PresenceTracker& presence, DeviceKeys& keys);

 private:
  boost::asio::awaitable<net::Response> Sync(net::Request& req);
  // The rooms `user` is joined to, for registering a long-poll: from memory while nothing was
  // published for the user since they were read (a fanout's 1,000 re-polls then skip a query).
  Result<std::vector<std::string>> JoinedRoomsForWait(const std::string& user);
  // The device's sync token `since` acknowledges the to-device messages up to it: deletes them.
  Result<void> AcknowledgeToDevice(store::Connection& conn, const std::string& user,
                                   const std::string& device, int64_t since);

  struct JoinedRooms {
    std::vector<std::string> rooms;
    int64_t as_of = 0;  // Notifier::LastFor(user) read before the query
  };
  std::mutex joined_mu_;
  std::unordered_map<std::string, JoinedRooms> joined_cache_;  // GUARDED_BY(joined_mu_)

  MatrixDeps deps_;
  Notifier& notifier_;
  TypingState& typing_;
  PresenceTracker& presence_;
  DeviceKeys& keys_;  // to-device queues and key counts
};

}  // namespace ruche::matrix
