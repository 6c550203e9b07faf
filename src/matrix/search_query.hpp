#pragma once
// Turns a user's search string into a safe SQLite FTS5 expression. The user never writes FTS5
// syntax: every whitespace-separated term becomes a quoted phrase ("" escapes a quote inside
// it), so operators (OR, NOT, NEAR, *, ^, parentheses, column filters) are plain words and no
// input can make the MATCH fail. Terms are ANDed, as in most search boxes.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace ruche::matrix {

inline constexpr size_t kMaxSearchTermBytes = 512;
inline constexpr size_t kMaxSearchTerms = 16;

struct FtsQuery {
  std::string expression;               // "" when the input has no searchable word
  std::vector<std::string> highlights;  // the words to highlight, lower-cased (ASCII)
};

// Over kMaxSearchTermBytes -> 400 M_INVALID_PARAM. Terms with no letter or digit (e.g. "(",
// "*") are dropped; terms beyond kMaxSearchTerms are ignored.
Result<FtsQuery> BuildFtsQuery(std::string_view search_term);

}  // namespace ruche::matrix
