#pragma once
// Token-bucket rate limiting keyed by a string (an IP, a user). Memory is bounded: when the
// table is full, buckets that have refilled completely (idle keys) are dropped first.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ruche::net {

class RateLimiter {
 public:
  // `per_second` tokens are added per second up to `burst`. per_second == 0 with burst == 0
  // disables the limiter (everything allowed).
  RateLimiter(double per_second, int64_t burst, size_t max_keys = 100'000);

  // Takes one token for `key` at monotonic time `now_ms`. Returns 0 if allowed, else how many
  // milliseconds until a token is available (for retry_after_ms).
  int64_t Take(const std::string& key, int64_t now_ms);
  // Like Take but does not consume: would a request be allowed now?
  int64_t Peek(const std::string& key, int64_t now_ms);
  // Forgets `key` (e.g. after a successful login clears failed attempts).
  void Reset(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ms;
  };
  Bucket& Refill(const std::string& key, int64_t now_ms);
  void Evict(int64_t now_ms);
  int64_t WaitMs(const Bucket& b) const;

  const double per_second_;
  const double burst_;
  const size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace ruche::net
