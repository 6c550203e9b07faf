#include "rtc/stun_message.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <vector>

namespace ruche::rtc {
namespace {

// RFC 5769 §2.1: the sample request (password "VOkJxbRl1RmTxUk/WvJxBt").
const std::vector<uint8_t> kRfc5769Request = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};
constexpr std::string_view kPassword = "VOkJxbRl1RmTxUk/WvJxBt";

// RFC 5769 §2.2: the sample IPv4 response (192.0.2.1:32853).
const std::vector<uint8_t> kRfc5769Response = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

TEST(Stun, ParsesAndVerifiesTheRfc5769Request) {
  auto m = ParseStun(kRfc5769Request);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, 0x0001);
  EXPECT_EQ(m->username, "evtj:h6vY");
  EXPECT_EQ(LocalUfragOf(m->username), "evtj");
  EXPECT_EQ(m->priority, 0x6e0001ffu);
  EXPECT_TRUE(m->ice_controlled);
  EXPECT_FALSE(m->use_candidate);
  EXPECT_EQ(m->tie_breaker, 0x932ff9b151263b36ull);
  EXPECT_TRUE(VerifyMessageIntegrity(kRfc5769Request, *m, kPassword));
  EXPECT_TRUE(VerifyFingerprint(kRfc5769Request, *m));
  EXPECT_FALSE(VerifyMessageIntegrity(kRfc5769Request, *m, "wrong password"));
}

TEST(Stun, VerifiesTheRfc5769Response) {
  auto m = ParseStun(kRfc5769Response);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, 0x0101);
  EXPECT_TRUE(VerifyMessageIntegrity(kRfc5769Response, *m, kPassword));
  EXPECT_TRUE(VerifyFingerprint(kRfc5769Response, *m));
}

TEST(Stun, AnyFlippedByteFailsIntegrityOrFingerprintOrParsing) {
  for (size_t i = 0; i < kRfc5769Request.size(); ++i) {
    auto bad = kRfc5769Request;
    bad[i] ^= 0x40;
    auto m = ParseStun(bad);
    if (!m) {
      continue;
    }
    bool ok = VerifyMessageIntegrity(bad, *m, kPassword) && VerifyFingerprint(bad, *m);
    // Padding bytes of USERNAME are not covered by anything meaningful but still by the MAC.
    EXPECT_FALSE(ok) << "byte " << i;
  }
}

TEST(Stun, RejectsMalformedMessages) {
  auto truncated = kRfc5769Request;
  truncated.resize(truncated.size() - 4);
  EXPECT_FALSE(ParseStun(truncated));
  auto bad_length = kRfc5769Request;
  bad_length[3] = 0x5c;  // claims more than there is
  EXPECT_FALSE(ParseStun(bad_length));
  auto bad_cookie = kRfc5769Request;
  bad_cookie[4] = 0;
  EXPECT_FALSE(ParseStun(bad_cookie));
  EXPECT_FALSE(ParseStun(std::vector<uint8_t>(19, 0)));
  // An attribute after FINGERPRINT.
  auto after = kRfc5769Request;
  after[3] += 8;
  for (uint8_t b : {0x00, 0x24, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01}) {
    after.push_back(b);
  }
  EXPECT_FALSE(ParseStun(after));
  // An attribute whose length runs past the end.
  std::vector<uint8_t> overlong = {0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42, 1,  2,
                                   3,    4,    5,    6,    7,    8,    9,    10,   11, 12,
                                   0x00, 0x06, 0x00, 0x20, 0x61, 0x62, 0x63, 0x64};
  EXPECT_FALSE(ParseStun(overlong));
}

TEST(Stun, BuildsASuccessResponseThatVerifies) {
  auto req = ParseStun(kRfc5769Request);
  ASSERT_TRUE(req);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(32853);
  inet_pton(AF_INET, "192.0.2.1", &addr.sin_addr);
  uint8_t out[256];
  size_t n = BuildBindingSuccess(*req, reinterpret_cast<sockaddr*>(&addr), kPassword, out);
  ASSERT_GT(n, 0u);
  std::span<const uint8_t> resp(out, n);
  auto m = ParseStun(resp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, 0x0101);
  EXPECT_EQ(m->transaction_id, req->transaction_id);
  EXPECT_TRUE(VerifyMessageIntegrity(resp, *m, kPassword));
  EXPECT_TRUE(VerifyFingerprint(resp, *m));
  // XOR-MAPPED-ADDRESS: the same bytes as the RFC's sample response.
  const uint8_t expected[] = {0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
                              0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
  EXPECT_EQ(std::vector<uint8_t>(out + 20, out + 32),
            std::vector<uint8_t>(expected, expected + 12));
  EXPECT_EQ(BuildBindingSuccess(*req, reinterpret_cast<sockaddr*>(&addr), kPassword,
                                std::span<uint8_t>(out, 40)),
            0u);  // too small
}

TEST(Stun, BuildsAnIpv6ResponseAndErrors) {
  auto req = ParseStun(kRfc5769Request);
  ASSERT_TRUE(req);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(32853);
  inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &addr.sin6_addr);
  uint8_t out[256];
  size_t n = BuildBindingSuccess(*req, reinterpret_cast<sockaddr*>(&addr), kPassword, out);
  ASSERT_GT(n, 0u);
  // RFC 5769 §2.3's XOR-MAPPED-ADDRESS value for this address and transaction.
  const uint8_t expected[] = {0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3,
                              0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9};
  EXPECT_EQ(std::vector<uint8_t>(out + 24, out + 44),
            std::vector<uint8_t>(expected, expected + 20));
  size_t e = BuildBindingError(*req, 401, "Unauthorized", out);
  ASSERT_GT(e, 0u);
  auto m = ParseStun(std::span<const uint8_t>(out, e));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, 0x0111);
  EXPECT_TRUE(VerifyFingerprint(std::span<const uint8_t>(out, e), *m));
  EXPECT_EQ(out[24 + 2], 4);  // class 4
  EXPECT_EQ(out[24 + 3], 1);  // number 01
}

TEST(Stun, LocalUfrag) {
  EXPECT_EQ(LocalUfragOf("abcd:efgh"), "abcd");
  EXPECT_EQ(LocalUfragOf("abcd"), "");
  EXPECT_EQ(LocalUfragOf(":x"), "");
}

}  // namespace
}  // namespace ruche::rtc
