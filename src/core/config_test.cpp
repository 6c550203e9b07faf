#include "core/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ruche::core {
namespace {

TEST(ConfigTest, SetValueParsesAndValidates) {
  Config c;
  EXPECT_TRUE(SetConfigValue(c, "http.idle_timeout_ms", "1234"));
  EXPECT_EQ(c.http.idle_timeout_ms, 1234);
  EXPECT_TRUE(SetConfigValue(c, "registration", "token"));
  EXPECT_EQ(c.registration, RegistrationMode::kToken);
  EXPECT_FALSE(SetConfigValue(c, "registration", "sometimes"));
  EXPECT_FALSE(SetConfigValue(c, "http.idle_timeout_ms", "-5"));
  EXPECT_FALSE(SetConfigValue(c, "http.idle_timeout_ms", "12abc"));
  EXPECT_FALSE(SetConfigValue(c, "no.such.key", "1"));
  EXPECT_TRUE(SetConfigValue(c, "limits.login_per_ip_per_second", "2.5"));
  EXPECT_DOUBLE_EQ(c.limits.login_per_ip_per_second, 2.5);
}

TEST(ConfigTest, PasswordHashCostIsBoundedByLibsodiumMinimums) {
  Config c;
  PasswordHashCost defaults = PasswordHashCostOf(c);
  EXPECT_EQ(defaults.ops, PasswordHashCost{}.ops);
  EXPECT_EQ(defaults.mem_bytes, PasswordHashCost{}.mem_bytes);
  EXPECT_TRUE(SetConfigValue(c, "auth.password_hash_ops", "1"));
  EXPECT_TRUE(SetConfigValue(c, "auth.password_hash_mem_kib", "8"));
  EXPECT_EQ(PasswordHashCostOf(c).ops, kPasswordHashMinOps);
  EXPECT_EQ(PasswordHashCostOf(c).mem_bytes, kPasswordHashMinMemBytes);
  EXPECT_FALSE(SetConfigValue(c, "auth.password_hash_ops", "0"));
  EXPECT_FALSE(SetConfigValue(c, "auth.password_hash_mem_kib", "7"));
  EXPECT_FALSE(SetConfigValue(c, "auth.password_hash_mem_kib", "2000000"));
  EXPECT_EQ(c.auth.password_hash_mem_kib, 8);  // a rejected value leaves the old one
}

TEST(ConfigTest, FileThenEnvironment) {
  auto path = std::filesystem::temp_directory_path() / "ruche_config_test.toml";
  std::ofstream(path) << "server_name = \"example.org\"\nregistration = \"open\"\n"
                         "[http]\nheader_limit_bytes = 2048\n[limits]\nlogin_per_ip_burst = 3\n";
  Config c;
  ASSERT_TRUE(LoadConfigFile(c, path.string()));
  EXPECT_EQ(c.server_name, "example.org");
  EXPECT_EQ(c.registration, RegistrationMode::kOpen);
  EXPECT_EQ(c.http.header_limit_bytes, 2048);
  EXPECT_EQ(c.limits.login_per_ip_burst, 3);
  ::setenv("RUCHE_HTTP_HEADER_LIMIT_BYTES", "4096", 1);
  ASSERT_TRUE(LoadConfigEnv(c));
  ::unsetenv("RUCHE_HTTP_HEADER_LIMIT_BYTES");
  EXPECT_EQ(c.http.header_limit_bytes, 4096);
  std::filesystem::remove(path);
}

TEST(ConfigTest, BrokenFileIsAClearError) {
  auto path = std::filesystem::temp_directory_path() / "ruche_config_bad.toml";
  std::ofstream(path) << "server_name = \n";
  Config c;
  auto r = LoadConfigFile(c, path.string());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(":1"), std::string::npos);  // names the line
  std::ofstream(path) << "[http]\nheader_limit_bytes = \"big\"\n";
  EXPECT_FALSE(LoadConfigFile(c, path.string()));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ruche::core
