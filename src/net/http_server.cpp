#include "net/http_server.hpp"

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>
#include <chrono>
#include <mutex>
#include <unordered_set>

#include "core/log.hpp"
#include "net/io_pool.hpp"
#include "net/metrics.hpp"
#include "net/response_writer.hpp"
#include "net/router.hpp"
#include "net/websocket.hpp"

namespace ruche::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using BeastRequest = http::request<http::string_body>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::optional<std::string_view> HeaderOf(const void* native, std::string_view name) {
  const auto& msg = *static_cast<const BeastRequest*>(native);
  auto it = msg.find(name);
  if (it == msg.end()) {
    return std::nullopt;
  }
  return std::string_view(it->value().data(), it->value().size());
}

bool IsCorsPath(std::string_view path) {
  return path.starts_with("/_matrix") || path.starts_with("/.well-known/matrix");
}

// The WebSocket implementation handed to route handlers.
class BeastWebSocket final : public WebSocket {
 public:
  BeastWebSocket(beast::tcp_stream&& stream, int64_t message_limit) : ws_(std::move(stream)) {
    ws_.read_message_max(static_cast<size_t>(message_limit));
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  }
  asio::awaitable<Result<void>> Accept(BeastRequest& req) {
    auto [ec] = co_await ws_.async_accept(req, kTuple);
    if (ec) {
      co_return Error::BadRequest("WebSocket handshake failed: " + ec.message());
    }
    co_return Result<void>{};
  }
  asio::awaitable<Result<std::string>> Read() override {
    buffer_.clear();
    auto [ec, n] = co_await ws_.async_read(buffer_, kTuple);
    if (ec) {
      co_return Error::Unavailable("WebSocket closed: " + ec.message());
    }
    co_return beast::buffers_to_string(buffer_.data());
  }
  asio::awaitable<Result<void>> Send(std::string message, bool binary) override {
    ws_.binary(binary);
    auto [ec, n] = co_await ws_.async_write(asio::buffer(message), kTuple);
    if (ec) {
      co_return Error::Unavailable("WebSocket write failed: " + ec.message());
    }
    co_return Result<void>{};
  }
  asio::awaitable<void> Close(int code, std::string reason) override {
    websocket::close_reason cr(static_cast<websocket::close_code>(code), reason);
    auto [ec] = co_await ws_.async_close(cr, kTuple);
    (void)ec;
  }

 private:
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
};

}  // namespace

Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Error::BadRequest("listen address must be HOST:PORT, got '" + std::string(listen) + "'");
  }
  std::string_view host = listen.substr(0, colon), port_text = listen.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return Error::BadRequest("invalid port in listen address '" + std::string(listen) + "'");
  }
  return std::make_pair(std::string(host), static_cast<uint16_t>(port));
}

