// libFuzzer target: push rules a user may PUT, evaluated against events another user may send.
// Input: a rule set (JSON), a newline, an event (JSON); or, when it does not parse so, a glob
// pattern, a newline and a text. Must never crash, and stay bounded in time on any input (the
// glob matcher is an NFA, never a backtracking regex).
#include <cstdint>
#include <string_view>

#include "core/json.hpp"
#include "matrix/push_eval.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) {
    return 0;
  }
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t cut = input.find('\n');
  std::string_view first = input.substr(0, cut);
  std::string_view second = cut == std::string_view::npos ? "" : input.substr(cut + 1);
  auto ruleset = ruche::core::ParseJsonObject(first);
  auto event = ruche::core::ParseJsonObject(second);
  if (ruleset && event) {
    auto rules = ruche::matrix::PushRuleSet::Compile(*ruleset);
    ruche::matrix::PushContext ctx;
    ctx.user_id = "@alice:example.org";
    ctx.display_name = "Alice";
    ctx.joined_member_count = [] { return int64_t{2}; };
    ctx.sender_may_notify = [](std::string_view, std::string_view) { return true; };
    (void)rules.Evaluate(*event, ctx);
    return 0;
  }
  for (bool words : {false, true}) {
    for (bool literal : {false, true}) {
      (void)ruche::matrix::PushRuleSet::GlobMatches(first, second, words, literal);
    }
  }
  return 0;
}
