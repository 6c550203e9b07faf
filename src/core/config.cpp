#include "core/config.hpp"

#include <toml++/toml.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <functional>

namespace ruche::core {
namespace {

// How one key reads and writes its field, from text.
struct KeyDef {
  const char* key;
  std::function<Result<void>(Config&, std::string_view)> set;
  std::function<std::string(const Config&)> get;
};

Result<void> ParseInt(std::string_view key, std::string_view text, int64_t& out) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < 0) {
    return Error::BadRequest(std::string(key) + ": expected a non-negative integer, got '" +
                             std::string(text) + "'");
  }
  out = v;
  return {};
}

Result<void> ParseDouble(std::string_view key, std::string_view text, double& out) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || v < 0) {
    return Error::BadRequest(std::string(key) + ": expected a non-negative number, got '" + s +
                             "'");
  }
  out = v;
  return {};
}

Result<void> ParseBool(std::string_view key, std::string_view text, bool& out) {
  if (text == "true" || text == "1" || text == "yes") {
    out = true;
  } else if (text == "false" || text == "0" || text == "no") {
    out = false;
  } else {
    return Error::BadRequest(std::string(key) + ": expected true or false");
  }
  return {};
}

#define RUCHE_STR(name, field)                              \
  KeyDef {                                                  \
    name,                                                   \
        [](Config& c, std::string_view v) -> Result<void> { \
          c.field = std::string(v);                         \
          return {};                                        \
        },                                                  \
        [](const Config& c) { return c.field; }             \
  }
#define RUCHE_INT(name, field)                                                      \
  KeyDef {                                                                          \
    name, [](Config& c, std::string_view v) { return ParseInt(name, v, c.field); }, \
        [](const Config& c) { return std::to_string(c.field); }                     \
  }
#define RUCHE_DBL(name, field)                                                         \
  KeyDef {                                                                             \
    name, [](Config& c, std::string_view v) { return ParseDouble(name, v, c.field); }, \
        [](const Config& c) { return std::to_string(c.field); }                        \
  }
#define RUCHE_BOOL(name, field)                                                      \
  KeyDef {                                                                           \
    name, [](Config& c, std::string_view v) { return ParseBool(name, v, c.field); }, \
        [](const Config& c) { return std::string(c.field ? "true" : "false"); }      \
  }

// An integer key with bounds, for values where "non-negative" is not enough.
#define RUCHE_INT_RANGE(name, field, lo, hi)                                                  \
  KeyDef {                                                                                    \
    name,                                                                                     \
        [](Config& c, std::string_view v) -> Result<void> {                                   \
          int64_t parsed = 0;                                                                 \
          if (auto r = ParseInt(name, v, parsed); !r) {                                       \
            return r;                                                                         \
          }                                                                                   \
          if (parsed < (lo) || parsed > (hi)) {                                               \
            return Error::BadRequest(std::string(name) + ": expected " + std::to_string(lo) + \
                                     ".." + std::to_string(hi));                              \
          }                                                                                   \
          c.field = parsed;                                                                   \
          return {};                                                                          \
        },                                                                                    \
        [](const Config& c) { return std::to_string(c.field); }                               \
  }

