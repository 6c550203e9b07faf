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

namespace ruche::matrix {

namespace {

constexpr size_t kMaxRuleIdLength = 255;
constexpr size_t kMaxActions = 20;
constexpr size_t kMaxConditions = 20;
constexpr size_t kMaxRulesPerKind = 500;

bool IsKind(std::string_view kind) {
  return kind == "override" || kind == "underride" || kind == "sender" || kind == "room" ||
         kind == "content";
}

Result<json::array*> KindRules(json::object& ruleset, std::string_view kind) {
  if (!IsKind(kind)) {
    return core::Error::BadRequest("Unknown push rule kind", "M_INVALID_PARAM");
  }
  json::value& global = ruleset["global"];
  if (!global.is_object()) {
    global = json::object{};
  }
  json::value& rules = global.as_object()[kind];
  if (!rules.is_array()) {
    rules = json::array{};
  }
  return &rules.as_array();
}

std::optional<size_t> IndexOf(const json::array& rules, std::string_view rule_id) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const json::value* id =
        rules[i].is_object() ? rules[i].get_object().if_contains("rule_id") : nullptr;
    if (id && id->is_string() && id->get_string() == rule_id) {
      return i;
    }
  }
  return std::nullopt;
}

core::Error NotFound() { return core::Error::NotFound("Unknown push rule"); }

Result<json::array> ValidActions(const json::object& body) {
  const json::value* actions = body.if_contains("actions");
  if (!actions || !actions->is_array() || actions->get_array().size() > kMaxActions) {
    return core::Error::BadRequest("'actions' must be a list of at most 20 actions");
  }
  for (const auto& a : actions->get_array()) {
    if (!a.is_string() && !a.is_object()) {
      return core::Error::BadRequest("Each action must be a string or an object");
    }
  }
  return actions->get_array();
}

}  // namespace

Result<json::object> FindPushRule(const json::object& ruleset, std::string_view kind,
                                  std::string_view rule_id) {
  json::object copy = ruleset;
  RUCHE_ASSIGN_OR_RETURN(json::array * rules, KindRules(copy, kind));
  auto i = IndexOf(*rules, rule_id);
  if (!i) {
    return NotFound();
  }
  return (*rules)[*i].as_object();
}

Result<void> PutPushRule(json::object& ruleset, std::string_view kind, std::string_view rule_id,
                         const json::object& body, std::optional<std::string_view> before,
                         std::optional<std::string_view> after) {
  RUCHE_ASSIGN_OR_RETURN(json::array * rules, KindRules(ruleset, kind));
  if (rule_id.empty() || rule_id.size() > kMaxRuleIdLength || rule_id.find('/') != rule_id.npos) {
    return core::Error::BadRequest("Invalid rule ID", "M_INVALID_PARAM");
  }
  if (rule_id.front() == '.') {
    return core::Error::BadRequest("Server-default rules cannot be changed", "M_INVALID_PARAM");
  }
  RUCHE_ASSIGN_OR_RETURN(json::array actions, ValidActions(body));
  json::object rule{
      {"rule_id", rule_id}, {"default", false}, {"enabled", true}, {"actions", std::move(actions)}};
  if (kind == "content") {
    const json::value* pattern = body.if_contains("pattern");
    if (!pattern || !pattern->is_string() || pattern->get_string().empty()) {
      return core::Error::BadRequest("Content rules need a 'pattern'", "M_MISSING_PARAM");
    }
    rule["pattern"] = pattern->get_string();
  } else if (kind == "override" || kind == "underride") {
    json::array conditions;
    if (const json::value* c = body.if_contains("conditions")) {
      if (!c->is_array() || c->get_array().size() > kMaxConditions) {
        return core::Error::BadRequest("'conditions' must be a list of at most 20 conditions");
      }
      for (const auto& cond : c->get_array()) {
        const json::value* ck = cond.is_object() ? cond.get_object().if_contains("kind") : nullptr;
        if (!ck || !ck->is_string()) {
          return core::Error::BadRequest("Each condition must be an object with a 'kind'");
        }
      }
      conditions = c->get_array();
    }
    rule["conditions"] = std::move(conditions);
  }
  if (auto existing = IndexOf(*rules, rule_id)) {
    // Replacing keeps the rule's place and its enabled flag (spec: PUT updates the rule).
    rule["enabled"] = (*rules)[*existing].as_object()["enabled"];
    (*rules)[*existing] = std::move(rule);
    return {};
  }
  if (rules->size() >= kMaxRulesPerKind) {
    return core::Error::BadRequest("Too many push rules of this kind", "M_RESOURCE_LIMIT_EXCEEDED");
  }
  size_t at = 0;
  if (before || after) {
    std::string_view anchor = before ? *before : *after;
    auto i = IndexOf(*rules, anchor);
    if (!i || anchor.starts_with('.')) {
      return core::Error::NotFound("The 'before'/'after' rule is not a rule of yours");
    }
    at = before ? *i : *i + 1;
  } else {
    // First among the kind's rules, but never above the master switch.
    auto master = IndexOf(*rules, ".m.rule.master");
    at = master ? *master + 1 : 0;
  }
  rules->insert(rules->begin() + static_cast<std::ptrdiff_t>(at), std::move(rule));
  return {};
}

Result<void> DeletePushRule(json::object& ruleset, std::string_view kind,
                            std::string_view rule_id) {
  RUCHE_ASSIGN_OR_RETURN(json::array * rules, KindRules(ruleset, kind));
  auto i = IndexOf(*rules, rule_id);
  if (!i) {
    return NotFound();
  }
  if (rule_id.starts_with('.')) {
    return core::Error::BadRequest("Server-default rules cannot be deleted", "M_INVALID_PARAM");
  }
  rules->erase(rules->begin() + static_cast<std::ptrdiff_t>(*i));
  return {};
}

Result<void> SetPushRuleAttribute(json::object& ruleset, std::string_view kind,
                                  std::string_view rule_id, std::string_view attribute,
                                  const json::object& body) {
  RUCHE_ASSIGN_OR_RETURN(json::array * rules, KindRules(ruleset, kind));
  auto i = IndexOf(*rules, rule_id);
  if (!i) {
    return NotFound();
  }
  json::object& rule = (*rules)[*i].as_object();
  if (attribute == "enabled") {
    const json::value* enabled = body.if_contains("enabled");
    if (!enabled || !enabled->is_bool()) {
      return core::Error::BadRequest("'enabled' must be a boolean");
    }
    rule["enabled"] = enabled->get_bool();
    return {};
  }
  if (attribute == "actions") {
    RUCHE_ASSIGN_OR_RETURN(json::array actions, ValidActions(body));
    rule["actions"] = std::move(actions);
    return {};
  }
  return core::Error::Unrecognized();
}

}  // namespace ruche::matrix
