#include "rtc/stun_message.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
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

// RFC 5769 §2.3: the sample IPv6 response ([2001:db8:1234:5678:11:2233:4455:6677]:32853).
const std::vector<uint8_t> kRfc5769Ipv6Response = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};

// A connectivity check laid out as Chromium sends it (USERNAME, GOOG-NETWORK-INFO 0xC057,
// ICE-CONTROLLING, USE-CANDIDATE, PRIORITY, MESSAGE-INTEGRITY, FINGERPRINT), its integrity and
// fingerprint computed independently with Python's hmac and zlib.crc32, password below.
const std::vector<uint8_t> kChromiumCheck = {
    0x00, 0x01, 0x00, 0x50, 0x21, 0x12, 0xa4, 0x42, 0x4a, 0x6f, 0x7a, 0x4c, 0x4c, 0x4e, 0x6b,
    0x7a, 0x39, 0x54, 0x6f, 0x51, 0x00, 0x06, 0x00, 0x09, 0x52, 0x63, 0x33, 0x62, 0x3a, 0x6b,
    0x50, 0x39, 0x77, 0x00, 0x00, 0x00, 0xc0, 0x57, 0x00, 0x04, 0x00, 0x01, 0x00, 0x0a, 0x80,
    0x2a, 0x00, 0x08, 0x5b, 0xd8, 0xc4, 0xe1, 0xa0, 0xf2, 0x33, 0x7b, 0x00, 0x25, 0x00, 0x00,
    0x00, 0x24, 0x00, 0x04, 0x6e, 0x7f, 0x1e, 0xff, 0x00, 0x08, 0x00, 0x14, 0x47, 0xc5, 0x3c,
    0x2a, 0xce, 0x30, 0x1d, 0x1a, 0x28, 0x1d, 0x37, 0x84, 0xe8, 0x01, 0x80, 0x44, 0xac, 0x42,
    0x5a, 0xd5, 0x80, 0x28, 0x00, 0x04, 0x10, 0x1f, 0x21, 0xe7};
constexpr std::string_view kChromiumPassword = "Zm9vYmFyYmF6cXV4cXV1eHh5";

// A STUN header (binding request, the RFC 5769 transaction) followed by `attributes`, the
// length field set to match.
std::vector<uint8_t> WithAttributes(const std::vector<uint8_t>& attributes) {
  // NOTE: sized once and filled by copy; g++ 12 warns (-Warray-bounds) falsely on an insert
  // after a 20-byte construction.
  std::vector<uint8_t> m(20 + attributes.size());
  std::copy_n(kRfc5769Request.begin(), 20, m.begin());
  std::copy(attributes.begin(), attributes.end(), m.begin() + 20);
  m[2] = static_cast<uint8_t>(attributes.size() >> 8);
  m[3] = static_cast<uint8_t>(attributes.size());
  return m;
}

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

TEST(Stun, VerifiesTheRfc5769Ipv6Response) {
  auto m = ParseStun(kRfc5769Ipv6Response);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, 0x0101);
  EXPECT_TRUE(VerifyMessageIntegrity(kRfc5769Ipv6Response, *m, kPassword));
  EXPECT_TRUE(VerifyFingerprint(kRfc5769Ipv6Response, *m));
  // What Ruche builds for the same address and transaction is the same attribute.
  auto req = ParseStun(kRfc5769Request);
  ASSERT_TRUE(req);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(32853);
  inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &addr.sin6_addr);
  uint8_t out[256];
  size_t n = BuildBindingSuccess(*req, reinterpret_cast<sockaddr*>(&addr), kPassword, out);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(
      std::vector<uint8_t>(out + 20, out + 44),
      std::vector<uint8_t>(kRfc5769Ipv6Response.begin() + 36, kRfc5769Ipv6Response.begin() + 60));
  auto back = ParseStun(std::span<const uint8_t>(out, n));
  ASSERT_TRUE(back);
  EXPECT_TRUE(VerifyMessageIntegrity(std::span<const uint8_t>(out, n), *back, kPassword));
  EXPECT_TRUE(VerifyFingerprint(std::span<const uint8_t>(out, n), *back));
}