const std::vector<KeyDef>& Keys() {
  static const std::vector<KeyDef> keys = {
      RUCHE_STR("listen", listen),
      RUCHE_STR("data", data_dir),
      RUCHE_STR("server_name", server_name),
      RUCHE_STR("public_base_url", public_base_url),
      KeyDef{"registration",
             [](Config& c, std::string_view v) -> Result<void> {
               if (v == "open") {
                 c.registration = RegistrationMode::kOpen;
               } else if (v == "token") {
                 c.registration = RegistrationMode::kToken;
               } else if (v == "closed") {
                 c.registration = RegistrationMode::kClosed;
               } else {
                 return Error::BadRequest("registration: expected open, token or closed");
               }
               return {};
             },
             [](const Config& c) { return std::string(RegistrationModeName(c.registration)); }},
      RUCHE_STR("web_root", web_root),
      RUCHE_STR("log_level", log_level),
      RUCHE_INT("io_threads", io_threads),
      RUCHE_INT_RANGE("rtc_udp_port", rtc_udp_port, 0, 65535),
      RUCHE_STR("public_ip", public_ip),
      RUCHE_INT_RANGE("rtc_workers", rtc_workers, 0, 256),
      RUCHE_DBL("rtc_test_loss_percent", rtc_test_loss_percent),
      RUCHE_INT_RANGE("rtc_test_subscriber_kbps", rtc_test_subscriber_kbps, 0, 1'000'000),
      RUCHE_INT_RANGE("rtc_max_incoming_bitrate", rtc_max_incoming_bitrate, 100'000, 100'000'000),
      RUCHE_BOOL("bootstrap_admin", bootstrap_admin),
      RUCHE_BOOL("rtc_gso", rtc_gso),
      RUCHE_BOOL("rtc_tcp", rtc_tcp),
      RUCHE_INT("http.header_limit_bytes", http.header_limit_bytes),
      RUCHE_INT("http.body_limit_bytes", http.body_limit_bytes),
      RUCHE_INT("http.media_body_limit_bytes", http.media_body_limit_bytes),
      RUCHE_INT("http.header_timeout_ms", http.header_timeout_ms),
      RUCHE_INT("http.body_timeout_ms", http.body_timeout_ms),
      RUCHE_INT("http.idle_timeout_ms", http.idle_timeout_ms),
      RUCHE_INT("http.max_connections", http.max_connections),
      RUCHE_INT("http.shutdown_grace_ms", http.shutdown_grace_ms),
      RUCHE_DBL("limits.login_per_ip_per_second", limits.login_per_ip_per_second),
      RUCHE_INT("limits.login_per_ip_burst", limits.login_per_ip_burst),
      RUCHE_DBL("limits.login_failures_per_user_per_second",
                limits.login_failures_per_user_per_second),
      RUCHE_INT("limits.login_failures_per_user_burst", limits.login_failures_per_user_burst),
      RUCHE_DBL("limits.register_per_ip_per_second", limits.register_per_ip_per_second),
      RUCHE_INT("limits.register_per_ip_burst", limits.register_per_ip_burst),
      RUCHE_DBL("limits.to_device_per_user_per_second", limits.to_device_per_user_per_second),
      RUCHE_INT("limits.to_device_per_user_burst", limits.to_device_per_user_burst),
      RUCHE_INT_RANGE("limits.to_device_pending_per_device", limits.to_device_pending_per_device, 1,
                      1'000'000),
      RUCHE_DBL("limits.meetings_per_user_per_second", limits.meetings_per_user_per_second),
      RUCHE_INT("limits.meetings_per_user_burst", limits.meetings_per_user_burst),
      RUCHE_INT_RANGE("limits.meeting_participants", limits.meeting_participants, 2, 1'000),
      RUCHE_DBL("limits.signalling_per_connection_per_second",
                limits.signalling_per_connection_per_second),
      RUCHE_INT("limits.signalling_per_connection_burst", limits.signalling_per_connection_burst),
      // libsodium's minimums: crypto_pwhash_OPSLIMIT_MIN = 1, crypto_pwhash_MEMLIMIT_MIN = 8 KiB.
      RUCHE_INT_RANGE("auth.password_hash_ops", auth.password_hash_ops, 1, 16),
      RUCHE_INT_RANGE("auth.password_hash_mem_kib", auth.password_hash_mem_kib, 8, 1024 * 1024),
      RUCHE_INT_RANGE("limits.sync_window_events", limits.sync_window_events, 10, 1'000'000),
      RUCHE_BOOL("limits.sync_quiet_path", limits.sync_quiet_path),
      RUCHE_INT("store.read_connections", store.read_connections),
      RUCHE_INT("store.max_batch_writes", store.max_batch_writes),
      RUCHE_INT("search.purge_delay_ms", search.purge_delay_ms),
      RUCHE_BOOL("presence.enabled", presence.enabled),
      RUCHE_INT("presence.idle_after_ms", presence.idle_after_ms),
      RUCHE_INT("presence.offline_after_ms", presence.offline_after_ms),
      RUCHE_INT_RANGE("presence.calendar_check_ms", presence.calendar_check_ms, 100, 3'600'000),
      RUCHE_INT("media.max_upload_bytes", media.max_upload_bytes),
      RUCHE_INT("media.max_image_pixels", media.max_image_pixels),
      RUCHE_DBL("media.uploads_per_user_per_second", media.uploads_per_user_per_second),
      RUCHE_INT("media.uploads_per_user_burst", media.uploads_per_user_burst),
      RUCHE_STR("mail.smtp_host", mail.smtp_host),
      RUCHE_INT_RANGE("mail.smtp_port", mail.smtp_port, 1, 65535),
      RUCHE_STR("mail.smtp_username", mail.smtp_username),
      KeyDef{
          "mail.smtp_password",
          [](Config& c, std::string_view v) -> Result<void> {
            c.mail.smtp_password = v;
            return {};
          },
          // never printed (`ruche config`, logs)
          [](const Config& c) { return std::string(c.mail.smtp_password.empty() ? "" : "***"); }},
      KeyDef{"mail.tls",
             [](Config& c, std::string_view v) -> Result<void> {
               if (v != "starttls" && v != "required" && v != "none") {
                 return Error::BadRequest("mail.tls: expected starttls, required or none");
               }
               c.mail.tls = v;
               return {};
             },
             [](const Config& c) { return c.mail.tls; }},
      RUCHE_BOOL("mail.tls_verify", mail.tls_verify),
      RUCHE_STR("mail.from", mail.from),
      RUCHE_STR("mail.from_name", mail.from_name),
      RUCHE_DBL("limits.bookings_per_ip_per_second", limits.bookings_per_ip_per_second),
      RUCHE_INT("limits.bookings_per_ip_burst", limits.bookings_per_ip_burst),
      RUCHE_DBL("limits.send_per_user_per_second", limits.send_per_user_per_second),
      RUCHE_INT("limits.send_per_user_burst", limits.send_per_user_burst),
      RUCHE_DBL("limits.send_per_room_per_second", limits.send_per_room_per_second),
      RUCHE_INT("limits.send_per_room_burst", limits.send_per_room_burst),
      RUCHE_INT("media.upload_bytes_per_user_per_day", media.upload_bytes_per_user_per_day),
  };
  return keys;
}

const KeyDef* FindKey(std::string_view key) {
  for (const auto& k : Keys()) {
    if (key == k.key) {
      return &k;
    }
  }
  return nullptr;
}

// Flattens a TOML table into dotted keys with their values as text.
Result<void> ApplyTable(Config& config, const toml::table& table, const std::string& prefix) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      if (auto r = ApplyTable(config, *sub, key); !r) {
        return r;
      }
      continue;
    }
    std::string text;
    if (auto s = node.value<std::string>(); s && node.is_string()) {
      text = *s;
    } else if (node.is_integer()) {
      text = std::to_string(*node.value<int64_t>());
    } else if (node.is_floating_point()) {
      text = std::to_string(*node.value<double>());
    } else if (node.is_boolean()) {
      text = *node.value<bool>() ? "true" : "false";
    } else {
      return Error::BadRequest("config key " + key + ": unsupported value type");
    }
    if (auto r = SetConfigValue(config, key, text); !r) {
      return r;
    }
  }
  return {};
}

}  // namespace

