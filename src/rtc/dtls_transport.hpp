#pragma once
// DTLS 1.2 (RFC 6347) for DTLS-SRTP (RFC 5764) through OpenSSL 3, driven by datagrams rather than
// a socket: the transport hands records in, the session hands records out through a callback.
// The SFU is always the DTLS server (its SDP says setup:passive or actpass); the client role is
// for the SFU load client (bench/sfu_load), which speaks to other SFUs too. After the handshake
// the peer's certificate is checked against the fingerprint its SDP announced, and the SRTP
// keys are exported.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace ruche::rtc {

enum class SrtpProfile { kAes128CmSha1_80, kAeadAes128Gcm };
enum class DtlsRole { kServer, kClient };

struct SrtpKeys {
  SrtpProfile profile = SrtpProfile::kAes128CmSha1_80;
  std::vector<uint8_t> local_key_salt;   // protects what Ruche sends
  std::vector<uint8_t> remote_key_salt;  // unprotects what the peer sends
};

// The server's certificate (ECDSA P-256, self-signed, made at start-up) and the OpenSSL
// context every DTLS session shares. Thread-safe to share once built.
class DtlsContext {
 public:
  static Result<std::shared_ptr<DtlsContext>> Create();
  ~DtlsContext();
  DtlsContext(const DtlsContext&) = delete;
  DtlsContext& operator=(const DtlsContext&) = delete;

  // "AB:CD:…", the sha-256 of the certificate, for a=fingerprint.
  const std::string& fingerprint() const { return fingerprint_; }
  ssl_ctx_st* native() const { return ctx_; }

 private:
  DtlsContext() = default;
  ssl_ctx_st* ctx_ = nullptr;
  std::string fingerprint_;
};

class DtlsSession {
 public:
  // kVerifying: the handshake finished before the peer's SDP (with its fingerprint) reached
  // Ruche — a browser answering an offer starts DTLS at once, and UDP can overtake the
  // signalling WebSocket. The certificate is checked when the fingerprint arrives.
  enum class State { kWaiting, kConnecting, kVerifying, kConnected, kFailed, kClosed };
  using Clock = std::chrono::steady_clock;
  using SendRecord = std::function<void(std::span<const uint8_t>)>;

  // `remote_fingerprint` is the sha-256 from the peer's SDP ("AB:CD:…").
  static Result<std::unique_ptr<DtlsSession>> Create(std::shared_ptr<DtlsContext> context,
                                                     std::string remote_fingerprint,
                                                     SendRecord send,
                                                     DtlsRole role = DtlsRole::kServer);
  ~DtlsSession();
  DtlsSession(const DtlsSession&) = delete;
  DtlsSession& operator=(const DtlsSession&) = delete;

  // One received DTLS datagram (first byte 20..63, RFC 7983). Drives the handshake; after it,
  // application data and alerts (close_notify moves to kClosed).
  void OnDatagram(std::span<const uint8_t> datagram);
  // The client sends its first flight (ClientHello); a server waits for one. Call once the
  // path to the peer is up (after ICE).
  void Connect();
  // Retransmits handshake flights when OpenSSL's timer expired. Call every few tens of ms.
  void OnTimer();

  State state() const { return state_; }
  const std::string& failure() const { return failure_; }
  // Valid once state() == kConnected.
  const SrtpKeys& keys() const { return keys_; }
  // Sets the peer's expected fingerprint; in kVerifying, checks the certificate now (and moves
  // to kConnected or kFailed).
  void SetRemoteFingerprint(std::string fingerprint);

 private:
  DtlsSession() = default;
  void Fail(std::string why);
  bool CheckPeerAndExportKeys();
  bool ExportKeys();

  std::shared_ptr<DtlsContext> context_;
  std::string remote_fingerprint_;
  std::string peer_fingerprint_;  // of the certificate the peer presented
  SendRecord send_;
  ssl_st* ssl_ = nullptr;
  bio_st* in_ = nullptr;   // owned by ssl_
  bio_st* out_ = nullptr;  // owned by ssl_
  State state_ = State::kWaiting;
  DtlsRole role_ = DtlsRole::kServer;
  std::string failure_;
  SrtpKeys keys_;
};

}  // namespace ruche::rtc
