#pragma once
// What a receiver tells a sender about one RTP stream (RFC 3550 §6.4.1): loss since the last
// report and in all, the highest sequence number, interarrival jitter, and the time since the
// sender's last SR, from which the sender computes the round-trip time. Ruche keeps one per
// published stream and reports to the publisher once a second: the browser's bandwidth
// estimator uses the loss, and its getStats() shows remote-inbound-rtp (loss, jitter, RTT).
// O(1) per packet, no allocation.
#include <chrono>
#include <cstdint>

#include "rtc/rtcp_packet.hpp"

namespace ruche::rtc {

class ReceptionStats {
 public:
  using Clock = std::chrono::steady_clock;

  // One received packet (RFC 3550 A.1 sequence tracking, A.8 jitter). `clock_rate` is the
  // stream's RTP clock (48000 for Opus, 90000 for video).
  void OnPacket(uint16_t seq, uint32_t rtp_timestamp, uint32_t clock_rate, Clock::time_point now);
  // A sender report for this stream arrived: its NTP time stamp, for LSR/DLSR.
  void OnSenderReport(uint64_t ntp_timestamp, Clock::time_point now);
  // The report block for `ssrc` as of `now`; starts the next interval for fraction_lost.
  // False before any packet was received.
  bool Report(uint32_t ssrc, Clock::time_point now, ReportBlock& block);

 private:
  bool started_ = false;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;  // count of sequence number wraps, << 16
  uint32_t base_seq_ = 0;
  uint32_t bad_seq_ = 0x10000;  // a jump waiting for confirmation (RFC 3550 A.1)
  uint32_t received_ = 0;
  uint32_t expected_prior_ = 0;
  uint32_t received_prior_ = 0;
  // Jitter in RTP units, times 16 (the A.8 fixed-point form).
  uint32_t jitter_q4_ = 0;
  int64_t last_transit_ = 0;
  bool have_transit_ = false;
  uint32_t last_sr_ = 0;  // the middle 32 bits of the last SR's NTP time stamp
  Clock::time_point last_sr_at_{};
};

}  // namespace ruche::rtc
