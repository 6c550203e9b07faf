#include "rtc/rtcp_packet.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>
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

TEST(Rtcp, ParsesASenderReportWithReportBlocks) {
  // SR from 0x01020304 with one report block about 0x0A0B0C0D: 5/256 lost, cumulative -3
  // (duplicates), extended highest 0x00011234, jitter 77, LSR 0x11112222, DLSR 0x00010000;
  // then an SDES with CNAME "ab".
  std::vector<uint8_t> compound = {0x81, 200,  0x00, 0x0C, 0x01, 0x02, 0x03, 0x04, 0xE5, 0x4B, 0x2A,
                                   0x10, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3A, 0x98, 0x00, 0x00,
                                   0x00, 0x64, 0x00, 0x01, 0x86, 0xA0, 0x0A, 0x0B, 0x0C, 0x0D, 0x05,
                                   0xFF, 0xFF, 0xFD, 0x00, 0x01, 0x12, 0x34, 0x00, 0x00, 0x00, 0x4D,
                                   0x11, 0x11, 0x22, 0x22, 0x00, 0x01, 0x00, 0x00, 0x81, 202,  0x00,
                                   0x02, 0x01, 0x02, 0x03, 0x04, 0x01, 0x02, 'a',  'b'};
  bool ok = false;
  auto packets = All(compound, &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(packets.size(), 2u);
  ASSERT_TRUE(IsSenderReport(packets[0]));
  EXPECT_FALSE(IsReceiverReport(packets[0]));
  SenderInfo info = SenderInfoOf(packets[0]);
  EXPECT_EQ(info.ssrc, 0x01020304u);
  EXPECT_EQ(info.ntp_timestamp, 0xE54B2A1080000000ull);
  EXPECT_EQ(info.rtp_timestamp, 15000u);
  EXPECT_EQ(info.packet_count, 100u);
  EXPECT_EQ(info.octet_count, 100000u);
  std::vector<ReportBlock> blocks;
  EXPECT_TRUE(ForEachReportBlock(packets[0], [&](const ReportBlock& b) { blocks.push_back(b); }));
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].ssrc, 0x0A0B0C0Du);
  EXPECT_EQ(blocks[0].fraction_lost, 5);
  EXPECT_EQ(blocks[0].cumulative_lost, -3);
  EXPECT_EQ(blocks[0].highest_sequence, 0x00011234u);
  EXPECT_EQ(blocks[0].jitter, 77u);
  EXPECT_EQ(blocks[0].last_sr, 0x11112222u);
  EXPECT_EQ(blocks[0].delay_since_last_sr, 0x00010000u);
  EXPECT_TRUE(IsSdes(packets[1]));
  EXPECT_FALSE(ForEachReportBlock(packets[1], [](const ReportBlock&) {}));
  EXPECT_EQ(SenderInfoOf(packets[1]).ssrc, 0u);

  // RC says two blocks but the length holds one: not an SR anyone may read blocks from.
  auto lying = compound;
  lying[0] = 0x82;
  packets = All(lying, &ok);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(IsSenderReport(packets[0]));
  EXPECT_FALSE(ForEachReportBlock(packets[0], [](const ReportBlock&) { FAIL(); }));
}

TEST(Rtcp, SenderReportRoundTripAndSsrcRewrite) {
  SenderInfo info{0xAABBCCDD, 0x0102030405060708ull, 90000, 12, 3456};
  uint8_t buf[64];
  size_t n = BuildSenderReport(info, buf);
  ASSERT_EQ(n, 28u);
  EXPECT_EQ(BuildSenderReport(info, std::span<uint8_t>(buf, 27)), 0u);
  // The SFU forwards a publisher's SR to each subscriber under that subscriber's SSRC.
  EXPECT_TRUE(SetSenderSsrc(std::span<uint8_t>(buf, n), 0x42));
  auto p = All(std::span<const uint8_t>(buf, n));
  ASSERT_EQ(p.size(), 1u);
  SenderInfo back = SenderInfoOf(p[0]);
  EXPECT_EQ(back.ssrc, 0x42u);
  EXPECT_EQ(back.ntp_timestamp, info.ntp_timestamp);
  EXPECT_EQ(back.rtp_timestamp, info.rtp_timestamp);
  EXPECT_EQ(back.packet_count, info.packet_count);
  EXPECT_EQ(back.octet_count, info.octet_count);
  EXPECT_EQ(SenderSsrcOf(p[0]), 0x42u);
  // Not an SR's media source, nor an SDES's sender.
  EXPECT_FALSE(SetMediaSsrc(std::span<uint8_t>(buf, n), 1));
  std::vector<uint8_t> sdes = {0x81, 202, 0x00, 0x02, 0, 0, 0, 1, 1, 2, 'a', 'b'};
  EXPECT_FALSE(SetSenderSsrc(sdes, 9));
  EXPECT_EQ(sdes[7], 1);
}

