// libFuzzer target: transport-wide feedback. Arbitrary bytes through the parser (bounds); then
// the input as arrivals (sequence deltas and times) through the recorder, whose every feedback
// must parse back with statuses matching what was recorded.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rtc/transport_cc.hpp"

namespace rtc = ruche::rtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<rtc::TransportCcStatus> statuses(600);
  rtc::ForEachRtcpPacket(std::span<const uint8_t>(data, size), [&](const rtc::RtcpPacketView& p) {
    if (auto fb = rtc::ParseTransportCc(p, statuses); fb && fb->statuses_written > 600) {
      __builtin_trap();
    }
  });

  rtc::TransportCcRecorder recorder;
  auto t = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  uint16_t seq = 0;
  std::vector<uint8_t> out(1500);
  for (size_t i = 0; i + 2 < size; i += 3) {
    seq = static_cast<uint16_t>(seq + static_cast<int8_t>(data[i]));
    t += std::chrono::microseconds(data[i + 1] * 97 * (data[i + 2] & 15));
    recorder.OnPacket(seq, t);
    if ((data[i + 2] & 0xF0) == 0xF0) {
      size_t n = recorder.BuildFeedback(1, 2, out);
      if (n == 0) {
        continue;
      }
      bool ok = false;
      rtc::ForEachRtcpPacket(std::span<const uint8_t>(out.data(), n),
                             [&](const rtc::RtcpPacketView& p) {
                               ok = rtc::ParseTransportCc(p, statuses).has_value();
                             });
      if (!ok || n > 1200) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
