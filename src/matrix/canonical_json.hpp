#pragma once
// Canonical JSON, event hashes and the redaction algorithm of the Matrix spec ("Appendices:
// Canonical JSON", "Signing events", room versions 10 and 11). Events are stored and their IDs
// computed from these, so that federation can verify them later.
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/json.hpp"

namespace ruche::matrix {

namespace json = core::json;

// Largest integer canonical JSON allows: 2^53 - 1 (and its negation).
inline constexpr int64_t kMaxCanonicalInt = (int64_t{1} << 53) - 1;
// The spec's limit on a whole event's canonical form.
inline constexpr size_t kMaxEventBytes = 65'536;

// Canonical JSON: object keys sorted by code point, no insignificant white space, strings with
// only the required escapes, UTF-8 as is. Floats and integers outside ±(2^53 − 1) are
// M_BAD_JSON (room versions ≥ 6 forbid them). Depth is bounded by the parser (core::json).
Result<std::string> CanonicalJson(const json::value& value);

// The event with only what the redaction algorithm of `room_version` keeps ("10" or "11").
// Unknown versions are M_UNSUPPORTED_ROOM_VERSION.
Result<json::object> Redact(const json::object& event, std::string_view room_version);

// SHA-256 content hash (spec "Calculating the content hash"): over the canonical event without
// `unsigned`, `signatures` and `hashes`; unpadded standard base64.
Result<std::string> ContentHash(const json::object& event);

// The event ID of room versions 4+ ("$" + unpadded URL-safe base64 of the reference hash: the
// redacted event without `signatures` and `unsigned`, canonical, SHA-256).
Result<std::string> EventIdFor(const json::object& event, std::string_view room_version);

}  // namespace ruche::matrix
