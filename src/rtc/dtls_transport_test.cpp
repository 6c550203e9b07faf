// DTLS-SRTP between Ruche's DtlsSession (server) and a plain OpenSSL DTLS client standing in for
// the browser: the handshake, the fingerprint check, the exported keys, and SRTP both ways.
#include "rtc/dtls_transport.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>
#include <deque>

#include "rtc/srtp_session.hpp"

namespace ruche::rtc {
namespace {

std::string FingerprintOf(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  std::string out;
  char hex[4];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof(hex), i == 0 ? "%02X" : ":%02X", md[i]);
    out += hex;
  }
  return out;
}

// A browser-like DTLS client with its own self-signed ECDSA certificate.
class Client {
 public:
  explicit Client(const char* srtp_profiles) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    cert_ = X509_new();
    X509_set_version(cert_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert_), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 86400);
    X509_set_pubkey(cert_, key);
    X509_sign(cert_, key, EVP_sha256());
    ctx_ = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_use_certificate(ctx_, cert_);
    SSL_CTX_use_PrivateKey(ctx_, key);
    SSL_CTX_set_tlsext_use_srtp(ctx_, srtp_profiles);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    EVP_PKEY_free(key);
    ssl_ = SSL_new(ctx_);
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in_, -1);
    SSL_set_bio(ssl_, in_, out_);
    SSL_set_connect_state(ssl_);
  }
  ~Client() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    X509_free(cert_);
  }
  std::string fingerprint() const { return FingerprintOf(cert_); }
  void Receive(std::span<const uint8_t> d) { BIO_write(in_, d.data(), static_cast<int>(d.size())); }
  bool Step() { return SSL_do_handshake(ssl_) == 1; }
  std::vector<uint8_t> TakeOutput() {
    std::vector<uint8_t> out(static_cast<size_t>(BIO_ctrl_pending(out_)));
    if (!out.empty()) {
      BIO_read(out_, out.data(), static_cast<int>(out.size()));
    }
    return out;
  }
  std::vector<uint8_t> Export(size_t n) {
    std::vector<uint8_t> m(n);
    SSL_export_keying_material(ssl_, m.data(), n, "EXTRACTOR-dtls_srtp", 19, nullptr, 0, 0);
    return m;
  }
  SSL* ssl() { return ssl_; }

 private:
  X509* cert_ = nullptr;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;
  BIO* out_ = nullptr;
};

// Runs the handshake to completion (or until nothing moves); the server's records are queued.
bool Handshake(Client& client, DtlsSession& server, std::deque<std::vector<uint8_t>>& to_client) {
  bool client_done = client.Step();
  for (int round = 0; round < 20; ++round) {
    auto records = client.TakeOutput();
    if (!records.empty()) {
      server.OnDatagram(records);
    }
    while (!to_client.empty()) {
      client.Receive(to_client.front());
      to_client.pop_front();
    }
    client_done = client.Step();
    if (client_done && server.state() == DtlsSession::State::kConnected) {
      return true;
    }
    if (server.state() == DtlsSession::State::kFailed) {
      return false;
    }
  }
  return false;
}

struct Fixture {
  std::shared_ptr<DtlsContext> context = *DtlsContext::Create();
  std::deque<std::vector<uint8_t>> to_client;
  std::unique_ptr<DtlsSession> Server(const std::string& fingerprint) {
    return *DtlsSession::Create(context, fingerprint, [this](std::span<const uint8_t> d) {
      to_client.emplace_back(d.begin(), d.end());
    });
  }
};

TEST(Dtls, ContextFingerprintIsSha256Hex) {
  auto ctx = DtlsContext::Create();
  ASSERT_TRUE(ctx);
  EXPECT_EQ((*ctx)->fingerprint().size(), 32u * 3 - 1);
  EXPECT_EQ((*ctx)->fingerprint()[2], ':');
}

TEST(Dtls, HandshakeExportsMatchingSrtpKeysAndSrtpFlowsBothWays) {
  Fixture f;
  Client client("SRTP_AES128_CM_SHA1_80");
  auto server = f.Server(client.fingerprint());
  ASSERT_TRUE(Handshake(client, *server, f.to_client)) << server->failure();
  const SrtpKeys& keys = server->keys();
  EXPECT_EQ(keys.profile, SrtpProfile::kAes128CmSha1_80);
  // RFC 5764 §4.2 layout from the client's side: client key, server key, client salt, server salt.
  auto m = client.Export(60);
  std::vector<uint8_t> client_key_salt(m.begin(), m.begin() + 16);
  client_key_salt.insert(client_key_salt.end(), m.begin() + 32, m.begin() + 46);
  std::vector<uint8_t> server_key_salt(m.begin() + 16, m.begin() + 32);
  server_key_salt.insert(server_key_salt.end(), m.begin() + 46, m.begin() + 60);
  EXPECT_EQ(keys.remote_key_salt, client_key_salt);
  EXPECT_EQ(keys.local_key_salt, server_key_salt);

  // The client protects with its key; Ruche's inbound session opens it.
  auto client_out =
      *SrtpSession::Create(keys.profile, client_key_salt, SrtpSession::Direction::kOutbound);
  auto ruche_in =
      *SrtpSession::Create(keys.profile, keys.remote_key_salt, SrtpSession::Direction::kInbound);
  uint8_t packet[200 + kSrtpTrailerRoom] = {0x80, 96, 0, 1, 0, 0, 0, 100, 0x11, 0x22, 0x33, 0x44};
  std::memset(packet + 12, 0xAB, 100);
  size_t len = 112;
  ASSERT_TRUE(client_out->ProtectRtp(packet, len));
  EXPECT_EQ(len, 112u + 10);  // HMAC-SHA1-80 tag
  uint8_t copy[sizeof(packet)];
  std::memcpy(copy, packet, len);
  size_t copy_len = len;
  ASSERT_TRUE(ruche_in->UnprotectRtp(packet, len));
  EXPECT_EQ(len, 112u);
  EXPECT_EQ(packet[12], 0xAB);
  // A replay is refused, and so is a tampered packet.
  EXPECT_FALSE(ruche_in->UnprotectRtp(copy, copy_len));
  copy[20] ^= 1;
  copy[3] = 2;
  EXPECT_FALSE(ruche_in->UnprotectRtp(copy, copy_len));
}

