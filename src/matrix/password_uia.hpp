#pragma once
// User-interactive authentication with one stage, m.login.password (spec "User-Interactive
// Authentication API"): endpoints that can lock a user out or take over their account (delete
// devices, change the password, replace cross-signing keys) re-check the password, so a stolen
// access token alone is not enough. Failures share the per-user limit of logins.
#include <boost/asio/awaitable.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/json.hpp"
#include "matrix/client_api.hpp"
#include "net/rate_limiter.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class PasswordUia {
 public:
  explicit PasswordUia(MatrixDeps deps);

  // Checks the request's `auth` (m.login.password for the session's own user) for `operation`
  // (a session answers one kind of request, once). Returns nullopt when it passed; otherwise
  // the 401 answer to send (the challenge, or an error with the challenge).
  boost::asio::awaitable<std::optional<net::Response>> Check(const core::json::object& body,
                                                             const std::string& localpart,
                                                             const std::string& operation);

 private:
  net::Response Challenge(const std::string& session_id, const core::Error* error);
  std::string NewSession(const std::string& localpart, const std::string& operation);

  struct UiaSession {
    std::string localpart;
    std::string operation;
    int64_t created_ms = 0;
  };

  MatrixDeps deps_;
  net::RateLimiter failures_per_user_;
  std::mutex mu_;
  std::unordered_map<std::string, UiaSession> sessions_;  // GUARDED_BY(mu_)
};

}  // namespace ruche::matrix
