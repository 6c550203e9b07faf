#pragma once
// RTP (RFC 3550) as a zero-copy view over a caller-owned buffer: header fields read and
// rewritten in place, header extensions (RFC 8285, one- and two-byte forms) found by id, and
// the payload helpers simulcast switching and the active-speaker detector need.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace ruche::rtc {

// RFC 7983: first byte 128–191 is RTP or RTCP.
bool LooksLikeRtp(std::span<const uint8_t> datagram);
// RFC 5761 §4: with rtcp-mux, a second byte of 192–223 is an RTCP packet type.
bool IsRtcpPacketType(uint8_t second_byte);

class RtpPacket {
 public:
  // nullopt unless `buf` holds a whole valid RTP packet (version 2, CSRCs, extension and padding
  // all within bounds).
  static std::optional<RtpPacket> Parse(std::span<uint8_t> buf);

  uint8_t payload_type() const { return buf_[1] & 0x7F; }
  void set_payload_type(uint8_t pt) {
    buf_[1] = static_cast<uint8_t>((buf_[1] & 0x80) | (pt & 0x7F));
  }
  bool marker() const { return (buf_[1] & 0x80) != 0; }
  uint16_t sequence() const;
  void set_sequence(uint16_t seq);
  uint32_t timestamp() const;
  void set_timestamp(uint32_t ts);
  uint32_t ssrc() const;
  void set_ssrc(uint32_t ssrc);

  uint8_t csrc_count() const { return buf_[0] & 0x0F; }
  uint32_t csrc(size_t index) const;  // index < csrc_count()

  // The value of the first extension `id` (RFC 8285: one-byte form 1–14, two-byte form 1–255),
  // or an empty span when absent, malformed, or the extension block uses another profile. A
  // two-byte element of length 0 is present but empty too.
  std::span<const uint8_t> Extension(uint8_t id) const;
  // Renumbers every element `old_id` to `new_id` in place, as the SFU must when a subscriber
  // negotiated other ids (RFC 8285 §6: ids are per session). False, changing nothing, when
  // `old_id` is absent or `new_id` is not valid in the block's form (1–14 one-byte, 1–255
  // two-byte) or already used by another element.
  bool SetExtensionId(uint8_t old_id, uint8_t new_id);

  std::span<const uint8_t> payload() const { return buf_.subspan(header_size_, payload_size_); }
  size_t header_size() const { return header_size_; }
  size_t padding_size() const { return buf_.size() - header_size_ - payload_size_; }
  size_t size() const { return buf_.size(); }
  std::span<uint8_t> bytes() { return buf_; }
  std::span<const uint8_t> bytes() const { return buf_; }

 private:
  explicit RtpPacket(std::span<uint8_t> buf) : buf_(buf) {}
  // Calls fn(offset of the element's id byte in buf_, id, value offset, value length) for each
  // element of the extension block until fn returns false; false when the block is malformed.
  template <typename Fn>
  bool ForEachExtension(Fn&& fn) const;

  std::span<uint8_t> buf_;
  size_t header_size_ = 0;   // fixed header + CSRCs + extension block
  size_t payload_size_ = 0;  // without padding
  size_t ext_offset_ = 0;    // of the extension block's data, 0 when none
  size_t ext_size_ = 0;
  uint16_t ext_profile_ = 0;
};

// RFC 7741 §4: a VP8 payload that starts a key frame.
bool IsVp8KeyFrame(std::span<const uint8_t> payload);
// RFC 6184: an H.264 payload carrying an IDR slice or SPS (single NAL, STAP-A, FU-A start).
bool IsH264KeyFrame(std::span<const uint8_t> payload);
// RFC 6464: the audio level (0–127, in -dBov) from the one-byte ssrc-audio-level extension.
std::optional<uint8_t> AudioLevelOf(const RtpPacket& packet, uint8_t extension_id);

// The one-byte-form extension elements (RFC 8285 §4.2) a packet is to carry, in order.
class OneByteExtensions {
 public:
  static constexpr size_t kMaxBytes = 28;  // a mid of up to 16 bytes, a time, a level, …
  // False, adding nothing, when `id` is not 1–14, `value` is not 1–16 bytes, or it would not
  // fit.
  bool Add(uint8_t id, std::span<const uint8_t> value);
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {bytes_, size_}; }

 private:
  uint8_t bytes_[kMaxBytes];
  size_t size_ = 0;
};

// How far before a packet its header may have to grow when ReplaceExtensions gives it a block
// of OneByteExtensions::kMaxBytes where it had none.
inline constexpr size_t kExtensionHeadroom = 4 + OneByteExtensions::kMaxBytes;

// Gives `packet`, which lies inside `area`, exactly the extension block `ext` (none when it is
// empty) in place of its own: the fixed header and CSRCs move in front of the payload, which
// stays where it is (the header is rebuilt backwards, so a larger one needs room before the
// packet: kExtensionHeadroom). The packet at its new place, or nullopt when there is no room.
// `packet` must not be used afterwards.
std::optional<RtpPacket> ReplaceExtensions(std::span<uint8_t> area, const RtpPacket& packet,
                                           const OneByteExtensions& ext);

// abs-send-time's value (webrtc.org's extension): the send time in seconds, 6.18 fixed point,
// wrapping every 64 s; from any monotonic clock in microseconds.
uint32_t AbsSendTime(uint64_t microseconds);

}  // namespace ruche::rtc
