#pragma once
// Rooms: /createRoom, sending (PUT /send with transaction IDs), state, membership (join, invite,
// leave, kick, ban, unban), /joined_rooms, single events and /messages history.
#include <functional>
#include <memory>
#include <vector>

#include "auth/accounts.hpp"
#include "matrix/client_api.hpp"
#include "matrix/notifier.hpp"
#include "matrix/presence.hpp"
#include "matrix/room_events.hpp"
#include "net/rate_limiter.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class RoomRoutes {
 public:
  RoomRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier,
             std::shared_ptr<RoomEvents> events, PresenceTracker& presence);

  // Appends `events` in one write (all or none), then wakes the syncs they concern.
  boost::asio::awaitable<Result<std::vector<StoredEvent>>> AppendEvents(
      std::vector<NewEvent> events);

 private:
  // Builds the event inside the write (so it is authorized against the state it lands on).
  using EventMaker = std::function<Result<StoredEvent>(store::Connection&)>;
  // Runs `make` once per (device, txn): the write that records the transaction ID is the one
  // that creates the event. Answers {event_id} and wakes the room's syncs.
  // Charges the sender's and (once authorized) the room's budget: 429 past either.
  boost::asio::awaitable<net::Response> SendOnce(const auth::Session& session, std::string txn,
                                                 EventMaker make);
  boost::asio::awaitable<net::Response> CreateRoom(net::Request& req);
  boost::asio::awaitable<net::Response> Send(net::Request& req);
  boost::asio::awaitable<net::Response> PutState(net::Request& req);
  boost::asio::awaitable<net::Response> GetState(net::Request& req);
  boost::asio::awaitable<net::Response> GetAllState(net::Request& req);
  boost::asio::awaitable<net::Response> Membership(net::Request& req, std::string action);
  boost::asio::awaitable<net::Response> JoinedRooms(net::Request& req);
  boost::asio::awaitable<net::Response> GetEvent(net::Request& req);
  boost::asio::awaitable<net::Response> Messages(net::Request& req);
  boost::asio::awaitable<net::Response> Redact(net::Request& req);
  boost::asio::awaitable<net::Response> Members(net::Request& req, bool joined_only);
  boost::asio::awaitable<net::Response> Receipt(net::Request& req);
  boost::asio::awaitable<net::Response> Relations(net::Request& req);
  boost::asio::awaitable<net::Response> ReadMarkers(net::Request& req);
  // Stores receipts/markers of `user` in `room` ({type -> event ID}) in one write, then wakes
  // the room's syncs (the user's own, for private ones).
  boost::asio::awaitable<Result<void>> StoreReceipts(
      std::string room_id, std::string user_id,
      std::vector<std::pair<std::string, std::string>> receipts, std::string thread_id);

  MatrixDeps deps_;
  Notifier& notifier_;
  std::shared_ptr<RoomEvents> events_;  // used only inside store writes
  PresenceTracker& presence_;           // sending counts as activity
  net::RateLimiter send_per_user_;      // send, state, redact
  net::RateLimiter send_per_room_;      // send, redact; touched inside writes (it locks itself)
};

// "s<stream ordering>" <-> stream ordering. Malformed -> M_INVALID_PARAM. Also accepts a sync
// token (its typing part is ignored: clients may paginate /messages from a next_batch).
std::string StreamToken(int64_t stream);
Result<int64_t> ParseStreamToken(std::string_view token);

// /sync's next_batch: "s<stream>_<typing serial>" (see typing.hpp); "s<stream>" alone is
// accepted (typing 0: every current typer is news).
struct SyncToken {
  int64_t stream = 0;
  int64_t typing = 0;
};
Result<SyncToken> ParseSyncToken(std::string_view token);
std::string SyncTokenText(const SyncToken& token);

}  // namespace ruche::matrix
