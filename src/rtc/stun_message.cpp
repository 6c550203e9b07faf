#include "rtc/stun_message.hpp"

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

#include "rtc/byte_order.hpp"

namespace ruche::rtc {
namespace {

constexpr uint16_t kAttrMappedAddress = 0x0001;
constexpr uint16_t kAttrUsername = 0x0006;
constexpr uint16_t kAttrMessageIntegrity = 0x0008;
constexpr uint16_t kAttrErrorCode = 0x0009;
constexpr uint16_t kAttrUnknownAttributes = 0x000A;
constexpr uint16_t kAttrXorMappedAddress = 0x0020;
constexpr uint16_t kAttrPriority = 0x0024;
constexpr uint16_t kAttrUseCandidate = 0x0025;
constexpr uint16_t kAttrFingerprint = 0x8028;
constexpr uint16_t kAttrIceControlled = 0x8029;
constexpr uint16_t kAttrIceControlling = 0x802A;
constexpr uint16_t kAttrMessageIntegritySha256 = 0x001C;  // RFC 8489; browsers do not send it
constexpr uint16_t kAttrUserhash = 0x001E;
constexpr uint16_t kAttrPasswordAlgorithms = 0x8002;
constexpr uint32_t kFingerprintXor = 0x5354554e;
constexpr size_t kIntegritySize = 20;  // HMAC-SHA1
constexpr uint16_t kBindingRequest = 0x0001;
constexpr uint16_t kBindingSuccess = 0x0101;
constexpr uint16_t kBindingError = 0x0111;

// CRC-32 (ISO-HDLC, the zlib one), table-driven.
uint32_t Crc32(const uint8_t* data, size_t n) {
  static const auto kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) {
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      }
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c = kTable[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  }
  return c ^ 0xFFFFFFFFu;
}

// HMAC-SHA1 of `prefix` (the message up to the integrity attribute) whose length field says
// `length`. The prefix is copied so the caller's buffer stays untouched.
bool Hmac(std::span<const uint8_t> prefix, uint16_t length, std::string_view key,
          uint8_t out[kIntegritySize]) {
  uint8_t buf[kMaxStunMessage];
  if (prefix.size() > sizeof(buf) || prefix.size() < kStunHeaderSize || key.size() > 4096) {
    return false;
  }
  std::memcpy(buf, prefix.data(), prefix.size());
  Put16(buf + 2, length);
  // NOTE: a default-constructed string_view has a null data(); OpenSSL 3 refuses a null key even
  // of length 0, so an empty password gets a valid pointer.
  static constexpr uint8_t kEmptyKey[1] = {0};
  const void* key_data = key.empty() ? kEmptyKey : static_cast<const void*>(key.data());
  unsigned int n = 0;
  return HMAC(EVP_sha1(), key_data, static_cast<int>(key.size()), buf, prefix.size(), out, &n) !=
             nullptr &&
         n == kIntegritySize;
}

// Appends attributes to a response being built in `out`.
class Writer {
 public:
  explicit Writer(std::span<uint8_t> out) : out_(out) {}
  bool Header(uint16_t type, const std::array<uint8_t, 12>& transaction_id) {
    if (out_.size() < kStunHeaderSize) {
      return false;
    }
    Put16(out_.data(), type);
    Put16(out_.data() + 2, 0);
    Put32(out_.data() + 4, kStunMagicCookie);
    std::memcpy(out_.data() + 8, transaction_id.data(), 12);
    size_ = kStunHeaderSize;
    return true;
  }
  // Reserves an attribute of `length` bytes (padded to 4); returns its value or null.
  uint8_t* Attribute(uint16_t type, size_t length) {
    size_t padded = (length + 3) & ~size_t{3};
    if (size_ + 4 + padded > out_.size()) {
      return nullptr;
    }
    uint8_t* p = out_.data() + size_;
    Put16(p, type);
    Put16(p + 2, static_cast<uint16_t>(length));
    std::memset(p + 4, 0, padded);
    size_ += 4 + padded;
    Put16(out_.data() + 2, static_cast<uint16_t>(size_ - kStunHeaderSize));
    return p + 4;
  }
  size_t size() const { return size_; }
  uint8_t* data() { return out_.data(); }

 private:
  std::span<uint8_t> out_;
  size_t size_ = 0;
};

// MESSAGE-INTEGRITY over what `w` holds, the length field already counting the attribute
// (§14.5).
bool AddMessageIntegrity(Writer& w, std::string_view password) {
  size_t before = w.size();
  uint8_t* mac = w.Attribute(kAttrMessageIntegrity, kIntegritySize);
  return mac != nullptr && Hmac(std::span<const uint8_t>(w.data(), before),
                                static_cast<uint16_t>(w.size() - kStunHeaderSize), password, mac);
}

bool AddFingerprint(Writer& w) {
  size_t before = w.size();
  uint8_t* v = w.Attribute(kAttrFingerprint, 4);
  if (v == nullptr) {
    return false;
  }
  // The CRC covers the message up to the attribute, with the length already counting it.
  Put32(v, Crc32(w.data(), before) ^ kFingerprintXor);
  return true;
}

}  // namespace