std::string_view RegistrationModeName(RegistrationMode mode) {
  switch (mode) {
    case RegistrationMode::kOpen:
      return "open";
    case RegistrationMode::kToken:
      return "token";
    case RegistrationMode::kClosed:
      return "closed";
  }
  return "closed";
}

Result<void> SetConfigValue(Config& config, std::string_view key, std::string_view value) {
  const KeyDef* def = FindKey(key);
  if (def == nullptr) {
    return Error::BadRequest("unknown config key '" + std::string(key) + "'");
  }
  return def->set(config, value);
}

Result<void> LoadConfigFile(Config& config, const std::string& path) {
  // Debian's toml++ is built with exceptions: a parse error is caught here and becomes a value.
  try {
    toml::table parsed = toml::parse_file(path);
    return ApplyTable(config, parsed, "");
  } catch (const toml::parse_error& err) {
    return Error::BadRequest(path + ":" + std::to_string(err.source().begin.line) + ": " +
                             std::string(err.description()));
  }
}

Result<void> LoadConfigEnv(Config& config) {
  for (const auto& k : Keys()) {
    std::string name = "RUCHE_";
    for (const char* p = k.key; *p; ++p) {
      name += (*p == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
    }
    if (const char* v = std::getenv(name.c_str())) {
      if (auto r = k.set(config, v); !r) {
        return r;
      }
    }
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> DescribeConfig(const Config& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& k : Keys()) {
    out.emplace_back(k.key, k.get(config));
  }
  return out;
}

}  // namespace ruche::core
