// libFuzzer target: RTCP compound iteration, report and feedback accessors, in-place SSRC
// rewriting, and a NACK build → parse round trip over sequence numbers taken from the input.
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "rtc/rtcp_packet.hpp"

namespace rtc = ruche::rtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);
  size_t seen = 0;
  rtc::ForEachRtcpPacket(std::span<const uint8_t>(data, size), [&](const rtc::RtcpPacketView& p) {
    ++seen;
    (void)rtc::MediaSsrcOf(p);
    (void)rtc::SenderSsrcOf(p);
    (void)rtc::SenderInfoOf(p);
    (void)rtc::RembBitrate(p);
    (void)rtc::IsPictureLossIndication(p);
    (void)rtc::IsTransportWideCc(p);
    (void)rtc::IsSdes(p);
    (void)rtc::IsBye(p);
    size_t blocks = 0;
    if (rtc::ForEachReportBlock(p, [&](const rtc::ReportBlock&) { ++blocks; }) &&
        blocks != p.count_or_format) {
      __builtin_trap();
    }
    rtc::ForEachFirEntry(p, [](uint32_t, uint8_t) {});
    rtc::ForEachRembSsrc(p, [](uint32_t) {});
    if (rtc::IsGenericNack(p)) {
      size_t n = 0;
      rtc::ForEachNackedSequence(p, [&](uint16_t) { ++n; });
      // At most 17 per 4-byte item: bounded by the packet size.
      if (n > p.bytes.size() / 4 * 17) {
        __builtin_trap();
      }
    }
    // Rewriting in place (on the copy) is bounded by the packet and changes what it says.
    auto offset = static_cast<size_t>(p.bytes.data() - data);
    std::span<uint8_t> mine(buf.data() + offset, p.bytes.size());
    rtc::RtcpPacketView mutable_view{p.count_or_format, p.packet_type, mine};
    if (rtc::SetMediaSsrc(mine, 0xDEADBEEF) && rtc::MediaSsrcOf(mutable_view) != 0xDEADBEEF) {
      __builtin_trap();
    }
    if (rtc::SetSenderSsrc(mine, 0xFEEDFACE) && rtc::SenderSsrcOf(mutable_view) != 0xFEEDFACE) {
      __builtin_trap();
    }
  });
  if (seen > rtc::kMaxRtcpPacketsPerCompound) {
    __builtin_trap();
  }

  // NACK round trip: up to 64 sequence numbers from the input, all within a span of 1000 so
  // they fit the 64 items BuildNack packs at most.
  std::vector<uint16_t> seqs;
  uint16_t base = size >= 2 ? static_cast<uint16_t>(data[0] << 8 | data[1]) : 0;
  for (size_t i = 2; i + 1 < size && seqs.size() < 64; i += 2) {
    seqs.push_back(static_cast<uint16_t>(base + (data[i] << 8 | data[i + 1]) % 1000));
  }
  uint8_t out[12 + 64 * 4];
  size_t n = rtc::BuildNack(1, 2, seqs, out);
  if (seqs.empty() != (n == 0)) {
    __builtin_trap();
  }
  if (n > 0) {
    std::set<uint16_t> want(seqs.begin(), seqs.end());
    std::set<uint16_t> got;
    bool ok =
        rtc::ForEachRtcpPacket(std::span<const uint8_t>(out, n), [&](const rtc::RtcpPacketView& p) {
          if (!rtc::IsGenericNack(p)) {
            __builtin_trap();
          }
          rtc::ForEachNackedSequence(p, [&](uint16_t s) { got.insert(s); });
        });
    if (!ok || got != want) {
      __builtin_trap();
    }
  }
  return 0;
}
