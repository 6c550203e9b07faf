#include "matrix/push_eval.hpp"

#include <algorithm>
#include <charconv>

namespace ruche::matrix {

namespace json = core::json;

namespace {

// Bounds on what one rule set costs to evaluate: longer patterns and keys never match.
constexpr size_t kMaxPatternBytes = 1024;
constexpr size_t kMaxPathParts = 16;
// Longer glob patterns (in code points, after collapsing stars) never match.
constexpr size_t kMaxWideTokens = 255;
// Literal patterns up to this long are compared byte by byte (cost: text x this at worst);
// longer ones go through the bit-parallel NFA, linear in the text.
constexpr size_t kMaxPlainBytes = 16;

// Legacy mention rules: since Matrix 1.7 they stand aside when the event says whom it mentions
// (spec "User and room mentions"), so a reply quoting a name does not highlight.
bool IsLegacyMentionRule(std::string_view id) {
  return id == ".m.rule.contains_display_name" || id == ".m.rule.contains_user_name" ||
         id == ".m.rule.roomnotif";
}

// One code point from UTF-8 (invalid bytes come out one by one, as themselves).
char32_t NextCodePoint(std::string_view s, size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
  if (len == 1 || i + len > s.size()) {
    ++i;
    return b;
  }
  char32_t cp = b & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c >> 6) != 2) {
      ++i;
      return b;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  i += len;
  return cp;
}

char32_t Fold(char32_t c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

// Letters, digits and '_' (and every non-ASCII code point, most of which are letters).
bool IsWordChar(char32_t c) {
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_';
}

constexpr char32_t kStar = 0xFFFFFFFF;
constexpr char32_t kAny = 0xFFFFFFFE;

// Splits "content.m\.mentions.user_ids" into its parts (spec: '\.' is a dot inside a part,
// '\\' a backslash).
std::vector<std::string> SplitKey(std::string_view key) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '\\' && i + 1 < key.size() && (key[i + 1] == '.' || key[i + 1] == '\\')) {
      parts.back() += key[++i];
    } else if (key[i] == '.') {
      parts.emplace_back();
    } else {
      parts.back() += key[i];
    }
  }
  return parts;
}

const json::value* Lookup(const json::object& event, const std::vector<std::string>& path) {
  const json::object* obj = &event;
  const json::value* v = nullptr;
  for (const auto& part : path) {
    if (!obj) {
      return nullptr;
    }
    v = obj->if_contains(part);
    if (!v) {
      return nullptr;
    }
    obj = v->if_object();
  }
  return v;
}

// Spec "event_property_is": strings, integers, booleans and null compare by value.
bool SameScalar(const json::value& a, const json::value& b) {
  if (a.is_string() && b.is_string()) {
    return a.get_string() == b.get_string();
  }
  if (a.is_bool() && b.is_bool()) {
    return a.get_bool() == b.get_bool();
  }
  if (a.is_null() && b.is_null()) {
    return true;
  }
  if ((a.is_int64() || a.is_uint64()) && (b.is_int64() || b.is_uint64())) {
    return a.to_number<int64_t>() == b.to_number<int64_t>();
  }
  return false;
}

}  // namespace

std::vector<char32_t> PushRuleSet::Tokenize(std::string_view pattern, bool literal) {
  std::vector<char32_t> tokens;
  for (size_t i = 0; i < pattern.size();) {
    char32_t c = NextCodePoint(pattern, i);
    char32_t t = literal ? Fold(c) : c == '*' ? kStar : c == '?' ? kAny : Fold(c);
    if (t == kStar && !tokens.empty() && tokens.back() == kStar) {
      continue;  // runs of '*' collapse to one
    }
    tokens.push_back(t);
  }
  return tokens;
}

bool PushRuleSet::GlobMatches(std::string_view pattern, std::string_view text, bool words,
                              bool literal) {
  if (pattern.size() > kMaxPatternBytes) {
    return false;
  }
  bool plain_ascii =
      pattern.size() <= kMaxPlainBytes && std::all_of(pattern.begin(), pattern.end(), [&](char c) {
        return static_cast<unsigned char>(c) < 0x80 && (literal || (c != '*' && c != '?'));
      });
  if (plain_ascii) {
    return LiteralMatches(pattern, text, words);
  }
  auto tokens = Tokenize(pattern, literal);
  return RunGlob(tokens, text, words);
}

