// Ruche's OpenSSL AES-GCM SRTP against the RFC's key derivation vectors and against libsrtp2
// (what browsers run, through SrtpSession's inbound side): what one protects, the other opens.
#include "rtc/srtp_gcm.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "rtc/byte_order.hpp"
#include "rtc/srtp_session.hpp"

namespace ruche::rtc {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(SrtpKdf, MatchesRfc3711AppendixB3) {
  auto key = Hex("E1F97A0D3E018BE0D64FA32C06DE4139");
  auto salt = Hex("0EC675AD498AFEEBB6960B3AABE6");
  std::vector<uint8_t> out(16);
  ASSERT_TRUE(SrtpKdf(key, salt, 0x00, out));
  EXPECT_EQ(out, Hex("C61E7A93744F39EE10734AFE3FF7A087"));  // cipher key
  out.resize(14);
  ASSERT_TRUE(SrtpKdf(key, salt, 0x02, out));
  EXPECT_EQ(out, Hex("30CBBC08863D8C85D49DB34A9AE1"));  // cipher salt
  out.resize(20);
  ASSERT_TRUE(SrtpKdf(key, salt, 0x01, out));
  EXPECT_EQ(out, Hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));  // auth key (first 20)
}

// An RTP packet: `csrcs` CSRCs, an optional one-byte extension block, `payload` bytes.
std::vector<uint8_t> Packet(uint32_t ssrc, uint16_t seq, size_t payload, int csrcs = 0,
                            bool extension = false) {
  std::vector<uint8_t> p(12);
  p[0] = static_cast<uint8_t>(0x80 | (extension ? 0x10 : 0) | csrcs);
  p[1] = 96;
  Put16(p.data() + 2, seq);
  Put32(p.data() + 4, 90000u * seq);
  Put32(p.data() + 8, ssrc);
  for (int i = 0; i < csrcs; ++i) {
    p.insert(p.end(), {0, 0, 0, static_cast<uint8_t>(i + 1)});
  }
  if (extension) {
    p.insert(p.end(), {0xBE, 0xDE, 0, 1, 0x12, 0xAB, 0xCD, 0});
  }
  for (size_t i = 0; i < payload; ++i) {
    p.push_back(static_cast<uint8_t>(i * 7 + seq));
  }
  return p;
}

class SrtpGcmAgainstLibsrtp : public ::testing::Test {
 protected:
  void SetUp() override {
    key_salt_ = Hex("00112233445566778899AABBCCDDEEFF0102030405060708090A0B0C");
    protector_ = SrtpGcmProtector::Create(key_salt_);
    ASSERT_NE(protector_, nullptr);
    auto in = SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, key_salt_,
                                  SrtpSession::Direction::kInbound);
    ASSERT_TRUE(in);
    libsrtp_in_ = std::move(*in);
  }

  // Protects with Ruche's code, opens with libsrtp; true when it comes back intact.
  bool RoundTrip(const std::vector<uint8_t>& plain) {
    std::vector<uint8_t> buf(plain.size() + kSrtpTrailerRoom);
    std::copy(plain.begin(), plain.end(), buf.begin());
    size_t len = plain.size();
    if (!protector_->Protect(buf.data(), len) || len != plain.size() + 16) {
      return false;
    }
    if (std::equal(plain.begin() + 12, plain.end(), buf.begin() + 12) && plain.size() > 40) {
      return false;  // not encrypted
    }
    if (!libsrtp_in_->UnprotectRtp(buf.data(), len)) {
      return false;
    }
    return len == plain.size() && std::equal(plain.begin(), plain.end(), buf.begin());
  }

  std::vector<uint8_t> key_salt_;
  std::unique_ptr<SrtpGcmProtector> protector_;
  std::unique_ptr<SrtpSession> libsrtp_in_;
};

TEST_F(SrtpGcmAgainstLibsrtp, LibsrtpOpensWhatRucheProtects) {
  EXPECT_TRUE(RoundTrip(Packet(0x11223344, 1000, 1100)));
  EXPECT_TRUE(RoundTrip(Packet(0x11223344, 1001, 1)));
  EXPECT_TRUE(RoundTrip(Packet(0x11223344, 1002, 0)));          // header only
  EXPECT_TRUE(RoundTrip(Packet(0x55667788, 7, 300, 2, true)));  // CSRCs and an extension
}

TEST_F(SrtpGcmAgainstLibsrtp, TheRolloverCounterFollowsTheSequenceWrap) {
  // Past 65535 the packet index carries a ROC of 1: libsrtp only opens it if both agree.
  for (uint32_t i = 0; i < 70; ++i) {
    auto seq = static_cast<uint16_t>(65500 + i);
    ASSERT_TRUE(RoundTrip(Packet(0xCAFE, seq, 200))) << seq;
  }
  // Two streams keep their own counters.
  ASSERT_TRUE(RoundTrip(Packet(0xBEEF, 65535, 50)));
  ASSERT_TRUE(RoundTrip(Packet(0xBEEF, 0, 50)));
  ASSERT_TRUE(RoundTrip(Packet(0xCAFE, 35, 50)));
}

TEST_F(SrtpGcmAgainstLibsrtp, ManyInterleavedStreamsEachKeepTheirCounter) {
  // More SSRCs than the inline table holds (consumers that came and went): the later ones live
  // in the overflow map, and every stream wraps on its own, interleaved packet by packet.
  constexpr uint32_t kStreams = 24;
  for (uint32_t round = 0; round < 40; ++round) {
    for (uint32_t s = 0; s < kStreams; ++s) {
      auto seq = static_cast<uint16_t>(65520 + s + round);
      ASSERT_TRUE(RoundTrip(Packet(0x1000 + s, seq, 80))) << s << " " << seq;
    }
  }
}

TEST(SrtpGcm, AResentPacketIsProtectedExactlyAsTheFirstTime) {
  // A NACK answered on the media stream resends an old sequence number, maybe from before the
  // last wrap: it must get its original ROC, hence the same IV and the same bytes.
  auto p =
      SrtpGcmProtector::Create(Hex("00112233445566778899AABBCCDDEEFF0102030405060708090A0B0C"));
  ASSERT_NE(p, nullptr);
  auto protect = [&](uint16_t seq) {
    auto plain = Packet(0xCAFE, seq, 100);
    plain.resize(plain.size() + 16);
    size_t len = plain.size() - 16;
    EXPECT_TRUE(p->Protect(plain.data(), len));
    plain.resize(len);
    return plain;
  };
  auto first = protect(65530);
  for (uint16_t s = 65531; s != 20; ++s) {
    protect(s);
  }
  EXPECT_EQ(protect(65530), first);
}

TEST(SrtpGcm, RefusesWhatIsNotRtp) {
  auto p =
      SrtpGcmProtector::Create(Hex("00112233445566778899AABBCCDDEEFF0102030405060708090A0B0C"));
  ASSERT_NE(p, nullptr);
  std::vector<uint8_t> buf(64);
  size_t len = 8;
  buf[0] = 0x80;
  EXPECT_FALSE(p->Protect(buf.data(), len));  // shorter than a header
  len = 16;
  buf[0] = 0x90;  // an extension block of 5 words announced past the end
  buf[15] = 5;
  EXPECT_FALSE(p->Protect(buf.data(), len));
  len = 12;
  buf[0] = 0x8F;  // 15 CSRCs announced
  EXPECT_FALSE(p->Protect(buf.data(), len));
  EXPECT_EQ(SrtpGcmProtector::Create(std::vector<uint8_t>(30)), nullptr);
}

}  // namespace
}  // namespace ruche::rtc
