#pragma once
// A WebSocket connection as a route handler sees it (text or binary messages, no Beast types).
#include <boost/asio/awaitable.hpp>
#include <string>

#include "core/error.hpp"

namespace ruche::net {

class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Next whole message. An error when the peer closed, timed out, or sent an oversized or
  // malformed frame (the connection is then finished).
  virtual boost::asio::awaitable<Result<std::string>> Read() = 0;
  virtual boost::asio::awaitable<Result<void>> Send(std::string message, bool binary = false) = 0;
  // Sends a close frame with `code` (RFC 6455 §7.4) and `reason`.
  virtual boost::asio::awaitable<void> Close(int code = 1000, std::string reason = "") = 0;
};

}  // namespace ruche::net