// An ASCII pattern without wildcards: a comparison, or a search for it between word boundaries.
bool PushRuleSet::LiteralMatches(std::string_view pattern, std::string_view text, bool words) {
  auto same = [&](size_t at) {
    for (size_t k = 0; k < pattern.size(); ++k) {
      if (Fold(static_cast<unsigned char>(text[at + k])) !=
          Fold(static_cast<unsigned char>(pattern[k]))) {
        return false;
      }
    }
    return true;
  };
  if (!words) {
    return text.size() == pattern.size() && same(0);
  }
  // Non-ASCII bytes belong to non-ASCII code points, which count as word characters.
  auto word_byte = [&](size_t at) { return IsWordChar(static_cast<unsigned char>(text[at])); };
  for (size_t at = 0; at + pattern.size() <= text.size(); ++at) {
    if ((at == 0 || !word_byte(at - 1)) && same(at) &&
        (at + pattern.size() == text.size() || !word_byte(at + pattern.size()))) {
      return true;
    }
  }
  return false;
}

bool PushRuleSet::RunGlob(const std::vector<char32_t>& tokens, std::string_view text, bool words) {
  const size_t m = tokens.size();
  if (m >= 64) {
    return RunGlobWide(tokens, text, words);
  }
  // Bit-parallel NFA (shift-and): bit k set = pattern position k reached. One step per code
  // point of the text whatever the pattern, so a 64 KiB body costs microseconds.
  uint64_t star = 0, any = 0;
  uint64_t ascii[128] = {};  // which literal positions each ASCII character matches
  std::vector<std::pair<char32_t, uint64_t>> other;  // the same for other code points
  for (size_t k = 0; k < m; ++k) {
    uint64_t bit = uint64_t{1} << k;
    if (tokens[k] == kStar) {
      star |= bit;
    } else if (tokens[k] == kAny) {
      any |= bit;
    } else if (tokens[k] < 128) {
      ascii[tokens[k]] |= bit;
    } else {
      other.emplace_back(tokens[k], bit);
    }
  }
  // A position on a '*' also stands for the next (the star matching nothing); runs of stars
  // were collapsed, so one step closes the set.
  auto closure = [star](uint64_t x) { return x | ((x & star) << 1); };
  const uint64_t start = closure(1);
  const uint64_t accept = uint64_t{1} << m;
  uint64_t cur = 0;
  bool prev_word = false;  // the character before position i is a word character
  for (size_t i = 0;;) {
    if (i == 0 || (words && !prev_word)) {
      cur |= start;  // a match may start here
    }
    if (cur == 0 && !words) {
      return false;
    }
    bool at_end = i >= text.size();
    size_t at = i;
    char32_t c = at_end ? 0 : NextCodePoint(text, at);
    if ((cur & accept) && (at_end || (words && !IsWordChar(c)))) {
      return true;
    }
    if (at_end) {
      return false;
    }
    char32_t folded = Fold(c);
    uint64_t lit = 0;
    if (folded < 128) {
      lit = ascii[folded];
    } else {
      for (const auto& [cp, bit] : other) {
        lit |= cp == folded ? bit : 0;
      }
    }
    cur = closure(((cur & (lit | any)) << 1) | (cur & star));
    prev_word = IsWordChar(c);
    i = at;
  }
}

