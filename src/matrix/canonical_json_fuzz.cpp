// libFuzzer target: untrusted JSON through the bounded parser, then canonical JSON, redaction
// for both supported room versions, the content hash and the event ID. Must never crash, and
// canonical JSON must be a fixed point (canonicalising its own output changes nothing).
#include <cstdint>
#include <cstdlib>

#include "core/json.hpp"
#include "matrix/canonical_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) {
    return 0;
  }
  auto obj =
      ruche::core::ParseJsonObject(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!obj) {
    return 0;
  }
  auto canonical = ruche::matrix::CanonicalJson(*obj);
  if (canonical) {
    auto again = ruche::matrix::CanonicalJson(ruche::core::json::parse(*canonical));
    if (!again || *again != *canonical) {
      std::abort();
    }
  }
  for (const char* version : {"10", "11"}) {
    auto redacted = ruche::matrix::Redact(*obj, version);
    if (!redacted) {
      std::abort();  // every object can be redacted
    }
    (void)ruche::matrix::EventIdFor(*obj, version);
  }
  (void)ruche::matrix::ContentHash(*obj);
  return 0;
}
