// libFuzzer target: a /sync or /messages filter as a client sends it (JSON), then every section
// checked against a few events. Must never crash: a malformed filter is an error, not a throw.
#include <cstdint>
#include <string_view>

#include "core/json.hpp"
#include "matrix/event_filter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) {
    return 0;
  }
  auto obj =
      ruche::core::ParseJsonObject(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!obj) {
    return 0;
  }
  namespace json = ruche::core::json;
  const json::object events[] = {
      json::object{{"type", "m.room.message"},
                   {"sender", "@a:x"},
                   {"content", json::object{{"body", "hi"}, {"url", "mxc://x/y"}}}},
      json::object{{"type", "m.room.member"}, {"sender", "@b:x"}, {"content", 3}},
      json::object{{"type", 7}},
  };
  if (auto spec = ruche::matrix::ParseSyncFilter(*obj)) {
    for (const auto* f : {&spec->timeline, &spec->state, &spec->ephemeral, &spec->presence,
                          &spec->account_data, &spec->room_account_data}) {
      for (const auto& ev : events) {
        (void)f->Allows(ev);
      }
    }
    (void)spec->AllowsRoom("!r:x");
  }
  if (auto f = ruche::matrix::ParseEventFilter(*obj)) {
    for (const auto& ev : events) {
      (void)f->Allows(ev);
    }
  }
  return 0;
}
