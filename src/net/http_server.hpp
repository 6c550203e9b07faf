#pragma once
// The HTTP/1.1 + WebSocket server: Boost.Beast over asio C++20 coroutines, one session
// coroutine per connection, each connection pinned to one of the IoPool's single-threaded
// contexts (one per core). Owns the wire: limits,
// timeouts, keep-alive, CORS, security headers, metrics per route, graceful shutdown.
// Beast stays inside http_server.cpp; this header only forward-declares asio.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/error.hpp"

namespace ruche::net {

class Router;
class Metrics;
class IoPool;

struct ServerOptions {
  core::HttpConfig http;
  int64_t websocket_message_limit = 1 << 20;
};

class HttpServer {
 public:
  // Listens on pool.main(); spreads connections over the pool's contexts.
  HttpServer(IoPool& pool, ServerOptions options, Router& router, Metrics& metrics);
  ~HttpServer();

  // Binds and listens on host:port (port 0 = any free port). Returns the bound port.
  Result<uint16_t> Listen(const std::string& host, uint16_t port);

  // Starts accepting (coroutines are spawned on the io_context; run it to serve).
  void Start();

  // Graceful stop: close the listener, close idle connections, let requests in flight finish
  // (responses then carry Connection: close). `on_drained` runs once every connection is gone
  // or the grace period ran out. Safe to call from any thread, more than once.
  void Shutdown(std::function<void()> on_drained);

  int64_t open_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Splits "host:port" ("[::1]:8008" for IPv6).
Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view listen);

}  // namespace ruche::net
