// libFuzzer target: RTP parsing, extension lookup, rewriting, key-frame detection.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "rtc/rtp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);
  auto p = ruche::rtc::RtpPacket::Parse(buf);
  if (!p) {
    return 0;
  }
  for (uint8_t id = 1; id < 16; ++id) {
    (void)p->Extension(id);
  }
  (void)ruche::rtc::AudioLevelOf(*p, 1);
  (void)ruche::rtc::IsVp8KeyFrame(p->payload());
  (void)ruche::rtc::IsH264KeyFrame(p->payload());
  size_t payload = p->payload().size();
  p->set_ssrc(1);
  p->set_sequence(2);
  p->set_timestamp(3);
  p->set_payload_type(96);
  // Property: rewriting the fixed header never changes what the packet holds.
  auto again = ruche::rtc::RtpPacket::Parse(buf);
  if (!again || again->payload().size() != payload || again->ssrc() != 1) {
    __builtin_trap();
  }
  return 0;
}
