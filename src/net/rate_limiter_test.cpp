#include "net/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace ruche::net {
namespace {

TEST(RateLimiterTest, BurstThenRefill) {
  RateLimiter limiter(/*per_second=*/2, /*burst=*/3);
  EXPECT_EQ(limiter.Take("ip", 0), 0);
  EXPECT_EQ(limiter.Take("ip", 0), 0);
  EXPECT_EQ(limiter.Take("ip", 0), 0);
  int64_t wait = limiter.Take("ip", 0);
  EXPECT_EQ(wait, 500);                    // one token every 500 ms
  EXPECT_EQ(limiter.Take("other", 0), 0);  // keys are independent
  EXPECT_GT(limiter.Take("ip", 499), 0);
  EXPECT_EQ(limiter.Take("ip", 1000), 0);
}

TEST(RateLimiterTest, PeekDoesNotConsumeAndResetForgets) {
  RateLimiter limiter(0.1, 1);
  EXPECT_EQ(limiter.Peek("u", 0), 0);
  EXPECT_EQ(limiter.Take("u", 0), 0);
  EXPECT_GT(limiter.Peek("u", 0), 0);
  limiter.Reset("u");
  EXPECT_EQ(limiter.Peek("u", 0), 0);
}

TEST(RateLimiterTest, DisabledWhenZero) {
  RateLimiter limiter(0, 0);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(limiter.Take("x", 0), 0);
  }
}

TEST(RateLimiterTest, MemoryStaysBounded) {
  RateLimiter limiter(1, 5, /*max_keys=*/100);
  for (int i = 0; i < 10'000; ++i) {
    limiter.Take("k" + std::to_string(i), 0);
  }
  // A key seen long ago and idle since is forgotten or full: it is allowed again.
  EXPECT_EQ(limiter.Take("k0", 100'000), 0);
}

}  // namespace
}  // namespace ruche::net
