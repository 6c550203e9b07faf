#pragma once
// RTCP (RFC 3550 §6, RFC 4585 feedback, RFC 5104 FIR): iteration over compound packets, the
// feedback an SFU routes (PLI, FIR, generic NACK), and builders for what Ruche sends. Views over
// the caller's bytes; nothing allocates.
#include <cstddef>
#include <cstdint>
#include <span>

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
// the first malformed one: version ≠ 2, a length past the end, more than 64 packets.
template <typename Fn>
bool ForEachRtcpPacket(std::span<const uint8_t> compound, Fn&& fn);

bool IsPictureLossIndication(const RtcpPacketView& p);  // PSFB FMT 1 (RFC 4585 §6.3.1)
bool IsFullIntraRequest(const RtcpPacketView& p);       // PSFB FMT 4 (RFC 5104 §4.3.1)
bool IsGenericNack(const RtcpPacketView& p);            // RTPFB FMT 1 (RFC 4585 §6.2.1)
bool IsTransportWideCc(const RtcpPacketView& p);        // RTPFB FMT 15
bool IsRemb(const RtcpPacketView& p);                   // PSFB FMT 15 with "REMB"

// The SSRC a feedback packet is about: "SSRC of media source" (RFC 4585 §6.1); for FIR the
// first FCI entry's SSRC (the media source field is 0 there). 0 when absent.
uint32_t MediaSsrcOf(const RtcpPacketView& p);
// The sender SSRC of any packet but SDES/BYE lists (0 when too short).
uint32_t SenderSsrcOf(const RtcpPacketView& p);

// Calls `fn(uint16_t seq)` for each sequence number a generic NACK reports lost (PID and each
// bit of BLP).
template <typename Fn>
void ForEachNackedSequence(const RtcpPacketView& nack, Fn&& fn);

// Builders: return the bytes written, 0 when `out` is too small.
size_t BuildPli(uint32_t sender_ssrc, uint32_t media_ssrc, std::span<uint8_t> out);
size_t BuildFir(uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t seq_nr, std::span<uint8_t> out);
// Packs `seqs` (ascending or not) into PID/BLP items, at most 64 items.
size_t BuildNack(uint32_t sender_ssrc, uint32_t media_ssrc, std::span<const uint16_t> seqs,
                 std::span<uint8_t> out);
// REMB (draft-alvestrand-rmcat-remb-03): the bitrate the sender may use, for `ssrcs` (≤ 255).
size_t BuildRemb(uint32_t sender_ssrc, uint64_t bitrate_bps, std::span<const uint32_t> ssrcs,
                 std::span<uint8_t> out);
// The bitrate of a REMB packet (0 when not one).
uint64_t RembBitrate(const RtcpPacketView& p);
// A receiver report with no report blocks (keeps the compound rule: RR first).
size_t BuildEmptyReceiverReport(uint32_t sender_ssrc, std::span<uint8_t> out);

// Rewrites in place: the media source SSRC of a PLI/NACK (and a FIR's first entry); the
// sender SSRC of an SR.
void SetMediaSsrc(std::span<uint8_t> packet, uint32_t ssrc);
void SetSenderSsrc(std::span<uint8_t> packet, uint32_t ssrc);

// ---- implementation of the templates ----

namespace rtcp_detail {
inline uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
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
    size_t length = (static_cast<size_t>(rtcp_detail::Get16(compound.data() + at + 2)) + 1) * 4;
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
    uint16_t pid = rtcp_detail::Get16(nack.bytes.data() + at);
    uint16_t blp = rtcp_detail::Get16(nack.bytes.data() + at + 2);
    fn(pid);
    for (int bit = 0; bit < 16; ++bit) {
      if ((blp >> bit) & 1) {
        fn(static_cast<uint16_t>(pid + bit + 1));
      }
    }
  }
}

}  // namespace ruche::rtc
