#include "rtc/srtp_session.hpp"

#include <srtp2/srtp.h>

#include <cstring>
#include <mutex>

#include "rtc/srtp_gcm.hpp"

namespace ruche::rtc {
namespace {

static_assert(SRTP_MAX_TRAILER_LEN <= kSrtpTrailerRoom);

// Packets larger than this are never handled (a UDP datagram on the media port is at most
// 1500 bytes minus headers; the bound keeps the int casts of libsrtp's API safe).
constexpr size_t kMaxPacket = 1 << 16;

Result<void> InitLibrary() {
  static srtp_err_status_t status = srtp_init();
  if (status != srtp_err_status_ok) {
    return Error::Internal("srtp_init failed: " + std::to_string(status));
  }
  return Result<void>{};
}

bool Run(srtp_err_status_t (*fn)(srtp_t, void*, int*), srtp_t session, uint8_t* buf, size_t& len) {
  if (len > kMaxPacket) {
    return false;
  }
  int n = static_cast<int>(len);
  if (fn(session, buf, &n) != srtp_err_status_ok || n < 0) {
    return false;
  }
  len = static_cast<size_t>(n);
  return true;
}

}  // namespace

Result<std::unique_ptr<SrtpSession>> SrtpSession::Create(SrtpProfile profile,
                                                         std::span<const uint8_t> key_salt,
                                                         Direction direction) {
  if (auto r = InitLibrary(); !r) {
    return r.error();
  }
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  size_t expected = 0;
  if (profile == SrtpProfile::kAes128CmSha1_80) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    expected = 30;
  } else {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    expected = 28;
  }
  if (key_salt.size() != expected) {
    return Error::Internal("SRTP key of the wrong length");
  }
  policy.ssrc.type = direction == Direction::kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.key = const_cast<unsigned char*>(key_salt.data());
  // A replay window of 1024 packets (libsrtp's maximum is 2^15): video bursts reorder.
  policy.window_size = 1024;
  // Retransmissions (NACK answers) resend a packet with the same sequence number.
  policy.allow_repeat_tx = 1;
  policy.next = nullptr;
  std::unique_ptr<SrtpSession> s(new SrtpSession());
  srtp_t session = nullptr;
  if (srtp_err_status_t st = srtp_create(&session, &policy); st != srtp_err_status_ok) {
    return Error::Internal("srtp_create failed: " + std::to_string(st));
  }
  s->session_ = session;
  if (profile == SrtpProfile::kAeadAes128Gcm && direction == Direction::kOutbound) {
    s->gcm_rtp_ = SrtpGcmProtector::Create(key_salt);
    if (s->gcm_rtp_ == nullptr) {
      return Error::Internal("OpenSSL refused AES-128-GCM for SRTP");
    }
  }
  return s;
}

SrtpSession::~SrtpSession() {
  if (session_ != nullptr) {
    srtp_dealloc(session_);
  }
}

bool SrtpSession::ProtectRtp(uint8_t* buf, size_t& len) {
  if (gcm_rtp_ != nullptr) {
    return len <= kMaxPacket && gcm_rtp_->Protect(buf, len);
  }
  return Run(srtp_protect, session_, buf, len);
}
bool SrtpSession::UnprotectRtp(uint8_t* buf, size_t& len) {
  return Run(srtp_unprotect, session_, buf, len);
}
bool SrtpSession::ProtectRtcp(uint8_t* buf, size_t& len) {
  return Run(srtp_protect_rtcp, session_, buf, len);
}
bool SrtpSession::UnprotectRtcp(uint8_t* buf, size_t& len) {
  return Run(srtp_unprotect_rtcp, session_, buf, len);
}

}  // namespace ruche::rtc
