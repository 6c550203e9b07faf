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
  static PushRuleSet Compile(const core::json::object& ruleset);

  PushOutcome Evaluate(const core::json::object& event, const PushContext& ctx) const;

  size_t size() const { return rules_.size(); }

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
    core::json::value value;        // event_property_is / _contains
    char op = '=';                  // room_member_count: '=', '<', '>', 'l' (<=), 'g' (>=)
    int64_t count = 0;
  };
  struct Rule {
    std::vector<Condition> conditions;
    PushOutcome outcome;
  };

  static std::optional<Condition> CompileCondition(const core::json::object& c);
  bool Matches(const Condition& c, const core::json::object& event, const PushContext& ctx) const;

  std::vector<Rule> rules_;  // enabled rules, in the order the spec evaluates them
};

}  // namespace ruche::matrix