TEST(Rtcp, ReceiverReportRoundTrip) {
  ReportBlock a{0x11, 128, 1000, 0x0002FFFF, 5, 6, 7};
  ReportBlock b{0x22, 0, -0x900000, 1, 2, 3, 4};  // clamped to the most negative 24-bit value
  const ReportBlock blocks[] = {a, b};
  uint8_t buf[128];
  size_t n = BuildReceiverReport(0x99, blocks, buf);
  ASSERT_EQ(n, 8u + 48);
  EXPECT_EQ(BuildReceiverReport(0x99, blocks, std::span<uint8_t>(buf, 55)), 0u);
  auto p = All(std::span<const uint8_t>(buf, n));
  ASSERT_EQ(p.size(), 1u);
  ASSERT_TRUE(IsReceiverReport(p[0]));
  EXPECT_EQ(p[0].count_or_format, 2);
  EXPECT_EQ(SenderSsrcOf(p[0]), 0x99u);
  std::vector<ReportBlock> got;
  ForEachReportBlock(p[0], [&](const ReportBlock& r) { got.push_back(r); });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].ssrc, 0x11u);
  EXPECT_EQ(got[0].fraction_lost, 128);
  EXPECT_EQ(got[0].cumulative_lost, 1000);
  EXPECT_EQ(got[0].highest_sequence, 0x0002FFFFu);
  EXPECT_EQ(got[0].delay_since_last_sr, 7u);
  EXPECT_EQ(got[1].cumulative_lost, -0x800000);
  std::vector<ReportBlock> too_many(kMaxReportBlocks + 1);
  uint8_t big[1024];
  EXPECT_EQ(BuildReceiverReport(1, too_many, big), 0u);
  too_many.pop_back();
  EXPECT_EQ(BuildReceiverReport(1, too_many, big), 8u + 24 * kMaxReportBlocks);
}

TEST(Rtcp, FirEntriesAndRewrite) {
  // A FIR for two SSRCs (RFC 5104 §4.3.1: several FCI entries).
  std::vector<uint8_t> fir = {0x84, 206, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                              0,    5,   3,    0,    0, 0, 0, 0, 0, 6, 4, 0, 0, 0};
  auto p = All(fir);
  ASSERT_EQ(p.size(), 1u);
  ASSERT_TRUE(IsFullIntraRequest(p[0]));
  std::vector<std::pair<uint32_t, uint8_t>> entries;
  ForEachFirEntry(p[0], [&](uint32_t ssrc, uint8_t seq) { entries.emplace_back(ssrc, seq); });
  EXPECT_EQ(entries, (std::vector<std::pair<uint32_t, uint8_t>>{{5, 3}, {6, 4}}));
  EXPECT_EQ(MediaSsrcOf(p[0]), 5u);
  EXPECT_TRUE(SetMediaSsrc(fir, 77));
  EXPECT_EQ(MediaSsrcOf(All(fir)[0]), 77u);
  EXPECT_EQ(fir[11], 0);  // the media source field stays 0
  // A PLI is not a FIR: no entries.
  uint8_t pli[12];
  BuildPli(1, 2, pli);
  ForEachFirEntry(All(std::span<const uint8_t>(pli, 12))[0], [](uint32_t, uint8_t) { FAIL(); });
}

