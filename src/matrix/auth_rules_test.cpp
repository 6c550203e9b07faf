#include "matrix/auth_rules.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

namespace ruche::matrix {
namespace {

// The room state as a map, with the create event's sender kept aside for v11.
class MapState final : public AuthState {
 public:
  const json::object* Get(std::string_view type, std::string_view state_key) const override {
    auto it = events_.find({std::string(type), std::string(state_key)});
    return it == events_.end() ? nullptr : &it->second;
  }
  std::string_view CreateSender() const override { return create_sender_; }

  void Set(std::string type, std::string state_key, json::object content) {
    events_[{std::move(type), std::move(state_key)}] = std::move(content);
  }
  void Erase(const std::string& type, const std::string& state_key) {
    events_.erase({type, state_key});
  }
  void set_create_sender(std::string sender) { create_sender_ = std::move(sender); }

 private:
  std::map<std::pair<std::string, std::string>, json::object> events_;
  std::string create_sender_;
};

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

enum class Base {
  kEmpty,       // nothing yet: for m.room.create
  kCreateOnly,  // just the m.room.create event, created by @owner:h
  kRoom,        // the room below
};

// The room most cases run in, on server "h": @owner:h (100), @mod:h and @mod2:h (50),
// @member:h and @member2:h (0) joined; @invited:h invited, @banned:h banned, @left:h left,
// @knocker:h knocking; @stranger:h never seen. Join rule "invite"; all other levels default.
MapState MakeState(Base base, std::string_view version) {
  MapState s;
  if (base == Base::kEmpty) {
    return s;
  }
  s.set_create_sender("@owner:h");
  s.Set("m.room.create", "",
        version == "10" ? Obj(R"({"creator": "@owner:h", "room_version": "10"})")
                        : Obj(R"({"room_version": "11"})"));
  if (base == Base::kCreateOnly) {
    return s;
  }
  s.Set("m.room.power_levels", "",
        Obj(R"({"users": {"@owner:h": 100, "@mod:h": 50, "@mod2:h": 50}, "users_default": 0})"));
  s.Set("m.room.join_rules", "", Obj(R"({"join_rule": "invite"})"));
  for (auto [user, membership] :
       std::initializer_list<std::pair<const char*, const char*>>{{"@owner:h", "join"},
                                                                  {"@mod:h", "join"},
                                                                  {"@mod2:h", "join"},
                                                                  {"@member:h", "join"},
                                                                  {"@member2:h", "join"},
                                                                  {"@invited:h", "invite"},
                                                                  {"@banned:h", "ban"},
                                                                  {"@left:h", "leave"},
                                                                  {"@knocker:h", "knock"}}) {
    json::object content;
    content["membership"] = membership;
    s.Set("m.room.member", user, std::move(content));
  }
  return s;
}

// Applies {type: {state_key: content or null}} on top of a state.
void Override(MapState& s, std::string_view overrides) {
  if (overrides.empty()) {
    return;
  }
  for (const auto& [type, keys] : Obj(overrides)) {
    for (const auto& [key, content] : keys.as_object()) {
      if (content.is_null()) {
        s.Erase(std::string(type), std::string(key));
      } else {
        s.Set(std::string(type), std::string(key), content.as_object());
      }
    }
  }
}

enum class Outcome { kAllowed, kForbidden, kBadJson, kUnsupportedVersion };

struct Case {
  const char* name;
  const char* version;
  Base base;
  const char* overrides;  // applied to the base state, see Override
  const char* event;      // room_id "!r:h" is added when missing
  Outcome outcome;
  const char* message = "";  // a substring the error message must contain
};

// Shorthands for the overrides most used.
constexpr const char* kPublic = R"({"m.room.join_rules": {"": {"join_rule": "public"}}})";
constexpr const char* kKnock = R"({"m.room.join_rules": {"": {"join_rule": "knock"}}})";
constexpr const char* kRestricted = R"({"m.room.join_rules": {"": {"join_rule": "restricted",
    "allow": [{"type": "m.room_membership", "room_id": "!space:h"}]}}})";

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

