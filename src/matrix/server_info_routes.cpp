#include "matrix/server_info_routes.hpp"

#include "net/router.hpp"

namespace ruche::matrix {

namespace json = core::json;
using net::Request;
using net::Response;

void MountServerInfo(net::Router& router, const MatrixDeps& deps) {
  router.Add("GET", "/_matrix/client/versions", [](Request&) -> boost::asio::awaitable<Response> {
    // NOTE: clients pick features by these versions; the list grows as the API fills in.
    static const std::string body = json::serialize(
        json::object{{"versions", json::array{"r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5",
                                              "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11"}},
                     {"unstable_features", json::object{}}});
    Response r;
    r.body = body;
    co_return r;
  });

  std::string base_url = deps.config.public_base_url;
  router.Add(
      "GET", "/.well-known/matrix/client",
      [base_url](Request& req) -> boost::asio::awaitable<Response> {
        std::string url = base_url;
        if (url.empty()) {
          // Without a configured public URL, answer with the address the client used.
          std::string host(req.Header("Host").value_or("localhost"));
          url = "http://" + host;
        }
        co_return Response::Json(json::object{{"m.homeserver", json::object{{"base_url", url}}}});
      });
}

}  // namespace ruche::matrix
