#include "rtc/token_bucket.hpp"

#include <gtest/gtest.h>

namespace ruche::rtc {
namespace {

using std::chrono::milliseconds;

TEST(TokenBucket, SpendsTheBurstThenRefillsAtTheRate) {
  auto t0 = TokenBucket::Clock::time_point{} + std::chrono::hours(1);
  TokenBucket b(10, t0);
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(b.Take(1, 100, 10, t0)) << i;
  }
  EXPECT_FALSE(b.Take(1, 100, 10, t0));
  // 100 a second: 50 ms buys 5, capped by the burst afterwards.
  EXPECT_TRUE(b.Take(5, 100, 10, t0 + milliseconds(50)));
  EXPECT_FALSE(b.Take(1, 100, 10, t0 + milliseconds(50)));
  EXPECT_TRUE(b.Take(10, 100, 10, t0 + milliseconds(10'000)));
  EXPECT_FALSE(b.Take(1, 100, 10, t0 + milliseconds(10'000)));
}

TEST(TokenBucket, ACostAboveWhatIsLeftTakesNothing) {
  auto t0 = TokenBucket::Clock::time_point{} + std::chrono::hours(1);
  TokenBucket b(1500, t0);
  EXPECT_TRUE(b.Take(1000, 1000, 1500, t0));
  EXPECT_FALSE(b.Take(1000, 1000, 1500, t0));  // 500 left: refused whole
  EXPECT_TRUE(b.Take(500, 1000, 1500, t0));
}

TEST(TokenBucket, TimeGoingBackwardsAddsNothing) {
  auto t0 = TokenBucket::Clock::time_point{} + std::chrono::hours(1);
  TokenBucket b(1, t0);
  EXPECT_TRUE(b.Take(1, 1, 1, t0));
  EXPECT_FALSE(b.Take(1, 1, 1, t0 - milliseconds(5000)));
}

}  // namespace
}  // namespace ruche::rtc