const Case kCases[] = {
    // --- m.room.create (rule 1) ---
    {"CreateV10WithCreator", "10", Base::kEmpty, "",
     R"({"type": "m.room.create", "state_key": "", "sender": "@owner:h",
         "content": {"creator": "@owner:h", "room_version": "10"}})",
     Outcome::kAllowed},
    {"CreateV10WithoutCreator", "10", Base::kEmpty, "",
     R"({"type": "m.room.create", "state_key": "", "sender": "@owner:h",
         "content": {"room_version": "10"}})",
     Outcome::kBadJson, "creator"},
    {"CreateV10CreatorIsNotSender", "10", Base::kEmpty, "",
     R"({"type": "m.room.create", "state_key": "", "sender": "@owner:h",
         "content": {"creator": "@mod:h"}})",
     Outcome::kBadJson, "must be its sender"},
    {"CreateV11WithoutCreator", "11", Base::kEmpty, "",
     R"({"type": "m.room.create", "state_key": "", "sender": "@owner:h",
         "content": {"room_version": "11"}})",
     Outcome::kAllowed},
    {"CreateRoomIdOnAnotherServer", "11", Base::kEmpty, "",
     R"({"type": "m.room.create", "state_key": "", "sender": "@owner:h", "room_id": "!r:elsewhere",
         "content": {}})",
     Outcome::kForbidden, "server"},
    {"CreateTwice", "11", Base::kCreateOnly, "",
     R"({"type": "m.room.create", "state_key": "", "sender": "@owner:h", "content": {}})",
     Outcome::kForbidden, "already exists"},
    {"CreateWithPrevEvents", "11", Base::kEmpty, "",
     R"({"type": "m.room.create", "state_key": "", "sender": "@owner:h", "prev_events": ["$a"],
         "content": {}})",
     Outcome::kForbidden, "first event"},
    {"CreateUnknownContentRoomVersion", "11", Base::kEmpty, "",
     R"({"type": "m.room.create", "state_key": "", "sender": "@owner:h",
         "content": {"room_version": "9"}})",
     Outcome::kUnsupportedVersion},
    {"UnsupportedRoomVersion", "9", Base::kRoom, "",
     R"({"type": "m.room.message", "sender": "@member:h", "content": {}})",
     Outcome::kUnsupportedVersion},

    // --- join (rule 4.3) ---
    {"V10CreatorFirstJoin", "10", Base::kCreateOnly, "",
     R"({"type": "m.room.member", "state_key": "@owner:h", "sender": "@owner:h",
         "content": {"membership": "join"}})",
     Outcome::kAllowed},
    {"V11CreatorFirstJoinFromCreateSender", "11", Base::kCreateOnly, "",
     R"({"type": "m.room.member", "state_key": "@owner:h", "sender": "@owner:h",
         "content": {"membership": "join"}})",
     Outcome::kAllowed},
    {"V11CreateContentCreatorIsIgnored", "11", Base::kCreateOnly,
     R"({"m.room.create": {"": {"room_version": "11", "creator": "@stranger:h"}}})",
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@stranger:h",
         "content": {"membership": "join"}})",
     Outcome::kForbidden, "not invited"},
    {"V10NonCreatorJoinAfterCreate", "10", Base::kCreateOnly, "",
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@stranger:h",
         "content": {"membership": "join"}})",
     Outcome::kForbidden, "You are not invited to this room"},
    {"PublicRoomStrangerJoins", "10", Base::kRoom, kPublic,
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@stranger:h",
         "content": {"membership": "join"}})",
     Outcome::kAllowed},
    {"PublicRoomLeftUserRejoins", "11", Base::kRoom, kPublic,
     R"({"type": "m.room.member", "state_key": "@left:h", "sender": "@left:h",
         "content": {"membership": "join"}})",
     Outcome::kAllowed},
    {"InviteRoomStrangerJoins", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@stranger:h",
         "content": {"membership": "join"}})",
     Outcome::kForbidden, "You are not invited to this room"},
    {"InviteRoomInvitedJoins", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@invited:h", "sender": "@invited:h",
         "content": {"membership": "join"}})",
     Outcome::kAllowed},
    {"JoinedMemberUpdatesProfile", "11", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@member:h", "sender": "@member:h",
         "content": {"membership": "join", "displayname": "M"}})",
     Outcome::kAllowed},
    {"BannedJoinsPublicRoom", "10", Base::kRoom, kPublic,
     R"({"type": "m.room.member", "state_key": "@banned:h", "sender": "@banned:h",
         "content": {"membership": "join"}})",
     Outcome::kForbidden, "banned"},
    {"JoinOnBehalfOfAnother", "10", Base::kRoom, kPublic,
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@owner:h",
         "content": {"membership": "join"}})",
     Outcome::kForbidden, "behalf"},
    {"RestrictedRoomInvitedJoins", "10", Base::kRoom, kRestricted,
     R"({"type": "m.room.member", "state_key": "@invited:h", "sender": "@invited:h",
         "content": {"membership": "join"}})",
     Outcome::kAllowed},
    {"RestrictedRoomAuthorisedViaIsNotTrusted", "10", Base::kRoom, kRestricted,
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@stranger:h",
         "content": {"membership": "join", "join_authorised_via_users_server": "@owner:h"}})",
     Outcome::kForbidden, "not invited"},
    {"KnockRoomKnockerCannotJoinYet", "11", Base::kRoom, kKnock,
     R"({"type": "m.room.member", "state_key": "@knocker:h", "sender": "@knocker:h",
         "content": {"membership": "join"}})",
     Outcome::kForbidden, "not invited"},
    {"NoJoinRulesMeansInviteOnly", "11", Base::kRoom, R"({"m.room.join_rules": {"": null}})",
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@stranger:h",
         "content": {"membership": "join"}})",
     Outcome::kForbidden, "not invited"},

    // --- invite (rule 4.4) ---
    {"MemberInvitesStranger", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@member:h",
         "content": {"membership": "invite"}})",
     Outcome::kAllowed},
    {"InviteBelowInviteLevel", "10", Base::kRoom,
     R"({"m.room.power_levels": {"": {"users": {"@owner:h": 100}, "invite": 50}}})",
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@member:h",
         "content": {"membership": "invite"}})",
     Outcome::kForbidden, "Insufficient power level to invite: 50 needed, you have 0"},
    {"InviteJoinedUser", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@member2:h", "sender": "@member:h",
         "content": {"membership": "invite"}})",
     Outcome::kForbidden, "already in the room"},
    {"InviteBannedUser", "11", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@banned:h", "sender": "@owner:h",
         "content": {"membership": "invite"}})",
     Outcome::kForbidden, "banned"},
    {"InvitedUserCannotInvite", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@invited:h",
         "content": {"membership": "invite"}})",
     Outcome::kForbidden, "You are not in this room"},
    {"ThirdPartyInviteMembership", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@owner:h",
         "content": {"membership": "invite", "third_party_invite": {"signed": {}}}})",
     Outcome::kForbidden, "Third-party"},

    // --- leave and kick (rule 4.5) ---
    {"MemberLeaves", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@member:h", "sender": "@member:h",
         "content": {"membership": "leave"}})",
     Outcome::kAllowed},
    {"InvitedRejects", "11", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@invited:h", "sender": "@invited:h",
         "content": {"membership": "leave"}})",
     Outcome::kAllowed},
    {"KnockerRescinds", "11", Base::kRoom, kKnock,
     R"({"type": "m.room.member", "state_key": "@knocker:h", "sender": "@knocker:h",
         "content": {"membership": "leave"}})",
     Outcome::kAllowed},
    {"LeftUserLeavesAgain", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@left:h", "sender": "@left:h",
         "content": {"membership": "leave"}})",
     Outcome::kForbidden, "not in this room"},
    {"BannedUserCannotUnbanSelf", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@banned:h", "sender": "@banned:h",
         "content": {"membership": "leave"}})",
     Outcome::kForbidden, "banned"},
    {"ModeratorKicksMember", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@member:h", "sender": "@mod:h",
         "content": {"membership": "leave"}})",
     Outcome::kAllowed},
    {"ModeratorKicksInvitedUser", "11", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@invited:h", "sender": "@mod:h",
         "content": {"membership": "leave"}})",
     Outcome::kAllowed},
    {"MemberCannotKick", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@member2:h", "sender": "@member:h",
         "content": {"membership": "leave"}})",
     Outcome::kForbidden, "Insufficient power level to kick: 50 needed, you have 0"},
    {"ModeratorCannotKickOwner", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@owner:h", "sender": "@mod:h",
         "content": {"membership": "leave"}})",
     Outcome::kForbidden, "not below yours"},
    {"ModeratorCannotKickPeer", "11", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@mod2:h", "sender": "@mod:h",
         "content": {"membership": "leave"}})",
     Outcome::kForbidden, "(50) is not below yours (50)"},
    {"LeftUserCannotKick", "10", Base::kRoom,
     R"({"m.room.power_levels": {"": {"users": {"@left:h": 100}}}})",
     R"({"type": "m.room.member", "state_key": "@member:h", "sender": "@left:h",
         "content": {"membership": "leave"}})",
     Outcome::kForbidden, "not in this room"},
    {"OwnerUnbans", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@banned:h", "sender": "@owner:h",
         "content": {"membership": "leave"}})",
     Outcome::kAllowed},
    {"UnbanNeedsBanLevelBesidesKick", "11", Base::kRoom,
     R"({"m.room.power_levels": {"": {"users": {"@owner:h": 100, "@mod:h": 50}, "ban": 75}}})",
     R"({"type": "m.room.member", "state_key": "@banned:h", "sender": "@mod:h",
         "content": {"membership": "leave"}})",
     Outcome::kForbidden, "Insufficient power level to unban: 75 needed, you have 50"},

    // --- ban (rule 4.6) ---
    {"ModeratorBansMember", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@member:h", "sender": "@mod:h",
         "content": {"membership": "ban"}})",
     Outcome::kAllowed},
    {"OwnerBansStranger", "11", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@owner:h",
         "content": {"membership": "ban"}})",
     Outcome::kAllowed},
    {"MemberCannotBan", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@member2:h", "sender": "@member:h",
         "content": {"membership": "ban"}})",
     Outcome::kForbidden, "Insufficient power level to ban: 50 needed, you have 0"},
    {"ModeratorCannotBanOwner", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@owner:h", "sender": "@mod:h",
         "content": {"membership": "ban"}})",
     Outcome::kForbidden, "not below yours"},

    // --- knock (rule 4.7) ---
    {"StrangerKnocksOnKnockRoom", "10", Base::kRoom, kKnock,
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@stranger:h",
         "content": {"membership": "knock"}})",
     Outcome::kAllowed},
    {"StrangerKnocksOnKnockRestrictedRoom", "11", Base::kRoom,
     R"({"m.room.join_rules": {"": {"join_rule": "knock_restricted"}}})",
     R"({"type": "m.room.member", "state_key": "@left:h", "sender": "@left:h",
         "content": {"membership": "knock"}})",
     Outcome::kAllowed},
    {"KnockOnInviteRoom", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@stranger:h",
         "content": {"membership": "knock"}})",
     Outcome::kForbidden, "does not accept knocks"},
    {"BannedCannotKnock", "10", Base::kRoom, kKnock,
     R"({"type": "m.room.member", "state_key": "@banned:h", "sender": "@banned:h",
         "content": {"membership": "knock"}})",
     Outcome::kForbidden, "banned"},
    {"MemberCannotKnock", "10", Base::kRoom, kKnock,
     R"({"type": "m.room.member", "state_key": "@member:h", "sender": "@member:h",
         "content": {"membership": "knock"}})",
     Outcome::kForbidden, "already in this room"},
    {"KnockOnBehalfOfAnother", "10", Base::kRoom, kKnock,
     R"({"type": "m.room.member", "state_key": "@stranger:h", "sender": "@member:h",
         "content": {"membership": "knock"}})",
     Outcome::kForbidden, "behalf"},

    // --- malformed events ---
    {"MemberWithoutMembership", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@member:h", "sender": "@member:h",
         "content": {"displayname": "x"}})",
     Outcome::kBadJson, "membership"},
    {"MembershipNotAString", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@member:h", "sender": "@member:h",
         "content": {"membership": 1}})",
     Outcome::kBadJson, "membership"},
    {"UnknownMembership", "11", Base::kRoom, "",
     R"({"type": "m.room.member", "state_key": "@member:h", "sender": "@member:h",
         "content": {"membership": "dance"}})",
     Outcome::kBadJson, "Unknown membership"},
    {"MemberWithoutStateKey", "10", Base::kRoom, "",
     R"({"type": "m.room.member", "sender": "@member:h", "content": {"membership": "join"}})",
     Outcome::kBadJson, "state_key"},
    {"ContentNotAnObject", "10", Base::kRoom, "",
     R"({"type": "m.room.message", "sender": "@member:h", "content": "hi"})", Outcome::kBadJson,
     "content"},
    {"SenderMissing", "10", Base::kRoom, "", R"({"type": "m.room.message", "content": {}})",
     Outcome::kBadJson},

    // --- other events (rules 2–10) ---
    {"NoCreateEvent", "10", Base::kEmpty, "",
     R"({"type": "m.room.message", "sender": "@member:h", "content": {}})", Outcome::kForbidden,
     "m.room.create"},
    {"MemberSendsMessage", "10", Base::kRoom, "",
     R"({"type": "m.room.message", "sender": "@member:h", "content": {"body": "hi"}})",
     Outcome::kAllowed},
    {"StrangerSendsMessage", "10", Base::kRoom, "",
     R"({"type": "m.room.message", "sender": "@stranger:h", "content": {"body": "hi"}})",
     Outcome::kForbidden, "You are not in this room"},
    {"InvitedSendsMessage", "11", Base::kRoom, "",
     R"({"type": "m.room.message", "sender": "@invited:h", "content": {"body": "hi"}})",
     Outcome::kForbidden, "You are not in this room"},
    {"MemberSetsRoomName", "10", Base::kRoom, "",
     R"({"type": "m.room.name", "state_key": "", "sender": "@member:h", "content": {"name": "x"}})",
     Outcome::kForbidden, "Insufficient power level to send m.room.name: 50 needed, you have 0"},
    {"ModeratorSetsRoomName", "10", Base::kRoom, "",
     R"({"type": "m.room.name", "state_key": "", "sender": "@mod:h", "content": {"name": "x"}})",
     Outcome::kAllowed},
    {"EventsOverrideForMessages", "11", Base::kRoom,
     R"({"m.room.power_levels": {"": {"users": {"@owner:h": 100},
         "events": {"m.room.message": 10}}}})",
     R"({"type": "m.room.message", "sender": "@member:h", "content": {}})", Outcome::kForbidden,
     "10 needed, you have 0"},
    {"EventsOverrideLowersStateLevel", "10", Base::kRoom,
     R"({"m.room.power_levels": {"": {"users": {"@owner:h": 100},
         "events": {"m.room.topic": 0}}}})",
     R"({"type": "m.room.topic", "state_key": "", "sender": "@member:h", "content": {}})",
     Outcome::kAllowed},
    {"EventsDefaultRaised", "10", Base::kRoom,
     R"({"m.room.power_levels": {"": {"users": {"@owner:h": 100}, "events_default": 20}}})",
     R"({"type": "org.example.ping", "sender": "@member:h", "content": {}})", Outcome::kForbidden,
     "20 needed"},
    {"UserKeyedStateOfAnother", "10", Base::kRoom, "",
     R"({"type": "org.example.status", "state_key": "@mod2:h", "sender": "@mod:h",
         "content": {}})",
     Outcome::kForbidden, "Only @mod2:h"},
    {"UserKeyedStateOfSelf", "10", Base::kRoom, "",
     R"({"type": "org.example.status", "state_key": "@mod:h", "sender": "@mod:h",
         "content": {}})",
     Outcome::kAllowed},
    {"ThirdPartyInviteEvent", "10", Base::kRoom, "",
     R"({"type": "m.room.third_party_invite", "state_key": "tok", "sender": "@owner:h",
         "content": {}})",
     Outcome::kForbidden, "Third-party"},
    {"V11RedactionByMemberPassesAuth", "11", Base::kRoom, "",
     R"({"type": "m.room.redaction", "sender": "@member:h", "content": {"redacts": "$x"}})",
     Outcome::kAllowed},
    {"V10RedactionByStrangerRefused", "10", Base::kRoom, "",
     R"({"type": "m.room.redaction", "sender": "@stranger:h", "redacts": "$x", "content": {}})",
     Outcome::kForbidden, "not in this room"},
    {"NonFederatingRoomRefusesOtherServer", "10", Base::kRoom,
     R"({"m.room.create": {"": {"creator": "@owner:h", "m.federate": false}},
         "m.room.member": {"@guest:other": {"membership": "join"}}})",
     R"({"type": "m.room.message", "sender": "@guest:other", "content": {}})", Outcome::kForbidden,
     "other servers"},
    {"NonFederatingRoomAllowsOwnServer", "11", Base::kRoom,
     R"({"m.room.create": {"": {"m.federate": false}}})",
     R"({"type": "m.room.message", "sender": "@member:h", "content": {}})", Outcome::kAllowed},

    // --- m.room.power_levels (rule 9) ---
    {"V10CreatorSetsFirstPowerLevels", "10", Base::kCreateOnly,
     R"({"m.room.member": {"@owner:h": {"membership": "join"}}})",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@owner:h",
         "content": {"users": {"@owner:h": 100, "@x:h": 100}}})",
     Outcome::kAllowed},
    {"V11CreatorSetsFirstPowerLevels", "11", Base::kCreateOnly,
     R"({"m.room.member": {"@owner:h": {"membership": "join"}}})",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@owner:h",
         "content": {"users": {"@owner:h": 100}}})",
     Outcome::kAllowed},
    {"MemberCannotSetPowerLevelsWithoutAnyEvent", "11", Base::kCreateOnly,
     R"({"m.room.member": {"@owner:h": {"membership": "join"},
                           "@member:h": {"membership": "join"}}})",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@member:h",
         "content": {"users": {"@member:h": 100}}})",
     Outcome::kForbidden, "50 needed, you have 0"},
    {"OwnerPromotesMember", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@owner:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 50, "@mod2:h": 50, "@member:h": 50},
                     "users_default": 0}})",
     Outcome::kAllowed},
    {"ModeratorGrantsAboveOwnLevel", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@mod:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 50, "@mod2:h": 50, "@member:h": 75},
                     "users_default": 0}})",
     Outcome::kForbidden, "Cannot give @member:h power level 75"},
    {"ModeratorGrantsOwnLevel", "11", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@mod:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 50, "@mod2:h": 50, "@member:h": 50},
                     "users_default": 0}})",
     Outcome::kAllowed},
    {"ModeratorDemotesPeer", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@mod:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 50}, "users_default": 0}})",
     Outcome::kForbidden, "Cannot change the power level of @mod2:h (50)"},
    {"ModeratorDemotesSelf", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@mod:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 10, "@mod2:h": 50},
                     "users_default": 0}})",
     Outcome::kAllowed},
    {"ModeratorPromotesSelf", "11", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@mod:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 100, "@mod2:h": 50},
                     "users_default": 0}})",
     Outcome::kForbidden, "above your own"},
    {"ModeratorRaisesUsersDefault", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@mod:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 50, "@mod2:h": 50},
                     "users_default": 60}})",
     Outcome::kForbidden, "Cannot set 'users_default' to 60"},
    {"ModeratorLowersBanLevel", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@mod:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 50, "@mod2:h": 50},
                     "users_default": 0, "ban": 40}})",
     Outcome::kAllowed},
    {"ModeratorChangesBanLevelAboveOwn", "10", Base::kRoom,
     R"({"m.room.power_levels": {"": {"users": {"@owner:h": 100, "@mod:h": 50}, "ban": 100}}})",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@mod:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 50}, "ban": 50}})",
     Outcome::kForbidden, "Cannot change 'ban' from 100"},
    {"ModeratorRemovesEventLevelAboveOwn", "11", Base::kRoom,
     R"({"m.room.power_levels": {"": {"users": {"@owner:h": 100, "@mod:h": 50},
         "events": {"m.room.tombstone": 100}}}})",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@mod:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 50}, "events": {}}})",
     Outcome::kForbidden, "m.room.tombstone"},
    {"ModeratorAddsEventLevelAtOwn", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@mod:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 50, "@mod2:h": 50},
                     "users_default": 0, "events": {"m.room.topic": 50}}})",
     Outcome::kAllowed},
    {"ModeratorRaisesNotificationLevel", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@mod:h",
         "content": {"users": {"@owner:h": 100, "@mod:h": 50, "@mod2:h": 50},
                     "users_default": 0, "notifications": {"room": 75}}})",
     Outcome::kForbidden, "notifications 'room'"},
    {"StringPowerLevelV10", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@owner:h",
         "content": {"users": {"@owner:h": 100}, "ban": "50"}})",
     Outcome::kBadJson, "'ban' must be an integer"},
    {"StringUserLevelV11", "11", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@owner:h",
         "content": {"users": {"@owner:h": "100"}}})",
     Outcome::kBadJson, "must be an integer"},
    {"FloatPowerLevel", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@owner:h",
         "content": {"users": {"@owner:h": 100}, "kick": 50.0}})",
     Outcome::kBadJson, "'kick' must be an integer"},
    {"PowerLevelOutOfCanonicalRange", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@owner:h",
         "content": {"users": {"@owner:h": 100}, "redact": 9007199254740992}})",
     Outcome::kBadJson, "'redact' must be an integer"},
    {"EventsLevelsNotAnObject", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@owner:h",
         "content": {"users": {"@owner:h": 100}, "events": [1]}})",
     Outcome::kBadJson, "'events' must be an object"},
    {"UsersKeyNotAUserId", "10", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@owner:h",
         "content": {"users": {"@owner:h": 100, "owner": 50}}})",
     Outcome::kBadJson, "not a user ID"},
    {"UsersNotAnObject", "11", Base::kRoom, "",
     R"({"type": "m.room.power_levels", "state_key": "", "sender": "@owner:h",
         "content": {"users": 5}})",
     Outcome::kBadJson, "'users' must be an object"},
};

