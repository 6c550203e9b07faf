#include "net/response_writer.hpp"

#include <strings.h>

#include <ctime>

namespace ruche::net {
namespace {

std::string_view Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

// RFC 9110 §5.6.7 IMF-fixdate, formatted at most once per second per thread.
std::string_view HttpDate() {
  thread_local std::time_t cached_second = 0;
  thread_local char buf[32];
  thread_local size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {buf, len};
}

bool Has(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) {
      return true;
    }
  }
  return false;
}

bool Safe(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

void Field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

void AppendResponseHead(std::string& out, const Response& resp, const HeadOptions& o) {
  out.append(o.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(resp.status)).append(" ").append(Reason(resp.status)).append("\r\n");
  Field(out, "Date", HttpDate());
  if (Safe(resp.content_type)) {
    Field(out, "Content-Type", resp.content_type);
  }
  for (const auto& [k, v] : resp.headers) {
    if (Safe(k) && Safe(v) && !k.empty()) {
      Field(out, k, v);
    }
  }
  if (o.cors) {
    Field(out, "Access-Control-Allow-Origin", "*");
    Field(out, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
    Field(out, "Access-Control-Allow-Headers",
          "X-Requested-With, Content-Type, Authorization, Date");
  }
  if (resp.content_type.starts_with("application/json") && !Has(resp, "Cache-Control")) {
    Field(out, "Cache-Control", "no-store");
  }
  if (!Has(resp, "Content-Security-Policy")) {
    Field(out, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  }
  if (!Has(resp, "Referrer-Policy")) {
    Field(out, "Referrer-Policy", "no-referrer");
  }
  Field(out, "X-Content-Type-Options", "nosniff");
  if (o.has_body) {
    Field(out, "Content-Length", std::to_string(resp.body.size()));
  }
  if (!o.keep_alive) {
    Field(out, "Connection", "close");
  } else if (o.version == 10) {
    Field(out, "Connection", "keep-alive");
  }
  out.append("\r\n");
}

}  // namespace ruche::net
