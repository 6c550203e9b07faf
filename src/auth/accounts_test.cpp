#include "auth/accounts.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "core/crypto.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ruche::auth {
namespace {

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(core::InitCrypto());
    dir_ = std::filesystem::temp_directory_path() /
           ("ruche_auth_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto s = store::OpenSqliteStore({(dir_ / "ruche.db").string(), 2, 64});
    ASSERT_TRUE(s);
    store_ = std::move(*s);
    accounts_ = std::make_unique<Accounts>(*store_, "example.org");
  }
  void TearDown() override {
    accounts_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  store::StorePtr store_;
  std::unique_ptr<Accounts> accounts_;
};

TEST_F(AccountsTest, LocalpartGrammar) {
  EXPECT_TRUE(accounts_->ValidateLocalpart("alice.b_c=d-e/f+g9"));
  for (const std::string& bad :
       std::vector<std::string>{"", "Alice", "a b", "é", "a:b", "a@b", std::string(250, 'a')}) {
    auto r = accounts_->ValidateLocalpart(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().errcode, "M_INVALID_USERNAME");
  }
}

TEST_F(AccountsTest, LocalpartFromAcceptsOwnServerOnly) {
  EXPECT_EQ(*accounts_->LocalpartFrom("@Alice:example.org"), "alice");
  EXPECT_EQ(*accounts_->LocalpartFrom("bob"), "bob");
  EXPECT_FALSE(accounts_->LocalpartFrom("@alice:elsewhere.org"));
}

TEST_F(AccountsTest, PasswordRules) {
  EXPECT_FALSE(Accounts::ValidatePassword("short"));
  EXPECT_TRUE(Accounts::ValidatePassword("long enough"));
  EXPECT_TRUE(Accounts::ValidatePassword("éééééééé"));  // 8 characters, 16 bytes
  EXPECT_FALSE(Accounts::ValidatePassword(std::string(600, 'x')));
}

TEST_F(AccountsTest, CreateUserThenDuplicateIsInUse) {
  ASSERT_TRUE(accounts_->CreateUserNow("alice", "correct horse", false));
  auto again = accounts_->CreateUserNow("alice", "correct horse", false);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().errcode, "M_USER_IN_USE");
  auto user = accounts_->FindUser("alice");
  ASSERT_TRUE(user && user->has_value());
  EXPECT_TRUE(core::VerifyPassword((*user)->password_hash, "correct horse"));
  EXPECT_FALSE(core::VerifyPassword((*user)->password_hash, "wrong horse"));
  EXPECT_EQ((*user)->password_hash.find("correct"), std::string::npos);
}

TEST_F(AccountsTest, TokenAuthenticatesUntilDeviceDeleted) {
  ASSERT_TRUE(accounts_->CreateUserNow("bob", "correct horse", true));
  auto t1 = Accounts::NewToken(), t2 = Accounts::NewToken();
  ASSERT_TRUE(store_->WriteSync(accounts_->CreateSession("bob", "DEV1", "", t1.token_hash, "")));
  ASSERT_TRUE(store_->WriteSync(accounts_->CreateSession("bob", "DEV2", "", t2.token_hash, "")));
  auto s = accounts_->Authenticate(t1.token);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->user_id, "@bob:example.org");
  EXPECT_EQ(s->device_id, "DEV1");
  EXPECT_TRUE(s->is_admin);
  ASSERT_TRUE(store_->WriteSync(accounts_->DeleteDevice("bob", "DEV1")));
  auto gone = accounts_->Authenticate(t1.token);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().errcode, "M_UNKNOWN_TOKEN");
  EXPECT_TRUE(accounts_->Authenticate(t2.token));  // other devices unaffected
  ASSERT_TRUE(store_->WriteSync(accounts_->DeleteAllDevices("bob")));
  EXPECT_FALSE(accounts_->Authenticate(t2.token));
}

TEST_F(AccountsTest, RegistrationTokenLastUseGoesToOneRegistrationOnly) {
  ASSERT_TRUE(store_->WriteSync(accounts_->CreateRegistrationToken("tok", 1, std::nullopt)));
  EXPECT_TRUE(*accounts_->RegistrationTokenValid("tok"));
  // Both consumptions land in the same batch; the second must see the first's use.
  std::promise<Result<void>> a, b;
  store_->Write(accounts_->ConsumeRegistrationToken("tok"),
                [&](Result<void> r) { a.set_value(r); });
  store_->Write(accounts_->ConsumeRegistrationToken("tok"),
                [&](Result<void> r) { b.set_value(r); });
  auto ra = a.get_future().get(), rb = b.get_future().get();
  EXPECT_NE(static_cast<bool>(ra), static_cast<bool>(rb));
  EXPECT_FALSE(*accounts_->RegistrationTokenValid("tok"));
  EXPECT_FALSE(*accounts_->RegistrationTokenValid("unknown"));
}

}  // namespace
}  // namespace ruche::auth