TEST(Stun, ParsesAndVerifiesAChromiumCheck) {
  ASSERT_TRUE(LooksLikeStun(kChromiumCheck));
  auto m = ParseStun(kChromiumCheck);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, 0x0001);
  EXPECT_EQ(m->username, "Rc3b:kP9w");
  EXPECT_EQ(LocalUfragOf(m->username), "Rc3b");
  EXPECT_EQ(m->priority, 1853824767u);
  EXPECT_TRUE(m->use_candidate);
  EXPECT_TRUE(m->ice_controlling);
  EXPECT_FALSE(m->ice_controlled);
  EXPECT_EQ(m->tie_breaker, 0x5bd8c4e1a0f2337bull);
  // GOOG-NETWORK-INFO is comprehension-optional: ignored, not a 420.
  EXPECT_FALSE(m->has_unknown_comprehension_required);
  EXPECT_TRUE(m->has_message_integrity);
  EXPECT_EQ(m->message_integrity_offset, 68u);
  EXPECT_TRUE(m->has_fingerprint);
  EXPECT_EQ(m->fingerprint_offset, 92u);
  EXPECT_TRUE(VerifyMessageIntegrity(kChromiumCheck, *m, kChromiumPassword));
  EXPECT_TRUE(VerifyFingerprint(kChromiumCheck, *m));
  EXPECT_FALSE(VerifyMessageIntegrity(kChromiumCheck, *m, kPassword));
  EXPECT_FALSE(VerifyMessageIntegrity(kChromiumCheck, *m, ""));
}

TEST(Stun, EveryFlippedBitOfAChromiumCheckIsCaught) {
  for (size_t i = 0; i < kChromiumCheck.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = kChromiumCheck;
      bad[i] ^= static_cast<uint8_t>(1 << bit);
      auto m = ParseStun(bad);
      if (!m) {
        continue;
      }
      // Integrity covers everything before it; the fingerprint covers the integrity itself.
      EXPECT_FALSE(VerifyMessageIntegrity(bad, *m, kChromiumPassword) && VerifyFingerprint(bad, *m))
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST(Stun, IntegrityWithoutFingerprint) {
  // RFC 8489 makes FINGERPRINT optional: the check is still verifiable without it.
  auto m = kChromiumCheck;
  m.resize(m.size() - 8);
  m[3] -= 8;
  auto parsed = ParseStun(m);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->has_fingerprint);
  EXPECT_FALSE(VerifyFingerprint(m, *parsed));
  EXPECT_TRUE(VerifyMessageIntegrity(m, *parsed, kChromiumPassword));
  // Neither attribute: nothing verifies.
  auto bare = ParseStun(WithAttributes({}));
  ASSERT_TRUE(bare);
  EXPECT_FALSE(VerifyMessageIntegrity(WithAttributes({}), *bare, kPassword));
  EXPECT_FALSE(VerifyFingerprint(WithAttributes({}), *bare));
}

TEST(Stun, RejectsAttributesOfTheWrongSize) {
  // PRIORITY of 2 bytes, USE-CANDIDATE with a value, ICE-CONTROLLING of 4 bytes,
  // MESSAGE-INTEGRITY of 16, FINGERPRINT of 8.
  EXPECT_FALSE(ParseStun(WithAttributes({0x00, 0x24, 0x00, 0x02, 1, 2, 0, 0})));
  EXPECT_FALSE(ParseStun(WithAttributes({0x00, 0x25, 0x00, 0x04, 1, 2, 3, 4})));
  EXPECT_FALSE(ParseStun(WithAttributes({0x80, 0x2A, 0x00, 0x04, 1, 2, 3, 4})));
  std::vector<uint8_t> short_mi = {0x00, 0x08, 0x00, 0x10};
  short_mi.resize(4 + 16);
  EXPECT_FALSE(ParseStun(WithAttributes(short_mi)));
  EXPECT_FALSE(ParseStun(WithAttributes({0x80, 0x28, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8})));
  // An attribute header cut in half, and a value whose padding is missing.
  EXPECT_FALSE(ParseStun(WithAttributes({0x00, 0x24, 0x00, 0x04, 1, 2, 3, 4, 0x00, 0x06})));
  EXPECT_FALSE(ParseStun(WithAttributes({0x00, 0x06, 0x00, 0x05, 'a', 'b', 'c', 'd'})));
  // A length that is not a multiple of 4, and a message type with the top bits set.
  auto odd = WithAttributes({0x00, 0x25, 0x00, 0x00});
  odd[3] = 2;
  odd.resize(22);
  EXPECT_FALSE(ParseStun(odd));
  auto top_bits = WithAttributes({});
  top_bits[0] = 0xC0;
  EXPECT_FALSE(ParseStun(top_bits));
  // A USERNAME within bounds whose padding holds garbage is fine (§14: padding is ignored).
  // (The datagram outlives the parse: USERNAME is a view into it.)
  auto datagram = WithAttributes({0x00, 0x06, 0x00, 0x03, 'a', ':', 'b', 0xFF});
  auto user = ParseStun(datagram);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->username, "a:b");
}

