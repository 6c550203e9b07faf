#pragma once
// The account's devices (list, rename, delete) and password change. Deleting devices and
// changing the password re-check the password through user-interactive auth (one stage,
// m.login.password), so a stolen access token alone cannot sign the owner out or lock them out.
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/json.hpp"
#include "matrix/client_api.hpp"
#include "net/rate_limiter.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class DeviceRoutes {
 public:
  DeviceRoutes(net::Router& router, MatrixDeps deps);

 private:
  boost::asio::awaitable<net::Response> ListDevices(net::Request& req);
  boost::asio::awaitable<net::Response> GetDevice(net::Request& req);
  boost::asio::awaitable<net::Response> RenameDevice(net::Request& req);
  boost::asio::awaitable<net::Response> DeleteDevices(net::Request& req, bool many);
  boost::asio::awaitable<net::Response> ChangePassword(net::Request& req);

  // Checks the request's `auth` (m.login.password for the session's own user) for `operation`.
  // Returns nullopt when it passed; otherwise the 401 answer to send (the challenge, or an
  // error with the challenge).
  boost::asio::awaitable<std::optional<net::Response>> CheckPassword(const core::json::object& body,
                                                                     const std::string& localpart,
                                                                     const std::string& operation);
  net::Response Challenge(const std::string& session_id, const core::Error* error);
  std::string NewSession(const std::string& localpart, const std::string& operation);

  struct UiaSession {
    std::string localpart;
    std::string operation;  // a session answers one kind of request only
    int64_t created_ms = 0;
  };

  MatrixDeps deps_;
  net::RateLimiter failures_per_user_;
  std::mutex mu_;
  std::unordered_map<std::string, UiaSession> sessions_;  // GUARDED_BY(mu_)
};

}  // namespace ruche::matrix
