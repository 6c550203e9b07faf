#include "matrix/search_query.hpp"

#include <algorithm>

namespace ruche::matrix {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// A byte that may belong to a word: ASCII letters and digits, and every byte of a multi-byte
// UTF-8 sequence (FTS5's unicode61 tokenizer decides about those; the phrase stays quoted).
bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

}  // namespace

Result<FtsQuery> BuildFtsQuery(std::string_view search_term) {
  if (search_term.size() > kMaxSearchTermBytes) {
    return Error::BadRequest("'search_term' is longer than 512 bytes", "M_INVALID_PARAM");
  }
  FtsQuery out;
  size_t terms = 0;
  size_t i = 0;
  while (i < search_term.size() && terms < kMaxSearchTerms) {
    while (i < search_term.size() && IsSpace(search_term[i])) {
      ++i;
    }
    size_t start = i;
    while (i < search_term.size() && !IsSpace(search_term[i])) {
      ++i;
    }
    std::string_view term = search_term.substr(start, i - start);
    if (std::none_of(term.begin(), term.end(),
                     [](char c) { return IsWordByte(static_cast<unsigned char>(c)); })) {
      continue;
    }
    ++terms;
    if (!out.expression.empty()) {
      out.expression += ' ';
    }
    out.expression += '"';
    for (char c : term) {
      if (c == '"') {
        out.expression += '"';  // FTS5 strings escape a quote by doubling it
      }
      out.expression += c;
    }
    out.expression += '"';
    // Highlights: the word runs inside the term, as the tokenizer will see them.
    size_t j = 0;
    while (j < term.size()) {
      while (j < term.size() && !IsWordByte(static_cast<unsigned char>(term[j]))) {
        ++j;
      }
      std::string word;
      while (j < term.size() && IsWordByte(static_cast<unsigned char>(term[j]))) {
        char c = term[j++];
        if (c >= 'A' && c <= 'Z') {
          c = static_cast<char>(c - 'A' + 'a');
        }
        word += c;
      }
      if (!word.empty() &&
          std::find(out.highlights.begin(), out.highlights.end(), word) == out.highlights.end()) {
        out.highlights.push_back(std::move(word));
      }
    }
  }
  return out;
}

}  // namespace ruche::matrix
