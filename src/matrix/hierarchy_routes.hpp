#pragma once
// GET /_matrix/client/v1/rooms/{roomId}/hierarchy: the rooms of a space, walked breadth-first
// through its m.space.child state events (spec "Spaces"). Only rooms the requester may see are
// listed; the others are skipped without a trace.
#include "matrix/client_api.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class HierarchyRoutes {
 public:
  HierarchyRoutes(net::Router& router, MatrixDeps deps);

 private:
  boost::asio::awaitable<net::Response> Hierarchy(net::Request& req);

  MatrixDeps deps_;
};

}  // namespace ruche::matrix
