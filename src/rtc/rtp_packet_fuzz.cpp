// libFuzzer target: RTP parsing, extension lookup, renumbering and replacement, rewriting,
// key-frame detection. RtpPacket rewrites in place, so the input is copied into a buffer of its
// own.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rtc/rtp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)ruche::rtc::LooksLikeRtp(std::span<const uint8_t>(data, size));
  // Key-frame detectors also see payloads the RTP parser never would.
  (void)ruche::rtc::IsVp8KeyFrame(std::span<const uint8_t>(data, size));
  (void)ruche::rtc::IsH264KeyFrame(std::span<const uint8_t>(data, size));
  std::vector<uint8_t> buf(data, data + size);
  auto p = ruche::rtc::RtpPacket::Parse(buf);
  if (!p) {
    return 0;
  }
  if (p->header_size() + p->payload().size() + p->padding_size() != p->size()) {
    __builtin_trap();
  }
  for (size_t i = 0; i <= p->csrc_count(); ++i) {
    (void)p->csrc(i);
  }
  for (unsigned id = 0; id < 256; ++id) {
    auto v = p->Extension(static_cast<uint8_t>(id));
    if (!v.empty() &&
        (v.data() < buf.data() + 12 || v.data() + v.size() > buf.data() + p->header_size())) {
      __builtin_trap();
    }
  }
  (void)ruche::rtc::AudioLevelOf(*p, 1);
  (void)ruche::rtc::IsVp8KeyFrame(p->payload());
  (void)ruche::rtc::IsH264KeyFrame(p->payload());
  size_t payload = p->payload().size();
  // Property: renumbering moves an element's value to its new id and nothing else.
  uint8_t old_id = size > 0 ? data[size - 1] % 16 : 1;
  uint8_t new_id = size > 1 ? data[size - 2] : 2;
  auto before = p->Extension(old_id);
  std::vector<uint8_t> value(before.begin(), before.end());
  if (p->SetExtensionId(old_id, new_id)) {
    auto after = p->Extension(new_id);
    if (std::vector<uint8_t>(after.begin(), after.end()) != value) {
      __builtin_trap();
    }
  }
  p->set_ssrc(1);
  p->set_sequence(2);
  p->set_timestamp(3);
  p->set_payload_type(96);
  // Property: rewriting never changes where the payload is.
  auto again = ruche::rtc::RtpPacket::Parse(buf);
  if (!again || again->payload().size() != payload || again->ssrc() != 1 ||
      again->sequence() != 2 || again->timestamp() != 3 || again->payload_type() != 96) {
    __builtin_trap();
  }
  // Property: replacing the extension block (as forwarding does, behind a headroom) keeps the
  // header fields, payload and padding, and carries exactly the elements given.
  std::vector<uint8_t> area(ruche::rtc::kExtensionHeadroom + buf.size());
  std::copy(buf.begin(), buf.end(), area.begin() + ruche::rtc::kExtensionHeadroom);
  auto placed = ruche::rtc::RtpPacket::Parse(
      std::span<uint8_t>(area).subspan(ruche::rtc::kExtensionHeadroom));
  if (!placed) {
    __builtin_trap();
  }
  ruche::rtc::OneByteExtensions ext;
  std::vector<uint8_t> mid(data, data + std::min<size_t>(size, 1 + size % 16));
  bool has_mid = ext.Add(1 + (size % 14), mid);
  auto replaced = ruche::rtc::ReplaceExtensions(area, *placed, ext);
  if (!replaced || replaced->payload().size() != payload || replaced->ssrc() != 1 ||
      replaced->sequence() != 2 || replaced->padding_size() != again->padding_size() ||
      replaced->csrc_count() != again->csrc_count() ||
      (has_mid &&
       replaced->Extension(static_cast<uint8_t>(1 + (size % 14))).size() != mid.size())) {
    __builtin_trap();
  }
  return 0;
}
