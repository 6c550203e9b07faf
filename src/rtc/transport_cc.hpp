#pragma once
// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
// §3.1, RTPFB FMT 15): the receiver reports, for every packet carrying the transport-wide
// sequence number header extension, whether and when it arrived. The sender's congestion
// controller (a browser's GoogCC) reads delay growth and loss from it and sets its bitrate.
//
// TransportCcRecorder is Ruche's receiving side toward a publisher: O(1) per packet into a fixed
// ring, one feedback packet built per interval. ParseTransportCc reads any such packet (all
// three chunk kinds), for tests, fuzzing and the sending side.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "rtc/rtcp_packet.hpp"

namespace ruche::rtc {

class TransportCcRecorder {
 public:
  using Clock = std::chrono::steady_clock;
  // Statuses per feedback packet: at most 20 + 2 × 72 + 2 × 500 bytes, under any MTU.
  static constexpr size_t kMaxStatusesPerFeedback = 500;

  TransportCcRecorder();
  // The packet numbered `seq` arrived at `arrival`. Packets older than the last feedback's are
  // ignored (already reported lost); a jump of more than the ring's span starts over there.
  void OnPacket(uint16_t seq, Clock::time_point arrival);
  bool HasPending() const { return started_ && pending_; }
  // One feedback packet covering the oldest unreported packets (up to the highest seen, at most
  // kMaxStatusesPerFeedback). Returns the bytes written; 0 when nothing is pending or `out` is
  // smaller than 1,200 bytes. Call again while HasPending() to send the rest.
  size_t BuildFeedback(uint32_t sender_ssrc, uint32_t media_ssrc, std::span<uint8_t> out);

 private:
  static constexpr size_t kRing = 1024;  // packets kept between feedbacks (power of two)
  static constexpr int64_t kNoArrival = INT64_MIN;
  std::array<int64_t, kRing> arrival_us_;  // by seq % kRing
  bool started_ = false;
  bool pending_ = false;
  uint16_t next_seq_ = 0;     // the first packet the next feedback reports
  uint16_t highest_seq_ = 0;  // the newest packet seen
  uint8_t feedback_count_ = 0;
};

// One packet's fate in a feedback packet.
struct TransportCcStatus {
  uint16_t seq = 0;
  bool received = false;
  // Arrival relative to the feedback's reference time, in microseconds (250 µs resolution).
  int64_t arrival_us = 0;
};

struct TransportCcFeedback {
  uint16_t base_seq = 0;
  uint16_t status_count = 0;
  int32_t reference_time = 0;  // 24-bit signed, in units of 64 ms
  uint8_t feedback_count = 0;
  size_t statuses_written = 0;  // into the caller's span (at most its size)
};

// Reads a transport-wide feedback packet (`IsTransportWideCc(p)`): header fields, and the first
// `statuses.size()` statuses. nullopt when malformed: chunks or deltas past the end, a reserved
// symbol, a status count of 0.
std::optional<TransportCcFeedback> ParseTransportCc(const RtcpPacketView& p,
                                                    std::span<TransportCcStatus> statuses);

}  // namespace ruche::rtc
