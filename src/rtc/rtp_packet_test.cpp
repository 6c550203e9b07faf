#include "rtc/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <string>
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

TEST(Rtp, Csrcs) {
  auto buf = OneBytePacket();
  auto p = RtpPacket::Parse(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->csrc_count(), 1);
  EXPECT_EQ(p->csrc(0), 0x11111111u);
  EXPECT_EQ(p->csrc(1), 0u);  // out of range
  EXPECT_EQ(p->padding_size(), 0u);
  // Three CSRCs and no extension: the payload starts after them.
  std::vector<uint8_t> three = {0x83, 0x6F, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,  0,
                                0,    0,    4, 0, 0, 0, 5, 0, 0, 0, 6, 'p'};
  auto q = RtpPacket::Parse(three);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->csrc(2), 6u);
  EXPECT_EQ(q->header_size(), 24u);
  EXPECT_EQ(q->payload().size(), 1u);
  EXPECT_TRUE(q->Extension(1).empty());
  three.pop_back();  // no payload at all is still a packet
  EXPECT_TRUE(RtpPacket::Parse(three));
  three.pop_back();  // one CSRC byte short
  EXPECT_FALSE(RtpPacket::Parse(three));
}

TEST(Rtp, PaddingOnlyPacket) {
  // Chromium's bandwidth probes: P=1, no payload, 224 - 12 bytes of padding.
  std::vector<uint8_t> probe(224, 0);
  probe[0] = 0xA0;
  probe[1] = 96;
  probe.back() = 224 - 12;
  auto p = RtpPacket::Parse(probe);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->payload().empty());
  EXPECT_EQ(p->padding_size(), 212u);
  probe.back() = 224 - 11;  // reaches into the fixed header
  EXPECT_FALSE(RtpPacket::Parse(probe));
}

TEST(Rtp, OneByteExtensionIdFifteenStopsParsing) {
  // RFC 8285 §4.2: ID 15 ends the block; what follows is not read.
  std::vector<uint8_t> buf = {0x90, 0x60, 0, 1, 0,    0,    0,    1,    0,    0, 0, 9,
                              0xBE, 0xDE, 0, 2, 0x10, 0x22, 0xF0, 0x20, 0x33, 0, 0, 0};
  auto p = RtpPacket::Parse(buf);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->Extension(1).size(), 1u);
  EXPECT_EQ(p->Extension(1)[0], 0x22);
  EXPECT_TRUE(p->Extension(2).empty());
  EXPECT_TRUE(p->Extension(15).empty());
  // An element running past the block hides itself and everything after it.
  std::vector<uint8_t> bad = {0x90, 0x60, 0,    1, 0, 0,    0,    1,    0,    0,  0,
                              9,    0xBE, 0xDE, 0, 1, 0x10, 0x22, 0x23, 0xAA, 'x'};
  auto q = RtpPacket::Parse(bad);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->Extension(1).size(), 1u);
  EXPECT_TRUE(q->Extension(2).empty());
  EXPECT_FALSE(q->SetExtensionId(1, 3));  // the block is malformed: nothing is rewritten
  EXPECT_EQ(bad[16], 0x10);
  // An unknown profile: no elements at all.
  std::vector<uint8_t> other = {0x90, 0x60, 0,    1,    0, 0, 0,    1,    0, 0,
                                0,    9,    0xAB, 0xCD, 0, 1, 0x10, 0x22, 0, 0};
  auto r = RtpPacket::Parse(other);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->Extension(1).empty());
  EXPECT_FALSE(r->SetExtensionId(1, 2));
}

TEST(Rtp, RenumbersOneByteExtensions) {
  auto buf = OneBytePacket();
  auto p = RtpPacket::Parse(buf);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->SetExtensionId(4, 9));
  EXPECT_TRUE(p->Extension(4).empty());
  auto mid = p->Extension(9);
  EXPECT_EQ(std::string(mid.begin(), mid.end()), "0");
  EXPECT_EQ(AudioLevelOf(*p, 1), 5);       // the other element is untouched
  EXPECT_EQ(buf[22], 0x90);                // id 9, length-1 still 0
  EXPECT_FALSE(p->SetExtensionId(9, 15));  // 15 is reserved in the one-byte form
  EXPECT_FALSE(p->SetExtensionId(9, 0));
  EXPECT_FALSE(p->SetExtensionId(9, 1));  // taken by the audio level
  EXPECT_FALSE(p->SetExtensionId(4, 5));  // no longer there
  EXPECT_TRUE(p->SetExtensionId(9, 9));
  EXPECT_TRUE(p->SetExtensionId(1, 3));
  EXPECT_EQ(AudioLevelOf(*p, 3), 5);
  EXPECT_FALSE(AudioLevelOf(*p, 1));
  // The packet still parses the same way from its bytes.
  auto again = RtpPacket::Parse(buf);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->Extension(9).size(), 1u);
  EXPECT_EQ(std::string(again->payload().begin(), again->payload().end()), "ABCD");
}