TEST(Dtls, PrefersAeadGcmWhenOffered) {
  Fixture f;
  Client client("SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM");
  auto server = f.Server(client.fingerprint());
  ASSERT_TRUE(Handshake(client, *server, f.to_client)) << server->failure();
  EXPECT_EQ(server->keys().profile, SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(server->keys().local_key_salt.size(), 28u);
}

TEST(Dtls, RefusesACertificateThatIsNotTheOneInTheSdp) {
  Fixture f;
  Client client("SRTP_AES128_CM_SHA1_80");
  Client other("SRTP_AES128_CM_SHA1_80");
  auto server = f.Server(other.fingerprint());
  EXPECT_FALSE(Handshake(client, *server, f.to_client));
  EXPECT_EQ(server->state(), DtlsSession::State::kFailed);
  EXPECT_NE(server->failure().find("fingerprint"), std::string::npos);
}

TEST(Dtls, AHandshakeThatOvertakesTheSdpIsVerifiedWhenTheFingerprintArrives) {
  // A browser answering Ruche's offer starts DTLS before its answer (and fingerprint) arrives.
  for (bool right : {true, false}) {
    Fixture f;
    Client client("SRTP_AES128_CM_SHA1_80");
    Client other("SRTP_AES128_CM_SHA1_80");
    auto server = f.Server("");
    EXPECT_FALSE(Handshake(client, *server, f.to_client));
    EXPECT_EQ(server->state(), DtlsSession::State::kVerifying);
    server->SetRemoteFingerprint(right ? client.fingerprint() : other.fingerprint());
    EXPECT_EQ(server->state(),
              right ? DtlsSession::State::kConnected : DtlsSession::State::kFailed);
    EXPECT_EQ(server->keys().local_key_salt.size(), right ? 30u : 0u);
  }
}

TEST(Dtls, GarbageDoesNotConnect) {
  Fixture f;
  auto server = f.Server("AA");
  std::vector<uint8_t> junk(300, 0x16);
  server->OnDatagram(junk);
  EXPECT_NE(server->state(), DtlsSession::State::kConnected);
}

TEST(Dtls, TwoSessionsClientAndServerAgreeOnMirroredKeys) {
  // The load client's role (bench/sfu_load): a DtlsSession as the client, against the SFU's.
  auto server_context = *DtlsContext::Create();
  auto client_context = *DtlsContext::Create();
  std::deque<std::vector<uint8_t>> to_server;
  std::deque<std::vector<uint8_t>> to_client;
  auto server = *DtlsSession::Create(
      server_context, client_context->fingerprint(),
      [&](std::span<const uint8_t> d) { to_client.emplace_back(d.begin(), d.end()); });
  auto client = *DtlsSession::Create(
      client_context, server_context->fingerprint(),
      [&](std::span<const uint8_t> d) { to_server.emplace_back(d.begin(), d.end()); },
      DtlsRole::kClient);
  server->Connect();  // a server sends nothing first
  EXPECT_TRUE(to_client.empty());
  client->Connect();
  ASSERT_FALSE(to_server.empty()) << "the client sent no ClientHello";
  for (int round = 0; round < 20 && !(to_server.empty() && to_client.empty()); ++round) {
    while (!to_server.empty()) {
      server->OnDatagram(to_server.front());
      to_server.pop_front();
    }
    while (!to_client.empty()) {
      client->OnDatagram(to_client.front());
      to_client.pop_front();
    }
  }
  ASSERT_EQ(client->state(), DtlsSession::State::kConnected) << client->failure();
  ASSERT_EQ(server->state(), DtlsSession::State::kConnected) << server->failure();
  EXPECT_EQ(client->keys().profile, SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(client->keys().local_key_salt, server->keys().remote_key_salt);
  EXPECT_EQ(client->keys().remote_key_salt, server->keys().local_key_salt);
  EXPECT_NE(client->keys().local_key_salt, client->keys().remote_key_salt);
}

}  // namespace
}  // namespace ruche::rtc
