#pragma once
// Serves the built web client (web/dist) from memory: every file is read once at start with
// its ETag and any precompressed .br/.gz sibling. Lookups are exact-path map hits, so no request
// path can reach outside the folder. Paths without an extension fall back to index.html (the
// client routes them), except under /assets/ where a miss is a real 404.
#include <memory>
#include <string>
#include <unordered_map>

#include "core/error.hpp"
#include "net/http_types.hpp"

namespace ruche::net {

class StaticSite {
 public:
  // Reads every regular file under `root` (total bounded by `max_bytes`).
  static Result<std::unique_ptr<StaticSite>> Load(const std::string& root,
                                                  size_t max_bytes = 256u << 20);

  // Answers a GET or HEAD for request.path.
  Response Serve(const Request& request) const;

  size_t file_count() const { return files_.size(); }

  // Headers every HTML page of the client carries (CSP and friends); exposed for tests/docs.
  static const std::vector<std::pair<std::string, std::string>>& PageSecurityHeaders();

 private:
  struct File {
    std::string content, gzip, brotli;
    std::string mime;
    std::string etag;
    bool immutable = false;  // content-hashed name under /assets/
  };
  Response ServeFile(const Request& request, const File& file, bool is_html) const;

  std::unordered_map<std::string, File> files_;
};

// Content-Type for a file name, by extension; application/octet-stream when unknown.
std::string MimeTypeFor(std::string_view name);

}  // namespace ruche::net
