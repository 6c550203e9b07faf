#include "net/http_types.hpp"

#include <strings.h>

namespace ruche::net {

std::optional<std::string_view> Request::Header(std::string_view name) const {
  if (native_header != nullptr) {
    return native_header(native, name);
  }
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) {
      return v;
    }
  }
  return std::nullopt;
}

std::string_view Request::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) {
      return v;
    }
  }
  return {};
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string key;
    if (!PercentDecode(pair.substr(0, eq), key, true) || key != name) {
      continue;
    }
    std::string value;
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), value, true)) {
      return std::nullopt;
    }
    return value;
  }
  return std::nullopt;
}

std::optional<std::string> Request::AccessToken() const {
  if (auto auth = Header("Authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth->size() > kBearer.size() &&
        strncasecmp(auth->data(), kBearer.data(), kBearer.size()) == 0) {
      return std::string(auth->substr(kBearer.size()));
    }
    return std::nullopt;
  }
  return QueryParam("access_token");
}

Response Response::Json(int status, const core::json::value& body) {
  Response r;
  r.status = status;
  r.body = core::json::serialize(body);
  return r;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::FromError(const Error& error) {
  Response r;
  r.status = error.http_status;
  r.body = core::ErrorBody(error);
  if (error.retry_after_ms > 0) {
    r.headers.emplace_back("Retry-After", std::to_string((error.retry_after_ms + 999) / 1000));
  }
  return r;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}
}  // namespace

bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return false;  // needs two hex digits after '%'
      }
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return false;
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

}  // namespace ruche::net
