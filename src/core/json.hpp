#pragma once
// JSON helpers over Boost.JSON: parsing untrusted bodies into clear Matrix errors, and typed
// field access that distinguishes "missing" from "wrong type".
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace ruche::core {

namespace json = boost::json;

// Limits applied to every untrusted JSON document, whatever its size limit in bytes.
inline constexpr size_t kMaxJsonDepth = 64;

// Parses a request body that must be a JSON object. Invalid JSON or invalid UTF-8 ->
// M_NOT_JSON; valid JSON that is not an object -> M_BAD_JSON.
Result<json::object> ParseJsonObject(std::string_view body);
// The same, for endpoints whose body is optional: an empty body is {}.
Result<json::object> ParseJsonObjectOrEmpty(std::string_view body);

// Field accessors: missing -> nullopt; present with the wrong type -> M_BAD_JSON error.
Result<std::optional<std::string_view>> OptString(const json::object& obj, std::string_view key);
Result<std::string_view> RequireString(const json::object& obj, std::string_view key);
Result<std::optional<bool>> OptBool(const json::object& obj, std::string_view key);
Result<const json::object*> OptObject(const json::object& obj, std::string_view key);

// {"errcode": ..., "error": ...[, "retry_after_ms": ...]}
std::string ErrorBody(const Error& e);

}  // namespace ruche::core
