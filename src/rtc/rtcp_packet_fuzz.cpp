// libFuzzer target: RTCP compound iteration and the feedback accessors the SFU routes with.
#include <cstddef>
#include <cstdint>

#include "rtc/rtcp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t seen = 0;
  ruche::rtc::ForEachRtcpPacket(std::span<const uint8_t>(data, size),
                                [&](const ruche::rtc::RtcpPacketView& p) {
                                  ++seen;
                                  (void)ruche::rtc::MediaSsrcOf(p);
                                  (void)ruche::rtc::SenderSsrcOf(p);
                                  (void)ruche::rtc::IsRemb(p);
                                  if (ruche::rtc::IsGenericNack(p)) {
                                    size_t n = 0;
                                    ruche::rtc::ForEachNackedSequence(p, [&](uint16_t) { ++n; });
                                    // At most 17 per 4-byte item: bounded by the packet size.
                                    if (n > p.bytes.size() / 4 * 17) {
                                      __builtin_trap();
                                    }
                                  }
                                });
  if (seen > ruche::rtc::kMaxRtcpPacketsPerCompound) {
    __builtin_trap();
  }
  return 0;
}
