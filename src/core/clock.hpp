#pragma once
#include <chrono>
#include <cstdint>

namespace ruche::core {

// Milliseconds since the Unix epoch (wall clock: for timestamps shown to people and stored).
inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Monotonic milliseconds (for timeouts, rate limits: never jumps with the wall clock).
inline int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace ruche::core
