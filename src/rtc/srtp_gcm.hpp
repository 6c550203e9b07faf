#pragma once
// Outbound SRTP with AEAD_AES_128_GCM (RFC 7714 §8) through OpenSSL's EVP: the forwarding path's
// encryption. Debian's libsrtp2 does AES-GCM through NSS, taking a lock and a heap allocation
// per packet (docs/benchmarks.md); OpenSSL's AES-NI/CLMUL code does the same work in place.
// Keys come from the DTLS-SRTP master key and salt through the SRTP KDF (RFC 3711 §4.3.1,
// AES-CM PRF; RFC 7714 §11 for the 96-bit salt). Inbound and SRTCP stay with libsrtp2.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>

struct evp_cipher_ctx_st;
struct ossl_param_st;

namespace ruche::rtc {

class SrtpGcmProtector {
 public:
  static constexpr size_t kMasterKeySaltSize = 28;  // 16-byte key, 12-byte salt
  static constexpr size_t kTagSize = 16;

  // nullptr when `master_key_salt` has the wrong size or OpenSSL refuses the cipher.
  static std::unique_ptr<SrtpGcmProtector> Create(std::span<const uint8_t> master_key_salt);
  ~SrtpGcmProtector();
  SrtpGcmProtector(const SrtpGcmProtector&) = delete;
  SrtpGcmProtector& operator=(const SrtpGcmProtector&) = delete;

  // Encrypts the RTP packet in `buf` in place and appends the tag: `buf` must have kTagSize
  // spare bytes. False (nothing changed) for a packet too short to be RTP.
  bool Protect(uint8_t* buf, size_t& len);

  // The session keys (tests compare them with RFC test vectors).
  std::span<const uint8_t> session_key() const { return session_key_; }
  std::span<const uint8_t> session_salt() const { return session_salt_; }

 private:
  SrtpGcmProtector() = default;
  // The rollover counter of each SSRC sent (RFC 3711 §3.3.1): the packet index is
  // ROC × 2^16 + SEQ, and retransmissions of old packets must reuse their ROC.
  struct Stream {
    uint32_t roc = 0;
    uint16_t highest = 0;
  };
  uint32_t RolloverFor(uint32_t ssrc, uint16_t seq);

  evp_cipher_ctx_st* ctx_ = nullptr;
  // The tag's output parameter, built once (its `data` is set per packet): OpenSSL 3's ctrl
  // call builds one per call, which showed in profiles.
  ossl_param_st* tag_param_ = nullptr;
  uint8_t session_key_[16];
  uint8_t session_salt_[12];
  // A subscriber's transport sends a handful of SSRCs (each track's media and RTX), interleaved
  // packet by packet: a linear scan of one cache line beats a hash lookup there (the lookup
  // was 3 % of the worker at 50 subscribers, mostly misses). More SSRCs than that (consumers
  // that came and went) go to the map.
  static constexpr size_t kInlineStreams = 16;
  uint32_t inline_ssrcs_[kInlineStreams];
  Stream inline_streams_[kInlineStreams];
  size_t inline_count_ = 0;
  std::unordered_map<uint32_t, Stream> more_streams_;
};

// The SRTP key derivation function (RFC 3711 §4.3.1, key derivation rate 0): `out.size()` bytes
// for `label` from a 16-byte master key and a master salt of up to 14 bytes (RFC 7714's 12-byte
// salt is used as its first 12 bytes, zero-padded). False when OpenSSL fails.
bool SrtpKdf(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt,
             uint8_t label, std::span<uint8_t> out);

}  // namespace ruche::rtc
