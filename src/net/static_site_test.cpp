#include "net/static_site.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ruche::net {
namespace {
namespace fs = std::filesystem;

class StaticSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ruche_static_" + std::to_string(::getpid()));
    fs::create_directories(root_ / "assets");
    Write("index.html", "<!doctype html><title>Ruche</title>");
    Write("assets/app-1234.js", "console.log(1)");
    Write("assets/app-1234.js.gz", "GZIPPED");
    Write("assets/app-1234.js.br", "BROTLI");
    fs::create_directories(root_.parent_path() / "ruche_static_secret");
    std::ofstream(root_.parent_path() / "ruche_static_secret" / "passwd") << "secret";
    auto site = StaticSite::Load(root_.string());
    ASSERT_TRUE(site);
    site_ = std::move(*site);
  }
  void TearDown() override {
    fs::remove_all(root_);
    fs::remove_all(root_.parent_path() / "ruche_static_secret");
  }
  void Write(const std::string& rel, const std::string& content) {
    std::ofstream(root_ / rel, std::ios::binary) << content;
  }
  static std::string HeaderOf(const Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) {
        return v;
      }
    }
    return "";
  }
  Response Get(std::string_view path, std::vector<std::pair<std::string, std::string>> h = {}) {
    Request req;
    req.path = path;
    req.headers = std::move(h);
    return site_->Serve(req);
  }
  fs::path root_;
  std::unique_ptr<StaticSite> site_;
};

TEST_F(StaticSiteTest, ServesIndexWithPageHeaders) {
  auto r = Get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(HeaderOf(r, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(HeaderOf(r, "X-Frame-Options"), "DENY");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache");
  EXPECT_EQ(site_->file_count(), 2u);  // .gz/.br are variants, not files
}

TEST_F(StaticSiteTest, AssetsAreImmutableAndPrecompressed) {
  auto plain = Get("/assets/app-1234.js");
  EXPECT_EQ(plain.body, "console.log(1)");
  EXPECT_EQ(plain.content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(HeaderOf(plain, "Cache-Control").find("immutable"), std::string::npos);
  auto br = Get("/assets/app-1234.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  EXPECT_EQ(br.body, "BROTLI");
  EXPECT_EQ(HeaderOf(br, "Content-Encoding"), "br");
  auto gz = Get("/assets/app-1234.js", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(gz.body, "GZIPPED");
  auto none = Get("/assets/app-1234.js", {{"Accept-Encoding", "br;q=0, identity"}});
  EXPECT_EQ(none.body, "console.log(1)");
  auto cached = Get("/assets/app-1234.js", {{"If-None-Match", HeaderOf(plain, "ETag")}});
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());
  // Different bytes, different strong ETags; each revalidates only itself.
  EXPECT_NE(HeaderOf(br, "ETag"), HeaderOf(plain, "ETag"));
  EXPECT_NE(HeaderOf(br, "ETag"), HeaderOf(gz, "ETag"));
  auto br_cached = Get("/assets/app-1234.js",
                       {{"Accept-Encoding", "br"}, {"If-None-Match", HeaderOf(br, "ETag")}});
  EXPECT_EQ(br_cached.status, 304);
  auto mismatch = Get("/assets/app-1234.js", {{"If-None-Match", HeaderOf(br, "ETag")}});
  EXPECT_EQ(mismatch.status, 200);
  std::string etag = HeaderOf(plain, "ETag");
  for (std::string inm : {"\"x\", " + etag, "W/" + etag, std::string("*")}) {
    EXPECT_EQ(Get("/assets/app-1234.js", {{"If-None-Match", inm}}).status, 304) << inm;
  }
}

TEST_F(StaticSiteTest, SpaFallbackAndMisses) {
  EXPECT_EQ(Get("/rooms/general").body, "<!doctype html><title>Ruche</title>");
  EXPECT_EQ(Get("/assets/missing.js").status, 404);
  EXPECT_EQ(Get("/missing.png").status, 404);
}

TEST_F(StaticSiteTest, TraversalNeverLeavesTheRoot) {
  for (const char* p : {"/../ruche_static_secret/passwd", "/%2e%2e/ruche_static_secret/passwd",
                        "/assets/..%2f..%2fruche_static_secret/passwd", "//etc/passwd", "/..",
                        "/a\\..\\b", "/%00"}) {
    auto r = Get(p);
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << p;
    EXPECT_NE(r.status, 200) << p;
  }
}

}  // namespace
}  // namespace ruche::net
