#include "matrix/route_helpers.hpp"

#include <algorithm>
#include <charconv>

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

Result<int64_t> LimitParam(const net::Request& req, int64_t fallback, int64_t max) {
  auto l = req.QueryParam("limit");
  if (!l) {
    return fallback;
  }
  int64_t limit = 0;
  auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
  if (ec != std::errc() || ptr != l->data() + l->size() || limit < 0) {
    return core::Error::BadRequest("Invalid limit", "M_INVALID_PARAM");
  }
  return std::min(limit, max);
}

Result<auth::Session> Authenticate(auth::Accounts& accounts, const net::Request& request) {
  auto token = request.AccessToken();
  if (!token) {
    return Error::MissingToken();
  }
  return accounts.Authenticate(*token);
}

}  // namespace ruche::matrix
