#include "net/router.hpp"

#include <gtest/gtest.h>

namespace ruche::net {
namespace {

Handler Ok() {
  return [](Request&) -> boost::asio::awaitable<Response> { co_return Response{}; };
}

Request At(std::string_view path) {
  Request r;
  r.path = path;
  return r;
}

TEST(RouterTest, LiteralAndParameterRoutes) {
  Router router;
  router.Add("GET", "/healthz", Ok());
  router.Add("PUT", "/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}", Ok());
  router.Add("GET", "/dav/{path...}", Ok());

  auto req = At("/healthz");
  EXPECT_EQ(router.Find("GET", req).kind, Router::MatchKind::kFound);
  EXPECT_EQ(router.Find("HEAD", req).kind, Router::MatchKind::kFound);  // HEAD uses GET
  EXPECT_EQ(router.Find("POST", req).kind, Router::MatchKind::kMethodNotAllowed);

  auto send = At("/_matrix/client/v3/rooms/%21abc%3Aexample.org/send/m.room.message/t%2F1");
  auto m = router.Find("PUT", send);
  ASSERT_EQ(m.kind, Router::MatchKind::kFound);
  EXPECT_EQ(send.Param("roomId"), "!abc:example.org");
  EXPECT_EQ(send.Param("eventType"), "m.room.message");
  EXPECT_EQ(send.Param("txnId"), "t/1");
  auto wrong = router.Find("GET", send);
  EXPECT_EQ(wrong.kind, Router::MatchKind::kMethodNotAllowed);
  EXPECT_EQ(wrong.allow, "PUT");
  EXPECT_EQ(router.Find("POST", req).allow, "GET, HEAD");

  auto dav = At("/dav/calendars/alice/work%20cal/");
  ASSERT_EQ(router.Find("GET", dav).kind, Router::MatchKind::kFound);
  EXPECT_EQ(dav.Param("path"), "calendars/alice/work cal/");
}

TEST(RouterTest, NearMissesAreNotFound) {
  Router router;
  router.Add("GET", "/a/{x}/c", Ok());
  for (const char* p : {"/a/b", "/a/b/c/d", "/a//c", "/a/b/d", "/", "/a"}) {
    auto req = At(p);
    EXPECT_EQ(router.Find("GET", req).kind, Router::MatchKind::kNotFound) << p;
  }
}

TEST(RouterTest, MalformedEscapeIsABadPath) {
  Router router;
  router.Add("GET", "/a/{x}", Ok());
  auto req = At("/a/%zz");
  EXPECT_EQ(router.Find("GET", req).kind, Router::MatchKind::kBadPath);
  auto trailing = At("/a/%4");
  EXPECT_EQ(router.Find("GET", trailing).kind, Router::MatchKind::kBadPath);
}

TEST(HttpTypesTest, QueryParamsAndTokens) {
  Request r;
  r.query = "a=1&access_token=tok%2Bx&b=hello+world&empty";
  EXPECT_EQ(r.QueryParam("b"), "hello world");
  EXPECT_EQ(r.QueryParam("empty"), "");
  EXPECT_FALSE(r.QueryParam("missing"));
  EXPECT_EQ(r.AccessToken(), "tok+x");
  r.headers.emplace_back("authorization", "Bearer abc");
  EXPECT_EQ(r.AccessToken(), "abc");  // the header wins
  Request basic;
  basic.headers.emplace_back("Authorization", "Basic Zm9vOmJhcg==");
  EXPECT_FALSE(basic.AccessToken());
}

TEST(HttpTypesTest, ErrorResponseCarriesRetryAfter) {
  auto r = Response::FromError(Error::LimitExceeded(1500));
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.body.find("\"retry_after_ms\":1500"), std::string::npos);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "2");
}

}  // namespace
}  // namespace ruche::net
