#pragma once
// RTCP (RFC 3550 §6, RFC 4585 feedback, RFC 5104 FIR): iteration over compound packets, sender
// and receiver reports, the feedback an SFU routes (PLI, FIR, generic NACK, REMB), builders for
// what Ruche sends and in-place SSRC rewriting. Views over the caller's bytes; nothing allocates.
#include <cstddef>
#include <cstdint>
#include <span>

#include "rtc/byte_order.hpp"

namespace ruche::rtc {

inline constexpr uint8_t kRtcpSenderReport = 200;
inline constexpr uint8_t kRtcpReceiverReport = 201;
inline constexpr uint8_t kRtcpSdes = 202;
inline constexpr uint8_t kRtcpBye = 203;
inline constexpr uint8_t kRtcpTransportFeedback = 205;  // RTPFB
inline constexpr uint8_t kRtcpPayloadFeedback = 206;    // PSFB
inline constexpr size_t kMaxRtcpPacketsPerCompound = 64;

// One packet of a compound: `bytes` spans its header and body.
struct RtcpPacketView {
  uint8_t count_or_format = 0;  // RC / SC / FMT: the low 5 bits of the first byte
  uint8_t packet_type = 0;
  std::span<const uint8_t> bytes;
};

// Calls `fn(const RtcpPacketView&)` for each packet of `compound`; stops (returning false) at
// the first malformed one: version ≠ 2, a length past the end, more than 64 packets. Packets
// before it have been seen: what is well formed is used (RFC 3550 §6.1 gives no better rule).
template <typename Fn>
bool ForEachRtcpPacket(std::span<const uint8_t> compound, Fn&& fn);

// RFC 3550 §6.4.1: the sender information of an SR.
struct SenderInfo {
  uint32_t ssrc = 0;
  uint64_t ntp_timestamp = 0;  // 32.32 fixed point seconds since 1900
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
};
// RFC 3550 §6.4.1: one reception report block of an SR or RR.
struct ReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;      // of 256
  int32_t cumulative_lost = 0;    // 24-bit signed: duplicates can make it negative
  uint32_t highest_sequence = 0;  // extended: cycles << 16 | highest sequence number
  uint32_t jitter = 0;
  uint32_t last_sr = 0;              // middle 32 bits of the last SR's NTP timestamp
  uint32_t delay_since_last_sr = 0;  // in 1/65536 s
};
inline constexpr size_t kMaxReportBlocks = 31;  // RC is 5 bits

bool IsSenderReport(const RtcpPacketView& p);    // PT 200 with room for its RC blocks
bool IsReceiverReport(const RtcpPacketView& p);  // PT 201 with room for its RC blocks
// The sender information of an SR; zeroes when `p` is not one.
SenderInfo SenderInfoOf(const RtcpPacketView& p);
// Calls `fn(const ReportBlock&)` for each report block of an SR or RR; false (calling nothing)
// when `p` is neither or its RC blocks do not fit.
template <typename Fn>
bool ForEachReportBlock(const RtcpPacketView& p, Fn&& fn);

bool IsPictureLossIndication(const RtcpPacketView& p);  // PSFB FMT 1 (RFC 4585 §6.3.1)
bool IsFullIntraRequest(const RtcpPacketView& p);       // PSFB FMT 4 (RFC 5104 §4.3.1)
bool IsGenericNack(const RtcpPacketView& p);            // RTPFB FMT 1 (RFC 4585 §6.2.1)
bool IsTransportWideCc(const RtcpPacketView& p);        // RTPFB FMT 15
bool IsRemb(const RtcpPacketView& p);                   // PSFB FMT 15 with "REMB"
bool IsSdes(const RtcpPacketView& p);                   // PT 202; contents not read
bool IsBye(const RtcpPacketView& p);                    // PT 203; contents not read

// The SSRC a feedback packet is about: "SSRC of media source" (RFC 4585 §6.1); for FIR the
// first FCI entry's SSRC (the media source field is 0 there). 0 when absent.
uint32_t MediaSsrcOf(const RtcpPacketView& p);
// The sender SSRC of any packet but SDES/BYE lists (0 when too short).
uint32_t SenderSsrcOf(const RtcpPacketView& p);

// Calls `fn(uint16_t seq)` for each sequence number a generic NACK reports lost (PID and each
// bit of BLP).
template <typename Fn>
void ForEachNackedSequence(const RtcpPacketView& nack, Fn&& fn);
// Calls `fn(uint32_t ssrc, uint8_t seq_nr)` for each FCI entry of a FIR (RFC 5104 §4.3.1.1).
template <typename Fn>
void ForEachFirEntry(const RtcpPacketView& fir, Fn&& fn);
// Calls `fn(uint32_t ssrc)` for each SSRC a REMB applies to; false (calling nothing) when `p` is
// not a REMB or its SSRC count runs past the packet.
template <typename Fn>
bool ForEachRembSsrc(const RtcpPacketView& p, Fn&& fn);