TEST(Stun, OnlyFingerprintOrSha256FollowIntegrity) {
  std::vector<uint8_t> mi = {0x00, 0x08, 0x00, 0x14};
  mi.resize(4 + 20);
  auto priority_after = mi;
  priority_after.insert(priority_after.end(), {0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1});
  EXPECT_FALSE(ParseStun(WithAttributes(priority_after)));
  auto sha256_after = mi;
  sha256_after.insert(sha256_after.end(), {0x00, 0x1C, 0x00, 0x20});
  sha256_after.resize(sha256_after.size() + 32);
  EXPECT_TRUE(ParseStun(WithAttributes(sha256_after)));
  auto two_mi = mi;
  two_mi.insert(two_mi.end(), mi.begin(), mi.end());
  EXPECT_FALSE(ParseStun(WithAttributes(two_mi)));
}

TEST(Stun, CapsSizeAndAttributeCount) {
  std::vector<uint8_t> many;
  for (size_t i = 0; i < kMaxStunAttributes; ++i) {
    many.insert(many.end(), {0x80, 0x22, 0x00, 0x00});  // empty SOFTWARE
  }
  EXPECT_TRUE(ParseStun(WithAttributes(many)));
  many.insert(many.end(), {0x80, 0x22, 0x00, 0x00});
  EXPECT_FALSE(ParseStun(WithAttributes(many)));
  std::vector<uint8_t> big = {0x80, 0x22, 0x05, 0xB0};  // SOFTWARE of 1456: 1480 bytes in all
  big.resize(4 + 1456);
  EXPECT_TRUE(ParseStun(WithAttributes(big)));
  big[3] += 24;  // 1504 bytes: above kMaxStunMessage
  big.resize(big.size() + 24);
  EXPECT_FALSE(ParseStun(WithAttributes(big)));
}

TEST(Stun, UnknownComprehensionRequiredAttributesGetA420) {
  auto req = ParseStun(WithAttributes({0x00, 0x7F, 0x00, 0x00, 0x7E, 0x01, 0x00, 0x00}));
  ASSERT_TRUE(req);
  EXPECT_TRUE(req->has_unknown_comprehension_required);
  ASSERT_EQ(req->unknown_attribute_count, 2);
  EXPECT_EQ(req->unknown_attributes[0], 0x007F);
  EXPECT_EQ(req->unknown_attributes[1], 0x7E01);
  uint8_t out[128];
  size_t n = BuildBindingError(*req, 420, "Unknown Attribute", out);
  ASSERT_GT(n, 0u);
  std::span<const uint8_t> resp(out, n);
  auto m = ParseStun(resp);
  ASSERT_TRUE(m);
  EXPECT_TRUE(VerifyFingerprint(resp, *m));
  // ERROR-CODE (4 + 17 bytes, padded to 24), then UNKNOWN-ATTRIBUTES.
  const uint8_t unknown[] = {0x00, 0x0A, 0x00, 0x04, 0x00, 0x7F, 0x7E, 0x01};
  EXPECT_EQ(std::vector<uint8_t>(out + 20 + 28, out + 20 + 36),
            std::vector<uint8_t>(unknown, unknown + 8));
  // An unknown comprehension-optional attribute is not reported.
  auto optional = ParseStun(WithAttributes({0xC0, 0x01, 0x00, 0x00}));
  ASSERT_TRUE(optional);
  EXPECT_FALSE(optional->has_unknown_comprehension_required);
}

