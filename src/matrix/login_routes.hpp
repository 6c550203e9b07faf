#pragma once
// Getting in and out: /login, /register (user-interactive auth), /register/available, the
// registration-token validity check, /logout, /logout/all, /account/whoami.
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "matrix/client_api.hpp"
#include "matrix/device_keys.hpp"
#include "net/rate_limiter.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class LoginRoutes {
 public:
  LoginRoutes(net::Router& router, MatrixDeps deps, DeviceKeys& keys);

 private:
  boost::asio::awaitable<net::Response> Login(net::Request& req);
  boost::asio::awaitable<net::Response> Register(net::Request& req);
  boost::asio::awaitable<net::Response> Available(net::Request& req);
  boost::asio::awaitable<net::Response> TokenValidity(net::Request& req);
  boost::asio::awaitable<net::Response> Logout(net::Request& req, bool all);
  boost::asio::awaitable<net::Response> WhoAmI(net::Request& req);

  // User-interactive auth sessions of /register (spec "User-Interactive Authentication API").
  struct UiaSession {
    std::set<std::string> completed;  // stage types done
    std::string registration_token;   // validated, consumed when the account is created
    int64_t created_ms = 0;
  };
  net::Response UiaChallenge(const std::string& session_id, const Error* error);
  std::string NewUiaSession();

  MatrixDeps deps_;
  DeviceKeys& keys_;  // logout deletes the device's keys
  net::RateLimiter login_per_ip_;
  net::RateLimiter login_failures_per_user_;
  net::RateLimiter register_per_ip_;
  std::string dummy_hash_;  // verified against when the user does not exist
  std::mutex uia_mu_;
  std::unordered_map<std::string, UiaSession> uia_sessions_;  // GUARDED_BY(uia_mu_)
};

}  // namespace ruche::matrix