class AuthRulesTest : public testing::TestWithParam<Case> {};

TEST_P(AuthRulesTest, Outcome) {
  const Case& c = GetParam();
  MapState state = MakeState(c.base, c.version);
  Override(state, c.overrides);
  json::object event = Obj(c.event);
  if (!event.contains("room_id")) {
    event["room_id"] = "!r:h";
  }
  auto result = Authorize(event, state, c.version);
  if (c.outcome == Outcome::kAllowed) {
    EXPECT_TRUE(result) << result.error().message;
    return;
  }
  ASSERT_FALSE(result);
  const Error& e = result.error();
  switch (c.outcome) {
    case Outcome::kForbidden:
      EXPECT_EQ(e.http_status, 403);
      EXPECT_EQ(e.errcode, "M_FORBIDDEN");
      break;
    case Outcome::kBadJson:
      EXPECT_EQ(e.http_status, 400);
      EXPECT_EQ(e.errcode, "M_BAD_JSON");
      break;
    case Outcome::kUnsupportedVersion:
      EXPECT_EQ(e.http_status, 400);
      EXPECT_EQ(e.errcode, "M_UNSUPPORTED_ROOM_VERSION");
      break;
    case Outcome::kAllowed:
      break;
  }
  EXPECT_NE(e.message.find(c.message), std::string::npos) << e.message;
}

