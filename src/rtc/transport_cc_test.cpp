// Transport-wide feedback: what the recorder builds reads back, through our parser, as what
// arrived and when (to the format's 250 µs); the parser reads the chunk kinds the recorder does
// not write, and refuses broken packets.
#include "rtc/transport_cc.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace ruche::rtc {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(100);

struct Parsed {
  TransportCcFeedback fb;
  std::vector<TransportCcStatus> statuses;
};

Parsed ParseOne(std::span<const uint8_t> bytes) {
  Parsed out;
  size_t packets = 0;
  EXPECT_TRUE(ForEachRtcpPacket(bytes, [&](const RtcpPacketView& p) {
    ++packets;
    EXPECT_TRUE(IsTransportWideCc(p));
    out.statuses.resize(70000);
    auto fb = ParseTransportCc(p, out.statuses);
    EXPECT_TRUE(fb);
    if (fb) {
      out.fb = *fb;
      out.statuses.resize(fb->statuses_written);
    }
  }));
  EXPECT_EQ(packets, 1u);
  return out;
}

TEST(TransportCc, FeedbackReadsBackAsWhatArrivedAndWhen) {
  TransportCcRecorder r;
  // Across the sequence wrap, with losses (65535, 5), a packet overtaken (1 after 2) and a
  // 100 ms stall (a large delta), in arrival order.
  std::vector<std::pair<uint16_t, int64_t>> order = {{65533, 0},   {65534, 1'000}, {0, 2'100},
                                                     {2, 4'000},   {1, 4'300},     {3, 104'300},
                                                     {4, 104'400}, {6, 110'000}};
  std::map<uint16_t, int64_t> arrived(order.begin(), order.end());
  for (auto [seq, us] : order) {
    r.OnPacket(seq, kT0 + microseconds(us));
  }
  ASSERT_TRUE(r.HasPending());
  std::vector<uint8_t> out(1500);
  size_t n = r.BuildFeedback(0x11, 0x22, out);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(n % 4, 0u);
  EXPECT_FALSE(r.HasPending());
  Parsed p = ParseOne(std::span<const uint8_t>(out.data(), n));
  EXPECT_EQ(p.fb.base_seq, 65533);
  EXPECT_EQ(p.fb.status_count, 10);  // 65533 … 6
  EXPECT_EQ(p.fb.feedback_count, 0);
  ASSERT_EQ(p.statuses.size(), 10u);
  const TransportCcStatus* first = nullptr;
  for (const auto& s : p.statuses) {
    auto it = arrived.find(s.seq);
    EXPECT_EQ(s.received, it != arrived.end()) << s.seq;
    if (!s.received) {
      continue;
    }
    if (first == nullptr) {
      first = &s;
      EXPECT_GE(s.arrival_us, 0);
      EXPECT_LT(s.arrival_us, 64000);
      continue;
    }
    // Times relative to the first received packet, to within the 250 µs unit.
    int64_t want = it->second - arrived[first->seq];
    EXPECT_NEAR(static_cast<double>(s.arrival_us - first->arrival_us), static_cast<double>(want),
                125.0)
        << s.seq;
  }
}

TEST(TransportCc, LatePacketsAfterTheirFeedbackAreNotReportedAgain) {
  TransportCcRecorder r;
  for (uint16_t s = 100; s < 110; ++s) {
    r.OnPacket(s, kT0 + microseconds(s * 1000));
  }
  std::vector<uint8_t> out(1500);
  ASSERT_GT(r.BuildFeedback(1, 2, out), 0u);
  r.OnPacket(105, kT0 + microseconds(200'000));  // a duplicate of a reported one
  EXPECT_FALSE(r.HasPending());
  r.OnPacket(111, kT0 + microseconds(211'000));
  size_t n = r.BuildFeedback(1, 2, out);
  ASSERT_GT(n, 0u);
  Parsed p = ParseOne(std::span<const uint8_t>(out.data(), n));
  EXPECT_EQ(p.fb.base_seq, 110);
  EXPECT_EQ(p.fb.feedback_count, 1);
  ASSERT_EQ(p.statuses.size(), 2u);
  EXPECT_FALSE(p.statuses[0].received);  // 110 never came
  EXPECT_TRUE(p.statuses[1].received);
}

TEST(TransportCc, ManyPacketsTakeSeveralFeedbacksAndNoneIsSkipped) {
  TransportCcRecorder r;
  for (int i = 0; i < 900; ++i) {
    if (i % 10 != 3) {
      r.OnPacket(static_cast<uint16_t>(i), kT0 + microseconds(i * 400));
    }
  }
  std::vector<uint8_t> out(1500);
  size_t total = 0;
  uint16_t expected_base = 0;
  for (int round = 0; r.HasPending(); ++round) {
    ASSERT_LT(round, 3);
    size_t n = r.BuildFeedback(1, 2, out);
    ASSERT_GT(n, 0u);
    EXPECT_LE(n, 1200u);
    Parsed p = ParseOne(std::span<const uint8_t>(out.data(), n));
    EXPECT_EQ(p.fb.base_seq, expected_base);
    for (const auto& s : p.statuses) {
      EXPECT_EQ(s.received, s.seq % 10 != 3) << s.seq;
    }
    expected_base = static_cast<uint16_t>(expected_base + p.fb.status_count);
    total += p.fb.status_count;
  }
  EXPECT_EQ(total, 900u);
}

TEST(TransportCc, ReadsRunLengthAndOneBitChunks) {
  // Base 10, 20 statuses: a run of 3 small deltas, then a one-bit vector of 14 (1, 0, 1, 0…),
  // then a run of 3 not-received. Deltas: 3 + 7 bytes.
  std::vector<uint8_t> p = {0xAF, 205, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 10, 0, 20, 0, 0, 5, 7};
  p.push_back(0x20);  // run length: T=0, S=01, length 3
  p.push_back(0x03);
  p.push_back(0xAA);  // one-bit vector: T=1 S=0, 10101010101010
  p.push_back(0xAA);
  p.push_back(0x00);  // run of 3 not received
  p.push_back(0x03);
  for (int i = 0; i < 10; ++i) {
    p.push_back(static_cast<uint8_t>(4 * (i + 1)));  // 1, 2, … ms
  }
  while (p.size() % 4 != 3) {
    p.push_back(0);
  }
  p.push_back(static_cast<uint8_t>(p.size() % 4 == 3 ? 0 : 0));
  size_t padding = p.size() - 20 - 6 - 10;
  p.back() = static_cast<uint8_t>(padding);
  p[3] = static_cast<uint8_t>(p.size() / 4 - 1);
  Parsed parsed = ParseOne(p);
  EXPECT_EQ(parsed.fb.reference_time, 5);
  EXPECT_EQ(parsed.fb.feedback_count, 7);
  ASSERT_EQ(parsed.statuses.size(), 20u);
  std::vector<bool> want = {true,  true, true,  true, false, true, false, true,  false, true,
                            false, true, false, true, false, true, false, false, false, false};
  int64_t time = 0;
  int delta = 0;
  for (size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(parsed.statuses[i].seq, 10 + i);
    EXPECT_EQ(parsed.statuses[i].received, want[i]) << i;
    if (want[i]) {
      time += 4 * (++delta) * 250;
      EXPECT_EQ(parsed.statuses[i].arrival_us, time) << i;
    }
  }
}

TEST(TransportCc, RefusesBrokenPackets) {
  std::vector<TransportCcStatus> statuses(100);
  auto parse = [&](std::vector<uint8_t> p) {
    p[3] = static_cast<uint8_t>(p.size() / 4 - 1);
    std::optional<TransportCcFeedback> fb;
    ForEachRtcpPacket(p, [&](const RtcpPacketView& v) { fb = ParseTransportCc(v, statuses); });
    return fb;
  };
  std::vector<uint8_t> header = {0x8F, 205, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 10, 0, 40, 0, 0, 5, 7};
  // 40 statuses announced, one chunk of 7 present (then 2 bytes of padding).
  auto short_chunks = header;
  short_chunks[0] |= 0x20;
  short_chunks.insert(short_chunks.end(), {0xD5, 0x55, 0, 2});
  EXPECT_FALSE(parse(short_chunks));
  // Padding longer than the packet's body.
  auto bad_padding = short_chunks;
  bad_padding[bad_padding.size() - 1] = 40;
  EXPECT_FALSE(parse(bad_padding));
  // A reserved symbol (11).
  auto reserved = header;
  reserved[15] = 1;
  reserved.insert(reserved.end(), {0xF0, 0x00, 0, 0});
  EXPECT_FALSE(parse(reserved));
  // Deltas missing: a run of 40 large deltas with no room for them.
  auto no_deltas = header;
  no_deltas.insert(no_deltas.end(), {0x40, 40, 0, 0});
  EXPECT_FALSE(parse(no_deltas));
  // A status count of 0.
  auto empty = header;
  empty[15] = 0;
  EXPECT_FALSE(parse(empty));
}

}  // namespace
}  // namespace ruche::rtc
