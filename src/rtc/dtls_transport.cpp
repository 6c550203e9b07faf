#include "rtc/dtls_transport.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace ruche::rtc {
namespace {

// What the DTLS layer may put in one datagram: safely under any path MTU with IP/UDP headers
// and TURN overhead (what browsers use too).
constexpr long kDtlsMtu = 1200;

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) {
    return "unknown OpenSSL error";
  }
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

std::string FormatFingerprint(const unsigned char* md, unsigned int len) {
  std::string out;
  out.reserve(len * 3);
  for (unsigned int i = 0; i < len; ++i) {
    out += fmt::format("{}{:02X}", i == 0 ? "" : ":", md[i]);
  }
  return out;
}

Result<std::string> CertificateFingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) {
    return Error::Internal("X509_digest: " + OpenSslError());
  }
  return FormatFingerprint(md, len);
}

// The write side of every DTLS session: a BIO that hands each write to the session's callback
// as one datagram, so OpenSSL's flight boundaries survive (a memory BIO would merge them).
BIO_METHOD* DatagramWriteMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ruche-dtls-out");
    BIO_meth_set_write(m, [](BIO* bio, const char* data, int len) -> int {
      auto* send = static_cast<DtlsSession::SendRecord*>(BIO_get_data(bio));
      if (send != nullptr && len > 0) {
        (*send)(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data),
                                         static_cast<size_t>(len)));
      }
      return len;
    });
    BIO_meth_set_ctrl(m, [](BIO*, int cmd, long, void*) -> long {
      switch (cmd) {
        case BIO_CTRL_FLUSH:
          return 1;
        case BIO_CTRL_DGRAM_QUERY_MTU:
        case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
          return kDtlsMtu;
        default:
          return 0;
      }
    });
    BIO_meth_set_create(m, [](BIO* bio) -> int {
      BIO_set_init(bio, 1);
      return 1;
    });
    return m;
  }();
  return method;
}

}  // namespace

Result<std::shared_ptr<DtlsContext>> DtlsContext::Create() {
  std::shared_ptr<DtlsContext> self(new DtlsContext());
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) {
    return Error::Internal("EC key generation: " + OpenSslError());
  }
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  uint64_t serial = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof(serial));
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), serial >> 1);
  // Browsers do not check validity dates of DTLS certificates (the fingerprint is what is
  // trusted), but keep them sane: valid from yesterday for 30 days, renewed at each start.
  X509_gmtime_adj(X509_getm_notBefore(cert), -86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 86400);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ruche"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  bool ok = X509_sign(cert, key, EVP_sha256()) > 0;
  auto fingerprint = CertificateFingerprint(cert);
  SSL_CTX* ctx = ok ? SSL_CTX_new(DTLS_method()) : nullptr;
  if (ctx != nullptr) {
    ok = SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) == 1 &&
         SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
         SSL_CTX_check_private_key(ctx) == 1 &&
         SSL_CTX_set_cipher_list(ctx,
                                 "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                 "ECDHE-ECDSA-CHACHA20-POLY1305") == 1 &&
         // RFC 5764 §4.1.2; 0 means success here. AEAD first: libsrtp does it ~4x cheaper.
         SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") == 0;
    // The peer's certificate is self-signed: it is trusted by its SDP fingerprint, checked
    // once the handshake is done, so the chain verification accepts anything here.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       [](int, X509_STORE_CTX*) { return 1; });
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
    SSL_CTX_set_read_ahead(ctx, 1);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok || ctx == nullptr || !fingerprint) {
    if (ctx != nullptr) {
      SSL_CTX_free(ctx);
    }
    return Error::Internal("DTLS context: " + OpenSslError());
  }
  self->ctx_ = ctx;
  self->fingerprint_ = std::move(*fingerprint);
  return self;
}

DtlsContext::~DtlsContext() {
  if (ctx_ != nullptr) {
    SSL_CTX_free(ctx_);
  }
}

Result<std::unique_ptr<DtlsSession>> DtlsSession::Create(std::shared_ptr<DtlsContext> context,
                                                         std::string remote_fingerprint,
                                                         SendRecord send, DtlsRole role) {
  std::unique_ptr<DtlsSession> s(new DtlsSession());
  s->role_ = role;
  s->context_ = std::move(context);
  s->remote_fingerprint_ = std::move(remote_fingerprint);
  s->send_ = std::move(send);
  s->ssl_ = SSL_new(s->context_->native());
  if (s->ssl_ == nullptr) {
    return Error::Internal("SSL_new: " + OpenSslError());
  }
  s->in_ = BIO_new(BIO_s_mem());
  s->out_ = BIO_new(DatagramWriteMethod());
  if (s->in_ == nullptr || s->out_ == nullptr) {
    return Error::Internal("BIO_new: " + OpenSslError());
  }
  BIO_set_mem_eof_return(s->in_, -1);  // an empty input means "wait", not EOF
  BIO_set_data(s->out_, &s->send_);
  SSL_set_bio(s->ssl_, s->in_, s->out_);
  if (role == DtlsRole::kClient) {
    SSL_set_connect_state(s->ssl_);
  } else {
    SSL_set_accept_state(s->ssl_);
  }
  SSL_set_mtu(s->ssl_, kDtlsMtu);
  DTLS_set_link_mtu(s->ssl_, kDtlsMtu);
  return s;
}

DtlsSession::~DtlsSession() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);  // frees both BIOs
  }
}

