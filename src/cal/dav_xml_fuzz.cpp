// libFuzzer target: WebDAV/CalDAV XML request bodies (parse, then read them as a PROPFIND or
// REPORT would: property requests and calendar-query filters), and the fragment round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cal/calendar_query.hpp"
#include "cal/dav_path.hpp"
#include "cal/dav_properties.hpp"
#include "cal/dav_xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ruche::cal::ParseDavPath(text);
  auto root = ruche::cal::ParseXml(text);
  if (!root) {
    return 0;
  }
  (void)ruche::cal::ReadPropRequest(&*root);
  (void)ruche::cal::ReadCalendarFilter(root->Child(ruche::cal::kCalDavNs, "filter"));
  auto again = ruche::cal::ParseXml(ruche::cal::SerializeFragment(*root));
  if (!again) {
    abort();  // what we store as a dead property must always read back
  }
  return 0;
}
