#include "core/json.hpp"

namespace ruche::core {

Result<json::object> ParseJsonObject(std::string_view body) {
  json::parse_options opts;
  opts.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, opts);
  if (ec) {
    return Error::NotJson("Content not JSON: " + ec.message());
  }
  if (!v.is_object()) {
    return Error::BadRequest("Content must be a JSON object");
  }
  return std::move(v.as_object());
}

Result<json::object> ParseJsonObjectOrEmpty(std::string_view body) {
  if (body.empty()) {
    return json::object{};
  }
  return ParseJsonObject(body);
}

Result<std::optional<std::string_view>> OptString(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) {
    return std::optional<std::string_view>{};
  }
  if (!it->value().is_string()) {
    return Error::BadRequest("'" + std::string(key) + "' must be a string");
  }
  const auto& s = it->value().get_string();
  return std::optional<std::string_view>(std::string_view(s.data(), s.size()));
}

Result<std::string_view> RequireString(const json::object& obj, std::string_view key) {
  auto r = OptString(obj, key);
  if (!r) {
    return r.error();
  }
  if (!*r) {
    return Error::BadRequest("'" + std::string(key) + "' is required");
  }
  return **r;
}

Result<std::optional<bool>> OptBool(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) {
    return std::optional<bool>{};
  }
  if (!it->value().is_bool()) {
    return Error::BadRequest("'" + std::string(key) + "' must be a boolean");
  }
  return std::optional<bool>(it->value().get_bool());
}

Result<const json::object*> OptObject(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) {
    return static_cast<const json::object*>(nullptr);
  }
  if (!it->value().is_object()) {
    return Error::BadRequest("'" + std::string(key) + "' must be an object");
  }
  return &it->value().get_object();
}

std::string ErrorBody(const Error& e) {
  json::object o;
  o["errcode"] = e.errcode;
  o["error"] = e.message;
  if (e.retry_after_ms > 0) {
    o["retry_after_ms"] = e.retry_after_ms;
  }
  if (e.errcode == "M_UNKNOWN_TOKEN") {
    o["soft_logout"] = false;
  }
  for (const auto& [name, value] : e.extra_fields) {
    o[name] = value;
  }
  return json::serialize(o);
}

}  // namespace ruche::core
