#include "rtc/reception_stats.hpp"

#include <gtest/gtest.h>

namespace ruche::rtc {
namespace {

using Clock = ReceptionStats::Clock;
using std::chrono::milliseconds;

TEST(ReceptionStats, NothingToReportBeforeAPacket) {
  ReceptionStats stats;
  ReportBlock block;
  EXPECT_FALSE(stats.Report(7, Clock::now(), block));
}

TEST(ReceptionStats, CountsLossPerIntervalAndInAllAcrossTheWrap) {
  ReceptionStats stats;
  Clock::time_point t{};
  // 65530 … 65535, 0 … 9 with 65534 and 3 missing: 16 expected, 14 received.
  for (uint32_t i = 65530; i < 65536 + 10; ++i) {
    auto seq = static_cast<uint16_t>(i);
    if (seq == 65534 || seq == 3) {
      continue;
    }
    t += milliseconds(20);
    stats.OnPacket(seq, i * 960, 48000, t);
  }
  ReportBlock block;
  ASSERT_TRUE(stats.Report(42, t, block));
  EXPECT_EQ(block.ssrc, 42u);
  EXPECT_EQ(block.highest_sequence, 0x10000u + 9);  // one wrap
  EXPECT_EQ(block.cumulative_lost, 2);
  EXPECT_EQ(block.fraction_lost, 2 * 256 / 16);
  // Next interval: 10 more, none lost → fraction 0, cumulative stays 2.
  for (uint32_t i = 65536 + 10; i < 65536 + 20; ++i) {
    t += milliseconds(20);
    stats.OnPacket(static_cast<uint16_t>(i), i * 960, 48000, t);
  }
  ASSERT_TRUE(stats.Report(42, t, block));
  EXPECT_EQ(block.fraction_lost, 0);
  EXPECT_EQ(block.cumulative_lost, 2);
  EXPECT_EQ(block.highest_sequence, 0x10000u + 19);
}

TEST(ReceptionStats, JitterIsZeroOnASteadyStreamAndGrowsWhenArrivalsWobble) {
  ReceptionStats steady;
  ReceptionStats wobbly;
  Clock::time_point t{};
  for (uint32_t i = 0; i < 200; ++i) {
    t += milliseconds(20);
    steady.OnPacket(static_cast<uint16_t>(i), 1000 + i * 960, 48000, t);
    // Every other packet 5 ms late: transit changes by 240 units (5 ms at 48 kHz) each time.
    wobbly.OnPacket(static_cast<uint16_t>(i), 1000 + i * 960, 48000,
                    t + milliseconds(i % 2 == 0 ? 0 : 5));
  }
  ReportBlock a;
  ReportBlock b;
  ASSERT_TRUE(steady.Report(1, t, a));
  ASSERT_TRUE(wobbly.Report(1, t, b));
  EXPECT_EQ(a.jitter, 0u);
  EXPECT_GT(b.jitter, 200u);  // converges on 240
  EXPECT_LE(b.jitter, 240u);
}

TEST(ReceptionStats, DelaySinceLastSenderReportIsIn65536thsOfASecond) {
  ReceptionStats stats;
  Clock::time_point t{};
  t += milliseconds(1);
  stats.OnPacket(1, 0, 90000, t);
  ReportBlock block;
  ASSERT_TRUE(stats.Report(9, t, block));
  EXPECT_EQ(block.last_sr, 0u);  // no SR yet
  EXPECT_EQ(block.delay_since_last_sr, 0u);
  stats.OnSenderReport(0x0123456789ABCDEFull, t);
  ASSERT_TRUE(stats.Report(9, t + milliseconds(500), block));
  EXPECT_EQ(block.last_sr, 0x456789ABu);  // the middle 32 bits
  EXPECT_EQ(block.delay_since_last_sr, 32768u);
}

TEST(ReceptionStats, AStrayJumpIsIgnoredButARestartIsFollowed) {
  ReceptionStats stats;
  Clock::time_point t{};
  for (uint16_t seq = 100; seq < 110; ++seq) {
    stats.OnPacket(seq, 0, 90000, t += milliseconds(10));
  }
  stats.OnPacket(30000, 0, 90000, t += milliseconds(10));  // stray
  stats.OnPacket(110, 0, 90000, t += milliseconds(10));
  ReportBlock block;
  ASSERT_TRUE(stats.Report(1, t, block));
  EXPECT_EQ(block.highest_sequence, 110u);
  EXPECT_EQ(block.cumulative_lost, 0);
  // A sender that restarts its numbering: two packets in a row confirm it.
  stats.OnPacket(40000, 0, 90000, t += milliseconds(10));
  stats.OnPacket(40001, 0, 90000, t += milliseconds(10));
  stats.OnPacket(40002, 0, 90000, t += milliseconds(10));
  ASSERT_TRUE(stats.Report(1, t, block));
  EXPECT_EQ(block.highest_sequence, 40002u);
  EXPECT_EQ(block.cumulative_lost, 0);
}

}  // namespace
}  // namespace ruche::rtc
