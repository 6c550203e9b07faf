#pragma once
// App passwords: long random passwords a user creates for one client (a CalDAV calendar app, a
// WebDAV mount) and can revoke alone, so the account password never has to be typed into them.
// Only their SHA-256 is stored: they are 144-bit random strings, so a fast hash is enough (unlike
// account passwords, which people choose and which get argon2id).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/store.hpp"

namespace ruche::auth {

inline constexpr size_t kMaxAppPasswordsPerUser = 50;
inline constexpr size_t kMaxAppPasswordNameLength = 100;

struct AppPassword {
  std::string id;
  std::string name;
  int64_t created_ts = 0;
  int64_t last_used_ts = 0;
};

// A new app password: `password` is shown to the user once.
struct IssuedAppPassword {
  AppPassword info;
  std::string password;
};

class AppPasswords {
 public:
  explicit AppPasswords(store::Store& store) : store_(store) {}

  Result<std::vector<AppPassword>> List(const std::string& localpart);
  // The app password of `localpart` that `password` is, if any.
  Result<std::optional<AppPassword>> Match(const std::string& localpart, std::string_view password);

  // M_INVALID_PARAM for an empty or too long name.
  static Result<IssuedAppPassword> Issue(std::string name);
  // M_RESOURCE_LIMIT_EXCEEDED beyond kMaxAppPasswordsPerUser.
  static store::WriteFn Create(std::string localpart, IssuedAppPassword issued);
  // M_NOT_FOUND when the user has no app password of that id.
  static store::WriteFn Revoke(std::string localpart, std::string id);
  static store::WriteFn Touch(std::string id, int64_t now_ms);

 private:
  store::Store& store_;
};

}  // namespace ruche::auth
