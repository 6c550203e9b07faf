#pragma once
// Reading around and across a room's history: GET /rooms/{roomId}/context/{eventId} (an event
// with what came just before and after it, e.g. to jump to a search result) and
// GET /_matrix/client/v1/rooms/{roomId}/threads (the room's threads, latest activity first).
#include "matrix/client_api.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class HistoryRoutes {
 public:
  HistoryRoutes(net::Router& router, MatrixDeps deps);

 private:
  boost::asio::awaitable<net::Response> Context(net::Request& req);
  boost::asio::awaitable<net::Response> Threads(net::Request& req);

  MatrixDeps deps_;
};

}  // namespace ruche::matrix