TEST(Stun, RoleConflictErrorCarriesIntegrity) {
  auto req = ParseStun(kChromiumCheck);
  ASSERT_TRUE(req);
  uint8_t out[128];
  size_t n = BuildBindingError(*req, 487, "Role Conflict", out, kChromiumPassword);
  ASSERT_GT(n, 0u);
  std::span<const uint8_t> resp(out, n);
  auto m = ParseStun(resp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, 0x0111);
  EXPECT_EQ(m->transaction_id, req->transaction_id);
  EXPECT_TRUE(VerifyMessageIntegrity(resp, *m, kChromiumPassword));
  EXPECT_TRUE(VerifyFingerprint(resp, *m));
  EXPECT_EQ(out[24 + 2], 4);
  EXPECT_EQ(out[24 + 3], 87);
  // Out of range codes and reasons, and a buffer too small for the fingerprint.
  EXPECT_EQ(BuildBindingError(*req, 200, "OK", out), 0u);
  EXPECT_EQ(BuildBindingError(*req, 700, "x", out), 0u);
  EXPECT_EQ(BuildBindingError(*req, 400, std::string(128, 'x'), out), 0u);
  EXPECT_EQ(BuildBindingError(*req, 400, "Bad Request", std::span<uint8_t>(out, 36)), 0u);
  size_t bad = BuildBindingError(*req, 400, "", out);
  ASSERT_EQ(bad, 20u + 8 + 8);
}

TEST(Stun, SuccessNeedsAnAddress) {
  auto req = ParseStun(kChromiumCheck);
  ASSERT_TRUE(req);
  uint8_t out[128];
  EXPECT_EQ(BuildBindingSuccess(*req, nullptr, kChromiumPassword, out), 0u);
  sockaddr unix_family{};
  unix_family.sa_family = AF_UNIX;
  EXPECT_EQ(BuildBindingSuccess(*req, &unix_family, kChromiumPassword, out), 0u);
}

TEST(Stun, Demultiplexing) {
  EXPECT_TRUE(LooksLikeStun(kRfc5769Request));
  auto dtls = kRfc5769Request;
  dtls[0] = 22;  // RFC 7983: 20–63 is DTLS
  EXPECT_FALSE(LooksLikeStun(dtls));
  auto rtp = kRfc5769Request;
  rtp[0] = 0x80;
  EXPECT_FALSE(LooksLikeStun(rtp));
  EXPECT_FALSE(LooksLikeStun(std::span<const uint8_t>(kRfc5769Request.data(), 19)));
}

TEST(Stun, LocalUfrag) {
  EXPECT_EQ(LocalUfragOf("abcd:efgh"), "abcd");
  EXPECT_EQ(LocalUfragOf("abcd"), "");
  EXPECT_EQ(LocalUfragOf(":x"), "");
}

TEST(Stun, BuildsACheckThatAnIceLiteServerAccepts) {
  BindingRequest request;
  request.transaction_id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  request.username = "serverufrag:clientufrag";
  request.password = "the server's ice password";
  request.priority = 0x6E0001FF;
  request.tie_breaker = 0x0102030405060708ull;
  request.use_candidate = true;
  std::vector<uint8_t> out(kMaxStunMessage);
  size_t n = BuildBindingRequest(request, out);
  ASSERT_GT(n, kStunHeaderSize);
  out.resize(n);
  auto parsed = ParseStun(out);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type, 0x0001);
  EXPECT_EQ(parsed->username, "serverufrag:clientufrag");
  EXPECT_EQ(LocalUfragOf(parsed->username), "serverufrag");
  EXPECT_EQ(parsed->priority, 0x6E0001FFu);
  EXPECT_TRUE(parsed->use_candidate);
  EXPECT_TRUE(parsed->ice_controlling);
  EXPECT_FALSE(parsed->ice_controlled);
  EXPECT_EQ(parsed->tie_breaker, 0x0102030405060708ull);
  EXPECT_TRUE(VerifyMessageIntegrity(out, *parsed, "the server's ice password"));
  EXPECT_FALSE(VerifyMessageIntegrity(out, *parsed, "another password"));
  EXPECT_TRUE(VerifyFingerprint(out, *parsed));
  // Controlled, no nomination; too small a buffer builds nothing.
  request.controlling = false;
  request.use_candidate = false;
  std::vector<uint8_t> second(kMaxStunMessage);
  second.resize(BuildBindingRequest(request, second));
  auto controlled = ParseStun(second);
  ASSERT_TRUE(controlled);
  EXPECT_TRUE(controlled->ice_controlled);
  EXPECT_FALSE(controlled->use_candidate);
  std::vector<uint8_t> tiny(40);
  EXPECT_EQ(BuildBindingRequest(request, tiny), 0u);
}

}  // namespace
}  // namespace ruche::rtc
