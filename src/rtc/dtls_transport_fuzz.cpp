// libFuzzer target: DTLS datagrams (record framing and handshake messages) fed to Ruche's DTLS
// server session, as a hostile browser would send them. The first byte splits the input into
// two datagrams.
#include <cstddef>
#include <cstdint>

#include "rtc/dtls_transport.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto context = *ruche::rtc::DtlsContext::Create();
  if (size < 1) {
    return 0;
  }
  size_t sent = 0;
  auto session = ruche::rtc::DtlsSession::Create(
      context, "AA:BB", [&](std::span<const uint8_t> record) { sent += record.size(); });
  if (!session) {
    return 0;
  }
  // data[0] picks where the first datagram (data[1, split)) ends and the second begins.
  size_t split = 1 + data[0] % size;
  (*session)->OnDatagram(std::span<const uint8_t>(data + 1, split - 1));
  (*session)->OnDatagram(std::span<const uint8_t>(data + split, size - split));
  (*session)->OnTimer();
  // Property: a stranger's bytes never complete a handshake (no certificate matches "AA:BB").
  if ((*session)->state() == ruche::rtc::DtlsSession::State::kConnected) {
    __builtin_trap();
  }
  return 0;
}
