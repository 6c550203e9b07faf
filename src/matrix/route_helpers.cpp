#include "matrix/route_helpers.hpp"

namespace ruche::matrix {

void AddClientRoute(net::Router& router, const std::string& method, const std::string& path,
                    net::Handler handler, net::RouteOptions options) {
  router.Add(method, "/_matrix/client/v3" + path, handler, options);
  router.Add(method, "/_matrix/client/r0" + path, std::move(handler), options);
}

Result<auth::Session> Authenticate(auth::Accounts& accounts, const net::Request& request) {
  auto token = request.AccessToken();
  if (!token) {
    return Error::MissingToken();
  }
  return accounts.Authenticate(*token);
}

}  // namespace ruche::matrix
