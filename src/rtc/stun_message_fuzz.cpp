// libFuzzer target: STUN parsing, integrity and fingerprint checks, and the responses built
// from whatever parsed. Properties: every offset the parser reports lies inside the datagram,
// and whatever Ruche builds parses back and verifies.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "rtc/stun_message.hpp"

namespace {

constexpr std::string_view kPassword = "VOkJxbRl1RmTxUk/WvJxBt";

void CheckBuilt(const uint8_t* out, size_t n, bool with_integrity) {
  if (n == 0) {
    return;
  }
  std::span<const uint8_t> r(out, n);
  auto back = ruche::rtc::ParseStun(r);
  if (!back || !ruche::rtc::VerifyFingerprint(r, *back) ||
      (with_integrity && !ruche::rtc::VerifyMessageIntegrity(r, *back, kPassword))) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> d(data, size);
  (void)ruche::rtc::LooksLikeStun(d);
  auto m = ruche::rtc::ParseStun(d);
  if (!m) {
    return 0;
  }
  if (m->length + ruche::rtc::kStunHeaderSize != size ||
      (m->has_message_integrity && m->message_integrity_offset + 24 > size) ||
      (m->has_fingerprint && m->fingerprint_offset + 8 != size) ||
      (!m->username.empty() &&
       (reinterpret_cast<const uint8_t*>(m->username.data()) < data ||
        reinterpret_cast<const uint8_t*>(m->username.data()) + m->username.size() > data + size))) {
    __builtin_trap();
  }
  (void)ruche::rtc::VerifyMessageIntegrity(d, *m, kPassword);
  (void)ruche::rtc::VerifyMessageIntegrity(d, *m, "");
  (void)ruche::rtc::VerifyFingerprint(d, *m);
  std::string_view ufrag = ruche::rtc::LocalUfragOf(m->username);
  if (ufrag.size() > m->username.size()) {
    __builtin_trap();
  }

  uint8_t out[512];
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(5000);
  CheckBuilt(out,
             ruche::rtc::BuildBindingSuccess(*m, reinterpret_cast<sockaddr*>(&v4), kPassword, out),
             true);
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(443);
  std::memcpy(&v6.sin6_addr, m->transaction_id.data(), m->transaction_id.size());
  CheckBuilt(out,
             ruche::rtc::BuildBindingSuccess(*m, reinterpret_cast<sockaddr*>(&v6), kPassword, out),
             true);
  CheckBuilt(out, ruche::rtc::BuildBindingError(*m, 420, "Unknown Attribute", out), false);
  CheckBuilt(out, ruche::rtc::BuildBindingError(*m, 487, "Role Conflict", out, kPassword), true);
  // Too small a buffer is refused, never overrun (ASan watches the 40 bytes).
  (void)ruche::rtc::BuildBindingSuccess(*m, reinterpret_cast<sockaddr*>(&v6), kPassword,
                                        std::span<uint8_t>(out, 40));
  return 0;
}
