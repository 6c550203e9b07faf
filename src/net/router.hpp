#pragma once
// Routes (method, path pattern) to coroutine handlers. Patterns are literal segments and
// `{name}` segments matching one non-empty path segment (percent-decoded into Request::params);
// a final `{name...}` matches the rest of the path. Literal routes are found in O(1).
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/http_types.hpp"

namespace ruche::net {

class WebSocket;
class RouteMetrics;

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;
// Runs for the life of an upgraded connection.
using WebSocketHandler = std::function<boost::asio::awaitable<void>(Request&, WebSocket&)>;

struct RouteOptions {
  int64_t body_limit = -1;  // bytes; -1 = the server's default (http.body_limit_bytes)
};

struct Route {
  std::string method;   // "GET", ...; HEAD requests use the GET route
  std::string pattern;  // also the route's label in /metrics
  Handler handler;
  WebSocketHandler ws_handler;  // set for WebSocket routes (method "GET")
  RouteOptions options;
  std::vector<std::string> segments;  // pattern split on '/'
  bool literal = true;
  RouteMetrics* metrics = nullptr;  // owned by the Metrics registry
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) = default;
  Router& operator=(Router&&) = default;

  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  void AddWebSocket(std::string pattern, WebSocketHandler handler);
  // Answers GET/HEAD requests no route matched (the web client's static files).
  void SetFallback(Handler handler) { fallback_ = std::move(handler); }
  const Handler& fallback() const { return fallback_; }

  enum class MatchKind { kFound, kNotFound, kMethodNotAllowed, kBadPath };
  struct Match {
    MatchKind kind = MatchKind::kNotFound;
    const Route* route = nullptr;
    std::string allow;  // for kMethodNotAllowed: the methods the path does take ("GET, HEAD")
  };
  // Matches `method` + `request.path`, filling request.params on success.
  Match Find(std::string_view method, Request& request) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
  std::unordered_map<std::string, const Route*> literal_;  // "METHOD path" -> route
  std::unordered_map<std::string, std::vector<std::string>> literal_paths_;  // path -> methods
  std::vector<const Route*> patterned_;
  Handler fallback_;
};

}  // namespace ruche::net