// Builders: return the bytes written, 0 when `out` is too small.
size_t BuildPli(uint32_t sender_ssrc, uint32_t media_ssrc, std::span<uint8_t> out);
size_t BuildFir(uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t seq_nr, std::span<uint8_t> out);
// Packs `seqs` (ascending or not) into PID/BLP items, at most 64 items.
size_t BuildNack(uint32_t sender_ssrc, uint32_t media_ssrc, std::span<const uint16_t> seqs,
                 std::span<uint8_t> out);
// REMB (draft-alvestrand-rmcat-remb-03): the bitrate the sender may use, for `ssrcs` (≤ 255).
size_t BuildRemb(uint32_t sender_ssrc, uint64_t bitrate_bps, std::span<const uint32_t> ssrcs,
                 std::span<uint8_t> out);
// The bitrate of a REMB packet (0 when not one; saturates rather than overflow).
uint64_t RembBitrate(const RtcpPacketView& p);
// A receiver report with no report blocks (keeps the compound rule: RR first).
size_t BuildEmptyReceiverReport(uint32_t sender_ssrc, std::span<uint8_t> out);
// A receiver report with `blocks` (at most kMaxReportBlocks; cumulative_lost is clamped to
// 24 bits signed).
size_t BuildReceiverReport(uint32_t sender_ssrc, std::span<const ReportBlock> blocks,
                           std::span<uint8_t> out);
// A sender report without report blocks (`info.ssrc` is the sender).
size_t BuildSenderReport(const SenderInfo& info, std::span<uint8_t> out);

// Rewrite in place the one packet `packet` spans (a RtcpPacketView's bytes, made mutable): the
// media source SSRC of RTPFB/PSFB feedback (for a FIR, its first FCI entry's SSRC — the media
// source field is 0 there; a REMB has none and is left alone); the sender SSRC of an SR, RR or
// feedback packet. False, changing nothing, when `packet` is not such a packet.
bool SetMediaSsrc(std::span<uint8_t> packet, uint32_t ssrc);
bool SetSenderSsrc(std::span<uint8_t> packet, uint32_t ssrc);

// ---- implementation of the templates ----

namespace rtcp_detail {
ReportBlock ReadReportBlock(const uint8_t* p);
}  // namespace rtcp_detail

template <typename Fn>
bool ForEachRtcpPacket(std::span<const uint8_t> compound, Fn&& fn) {
  size_t at = 0;
  size_t count = 0;
  while (at < compound.size()) {
    if (compound.size() - at < 4 || (compound[at] >> 6) != 2 ||
        ++count > kMaxRtcpPacketsPerCompound) {
      return false;
    }
    size_t length = (static_cast<size_t>(Get16(compound.data() + at + 2)) + 1) * 4;
    if (compound.size() - at < length) {
      return false;
    }
    RtcpPacketView view{static_cast<uint8_t>(compound[at] & 0x1F), compound[at + 1],
                        compound.subspan(at, length)};
    fn(view);
    at += length;
  }
  return true;
}

template <typename Fn>
void ForEachNackedSequence(const RtcpPacketView& nack, Fn&& fn) {
  // Header (4) + sender SSRC (4) + media SSRC (4), then FCI items of PID (16) + BLP (16).
  for (size_t at = 12; at + 4 <= nack.bytes.size(); at += 4) {
    uint16_t pid = Get16(nack.bytes.data() + at);
    uint16_t blp = Get16(nack.bytes.data() + at + 2);
    fn(pid);
    for (int bit = 0; bit < 16; ++bit) {
      if ((blp >> bit) & 1) {
        fn(static_cast<uint16_t>(pid + bit + 1));
      }
    }
  }
}

template <typename Fn>
bool ForEachReportBlock(const RtcpPacketView& p, Fn&& fn) {
  size_t first;
  if (IsSenderReport(p)) {
    first = 28;  // header, SSRC, sender info (§6.4.1)
  } else if (IsReceiverReport(p)) {
    first = 8;  // header, SSRC (§6.4.2)
  } else {
    return false;
  }
  for (size_t i = 0; i < p.count_or_format; ++i) {
    fn(rtcp_detail::ReadReportBlock(p.bytes.data() + first + 24 * i));
  }
  return true;
}

template <typename Fn>
void ForEachFirEntry(const RtcpPacketView& fir, Fn&& fn) {
  if (!IsFullIntraRequest(fir)) {
    return;
  }
  // Header, sender SSRC, media source (0), then FCI entries of SSRC (32) + seq nr (8) + 24 bits.
  for (size_t at = 12; at + 8 <= fir.bytes.size(); at += 8) {
    fn(Get32(fir.bytes.data() + at), fir.bytes[at + 4]);
  }
}

template <typename Fn>
bool ForEachRembSsrc(const RtcpPacketView& p, Fn&& fn) {
  if (!IsRemb(p) || p.bytes.size() - 20 < 4 * static_cast<size_t>(p.bytes[16])) {
    return false;
  }
  for (size_t i = 0; i < p.bytes[16]; ++i) {
    fn(Get32(p.bytes.data() + 20 + 4 * i));
  }
  return true;
}

}  // namespace ruche::rtc
