#include "rtc/rtcp_packet.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace ruche::rtc {
namespace {

std::vector<RtcpPacketView> All(std::span<const uint8_t> compound, bool* ok = nullptr) {
  std::vector<RtcpPacketView> out;
  bool r = ForEachRtcpPacket(compound, [&](const RtcpPacketView& p) { out.push_back(p); });
  if (ok != nullptr) {
    *ok = r;
  }
  return out;
}

TEST(Rtcp, PliRoundTrip) {
  uint8_t buf[64];
  size_t n = BuildPli(0x11223344, 0x55667788, buf);
  ASSERT_EQ(n, 12u);
  auto packets = All(std::span<const uint8_t>(buf, n));
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_TRUE(IsPictureLossIndication(packets[0]));
  EXPECT_FALSE(IsGenericNack(packets[0]));
  EXPECT_EQ(SenderSsrcOf(packets[0]), 0x11223344u);
  EXPECT_EQ(MediaSsrcOf(packets[0]), 0x55667788u);
  SetMediaSsrc(std::span<uint8_t>(buf, n), 9);
  EXPECT_EQ(MediaSsrcOf(All(std::span<const uint8_t>(buf, n))[0]), 9u);
  EXPECT_EQ(BuildPli(1, 2, std::span<uint8_t>(buf, 11)), 0u);
}

TEST(Rtcp, FirRoundTrip) {
  uint8_t buf[64];
  size_t n = BuildFir(1, 0xCAFE, 7, buf);
  auto packets = All(std::span<const uint8_t>(buf, n));
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_TRUE(IsFullIntraRequest(packets[0]));
  EXPECT_EQ(MediaSsrcOf(packets[0]), 0xCAFEu);
}

TEST(Rtcp, NackPacksAndExpandsSequenceNumbers) {
  // Across the wrap, with a duplicate and a gap larger than 16.
  std::vector<uint16_t> lost = {65534, 65535, 0, 3, 3, 16, 40};
  uint8_t buf[256];
  size_t n = BuildNack(1, 2, lost, buf);
  ASSERT_GT(n, 0u);
  auto packets = All(std::span<const uint8_t>(buf, n));
  ASSERT_EQ(packets.size(), 1u);
  ASSERT_TRUE(IsGenericNack(packets[0]));
  EXPECT_EQ(MediaSsrcOf(packets[0]), 2u);
  std::set<uint16_t> got;
  ForEachNackedSequence(packets[0], [&](uint16_t s) { got.insert(s); });
  EXPECT_EQ(got, (std::set<uint16_t>{65534, 65535, 0, 3, 16, 40}));
  // 65534 carries 65535, 0, 3 and 16? (16 - 65534 = 18 > 16: no) -> items 65534 and 16, then 40.
  EXPECT_EQ(n, 12u + 3 * 4);
}

TEST(Rtcp, IteratesACompoundAndStopsAtMalformedPackets) {
  // SR (no report blocks) + SDES (one chunk, CNAME "ab") + PLI.
  std::vector<uint8_t> compound = {
      0x80, 200, 0x00, 0x06, 0, 0, 0, 1,  1,    2,   3,    4,    5, 6, 7, 8, 0, 0, 0,   9,
      0,    0,   0,    10,   0, 0, 0, 11, 0x81, 202, 0x00, 0x02, 0, 0, 0, 1, 1, 2, 'a', 'b',
  };
  uint8_t pli[12];
  BuildPli(1, 7, pli);
  compound.insert(compound.end(), pli, pli + 12);
  bool ok = false;
  auto packets = All(compound, &ok);
  EXPECT_TRUE(ok);
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(packets[0].packet_type, kRtcpSenderReport);
  EXPECT_EQ(SenderSsrcOf(packets[0]), 1u);
  EXPECT_EQ(packets[1].packet_type, kRtcpSdes);
  EXPECT_EQ(SenderSsrcOf(packets[1]), 0u);
  EXPECT_TRUE(IsPictureLossIndication(packets[2]));

  auto truncated = compound;
  truncated.pop_back();
  All(truncated, &ok);
  EXPECT_FALSE(ok);
  auto bad_version = compound;
  bad_version[0] = 0x40;
  EXPECT_TRUE(All(bad_version, &ok).empty());
  EXPECT_FALSE(ok);
  // More than 64 packets in one compound.
  std::vector<uint8_t> many;
  for (int i = 0; i < 65; ++i) {
    many.insert(many.end(), pli, pli + 12);
  }
  EXPECT_EQ(All(many, &ok).size(), 64u);
  EXPECT_FALSE(ok);
}

TEST(Rtcp, RembRoundTrip) {
  uint8_t buf[64];
  const uint32_t ssrcs[] = {11, 22, 33};
  size_t n = BuildRemb(1, 3'000'000, ssrcs, buf);
  ASSERT_EQ(n, 32u);
  auto p = All(std::span<const uint8_t>(buf, n));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(IsRemb(p[0]));
  // 3,000,000 needs an exponent: the mantissa keeps 18 bits, so the value is rounded down.
  uint64_t back = RembBitrate(p[0]);
  EXPECT_LE(back, 3'000'000u);
  EXPECT_GT(back, 2'990'000u);
  EXPECT_EQ(RembBitrate(All(std::span<const uint8_t>(buf, BuildRemb(1, 1000, ssrcs, buf)))[0]),
            1000u);
}

TEST(Rtcp, RecognisesRembAndTransportCc) {
  std::vector<uint8_t> remb = {0x8F, 206, 0,   4,   0,   0,   0, 1, 0, 0,
                               0,    0,   'R', 'E', 'M', 'B', 1, 0, 0, 0};
  auto p = All(remb);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(IsRemb(p[0]));
  std::vector<uint8_t> twcc = {0x8F, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0};
  EXPECT_TRUE(IsTransportWideCc(All(twcc)[0]));
  uint8_t rr[8];
  ASSERT_EQ(BuildEmptyReceiverReport(5, rr), 8u);
  EXPECT_EQ(All(std::span<const uint8_t>(rr, 8))[0].packet_type, kRtcpReceiverReport);
}

}  // namespace
}  // namespace ruche::rtc
