#pragma once
// Accounts, devices and access tokens. Reads run inline on a read connection (short queries);
// every change is a store::WriteFn that the caller commits (awaiting it from a handler, or
// WriteSync from the CLI), so auth/ stays free of any I/O framework.
//
// Tokens are 256-bit random strings given to the client once; only their SHA-256 is stored.
// Passwords are argon2id hashes (libsodium); hashing is slow on purpose, so callers run
// HashPassword/VerifyPassword off the I/O threads.
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/config.hpp"
#include "core/error.hpp"
#include "store/store.hpp"

namespace ruche::auth {

// Who is behind an access token.
struct Session {
  std::string localpart;
  std::string user_id;  // @localpart:server_name
  std::string device_id;
  bool is_admin = false;
};

struct UserRecord {
  std::string localpart;
  std::string password_hash;
  bool is_admin = false;
  bool deactivated = false;
};

// A new access token: `token` goes to the client, `token_hash` to the store.
struct IssuedToken {
  std::string token;
  std::string token_hash;
};

inline constexpr size_t kMaxUserIdLength = 255;    // Matrix spec: whole user ID
inline constexpr size_t kMaxPasswordLength = 512;  // bytes; argon2 input bound
inline constexpr size_t kMinPasswordLength = 8;    // characters
inline constexpr size_t kMaxDeviceIdLength = 64;
inline constexpr size_t kMaxDisplayNameLength = 256;

class Accounts {
 public:
  Accounts(store::Store& store, std::string server_name);

  const std::string& server_name() const { return server_name_; }
  std::string UserId(std::string_view localpart) const;

  // Matrix user ID grammar (spec "User Identifiers"): localpart of [a-z0-9._=/+-], the whole
  // ID at most 255 bytes. Error M_INVALID_USERNAME.
  Result<void> ValidateLocalpart(std::string_view localpart) const;
  // "alice", "Alice" or "@alice:this.server" -> "alice" (lower-cased, as login is
  // case-insensitive). A user ID of another server -> M_FORBIDDEN-free clear error.
  Result<std::string> LocalpartFrom(std::string_view user) const;
  static Result<void> ValidatePassword(std::string_view password);

  Result<std::optional<UserRecord>> FindUser(std::string_view localpart);
  Result<bool> HasAnyUser();
  // The session behind `token`, or M_UNKNOWN_TOKEN. Answers from memory after the first use
  // (every request authenticates; a /sync fanout would otherwise read the token table 1,000
  // times per message).
  Result<Session> Authenticate(std::string_view token);
  // Makes every cached session invalid. The writes below that end tokens call it inside the
  // write; call it again once such a write has committed, so that no request that read the token
  // table just before the commit can have cached the ended token.
  void ForgetCachedSessions();

  static IssuedToken NewToken();
  static std::string NewDeviceId();

  // --- Writes (commit with Store::Write / WriteSync) ---
  // Inserts the user; M_USER_IN_USE if the name is taken.
  store::WriteFn CreateUser(std::string localpart, std::string password_hash, bool is_admin);
  // Creates (or reuses) the device and stores the token for it.
  store::WriteFn CreateSession(std::string localpart, std::string device_id,
                               std::string display_name, std::string token_hash,
                               std::string remote_ip);
  store::WriteFn SetPasswordHash(std::string localpart, std::string password_hash);
  // Ends the device: its tokens and the device row.
  store::WriteFn DeleteDevice(std::string localpart, std::string device_id);
  // Ends every device and token of the user.
  store::WriteFn DeleteAllDevices(std::string localpart);

  // Registration tokens (registration = token).
  store::WriteFn CreateRegistrationToken(std::string token, std::optional<int64_t> uses_allowed,
                                         std::optional<int64_t> expiry_ms);
  Result<bool> RegistrationTokenValid(std::string_view token);
  // Counts one use; M_FORBIDDEN if the token is unknown, expired or used up (checked again
  // inside the write, so two registrations cannot both take a token's last use).
  store::WriteFn ConsumeRegistrationToken(std::string token);

  // Synchronous convenience for the CLI and first-run bootstrap: validates, hashes, commits.
  Result<void> CreateUserNow(std::string_view localpart, std::string_view password, bool is_admin,
                             const core::PasswordHashCost& cost = {});

 private:
  struct CachedSession {
    Session session;
    uint64_t generation = 0;
  };
  store::Store& store_;
  std::string server_name_;
  std::atomic<uint64_t> generation_{0};  // a cached entry is valid only for its generation
  std::mutex cache_mu_;
  std::unordered_map<std::string, CachedSession> cache_;  // GUARDED_BY(cache_mu_), by token hash
};

}  // namespace ruche::auth
