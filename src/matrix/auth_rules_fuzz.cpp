// libFuzzer target: event validation by the authorization rules. The input is a JSON object
// {"state": [events...], "event": {...}}: hostile shapes of content, power levels, memberships
// and join rules must give a clear error or a decision, never a crash, for both room versions.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "core/json.hpp"
#include "matrix/auth_rules.hpp"

namespace {

namespace json = ruche::core::json;

class FuzzState final : public ruche::matrix::AuthState {
 public:
  explicit FuzzState(const json::array& events) {
    for (const auto& v : events) {
      if (!v.is_object()) {
        continue;
      }
      const auto& ev = v.get_object();
      const auto* type = ev.if_contains("type");
      const auto* key = ev.if_contains("state_key");
      const auto* content = ev.if_contains("content");
      if (!type || !type->is_string() || !key || !key->is_string() || !content ||
          !content->is_object()) {
        continue;
      }
      state_[{std::string(type->get_string()), std::string(key->get_string())}] =
          content->get_object();
      if (type->get_string() == "m.room.create") {
        if (const auto* s = ev.if_contains("sender"); s && s->is_string()) {
          creator_ = std::string(s->get_string());
        }
      }
    }
  }
  const json::object* Get(std::string_view type, std::string_view state_key) const override {
    auto it = state_.find({std::string(type), std::string(state_key)});
    return it == state_.end() ? nullptr : &it->second;
  }
  std::string_view CreateSender() const override { return creator_; }

 private:
  std::map<std::pair<std::string, std::string>, json::object> state_;
  std::string creator_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) {
    return 0;
  }
  auto input =
      ruche::core::ParseJsonObject(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!input) {
    return 0;
  }
  json::array state_events;
  if (const auto* s = input->if_contains("state"); s && s->is_array()) {
    state_events = s->get_array();
  }
  FuzzState state(state_events);
  const auto* event = input->if_contains("event");
  if (!event || !event->is_object()) {
    return 0;
  }
  for (const char* version : {"10", "11"}) {
    auto decision = ruche::matrix::Authorize(event->get_object(), state, version);
    if (!decision && decision.error().http_status != 400 && decision.error().http_status != 403) {
      std::abort();  // a refusal is always a client error, never a server failure
    }
    std::string_view sender;
    if (const auto* s = event->get_object().if_contains("sender"); s && s->is_string()) {
      sender = s->get_string();
    }
    (void)ruche::matrix::UserPowerLevel(state, sender, version);
    (void)ruche::matrix::MayRedact(state, sender, "@other:x", version);
  }
  (void)ruche::matrix::RequiredPowerLevel(state, "m.room.message", false);
  return 0;
}