// Patterns of 64 tokens and more (rare): one flag per position, at most kMaxWideTokens of them,
// so the cost stays bounded by the text's length times that.
bool PushRuleSet::RunGlobWide(const std::vector<char32_t>& pattern_tokens, std::string_view text,
                              bool words) {
  const char32_t* tokens = pattern_tokens.data();
  const size_t m = pattern_tokens.size();
  if (m > kMaxWideTokens) {
    return false;
  }
  // The NFA's states are positions in the pattern: `cur` holds those reachable after the text
  // read so far. A state on a '*' also stands for the one after it (the star matching nothing).
  bool cur[kMaxWideTokens + 1];
  bool next[kMaxWideTokens + 1];
  std::fill(cur, cur + m + 1, false);
  auto add = [&](bool* set, size_t k) {
    set[k] = true;
    while (k < m && tokens[k] == kStar) {
      set[++k] = true;
    }
  };
  bool prev_word = false;  // the character before position i is a word character
  bool any = false;
  for (size_t i = 0;;) {
    if (i == 0 || (words && !prev_word)) {
      add(cur, 0);  // a match may start here
      any = true;
    }
    if (!any && !words) {
      return false;
    }
    size_t at = i;
    char32_t c = i < text.size() ? NextCodePoint(text, at) : 0;
    bool at_end = i >= text.size();
    if (cur[m] && (at_end || (words && !IsWordChar(c)))) {
      return true;
    }
    if (at_end) {
      return false;
    }
    char32_t folded = Fold(c);
    std::fill(next, next + m + 1, false);
    any = false;
    for (size_t k = 0; k < m; ++k) {
      if (!cur[k]) {
        continue;
      }
      if (tokens[k] == kStar) {
        add(next, k);
        any = true;
      } else if (tokens[k] == kAny || tokens[k] == folded) {
        add(next, k + 1);
        any = true;
      }
    }
    std::copy(next, next + m + 1, cur);
    prev_word = IsWordChar(c);
    i = at;
  }
}

void PushRuleSet::PrepareMatch(Condition& c) {
  c.on_body = c.path.size() == 2 && c.path[0] == "content" && c.path[1] == "body";
  c.slot = c.pattern == kUserIdSlot      ? Condition::Slot::kUserId
           : c.pattern == kLocalpartSlot ? Condition::Slot::kLocalpart
                                         : Condition::Slot::kNone;
  c.plain_ascii = c.pattern.size() <= kMaxPlainBytes &&
                  std::all_of(c.pattern.begin(), c.pattern.end(), [](char ch) {
                    return static_cast<unsigned char>(ch) < 0x80 && ch != '*' && ch != '?';
                  });
  if (!c.plain_ascii) {
    c.tokens = Tokenize(c.pattern, false);
  }
}

int PushRuleSet::Cost(const Condition& c) {
  switch (c.kind) {
    case CondKind::kNever:
    case CondKind::kPropertyAbsent:
    case CondKind::kPropertyIs:
    case CondKind::kPropertyContains:
      return 0;
    case CondKind::kEventMatch:
      return c.on_body ? 2 : 1;
    case CondKind::kDisplayName:
      return 3;
    case CondKind::kMemberCount:
      return 4;  // a cached count, or one query per wake-up
    case CondKind::kSenderPermission:
      return 5;  // reads the room's power levels
  }
  return 5;
}

std::optional<PushRuleSet::Condition> PushRuleSet::CompileCondition(const json::object& c) {
  const json::value* kind = c.if_contains("kind");
  if (!kind || !kind->is_string()) {
    return std::nullopt;
  }
  Condition out;
  const json::value* key = c.if_contains("key");
  auto set_path = [&]() {
    if (!key || !key->is_string() || key->get_string().size() > kMaxPatternBytes) {
      return false;
    }
    out.path = SplitKey(key->get_string());
    return out.path.size() <= kMaxPathParts;
  };
  std::string_view k = kind->get_string();
  if (k == "event_match") {
    const json::value* pattern = c.if_contains("pattern");
    if (!set_path() || !pattern || !pattern->is_string() ||
        pattern->get_string().size() > kMaxPatternBytes) {
      return std::nullopt;
    }
    out.kind = CondKind::kEventMatch;
    out.pattern = pattern->get_string();
    PrepareMatch(out);
  } else if (k == "event_property_is" || k == "event_property_contains") {
    const json::value* value = c.if_contains("value");
    if (!set_path() || !value || value->is_object() || value->is_array() || value->is_double()) {
      return std::nullopt;
    }
    out.kind = k == "event_property_is" ? CondKind::kPropertyIs : CondKind::kPropertyContains;
    out.value = *value;
    if (value->is_string() && value->get_string() == kUserIdSlot) {
      out.slot = Condition::Slot::kUserId;
    }
  } else if (k == "contains_display_name") {
    out.kind = CondKind::kDisplayName;
  } else if (k == "room_member_count") {
    const json::value* is = c.if_contains("is");
    if (!is || !is->is_string()) {
      return std::nullopt;
    }
    std::string_view s = is->get_string();
    out.op = '=';
    if (s.starts_with("==")) {
      s.remove_prefix(2);
    } else if (s.starts_with("<=") || s.starts_with(">=")) {
      out.op = s[0] == '<' ? 'l' : 'g';
      s.remove_prefix(2);
    } else if (s.starts_with("<") || s.starts_with(">")) {
      out.op = s[0];
      s.remove_prefix(1);
    }
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out.count);
    if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
      return std::nullopt;
    }
    out.kind = CondKind::kMemberCount;
  } else if (k == "sender_notification_permission") {
    if (!key || !key->is_string()) {
      return std::nullopt;
    }
    out.kind = CondKind::kSenderPermission;
    out.pattern = key->get_string();
  } else {
    return std::nullopt;  // unknown condition kinds never match (spec)
  }
  return out;
}

