#pragma once
// Ruche's configuration: defaults, overridden by a TOML file, then by RUCHE_* environment
// variables, then by command-line flags (`--set key=value` reaches every key). One table of keys
// (config.cpp) drives all four sources, so a key cannot exist in one and be missing in another.
#include <cstdint>
#include <string>
#include <vector>

#include "core/crypto.hpp"
#include "core/error.hpp"

namespace ruche::core {

enum class RegistrationMode { kOpen, kToken, kClosed };

struct HttpConfig {
  int64_t header_limit_bytes = 16 * 1024;
  int64_t body_limit_bytes = 1024 * 1024;             // JSON API routes
  int64_t media_body_limit_bytes = 50 * 1024 * 1024;  // unused: see media.max_upload_bytes
  int64_t header_timeout_ms = 10'000;                 // whole header block must arrive within this
  int64_t body_timeout_ms = 60'000;
  int64_t idle_timeout_ms = 75'000;  // kept-alive connection waiting for its next request
  int64_t max_connections = 10'000;
  int64_t shutdown_grace_ms = 10'000;
};

struct LimitsConfig {
  // The most events an incremental /sync reads in one go; a longer absence gets each room's
  // newest events instead, with limited timelines to paginate back from.
  int64_t sync_window_events = 10'000;
  // An incremental /sync in which only room events and typing changed is put together from
  // bytes every member's sync shares (matrix/sync_routes.hpp, the quiet path). False takes the
  // general path for every sync: the tests compare the two.
  bool sync_quiet_path = true;
  double login_per_ip_per_second = 0.5;
  int64_t login_per_ip_burst = 10;
  double login_failures_per_user_per_second = 0.1;
  int64_t login_failures_per_user_burst = 5;
  double register_per_ip_per_second = 0.2;
  int64_t register_per_ip_burst = 5;
  // sendToDevice requests per user, and undelivered to-device messages one device may hold
  // (a flood toward a device that never syncs is refused, not stored without end).
  double to_device_per_user_per_second = 10.0;
  int64_t to_device_per_user_burst = 100;
  int64_t to_device_pending_per_device = 1'000;
  // Meetings: creations per user, people in one meeting, signalling messages per connection.
  double meetings_per_user_per_second = 0.2;
  int64_t meetings_per_user_burst = 20;
  int64_t meeting_participants = 100;
  double signalling_per_connection_per_second = 20.0;
  int64_t signalling_per_connection_burst = 60;
  // Public booking pages: bookings made per visitor IP.
  double bookings_per_ip_per_second = 0.1;
  int64_t bookings_per_ip_burst = 10;
  // Room events (send, state, redact) per user, and into one room from all its members: a
  // script or a compromised account cannot flood a room nor the store. Far above a person's
  // pace; a bot that needs more gets its own settings.
  double send_per_user_per_second = 10.0;
  int64_t send_per_user_burst = 100;
  double send_per_room_per_second = 50.0;
  int64_t send_per_room_burst = 500;
};

// argon2id cost of new password hashes; defaults are libsodium's INTERACTIVE limits. Lower
// only for load tests (bench/fanout.sh); bounded below by libsodium's minimums.
struct AuthConfig {
  int64_t password_hash_ops = 2;              // [1, 16]
  int64_t password_hash_mem_kib = 64 * 1024;  // [8, 1 GiB]
};

struct MediaConfig {
  int64_t max_upload_bytes = 50 * 1024 * 1024;
  int64_t max_image_pixels = 50'000'000;  // larger images get no thumbnail (never decoded)
  double uploads_per_user_per_second = 1.0;
  int64_t uploads_per_user_burst = 30;
  // Bytes one user may upload in any 24 hours (0 = no quota). Past it: 429 M_LIMIT_EXCEEDED
  // with retry_after_ms = when enough of the window's uploads have aged out.
  int64_t upload_bytes_per_user_per_day = 4LL * 1024 * 1024 * 1024;
};

struct StoreConfig {
  int64_t read_connections = 0;    // 0 = one per I/O thread + 1
  int64_t max_batch_writes = 512;  // group commit: most writes in one transaction
};

struct SearchConfig {
  // A redacted message's words leave the search index's file within this delay (and at every
  // clean stop): merging the index costs in proportion to its size, so it is batched.
  int64_t purge_delay_ms = 60'000;
};

struct PresenceConfig {
  bool enabled = true;
  int64_t idle_after_ms = 5 * 60'000;  // online -> unavailable without activity
  int64_t offline_after_ms = 30'000;   // -> offline once no /sync has been open for this long
  // How often a connected user's calendars are looked at: busy during an event (shown as
  // "org.ruche.availability": "busy") unless the user set a state themselves.
  int64_t calendar_check_ms = 60'000;
};

// Outgoing e-mail (src/mail): invitations and booking confirmations go through this relay.
// No smtp_host: messages stay queued in the store until one is configured.
struct MailConfig {
  std::string smtp_host;
  int64_t smtp_port = 25;
  std::string smtp_username;
  std::string smtp_password;
  std::string tls = "starttls";  // starttls (when offered), required, none
  bool tls_verify = true;        // check the relay's certificate and name
  std::string from;              // envelope and From address; empty = noreply@<server_name>
  std::string from_name = "Ruche";
};

struct Config {
  std::string listen = "127.0.0.1:8008";
  std::string data_dir = "var";
  std::string server_name = "localhost";
  std::string public_base_url;  // e.g. https://chat.example.org; empty = from the Host header
  RegistrationMode registration = RegistrationMode::kClosed;
  std::string web_root;  // built web client; empty = auto-detect next to the binary
  std::string log_level = "info";
  int64_t io_threads = 0;  // 0 = one per core
  int64_t rtc_udp_port = 8009;
  std::string public_ip;
  int64_t rtc_workers = 0;  // SFU worker threads; 0 = one per core
  // Tests only: the share of media packets the SFU drops, to exercise NACK recovery.
  double rtc_test_loss_percent = 0;
  // Tests only: each subscriber connection's media policed to this many kbit/s (0: none).
  int64_t rtc_test_subscriber_kbps = 0;
  int64_t rtc_max_incoming_bitrate = 3'000'000;  // told to publishers (REMB), per video track
  // UDP GSO for media sent to subscribers (rtc/send_batch.hpp); off only to compare, or for a
  // network path that mishandles it (Ruche falls back by itself on EIO).
  bool rtc_gso = true;
  // ICE-TCP (RFC 6544): also offer a passive TCP candidate on the media port number, for
  // networks that block UDP.
  bool rtc_tcp = true;
  bool bootstrap_admin = true;
  HttpConfig http;
  LimitsConfig limits;
  AuthConfig auth;
  StoreConfig store;
  PresenceConfig presence;
  SearchConfig search;
  MediaConfig media;
  MailConfig mail;
};

// Applies one `key=value` (dotted key as in the TOML file, e.g. http.header_timeout_ms).
Result<void> SetConfigValue(Config& config, std::string_view key, std::string_view value);

// Reads a TOML file into `config` (keys not in the file keep their value).
Result<void> LoadConfigFile(Config& config, const std::string& path);

// Applies RUCHE_<KEY> environment variables (dots become underscores, upper case:
// RUCHE_SERVER_NAME, RUCHE_HTTP_HEADER_TIMEOUT_MS).
Result<void> LoadConfigEnv(Config& config);

// Every key with its current value, for `ruche config` and the docs.
std::vector<std::pair<std::string, std::string>> DescribeConfig(const Config& config);

std::string_view RegistrationModeName(RegistrationMode mode);

// The argon2id cost of new password hashes, from auth.password_hash_*.
inline PasswordHashCost PasswordHashCostOf(const Config& config) {
  return {static_cast<uint64_t>(config.auth.password_hash_ops),
          static_cast<size_t>(config.auth.password_hash_mem_kib) * 1024};
}

}  // namespace ruche::core
