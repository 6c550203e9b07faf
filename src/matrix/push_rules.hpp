#pragma once
// The spec's default push rule set ("Push Rules: Predefined Rules", v1.11), for one user.
#include <string>

#include "core/json.hpp"

namespace ruche::matrix {

// {"global": {"override": [...], "content": [...], "room": [], "sender": [], "underride": [...]}}
core::json::object DefaultPushRules(const std::string& user_id, const std::string& localpart);

}  // namespace ruche::matrix