bool LooksLikeStun(std::span<const uint8_t> d) {
  return d.size() >= kStunHeaderSize && d[0] <= 3 && Get32(d.data() + 4) == kStunMagicCookie;
}

std::optional<StunMessage> ParseStun(std::span<const uint8_t> d) {
  if (!LooksLikeStun(d) || d.size() > kMaxStunMessage) {
    return std::nullopt;
  }
  StunMessage m;
  m.type = Get16(d.data());
  m.length = Get16(d.data() + 2);
  if ((m.type & 0xC000) != 0 || m.length % 4 != 0 || kStunHeaderSize + m.length != d.size()) {
    return std::nullopt;
  }
  std::memcpy(m.transaction_id.data(), d.data() + 8, 12);
  size_t at = kStunHeaderSize;
  size_t count = 0;
  while (at < d.size()) {
    if (d.size() - at < 4 || ++count > kMaxStunAttributes) {
      return std::nullopt;
    }
    uint16_t type = Get16(d.data() + at);
    uint16_t len = Get16(d.data() + at + 2);
    size_t padded = (static_cast<size_t>(len) + 3) & ~size_t{3};
    if (d.size() - at - 4 < padded) {
      return std::nullopt;
    }
    // §14.7: nothing after FINGERPRINT. §14.5 has agents ignore what follows MESSAGE-INTEGRITY
    // but MESSAGE-INTEGRITY-SHA256 and FINGERPRINT; nothing legitimate puts anything else there,
    // so such a message is refused rather than half-read.
    if (m.has_fingerprint || (m.has_message_integrity && type != kAttrFingerprint &&
                              type != kAttrMessageIntegritySha256)) {
      return std::nullopt;
    }
    const uint8_t* v = d.data() + at + 4;
    switch (type) {
      case kAttrUsername:
        if (len > 513) {
          return std::nullopt;
        }
        m.username = std::string_view(reinterpret_cast<const char*>(v), len);
        break;
      case kAttrMessageIntegrity:
        if (len != kIntegritySize) {
          return std::nullopt;
        }
        m.has_message_integrity = true;
        m.message_integrity_offset = at;
        break;
      case kAttrFingerprint:
        if (len != 4) {
          return std::nullopt;
        }
        m.has_fingerprint = true;
        m.fingerprint_offset = at;
        break;
      case kAttrPriority:
        if (len != 4) {
          return std::nullopt;
        }
        m.priority = Get32(v);
        break;
      case kAttrUseCandidate:
        if (len != 0) {
          return std::nullopt;
        }
        m.use_candidate = true;
        break;
      case kAttrIceControlling:
      case kAttrIceControlled:
        if (len != 8) {
          return std::nullopt;
        }
        (type == kAttrIceControlling ? m.ice_controlling : m.ice_controlled) = true;
        m.tie_breaker = static_cast<uint64_t>(Get32(v)) << 32 | Get32(v + 4);
        break;
      case kAttrMessageIntegritySha256:
        // §14.6: 16 to 32 bytes, a multiple of 4. Not checked: browsers send only SHA-1.
        if (len < 16 || len > 32 || len % 4 != 0) {
          return std::nullopt;
        }
        break;
      case kAttrMappedAddress:
      case kAttrXorMappedAddress:
      case kAttrErrorCode:
      case kAttrUnknownAttributes:
      case kAttrUserhash:
      case kAttrPasswordAlgorithms:
        break;  // known; not used by an ICE-lite server
      default:
        if (type < 0x8000) {
          m.has_unknown_comprehension_required = true;
          if (m.unknown_attribute_count < m.unknown_attributes.size()) {
            m.unknown_attributes[m.unknown_attribute_count++] = type;
          }
        }
        break;
    }
    at += 4 + padded;
  }
  return m;
}

bool VerifyMessageIntegrity(std::span<const uint8_t> d, const StunMessage& m,
                            std::string_view password) {
  if (!m.has_message_integrity || m.message_integrity_offset + 4 + kIntegritySize > d.size()) {
    return false;
  }
  size_t covered_length = m.message_integrity_offset + 4 + kIntegritySize - kStunHeaderSize;
  uint8_t mac[kIntegritySize];
  if (!Hmac(d.first(m.message_integrity_offset), static_cast<uint16_t>(covered_length), password,
            mac)) {
    return false;
  }
  return CRYPTO_memcmp(mac, d.data() + m.message_integrity_offset + 4, kIntegritySize) == 0;
}

