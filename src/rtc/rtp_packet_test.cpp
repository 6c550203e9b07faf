#include "rtc/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ruche::rtc {
namespace {

// V=2, X=1, CC=1, M=1 PT=96, seq 0x1234, ts 0x01020304, SSRC 0xAABBCCDD, CSRC 0x11111111,
// one-byte extensions: id 1 (audio level 0x85: voice, level 5), id 4 (mid "0"), padding byte,
// then payload "ABCD".
std::vector<uint8_t> OneBytePacket() {
  return {0x91, 0xE0, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04,
          0xAA, 0xBB, 0xCC, 0xDD, 0x11, 0x11, 0x11, 0x11,  // CSRC
          0xBE, 0xDE, 0x00, 0x01,                          // one-byte profile, 1 word
          0x10, 0x85, 0x40, '0',                           // id1 len1, id4 len1
          'A',  'B',  'C',  'D'};
}

TEST(Rtp, ParsesHeaderCsrcAndOneByteExtensions) {
  auto buf = OneBytePacket();
  auto p = RtpPacket::Parse(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload_type(), 96);
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->sequence(), 0x1234);
  EXPECT_EQ(p->timestamp(), 0x01020304u);
  EXPECT_EQ(p->ssrc(), 0xAABBCCDDu);
  EXPECT_EQ(p->header_size(), 24u);
  EXPECT_EQ(std::string(p->payload().begin(), p->payload().end()), "ABCD");
  auto mid = p->Extension(4);
  EXPECT_EQ(std::string(mid.begin(), mid.end()), "0");
  EXPECT_TRUE(p->Extension(2).empty());
  EXPECT_EQ(AudioLevelOf(*p, 1), 5);
  EXPECT_FALSE(AudioLevelOf(*p, 3));
}

TEST(Rtp, RewritesInPlaceKeepingTheMarker) {
  auto buf = OneBytePacket();
  auto p = RtpPacket::Parse(buf);
  ASSERT_TRUE(p);
  p->set_payload_type(111);
  p->set_sequence(7);
  p->set_timestamp(0xFFFFFFFF);
  p->set_ssrc(42);
  auto again = RtpPacket::Parse(buf);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->payload_type(), 111);
  EXPECT_TRUE(again->marker());
  EXPECT_EQ(again->sequence(), 7);
  EXPECT_EQ(again->timestamp(), 0xFFFFFFFFu);
  EXPECT_EQ(again->ssrc(), 42u);
  EXPECT_EQ(again->Extension(4).size(), 1u);
}

TEST(Rtp, TwoByteExtensionsAndPadding) {
  std::vector<uint8_t> buf = {
      0xB0, 0x60, 0,    1,   0,    0,    0,    1,
      0,    0,    0,    9,   0x10, 0x00, 0x00, 0x02,  // two-byte profile, 2 words
      0x05, 0x03, 'a',  'b', 'c',  0x00, 0x07, 0x00,  // id5 "abc", id7 empty
      'X',  'Y',  0x00, 0x03};                        // payload "XY", 3 bytes of padding
  auto p = RtpPacket::Parse(buf);
  ASSERT_TRUE(p);
  auto v = p->Extension(5);
  EXPECT_EQ(std::string(v.begin(), v.end()), "abc");
  EXPECT_EQ(std::string(p->payload().begin(), p->payload().end()), "X");
  buf.back() = 0;  // a padding count of zero is invalid
  EXPECT_FALSE(RtpPacket::Parse(buf));
  buf.back() = 200;  // more padding than the packet
  EXPECT_FALSE(RtpPacket::Parse(buf));
}

TEST(Rtp, RejectsWhatIsNotRtp) {
  auto buf = OneBytePacket();
  std::vector<uint8_t> short_one(buf.begin(), buf.begin() + 11);
  EXPECT_FALSE(RtpPacket::Parse(short_one));
  auto rtcp = buf;
  rtcp[1] = 200;  // SR
  EXPECT_FALSE(RtpPacket::Parse(rtcp));
  EXPECT_TRUE(IsRtcpPacketType(200));
  auto v1 = buf;
  v1[0] = 0x51;
  EXPECT_FALSE(RtpPacket::Parse(v1));
  auto many_csrc = buf;
  many_csrc[0] = 0x9F;  // 15 CSRCs: past the end
  EXPECT_FALSE(RtpPacket::Parse(many_csrc));
  auto long_ext = buf;
  long_ext[19] = 50;  // extension longer than the packet
  EXPECT_FALSE(RtpPacket::Parse(long_ext));
}

TEST(Rtp, KeyFrames) {
  // VP8: S=1 PID=0, no extension, then a frame header with P=0.
  EXPECT_TRUE(IsVp8KeyFrame(std::vector<uint8_t>{0x10, 0x00, 0x00, 0x00}));
  EXPECT_FALSE(IsVp8KeyFrame(std::vector<uint8_t>{0x10, 0x01}));  // P=1: inter frame
  EXPECT_FALSE(IsVp8KeyFrame(std::vector<uint8_t>{0x00, 0x00}));  // not a partition start
  // With X, I (15-bit picture id), L, T/K: 1 + 1 + 2 + 1 + 1 descriptor bytes.
  EXPECT_TRUE(IsVp8KeyFrame(std::vector<uint8_t>{0x90, 0xF0, 0x80, 0x01, 0x05, 0x20, 0x00}));
  EXPECT_FALSE(IsVp8KeyFrame(std::vector<uint8_t>{0x90, 0xF0, 0x80}));
  // H.264: IDR (5), SPS (7) in STAP-A, FU-A start of an IDR; a P slice (1) is not.
  EXPECT_TRUE(IsH264KeyFrame(std::vector<uint8_t>{0x65, 0x88}));
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x41, 0x9A}));
  EXPECT_TRUE(IsH264KeyFrame(std::vector<uint8_t>{0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68}));
  EXPECT_TRUE(IsH264KeyFrame(std::vector<uint8_t>{0x7C, 0x85, 0x00}));
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x7C, 0x05, 0x00}));        // not the start
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x18, 0x00, 0x09, 0x67}));  // truncated
}

}  // namespace
}  // namespace ruche::rtc
