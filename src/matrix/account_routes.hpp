#pragma once
// The account's own data: filters, account data (global and per room, delivered by /sync),
// profile (display name, avatar), and /capabilities.
#include <memory>

#include "matrix/client_api.hpp"
#include "matrix/notifier.hpp"
#include "matrix/room_events.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class AccountRoutes {
 public:
  AccountRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier,
                std::shared_ptr<RoomEvents> events);

 private:
  boost::asio::awaitable<net::Response> PostFilter(net::Request& req);
  boost::asio::awaitable<net::Response> GetFilter(net::Request& req);
  boost::asio::awaitable<net::Response> PutAccountData(net::Request& req, bool per_room);
  boost::asio::awaitable<net::Response> GetAccountData(net::Request& req, bool per_room);
  boost::asio::awaitable<net::Response> GetProfile(net::Request& req, std::string field);
  boost::asio::awaitable<net::Response> PutProfile(net::Request& req, std::string field);

  MatrixDeps deps_;
  Notifier& notifier_;
  std::shared_ptr<RoomEvents> events_;
};

}  // namespace ruche::matrix
