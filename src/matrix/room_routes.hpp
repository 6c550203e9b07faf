#pragma once
// Rooms: /createRoom, sending (PUT /send with transaction IDs), state, membership (join, invite,
// leave, kick, ban, unban), /joined_rooms, single events and /messages history.
#include <memory>
#include <vector>

#include "matrix/client_api.hpp"
#include "matrix/notifier.hpp"
#include "matrix/room_events.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class RoomRoutes {
 public:
  RoomRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier,
             std::shared_ptr<RoomEvents> events);

  // Appends `events` in one write (all or none), then wakes the syncs they concern.
  boost::asio::awaitable<Result<std::vector<StoredEvent>>> AppendEvents(
      std::vector<NewEvent> events);

 private:
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

  MatrixDeps deps_;
  Notifier& notifier_;
  std::shared_ptr<RoomEvents> events_;  // used only inside store writes
};

// "s<stream ordering>" <-> stream ordering. Malformed -> M_INVALID_PARAM.
std::string StreamToken(int64_t stream);
Result<int64_t> ParseStreamToken(std::string_view token);

}  // namespace ruche::matrix
