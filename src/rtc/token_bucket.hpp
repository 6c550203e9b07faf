#pragma once
// A token bucket: `rate` tokens a second up to `burst`, spent per packet (or per byte). Used to
// ration what one source can make a worker do: STUN checks from unvouched addresses, and the
// media one publisher's track may push through the forwarding path. Rate and burst are the
// caller's (a constant or a setting), so a bucket is 16 bytes. Not thread-safe: one worker's.
#include <algorithm>
#include <chrono>

namespace ruche::rtc {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts full.
  TokenBucket(double burst, Clock::time_point now) : tokens_(burst), updated_(now) {}
  TokenBucket() = default;

  // Refills for the time since the last call, then takes `cost` tokens if there are that many.
  bool Take(double cost, double rate, double burst, Clock::time_point now) {
    double elapsed = std::chrono::duration<double>(now - updated_).count();
    if (elapsed > 0) {
      tokens_ = std::min(burst, tokens_ + elapsed * rate);
      updated_ = now;
    }
    if (tokens_ < cost) {
      return false;
    }
    tokens_ -= cost;
    return true;
  }

 private:
  double tokens_ = 0;
  Clock::time_point updated_{};
};

}  // namespace ruche::rtc
