#include "matrix/canonical_json.hpp"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <vector>

namespace ruche::matrix {
namespace {

void AppendString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

Result<void> Append(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      return {};
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return {};
    case json::kind::int64: {
      int64_t i = v.get_int64();
      if (i > kMaxCanonicalInt || i < -kMaxCanonicalInt) {
        return Error::BadRequest("Integer out of the canonical JSON range");
      }
      out += std::to_string(i);
      return {};
    }
    case json::kind::uint64: {
      uint64_t u = v.get_uint64();
      if (u > static_cast<uint64_t>(kMaxCanonicalInt)) {
        return Error::BadRequest("Integer out of the canonical JSON range");
      }
      out += std::to_string(u);
      return {};
    }
    case json::kind::double_: {
      // Integral values written with an exponent or a sign (1e10, -0) are integers; anything
      // with a fraction is a float, which room versions >= 6 forbid.
      double d = v.get_double();
      if (d != std::trunc(d) || d > static_cast<double>(kMaxCanonicalInt) ||
          d < -static_cast<double>(kMaxCanonicalInt)) {
        return Error::BadRequest("Floating-point numbers are not allowed in events");
      }
      out += std::to_string(static_cast<int64_t>(d));
      return {};
    }
    case json::kind::string:
      AppendString(out, v.get_string());
      return {};
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) {
          out.push_back(',');
        }
        first = false;
        if (auto r = Append(out, item); !r) {
          return r;
        }
      }
      out.push_back(']');
      return {};
    }
    case json::kind::object: {
      const auto& obj = v.get_object();
      // Code point order equals UTF-8 byte order, so a bytewise sort is the spec's order.
      std::vector<const json::key_value_pair*> members;
      members.reserve(obj.size());
      for (const auto& kv : obj) {
        members.push_back(&kv);
      }
      std::sort(members.begin(), members.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
      out.push_back('{');
      bool first = true;
      for (const auto* kv : members) {
        if (!first) {
          out.push_back(',');
        }
        first = false;
        AppendString(out, kv->key());
        out.push_back(':');
        if (auto r = Append(out, kv->value()); !r) {
          return r;
        }
      }
      out.push_back('}');
      return {};
    }
  }
  return Error::BadRequest("Unknown JSON value");
}

std::string Base64(const unsigned char* data, size_t size, int variant) {
  std::string out(sodium_base64_ENCODED_LEN(size, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, variant);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

void KeepOnly(json::object& obj, std::initializer_list<std::string_view> keys) {
  std::vector<std::string> drop;
  for (const auto& kv : obj) {
    if (std::find(keys.begin(), keys.end(), std::string_view(kv.key())) == keys.end()) {
      drop.emplace_back(kv.key());
    }
  }
  for (const auto& k : drop) {
    obj.erase(k);
  }
}

}  // namespace

Result<std::string> CanonicalJson(const json::value& value) {
  std::string out;
  if (auto r = Append(out, value); !r) {
    return r.error();
  }
  return out;
}

Result<json::object> Redact(const json::object& event, std::string_view room_version) {
  bool v11 = room_version == "11";
  if (!v11 && room_version != "10") {
    return Error::BadRequest("Unsupported room version", "M_UNSUPPORTED_ROOM_VERSION");
  }
  json::object out = event;
  if (v11) {
    KeepOnly(out, {"event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
                   "signatures", "depth", "prev_events", "auth_events", "origin_server_ts"});
  } else {
    KeepOnly(out, {"event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
                   "signatures", "depth", "prev_events", "prev_state", "auth_events", "origin",
                   "origin_server_ts", "membership"});
  }
  std::string type;
  if (auto it = out.find("type"); it != out.end() && it->value().is_string()) {
    type = std::string(it->value().get_string());
  }
  auto content_it = out.find("content");
  if (content_it == out.end() || !content_it->value().is_object()) {
    out["content"] = json::object{};
    return out;
  }
  json::object& content = content_it->value().get_object();
  if (type == "m.room.member") {
    json::value signed_invite;
    if (v11) {
      if (auto tpi = content.find("third_party_invite");
          tpi != content.end() && tpi->value().is_object()) {
        if (auto s = tpi->value().get_object().find("signed");
            s != tpi->value().get_object().end()) {
          signed_invite = s->value();
        }
      }
    }
    KeepOnly(content, {"membership", "join_authorised_via_users_server"});
    if (!signed_invite.is_null()) {
      content["third_party_invite"] = json::object{{"signed", signed_invite}};
    }
  } else if (type == "m.room.create") {
    if (!v11) {
      KeepOnly(content, {"creator"});  // v11 keeps the whole create content
    }
  } else if (type == "m.room.join_rules") {
    KeepOnly(content, {"join_rule", "allow"});
  } else if (type == "m.room.power_levels") {
    if (v11) {
      KeepOnly(content, {"ban", "events", "events_default", "invite", "kick", "redact",
                         "state_default", "users", "users_default"});
    } else {
      KeepOnly(content, {"ban", "events", "events_default", "kick", "redact", "state_default",
                         "users", "users_default"});
    }
  } else if (type == "m.room.history_visibility") {
    KeepOnly(content, {"history_visibility"});
  } else if (type == "m.room.redaction" && v11) {
    KeepOnly(content, {"redacts"});
  } else {
    content.clear();
  }
  return out;
}

Result<std::string> ContentHash(const json::object& event) {
  json::object copy = event;
  copy.erase("unsigned");
  copy.erase("signatures");
  copy.erase("hashes");
  auto canonical = CanonicalJson(copy);
  if (!canonical) {
    return canonical.error();
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(canonical->data()),
                     canonical->size());
  return Base64(digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

Result<std::string> EventIdFor(const json::object& event, std::string_view room_version) {
  auto redacted = Redact(event, room_version);
  if (!redacted) {
    return redacted.error();
  }
  redacted->erase("signatures");
  redacted->erase("unsigned");
  auto canonical = CanonicalJson(*redacted);
  if (!canonical) {
    return canonical.error();
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(canonical->data()),
                     canonical->size());
  return "$" + Base64(digest, sizeof digest, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

}  // namespace ruche::matrix
