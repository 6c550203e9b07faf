// libFuzzer target: an uploader's file name and Content-Type (untrusted bytes) through the checks
// and into the Content-Disposition header. Must never crash, and the header must stay one line of
// printable ASCII whatever the input, so no name can split or inject a header.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "files/download_headers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) {
    return 0;
  }
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first line is the content type, the rest the file name.
  size_t nl = in.find('\n');
  std::string_view type = in.substr(0, nl);
  std::string_view name = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);

  auto sanitized = ruche::files::SanitizeContentType(type);
  if (sanitized) {
    for (char c : *sanitized) {
      if (c < 0x20 || c > 0x7e) {
        std::abort();
      }
    }
  }
  (void)ruche::files::IsInlineSafe(type);
  (void)ruche::files::IsValidFileName(name);
  std::string header = ruche::files::ContentDisposition(type, name);
  for (char c : header) {
    if (c < 0x20 || c > 0x7e) {
      std::abort();
    }
  }
  // The quoted fallback never ends early: exactly two quotes when there is a name.
  size_t quotes = 0;
  for (char c : header) {
    quotes += c == '"' ? 1 : 0;
  }
  if (quotes != (name.empty() ? 0u : 2u)) {
    std::abort();
  }
  return 0;
}
