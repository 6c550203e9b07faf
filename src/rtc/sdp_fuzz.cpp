// libFuzzer target: the SDP parser and, when it accepts, the answer and offer generators.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rtc/sdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sdp = ruche::rtc::ParseSdp(text);
  if (!sdp) {
    return 0;
  }
  ruche::rtc::LocalTransport local{
      "ufrag123", "passwordpasswordpassword",
      "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:"
      "88:99",
      "127.0.0.1", 1};
  auto accepted = ruche::rtc::ChoosePublishedMedia(*sdp);
  if (accepted.empty()) {
    return 0;
  }
  // Property: whatever the browser offered, the answer Ruche generates parses again.
  std::string answer = ruche::rtc::BuildPublishAnswer(*sdp, accepted, local);
  if (!ruche::rtc::ParseSdp(answer)) {
    __builtin_trap();
  }
  return 0;
}
