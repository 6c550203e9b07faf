#pragma once
// Evaluating one user's push rules against one event (spec "Push Rules": conditions, actions,
// rule kinds in priority order), for the unread counts /sync reports (`unread_counts.hpp`).
//
// A rule set is compiled once (`PushRuleSet::Compile`) and evaluated many times: a message in
// a 1,000-member room is evaluated once per member, so evaluation allocates nothing and reads
// the event in place. Glob patterns run as a small NFA over code points, linear in the text
// times the pattern (never a backtracking regex a user's pattern could make exponential).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace ruche::matrix {

// What evaluating the rules says about an event for one user.
struct PushOutcome {
  bool notify = false;
  bool highlight = false;
};

// What conditions need beyond the event itself. The callbacks are asked only when a rule
// reaches such a condition (most messages never need the power levels).
struct PushContext {
  std::string_view user_id;
  std::string_view localpart;
  std::string_view display_name;  // the user's display name in the room; empty: none
  std::function<int64_t()> joined_member_count;
  // Whether `sender` may trigger notifications of `key` ("room"): its power level against the
  // room's `notifications.<key>` (default 50).
  std::function<bool(std::string_view key, std::string_view sender)> sender_may_notify;
};

class PushRuleSet {
 public:
  // From a rule set as GET /pushrules/ returns it ({"global": {...}}). Malformed rules (wrong
  // types, unknown kinds of condition) never match; they do not make the set fail.
  // `user_id` is the rule set's owner (see SilencedTypes).
  static PushRuleSet Compile(const core::json::object& ruleset, std::string_view user_id = {});

  // Stand-ins for the owner's IDs in a rule set shared by every user who has it: the spec's
  // defaults differ between users only by them. Compile DefaultPushRules(kUserIdSlot,
  // kLocalpartSlot) once and evaluate it for anyone (PushContext's user_id and localpart fill
  // the slots) — one rule set hot in the cache instead of one per member of a busy room.
  static constexpr std::string_view kUserIdSlot = "\x01user_id";
  static constexpr std::string_view kLocalpartSlot = "\x01localpart";

  PushOutcome Evaluate(const core::json::object& event, const PushContext& ctx) const;

  size_t size() const { return rules_.size(); }

  // Event types that never notify this user unless their state_key is the user's own: a rule
  // matching just the type, without notify (".m.rule.member_event"), with no earlier rule that
  // could notify such an event. Lets a rescan skip a big room's joins without parsing them.
  const std::vector<std::string>& SilencedTypes() const { return silenced_types_; }

  // The spec's glob: '*' any run of characters, '?' any one, case-insensitive (ASCII letters).
  // `words`: the pattern may match any run of the text bounded by non-word characters (how
  // content.body is matched); else it must match the whole text. `literal`: '*' and '?' are
  // ordinary characters (a display name is matched so).
  static bool GlobMatches(std::string_view pattern, std::string_view text, bool words,
                          bool literal = false);

 private:
  enum class CondKind {
    kEventMatch,
    kPropertyIs,
    kPropertyContains,
    kPropertyAbsent,  // the legacy mention rules' "no m.mentions in the content"
    kDisplayName,
    kMemberCount,
    kSenderPermission,
    kNever,
  };
  struct Condition {
    CondKind kind = CondKind::kNever;
    std::vector<std::string> path;  // the key, split at unescaped dots
    std::string pattern;            // event_match; sender_notification_permission's key
    std::vector<char32_t> tokens;   // event_match's pattern, compiled (see Tokenize)
    bool plain_ascii = false;       // event_match's pattern is ASCII without wildcards
    bool on_body = false;           // event_match's key is content.body: matched by words
    enum class Slot : uint8_t { kNone, kUserId, kLocalpart } slot = Slot::kNone;  // see kUserIdSlot
    core::json::value value;  // event_property_is / _contains
    char op = '=';            // room_member_count: '=', '<', '>', 'l' (<=), 'g' (>=)
    int64_t count = 0;
  };
  struct Rule {
    std::vector<Condition> conditions;
    PushOutcome outcome;
  };

  static std::optional<Condition> CompileCondition(const core::json::object& c);
  // Finishes an event_match condition whose path and pattern are set.
  static void PrepareMatch(Condition& c);
  static std::vector<char32_t> Tokenize(std::string_view pattern, bool literal);
  static bool LiteralMatches(std::string_view pattern, std::string_view text, bool words);
  static bool RunGlob(const std::vector<char32_t>& tokens, std::string_view text, bool words);
  static bool RunGlobWide(const std::vector<char32_t>& tokens, std::string_view text, bool words);
  // Cheap conditions first: all must hold, and the callbacks may query the store.
  static int Cost(const Condition& c);
  static std::vector<std::string> FindSilencedTypes(const std::vector<Rule>& rules,
                                                    std::string_view user_id);
  bool Matches(const Condition& c, const core::json::object& event, const PushContext& ctx) const;

  std::vector<Rule> rules_;  // enabled rules, in the order the spec evaluates them
  std::vector<std::string> silenced_types_;
};

}  // namespace ruche::matrix
