#pragma once
// STUN (RFC 8489) as an ICE-lite server needs it (RFC 8445 §2.5, attributes of §16): parse a
// binding request, check MESSAGE-INTEGRITY (short-term credential: the ICE password) and
// FINGERPRINT, and build the success or error response. Every length is checked against the
// datagram; nothing allocates.
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ruche::rtc {

inline constexpr uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr size_t kStunHeaderSize = 20;
inline constexpr size_t kMaxStunMessage = 1500;
inline constexpr size_t kMaxStunAttributes = 32;

struct StunMessage {
  uint16_t type = 0;    // method and class, e.g. 0x0001 binding request
  uint16_t length = 0;  // of the attributes
  std::array<uint8_t, 12> transaction_id{};
  std::string_view username;  // a view into the datagram
  bool has_message_integrity = false;
  size_t message_integrity_offset = 0;  // of the attribute header
  bool has_fingerprint = false;
  size_t fingerprint_offset = 0;
  uint32_t priority = 0;
  bool use_candidate = false;
  bool ice_controlling = false;
  bool ice_controlled = false;
  uint64_t tie_breaker = 0;
  // An attribute in 0x0000–0x7FFF this parser does not know (RFC 8489 §14: comprehension-
  // required): the request must be answered with 420.
  bool has_unknown_comprehension_required = false;
  // The first of those types, for the 420's UNKNOWN-ATTRIBUTES (RFC 8489 §14.9).
  std::array<uint16_t, 4> unknown_attributes{};
  uint8_t unknown_attribute_count = 0;
};

// RFC 7983 demultiplexing plus the magic cookie: worth parsing as STUN.
bool LooksLikeStun(std::span<const uint8_t> datagram);

// nullopt when the datagram is not a well-formed STUN message: bad header, lengths that do
// not add up, a known attribute of the wrong size, attributes after FINGERPRINT, anything but
// MESSAGE-INTEGRITY-SHA256 or FINGERPRINT after MESSAGE-INTEGRITY (§14.5), more than
// kMaxStunAttributes attributes, more than kMaxStunMessage bytes.
std::optional<StunMessage> ParseStun(std::span<const uint8_t> datagram);

// HMAC-SHA1 with `password` over the message up to MESSAGE-INTEGRITY, its length field
// covering the attribute (§14.5); compared in constant time.
bool VerifyMessageIntegrity(std::span<const uint8_t> datagram, const StunMessage& message,
                            std::string_view password);
// CRC-32 of the message up to FINGERPRINT, XOR 0x5354554e (§14.7).
bool VerifyFingerprint(std::span<const uint8_t> datagram, const StunMessage& message);

// Binding success response: XOR-MAPPED-ADDRESS of `mapped` (IPv4 or IPv6), MESSAGE-INTEGRITY
// keyed with `password`, FINGERPRINT. Returns the bytes written, 0 if `out` is too small or
// `mapped` is null or neither IPv4 nor IPv6.
size_t BuildBindingSuccess(const StunMessage& request, const sockaddr* mapped,
                           std::string_view password, std::span<uint8_t> out);
// A connectivity check, as the full ICE agent on the other side of an ICE-lite server sends it
// (RFC 8445 §7.2.2): USERNAME "<remote ufrag>:<local ufrag>", PRIORITY, ICE-CONTROLLING or
// ICE-CONTROLLED with the tie-breaker, USE-CANDIDATE when nominating, MESSAGE-INTEGRITY keyed
// with the remote password, FINGERPRINT. Used by the SFU load client (bench/sfu_load).
struct BindingRequest {
  std::array<uint8_t, 12> transaction_id{};
  std::string_view username;
  std::string_view password;
  uint32_t priority = 0;
  bool controlling = true;
  uint64_t tie_breaker = 0;
  bool use_candidate = false;
};
// Returns the bytes written, 0 if `out` is too small or the username is over 513 bytes.
size_t BuildBindingRequest(const BindingRequest& request, std::span<uint8_t> out);

// Binding error response with ERROR-CODE (`code` 300–699, e.g. 400, 401, 420, 487; `reason`
// under 128 bytes) and FINGERPRINT; a 420 lists the request's unknown attributes. With a
// `password` it carries MESSAGE-INTEGRITY too: RFC 8489 §9.1.4 wants it on errors to requests
// that authenticated (487 role conflict), never on 400/401 (§9.1.3). Returns the bytes written,
// 0 if `out` is too small or the arguments are out of range.
size_t BuildBindingError(const StunMessage& request, int code, std::string_view reason,
                         std::span<uint8_t> out,
                         std::optional<std::string_view> password = std::nullopt);

// USERNAME of a check is "<receiver's ufrag>:<sender's ufrag>": the part before ':', or an
// empty view when malformed.
std::string_view LocalUfragOf(std::string_view username);

}  // namespace ruche::rtc
