#include "matrix/event_filter.hpp"

#include <gtest/gtest.h>

namespace ruche::matrix {
namespace {

namespace json = core::json;

json::object Obj(const char* text) { return json::parse(text).as_object(); }

TEST(EventFilterTest, Patterns) {
  EXPECT_TRUE(FilterPatternMatches("m.room.*", "m.room.message"));
  EXPECT_TRUE(FilterPatternMatches("*", ""));
  EXPECT_TRUE(FilterPatternMatches("m.*.message", "m.room.message"));
  EXPECT_TRUE(FilterPatternMatches("*a*b", "xxaxxab"));
  EXPECT_FALSE(FilterPatternMatches("m.room.*", "m.reaction"));
  EXPECT_FALSE(FilterPatternMatches("M.ROOM.MESSAGE", "m.room.message")) << "case-sensitive";
  EXPECT_FALSE(FilterPatternMatches("m.room", "m.room.message")) << "whole type";
}

TEST(EventFilterTest, ListsAbsentEmptyAndNegative) {
  auto none = ParseEventFilter(Obj("{}"));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->RestrictsEvents());
  EXPECT_TRUE(none->AllowsType("anything"));
  auto empty = ParseEventFilter(Obj(R"({"types": []})"));
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->AllowsType("m.room.message")) << "a present, empty list allows nothing";
  auto f = ParseEventFilter(Obj(
      R"({"types": ["m.room.*"], "not_types": ["m.room.member"], "not_senders": ["@bot:x"],
          "contains_url": true, "limit": 5, "lazy_load_members": true})"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->limit, 5);
  EXPECT_TRUE(f->lazy_load_members);
  auto ev = [](const char* type, const char* sender, bool url) {
    json::object content{{"body", "x"}};
    if (url) {
      content["url"] = "mxc://x/y";
    }
    return json::object{{"type", type}, {"sender", sender}, {"content", std::move(content)}};
  };
  EXPECT_TRUE(f->Allows(ev("m.room.message", "@a:x", true)));
  EXPECT_FALSE(f->Allows(ev("m.room.message", "@a:x", false))) << "contains_url";
  EXPECT_FALSE(f->Allows(ev("m.room.member", "@a:x", true))) << "not_types wins";
  EXPECT_FALSE(f->Allows(ev("m.reaction", "@a:x", true)));
  EXPECT_FALSE(f->Allows(ev("m.room.message", "@bot:x", true)));
}

TEST(EventFilterTest, SyncFilterSections) {
  auto spec = ParseSyncFilter(Obj(R"({"presence": {"not_types": ["*"]},
      "room": {"rooms": ["!a:x", "!b:x"], "not_rooms": ["!b:x"],
               "timeline": {"limit": 3, "unread_thread_notifications": true},
               "state": {"types": ["m.room.name"]}, "ephemeral": {"types": ["m.typing"]}}})"));
  ASSERT_TRUE(spec);
  EXPECT_FALSE(spec->presence.AllowsType("m.presence"));
  EXPECT_TRUE(spec->AllowsRoom("!a:x"));
  EXPECT_FALSE(spec->AllowsRoom("!b:x"));
  EXPECT_FALSE(spec->AllowsRoom("!c:x"));
  EXPECT_EQ(spec->timeline.limit, 3);
  EXPECT_TRUE(spec->timeline.unread_thread_notifications);
  EXPECT_TRUE(spec->state.AllowsType("m.room.name"));
  EXPECT_FALSE(spec->state.AllowsType("m.room.topic"));
  EXPECT_FALSE(spec->ephemeral.AllowsType("m.receipt"));
  EXPECT_TRUE(spec->account_data.AllowsType("m.push_rules"));
}

TEST(EventFilterTest, BadShapesAreClearErrors) {
  for (const char* bad :
       {R"({"types": "m.room.message"})", R"({"types": [1]})", R"({"limit": -1})",
        R"({"limit": "5"})", R"({"contains_url": "yes"})", R"({"lazy_load_members": 1})"}) {
    auto f = ParseEventFilter(Obj(bad));
    ASSERT_FALSE(f) << bad;
    EXPECT_EQ(f.error().errcode, "M_INVALID_PARAM") << bad;
  }
  EXPECT_FALSE(ParseSyncFilter(Obj(R"({"room": []})")));
  EXPECT_FALSE(ParseSyncFilter(Obj(R"({"room": {"timeline": {"not_senders": [null]}}})")));
  json::array many;
  for (int i = 0; i < 1001; ++i) {
    many.emplace_back("t");
  }
  EXPECT_FALSE(ParseEventFilter(json::object{{"types", many}})) << "bounded";
}

}  // namespace
}  // namespace ruche::matrix