std::vector<std::string> PushRuleSet::FindSilencedTypes(const std::vector<Rule>& rules,
                                                        std::string_view user_id) {
  auto is_key = [](const Condition& c, std::string_view key) {
    return c.kind == CondKind::kEventMatch && c.path.size() == 1 && c.path[0] == key;
  };
  auto literal = [](const std::string& pattern) {
    return pattern.find_first_of("*?") == std::string::npos;
  };
  std::vector<std::string> silenced;
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    if (rule.outcome.notify || rule.conditions.size() != 1 || !is_key(rule.conditions[0], "type") ||
        !literal(rule.conditions[0].pattern)) {
      continue;
    }
    const std::string& type = rule.conditions[0].pattern;
    // Could an earlier rule notify an event of this type whose state_key is not the user's?
    bool reachable = std::any_of(rules.begin(), rules.begin() + i, [&](const Rule& earlier) {
      if (!earlier.outcome.notify) {
        return false;
      }
      return std::none_of(earlier.conditions.begin(), earlier.conditions.end(),
                          [&](const Condition& c) {
                            if (is_key(c, "type")) {
                              return !GlobMatches(c.pattern, type, false);
                            }
                            return is_key(c, "state_key") && !user_id.empty() &&
                                   literal(c.pattern) && c.pattern == user_id;
                          });
    });
    if (!reachable) {
      silenced.push_back(type);
    }
  }
  return silenced;
}

PushRuleSet PushRuleSet::Compile(const json::object& ruleset, std::string_view user_id) {
  PushRuleSet set;
  const json::value* global = ruleset.if_contains("global");
  if (!global || !global->is_object()) {
    return set;
  }
  for (const char* kind : {"override", "content", "room", "sender", "underride"}) {
    const json::value* list = global->get_object().if_contains(kind);
    if (!list || !list->is_array()) {
      continue;
    }
    std::string_view kind_name = kind;
    for (const auto& item : list->get_array()) {
      const json::object* rule = item.if_object();
      if (!rule) {
        continue;
      }
      const json::value* enabled = rule->if_contains("enabled");
      if (enabled && enabled->is_bool() && !enabled->get_bool()) {
        continue;
      }
      const json::value* id_value = rule->if_contains("rule_id");
      std::string_view id = id_value && id_value->is_string()
                                ? std::string_view(id_value->get_string())
                                : std::string_view();
      Rule compiled;
      bool usable = true;
      if (kind_name == "override" || kind_name == "underride") {
        const json::value* conditions = rule->if_contains("conditions");
        if (conditions && conditions->is_array()) {
          for (const auto& c : conditions->get_array()) {
            auto cond = c.is_object() ? CompileCondition(c.get_object()) : std::nullopt;
            compiled.conditions.push_back(cond ? std::move(*cond) : Condition{});
          }
        } else if (conditions) {
          usable = false;
        }
      } else if (kind_name == "content") {
        const json::value* pattern = rule->if_contains("pattern");
        if (!pattern || !pattern->is_string() || pattern->get_string().size() > kMaxPatternBytes) {
          usable = false;
        } else {
          Condition c;
          c.kind = CondKind::kEventMatch;
          c.path = {"content", "body"};
          c.pattern = pattern->get_string();
          PrepareMatch(c);
          compiled.conditions.push_back(std::move(c));
        }
      } else {  // room and sender rules: the rule ID is the room or the sender
        Condition c;
        c.kind = CondKind::kPropertyIs;
        c.path = {kind_name == "room" ? "room_id" : "sender"};
        c.value = json::string(id);
        compiled.conditions.push_back(std::move(c));
      }
      if (!usable) {
        continue;
      }
      if (IsLegacyMentionRule(id)) {
        Condition no_mentions;
        no_mentions.kind = CondKind::kPropertyAbsent;
        no_mentions.path = {"content", "m.mentions"};
        compiled.conditions.insert(compiled.conditions.begin(), std::move(no_mentions));
      }
      std::stable_sort(compiled.conditions.begin(), compiled.conditions.end(),
                       [](const Condition& a, const Condition& b) { return Cost(a) < Cost(b); });
      const json::value* actions = rule->if_contains("actions");
      if (actions && actions->is_array()) {
        for (const auto& a : actions->get_array()) {
          if (a.is_string() && a.get_string() == "notify") {
            compiled.outcome.notify = true;
          } else if (const json::object* tweak = a.if_object()) {
            const json::value* name = tweak->if_contains("set_tweak");
            const json::value* value = tweak->if_contains("value");
            if (name && name->is_string() && name->get_string() == "highlight") {
              compiled.outcome.highlight = !value || (value->is_bool() && value->get_bool());
            }
          }
        }
      }
      set.rules_.push_back(std::move(compiled));
    }
  }
  set.silenced_types_ = FindSilencedTypes(set.rules_, user_id);
  return set;
}

