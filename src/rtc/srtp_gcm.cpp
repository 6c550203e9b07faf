#include "rtc/srtp_gcm.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>

#include "rtc/byte_order.hpp"

namespace ruche::rtc {
namespace {

// RFC 3711 §4.3.1 labels.
constexpr uint8_t kLabelRtpEncryption = 0x00;
constexpr uint8_t kLabelRtpSalt = 0x02;

}  // namespace

bool SrtpKdf(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt,
             uint8_t label, std::span<uint8_t> out) {
  if (master_key.size() != 16 || master_salt.size() > 14) {
    return false;
  }
  // x = (label || r) XOR master_salt, right-aligned in 112 bits, r = 0 (no key derivation
  // rate); the AES-CM keystream from IV = x × 2^16 is the key material.
  uint8_t iv[16] = {};
  std::memcpy(iv, master_salt.data(), master_salt.size());
  iv[7] ^= label;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) {
    return false;
  }
  bool ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, master_key.data(), iv) == 1;
  std::memset(out.data(), 0, out.size());
  int n = 0;
  ok = ok && EVP_EncryptUpdate(ctx, out.data(), &n, out.data(), static_cast<int>(out.size())) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

std::unique_ptr<SrtpGcmProtector> SrtpGcmProtector::Create(
    std::span<const uint8_t> master_key_salt) {
  if (master_key_salt.size() != kMasterKeySaltSize) {
    return nullptr;
  }
  std::unique_ptr<SrtpGcmProtector> p(new SrtpGcmProtector());
  auto key = master_key_salt.first(16);
  auto salt = master_key_salt.subspan(16, 12);
  if (!SrtpKdf(key, salt, kLabelRtpEncryption, p->session_key_) ||
      !SrtpKdf(key, salt, kLabelRtpSalt, p->session_salt_)) {
    return nullptr;
  }
  p->ctx_ = EVP_CIPHER_CTX_new();
  if (p->ctx_ == nullptr ||
      EVP_EncryptInit_ex(p->ctx_, EVP_aes_128_gcm(), nullptr, p->session_key_, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(p->ctx_, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1) {
    return nullptr;
  }
  p->tag_param_ = new OSSL_PARAM[2];
  p->tag_param_[0] =
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, nullptr, kTagSize);
  p->tag_param_[1] = OSSL_PARAM_construct_end();
  return p;
}

SrtpGcmProtector::~SrtpGcmProtector() {
  if (ctx_ != nullptr) {
    EVP_CIPHER_CTX_free(ctx_);
  }
  delete[] tag_param_;
}

uint32_t SrtpGcmProtector::RolloverFor(uint32_t ssrc, uint16_t seq) {
  Stream* found = nullptr;
  for (size_t i = 0; i < inline_count_; ++i) {
    if (inline_ssrcs_[i] == ssrc) {
      found = &inline_streams_[i];
      break;
    }
  }
  if (found == nullptr) {
    if (inline_count_ < kInlineStreams) {
      inline_ssrcs_[inline_count_] = ssrc;
      inline_streams_[inline_count_] = Stream{0, seq};
      inline_count_++;
      return 0;
    }
    auto [it, fresh] = more_streams_.try_emplace(ssrc, Stream{0, seq});
    if (fresh) {
      return 0;
    }
    found = &it->second;
  }
  Stream& s = *found;
  // RFC 3711 Appendix A: the ROC that puts SEQ nearest the highest sent.
  uint32_t v = s.roc;
  if (s.highest < 32768) {
    if (seq > s.highest && seq - s.highest > 32768) {
      v = s.roc - 1;  // an old packet from before the last wrap (a retransmission)
    }
  } else if (seq < s.highest - 32768) {
    v = s.roc + 1;  // wrapped
  }
  if (v == s.roc + 1 || (v == s.roc && seq > s.highest)) {
    s.roc = v;
    s.highest = seq;
  }
  return v;
}

bool SrtpGcmProtector::Protect(uint8_t* buf, size_t& len) {
  if (len < 12 || (buf[0] >> 6) != 2) {
    return false;
  }
  // The header (AAD) runs to the payload: CSRCs and the extension block included.
  size_t header = 12 + 4 * static_cast<size_t>(buf[0] & 0x0F);
  if ((buf[0] & 0x10) != 0) {
    if (len < header + 4) {
      return false;
    }
    header += 4 + 4 * static_cast<size_t>(Get16(buf + header + 2));
  }
  if (header > len) {
    return false;
  }
  uint16_t seq = Get16(buf + 2);
  uint32_t ssrc = Get32(buf + 8);
  uint32_t roc = RolloverFor(ssrc, seq);
  // RFC 7714 §8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR the session salt.
  uint8_t iv[12] = {0, 0};
  Put32(iv + 2, ssrc);
  Put32(iv + 6, roc);
  Put16(iv + 10, seq);
  for (size_t i = 0; i < 12; ++i) {
    iv[i] ^= session_salt_[i];
  }
  // EVP_Cipher goes straight to the provider's one-shot call (AAD when `out` is null, the tag
  // when `in` is): EVP_EncryptUpdate/Final add checks and bookkeeping per call.
  auto payload = static_cast<unsigned>(len - header);
  tag_param_[0].data = buf + len;
  if (EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, iv) != 1 ||
      EVP_Cipher(ctx_, nullptr, buf, static_cast<unsigned>(header)) < 0 ||
      EVP_Cipher(ctx_, buf + header, buf + header, payload) < 0 ||
      EVP_Cipher(ctx_, nullptr, nullptr, 0) < 0 ||
      EVP_CIPHER_CTX_get_params(ctx_, tag_param_) != 1) {
    return false;
  }
  len += kTagSize;
  return true;
}

}  // namespace ruche::rtc
