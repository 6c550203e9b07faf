// libFuzzer target: iCalendar bodies of PUT requests (parse, CalDAV checks, instances,
// expansion and free/busy over a fixed range).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cal/icalendar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cal = ruche::cal::ICalendar::Parse(text);
  if (!cal) {
    return 0;
  }
  (void)cal->Validate();
  ruche::cal::TimeRange range{1798761600, 1801440000};  // January 2027
  (void)cal->InstancesIn(range);
  (void)cal->Expanded(range);
  (void)cal->BusyIn(range);
  (void)cal->PropertyContains("SUMMARY", "a");
  return 0;
}
