#pragma once
// SRTP/SRTCP (RFC 3711, RFC 7714 for AES-GCM) through Debian's libsrtp2 — but outbound
// AES-GCM RTP, the forwarding path's bulk, through OpenSSL (srtp_gcm.hpp): one session per
// direction of a transport, keyed from DTLS-SRTP. Protect and unprotect work in place on the
// caller's buffer, which must have kSrtpTrailerRoom bytes free after the packet.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/error.hpp"
#include "rtc/dtls_transport.hpp"

struct srtp_ctx_t_;

namespace ruche::rtc {

class SrtpGcmProtector;

// What protect may append (auth tag and MKI): SRTP_MAX_TRAILER_LEN.
inline constexpr size_t kSrtpTrailerRoom = 144;

class SrtpSession {
 public:
  enum class Direction { kInbound, kOutbound };
  static Result<std::unique_ptr<SrtpSession>> Create(SrtpProfile profile,
                                                     std::span<const uint8_t> key_salt,
                                                     Direction direction);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // Each returns false (and leaves `len` alone) when the packet is rejected: bad tag, replay,
  // too short. `buf` must hold `len` + kSrtpTrailerRoom bytes for the Protect calls.
  bool ProtectRtp(uint8_t* buf, size_t& len);
  bool UnprotectRtp(uint8_t* buf, size_t& len);
  bool ProtectRtcp(uint8_t* buf, size_t& len);
  bool UnprotectRtcp(uint8_t* buf, size_t& len);

 private:
  SrtpSession() = default;
  srtp_ctx_t_* session_ = nullptr;
  // Outbound AES-GCM RTP goes through OpenSSL (srtp_gcm.hpp); everything else through libsrtp2.
  std::unique_ptr<SrtpGcmProtector> gcm_rtp_;
};

}  // namespace ruche::rtc