void DtlsSession::Fail(std::string why) {
  state_ = State::kFailed;
  failure_ = std::move(why);
  ERR_clear_error();
}

void DtlsSession::OnDatagram(std::span<const uint8_t> datagram) {
  if (state_ == State::kFailed || state_ == State::kClosed || datagram.empty()) {
    return;
  }
  (void)BIO_reset(in_);  // one datagram at a time: leftovers of a bad one are dropped
  if (BIO_write(in_, datagram.data(), static_cast<int>(datagram.size())) <= 0) {
    return;
  }
  if (state_ == State::kVerifying) {
    return;  // the handshake is done; nothing to read until the peer is verified
  }
  if (state_ != State::kConnected) {
    state_ = State::kConnecting;
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      if (CheckPeerAndExportKeys()) {
        state_ = State::kConnected;
      }
      return;
    }
    if (state_ == State::kVerifying) {
      return;
    }
    int err = SSL_get_error(ssl_, r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      Fail("DTLS handshake: " + OpenSslError());
    }
    return;
  }
  // After the handshake: no application data is expected; alerts are processed here.
  uint8_t scratch[2048];
  int r = SSL_read(ssl_, scratch, sizeof(scratch));
  if (r <= 0) {
    int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_ZERO_RETURN) {
      state_ = State::kClosed;  // close_notify
    } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      Fail("DTLS: " + OpenSslError());
    }
  }
  ERR_clear_error();
}

void DtlsSession::Connect() {
  if (role_ != DtlsRole::kClient || state_ != State::kWaiting) {
    return;
  }
  state_ = State::kConnecting;
  int r = SSL_do_handshake(ssl_);
  int err = SSL_get_error(ssl_, r);
  if (r != 1 && err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
    Fail("DTLS handshake: " + OpenSslError());
  }
}

void DtlsSession::OnTimer() {
  if (state_ != State::kConnecting) {
    return;
  }
  if (DTLSv1_handle_timeout(ssl_) < 0) {
    Fail("DTLS handshake timed out");
  }
}

void DtlsSession::SetRemoteFingerprint(std::string fingerprint) {
  remote_fingerprint_ = std::move(fingerprint);
  if (state_ != State::kVerifying) {
    return;
  }
  if (peer_fingerprint_ != remote_fingerprint_) {
    Fail("the peer's certificate does not match the fingerprint in its SDP");
  } else if (ExportKeys()) {
    state_ = State::kConnected;
  }
}

bool DtlsSession::CheckPeerAndExportKeys() {
  X509* peer = SSL_get1_peer_certificate(ssl_);
  if (peer == nullptr) {
    Fail("the peer sent no certificate");
    return false;
  }
  auto fp = CertificateFingerprint(peer);
  X509_free(peer);
  if (!fp) {
    Fail(fp.error().message);
    return false;
  }
  peer_fingerprint_ = std::move(*fp);
  if (remote_fingerprint_.empty()) {
    state_ = State::kVerifying;  // SetRemoteFingerprint() finishes the job
    return false;
  }
  if (peer_fingerprint_ != remote_fingerprint_) {
    Fail("the peer's certificate does not match the fingerprint in its SDP");
    return false;
  }
  return ExportKeys();
}

bool DtlsSession::ExportKeys() {
  const SRTP_PROTECTION_PROFILE* profile = SSL_get_selected_srtp_profile(ssl_);
  if (profile == nullptr) {
    Fail("no SRTP profile was negotiated (use_srtp)");
    return false;
  }
  size_t key_len = 16;
  size_t salt_len = 0;
  if (profile->id == SRTP_AES128_CM_SHA1_80) {
    keys_.profile = SrtpProfile::kAes128CmSha1_80;
    salt_len = 14;
  } else if (profile->id == SRTP_AEAD_AES_128_GCM) {
    keys_.profile = SrtpProfile::kAeadAes128Gcm;
    salt_len = 12;
  } else {
    Fail("unsupported SRTP profile");
    return false;
  }
  // RFC 5764 §4.2: client key | server key | client salt | server salt.
  std::vector<uint8_t> material(2 * (key_len + salt_len));
  static constexpr char kLabel[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(ssl_, material.data(), material.size(), kLabel, sizeof(kLabel) - 1,
                                 nullptr, 0, 0) != 1) {
    Fail("SRTP key export: " + OpenSslError());
    return false;
  }
  const uint8_t* client_key = material.data();
  const uint8_t* server_key = client_key + key_len;
  const uint8_t* client_salt = server_key + key_len;
  const uint8_t* server_salt = client_salt + salt_len;
  // Each side sends with its own role's key and receives with the other's.
  const bool server = role_ == DtlsRole::kServer;
  const uint8_t* local_key = server ? server_key : client_key;
  const uint8_t* local_salt = server ? server_salt : client_salt;
  const uint8_t* remote_key = server ? client_key : server_key;
  const uint8_t* remote_salt = server ? client_salt : server_salt;
  keys_.local_key_salt.assign(local_key, local_key + key_len);
  keys_.local_key_salt.insert(keys_.local_key_salt.end(), local_salt, local_salt + salt_len);
  keys_.remote_key_salt.assign(remote_key, remote_key + key_len);
  keys_.remote_key_salt.insert(keys_.remote_key_salt.end(), remote_salt, remote_salt + salt_len);
  return true;
}

}  // namespace ruche::rtc
