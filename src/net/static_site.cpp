#include "net/static_site.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace ruche::net {
namespace fs = std::filesystem;
namespace {

bool ReadFile(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// True when the comma-separated Accept-Encoding list names `coding` without q=0.
bool Accepts(std::string_view header, std::string_view coding) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view item =
        header.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
    pos = comma == std::string_view::npos ? header.size() : comma + 1;
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    size_t semi = item.find(';');
    std::string_view name = item.substr(0, semi);
    while (!name.empty() && name.back() == ' ') {
      name.remove_suffix(1);
    }
    if (name != coding) {
      continue;
    }
    if (semi != std::string_view::npos) {
      std::string_view params = item.substr(semi + 1);
      if (params.find("q=0") != std::string_view::npos &&
          params.find("q=0.") == std::string_view::npos) {
        return false;
      }
    }
    return true;
  }
  return false;
}

// RFC 9110 §13.1.2: If-None-Match is "*" or a list of entity tags, compared weakly.
bool NoneMatchHits(std::string_view header, std::string_view etag) {
  auto strip_weak = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) {
      comma = header.size();
    }
    std::string_view item = header.substr(pos, comma - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (item == "*" || (!item.empty() && strip_weak(item) == strip_weak(etag))) {
      return true;
    }
    pos = comma + 1;
  }
  return false;
}

}  // namespace

std::string MimeTypeFor(std::string_view name) {
  static const std::unordered_map<std::string_view, std::string_view> types = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
      {".mp3", "audio/mpeg"},
      {".ogg", "audio/ogg"},
  };
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos) {
    if (auto it = types.find(name.substr(dot)); it != types.end()) {
      return std::string(it->second);
    }
  }
  return "application/octet-stream";
}

const std::vector<std::pair<std::string, std::string>>& StaticSite::PageSecurityHeaders() {
  static const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; font-src 'self'; worker-src 'self' blob:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Permissions-Policy",
       "camera=(self), microphone=(self), display-capture=(self), geolocation=()"},
  };
  return headers;
}

Result<std::unique_ptr<StaticSite>> StaticSite::Load(const std::string& root, size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return Error::NotFound("web root " + root + " is not a folder (build the web client first)");
  }
  auto site = std::make_unique<StaticSite>();
  size_t total = 0;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) {
      continue;
    }
    const fs::path& p = it->path();
    std::string ext = p.extension().string();
    if (ext == ".gz" || ext == ".br") {
      continue;  // attached to their original below
    }
    File f;
    if (!ReadFile(p, f.content)) {
      return Error::Internal("cannot read " + p.string());
    }
    ReadFile(fs::path(p.string() + ".gz"), f.gzip);
    ReadFile(fs::path(p.string() + ".br"), f.brotli);
    total += f.content.size() + f.gzip.size() + f.brotli.size();
    if (total > max_bytes) {
      return Error::Internal("web root " + root + " is larger than allowed");
    }
    std::string rel = "/" + fs::relative(p, root).generic_string();
    f.mime = MimeTypeFor(rel);
    f.etag = fmt::format("\"{:x}-{:x}\"", std::hash<std::string>{}(f.content), f.content.size());
    f.immutable = rel.starts_with("/assets/");
    site->files_.emplace(std::move(rel), std::move(f));
  }
  if (ec) {
    return Error::Internal("cannot list " + root + ": " + ec.message());
  }
  return site;
}

Response StaticSite::Serve(const Request& request) const {
  std::string path;
  if (!PercentDecode(request.path, path) || path.empty() || path.front() != '/' ||
      path.find('\0') != std::string::npos || path.find('\\') != std::string::npos ||
      path.find("/../") != std::string::npos || path.find("/./") != std::string::npos ||
      path.ends_with("/..") || path.find("//") != std::string::npos) {
    return Response::FromError(Error::BadRequest("Invalid path", "M_UNRECOGNIZED"));
  }
  if (path.back() == '/') {
    path += "index.html";
  }
  if (auto it = files_.find(path); it != files_.end()) {
    return ServeFile(request, it->second, path.ends_with(".html"));
  }
  // Client-side routes (no extension, outside /assets/) get the app shell.
  std::string_view last = std::string_view(path).substr(path.rfind('/') + 1);
  if (!path.starts_with("/assets/") && last.find('.') == std::string_view::npos) {
    if (auto it = files_.find("/index.html"); it != files_.end()) {
      return ServeFile(request, it->second, true);
    }
  }
  return Response::FromError(Error::NotFound("No such file"));
}

Response StaticSite::ServeFile(const Request& request, const File& file, bool is_html) const {
  Response r;
  r.content_type = file.mime;
  r.headers.emplace_back("Cache-Control",
                         file.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (is_html) {
    for (const auto& h : PageSecurityHeaders()) {
      r.headers.push_back(h);
    }
  }
  bool compressible = !file.gzip.empty() || !file.brotli.empty();
  if (compressible) {
    r.headers.emplace_back("Vary", "Accept-Encoding");
  }
  // Each encoding is different bytes, so it gets its own strong ETag (RFC 9110 §8.8.3).
  std::string_view accept = request.Header("Accept-Encoding").value_or("");
  const std::string* body = &file.content;
  std::string etag = file.etag;
  if (!file.brotli.empty() && Accepts(accept, "br")) {
    r.headers.emplace_back("Content-Encoding", "br");
    body = &file.brotli;
    etag.insert(etag.size() - 1, "-br");
  } else if (!file.gzip.empty() && Accepts(accept, "gzip")) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    body = &file.gzip;
    etag.insert(etag.size() - 1, "-gz");
  }
  if (auto inm = request.Header("If-None-Match"); inm && NoneMatchHits(*inm, etag)) {
    r.status = 304;
    std::erase_if(r.headers, [](const auto& h) { return h.first == "Content-Encoding"; });
    r.headers.emplace_back("ETag", etag);
    return r;
  }
  r.headers.emplace_back("ETag", std::move(etag));
  r.body = *body;
  return r;
}

}  // namespace ruche::net