INSTANTIATE_TEST_SUITE_P(AuthRules, AuthRulesTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(AuthRulesPowerLevelTest, CreatorHas100WithoutPowerLevelsEvent) {
  MapState v10 = MakeState(Base::kCreateOnly, "10");
  EXPECT_EQ(UserPowerLevel(v10, "@owner:h", "10"), 100);
  EXPECT_EQ(UserPowerLevel(v10, "@member:h", "10"), 0);
  // v11 reads the creator from the create event's sender, not from its content.
  MapState v11 = MakeState(Base::kCreateOnly, "11");
  EXPECT_EQ(UserPowerLevel(v11, "@owner:h", "11"), 100);
  v11.set_create_sender("");
  EXPECT_EQ(UserPowerLevel(v11, "@owner:h", "11"), 0);  // unknown creator: fails closed
}

TEST(AuthRulesPowerLevelTest, UsersThenUsersDefault) {
  MapState s = MakeState(Base::kRoom, "10");
  EXPECT_EQ(UserPowerLevel(s, "@mod:h", "10"), 50);
  EXPECT_EQ(UserPowerLevel(s, "@member:h", "10"), 0);
  Override(s, R"({"m.room.power_levels": {"": {"users": {"@owner:h": 100},
                  "users_default": 10}}})");
  EXPECT_EQ(UserPowerLevel(s, "@member:h", "10"), 10);
  // With a power levels event the creator has no special level.
  Override(s, R"({"m.room.power_levels": {"": {"users": {"@mod:h": 50}}}})");
  EXPECT_EQ(UserPowerLevel(s, "@owner:h", "10"), 0);
}

