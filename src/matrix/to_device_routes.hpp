#pragma once
// PUT /sendToDevice/{eventType}/{txnId}: messages to other devices (the encrypted Megolm key
// shares of E2EE, verification requests). Each is queued per target device, delivered by /sync
// in stream order (at most kMaxToDevicePerSync per response) and deleted once the device's next
// sync acknowledges it. Transaction IDs make retries harmless.
#include "matrix/client_api.hpp"
#include "matrix/device_keys.hpp"
#include "net/rate_limiter.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

inline constexpr int64_t kMaxToDevicePerSync = 100;

class ToDeviceRoutes {
 public:
  ToDeviceRoutes(net::Router& router, MatrixDeps deps, DeviceKeys& keys);

 private:
  boost::asio::awaitable<net::Response> Send(net::Request& req);

  MatrixDeps deps_;
  DeviceKeys& keys_;
  net::RateLimiter per_user_;
};

}  // namespace ruche::matrix
