#pragma once
// The spec's default push rule set ("Push Rules: Predefined Rules", v1.11), for one user.
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/json.hpp"

namespace ruche::matrix {

// {"global": {"override": [...], "content": [...], "room": [], "sender": [], "underride": [...]}}
core::json::object DefaultPushRules(const std::string& user_id, const std::string& localpart);

// Editing a user's rule set ({"global": {...}}, as returned by GET /pushrules/), spec "Push Rules
// API". `kind` is override, underride, sender, room or content. Server-default rules (IDs starting
// with '.') cannot be added or deleted, only enabled/disabled and given other actions.

// The rule, or 404 M_NOT_FOUND.
Result<core::json::object> FindPushRule(const core::json::object& ruleset, std::string_view kind,
                                        std::string_view rule_id);

// Adds or replaces a user-defined rule from a PUT body ({actions, conditions?, pattern?}). A new
// rule goes before `before` or after `after` (user-defined rules of the same kind), else first
// among the kind's rules (user rules outrank the server's, except .m.rule.master).
Result<void> PutPushRule(core::json::object& ruleset, std::string_view kind,
                         std::string_view rule_id, const core::json::object& body,
                         std::optional<std::string_view> before,
                         std::optional<std::string_view> after);

Result<void> DeletePushRule(core::json::object& ruleset, std::string_view kind,
                            std::string_view rule_id);

// `attribute` is "enabled" ({enabled: bool}) or "actions" ({actions: [...]}).
Result<void> SetPushRuleAttribute(core::json::object& ruleset, std::string_view kind,
                                  std::string_view rule_id, std::string_view attribute,
                                  const core::json::object& body);

}  // namespace ruche::matrix
