#include "rtc/reception_stats.hpp"

#include <algorithm>
#include <cstdlib>

namespace ruche::rtc {
namespace {

// RFC 3550 A.1's bounds: a jump further than this ahead, or more than kMaxMisorder behind, is
// a restart of the sender's numbering unless confirmed by the next packet.
constexpr uint16_t kMaxDropout = 3000;
constexpr uint16_t kMaxMisorder = 100;

}  // namespace

void ReceptionStats::OnPacket(uint16_t seq, uint32_t rtp_timestamp, uint32_t clock_rate,
                              Clock::time_point now) {
  if (!started_) {
    started_ = true;
    max_seq_ = seq;
    base_seq_ = seq;
  } else {
    auto delta = static_cast<uint16_t>(seq - max_seq_);
    if (delta < kMaxDropout) {
      if (seq < max_seq_) {
        cycles_ += 0x10000;  // wrapped
      }
      max_seq_ = seq;
    } else if (delta <= 0xFFFF - kMaxMisorder) {
      // A big jump: a new numbering if the next packet follows it, else a stray packet.
      if (seq != bad_seq_) {
        bad_seq_ = static_cast<uint16_t>(seq + 1);
        return;
      }
      max_seq_ = seq;
      cycles_ = 0;
      base_seq_ = seq;
      received_ = 0;
      expected_prior_ = 0;
      received_prior_ = 0;
    }
    // else: a duplicate or a late packet; counted as received, as RFC 3550 does.
  }
  received_++;
  // Interarrival jitter (A.8): the change in transit time, arrival measured in RTP units.
  if (clock_rate != 0) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    auto arrival = static_cast<int64_t>(static_cast<__int128>(ns) * clock_rate / 1'000'000'000);
    int64_t transit = arrival - static_cast<int64_t>(rtp_timestamp);
    if (have_transit_) {
      // RTP time stamps wrap at 32 bits: the difference is taken modulo 2^32.
      auto d = static_cast<int32_t>(static_cast<uint32_t>(transit - last_transit_));
      uint32_t magnitude =
          d < 0 ? static_cast<uint32_t>(-static_cast<int64_t>(d)) : static_cast<uint32_t>(d);
      magnitude = std::min<uint32_t>(magnitude, 1u << 26);  // a stall, not jitter: bounded
      jitter_q4_ += magnitude - ((jitter_q4_ + 8) >> 4);
    }
    last_transit_ = transit;
    have_transit_ = true;
  }
}

void ReceptionStats::OnSenderReport(uint64_t ntp_timestamp, Clock::time_point now) {
  last_sr_ = static_cast<uint32_t>(ntp_timestamp >> 16);
  last_sr_at_ = now;
}

bool ReceptionStats::Report(uint32_t ssrc, Clock::time_point now, ReportBlock& block) {
  if (!started_) {
    return false;
  }
  uint32_t extended_max = cycles_ + max_seq_;
  uint32_t expected = extended_max - base_seq_ + 1;
  block = ReportBlock{};
  block.ssrc = ssrc;
  block.highest_sequence = extended_max;
  // Duplicates can make the loss negative (RFC 3550 §6.4.1); the builder clamps to 24 bits.
  block.cumulative_lost = static_cast<int32_t>(static_cast<int64_t>(expected) - received_);
  uint32_t expected_interval = expected - expected_prior_;
  uint32_t received_interval = received_ - received_prior_;
  expected_prior_ = expected;
  received_prior_ = received_;
  if (expected_interval != 0 && expected_interval > received_interval) {
    uint64_t lost = expected_interval - received_interval;
    block.fraction_lost =
        static_cast<uint8_t>(std::min<uint64_t>(255, (lost << 8) / expected_interval));
  }
  block.jitter = jitter_q4_ >> 4;
  if (last_sr_at_ != Clock::time_point{}) {
    block.last_sr = last_sr_;
    auto since = std::chrono::duration_cast<std::chrono::microseconds>(now - last_sr_at_).count();
    block.delay_since_last_sr =
        static_cast<uint32_t>(std::max<int64_t>(0, since) * 65536 / 1'000'000);
  }
  return true;
}

}  // namespace ruche::rtc
