#include "matrix/typing.hpp"

#include <gtest/gtest.h>

namespace ruche::matrix {
namespace {

TEST(TypingStateTest, StartRenewStopAndSerials) {
  TypingState typing(1000);
  int64_t s1 = typing.Set("!r", "@a", true, 30'000, 0);
  EXPECT_GT(s1, 1000);
  EXPECT_EQ(typing.Set("!r", "@a", true, 30'000, 10), 0) << "a renewal is not a change";
  int64_t now = 0;
  auto changed = typing.ChangedSince({"!r", "!other"}, s1 - 1, &now);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed["!r"].users, std::vector<std::string>{"@a"});
  EXPECT_EQ(now, s1);
  EXPECT_TRUE(typing.ChangedSince({"!r"}, s1, &now).empty());
  int64_t s2 = typing.Set("!r", "@a", false, 0, 20);
  EXPECT_GT(s2, s1);
  changed = typing.ChangedSince({"!r"}, s1, &now);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_TRUE(changed["!r"].users.empty()) << "a stop is reported as an empty list";
  EXPECT_EQ(typing.Set("!r", "@a", false, 0, 30), 0) << "stopping twice is not a change";
}

TEST(TypingStateTest, ExpiryReportsTheRoomAndInitialSeesOnlyCurrentTypers) {
  TypingState typing(0);
  typing.Set("!r", "@a", true, 100, 0);
  typing.Set("!r", "@b", true, 5'000, 0);
  EXPECT_TRUE(typing.Expire(50).empty());
  auto expired = typing.Expire(100);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].first, "!r");
  int64_t now = 0;
  auto initial = typing.ChangedSince({"!r"}, 0, &now);
  EXPECT_EQ(initial["!r"].users, std::vector<std::string>{"@b"});
}

TEST(TypingStateTest, ForgottenRoomsStillTellOldTokensNobodyTypes) {
  TypingState typing(0);
  int64_t start = typing.Set("!r", "@a", true, 10, 0);
  typing.Expire(10);           // @a stops typing; the room is kept a while
  typing.Expire(10 + 60'000);  // then forgotten
  int64_t now = 0;
  auto changed = typing.ChangedSince({"!r"}, start, &now);
  ASSERT_EQ(changed.size(), 1u) << "a client that saw @a typing must learn they stopped";
  EXPECT_TRUE(changed["!r"].users.empty());
  EXPECT_TRUE(typing.ChangedSince({"!r"}, now, &now).empty());
}

}  // namespace
}  // namespace ruche::matrix
