// The layer budget's steps: down on congestion (the heaviest video first, once per settling
// time), probes up after the hold-off, failed probes doubling it, held probes halving it.
#include "rtc/layer_budget.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ruche::rtc {
namespace {

using std::chrono::seconds;
using Clock = LayerBudget::Clock;
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

TEST(LayerBudget, LightLossChangesNothing) {
  LayerBudget b;
  std::vector<LayerSlot> slots{{.ceiling = 2, .cap = 2}};
  EXPECT_FALSE(b.OnLoss(20, kT0, slots));  // 8 %
  EXPECT_EQ(slots[0].cap, 2);
  EXPECT_FALSE(b.OnTick(kT0 + seconds(30), slots));  // nothing below its ceiling
}

TEST(LayerBudget, CongestionStepsTheHeaviestVideoDownOncePerSettlingTime) {
  LayerBudget b;
  std::vector<LayerSlot> slots{
      {.ceiling = 2, .cap = 2}, {.ceiling = 1, .cap = 2}, {.ceiling = 2, .cap = 2}};
  ASSERT_TRUE(b.OnLoss(60, kT0, slots));
  // A cap above its ceiling counts as the ceiling; of the two at 2, the last gives way.
  EXPECT_EQ(slots[0].cap, 2);
  EXPECT_EQ(slots[1].cap, 1);
  EXPECT_EQ(slots[2].cap, 1);
  // Loss reported within the settling time came from before the step.
  EXPECT_FALSE(b.OnLoss(60, kT0 + seconds(1), slots));
  ASSERT_TRUE(b.OnLoss(60, kT0 + seconds(2), slots));
  EXPECT_EQ(slots[0].cap, 1);
  EXPECT_EQ(slots[1].cap, 1);
  EXPECT_EQ(slots[2].cap, 1);
  ASSERT_TRUE(b.OnLoss(60, kT0 + seconds(4), slots));
  EXPECT_EQ(slots[2].cap, 0);
}

TEST(LayerBudget, NothingBelowTheLowestLayer) {
  LayerBudget b;
  std::vector<LayerSlot> slots{{.ceiling = 2, .cap = 0}};
  EXPECT_FALSE(b.OnLoss(255, kT0, slots));
  EXPECT_EQ(slots[0].cap, 0);
}

TEST(LayerBudget, ProbesUpAfterTheHoldOffAndBacksOffWhenProbesFail) {
  LayerBudget b;
  std::vector<LayerSlot> slots{{.ceiling = 2, .cap = 2}};
  auto t = kT0;
  ASSERT_TRUE(b.OnLoss(100, t, slots));
  EXPECT_EQ(slots[0].cap, 1);
  EXPECT_FALSE(b.OnTick(t + seconds(4), slots));  // within the 5 s hold-off
  t += seconds(5);
  ASSERT_TRUE(b.OnTick(t, slots));  // probe
  EXPECT_EQ(slots[0].cap, 2);
  // Congestion 3 s after the probe: it failed; back down, and the next wait is twice as long.
  t += seconds(3);
  ASSERT_TRUE(b.OnLoss(100, t, slots));
  EXPECT_EQ(slots[0].cap, 1);
  EXPECT_EQ(b.hold(), seconds(10));
  EXPECT_FALSE(b.OnTick(t + seconds(9), slots));
  t += seconds(10);
  ASSERT_TRUE(b.OnTick(t, slots));
  t += seconds(2);
  ASSERT_TRUE(b.OnLoss(100, t, slots));
  EXPECT_EQ(b.hold(), seconds(20));
  // Up to a minute at most.
  for (int i = 0; i < 5; ++i) {
    t += b.hold();
    ASSERT_TRUE(b.OnTick(t, slots));
    t += seconds(2);
    ASSERT_TRUE(b.OnLoss(100, t, slots));
  }
  EXPECT_EQ(b.hold(), seconds(60));
}

TEST(LayerBudget, AProbeThatHoldsShortensTheNextWait) {
  LayerBudget b;
  std::vector<LayerSlot> slots{{.ceiling = 2, .cap = 2}, {.ceiling = 2, .cap = 2}};
  auto t = kT0;
  ASSERT_TRUE(b.OnLoss(100, t, slots));  // second slot to 1
  t += seconds(5);
  ASSERT_TRUE(b.OnTick(t, slots));                    // probe it back to 2
  ASSERT_TRUE(b.OnLoss(100, t + seconds(2), slots));  // failed: hold 10 s
  EXPECT_EQ(b.hold(), seconds(10));
  t += seconds(12);
  ASSERT_TRUE(b.OnTick(t, slots));
  // Five quiet seconds later the probe has held: the hold-off halves.
  EXPECT_FALSE(b.OnTick(t + seconds(5), slots));
  EXPECT_EQ(b.hold(), seconds(5));
  EXPECT_EQ(slots[0].cap + slots[1].cap, 4);
}

}  // namespace
}  // namespace ruche::rtc
