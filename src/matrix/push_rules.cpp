#include "matrix/push_rules.hpp"

namespace ruche::matrix {

namespace json = core::json;

namespace {

json::object Match(const char* key, const std::string& pattern) {
  return json::object{{"kind", "event_match"}, {"key", key}, {"pattern", pattern}};
}

json::object Rule(const char* id, json::array conditions, json::array actions) {
  return json::object{{"rule_id", id},
                      {"default", true},
                      {"enabled", true},
                      {"conditions", std::move(conditions)},
                      {"actions", std::move(actions)}};
}

json::object Sound(const char* value) {
  return json::object{{"set_tweak", "sound"}, {"value", value}};
}

json::object Highlight() { return json::object{{"set_tweak", "highlight"}}; }

}  // namespace

json::object DefaultPushRules(const std::string& user_id, const std::string& localpart) {
  json::object room_permission{{"kind", "sender_notification_permission"}, {"key", "room"}};
  json::array override_rules{
      json::object{{"rule_id", ".m.rule.master"},
                   {"default", true},
                   {"enabled", false},
                   {"conditions", json::array{}},
                   {"actions", json::array{}}},
      Rule(".m.rule.suppress_notices", {Match("content.msgtype", "m.notice")}, {}),
      Rule(".m.rule.invite_for_me",
           {Match("type", "m.room.member"), Match("content.membership", "invite"),
            Match("state_key", user_id)},
           {"notify", Sound("default")}),
      Rule(".m.rule.member_event", {Match("type", "m.room.member")}, {}),
      Rule(".m.rule.is_user_mention",
           {json::object{{"kind", "event_property_contains"},
                         {"key", "content.m\\.mentions.user_ids"},
                         {"value", user_id}}},
           {"notify", Sound("default"), Highlight()}),
      Rule(".m.rule.contains_display_name", {json::object{{"kind", "contains_display_name"}}},
           {"notify", Sound("default"), Highlight()}),
      Rule(".m.rule.is_room_mention",
           {json::object{{"kind", "event_property_is"},
                         {"key", "content.m\\.mentions.room"},
                         {"value", true}},
            room_permission},
           {"notify", Highlight()}),
      Rule(".m.rule.roomnotif", {room_permission, Match("content.body", "@room")},
           {"notify", Highlight()}),
      Rule(".m.rule.tombstone", {Match("type", "m.room.tombstone"), Match("state_key", "")},
           {"notify", Highlight()}),
      Rule(".m.rule.reaction", {Match("type", "m.reaction")}, {}),
      Rule(".m.rule.room.server_acl", {Match("type", "m.room.server_acl"), Match("state_key", "")},
           {}),
      Rule(".m.rule.suppress_edits",
           {json::object{{"kind", "event_property_is"},
                         {"key", "content.m\\.relates_to.rel_type"},
                         {"value", "m.replace"}}},
           {}),
  };
  json::array content_rules{
      json::object{{"rule_id", ".m.rule.contains_user_name"},
                   {"default", true},
                   {"enabled", true},
                   {"pattern", localpart},
                   {"actions", json::array{"notify", Sound("default"), Highlight()}}}};
  json::object two_members{{"kind", "room_member_count"}, {"is", "2"}};
  json::array underride_rules{
      Rule(".m.rule.call", {Match("type", "m.call.invite")}, {"notify", Sound("ring")}),
      Rule(".m.rule.encrypted_room_one_to_one", {two_members, Match("type", "m.room.encrypted")},
           {"notify", Sound("default")}),
      Rule(".m.rule.room_one_to_one", {two_members, Match("type", "m.room.message")},
           {"notify", Sound("default")}),
      Rule(".m.rule.message", {Match("type", "m.room.message")}, {"notify"}),
      Rule(".m.rule.encrypted", {Match("type", "m.room.encrypted")}, {"notify"}),
  };
  return json::object{{"global", json::object{{"override", std::move(override_rules)},
                                              {"content", std::move(content_rules)},
                                              {"room", json::array{}},
                                              {"sender", json::array{}},
                                              {"underride", std::move(underride_rules)}}}};
}

}  // namespace ruche::matrix