// One live connection, as seen by Shutdown(): touched only on the connection's own
// (single-threaded) context.
struct Connection {
  explicit Connection(asio::io_context::executor_type e) : executor(std::move(e)) {}
  asio::io_context::executor_type executor;
  beast::tcp_stream* stream = nullptr;  // null once the session ended or became a WebSocket
  bool idle = true;                     // waiting for (the header of) the next request
};

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(IoPool& p, ServerOptions o, Router& r, Metrics& m)
      : pool(p), options(std::move(o)), router(r), metrics(m), acceptor(p.main()) {
    for (const auto& route : router.routes()) {
      route->metrics = metrics.ForRoute(route->pattern, route->method);
    }
    static_metrics = metrics.ForRoute("static", "GET");
    unmatched_metrics = metrics.ForRoute("unmatched", "*");
  }

  IoPool& pool;
  ServerOptions options;
  Router& router;
  Metrics& metrics;
  tcp::acceptor acceptor;  // on pool.main()
  RouteMetrics* static_metrics;
  RouteMetrics* unmatched_metrics;

  std::atomic<bool> stopping{false};
  std::mutex connections_mu;
  std::unordered_set<std::shared_ptr<Connection>> connections;  // GUARDED_BY(connections_mu)

  asio::awaitable<void> AcceptLoop() {
    auto self = shared_from_this();
    while (!stopping) {
      asio::io_context& io = pool.Next();
      auto [ec, socket] = co_await acceptor.async_accept(io, kTuple);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) {
          break;
        }
        RUCHE_LOG_WARN("accept failed: {}", ec.message());
        continue;
      }
      if (metrics.open_connections.load() >= options.http.max_connections) {
        metrics.rejected_connections.fetch_add(1);
        boost::system::error_code ignored;
        socket.close(ignored);
        continue;
      }
      metrics.open_connections.fetch_add(1);
      auto conn = std::make_shared<Connection>(io.get_executor());
      {
        std::lock_guard lock(connections_mu);
        connections.insert(conn);
      }
      asio::co_spawn(io, Session(std::move(socket), conn), [self, conn](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            RUCHE_LOG_ERROR("connection ended by an exception: {}", ex.what());
          }
        }
        self->metrics.open_connections.fetch_sub(1);
        std::lock_guard lock(self->connections_mu);
        self->connections.erase(conn);
      });
    }
  }

  // Writes a response; returns false if the connection must end. `head` is the connection's
  // reusable buffer for the status line and header block.
  asio::awaitable<bool> Write(beast::tcp_stream& stream, std::string& head, const Request& req,
                              unsigned version, bool is_head, const Response& resp,
                              bool keep_alive) {
    HeadOptions opts;
    opts.version = version;
    opts.keep_alive = keep_alive && !resp.close && !stopping;
    opts.cors = IsCorsPath(req.path);
    opts.has_body = !IsBodiless(resp.status);
    head.clear();
    AppendResponseHead(head, resp, opts);
    // HEAD: the GET answer's Content-Length, no body.
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::const_buffer()};
    if (opts.has_body && !is_head) {
      buffers[1] = asio::buffer(resp.body);
    }
    stream.expires_after(std::chrono::milliseconds(options.http.body_timeout_ms));
    auto [ec, n] = co_await asio::async_write(stream, buffers, kTuple);
    co_return !ec && opts.keep_alive;
  }

  // A response written on a connection that then closes (framing errors, oversized input).
  // Arguments are trivial types on purpose: gcc 12 may destroy non-trivial temporaries of a
  // co_await expression twice.
  asio::awaitable<void> WriteAndClose(beast::tcp_stream& stream, int status, const char* errcode,
                                      const char* message) {
    Error error(status, errcode, message);
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/json");
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(false);
    res.body() = core::ErrorBody(error);
    res.prepare_payload();
    stream.expires_after(std::chrono::milliseconds(options.http.body_timeout_ms));
    auto [ec, n] = co_await http::async_write(stream, res, kTuple);
    (void)ec;
  }

  asio::awaitable<Response> Dispatch(Router::Match match, Request& req, bool& is_static) {
    try {
      if (match.kind == Router::MatchKind::kFound && match.route->handler) {
        co_return co_await match.route->handler(req);
      }
      if (match.kind == Router::MatchKind::kFound) {  // a WebSocket route without an upgrade
        Response r =
            Response::FromError(Error::BadRequest("WebSocket upgrade expected", "M_UNRECOGNIZED"));
        r.status = 426;
        r.headers.emplace_back("Upgrade", "websocket");
        co_return r;
      }
      if (match.kind == Router::MatchKind::kBadPath) {
        co_return Response::FromError(Error::BadRequest("Malformed path", "M_UNRECOGNIZED"));
      }
      if (match.kind == Router::MatchKind::kMethodNotAllowed) {
        Response r = Response::FromError(Error::Unrecognized("Method not allowed"));
        r.status = 405;
        r.headers.emplace_back("Allow", match.allow);
        co_return r;
      }
      bool api = req.path.starts_with("/_matrix") || req.path.starts_with("/_ruche") ||
                 req.path.starts_with("/.well-known") || req.path.starts_with("/dav");
      if (!api && router.fallback() && (req.method == "GET" || req.method == "HEAD")) {
        is_static = true;
        co_return co_await router.fallback()(req);
      }
      co_return Response::FromError(Error::Unrecognized());
    } catch (const std::exception& e) {
      RUCHE_LOG_ERROR("handler for {} {} threw: {}", req.method, req.path, e.what());
      co_return Response::FromError(Error::Internal("Internal server error"));
    }
  }

  asio::awaitable<void> Session(tcp::socket socket, std::shared_ptr<Connection> conn) {
    boost::system::error_code ep_ec;
    auto endpoint = socket.remote_endpoint(ep_ec);
    // NOTE: no ?: building temporaries in coroutines: gcc 12 can destroy them twice.
    std::string remote_ip;
    if (!ep_ec) {
      remote_ip = endpoint.address().to_string();
    }
    socket.set_option(tcp::no_delay(true), ep_ec);
    beast::tcp_stream stream(std::move(socket));
    conn->stream = &stream;
    beast::flat_buffer buffer;
    std::string head;  // response head buffer, reused across requests
    head.reserve(512);
    const auto& http_cfg = options.http;
    bool first = true;

    while (!stopping) {
      conn->idle = true;
      if (buffer.size() == 0) {
        // Waiting for the next request: the idle timeout (the header timeout for a new
        // connection, which must send something soon).
        stream.expires_after(std::chrono::milliseconds(first ? http_cfg.header_timeout_ms
                                                             : http_cfg.idle_timeout_ms));
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
        if (ec) {
          break;
        }
        buffer.commit(n);
      }
      first = false;
      // From the first byte, the whole header must arrive within header_timeout_ms: a client
      // that trickles bytes (slowloris) cannot hold the connection.
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(http_cfg.header_limit_bytes));
      // The body limit depends on the route, known only once the header is in: no limit while
      // reading the header (Beast would otherwise apply its 1 MiB default to Content-Length),
      // then the route's limit before the body.
      parser.body_limit(boost::none);
      stream.expires_after(std::chrono::milliseconds(http_cfg.header_timeout_ms));
      auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kTuple);
      if (hec) {
        if (hec == http::error::body_limit) {
          co_await WriteAndClose(stream, 413, "M_TOO_LARGE", "Request body too large");
        } else if (hec == http::error::header_limit) {
          co_await WriteAndClose(stream, 431, "M_TOO_LARGE", "Request header too large");
        } else if (hec.category() == http::make_error_code(http::error::bad_method).category() &&
                   hec != http::error::end_of_stream && hec != http::error::partial_message) {
          co_await WriteAndClose(stream, 400, "M_UNRECOGNIZED", "Malformed HTTP request");
        }
        break;
      }
      conn->idle = false;
      auto started = std::chrono::steady_clock::now();
      BeastRequest& msg = parser.get();

      Request req;
      req.native = &msg;
      req.native_header = &HeaderOf;
      req.remote_ip = remote_ip;
      req.method = std::string_view(msg.method_string().data(), msg.method_string().size());
      req.target = std::string_view(msg.target().data(), msg.target().size());
      if (req.target.empty() || req.target.front() != '/') {
        co_await WriteAndClose(stream, 400, "M_UNRECOGNIZED", "Request target must be a path");
        break;
      }
      // RFC 9112 §6.3: a request whose last transfer coding is not chunked cannot be framed;
      // answering it would invite request smuggling behind a proxy.
      if (msg.find(http::field::transfer_encoding) != msg.end() && !parser.chunked()) {
        co_await WriteAndClose(stream, 400, "M_UNRECOGNIZED",
                               "Transfer-Encoding must end with chunked");
        break;
      }
      size_t qmark = req.target.find('?');
      req.path = req.target.substr(0, qmark);
      if (qmark != std::string_view::npos) {
        req.query = req.target.substr(qmark + 1);
      }
      bool is_head = msg.method() == http::verb::head;

      // CORS preflight: answered for every Matrix path, before routing (browsers send no token).
      if (msg.method() == http::verb::options && IsCorsPath(req.path)) {
        Response pre;
        pre.status = 204;
        pre.content_type = "text/plain";
        if (!co_await ReadBody(stream, buffer, parser, http_cfg.body_limit_bytes)) {
          break;
        }
        bool keep = co_await Write(stream, head, req, msg.version(), false, pre, msg.keep_alive());
        unmatched_metrics->Record(204, Seconds(started));
        if (!keep) {
          break;
        }
        continue;
      }

      Router::Match match = router.Find(req.method, req);
      const Route* route = match.kind == Router::MatchKind::kFound ? match.route : nullptr;
      int64_t limit = route && route->options.body_limit >= 0 ? route->options.body_limit
                                                              : http_cfg.body_limit_bytes;
      if (auto cl = parser.content_length(); cl && *cl > static_cast<uint64_t>(limit)) {
        co_await WriteAndClose(stream, 413, "M_TOO_LARGE", "Request body too large");
        break;
      }
      if (route && route->ws_handler && websocket::is_upgrade(msg)) {
        conn->stream = nullptr;
        conn->idle = false;
        BeastRequest upgrade = parser.release();
        co_await RunWebSocket(stream, upgrade, route);
        co_return;
      }
      if (auto expect = msg.find(http::field::expect);
          expect != msg.end() && beast::iequals(expect->value(), "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, msg.version()};
        auto [cec, cn] = co_await http::async_write(stream, cont, kTuple);
        if (cec) {
          break;
        }
      }
      if (!co_await ReadBody(stream, buffer, parser, limit)) {
        break;
      }
      req.body = std::move(msg.body());

      bool is_static = false;
      Response resp = co_await Dispatch(match, req, is_static);
      int status = resp.status;
      bool keep = co_await Write(stream, head, req, msg.version(), is_head, resp, msg.keep_alive());
      RouteMetrics* rm = route ? route->metrics : (is_static ? static_metrics : unmatched_metrics);
      if (rm) {
        rm->Record(status, Seconds(started));
      }
      if (!keep) {
        break;
      }
    }
    conn->stream = nullptr;
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
  }

  static double Seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  }

  // Reads the body under `limit`; answers 413 itself. False when the connection must end.
  asio::awaitable<bool> ReadBody(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                 http::request_parser<http::string_body>& parser, int64_t limit) {
    if (parser.is_done()) {
      co_return true;
    }
    parser.body_limit(static_cast<uint64_t>(limit));
    stream.expires_after(std::chrono::milliseconds(options.http.body_timeout_ms));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec == http::error::body_limit) {
      co_await WriteAndClose(stream, 413, "M_TOO_LARGE", "Request body too large");
      co_return false;
    }
    co_return !ec;
  }

  // Takes over `stream` (moved into the WebSocket) and the upgrade request `msg`.
  asio::awaitable<void> RunWebSocket(beast::tcp_stream& stream, BeastRequest& msg,
                                     const Route* route) {
    stream.expires_never();  // the WebSocket stream's own timeouts take over
    BeastWebSocket ws(std::move(stream), options.websocket_message_limit);
    Request req;
    req.native = &msg;
    req.native_header = &HeaderOf;
    req.method = "GET";
    req.target = std::string_view(msg.target().data(), msg.target().size());
    size_t qmark = req.target.find('?');
    req.path = req.target.substr(0, qmark);
    if (qmark != std::string_view::npos) {
      req.query = req.target.substr(qmark + 1);
    }
    Router::Match again = router.Find("GET", req);  // fills params
    (void)again;
    if (auto r = co_await ws.Accept(msg); !r) {
      co_return;
    }
    if (route->metrics) {
      route->metrics->Record(101, 0);
    }
    try {
      co_await route->ws_handler(req, ws);
    } catch (const std::exception& e) {
      RUCHE_LOG_ERROR("WebSocket handler for {} threw: {}", req.path, e.what());
    }
  }

  void BeginShutdown(std::function<void()> on_drained) {
    if (stopping.exchange(true)) {
      return;
    }
    boost::system::error_code ignored;
    acceptor.close(ignored);
    {
      std::lock_guard lock(connections_mu);
      for (const auto& conn : connections) {
        asio::post(conn->executor, [conn] {
          if (conn->idle && conn->stream != nullptr) {
            boost::system::error_code ec;
            conn->stream->socket().shutdown(tcp::socket::shutdown_both, ec);
            conn->stream->socket().close(ec);
          }
        });
      }
    }
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(options.http.shutdown_grace_ms);
    auto timer = std::make_shared<asio::steady_timer>(pool.main());
    WaitDrained(timer, deadline, std::move(on_drained));
  }

  void WaitDrained(std::shared_ptr<asio::steady_timer> timer,
                   std::chrono::steady_clock::time_point deadline,
                   std::function<void()> on_drained) {
    if (metrics.open_connections.load() == 0 || std::chrono::steady_clock::now() >= deadline) {
      if (metrics.open_connections.load() > 0) {
        RUCHE_LOG_WARN("shutdown grace period over with {} connection(s) still open",
                       metrics.open_connections.load());
      }
      on_drained();
      return;
    }
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait([self = shared_from_this(), timer, deadline,
                       cb = std::move(on_drained)](boost::system::error_code) mutable {
      self->WaitDrained(timer, deadline, std::move(cb));
    });
  }
};

HttpServer::HttpServer(IoPool& pool, ServerOptions options, Router& router, Metrics& metrics)
    : impl_(std::make_shared<Impl>(pool, std::move(options), router, metrics)) {}

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::Listen(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return Error::BadRequest("invalid listen host '" + host + "': " + ec.message());
  }
  tcp::endpoint endpoint(address, port);
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) {
    acc.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acc.bind(endpoint, ec);
  }
  if (!ec) {
    acc.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return Error::Unavailable("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                              ec.message());
  }
  return acc.local_endpoint().port();
}

void HttpServer::Start() {
  asio::co_spawn(impl_->pool.main(), impl_->AcceptLoop(), asio::detached);
}

void HttpServer::Shutdown(std::function<void()> on_drained) {
  asio::post(impl_->pool.main(), [impl = impl_, cb = std::move(on_drained)]() mutable {
    impl->BeginShutdown(std::move(cb));
  });
}

int64_t HttpServer::open_connections() const { return impl_->metrics.open_connections.load(); }

}  // namespace ruche::net
