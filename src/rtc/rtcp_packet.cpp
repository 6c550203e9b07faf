#include "rtc/rtcp_packet.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "rtc/byte_order.hpp"

namespace ruche::rtc {
namespace {

// Writes a header for a packet of `bytes` bytes (a multiple of 4).
void Header(uint8_t* p, uint8_t count, uint8_t type, size_t bytes) {
  p[0] = static_cast<uint8_t>(0x80 | (count & 0x1F));
  p[1] = type;
  Put16(p + 2, static_cast<uint16_t>(bytes / 4 - 1));
}

bool IsFeedback(const RtcpPacketView& p, uint8_t type, uint8_t format, size_t min_size) {
  return p.packet_type == type && p.count_or_format == format && p.bytes.size() >= min_size;
}

void WriteReportBlock(uint8_t* p, const ReportBlock& b) {
  Put32(p, b.ssrc);
  int32_t lost = std::clamp<int32_t>(b.cumulative_lost, -0x800000, 0x7FFFFF);
  Put32(p + 4,
        static_cast<uint32_t>(b.fraction_lost) << 24 | (static_cast<uint32_t>(lost) & 0xFFFFFF));
  Put32(p + 8, b.highest_sequence);
  Put32(p + 12, b.jitter);
  Put32(p + 16, b.last_sr);
  Put32(p + 20, b.delay_since_last_sr);
}

}  // namespace

namespace rtcp_detail {
ReportBlock ReadReportBlock(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = Get32(p);
  b.fraction_lost = p[4];
  // 24-bit two's complement, sign-extended.
  uint32_t lost = Get32(p + 4) & 0xFFFFFF;
  b.cumulative_lost = static_cast<int32_t>(lost ^ 0x800000) - 0x800000;
  b.highest_sequence = Get32(p + 8);
  b.jitter = Get32(p + 12);
  b.last_sr = Get32(p + 16);
  b.delay_since_last_sr = Get32(p + 20);
  return b;
}
}  // namespace rtcp_detail

bool IsSenderReport(const RtcpPacketView& p) {
  return p.packet_type == kRtcpSenderReport &&
         p.bytes.size() >= 28 + 24 * static_cast<size_t>(p.count_or_format);
}
bool IsReceiverReport(const RtcpPacketView& p) {
  return p.packet_type == kRtcpReceiverReport &&
         p.bytes.size() >= 8 + 24 * static_cast<size_t>(p.count_or_format);
}
bool IsSdes(const RtcpPacketView& p) { return p.packet_type == kRtcpSdes; }
bool IsBye(const RtcpPacketView& p) { return p.packet_type == kRtcpBye; }

SenderInfo SenderInfoOf(const RtcpPacketView& p) {
  SenderInfo info;
  if (!IsSenderReport(p)) {
    return info;
  }
  const uint8_t* b = p.bytes.data();
  info.ssrc = Get32(b + 4);
  info.ntp_timestamp = static_cast<uint64_t>(Get32(b + 8)) << 32 | Get32(b + 12);
  info.rtp_timestamp = Get32(b + 16);
  info.packet_count = Get32(b + 20);
  info.octet_count = Get32(b + 24);
  return info;
}

bool IsPictureLossIndication(const RtcpPacketView& p) {
  return IsFeedback(p, kRtcpPayloadFeedback, 1, 12);
}
bool IsFullIntraRequest(const RtcpPacketView& p) {
  return IsFeedback(p, kRtcpPayloadFeedback, 4, 20);
}
bool IsGenericNack(const RtcpPacketView& p) { return IsFeedback(p, kRtcpTransportFeedback, 1, 16); }
bool IsTransportWideCc(const RtcpPacketView& p) {
  return IsFeedback(p, kRtcpTransportFeedback, 15, 16);
}
bool IsRemb(const RtcpPacketView& p) {
  return IsFeedback(p, kRtcpPayloadFeedback, 15, 20) && p.bytes[12] == 'R' && p.bytes[13] == 'E' &&
         p.bytes[14] == 'M' && p.bytes[15] == 'B';
}

uint32_t MediaSsrcOf(const RtcpPacketView& p) {
  if (IsFullIntraRequest(p)) {
    return Get32(p.bytes.data() + 12);
  }
  if (p.bytes.size() < 12 ||
      (p.packet_type != kRtcpTransportFeedback && p.packet_type != kRtcpPayloadFeedback)) {
    return 0;
  }
  return Get32(p.bytes.data() + 8);
}

uint32_t SenderSsrcOf(const RtcpPacketView& p) {
  if (p.bytes.size() < 8 || p.packet_type == kRtcpSdes || p.packet_type == kRtcpBye) {
    return 0;
  }
  return Get32(p.bytes.data() + 4);
}

size_t BuildPli(uint32_t sender_ssrc, uint32_t media_ssrc, std::span<uint8_t> out) {
  if (out.size() < 12) {
    return 0;
  }
  Header(out.data(), 1, kRtcpPayloadFeedback, 12);
  Put32(out.data() + 4, sender_ssrc);
  Put32(out.data() + 8, media_ssrc);
  return 12;
}

size_t BuildFir(uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t seq_nr, std::span<uint8_t> out) {
  if (out.size() < 20) {
    return 0;
  }
  Header(out.data(), 4, kRtcpPayloadFeedback, 20);
  Put32(out.data() + 4, sender_ssrc);
  Put32(out.data() + 8, 0);  // RFC 5104 §4.3.1.2: media source unused
  Put32(out.data() + 12, media_ssrc);
  out[16] = seq_nr;
  out[17] = out[18] = out[19] = 0;
  return 20;
}

size_t BuildNack(uint32_t sender_ssrc, uint32_t media_ssrc, std::span<const uint16_t> seqs,
                 std::span<uint8_t> out) {
  constexpr size_t kMaxItems = 64;
  std::array<uint16_t, kMaxItems * 17> sorted{};
  size_t n = std::min(seqs.size(), sorted.size());
  std::copy_n(seqs.begin(), n, sorted.begin());
  // Sorted in sequence-number order around the wrap: relative to the first one.
  uint16_t base = n > 0 ? seqs[0] : 0;
  std::sort(sorted.begin(), sorted.begin() + static_cast<long>(n), [base](uint16_t a, uint16_t b) {
    return static_cast<uint16_t>(a - base) < static_cast<uint16_t>(b - base);
  });
  size_t items = 0;
  uint8_t* p = out.data();
  size_t i = 0;
  while (i < n && items < kMaxItems) {
    size_t at = 12 + items * 4;
    if (out.size() < at + 4) {
      return 0;
    }
    uint16_t pid = sorted[i++];
    uint16_t blp = 0;
    while (i < n) {
      uint16_t d = static_cast<uint16_t>(sorted[i] - pid);
      if (d == 0) {
        ++i;  // duplicate
        continue;
      }
      if (d > 16) {
        break;
      }
      blp = static_cast<uint16_t>(blp | (1u << (d - 1)));
      ++i;
    }
    Put16(p + at, pid);
    Put16(p + at + 2, blp);
    ++items;
  }
  if (items == 0 || out.size() < 12) {
    return 0;
  }
  size_t bytes = 12 + items * 4;
  Header(p, 1, kRtcpTransportFeedback, bytes);
  Put32(p + 4, sender_ssrc);
  Put32(p + 8, media_ssrc);
  return bytes;
}

size_t BuildRemb(uint32_t sender_ssrc, uint64_t bitrate_bps, std::span<const uint32_t> ssrcs,
                 std::span<uint8_t> out) {
  size_t bytes = 20 + 4 * ssrcs.size();
  if (ssrcs.size() > 255 || out.size() < bytes) {
    return 0;
  }
  // 18-bit mantissa, 6-bit exponent.
  uint8_t exp = 0;
  while ((bitrate_bps >> exp) > 0x3FFFF && exp < 63) {
    ++exp;
  }
  auto mantissa = static_cast<uint32_t>(bitrate_bps >> exp);
  uint8_t* p = out.data();
  Header(p, 15, kRtcpPayloadFeedback, bytes);
  Put32(p + 4, sender_ssrc);
  Put32(p + 8, 0);
  p[12] = 'R';
  p[13] = 'E';
  p[14] = 'M';
  p[15] = 'B';
  p[16] = static_cast<uint8_t>(ssrcs.size());
  p[17] = static_cast<uint8_t>(exp << 2 | (mantissa >> 16));
  Put16(p + 18, static_cast<uint16_t>(mantissa));
  for (size_t i = 0; i < ssrcs.size(); ++i) {
    Put32(p + 20 + 4 * i, ssrcs[i]);
  }
  return bytes;
}

uint64_t RembBitrate(const RtcpPacketView& p) {
  if (!IsRemb(p)) {
    return 0;
  }
  const uint8_t* b = p.bytes.data();
  uint8_t exp = b[17] >> 2;
  uint32_t mantissa =
      static_cast<uint32_t>(b[17] & 3) << 16 | static_cast<uint32_t>(b[18]) << 8 | b[19];
  // An 18-bit mantissa shifted by up to 63 overflows 64 bits past an exponent of 46.
  if (mantissa != 0 && exp > 46 && (mantissa >> (64 - exp)) != 0) {
    return UINT64_MAX;
  }
  return static_cast<uint64_t>(mantissa) << exp;
}

size_t BuildEmptyReceiverReport(uint32_t sender_ssrc, std::span<uint8_t> out) {
  if (out.size() < 8) {
    return 0;
  }
  Header(out.data(), 0, kRtcpReceiverReport, 8);
  Put32(out.data() + 4, sender_ssrc);
  return 8;
}

size_t BuildReceiverReport(uint32_t sender_ssrc, std::span<const ReportBlock> blocks,
                           std::span<uint8_t> out) {
  size_t bytes = 8 + 24 * blocks.size();
  if (blocks.size() > kMaxReportBlocks || out.size() < bytes) {
    return 0;
  }
  Header(out.data(), static_cast<uint8_t>(blocks.size()), kRtcpReceiverReport, bytes);
  Put32(out.data() + 4, sender_ssrc);
  for (size_t i = 0; i < blocks.size(); ++i) {
    WriteReportBlock(out.data() + 8 + 24 * i, blocks[i]);
  }
  return bytes;
}

size_t BuildSenderReport(const SenderInfo& info, std::span<uint8_t> out) {
  if (out.size() < 28) {
    return 0;
  }
  uint8_t* p = out.data();
  Header(p, 0, kRtcpSenderReport, 28);
  Put32(p + 4, info.ssrc);
  Put32(p + 8, static_cast<uint32_t>(info.ntp_timestamp >> 32));
  Put32(p + 12, static_cast<uint32_t>(info.ntp_timestamp));
  Put32(p + 16, info.rtp_timestamp);
  Put32(p + 20, info.packet_count);
  Put32(p + 24, info.octet_count);
  return 28;
}

bool SetMediaSsrc(std::span<uint8_t> packet, uint32_t ssrc) {
  if (packet.size() < 12 || (packet[0] >> 6) != 2 ||
      (packet[1] != kRtcpTransportFeedback && packet[1] != kRtcpPayloadFeedback)) {
    return false;
  }
  uint8_t format = packet[0] & 0x1F;
  if (packet[1] == kRtcpPayloadFeedback && format == 4) {
    // RFC 5104 §4.3.1.2: a FIR names its targets in the FCI, the media source field is 0.
    if (packet.size() < 20) {
      return false;
    }
    Put32(packet.data() + 12, ssrc);
    return true;
  }
  if (packet[1] == kRtcpPayloadFeedback && format == 15) {
    return false;  // REMB (or another application layer feedback): SSRCs live in the FCI
  }
  Put32(packet.data() + 8, ssrc);
  return true;
}

bool SetSenderSsrc(std::span<uint8_t> packet, uint32_t ssrc) {
  if (packet.size() < 8 || (packet[0] >> 6) != 2 ||
      (packet[1] != kRtcpSenderReport && packet[1] != kRtcpReceiverReport &&
       packet[1] != kRtcpTransportFeedback && packet[1] != kRtcpPayloadFeedback)) {
    return false;
  }
  Put32(packet.data() + 4, ssrc);
  return true;
}

}  // namespace ruche::rtc
