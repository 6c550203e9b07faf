// SRTP protect of a 1,100-byte video payload, as the forwarding path does once per packet per
// subscriber: Ruche's OpenSSL AES-GCM (what SrtpSession uses outbound with GCM) against Debian's
// libsrtp2 with the same profile and with AES_CM_128_HMAC_SHA1_80.
//   build-release/src/rtc/ruche_rtc_bench --benchmark_filter=Protect
#include <benchmark/benchmark.h>
#include <srtp2/srtp.h>

#include <cstring>
#include <vector>

#include "rtc/byte_order.hpp"
#include "rtc/srtp_gcm.hpp"
#include "rtc/srtp_session.hpp"

namespace ruche::rtc {
namespace {

constexpr size_t kPayload = 1100;

std::vector<uint8_t> KeySalt(size_t n) {
  std::vector<uint8_t> k(n);
  for (size_t i = 0; i < n; ++i) {
    k[i] = static_cast<uint8_t>(i * 13 + 1);
  }
  return k;
}

// A packet with a one-byte extension block, as forwarded packets carry; sequence `seq`.
size_t MakePacket(uint8_t* buf, uint16_t seq) {
  uint8_t header[20] = {0x90, 96, 0, 0, 0, 0, 0, 1, 0, 0, 0x12, 0x34, 0xBE, 0xDE, 0, 1, 0x10, 1};
  std::memcpy(buf, header, sizeof(header));
  Put16(buf + 2, seq);
  std::memset(buf + sizeof(header), 0x5A, kPayload);
  return sizeof(header) + kPayload;
}

void BM_ProtectOpensslGcm(benchmark::State& state) {
  auto p = SrtpGcmProtector::Create(KeySalt(28));
  std::vector<uint8_t> buf(1500 + kSrtpTrailerRoom);
  uint16_t seq = 0;
  for (auto _ : state) {
    size_t len = MakePacket(buf.data(), seq++);
    benchmark::DoNotOptimize(p->Protect(buf.data(), len));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPayload));
}
BENCHMARK(BM_ProtectOpensslGcm);

void ProtectLibsrtp(benchmark::State& state, bool gcm) {
  srtp_init();
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  std::vector<uint8_t> key;
  if (gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    key = KeySalt(28);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    key = KeySalt(30);
  }
  policy.ssrc.type = ssrc_any_outbound;
  policy.key = key.data();
  policy.window_size = 1024;
  policy.allow_repeat_tx = 1;
  srtp_t session = nullptr;
  if (srtp_create(&session, &policy) != srtp_err_status_ok) {
    state.SkipWithError("srtp_create failed");
    return;
  }
  std::vector<uint8_t> buf(1500 + kSrtpTrailerRoom);
  uint16_t seq = 0;
  for (auto _ : state) {
    int len = static_cast<int>(MakePacket(buf.data(), seq++));
    benchmark::DoNotOptimize(srtp_protect(session, buf.data(), &len));
  }
  srtp_dealloc(session);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPayload));
}
void BM_ProtectLibsrtpGcm(benchmark::State& state) { ProtectLibsrtp(state, true); }
void BM_ProtectLibsrtpAesCmSha1(benchmark::State& state) { ProtectLibsrtp(state, false); }
BENCHMARK(BM_ProtectLibsrtpGcm);
BENCHMARK(BM_ProtectLibsrtpAesCmSha1);

}  // namespace
}  // namespace ruche::rtc
