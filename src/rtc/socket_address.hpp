#pragma once
// A UDP peer address (IPv4 or IPv6) usable as a map key: the 5-tuple's remote half, since the
// local half is always the one media port.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace ruche::rtc {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  bool operator==(const SocketAddress& o) const {
    return length == o.length && std::memcmp(&storage, &o.storage, length) == 0;
  }
  std::string ToString() const;
  // "127.0.0.1:5000" or "[::1]:5000"; false when not an address.
  static bool Parse(const std::string& ip, uint16_t port, SocketAddress& out);
};

struct SocketAddressHash {
  size_t operator()(const SocketAddress& a) const noexcept {
    // FNV-1a over the bytes that matter.
    size_t h = 1469598103934665603ull;
    const auto* p = reinterpret_cast<const unsigned char*>(&a.storage);
    for (socklen_t i = 0; i < a.length; ++i) {
      h = (h ^ p[i]) * 1099511628211ull;
    }
    return h;
  }
};

}  // namespace ruche::rtc
