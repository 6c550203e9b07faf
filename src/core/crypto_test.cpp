#include "core/crypto.hpp"

#include <gtest/gtest.h>

namespace ruche::core {
namespace {

TEST(CryptoTest, PasswordHashRecordsItsCostAndVerifies) {
  ASSERT_TRUE(InitCrypto());
  PasswordHashCost cheap{kPasswordHashMinOps, kPasswordHashMinMemBytes};
  auto hash = HashPassword("correct horse", cheap);
  ASSERT_TRUE(hash);
  // libsodium's string form: $argon2id$v=19$m=<KiB>,t=<ops>,p=1$...
  EXPECT_NE(hash->find("$argon2id$"), std::string::npos);
  EXPECT_NE(hash->find("m=8,t=1"), std::string::npos);
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse"));
  EXPECT_FALSE(VerifyPassword(*hash, "wrong horse"));
}

TEST(CryptoTest, DefaultPasswordHashCostIsInteractive) {
  ASSERT_TRUE(InitCrypto());
  auto hash = HashPassword("correct horse");
  ASSERT_TRUE(hash);
  EXPECT_NE(hash->find("m=65536,t=2"), std::string::npos);
}

TEST(CryptoTest, PasswordHashCostBelowMinimumIsAnError) {
  ASSERT_TRUE(InitCrypto());
  EXPECT_FALSE(HashPassword("x", PasswordHashCost{0, kPasswordHashMinMemBytes}));
  EXPECT_FALSE(HashPassword("x", PasswordHashCost{1, kPasswordHashMinMemBytes - 1}));
}

TEST(Base64Decode, StandardAlphabetWithOrWithoutPadding) {
  EXPECT_EQ(Base64Decode("YWxpY2U6c2VjcmV0").value(), "alice:secret");
  EXPECT_EQ(Base64Decode("YQ==").value(), "a");
  EXPECT_EQ(Base64Decode("YQ").value(), "a");
  EXPECT_FALSE(Base64Decode("YQ=x"));
  EXPECT_FALSE(Base64Decode("not base64!"));
}

}  // namespace
}  // namespace ruche::core
