// libFuzzer target: RFC 4571 reassembly of an ICE-TCP stream cut at input-chosen places. Every
// packet returned must lie inside the stream in order, and the reader must never overrun.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "rtc/tcp_framing.hpp"

namespace rtc = ruche::rtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  // The first byte picks the piece size the stream is delivered in.
  size_t piece = 1 + data[0] % 64 * 37;
  data++;
  size--;
  rtc::TcpFrameReader reader;
  size_t at = 0;
  size_t consumed = 0;  // bytes of the stream returned as packets, prefixes included
  while (at < size) {
    auto space = reader.WritableSpace();
    if (space.empty()) {
      __builtin_trap();  // a full buffer always holds a whole packet, which was drained
    }
    size_t n = std::min({piece, space.size(), size - at});
    std::memcpy(space.data(), data + at, n);
    reader.Commit(n);
    at += n;
    std::span<uint8_t> frame;
    rtc::TcpFrameReader::Status s;
    while ((s = reader.Next(frame)) == rtc::TcpFrameReader::Status::kFrame) {
      if (frame.size() > rtc::TcpFrameReader::kMaxFrame ||
          std::memcmp(frame.data(), data + consumed + 2, frame.size()) != 0) {
        __builtin_trap();
      }
      consumed += 2 + frame.size();
    }
    if (s == rtc::TcpFrameReader::Status::kError) {
      return 0;
    }
  }
  if (consumed + reader.Unread().size() != size) {
    __builtin_trap();
  }
  return 0;
}
