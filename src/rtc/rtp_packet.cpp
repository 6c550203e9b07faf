#include "rtc/rtp_packet.hpp"

#include <cstring>

#include "rtc/byte_order.hpp"

namespace ruche::rtc {
namespace {

constexpr size_t kFixedHeader = 12;
constexpr uint16_t kOneByteProfile = 0xBEDE;
constexpr uint16_t kTwoByteProfileMask = 0xFFF0;
constexpr uint16_t kTwoByteProfile = 0x1000;

}  // namespace

bool LooksLikeRtp(std::span<const uint8_t> d) {
  return d.size() >= kFixedHeader && d[0] >= 128 && d[0] <= 191;
}

bool IsRtcpPacketType(uint8_t second_byte) { return second_byte >= 192 && second_byte <= 223; }

std::optional<RtpPacket> RtpPacket::Parse(std::span<uint8_t> buf) {
  if (!LooksLikeRtp(buf) || IsRtcpPacketType(buf[1])) {
    return std::nullopt;
  }
  RtpPacket p(buf);
  size_t at = kFixedHeader + 4 * static_cast<size_t>(buf[0] & 0x0F);  // CSRCs
  if (at > buf.size()) {
    return std::nullopt;
  }
  if ((buf[0] & 0x10) != 0) {  // X: extension block
    if (buf.size() - at < 4) {
      return std::nullopt;
    }
    p.ext_profile_ = Get16(buf.data() + at);
    size_t words = Get16(buf.data() + at + 2);
    if (buf.size() - at - 4 < words * 4) {
      return std::nullopt;
    }
    p.ext_offset_ = at + 4;
    p.ext_size_ = words * 4;
    at += 4 + words * 4;
  }
  size_t padding = 0;
  if ((buf[0] & 0x20) != 0) {  // P: the last byte counts the padding, itself included
    padding = buf.back();
    if (padding == 0 || padding > buf.size() - at) {
      return std::nullopt;
    }
  }
  p.header_size_ = at;
  p.payload_size_ = buf.size() - at - padding;
  return p;
}

uint16_t RtpPacket::sequence() const { return Get16(buf_.data() + 2); }
void RtpPacket::set_sequence(uint16_t seq) { Put16(buf_.data() + 2, seq); }
uint32_t RtpPacket::timestamp() const { return Get32(buf_.data() + 4); }
void RtpPacket::set_timestamp(uint32_t ts) { Put32(buf_.data() + 4, ts); }
uint32_t RtpPacket::ssrc() const { return Get32(buf_.data() + 8); }
void RtpPacket::set_ssrc(uint32_t ssrc) { Put32(buf_.data() + 8, ssrc); }

uint32_t RtpPacket::csrc(size_t index) const {
  return index < csrc_count() ? Get32(buf_.data() + kFixedHeader + 4 * index) : 0;
}

template <typename Fn>
bool RtpPacket::ForEachExtension(Fn&& fn) const {
  if (ext_offset_ == 0) {
    return true;
  }
  const uint8_t* p = buf_.data() + ext_offset_;
  size_t n = ext_size_;
  size_t i = 0;
  if (ext_profile_ == kOneByteProfile) {
    // RFC 8285 §4.2: ID (4 bits) and length-1 (4 bits); byte 0 is padding, ID 15 stops parsing.
    while (i < n) {
      uint8_t b = p[i];
      if (b == 0) {
        ++i;
        continue;
      }
      uint8_t ext_id = b >> 4;
      if (ext_id == 15) {
        return true;
      }
      size_t len = static_cast<size_t>(b & 0x0F) + 1;
      if (n - i - 1 < len) {
        return false;
      }
      if (!fn(ext_offset_ + i, ext_id, ext_offset_ + i + 1, len)) {
        return true;
      }
      i += 1 + len;
    }
  } else if ((ext_profile_ & kTwoByteProfileMask) == kTwoByteProfile) {
    // RFC 8285 §4.3: ID byte, length byte (0 allowed); a 0 byte where an ID goes is padding.
    while (i < n) {
      uint8_t ext_id = p[i];
      if (ext_id == 0) {
        ++i;
        continue;
      }
      if (n - i < 2 || n - i - 2 < p[i + 1]) {
        return false;
      }
      size_t len = p[i + 1];
      if (!fn(ext_offset_ + i, ext_id, ext_offset_ + i + 2, len)) {
        return true;
      }
      i += 2 + len;
    }
  }
  return true;
}

std::span<const uint8_t> RtpPacket::Extension(uint8_t id) const {
  if (id == 0) {
    return {};
  }
  std::span<const uint8_t> found;
  bool ok = ForEachExtension([&](size_t, uint8_t ext_id, size_t value, size_t len) {
    if (ext_id != id) {
      return true;
    }
    found = std::span<const uint8_t>(buf_.data() + value, len);
    return false;
  });
  // NOTE: a malformed element after the one asked for does not hide it; one before it does,
  // since the walk cannot get past it.
  return ok ? found : std::span<const uint8_t>();
}

bool RtpPacket::SetExtensionId(uint8_t old_id, uint8_t new_id) {
  bool one_byte = ext_profile_ == kOneByteProfile;
  if (ext_offset_ == 0 || old_id == 0 || new_id == 0 || (one_byte && new_id > 14)) {
    return false;
  }
  // First pass: the element exists, the new id is free, the block is well formed.
  bool found = false;
  bool clash = false;
  if (!ForEachExtension([&](size_t, uint8_t ext_id, size_t, size_t) {
        found |= ext_id == old_id;
        clash |= ext_id == new_id && new_id != old_id;
        return true;
      }) ||
      !found || clash) {
    return false;
  }
  ForEachExtension([&](size_t at, uint8_t ext_id, size_t, size_t) {
    if (ext_id == old_id) {
      buf_[at] = one_byte ? static_cast<uint8_t>(new_id << 4 | (buf_[at] & 0x0F)) : new_id;
    }
    return true;
  });
  return true;
}

bool IsVp8KeyFrame(std::span<const uint8_t> d) {
  // Payload descriptor (RFC 7741 §4.2): X|R|N|S|R|PID, then the optional extensions.
  if (d.empty()) {
    return false;
  }
  size_t i = 0;
  uint8_t first = d[i++];
  bool start = (first & 0x10) != 0;
  uint8_t pid = first & 0x07;
  if ((first & 0x80) != 0) {  // X
    if (i >= d.size()) {
      return false;
    }
    uint8_t ext = d[i++];
    if ((ext & 0x80) != 0) {  // I: picture id, 7 or 15 bits
      if (i >= d.size()) {
        return false;
      }
      i += (d[i] & 0x80) != 0 ? 2 : 1;
    }
    if ((ext & 0x40) != 0) {  // L: TL0PICIDX
      ++i;
    }
    if ((ext & 0x30) != 0) {  // T or K: TID/Y/KEYIDX
      ++i;
    }
  }
  if (!start || pid != 0 || i >= d.size()) {
    return false;
  }
  // VP8 payload header (RFC 6386 §9.1): P bit 0 means key frame.
  return (d[i] & 0x01) == 0;
}

bool IsH264KeyFrame(std::span<const uint8_t> d) {
  if (d.empty()) {
    return false;
  }
  auto is_key = [](uint8_t nal_type) { return nal_type == 5 || nal_type == 7; };
  uint8_t type = d[0] & 0x1F;
  if (type >= 1 && type <= 23) {
    return is_key(type);
  }
  if (type == 24) {  // STAP-A: 16-bit size then NAL, repeated
    size_t i = 1;
    while (d.size() - i >= 3) {
      size_t size = Get16(d.data() + i);
      i += 2;
      if (size == 0 || d.size() - i < size) {
        return false;
      }
      if (is_key(d[i] & 0x1F)) {
        return true;
      }
      i += size;
    }
    return false;
  }
  if (type == 28) {  // FU-A: the start fragment carries the original type
    return d.size() >= 2 && (d[1] & 0x80) != 0 && is_key(d[1] & 0x1F);
  }
  return false;
}

std::optional<uint8_t> AudioLevelOf(const RtpPacket& packet, uint8_t extension_id) {
  auto v = packet.Extension(extension_id);
  if (v.empty()) {
    return std::nullopt;
  }
  return static_cast<uint8_t>(v[0] & 0x7F);
}

bool OneByteExtensions::Add(uint8_t id, std::span<const uint8_t> value) {
  if (id < 1 || id > 14 || value.empty() || value.size() > 16 ||
      size_ + 1 + value.size() > kMaxBytes) {
    return false;
  }
  bytes_[size_++] = static_cast<uint8_t>(id << 4 | (value.size() - 1));
  std::memcpy(bytes_ + size_, value.data(), value.size());
  size_ += value.size();
  return true;
}

std::optional<RtpPacket> ReplaceExtensions(std::span<uint8_t> area, const RtpPacket& packet,
                                           const OneByteExtensions& ext) {
  std::span<const uint8_t> old = packet.bytes();
  if (old.data() < area.data() || old.data() + old.size() > area.data() + area.size()) {
    return std::nullopt;
  }
  auto offset = static_cast<size_t>(old.data() - area.data());
  size_t fixed = 12 + 4 * static_cast<size_t>(packet.csrc_count());
  size_t block = ext.size() == 0 ? 0 : 4 + (ext.size() + 3) / 4 * 4;
  size_t payload_at = offset + packet.header_size();
  if (fixed + block > payload_at) {
    return std::nullopt;
  }
  size_t start = payload_at - fixed - block;
  uint8_t* out = area.data() + start;
  std::memmove(out, area.data() + offset, fixed);
  if (block == 0) {
    out[0] &= static_cast<uint8_t>(~0x10);
  } else {
    out[0] |= 0x10;
    uint8_t* b = out + fixed;
    b[0] = 0xBE;  // RFC 8285 §4.2: the one-byte form's "defined by profile" value
    b[1] = 0xDE;
    Put16(b + 2, static_cast<uint16_t>((block - 4) / 4));
    std::memcpy(b + 4, ext.bytes().data(), ext.size());
    std::memset(b + 4 + ext.size(), 0, block - 4 - ext.size());  // padding
  }
  return RtpPacket::Parse(area.subspan(start, fixed + block + old.size() - packet.header_size()));
}

uint32_t AbsSendTime(uint64_t microseconds) {
  // 6.18 fixed point seconds in 24 bits: the value wraps every 64 s, so only the time modulo
  // 64 s matters (which also keeps the shift from overflowing).
  uint64_t us = microseconds % 64'000'000;
  return static_cast<uint32_t>((us << 18) / 1'000'000) & 0xFFFFFF;
}

}  // namespace ruche::rtc
