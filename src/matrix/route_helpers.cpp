#include "matrix/route_helpers.hpp"

#include "net/async.hpp"

namespace ruche::matrix {

void AddClientRoute(net::Router& router, const std::string& method, const std::string& path,
                    net::Handler handler, net::RouteOptions options) {
  router.Add(method, "/_matrix/client/v3" + path, handler, options);
  router.Add(method, "/_matrix/client/r0" + path, std::move(handler), options);
}

boost::asio::awaitable<Result<void>> Commit(store::Store& store, store::WriteFn fn) {
  return net::AwaitCallback<Result<void>>(
      [&store, fn = std::move(fn)](std::function<void(Result<void>)> done) mutable {
        store.Write(std::move(fn), std::move(done));
      });
}

Result<auth::Session> Authenticate(auth::Accounts& accounts, const net::Request& request) {
  auto token = request.AccessToken();
  if (!token) {
    return Error::MissingToken();
  }
  return accounts.Authenticate(*token);
}

}  // namespace ruche::matrix
