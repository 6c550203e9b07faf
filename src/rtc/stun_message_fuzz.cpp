// libFuzzer target: STUN parsing, integrity and fingerprint checks, and the responses built
// from whatever parsed.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>

#include "rtc/stun_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> d(data, size);
  auto m = ruche::rtc::ParseStun(d);
  if (!m) {
    return 0;
  }
  (void)ruche::rtc::VerifyMessageIntegrity(d, *m, "VOkJxbRl1RmTxUk/WvJxBt");
  (void)ruche::rtc::VerifyFingerprint(d, *m);
  (void)ruche::rtc::LocalUfragOf(m->username);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(5000);
  uint8_t out[512];
  size_t n = ruche::rtc::BuildBindingSuccess(*m, reinterpret_cast<sockaddr*>(&addr), "pw", out);
  // Property: what Ruche builds parses and verifies.
  if (n > 0) {
    std::span<const uint8_t> r(out, n);
    auto back = ruche::rtc::ParseStun(r);
    if (!back || !ruche::rtc::VerifyMessageIntegrity(r, *back, "pw") ||
        !ruche::rtc::VerifyFingerprint(r, *back)) {
      __builtin_trap();
    }
  }
  return 0;
}
