// libFuzzer target: arbitrary bytes through the same HTTP parser configuration the server uses,
// then routing (path split, parameter percent-decoding, query parsing, token extraction) over a
// route table shaped like the real one. Must never crash, hang or read out of bounds.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>

#include "net/router.hpp"

namespace http = boost::beast::http;
using ruche::net::Request;
using ruche::net::Response;

namespace {

ruche::net::Router& FuzzRouter() {
  static ruche::net::Router router = [] {
    ruche::net::Router r;
    auto h = [](Request&) -> boost::asio::awaitable<Response> { co_return Response{}; };
    for (const char* p : {"/healthz", "/metrics", "/_matrix/client/versions",
                          "/_matrix/client/v3/login", "/_matrix/client/v3/account/whoami"}) {
      r.Add("GET", p, h);
    }
    r.Add("POST", "/_matrix/client/v3/login", h);
    r.Add("PUT", "/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}", h);
    r.Add("GET", "/_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}", h);
    r.Add("GET", "/_matrix/media/v3/download/{serverName}/{mediaId}", h);
    r.Add("GET", "/dav/{path...}", h);
    return r;
  }();
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!parser.is_header_done()) {
    return 0;
  }
  auto& msg = parser.get();
  Request req;
  req.method = std::string_view(msg.method_string().data(), msg.method_string().size());
  req.target = std::string_view(msg.target().data(), msg.target().size());
  if (req.target.empty() || req.target.front() != '/') {
    return 0;
  }
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string_view::npos) {
    req.query = req.target.substr(q + 1);
  }
  for (const auto& field : msg) {
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  auto match = FuzzRouter().Find(req.method, req);
  (void)match;
  (void)req.QueryParam("access_token");
  (void)req.AccessToken();
  (void)req.Param("roomId");
  return 0;
}
