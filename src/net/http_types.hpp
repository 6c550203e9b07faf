#pragma once
// Request and Response as handlers see them. Deliberately free of Beast: only http_server.cpp
// knows the wire types, so the many files that write handlers compile quickly.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"

namespace ruche::net {

class Request {
 public:
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // as received: path + '?' + query
  std::string_view path;    // percent-encoded, without the query
  std::string_view query;   // without '?'
  std::string body;
  std::string remote_ip;
  // Path parameters of the matched route, percent-decoded, in pattern order.
  std::vector<std::pair<std::string_view, std::string>> params;

  // Header lookup is delegated to whatever holds the parsed message (the server), or to
  // `headers` when a request is built by hand (tests, fuzzing).
  const void* native = nullptr;
  std::optional<std::string_view> (*native_header)(const void*, std::string_view) = nullptr;
  std::vector<std::pair<std::string, std::string>> headers;

  std::optional<std::string_view> Header(std::string_view name) const;
  // Path parameter by name; "" when absent.
  std::string_view Param(std::string_view name) const;
  // First query parameter of that name, percent-decoded ('+' is a space).
  std::optional<std::string> QueryParam(std::string_view name) const;
  // The bearer token from Authorization, else the deprecated ?access_token=.
  std::optional<std::string> AccessToken() const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this response

  static Response Json(int status, const core::json::value& body);
  static Response Json(const core::json::value& body) { return Json(200, body); }
  static Response Text(int status, std::string body, std::string content_type = "text/plain");
  static Response FromError(const Error& error);
  Response& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// Percent-decodes `in`; false on a malformed escape. `plus_is_space` for query strings.
bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space = false);

}  // namespace ruche::net
