#pragma once
// Which simulcast layer a subscriber's path can take, learned the way TCP learns a window:
// start at the top, step a video down when the subscriber reports congestion (its receiver
// reports' loss fraction over 10 %, GCC's threshold for decreasing), and after a quiet hold-off
// step one back up as a probe. A probe followed by congestion within 5 s failed: the hold-off
// doubles (5 s up to 60 s), so a path that cannot take a layer is not flooded every few
// seconds; a probe that held halves it again.
//
// Why not an estimate in bits per second: a receiver's estimate (REMB, or one computed from
// transport-wide feedback) never exceeds about 1.5× what it receives, so a subscriber on the
// low layer could never be moved up without padding probes. The layer switch is the probe.
//
// One per subscriber, on its worker; plain logic over the caller's slots, unit-tested alone.
#include <chrono>
#include <cstdint>
#include <span>

namespace ruche::rtc {

// One simulcast video the subscriber receives.
struct LayerSlot {
  int ceiling = 0;  // the highest layer it may get: its wish, and what the publisher sends
  int cap = 0;      // what its path has shown it can take (in/out)
};

class LayerBudget {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kTopLayer = 2;
  static constexpr uint8_t kCongestedFractionLost = 26;  // of 256: about 10 %
  static constexpr Clock::duration kMinHold = std::chrono::seconds(5);
  static constexpr Clock::duration kMaxHold = std::chrono::seconds(60);
  // After a step down, what came before it is not judged again.
  static constexpr Clock::duration kSettle = std::chrono::seconds(2);

  // A receiver report's worst loss fraction over the subscriber's videos. True when a slot's
  // cap was lowered.
  bool OnLoss(uint8_t fraction_lost, Clock::time_point now, std::span<LayerSlot> slots);
  // Every few hundred ms: a probe up when the hold-off is over. True when a cap was raised.
  bool OnTick(Clock::time_point now, std::span<LayerSlot> slots);
  Clock::duration hold() const { return hold_; }

 private:
  Clock::duration hold_ = kMinHold;
  Clock::time_point hold_until_{};
  Clock::time_point settled_at_{};
  Clock::time_point last_probe_{};
  bool probing_ = false;  // a probe is out and not judged yet
};

}  // namespace ruche::rtc
