#include "rtc/transport_cc.hpp"

#include <algorithm>
#include <cassert>

#include "rtc/byte_order.hpp"

namespace ruche::rtc {
namespace {

constexpr int64_t kDeltaUnitUs = 250;        // receive deltas count quarter milliseconds
constexpr int64_t kReferenceUnitUs = 64000;  // the reference time counts 64 ms
constexpr size_t kHeaderSize = 20;           // RTCP header, SSRCs, base, count, ref, fb count
constexpr size_t kMinOut = 1200;

enum Symbol : uint8_t { kNotReceived = 0, kSmallDelta = 1, kLargeDelta = 2 };

int64_t Micros(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

TransportCcRecorder::TransportCcRecorder() { arrival_us_.fill(kNoArrival); }

void TransportCcRecorder::OnPacket(uint16_t seq, Clock::time_point arrival) {
  int64_t us = Micros(arrival);
  if (!started_) {
    started_ = true;
    next_seq_ = seq;
    highest_seq_ = seq;
  }
  auto ahead_of_base = static_cast<uint16_t>(seq - next_seq_);
  if (ahead_of_base >= 0x8000) {
    return;  // before the last feedback's range: reported lost already
  }
  if (ahead_of_base >= kRing) {
    // Far ahead (a gap of over a thousand packets, or the sender restarted its numbering):
    // what lies between is forgotten and reporting starts at this packet.
    arrival_us_.fill(kNoArrival);
    next_seq_ = seq;
    highest_seq_ = seq;
  }
  arrival_us_[seq % kRing] = us;
  if (static_cast<uint16_t>(seq - highest_seq_) < 0x8000) {
    highest_seq_ = seq;
  }
  pending_ = true;
}

size_t TransportCcRecorder::BuildFeedback(uint32_t sender_ssrc, uint32_t media_ssrc,
                                          std::span<uint8_t> out) {
  if (!HasPending() || out.size() < kMinOut) {
    return 0;
  }
  size_t count = std::min<size_t>(static_cast<uint16_t>(highest_seq_ - next_seq_) + 1,
                                  kMaxStatusesPerFeedback);
  // The reference time comes from the first packet received in the range (or, when the range
  // holds only losses, from the newest packet, which always arrived).
  int64_t first_arrival = kNoArrival;
  for (size_t i = 0; i < count && first_arrival == kNoArrival; ++i) {
    first_arrival = arrival_us_[(next_seq_ + i) % kRing];
  }
  if (first_arrival == kNoArrival) {
    first_arrival = arrival_us_[highest_seq_ % kRing];
  }
  int64_t reference = first_arrival >= 0
                          ? first_arrival / kReferenceUnitUs
                          : (first_arrival - kReferenceUnitUs + 1) / kReferenceUnitUs;
  // Statuses and deltas first (a delta too large even for two bytes ends the packet there).
  std::array<uint8_t, kMaxStatusesPerFeedback> symbols;
  std::array<int16_t, kMaxStatusesPerFeedback> deltas;
  int64_t previous = reference * kReferenceUnitUs;
  size_t n = 0;
  for (; n < count; ++n) {
    int64_t t = arrival_us_[(next_seq_ + n) % kRing];
    if (t == kNoArrival) {
      symbols[n] = kNotReceived;
      continue;
    }
    // Rounded to the unit; the next delta starts from the rounded time, so errors never add up.
    int64_t diff = t - previous;
    int64_t ticks = diff >= 0 ? (diff + kDeltaUnitUs / 2) / kDeltaUnitUs
                              : -((-diff + kDeltaUnitUs / 2) / kDeltaUnitUs);
    if (ticks < INT16_MIN || ticks > INT16_MAX) {
      break;
    }
    symbols[n] = ticks >= 0 && ticks <= 255 ? kSmallDelta : kLargeDelta;
    deltas[n] = static_cast<int16_t>(ticks);
    previous += ticks * kDeltaUnitUs;
  }
  // The first received status is under 64 ms from its reference time: never cut.
  assert(n > 0);
  uint8_t* p = out.data();
  p[0] = 0x80 | 15;  // V=2, FMT 15; P set below when padded
  p[1] = kRtcpTransportFeedback;
  Put32(p + 4, sender_ssrc);
  Put32(p + 8, media_ssrc);
  Put16(p + 12, next_seq_);
  Put16(p + 14, static_cast<uint16_t>(n));
  auto ref24 = static_cast<uint32_t>(reference) & 0xFFFFFF;
  p[16] = static_cast<uint8_t>(ref24 >> 16);
  p[17] = static_cast<uint8_t>(ref24 >> 8);
  p[18] = static_cast<uint8_t>(ref24);
  p[19] = feedback_count_++;
  size_t at = kHeaderSize;
  // Two-bit status vector chunks, 7 symbols each (§3.1.4); the last one's tail reads "not
  // received" and lies beyond the status count.
  for (size_t i = 0; i < n; i += 7) {
    uint16_t chunk = 0xC000;  // T=1, S=1
    for (size_t j = 0; j < 7; ++j) {
      uint8_t s = i + j < n ? symbols[i + j] : uint8_t{kNotReceived};
      chunk |= static_cast<uint16_t>(s << (12 - 2 * j));
    }
    Put16(p + at, chunk);
    at += 2;
  }
  for (size_t i = 0; i < n; ++i) {
    if (symbols[i] == kSmallDelta) {
      p[at++] = static_cast<uint8_t>(deltas[i]);
    } else if (symbols[i] == kLargeDelta) {
      Put16(p + at, static_cast<uint16_t>(deltas[i]));
      at += 2;
    }
  }
  // RFC 3550 §6.4.1 padding: to a 32-bit boundary, the last octet counting the padding.
  size_t padding = (4 - at % 4) % 4;
  if (padding > 0) {
    std::fill(p + at, p + at + padding, 0);
    at += padding;
    p[at - 1] = static_cast<uint8_t>(padding);
    p[0] |= 0x20;
  }
  Put16(p + 2, static_cast<uint16_t>(at / 4 - 1));
  // Reported: the slots are free again.
  for (size_t i = 0; i < n; ++i) {
    arrival_us_[(next_seq_ + i) % kRing] = kNoArrival;
  }
  next_seq_ = static_cast<uint16_t>(next_seq_ + n);
  pending_ = static_cast<uint16_t>(highest_seq_ - next_seq_) < 0x8000;
  return at;
}

std::optional<TransportCcFeedback> ParseTransportCc(const RtcpPacketView& p,
                                                    std::span<TransportCcStatus> statuses) {
  if (!IsTransportWideCc(p) || p.bytes.size() < kHeaderSize) {
    return std::nullopt;
  }
  const uint8_t* b = p.bytes.data();
  size_t end = p.bytes.size();
  if ((b[0] & 0x20) != 0) {
    size_t padding = b[end - 1];
    if (padding == 0 || padding > end - kHeaderSize) {
      return std::nullopt;
    }
    end -= padding;
  }
  TransportCcFeedback fb;
  fb.base_seq = Get16(b + 12);
  fb.status_count = Get16(b + 14);
  uint32_t ref24 = (static_cast<uint32_t>(b[16]) << 16) | (b[17] << 8) | b[18];
  fb.reference_time = static_cast<int32_t>(ref24 << 8) >> 8;  // sign-extend 24 bits
  fb.feedback_count = b[19];
  if (fb.status_count == 0) {
    return std::nullopt;
  }
  // First pass: the chunks, yielding one symbol per status.
  size_t at = kHeaderSize;
  size_t seen = 0;
  size_t deltas_bytes = 0;
  size_t chunks_start = at;
  auto for_each_symbol = [&](auto&& fn) -> bool {
    size_t pos = chunks_start;
    size_t k = 0;
    while (k < fb.status_count) {
      if (pos + 2 > end) {
        return false;
      }
      uint16_t chunk = Get16(b + pos);
      pos += 2;
      if ((chunk & 0x8000) == 0) {  // run length: symbol, 13-bit length
        auto symbol = static_cast<uint8_t>((chunk >> 13) & 3);
        size_t run = chunk & 0x1FFF;
        for (size_t r = 0; r < run && k < fb.status_count; ++r, ++k) {
          if (!fn(symbol, k)) {
            return false;
          }
        }
      } else if ((chunk & 0x4000) == 0) {  // 14 one-bit symbols
        for (int j = 0; j < 14 && k < fb.status_count; ++j, ++k) {
          if (!fn(static_cast<uint8_t>((chunk >> (13 - j)) & 1), k)) {
            return false;
          }
        }
      } else {  // 7 two-bit symbols
        for (int j = 0; j < 7 && k < fb.status_count; ++j, ++k) {
          if (!fn(static_cast<uint8_t>((chunk >> (12 - 2 * j)) & 3), k)) {
            return false;
          }
        }
      }
    }
    at = pos;
    return true;
  };
  bool chunks_ok = for_each_symbol([&](uint8_t symbol, size_t) {
    if (symbol == 3) {
      return false;  // reserved
    }
    deltas_bytes += symbol;  // 0, 1 or 2 bytes
    return true;
  });
  if (!chunks_ok || at + deltas_bytes > end) {
    return std::nullopt;
  }
  // Second pass: statuses with their deltas, accumulated from the reference time.
  size_t delta_at = at;
  int64_t time = 0;
  for_each_symbol([&](uint8_t symbol, size_t k) {
    TransportCcStatus s;
    s.seq = static_cast<uint16_t>(fb.base_seq + k);
    if (symbol == kSmallDelta) {
      time += b[delta_at] * kDeltaUnitUs;
      delta_at += 1;
    } else if (symbol == kLargeDelta) {
      time += static_cast<int16_t>(Get16(b + delta_at)) * kDeltaUnitUs;
      delta_at += 2;
    }
    s.received = symbol != kNotReceived;
    s.arrival_us = s.received ? time : 0;
    if (seen < statuses.size()) {
      statuses[seen++] = s;
    }
    return true;
  });
  fb.statuses_written = seen;
  return fb;
}

}  // namespace ruche::rtc