TEST(AuthRulesPowerLevelTest, UnsignedAndBadStoredLevelsAreRobust) {
  MapState s = MakeState(Base::kRoom, "10");
  json::object levels;
  json::object users;
  users["@owner:h"] = uint64_t{75};  // Boost.JSON may hold a level as uint64
  users["@member:h"] = "60";         // not an integer: ignored, users_default applies
  levels["users"] = std::move(users);
  levels["users_default"] = uint64_t{5};
  levels["state_default"] = 1.5;  // ignored: the default 50 applies
  s.Set("m.room.power_levels", "", std::move(levels));
  EXPECT_EQ(UserPowerLevel(s, "@owner:h", "10"), 75);
  EXPECT_EQ(UserPowerLevel(s, "@member:h", "10"), 5);
  EXPECT_EQ(RequiredPowerLevel(s, "m.room.name", true), 50);
}

TEST(AuthRulesPowerLevelTest, RequiredLevelDefaults) {
  MapState s = MakeState(Base::kCreateOnly, "11");
  // state_default is 50 even without a power levels event (MSC1304).
  EXPECT_EQ(RequiredPowerLevel(s, "m.room.name", true), 50);
  EXPECT_EQ(RequiredPowerLevel(s, "m.room.message", false), 0);
  Override(s, R"({"m.room.power_levels": {"": {"state_default": 20, "events_default": 5,
                  "events": {"m.room.name": 70}}}})");
  EXPECT_EQ(RequiredPowerLevel(s, "m.room.name", true), 70);
  EXPECT_EQ(RequiredPowerLevel(s, "m.room.topic", true), 20);
  EXPECT_EQ(RequiredPowerLevel(s, "m.room.message", false), 5);
}

TEST(AuthRulesRedactTest, OwnEventsOrRedactLevel) {
  MapState s = MakeState(Base::kRoom, "11");
  EXPECT_TRUE(MayRedact(s, "@member:h", "@member:h", "11"));    // own event
  EXPECT_FALSE(MayRedact(s, "@member:h", "@member2:h", "11"));  // 0 < redact 50
  EXPECT_TRUE(MayRedact(s, "@mod:h", "@member:h", "11"));       // 50 >= redact 50
  Override(s, R"({"m.room.power_levels": {"": {"users": {"@mod:h": 50}, "redact": 60}}})");
  EXPECT_FALSE(MayRedact(s, "@mod:h", "@member:h", "11"));
  // Same server is not enough for a local user (the spec's rule is for federation).
  EXPECT_FALSE(MayRedact(s, "@member:h", "@member2:h", "11"));
}

}  // namespace
}  // namespace ruche::matrix
