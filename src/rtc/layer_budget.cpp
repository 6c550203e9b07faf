#include "rtc/layer_budget.hpp"

#include <algorithm>

namespace ruche::rtc {

bool LayerBudget::OnLoss(uint8_t fraction_lost, Clock::time_point now, std::span<LayerSlot> slots) {
  if (fraction_lost < kCongestedFractionLost || now < settled_at_) {
    return false;
  }
  // The video taking the highest layer gives way (the most bitrate for one step).
  LayerSlot* heaviest = nullptr;
  for (auto& s : slots) {
    s.cap = std::min(s.cap, s.ceiling);
    if (s.cap > 0 && (heaviest == nullptr || s.cap >= heaviest->cap)) {
      heaviest = &s;
    }
  }
  if (heaviest == nullptr) {
    return false;  // all on the lowest layer already: nothing lighter to give
  }
  heaviest->cap -= 1;
  settled_at_ = now + kSettle;
  if (probing_ && now - last_probe_ < std::chrono::seconds(5)) {
    hold_ = std::min<Clock::duration>(hold_ * 2, kMaxHold);  // the probe failed
  }
  probing_ = false;
  hold_until_ = now + hold_;
  return true;
}

bool LayerBudget::OnTick(Clock::time_point now, std::span<LayerSlot> slots) {
  if (probing_ && now - last_probe_ >= std::chrono::seconds(5)) {
    probing_ = false;  // the probe held
    hold_ = std::max<Clock::duration>(hold_ / 2, kMinHold);
  }
  if (now < hold_until_) {
    return false;
  }
  // The video furthest below its ceiling goes up one step.
  LayerSlot* lightest = nullptr;
  for (auto& s : slots) {
    if (s.cap < s.ceiling && (lightest == nullptr || s.cap < lightest->cap)) {
      lightest = &s;
    }
  }
  if (lightest == nullptr) {
    return false;
  }
  lightest->cap += 1;
  probing_ = true;
  last_probe_ = now;
  hold_until_ = now + hold_;
  return true;
}

}  // namespace ruche::rtc
