#include "matrix/push_eval.hpp"

#include <gtest/gtest.h>

#include <string>

#include "matrix/push_rules.hpp"

namespace ruche::matrix {
namespace {

namespace json = core::json;

json::object Event(const std::string& text) { return json::parse(text).as_object(); }

json::object Message(const std::string& body, const std::string& sender = "@bob:x") {
  return json::object{{"type", "m.room.message"},
                      {"sender", sender},
                      {"room_id", "!r:x"},
                      {"content", json::object{{"msgtype", "m.text"}, {"body", body}}}};
}

struct Context {
  int64_t members = 5;
  int64_t sender_power = 0;
  std::string display_name = "Alice Martin";
  PushContext Make() {
    PushContext ctx;
    ctx.user_id = "@alice:x";
    ctx.display_name = display_name;
    ctx.joined_member_count = [this] { return members; };
    ctx.sender_may_notify = [this](std::string_view key, std::string_view) {
      return key == "room" && sender_power >= 50;
    };
    return ctx;
  }
};

PushRuleSet Defaults() { return PushRuleSet::Compile(DefaultPushRules("@alice:x", "alice")); }

TEST(PushGlobTest, WholeValueAndWords) {
  EXPECT_TRUE(PushRuleSet::GlobMatches("m.room.*", "m.room.message", false));
  EXPECT_TRUE(PushRuleSet::GlobMatches("M.ROOM.MESS?GE", "m.room.message", false));
  EXPECT_FALSE(PushRuleSet::GlobMatches("m.room", "m.room.message", false)) << "whole value";
  EXPECT_FALSE(PushRuleSet::GlobMatches("?", "", false));
  EXPECT_TRUE(PushRuleSet::GlobMatches("*", "", false));
  EXPECT_TRUE(PushRuleSet::GlobMatches("alice", "hi Alice, lunch?", true));
  EXPECT_FALSE(PushRuleSet::GlobMatches("alice", "malice aforethought", true)) << "word boundary";
  EXPECT_FALSE(PushRuleSet::GlobMatches("alice", "alice_b", true)) << "'_' is a word character";
  EXPECT_TRUE(PushRuleSet::GlobMatches("ali*", "see alison", true));
  EXPECT_TRUE(PushRuleSet::GlobMatches("lunch at ?", "lunch at 1 ok", true));
  EXPECT_TRUE(PushRuleSet::GlobMatches("café", "un café ?", true)) << "code points, not bytes";
  EXPECT_TRUE(PushRuleSet::GlobMatches("caf?", "un café", true));
  EXPECT_FALSE(PushRuleSet::GlobMatches("a*b", "a.c", true));
  EXPECT_TRUE(PushRuleSet::GlobMatches("a*b", "x a...b y", true));
  EXPECT_FALSE(PushRuleSet::GlobMatches("*", "x", true, /*literal=*/true));
  EXPECT_TRUE(PushRuleSet::GlobMatches("*star*", "a *star* b", true, /*literal=*/true));
}

TEST(PushGlobTest, HostilePatternsStayLinear) {
  // A backtracking matcher takes exponential time on this; the NFA answers at once.
  std::string text(20'000, 'a');
  EXPECT_FALSE(PushRuleSet::GlobMatches("*a*a*a*a*a*a*a*a*a*a*b", text, false));
  EXPECT_FALSE(PushRuleSet::GlobMatches("a*a*a*a*a*a*a*a*a*a*b", text, true));
  EXPECT_FALSE(PushRuleSet::GlobMatches(std::string(2000, 'a'), "a", false)) << "over the bound";
  // Every engine: literal (short), bit-parallel (< 64 tokens), wide (64-255), over the bound.
  std::string body(65'000, 'a');
  for (size_t n : {10, 40, 63, 64, 200, 255}) {
    std::string literal(n, 'a');
    EXPECT_TRUE(PushRuleSet::GlobMatches(literal, body, true) == false) << n << ": not a word";
    EXPECT_TRUE(PushRuleSet::GlobMatches(literal, "x " + literal + " y", true)) << n;
    EXPECT_FALSE(PushRuleSet::GlobMatches(literal + "b", body + "c", false)) << n;
    std::string stars;
    for (size_t k = 0; k + 2 < n; k += 2) {
      stars += "*a";
    }
    EXPECT_TRUE(PushRuleSet::GlobMatches(stars + "*", body, false)) << n;
    EXPECT_FALSE(PushRuleSet::GlobMatches(stars + "*b", body, false)) << n;
  }
  EXPECT_FALSE(PushRuleSet::GlobMatches(std::string(300, '?'), std::string(300, 'x'), false))
      << "over 255 tokens never matches";
}

TEST(PushEvalTest, DefaultRulesOnMessages) {
  PushRuleSet rules = Defaults();
  Context c;
  auto plain = rules.Evaluate(Message("hello all"), c.Make());
  EXPECT_TRUE(plain.notify);
  EXPECT_FALSE(plain.highlight);
  auto by_name = rules.Evaluate(Message("alice: look"), c.Make());
  EXPECT_TRUE(by_name.notify);
  EXPECT_TRUE(by_name.highlight) << ".m.rule.contains_user_name";
  auto by_display = rules.Evaluate(Message("thanks alice martin!"), c.Make());
  EXPECT_TRUE(by_display.highlight) << ".m.rule.contains_display_name";
  json::object notice = Message("build passed");
  notice["content"].as_object()["msgtype"] = "m.notice";
  EXPECT_FALSE(rules.Evaluate(notice, c.Make()).notify) << ".m.rule.suppress_notices";
  auto reaction = Event(
      R"({"type":"m.reaction","sender":"@bob:x","content":{"m.relates_to":{"rel_type":"m.annotation","event_id":"$e","key":"x"}}})");
  EXPECT_FALSE(rules.Evaluate(reaction, c.Make()).notify);
  json::object edit = Message("* alice fixed");
  edit["content"].as_object()["m.relates_to"] =
      json::object{{"rel_type", "m.replace"}, {"event_id", "$e"}};
  EXPECT_FALSE(rules.Evaluate(edit, c.Make()).notify) << ".m.rule.suppress_edits";
  auto member = Event(
      R"({"type":"m.room.member","sender":"@bob:x","state_key":"@bob:x","content":{"membership":"join"}})");
  EXPECT_FALSE(rules.Evaluate(member, c.Make()).notify);
  auto invite = Event(
      R"({"type":"m.room.member","sender":"@bob:x","state_key":"@alice:x","content":{"membership":"invite"}})");
  EXPECT_TRUE(rules.Evaluate(invite, c.Make()).notify) << ".m.rule.invite_for_me";
  auto topic = Event(R"({"type":"m.room.topic","sender":"@bob:x","state_key":"","content":{}})");
  EXPECT_FALSE(rules.Evaluate(topic, c.Make()).notify) << "no rule matches state changes";
}

TEST(PushEvalTest, MentionsAndRoomNotifications) {
  PushRuleSet rules = Defaults();
  Context c;
  json::object mention = Message("hey");
  mention["content"].as_object()["m.mentions"] =
      json::object{{"user_ids", json::array{"@carol:x", "@alice:x"}}};
  EXPECT_TRUE(rules.Evaluate(mention, c.Make()).highlight) << ".m.rule.is_user_mention";
  // With m.mentions present, the legacy rules stand aside: the body naming alice is a quote.
  json::object quoted = Message("> alice said hi");
  quoted["content"].as_object()["m.mentions"] = json::object{};
  auto q = rules.Evaluate(quoted, c.Make());
  EXPECT_TRUE(q.notify);
  EXPECT_FALSE(q.highlight);
  auto at_room = Message("@room lunch");
  EXPECT_FALSE(rules.Evaluate(at_room, c.Make()).highlight) << "sender below notifications.room";
  c.sender_power = 50;
  EXPECT_TRUE(rules.Evaluate(at_room, c.Make()).highlight) << ".m.rule.roomnotif";
  json::object room_mention = Message("all");
  room_mention["content"].as_object()["m.mentions"] = json::object{{"room", true}};
  EXPECT_TRUE(rules.Evaluate(room_mention, c.Make()).highlight) << ".m.rule.is_room_mention";
}

TEST(PushEvalTest, UserRulesAndOrder) {
  json::object ruleset = DefaultPushRules("@alice:x", "alice");
  json::object& global = ruleset["global"].as_object();
  // Mute one room (a room rule without notify), and one sender with dont_notify.
  global["room"].as_array().push_back(json::object{
      {"rule_id", "!muted:x"}, {"default", false}, {"enabled", true}, {"actions", json::array{}}});
  global["sender"].as_array().push_back(json::object{{"rule_id", "@spam:x"},
                                                     {"default", false},
                                                     {"enabled", true},
                                                     {"actions", json::array{"dont_notify"}}});
  // A keyword of the user's own, highlighting.
  global["content"].as_array().push_back(
      json::object{{"rule_id", "deploy"},
                   {"default", false},
                   {"enabled", true},
                   {"pattern", "deploy*"},
                   {"actions", json::array{"notify", json::object{{"set_tweak", "highlight"}}}}});
  PushRuleSet rules = PushRuleSet::Compile(ruleset);
  Context c;
  EXPECT_TRUE(rules.Evaluate(Message("deploying now"), c.Make()).highlight);
  json::object muted = Message("hello");
  muted["room_id"] = "!muted:x";
  EXPECT_FALSE(rules.Evaluate(muted, c.Make()).notify);
  EXPECT_FALSE(rules.Evaluate(Message("hello", "@spam:x"), c.Make()).notify);
  // Content rules come before room rules: the keyword still highlights in the muted room.
  json::object muted_keyword = Message("deploy");
  muted_keyword["room_id"] = "!muted:x";
  EXPECT_TRUE(rules.Evaluate(muted_keyword, c.Make()).highlight);
  // The master rule, enabled, silences everything.
  global["override"].as_array()[0].as_object()["enabled"] = true;
  EXPECT_FALSE(PushRuleSet::Compile(ruleset).Evaluate(Message("alice"), c.Make()).notify);
}

TEST(PushEvalTest, SharedDefaultsAnswerAsEachUsersOwn) {
  // One compiled default set for everyone, the owner's IDs filled in at evaluation.
  PushRuleSet shared =
      PushRuleSet::Compile(DefaultPushRules(std::string(PushRuleSet::kUserIdSlot),
                                            std::string(PushRuleSet::kLocalpartSlot)),
                           PushRuleSet::kUserIdSlot);
  EXPECT_EQ(shared.SilencedTypes(), std::vector<std::string>{"m.room.member"});
  json::object mention_bob = Message("hey");
  mention_bob["content"].as_object()["m.mentions"] =
      json::object{{"user_ids", json::array{"@bob:x"}}};
  auto invite_alice = Event(
      R"({"type":"m.room.member","sender":"@c:x","state_key":"@alice:x","content":{"membership":"invite"}})");
  std::vector<json::object> events{Message("hello"),   Message("alice: hi"),
                                   Message("bob: hi"), mention_bob,
                                   invite_alice,       Message("thanks Alice Martin")};
  for (const char* who : {"alice", "bob"}) {
    std::string id = std::string("@") + who + ":x";
    PushRuleSet own = PushRuleSet::Compile(DefaultPushRules(id, who), id);
    Context c;
    PushContext ctx = c.Make();
    ctx.user_id = id;
    ctx.localpart = who;
    for (const auto& ev : events) {
      auto a = shared.Evaluate(ev, ctx);
      auto b = own.Evaluate(ev, ctx);
      EXPECT_EQ(a.notify, b.notify) << who << " " << json::serialize(ev);
      EXPECT_EQ(a.highlight, b.highlight) << who << " " << json::serialize(ev);
    }
  }
  Context c;
  PushContext bob = c.Make();
  bob.user_id = "@bob:x";
  bob.localpart = "bob";
  bob.display_name = "";
  EXPECT_TRUE(shared.Evaluate(mention_bob, bob).highlight);
  EXPECT_TRUE(shared.Evaluate(Message("bob: hi"), bob).highlight);
  EXPECT_FALSE(shared.Evaluate(Message("alice: hi"), bob).highlight);
  EXPECT_FALSE(shared.Evaluate(invite_alice, bob).notify) << "alice's invitation, not bob's";
}

TEST(PushEvalTest, SilencedTypes) {
  // With the defaults, others' member events never notify (invite_for_me needs our state_key).
  auto defaults =
      PushRuleSet::Compile(DefaultPushRules("@alice:x", "alice"), "@alice:x").SilencedTypes();
  EXPECT_EQ(defaults, std::vector<std::string>{"m.room.member"});
  // A rule of the user's that notifies every event, put before them, silences nothing; nor does
  // one that notifies member events by content.
  json::object ruleset = DefaultPushRules("@alice:x", "alice");
  json::array& overrides = ruleset["global"].as_object()["override"].as_array();
  overrides.insert(overrides.begin() + 1,
                   json::object{{"rule_id", "joins"},
                                {"enabled", true},
                                {"conditions", json::array{json::object{{"kind", "event_match"},
                                                                        {"key", "type"},
                                                                        {"pattern", "m.room.*"}}}},
                                {"actions", json::array{"notify"}}});
  EXPECT_TRUE(PushRuleSet::Compile(ruleset, "@alice:x").SilencedTypes().empty());
  overrides[1].as_object()["conditions"].as_array()[0].as_object()["pattern"] = "m.room.message";
  EXPECT_EQ(PushRuleSet::Compile(ruleset, "@alice:x").SilencedTypes(),
            std::vector<std::string>{"m.room.member"})
      << "a notifying rule for another type does not reach member events";
}

TEST(PushEvalTest, ConditionsOfEveryKind) {
  auto rules_with = [](json::array conditions) {
    json::object ruleset{
        {"global", json::object{{"override",
                                 json::array{json::object{{"rule_id", "t"},
                                                          {"enabled", true},
                                                          {"conditions", std::move(conditions)},
                                                          {"actions", json::array{"notify"}}}}}}}};
    return PushRuleSet::Compile(ruleset);
  };
  Context c;
  json::object ev = Message("x");
  ev["content"].as_object()["n"] = 3;
  ev["content"].as_object()["flag"] = true;
  ev["content"].as_object()["a.b"] = "dotted";
  auto notifies = [&](json::object cond) {
    return rules_with(json::array{std::move(cond)}).Evaluate(ev, c.Make()).notify;
  };
  EXPECT_TRUE(notifies({{"kind", "event_property_is"}, {"key", "content.n"}, {"value", 3}}));
  EXPECT_FALSE(notifies({{"kind", "event_property_is"}, {"key", "content.n"}, {"value", "3"}}));
  EXPECT_TRUE(notifies({{"kind", "event_property_is"}, {"key", "content.flag"}, {"value", true}}));
  EXPECT_TRUE(notifies({{"kind", "event_match"}, {"key", "content.a\\.b"}, {"pattern", "dot*"}}));
  EXPECT_FALSE(notifies({{"kind", "event_match"}, {"key", "content.n"}, {"pattern", "*"}}))
      << "event_match needs a string";
  EXPECT_FALSE(notifies({{"kind", "event_match"}, {"key", "content.none"}, {"pattern", "*"}}));
  c.members = 2;
  EXPECT_TRUE(notifies({{"kind", "room_member_count"}, {"is", "2"}}));
  EXPECT_TRUE(notifies({{"kind", "room_member_count"}, {"is", "==2"}}));
  EXPECT_TRUE(notifies({{"kind", "room_member_count"}, {"is", "<3"}}));
  EXPECT_TRUE(notifies({{"kind", "room_member_count"}, {"is", ">=2"}}));
  EXPECT_FALSE(notifies({{"kind", "room_member_count"}, {"is", ">2"}}));
  EXPECT_FALSE(notifies({{"kind", "room_member_count"}, {"is", "two"}}));
  EXPECT_FALSE(notifies({{"kind", "some_future_kind"}})) << "unknown kinds never match";
  EXPECT_FALSE(notifies({{"kind", 7}}));
  // A rule with no conditions matches everything.
  EXPECT_TRUE(rules_with(json::array{}).Evaluate(ev, c.Make()).notify);
}

}  // namespace
}  // namespace ruche::matrix
