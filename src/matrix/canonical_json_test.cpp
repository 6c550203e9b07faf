#include "matrix/canonical_json.hpp"

#include <gtest/gtest.h>

namespace ruche::matrix {
namespace {

std::string Canon(std::string_view text) {
  auto r = CanonicalJson(json::parse(text));
  EXPECT_TRUE(r) << text;
  return r ? *r : "";
}

// The examples of the spec's "Canonical JSON" appendix.
TEST(CanonicalJsonTest, SpecExamples) {
  EXPECT_EQ(Canon("{}"), "{}");
  EXPECT_EQ(Canon(R"({"one": 1, "two": "Two"})"), R"({"one":1,"two":"Two"})");
  EXPECT_EQ(Canon(R"({"b": "2", "a": "1"})"), R"({"a":"1","b":"2"})");
  EXPECT_EQ(Canon(R"({"auth": {"success": true, "mxid": "@john.doe:example.com", "profile": {
        "display_name": "John Doe", "three_pids": [{"medium": "email", "address":
        "john.doe@example.org"}, {"medium": "msisdn", "address": "123456789"}]}}})"),
            R"({"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe",)"
            R"("three_pids":[{"address":"john.doe@example.org","medium":"email"},)"
            R"({"address":"123456789","medium":"msisdn"}]},"success":true}})");
  EXPECT_EQ(Canon(R"({"a": "日本語"})"), R"({"a":"日本語"})");
  EXPECT_EQ(Canon(R"({"本": 2, "日": 1})"), R"({"日":1,"本":2})");
  EXPECT_EQ(Canon(R"({"a": "\u65E5"})"), R"({"a":"日"})");
  EXPECT_EQ(Canon(R"({"a": null})"), R"({"a":null})");
  EXPECT_EQ(Canon(R"({"a": -0, "b": 1e10})"), R"({"a":0,"b":10000000000})");
}

TEST(CanonicalJsonTest, EscapesOnlyWhatIsRequired) {
  EXPECT_EQ(Canon(R"({"a": "q\"b\\s/\n\t\u0001\u001f é"})"),
            "{\"a\":\"q\\\"b\\\\s/\\n\\t\\u0001\\u001f é\"}");
}

TEST(CanonicalJsonTest, RejectsFloatsAndHugeIntegers) {
  EXPECT_FALSE(CanonicalJson(json::parse(R"({"a": 1.5})")));
  EXPECT_FALSE(CanonicalJson(json::parse(R"({"a": 9007199254740992})")));
  EXPECT_FALSE(CanonicalJson(json::parse(R"({"a": -9007199254740992})")));
  EXPECT_FALSE(CanonicalJson(json::parse(R"({"a": 18446744073709551615})")));
  EXPECT_TRUE(CanonicalJson(json::parse(R"({"a": 9007199254740991})")));
}

json::object MessageEvent() {
  return json::parse(R"({
    "type": "m.room.message", "room_id": "!r:example.org", "sender": "@a:example.org",
    "origin_server_ts": 1700000000000, "depth": 3, "prev_events": ["$p"], "auth_events": ["$c"],
    "content": {"msgtype": "m.text", "body": "secret"},
    "unsigned": {"age": 5}, "origin": "example.org"})")
      .as_object();
}

TEST(RedactionTest, MessageContentIsGoneAndTopLevelKeysFollowTheVersion) {
  auto v11 = Redact(MessageEvent(), "11");
  ASSERT_TRUE(v11);
  EXPECT_TRUE(v11->at("content").as_object().empty());
  EXPECT_FALSE(v11->contains("unsigned"));
  EXPECT_FALSE(v11->contains("origin"));  // v11 dropped origin
  auto v10 = Redact(MessageEvent(), "10");
  EXPECT_TRUE(v10->contains("origin"));
  EXPECT_EQ(Redact(MessageEvent(), "3").error().errcode, "M_UNSUPPORTED_ROOM_VERSION");
}

TEST(RedactionTest, KeepsWhatAuthRulesNeed) {
  auto pl = json::parse(R"({"type": "m.room.power_levels", "state_key": "", "content": {
    "ban": 50, "invite": 0, "users": {"@a:x": 100}, "notifications": {"room": 50}}})")
                .as_object();
  auto v11 = Redact(pl, "11");
  EXPECT_TRUE(v11->at("content").as_object().contains("invite"));
  EXPECT_FALSE(v11->at("content").as_object().contains("notifications"));
  EXPECT_FALSE(Redact(pl, "10")->at("content").as_object().contains("invite"));

  auto create = json::parse(R"({"type": "m.room.create", "state_key": "", "content": {
    "creator": "@a:x", "room_version": "11", "type": "m.space"}})")
                    .as_object();
  EXPECT_EQ(Redact(create, "11")->at("content").as_object().size(), 3u);
  EXPECT_EQ(Redact(create, "10")->at("content").as_object().size(), 1u);

  auto member = json::parse(R"({"type": "m.room.member", "state_key": "@b:x", "content": {
    "membership": "join", "displayname": "B", "third_party_invite": {"signed": {"t": 1},
    "display_name": "x"}}})")
                    .as_object();
  auto m11 = Redact(member, "11")->at("content").as_object();
  EXPECT_EQ(m11.at("membership"), "join");
  EXPECT_FALSE(m11.contains("displayname"));
  EXPECT_EQ(json::serialize(m11.at("third_party_invite")), R"({"signed":{"t":1}})");
  EXPECT_FALSE(Redact(member, "10")->at("content").as_object().contains("third_party_invite"));

  auto redaction = json::parse(R"({"type": "m.room.redaction", "content": {
    "redacts": "$x", "reason": "spam"}})")
                       .as_object();
  EXPECT_EQ(json::serialize(Redact(redaction, "11")->at("content")), R"({"redacts":"$x"})");
  EXPECT_TRUE(Redact(redaction, "10")->at("content").as_object().empty());
}

TEST(EventIdTest, ReferenceHashCoversTheRedactedEvent) {
  auto event = MessageEvent();
  auto hash = ContentHash(event);
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->size(), 43u);  // 32 bytes, unpadded base64
  event["hashes"] = json::object{{"sha256", *hash}};
  auto id = EventIdFor(event, "11");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->size(), 44u);
  EXPECT_EQ(id->front(), '$');
  EXPECT_EQ(id->find_first_of("+/="), std::string::npos);  // URL-safe

  // Key order, unsigned and signatures do not change the ID...
  auto same = json::parse(json::serialize(event)).as_object();
  same["unsigned"] = json::object{{"age", 99}};
  same["signatures"] = json::object{{"example.org", json::object{{"ed25519:a", "sig"}}}};
  EXPECT_EQ(*EventIdFor(same, "11"), *id);
  // ...the content does, through its hash.
  auto edited = event;
  edited["content"].as_object()["body"] = "changed";
  edited["hashes"] = json::object{{"sha256", *ContentHash(edited)}};
  EXPECT_NE(*ContentHash(edited), *hash);
  EXPECT_NE(*EventIdFor(edited, "11"), *id);
}

}  // namespace
}  // namespace ruche::matrix
