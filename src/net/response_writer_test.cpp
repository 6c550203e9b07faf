#include "net/response_writer.hpp"

#include <gtest/gtest.h>

namespace ruche::net {
namespace {

TEST(ResponseWriterTest, StatusLineHeadersAndLength) {
  Response r = Response::Text(200, "hello");
  r.Header("X-Test", "1");
  std::string out;
  AppendResponseHead(out, r, {});
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\nDate: "));
  EXPECT_NE(out.find("\r\nContent-Type: text/plain\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nX-Test: 1\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nContent-Length: 5\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nX-Content-Type-Options: nosniff\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Connection:"), std::string::npos);  // HTTP/1.1 keep-alive is implicit
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
}

TEST(ResponseWriterTest, JsonIsNotCachedAndCorsIsAdded) {
  Response r = Response::Json(core::json::object{});
  std::string out;
  AppendResponseHead(out, r, {.version = 11, .keep_alive = false, .cors = true});
  EXPECT_NE(out.find("Cache-Control: no-store"), std::string::npos);
  EXPECT_NE(out.find("Access-Control-Allow-Origin: *"), std::string::npos);
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
}

TEST(ResponseWriterTest, HandlerHeadersWinOverDefaults) {
  Response r = Response::Text(200, "x");
  r.Header("Content-Security-Policy", "default-src 'self'");
  std::string out;
  AppendResponseHead(out, r, {});
  EXPECT_EQ(out.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(out.find("default-src 'self'"), std::string::npos);
}

TEST(ResponseWriterTest, HeaderInjectionIsDropped) {
  Response r = Response::Text(200, "x");
  r.Header("X-Evil", "a\r\nSet-Cookie: stolen=1");
  r.content_type = "text/plain\r\nX-Injected: 1";
  std::string out;
  AppendResponseHead(out, r, {});
  EXPECT_EQ(out.find("Set-Cookie"), std::string::npos);
  EXPECT_EQ(out.find("X-Injected"), std::string::npos);
}

TEST(ResponseWriterTest, BodilessStatusesHaveNoLength) {
  Response r;
  r.status = 304;
  std::string out;
  AppendResponseHead(out, r, {.has_body = false});
  EXPECT_TRUE(out.starts_with("HTTP/1.1 304 Not Modified\r\n"));
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
  std::string ten;
  AppendResponseHead(ten, Response::Text(200, "x"), {.version = 10});
  EXPECT_TRUE(ten.starts_with("HTTP/1.0 200 OK"));
  EXPECT_NE(ten.find("Connection: keep-alive"), std::string::npos);
}

}  // namespace
}  // namespace ruche::net