TEST(Rtp, RenumbersTwoByteExtensions) {
  std::vector<uint8_t> buf = {0x90, 0x60, 0, 1,    0,    0,   0,   1,   0,    0,    0,    9,  0x10,
                              0x00, 0,    2, 0x05, 0x03, 'a', 'b', 'c', 0x07, 0x00, 0x00, 'X'};
  auto p = RtpPacket::Parse(buf);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->SetExtensionId(5, 200));  // beyond 14 is fine in the two-byte form
  auto v = p->Extension(200);
  EXPECT_EQ(std::string(v.begin(), v.end()), "abc");
  EXPECT_TRUE(p->Extension(5).empty());
  EXPECT_TRUE(p->SetExtensionId(7, 8));  // an empty element can be renumbered too
  EXPECT_EQ(buf[21], 8);
  EXPECT_FALSE(p->SetExtensionId(8, 200));
  // The audio level, here in the two-byte form (RFC 8285 allows any element in either).
  buf[16] = 1;
  buf[17] = 1;
  buf[18] = 0xFF;  // V=1, level 127
  buf[19] = 0;     // padding
  buf[20] = 0;
  auto q = RtpPacket::Parse(buf);
  ASSERT_TRUE(q);
  EXPECT_EQ(AudioLevelOf(*q, 1), 127);
}

TEST(Rtp, Demultiplexing) {
  auto buf = OneBytePacket();
  EXPECT_TRUE(LooksLikeRtp(buf));
  buf[0] = 0x7F;  // RFC 7983: 64–127 is TURN channel data
  EXPECT_FALSE(LooksLikeRtp(buf));
  buf[0] = 0xC0;  // version 3
  EXPECT_FALSE(LooksLikeRtp(buf));
  EXPECT_FALSE(IsRtcpPacketType(191));
  EXPECT_TRUE(IsRtcpPacketType(192));
  EXPECT_TRUE(IsRtcpPacketType(223));
  EXPECT_FALSE(IsRtcpPacketType(224));
  EXPECT_FALSE(IsRtcpPacketType(0x80 | 96));  // marker set, PT 96
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
  EXPECT_FALSE(IsH264KeyFrame({}));
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x7C}));  // FU-A without its header
  // STAP-A whose key NAL comes second, after a non-key one.
  EXPECT_TRUE(IsH264KeyFrame(std::vector<uint8_t>{0x18, 0x00, 0x01, 0x06, 0x00, 0x01, 0x65}));
  // VP8: a later partition (PID 1) or a continuation (S=0) is not a key frame start even with
  // P=0 in the byte that would be the frame header; 7-bit picture id, TL0PICIDX only.
  EXPECT_FALSE(IsVp8KeyFrame(std::vector<uint8_t>{0x11, 0x00}));
  EXPECT_TRUE(IsVp8KeyFrame(std::vector<uint8_t>{0x90, 0xC0, 0x05, 0x01, 0x50}));
  EXPECT_FALSE(IsVp8KeyFrame(std::vector<uint8_t>{0x90, 0xC0, 0x05, 0x01, 0x51}));
  EXPECT_FALSE(IsVp8KeyFrame(std::vector<uint8_t>{0x90, 0xC0, 0x05, 0x01}));  // no frame header
  EXPECT_FALSE(IsVp8KeyFrame({}));
}

