#pragma once
// RFC 4571 framing, as ICE-TCP (RFC 6544 §3) carries STUN, DTLS, RTP and RTCP over a TCP
// connection: each packet is preceded by its length as a 16-bit big-endian number. The reader
// reassembles packets from whatever pieces the stream delivers, in a fixed buffer: a peer cannot
// make it grow.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace ruche::rtc {

class TcpFrameReader {
 public:
  // The largest packet accepted; a longer length prefix is a protocol error (WebRTC's packets
  // fit in an Ethernet MTU; a DTLS flight's datagram stays under the same bound).
  static constexpr size_t kMaxFrame = 2048;

  // Where the next bytes read from the socket go, and how many fit.
  std::span<uint8_t> WritableSpace();
  // `n` bytes were written into WritableSpace().
  void Commit(size_t n);

  enum class Status { kFrame, kNeedMore, kError };
  // The next whole packet in `frame` (valid until the next call to any method), kNeedMore when
  // none is complete yet, kError for a length of 0 or above kMaxFrame (the stream can no
  // longer be trusted: close it).
  Status Next(std::span<uint8_t>& frame);
  // What is buffered and not yet returned (a connection handed to another worker takes it).
  std::span<const uint8_t> Unread() const;

 private:
  std::unique_ptr<uint8_t[]> buf_ = std::make_unique<uint8_t[]>(kCapacity);
  static constexpr size_t kCapacity = 2 + kMaxFrame;
  size_t begin_ = 0;  // first byte not yet returned
  size_t end_ = 0;    // one past the last byte read
};

// Writes the 2-byte length prefix of a `length`-byte packet (length ≤ 65535).
inline void PutTcpFrameLength(uint8_t out[2], size_t length) {
  out[0] = static_cast<uint8_t>(length >> 8);
  out[1] = static_cast<uint8_t>(length);
}

}  // namespace ruche::rtc