bool PushRuleSet::Matches(const Condition& c, const json::object& event,
                          const PushContext& ctx) const {
  switch (c.kind) {
    case CondKind::kEventMatch: {
      const json::value* v = Lookup(event, c.path);
      if (!v || !v->is_string()) {
        return false;
      }
      if (c.slot != Condition::Slot::kNone) {
        std::string_view id = c.slot == Condition::Slot::kUserId ? ctx.user_id : ctx.localpart;
        return !id.empty() && GlobMatches(id, v->get_string(), c.on_body, /*literal=*/true);
      }
      return c.plain_ascii ? LiteralMatches(c.pattern, v->get_string(), c.on_body)
                           : RunGlob(c.tokens, v->get_string(), c.on_body);
    }
    case CondKind::kPropertyIs: {
      const json::value* v = Lookup(event, c.path);
      if (c.slot == Condition::Slot::kUserId) {
        return v && v->is_string() && v->get_string() == ctx.user_id;
      }
      return v && SameScalar(*v, c.value);
    }
    case CondKind::kPropertyAbsent:
      return Lookup(event, c.path) == nullptr;
    case CondKind::kPropertyContains: {
      const json::value* v = Lookup(event, c.path);
      if (!v || !v->is_array()) {
        return false;
      }
      const auto& arr = v->get_array();
      if (c.slot == Condition::Slot::kUserId) {
        return std::any_of(arr.begin(), arr.end(), [&](const json::value& item) {
          return item.is_string() && item.get_string() == ctx.user_id;
        });
      }
      return std::any_of(arr.begin(), arr.end(),
                         [&](const json::value& item) { return SameScalar(item, c.value); });
    }
    case CondKind::kDisplayName: {
      if (ctx.display_name.empty()) {
        return false;
      }
      const json::value* body = event.if_contains("content");
      body = body && body->is_object() ? body->get_object().if_contains("body") : nullptr;
      if (!body || !body->is_string()) {
        return false;
      }
      return GlobMatches(ctx.display_name, body->get_string(), true, /*literal=*/true);
    }
    case CondKind::kMemberCount: {
      if (!ctx.joined_member_count) {
        return false;
      }
      int64_t n = ctx.joined_member_count();
      switch (c.op) {
        case '<':
          return n < c.count;
        case '>':
          return n > c.count;
        case 'l':
          return n <= c.count;
        case 'g':
          return n >= c.count;
        default:
          return n == c.count;
      }
    }
    case CondKind::kSenderPermission: {
      const json::value* sender = event.if_contains("sender");
      if (!ctx.sender_may_notify || !sender || !sender->is_string()) {
        return false;
      }
      return ctx.sender_may_notify(c.pattern, sender->get_string());
    }
    case CondKind::kNever:
      return false;
  }
  return false;
}

PushOutcome PushRuleSet::Evaluate(const json::object& event, const PushContext& ctx) const {
  for (const auto& rule : rules_) {
    bool all = std::all_of(rule.conditions.begin(), rule.conditions.end(),
                           [&](const Condition& c) { return Matches(c, event, ctx); });
    if (all) {
      return rule.outcome;
    }
  }
  return {};
}

}  // namespace ruche::matrix
