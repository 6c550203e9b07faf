#pragma once
// HTTP/1.1 keep-alive client over Conn, written by hand so that one core can drive thousands of
// long-polls: one request in flight per connection (no pipelining), later ones queued;
// responses framed by Content-Length only (Ruche never sends chunked JSON).
#include <deque>
#include <functional>
#include <string>
#include <string_view>

#include "loop.hpp"

namespace ruche::bench {

class HttpConn : public Conn {
 public:
  using Callback = std::function<void(int status, std::string_view body)>;

  // Queues a request; `cb` runs when its response has arrived, in order.
  void Request(std::string_view method, std::string_view target, std::string_view token,
               std::string_view body, Callback cb);
  bool idle() const { return !in_flight_ && queue_.empty(); }

 private:
  void OnData() override;
  void StartNext();

  struct Pending {
    std::string wire;
    Callback cb;
  };
  std::deque<Pending> queue_;
  bool in_flight_ = false;
  Callback current_;
  std::string body_;
};

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string UrlEncode(std::string_view s);

// The string value of the first "key":"..." in `json` (no escapes expected), or "".
std::string JsonString(std::string_view json, std::string_view key);

}  // namespace ruche::bench
