#include "net/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace ruche::net {

RateLimiter::RateLimiter(double per_second, int64_t burst, size_t max_keys)
    : per_second_(per_second), burst_(static_cast<double>(burst)), max_keys_(max_keys) {}

RateLimiter::Bucket& RateLimiter::Refill(const std::string& key, int64_t now_ms) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      Evict(now_ms);
    }
    it = buckets_.emplace(key, Bucket{burst_, now_ms}).first;
  }
  Bucket& b = it->second;
  double elapsed = static_cast<double>(std::max<int64_t>(0, now_ms - b.updated_ms)) / 1000.0;
  b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
  b.updated_ms = now_ms;
  return b;
}

int64_t RateLimiter::WaitMs(const Bucket& b) const {
  if (per_second_ <= 0) {
    return 60'000;  // no refill: a fixed, long back-off
  }
  return std::max<int64_t>(1,
                           static_cast<int64_t>(std::ceil((1.0 - b.tokens) / per_second_ * 1000)));
}

int64_t RateLimiter::Take(const std::string& key, int64_t now_ms) {
  if (per_second_ <= 0 && burst_ <= 0) {
    return 0;
  }
  std::lock_guard lock(mu_);
  Bucket& b = Refill(key, now_ms);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  return WaitMs(b);
}

int64_t RateLimiter::Peek(const std::string& key, int64_t now_ms) {
  if (per_second_ <= 0 && burst_ <= 0) {
    return 0;
  }
  std::lock_guard lock(mu_);
  Bucket& b = Refill(key, now_ms);
  return b.tokens >= 1.0 ? 0 : WaitMs(b);
}

void RateLimiter::Reset(const std::string& key) {
  std::lock_guard lock(mu_);
  buckets_.erase(key);
}

void RateLimiter::Evict(int64_t now_ms) {
  // Drop every bucket that would be full by now: forgetting it changes nothing.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    double elapsed = static_cast<double>(now_ms - it->second.updated_ms) / 1000.0;
    if (it->second.tokens + elapsed * per_second_ >= burst_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  // Still full (a flood of distinct keys): drop half, oldest first is not worth a sort here.
  if (buckets_.size() >= max_keys_) {
    size_t drop = buckets_.size() / 2;
    for (auto it = buckets_.begin(); it != buckets_.end() && drop > 0; --drop) {
      it = buckets_.erase(it);
    }
  }
}

}  // namespace ruche::net
