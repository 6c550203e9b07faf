#pragma once
// HTTP Basic authentication (RFC 7617) for DAV clients, which cannot do Matrix logins: the user
// name ("alice" or "@alice:server") with the account password or an app password.
//
// An account password is checked with argon2id once (on the blocking pool, tens of ms), then
// remembered for a few minutes by the SHA-256 of (user, password) together with the password
// hash it matched: a changed password or a deactivated account stops the remembered entry at
// once. Failed attempts are rationed per user like Matrix logins.
#include <boost/asio/awaitable.hpp>
#include <mutex>
#include <string>
#include <unordered_map>

#include "auth/accounts.hpp"
#include "auth/app_passwords.hpp"
#include "core/config.hpp"
#include "net/http_types.hpp"
#include "net/rate_limiter.hpp"
#include "store/store.hpp"

namespace boost::asio {
class thread_pool;
}

namespace ruche::cal {

struct BasicUser {
  std::string localpart;
};

class BasicAuthenticator {
 public:
  BasicAuthenticator(const core::Config& config, store::Store& store, auth::Accounts& accounts,
                     boost::asio::thread_pool& blocking);

  // 401 (errcode M_MISSING_TOKEN when no credentials were sent, M_FORBIDDEN when they are wrong)
  // or 429 when too many attempts failed.
  boost::asio::awaitable<Result<BasicUser>> Authenticate(const net::Request& request);

 private:
  struct Remembered {
    std::string localpart;
    std::string password_hash;
    int64_t expires_ms = 0;
  };
  std::optional<BasicUser> FromMemory(const std::string& key, const std::string& localpart);
  void Remember(const std::string& key, Remembered entry);

  store::Store& store_;
  auth::Accounts& accounts_;
  auth::AppPasswords app_passwords_;
  boost::asio::thread_pool& blocking_;
  net::RateLimiter failures_;
  std::mutex mu_;
  std::unordered_map<std::string, Remembered> remembered_;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, int64_t> touched_;        // GUARDED_BY(mu_): app password id
};

}  // namespace ruche::cal