TEST(Rtcp, NackRoundTripRewritesTheMediaSource) {
  // Every seq in [start, start + 200) with a stride, across the wrap: build, parse, compare.
  for (uint16_t start : {uint16_t{0}, uint16_t{65500}, uint16_t{32767}}) {
    for (int stride : {1, 3, 17, 40}) {
      std::vector<uint16_t> lost;
      for (int i = 0; i < 200; i += stride) {
        lost.push_back(static_cast<uint16_t>(start + i));
      }
      uint8_t buf[512];
      size_t n = BuildNack(0x1111, 0x2222, lost, buf);
      ASSERT_GT(n, 0u);
      auto p = All(std::span<const uint8_t>(buf, n));
      ASSERT_EQ(p.size(), 1u);
      ASSERT_TRUE(IsGenericNack(p[0]));
      EXPECT_TRUE(SetMediaSsrc(std::span<uint8_t>(buf, n), 0x3333));
      EXPECT_EQ(MediaSsrcOf(p[0]), 0x3333u);
      EXPECT_EQ(SenderSsrcOf(p[0]), 0x1111u);
      std::set<uint16_t> got;
      ForEachNackedSequence(p[0], [&](uint16_t s) { got.insert(s); });
      EXPECT_EQ(got, std::set<uint16_t>(lost.begin(), lost.end()))
          << "start " << start << " stride " << stride;
      // Consecutive losses pack 17 to an item.
      if (stride == 1) {
        EXPECT_EQ(n, 12u + 4 * ((200 + 16) / 17));
      }
    }
  }
  uint8_t buf[64];
  EXPECT_EQ(BuildNack(1, 2, {}, buf), 0u);
  const uint16_t one[] = {5};
  EXPECT_EQ(BuildNack(1, 2, one, std::span<uint8_t>(buf, 15)), 0u);
  EXPECT_EQ(BuildNack(1, 2, one, std::span<uint8_t>(buf, 16)), 16u);
}

TEST(Rtcp, RembSsrcsAndSaturation) {
  uint8_t buf[64];
  const uint32_t ssrcs[] = {11, 22, 33};
  size_t n = BuildRemb(1, 500'000, ssrcs, buf);
  auto p = All(std::span<const uint8_t>(buf, n));
  std::vector<uint32_t> got;
  EXPECT_TRUE(ForEachRembSsrc(p[0], [&](uint32_t s) { got.push_back(s); }));
  EXPECT_EQ(got, (std::vector<uint32_t>{11, 22, 33}));
  EXPECT_EQ(MediaSsrcOf(p[0]), 0u);
  EXPECT_FALSE(SetMediaSsrc(std::span<uint8_t>(buf, n), 5));  // REMB names SSRCs in its FCI
  // A count of SSRCs beyond the packet.
  buf[16] = 4;
  EXPECT_FALSE(ForEachRembSsrc(All(std::span<const uint8_t>(buf, n))[0], [](uint32_t) { FAIL(); }));
  // Exponent 63 with a full mantissa: saturates.
  std::vector<uint8_t> huge = {0x8F, 206, 0,   4,   0,   0,   0,    1,    0,    0,
                               0,    0,   'R', 'E', 'M', 'B', 0x00, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(RembBitrate(All(huge)[0]), UINT64_MAX);
  huge[17] = 46 << 2 | 3;  // 2^18 - 1 << 46 still fits
  EXPECT_EQ(RembBitrate(All(huge)[0]), 0x3FFFFull << 46);
}

TEST(Rtcp, ByeAndZeroLengthPackets) {
  // BYE for one SSRC, then an RR whose length field is 0 (just the header: a legal 4-byte
  // packet), then padding-free end.
  std::vector<uint8_t> compound = {0x81, 203, 0x00, 0x01, 0, 0, 0, 7, 0x80, 201, 0x00, 0x00};
  bool ok = false;
  auto p = All(compound, &ok);
  EXPECT_TRUE(ok);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_TRUE(IsBye(p[0]));
  EXPECT_EQ(SenderSsrcOf(p[0]), 0u);
  EXPECT_FALSE(IsReceiverReport(p[1]));  // too short for its SSRC
  EXPECT_EQ(SenderSsrcOf(p[1]), 0u);
  EXPECT_EQ(MediaSsrcOf(p[1]), 0u);
  // Trailing bytes shorter than a header.
  compound.push_back(0x80);
  All(compound, &ok);
  EXPECT_FALSE(ok);
}

}  // namespace
}  // namespace ruche::rtc
