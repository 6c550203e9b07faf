#pragma once
// POST /search, category room_events: full-text search over the messages, names and topics of
// the rooms the requester is joined to, through the FTS5 index `event_search` that migration 8's
// triggers keep in step with `events` (see docs/architecture.md, "Search").
#include "matrix/client_api.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class SearchRoutes {
 public:
  SearchRoutes(net::Router& router, MatrixDeps deps);

 private:
  boost::asio::awaitable<net::Response> Search(net::Request& req);

  MatrixDeps deps_;
};

}  // namespace ruche::matrix