bool VerifyFingerprint(std::span<const uint8_t> d, const StunMessage& m) {
  if (!m.has_fingerprint || m.fingerprint_offset + 8 != d.size()) {
    return false;
  }
  return (Crc32(d.data(), m.fingerprint_offset) ^ kFingerprintXor) ==
         Get32(d.data() + m.fingerprint_offset + 4);
}

size_t BuildBindingSuccess(const StunMessage& request, const sockaddr* mapped,
                           std::string_view password, std::span<uint8_t> out) {
  Writer w(out);
  if (mapped == nullptr || !w.Header(kBindingSuccess, request.transaction_id)) {
    return 0;
  }
  // XOR-MAPPED-ADDRESS (§14.2): port XOR the cookie's high half, address XOR cookie (+ id).
  uint8_t cookie[4];
  Put32(cookie, kStunMagicCookie);
  if (mapped->sa_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(mapped);
    uint8_t* v = w.Attribute(kAttrXorMappedAddress, 8);
    if (v == nullptr) {
      return 0;
    }
    v[1] = 0x01;
    Put16(v + 2, static_cast<uint16_t>(ntohs(a->sin_port) ^ (kStunMagicCookie >> 16)));
    const auto* ip = reinterpret_cast<const uint8_t*>(&a->sin_addr);
    for (int i = 0; i < 4; ++i) {
      v[4 + i] = ip[i] ^ cookie[i];
    }
  } else if (mapped->sa_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(mapped);
    uint8_t* v = w.Attribute(kAttrXorMappedAddress, 20);
    if (v == nullptr) {
      return 0;
    }
    v[1] = 0x02;
    Put16(v + 2, static_cast<uint16_t>(ntohs(a->sin6_port) ^ (kStunMagicCookie >> 16)));
    const auto* ip = reinterpret_cast<const uint8_t*>(&a->sin6_addr);
    for (int i = 0; i < 16; ++i) {
      v[4 + i] = ip[i] ^ (i < 4 ? cookie[i] : request.transaction_id[i - 4]);
    }
  } else {
    return 0;
  }
  return AddMessageIntegrity(w, password) && AddFingerprint(w) ? w.size() : 0;
}

size_t BuildBindingRequest(const BindingRequest& request, std::span<uint8_t> out) {
  Writer w(out);
  if (request.username.size() > 513 || !w.Header(kBindingRequest, request.transaction_id)) {
    return 0;
  }
  uint8_t* user = w.Attribute(kAttrUsername, request.username.size());
  uint8_t* priority = user != nullptr ? w.Attribute(kAttrPriority, 4) : nullptr;
  uint8_t* role =
      priority != nullptr
          ? w.Attribute(request.controlling ? kAttrIceControlling : kAttrIceControlled, 8)
          : nullptr;
  if (role == nullptr) {
    return 0;
  }
  if (!request.username.empty()) {
    std::memcpy(user, request.username.data(), request.username.size());
  }
  Put32(priority, request.priority);
  Put32(role, static_cast<uint32_t>(request.tie_breaker >> 32));
  Put32(role + 4, static_cast<uint32_t>(request.tie_breaker));
  if (request.use_candidate && w.Attribute(kAttrUseCandidate, 0) == nullptr) {
    return 0;
  }
  return AddMessageIntegrity(w, request.password) && AddFingerprint(w) ? w.size() : 0;
}

size_t BuildBindingError(const StunMessage& request, int code, std::string_view reason,
                         std::span<uint8_t> out, std::optional<std::string_view> password) {
  // §14.8: class 3–6 and number 0–99; the reason phrase is fewer than 128 characters.
  Writer w(out);
  if (code < 300 || code > 699 || reason.size() >= 128 ||
      !w.Header(kBindingError, request.transaction_id)) {
    return 0;
  }
  uint8_t* v = w.Attribute(kAttrErrorCode, 4 + reason.size());
  if (v == nullptr) {
    return 0;
  }
  v[2] = static_cast<uint8_t>(code / 100);
  v[3] = static_cast<uint8_t>(code % 100);
  if (!reason.empty()) {
    std::memcpy(v + 4, reason.data(), reason.size());
  }
  // §14.9: a 420 names the comprehension-required attributes it did not understand.
  if (code == 420 && request.unknown_attribute_count > 0) {
    size_t count =
        std::min<size_t>(request.unknown_attribute_count, request.unknown_attributes.size());
    uint8_t* u = w.Attribute(kAttrUnknownAttributes, 2 * count);
    if (u == nullptr) {
      return 0;
    }
    for (size_t i = 0; i < count; ++i) {
      Put16(u + 2 * i, request.unknown_attributes[i]);
    }
  }
  if (password && !AddMessageIntegrity(w, *password)) {
    return 0;
  }
  return AddFingerprint(w) ? w.size() : 0;
}

std::string_view LocalUfragOf(std::string_view username) {
  size_t colon = username.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return {};
  }
  return username.substr(0, colon);
}

}  // namespace ruche::rtc
