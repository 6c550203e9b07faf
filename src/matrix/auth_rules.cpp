#include "matrix/auth_rules.hpp"

#include <array>
#include <optional>
#include <set>
#include <string>

#include "matrix/canonical_json.hpp"

namespace ruche::matrix {
namespace {

constexpr std::string_view kCreate = "m.room.create";
constexpr std::string_view kMember = "m.room.member";
constexpr std::string_view kJoinRules = "m.room.join_rules";
constexpr std::string_view kPowerLevels = "m.room.power_levels";
constexpr std::string_view kThirdPartyInvite = "m.room.third_party_invite";

// Spec m.room.power_levels: the defaults when a key (or the whole event) is missing.
constexpr int64_t kDefaultStateLevel = 50;
constexpr int64_t kDefaultEventsLevel = 0;
constexpr int64_t kDefaultKickBanRedactLevel = 50;
constexpr int64_t kDefaultInviteLevel = 0;
constexpr int64_t kCreatorLevelWithoutPowerLevels = 100;

// The keys of m.room.power_levels that hold a single level (v10 auth rules 9.1 and 9.5).
constexpr std::array<std::string_view, 7> kLevelKeys = {
    "users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"};

bool IsSupportedVersion(std::string_view v) { return v == "10" || v == "11"; }

Error Forbidden(std::string msg) { return Error::Forbidden(std::move(msg)); }

// A power level: a JSON integer within canonical JSON's range. Room version 10 forbids the
// string forms older versions allowed; floats are refused too, even integral ones ("50.0"),
// because the event is served as written and other servers would read a float.
std::optional<int64_t> AsLevel(const json::value& v) {
  if (v.is_int64()) {
    int64_t i = v.get_int64();
    if (i >= -kMaxCanonicalInt && i <= kMaxCanonicalInt) {
      return i;
    }
  } else if (v.is_uint64()) {
    if (v.get_uint64() <= static_cast<uint64_t>(kMaxCanonicalInt)) {
      return static_cast<int64_t>(v.get_uint64());
    }
  }
  return std::nullopt;
}

// obj[key] as a level; nullopt if obj is null, the key is missing or the value is no integer.
std::optional<int64_t> LevelField(const json::object* obj, std::string_view key) {
  if (obj == nullptr) {
    return std::nullopt;
  }
  auto it = obj->find(key);
  return it == obj->end() ? std::nullopt : AsLevel(it->value());
}

// obj[key] as a string; "" if obj is null, the key is missing or the value is no string.
std::string_view StringField(const json::object* obj, std::string_view key) {
  if (obj == nullptr) {
    return {};
  }
  auto it = obj->find(key);
  if (it == obj->end() || !it->value().is_string()) {
    return {};
  }
  return it->value().get_string();
}

// obj[key] if it is an object, else nullptr.
const json::object* ObjectField(const json::object* obj, std::string_view key) {
  if (obj == nullptr) {
    return nullptr;
  }
  auto it = obj->find(key);
  return it != obj->end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

const json::object* PowerLevels(const AuthState& state) { return state.Get(kPowerLevels, ""); }

// The membership of `user_id` in the current state: "join", "invite", "leave", "ban", "knock",
// or "" for a user the room has never seen.
std::string_view MembershipOf(const AuthState& state, std::string_view user_id) {
  return StringField(state.Get(kMember, user_id), "membership");
}

// Spec m.room.join_rules; without one the room is invite-only, as in other implementations.
std::string_view JoinRule(const AuthState& state) {
  const json::object* rules = state.Get(kJoinRules, "");
  std::string_view rule = StringField(rules, "join_rule");
  return rule.empty() ? "invite" : rule;
}

// v10: content.creator of m.room.create; v11: its sender (v11 "Remove the creator property").
std::string_view Creator(const AuthState& state, std::string_view room_version) {
  if (room_version == "10") {
    return StringField(state.Get(kCreate, ""), "creator");
  }
  return state.CreateSender();
}

// The server name of a user ID: everything after the first ':'.
std::string_view DomainOf(std::string_view user_id) {
  auto colon = user_id.find(':');
  return colon == std::string_view::npos ? std::string_view() : user_id.substr(colon + 1);
}

// Spec "User Identifiers": @localpart:server_name, at most 255 bytes. Only the shape is checked;
// it is what the power level rules need to keep keys that cannot be users out of `users`.
bool IsUserId(std::string_view s) {
  if (s.size() < 4 || s.size() > 255 || s[0] != '@') {
    return false;
  }
  auto colon = s.find(':');
  return colon != std::string_view::npos && colon > 1 && colon + 1 < s.size();
}

int64_t NamedLevel(const AuthState& state, std::string_view key, int64_t fallback) {
  return LevelField(PowerLevels(state), key).value_or(fallback);
}

std::string InsufficientPower(std::string_view action, int64_t needed, int64_t have) {
  return "Insufficient power level to " + std::string(action) + ": " + std::to_string(needed) +
         " needed, you have " + std::to_string(have);
}

// v10 rules 9.1–9.3: the shape of an m.room.power_levels content. Malformed content is a client
// error (400), not a question of permission.
Result<void> ValidatePowerLevels(const json::object& content) {
  for (std::string_view key : kLevelKeys) {
    auto it = content.find(key);
    if (it != content.end() && !AsLevel(it->value())) {
      return Error::BadRequest("Power level '" + std::string(key) + "' must be an integer");
    }
  }
  for (std::string_view key : {std::string_view("events"), std::string_view("notifications")}) {
    auto it = content.find(key);
    if (it == content.end()) {
      continue;
    }
    if (!it->value().is_object()) {
      return Error::BadRequest("Power levels '" + std::string(key) + "' must be an object");
    }
    for (const auto& kv : it->value().get_object()) {
      if (!AsLevel(kv.value())) {
        return Error::BadRequest("Power level '" + std::string(key) + "." + std::string(kv.key()) +
                                 "' must be an integer");
      }
    }
  }
  if (auto it = content.find("users"); it != content.end()) {
    if (!it->value().is_object()) {
      return Error::BadRequest("Power levels 'users' must be an object");
    }
    for (const auto& kv : it->value().get_object()) {
      if (!IsUserId(kv.key())) {
        return Error::BadRequest("Power levels 'users' has a key that is not a user ID: " +
                                 std::string(kv.key()));
      }
      if (!AsLevel(kv.value())) {
        return Error::BadRequest("Power level of " + std::string(kv.key()) + " must be an integer");
      }
    }
  }
  return Ok();
}

// The keys of two (possibly absent) objects, each once.
std::set<std::string> KeysOf(const json::object* a, const json::object* b) {
  std::set<std::string> keys;
  for (const json::object* obj : {a, b}) {
    if (obj != nullptr) {
      for (const auto& kv : *obj) {
        keys.emplace(kv.key());
      }
    }
  }
  return keys;
}

// v10 rules 9.4–9.9: what a change of m.room.power_levels may touch. Everyone may only move
// levels within their own reach; a user's own entry is the one exception, so that they can
// step down (9.8), but never up (9.9).
Result<void> CheckPowerLevelChange(const json::object* old_content, const json::object& new_content,
                                   std::string_view sender, int64_t sender_level) {
  if (old_content == nullptr) {
    return Ok();  // 9.4: the first power levels event sets the room up
  }
  const std::string have = std::to_string(sender_level);
  for (std::string_view key : kLevelKeys) {
    auto old_level = LevelField(old_content, key);
    auto new_level = LevelField(&new_content, key);
    if (old_level == new_level) {
      continue;
    }
    if (old_level && *old_level > sender_level) {
      return Forbidden("Cannot change '" + std::string(key) + "' from " +
                       std::to_string(*old_level) + ": above your power level " + have);
    }
    if (new_level && *new_level > sender_level) {
      return Forbidden("Cannot set '" + std::string(key) + "' to " + std::to_string(*new_level) +
                       ": above your power level " + have);
    }
  }
  for (std::string_view map : {std::string_view("events"), std::string_view("notifications")}) {
    const json::object* old_map = ObjectField(old_content, map);
    const json::object* new_map = ObjectField(&new_content, map);
    for (const std::string& key : KeysOf(old_map, new_map)) {
      auto old_level = LevelField(old_map, key);
      auto new_level = LevelField(new_map, key);
      if (old_level == new_level) {
        continue;
      }
      if (old_level && *old_level > sender_level) {  // 9.6: changed or removed
        return Forbidden("Cannot change the level of " + std::string(map) + " '" + key + "' from " +
                         std::to_string(*old_level) + ": above your power level " + have);
      }
      if (new_level && *new_level > sender_level) {  // 9.7: added or changed
        return Forbidden("Cannot set the level of " + std::string(map) + " '" + key + "' to " +
                         std::to_string(*new_level) + ": above your power level " + have);
      }
    }
  }
  const json::object* old_users = ObjectField(old_content, "users");
  const json::object* new_users = ObjectField(&new_content, "users");
  for (const std::string& user : KeysOf(old_users, new_users)) {
    auto old_level = LevelField(old_users, user);
    auto new_level = LevelField(new_users, user);
    if (old_level == new_level) {
      continue;
    }
    // 9.8: a peer at your own level is out of reach, so two admins cannot demote each other.
    if (old_level && user != sender && *old_level >= sender_level) {
      return Forbidden("Cannot change the power level of " + user + " (" +
                       std::to_string(*old_level) + "): not below yours (" + have + ")");
    }
    if (new_level && *new_level > sender_level) {  // 9.9
      return Forbidden("Cannot give " + user + " power level " + std::to_string(*new_level) +
                       ": above your own (" + have + ")");
    }
  }
  return Ok();
}

// v10/v11 rule 1.
Result<void> AuthorizeCreate(const json::object& event, const json::object& content,
                             const AuthState& state, std::string_view sender,
                             std::string_view room_version) {
  if (state.Get(kCreate, "") != nullptr) {
    return Forbidden("The room already exists");
  }
  if (StringField(&event, "state_key") != "" || !event.contains("state_key")) {
    return Error::BadRequest("m.room.create must have an empty state_key");
  }
  if (auto it = event.find("prev_events"); it != event.end()) {  // 1.1
    if (!it->value().is_array() || !it->value().get_array().empty()) {
      return Forbidden("m.room.create must be the first event of the room");
    }
  }
  // 1.2: a room ID names the server that created the room.
  std::string_view room_id = StringField(&event, "room_id");
  if (DomainOf(room_id).empty() || DomainOf(room_id) != DomainOf(sender)) {
    return Forbidden("The room ID's server does not match the creator's");
  }
  if (auto it = content.find("room_version"); it != content.end()) {  // 1.3
    if (!it->value().is_string() || !IsSupportedVersion(it->value().get_string())) {
      return Error::BadRequest("Unsupported room version", "M_UNSUPPORTED_ROOM_VERSION");
    }
    if (it->value().get_string() != room_version) {
      return Error::BadRequest("content.room_version does not match the room's version");
    }
  }
  if (room_version == "10") {
    // 1.4 only asks for the property. NOTE: Ruche also requires it to be the sender, as the spec
    // describes it; these rules only run on our own events, and a creator other than the sender
    // would hand level 100 to someone else until the power levels are set.
    auto it = content.find("creator");
    if (it == content.end()) {
      return Error::BadRequest("m.room.create needs content.creator in room version 10");
    }
    if (!it->value().is_string() || it->value().get_string() != sender) {
      return Error::BadRequest("content.creator of m.room.create must be its sender");
    }
  }
  return Ok();
}

// Rule 4.3.1: the creator's join right after m.room.create. We see the state, not the event's
// prev_events, so "only previous event" is read as: nothing but the create event has touched
// the room yet — no power levels, no join rules, and the creator has no membership.
bool IsCreatorsFirstJoin(const AuthState& state, std::string_view target,
                         std::string_view room_version) {
  std::string_view creator = Creator(state, room_version);
  return !creator.empty() && target == creator && state.Get(kMember, target) == nullptr &&
         state.Get(kPowerLevels, "") == nullptr && state.Get(kJoinRules, "") == nullptr;
}

// v10/v11 rule 4: m.room.member.
Result<void> AuthorizeMember(const json::object& event, const json::object& content,
                             const AuthState& state, std::string_view sender,
                             std::string_view room_version) {
  auto key_it = event.find("state_key");
  if (key_it == event.end() || !key_it->value().is_string()) {  // 4.1
    return Error::BadRequest("m.room.member needs a state_key");
  }
  std::string_view target = key_it->value().get_string();
  auto m_it = content.find("membership");
  if (m_it == content.end() || !m_it->value().is_string()) {  // 4.1
    return Error::BadRequest("m.room.member needs content.membership");
  }
  std::string_view membership = m_it->value().get_string();

  std::string_view sender_membership = MembershipOf(state, sender);
  std::string_view target_membership = MembershipOf(state, target);
  const int64_t sender_level = UserPowerLevel(state, sender, room_version);
  const int64_t target_level = UserPowerLevel(state, target, room_version);

  if (membership == "join") {  // 4.3
    if (IsCreatorsFirstJoin(state, target, room_version)) {
      return Ok();
    }
    if (sender != target) {
      return Forbidden("You cannot join on behalf of another user");
    }
    if (sender_membership == "ban") {
      return Forbidden("You are banned from this room");
    }
    std::string_view rule = JoinRule(state);
    if (rule == "public") {
      return Ok();
    }
    // NOTE: `restricted` and `knock_restricted` (4.3.5) would also let in a join carrying
    // join_authorised_via_users_server. Ruche does not evaluate the allow conditions, and a
    // client could write that key into its own member event, so such rooms are invite-only here.
    if (rule == "invite" || rule == "knock" || rule == "restricted" || rule == "knock_restricted") {
      if (sender_membership == "invite" || sender_membership == "join") {
        return Ok();
      }
    }
    return Forbidden("You are not invited to this room");
  }

  if (membership == "invite") {  // 4.4
    if (content.contains("third_party_invite")) {
      return Forbidden("Third-party invites are not supported");
    }
    if (sender_membership != "join") {
      return Forbidden("You are not in this room");
    }
    if (target_membership == "join") {
      return Forbidden(std::string(target) + " is already in the room");
    }
    if (target_membership == "ban") {
      return Forbidden(std::string(target) + " is banned from the room");
    }
    int64_t invite_level = NamedLevel(state, "invite", kDefaultInviteLevel);
    if (sender_level < invite_level) {
      return Forbidden(InsufficientPower("invite", invite_level, sender_level));
    }
    return Ok();
  }

  if (membership == "leave") {  // 4.5
    if (sender == target) {
      if (sender_membership == "join" || sender_membership == "invite" ||
          sender_membership == "knock") {
        return Ok();
      }
      if (sender_membership == "ban") {
        return Forbidden("You are banned from this room");
      }
      return Forbidden("You are not in this room");
    }
    if (sender_membership != "join") {
      return Forbidden("You are not in this room");
    }
    // Unbanning is a leave over a ban: it needs the ban level on top of the kick rule below.
    const bool unban = target_membership == "ban";
    int64_t ban_level = NamedLevel(state, "ban", kDefaultKickBanRedactLevel);
    if (unban && sender_level < ban_level) {
      return Forbidden(InsufficientPower("unban", ban_level, sender_level));
    }
    int64_t kick_level = NamedLevel(state, "kick", kDefaultKickBanRedactLevel);
    std::string_view action = unban ? "unban" : "kick";
    if (sender_level < kick_level) {
      return Forbidden(InsufficientPower(action, kick_level, sender_level));
    }
    if (target_level >= sender_level) {
      return Forbidden("Cannot " + std::string(action) + " " + std::string(target) +
                       ": their power level (" + std::to_string(target_level) +
                       ") is not below yours (" + std::to_string(sender_level) + ")");
    }
    return Ok();
  }

  if (membership == "ban") {  // 4.6
    if (sender_membership != "join") {
      return Forbidden("You are not in this room");
    }
    int64_t ban_level = NamedLevel(state, "ban", kDefaultKickBanRedactLevel);
    if (sender_level < ban_level) {
      return Forbidden(InsufficientPower("ban", ban_level, sender_level));
    }
    if (target_level >= sender_level) {
      return Forbidden("Cannot ban " + std::string(target) + ": their power level (" +
                       std::to_string(target_level) + ") is not below yours (" +
                       std::to_string(sender_level) + ")");
    }
    return Ok();
  }

  if (membership == "knock") {  // 4.7
    std::string_view rule = JoinRule(state);
    if (rule != "knock" && rule != "knock_restricted") {
      return Forbidden("This room does not accept knocks");
    }
    if (sender != target) {
      return Forbidden("You cannot knock on behalf of another user");
    }
    if (sender_membership == "ban") {
      return Forbidden("You are banned from this room");
    }
    if (sender_membership == "invite") {
      return Forbidden("You are already invited to this room");
    }
    if (sender_membership == "join") {
      return Forbidden("You are already in this room");
    }
    return Ok();
  }

  return Error::BadRequest("Unknown membership '" + std::string(membership) + "'");  // 4.8
}

}  // namespace

int64_t UserPowerLevel(const AuthState& state, std::string_view user_id,
                       std::string_view room_version) {
  const json::object* levels = PowerLevels(state);
  if (levels == nullptr) {
    std::string_view creator = Creator(state, room_version);
    return !creator.empty() && creator == user_id ? kCreatorLevelWithoutPowerLevels : 0;
  }
  if (auto own = LevelField(ObjectField(levels, "users"), user_id)) {
    return *own;
  }
  return LevelField(levels, "users_default").value_or(0);
}

int64_t RequiredPowerLevel(const AuthState& state, std::string_view event_type, bool is_state) {
  const json::object* levels = PowerLevels(state);
  if (auto level = LevelField(ObjectField(levels, "events"), event_type)) {
    return *level;
  }
  // NOTE: state_default is 50 even without an m.room.power_levels event: the spec's old "0"
  // let anyone take over a room that had none (MSC1304, matrix-spec#861).
  return is_state ? LevelField(levels, "state_default").value_or(kDefaultStateLevel)
                  : LevelField(levels, "events_default").value_or(kDefaultEventsLevel);
}

bool MayRedact(const AuthState& state, std::string_view user_id, std::string_view original_sender,
               std::string_view room_version) {
  // Spec "Handling redactions" accepts any sender on the original sender's server; that is for
  // events received over federation. A local user redacts their own events or needs `redact`.
  if (user_id == original_sender) {
    return true;
  }
  return UserPowerLevel(state, user_id, room_version) >=
         NamedLevel(state, "redact", kDefaultKickBanRedactLevel);
}

Result<void> Authorize(const json::object& event, const AuthState& state,
                       std::string_view room_version) {
  if (!IsSupportedVersion(room_version)) {
    return Error::BadRequest("Unsupported room version " + std::string(room_version),
                             "M_UNSUPPORTED_ROOM_VERSION");
  }
  RUCHE_ASSIGN_OR_RETURN(std::string_view type, core::RequireString(event, "type"));
  RUCHE_ASSIGN_OR_RETURN(std::string_view sender, core::RequireString(event, "sender"));
  RUCHE_ASSIGN_OR_RETURN(std::string_view room_id, core::RequireString(event, "room_id"));
  RUCHE_ASSIGN_OR_RETURN(std::optional<std::string_view> state_key,
                         core::OptString(event, "state_key"));
  auto content_it = event.find("content");
  if (content_it == event.end() || !content_it->value().is_object()) {
    return Error::BadRequest("Event content must be an object");
  }
  const json::object& content = content_it->value().get_object();
  if (!IsUserId(sender)) {
    return Error::BadRequest("Event sender is not a user ID");
  }
  if (room_id.empty()) {
    return Error::BadRequest("Event has no room_id");
  }

  if (type == kCreate) {
    return AuthorizeCreate(event, content, state, sender, room_version);
  }

  // Rule 2.4, read against the current state: every other event needs a room to live in.
  const json::object* create = state.Get(kCreate, "");
  if (create == nullptr) {
    return Forbidden("The room has no m.room.create event");
  }
  // Rule 3: a room created with "m.federate": false stays on its creator's server.
  if (auto it = create->find("m.federate");
      it != create->end() && it->value().is_bool() && !it->value().get_bool()) {
    std::string_view creator = Creator(state, room_version);
    if (creator.empty() || DomainOf(creator) != DomainOf(sender)) {
      return Forbidden("This room is not open to users of other servers");
    }
  }

  if (type == kMember) {
    return AuthorizeMember(event, content, state, sender, room_version);
  }

  if (MembershipOf(state, sender) != "join") {  // 5
    return Forbidden("You are not in this room");
  }
  const int64_t sender_level = UserPowerLevel(state, sender, room_version);

  if (type == kThirdPartyInvite) {  // 6: allowed with the invite level, but Ruche has no 3PID
    return Forbidden("Third-party invites are not supported");
  }

  const int64_t required = RequiredPowerLevel(state, type, state_key.has_value());  // 7
  if (sender_level < required) {
    return Forbidden(InsufficientPower("send " + std::string(type), required, sender_level));
  }

  // 8: state keyed by a user ID belongs to that user.
  if (state_key && !state_key->empty() && (*state_key)[0] == '@' && *state_key != sender) {
    return Forbidden("Only " + std::string(*state_key) + " may set this state");
  }

  if (type == kPowerLevels) {  // 9
    RUCHE_RETURN_IF_ERROR(ValidatePowerLevels(content));
    return CheckPowerLevelChange(PowerLevels(state), content, sender, sender_level);
  }
  return Ok();  // 10
}

}  // namespace ruche::matrix
