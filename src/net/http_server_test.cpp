// The server on a real loopback socket, driven by Beast clients: WebSocket upgrade and echo,
// message size limit, handler exceptions, graceful shutdown with a request in flight.
#include "net/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <future>
#include <thread>

#include "net/io_pool.hpp"
#include "net/metrics.hpp"
#include "net/router.hpp"
#include "net/websocket.hpp"

namespace ruche::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/hello",
                [](Request&) -> asio::awaitable<Response> { co_return Response::Text(200, "hi"); });
    router_.Add("GET", "/throw", [](Request&) -> asio::awaitable<Response> {
      throw std::runtime_error("boom");
      co_return Response{};
    });
    router_.Add("GET", "/slow", [this](Request&) -> asio::awaitable<Response> {
      slow_started_.set_value();
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(300));
      co_await t.async_wait(asio::use_awaitable);
      co_return Response::Text(200, "done");
    });
    router_.AddWebSocket("/ws/{name}", [](Request& req, WebSocket& ws) -> asio::awaitable<void> {
      std::string name(req.Param("name"));
      while (true) {
        auto msg = co_await ws.Read();
        if (!msg) {
          co_return;
        }
        if (*msg == "bye") {
          co_await ws.Close(1000, "bye");
          co_return;
        }
        if (!co_await ws.Send(name + ":" + *msg)) {
          co_return;
        }
      }
    });
    ServerOptions options;
    options.websocket_message_limit = 1024;
    server_ = std::make_unique<HttpServer>(pool_, options, router_, metrics_);
    auto port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port);
    port_ = *port;
    server_->Start();
    thread_ = std::thread([this] { pool_.Run(); });
  }
  void TearDown() override {
    if (thread_.joinable()) {
      server_->Shutdown([this] { pool_.Stop(); });
      thread_.join();
    }
  }
  tcp::socket Connect() {
    tcp::socket s(client_io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    return s;
  }
  http::response<http::string_body> Get(tcp::socket& s, const std::string& target) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "localhost");
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res;
  }

  IoPool pool_{2};
  Router router_;
  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
  asio::io_context client_io_;
  std::promise<void> slow_started_;
};

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto s = Connect();
  for (int i = 0; i < 3; ++i) {
    auto res = Get(s, "/hello");
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "hi");
    EXPECT_TRUE(res.keep_alive());
  }
}

TEST_F(ServerTest, HandlerExceptionBecomesA500) {
  auto s = Connect();
  auto res = Get(s, "/throw");
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_NE(res.body().find("M_UNKNOWN"), std::string::npos);
  EXPECT_EQ(Get(s, "/hello").body(), "hi");  // the connection survives
}

TEST_F(ServerTest, WebSocketEchoWithPathParameter) {
  beast::websocket::stream<tcp::socket> ws(Connect());
  ws.handshake("localhost", "/ws/alice");
  ws.write(asio::buffer(std::string("ping")));
  beast::flat_buffer buf;
  ws.read(buf);
  EXPECT_EQ(beast::buffers_to_string(buf.data()), "alice:ping");
  ws.write(asio::buffer(std::string("bye")));
  buf.clear();
  beast::error_code ec;
  ws.read(buf, ec);
  EXPECT_EQ(ec, beast::websocket::error::closed);
  EXPECT_EQ(ws.reason().reason, "bye");
}

TEST_F(ServerTest, OversizedWebSocketMessageEndsTheConnection) {
  beast::websocket::stream<tcp::socket> ws(Connect());
  ws.handshake("localhost", "/ws/bob");
  ws.write(asio::buffer(std::string(4096, 'x')));
  beast::flat_buffer buf;
  beast::error_code ec;
  ws.read(buf, ec);
  EXPECT_TRUE(ec);  // closed with "message too big", never echoed
}

TEST_F(ServerTest, WebSocketRouteWithoutUpgradeIs426) {
  auto s = Connect();
  EXPECT_EQ(Get(s, "/ws/carol").result_int(), 426);
}

TEST_F(ServerTest, ShutdownLetsARequestInFlightFinish) {
  auto s = Connect();
  http::request<http::empty_body> req{http::verb::get, "/slow", 11};
  req.set(http::field::host, "localhost");
  http::write(s, req);
  slow_started_.get_future().wait();
  server_->Shutdown([this] { pool_.Stop(); });
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  EXPECT_EQ(res.body(), "done");
  EXPECT_FALSE(res.keep_alive());  // Connection: close while draining
  thread_.join();
  EXPECT_EQ(metrics_.open_connections.load(), 0);
}

}  // namespace
}  // namespace ruche::net