TEST(Rtp, ReplacesTheExtensionBlockKeepingEverythingElse) {
  // The packet behind a headroom, as the forwarding path copies it.
  auto packet = OneBytePacket();
  packet.push_back(0);  // one padding byte: P set, count 1 at the end
  packet.push_back(0);
  packet.push_back(0);
  packet.push_back(4);
  packet[0] |= 0x20;
  std::vector<uint8_t> area(kExtensionHeadroom + packet.size());
  std::copy(packet.begin(), packet.end(), area.begin() + kExtensionHeadroom);
  auto in = RtpPacket::Parse(std::span<uint8_t>(area).subspan(kExtensionHeadroom));
  ASSERT_TRUE(in);
  OneByteExtensions ext;
  const std::string mid = "12";
  ASSERT_TRUE(ext.Add(
      3, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(mid.data()), mid.size())));
  const uint8_t time[3] = {0x01, 0x02, 0x03};
  ASSERT_TRUE(ext.Add(2, time));
  auto level = in->Extension(1);
  ASSERT_TRUE(ext.Add(5, level));
  auto out = ReplaceExtensions(area, *in, ext);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->payload_type(), 96);
  EXPECT_TRUE(out->marker());
  EXPECT_EQ(out->sequence(), 0x1234);
  EXPECT_EQ(out->timestamp(), 0x01020304u);
  EXPECT_EQ(out->ssrc(), 0xAABBCCDDu);
  EXPECT_EQ(out->csrc_count(), 1);
  EXPECT_EQ(out->csrc(0), 0x11111111u);
  // 2+1 + 3+1 + 1+1 = 9 bytes of elements: 3 words, so a 16-byte block.
  EXPECT_EQ(out->header_size(), 16u + 16u);
  auto got_mid = out->Extension(3);
  EXPECT_EQ(std::string(got_mid.begin(), got_mid.end()), "12");
  ASSERT_EQ(out->Extension(2).size(), 3u);
  EXPECT_EQ(out->Extension(2)[2], 0x03);
  EXPECT_EQ(AudioLevelOf(*out, 5), 5);
  EXPECT_TRUE(out->Extension(4).empty());  // the publisher's own elements are gone
  EXPECT_TRUE(out->Extension(1).empty());
  EXPECT_EQ(std::string(out->payload().begin(), out->payload().end()), "ABCD");
  EXPECT_EQ(out->padding_size(), 4u);
  // The payload did not move: the packet still ends where it did.
  EXPECT_EQ(out->bytes().data() + out->size(), area.data() + area.size());

  // No extensions at all: the block goes and X is cleared.
  auto again = RtpPacket::Parse(out->bytes());
  ASSERT_TRUE(again);
  auto bare = ReplaceExtensions(area, *again, OneByteExtensions());
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->bytes()[0] & 0x10, 0);
  EXPECT_EQ(bare->header_size(), 16u);
  EXPECT_EQ(std::string(bare->payload().begin(), bare->payload().end()), "ABCD");
}

TEST(Rtp, ReplacingExtensionsNeedsRoomInFront) {
  std::vector<uint8_t> area = {0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 'x'};  // no headroom
  auto in = RtpPacket::Parse(area);
  ASSERT_TRUE(in);
  OneByteExtensions ext;
  const uint8_t one[1] = {7};
  ASSERT_TRUE(ext.Add(1, one));
  EXPECT_FALSE(ReplaceExtensions(area, *in, ext));
  std::vector<uint8_t> elsewhere(area);
  EXPECT_FALSE(ReplaceExtensions(elsewhere, *in, ext));  // not inside the area given
}

TEST(Rtp, OneByteExtensionsRefuseWhatTheFormCannotCarry) {
  OneByteExtensions ext;
  const uint8_t sixteen[16] = {};
  const uint8_t seventeen[17] = {};
  EXPECT_FALSE(ext.Add(0, sixteen));
  EXPECT_FALSE(ext.Add(15, sixteen));
  EXPECT_FALSE(ext.Add(1, std::span<const uint8_t>()));
  EXPECT_FALSE(ext.Add(1, seventeen));
  EXPECT_TRUE(ext.Add(1, sixteen));   // 17 bytes
  EXPECT_FALSE(ext.Add(2, sixteen));  // 34 > 28: refused whole
  const uint8_t four[4] = {};
  EXPECT_TRUE(ext.Add(2, four));
  EXPECT_EQ(ext.size(), 22u);
}

TEST(Rtp, AbsSendTimeIsSixEighteenFixedPointWrappingEvery64Seconds) {
  EXPECT_EQ(AbsSendTime(0), 0u);
  EXPECT_EQ(AbsSendTime(1'000'000), 1u << 18);
  EXPECT_EQ(AbsSendTime(500'000), 1u << 17);
  EXPECT_EQ(AbsSendTime(64'000'000), 0u);
  EXPECT_EQ(AbsSendTime(63'999'999), 0xFFFFFFu);
  EXPECT_EQ(AbsSendTime(64'000'000ull * 1'000'000 + 2'000'000), 2u << 18);
}

}  // namespace
}  // namespace ruche::rtc
