#pragma once
// One browser RTCPeerConnection's transport on Ruche's side: ICE-lite (answers STUN binding
// requests, learns and nominates the peer's address), DTLS (Ruche as server), then SRTP/SRTCP.
// A candidate pair is a UDP 5-tuple or an ICE-TCP connection (RFC 6544, Ruche passive); the
// layers above cannot tell them apart.
// Lives on one worker thread; every method runs there.
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rtc/dtls_transport.hpp"
#include "rtc/socket_address.hpp"
#include "rtc/srtp_session.hpp"
#include "rtc/token_bucket.hpp"
#include "rtc/worker_stats.hpp"

namespace ruche::rtc {

class RtpPacket;
class WebRtcTransport;

// What a transport needs from the worker that owns it (sockets and the demultiplexing tables).
class TransportHost {
 public:
  virtual ~TransportHost() = default;
  // Opens a socket on the media port connected to `peer`, so the kernel delivers that peer's
  // datagrams to this worker directly. Returns the socket or -1.
  virtual int OpenConnectedSocket(const SocketAddress& peer, WebRtcTransport* owner) = 0;
  // Closes a connected UDP socket, or an ICE-TCP connection the transport was given.
  virtual void CloseConnectedSocket(int fd) = 0;
  virtual void SendConnected(int fd, std::span<const uint8_t> datagram) = 0;
  // Sends one packet on an ICE-TCP connection (RFC 4571 framing added by the host).
  virtual void SendTcp(int fd, std::span<const uint8_t> packet) = 0;
  // Sends through the worker's unconnected socket on the media port.
  virtual void SendTo(const SocketAddress& peer, std::span<const uint8_t> datagram) = 0;
  // Datagrams from `peer` arriving on an unconnected socket go to `owner` from now on.
  virtual void RouteTuple(const SocketAddress& peer, WebRtcTransport* owner) = 0;
  virtual void ForgetTransport(WebRtcTransport* transport) = 0;
  virtual WorkerStats& stats() = 0;
  // Tests only (rtc_test_loss_percent): true for the share of media packets to lose.
  virtual bool DropForTest() = 0;
  // Tests only (rtc_test_subscriber_kbps): what each transport's outgoing RTP is policed to,
  // in bits per second; 0 for no limit.
  virtual uint64_t test_egress_bitrate() = 0;
};

// What a transport tells its owner (the participant it belongs to).
class TransportListener {
 public:
  virtual ~TransportListener() = default;
  virtual void OnTransportConnected(WebRtcTransport& transport) = 0;
  virtual void OnTransportClosed(WebRtcTransport& transport, const std::string& reason) = 0;
  // Decrypted RTP: `packet` is valid for the call only.
  virtual void OnRtp(WebRtcTransport& transport, RtpPacket& packet) = 0;
  // A decrypted compound RTCP packet.
  virtual void OnRtcp(WebRtcTransport& transport, std::span<const uint8_t> compound) = 0;
};

class WebRtcTransport {
 public:
  using Clock = std::chrono::steady_clock;
  // RFC 7675 §5.1: consent expires 30 s after the last authenticated check.
  static constexpr std::chrono::seconds kConsentTimeout{30};
  // How many distinct peer addresses one transport keeps (the browser's candidates).
  static constexpr size_t kMaxTuples = 8;

  WebRtcTransport(TransportHost& host, TransportListener& listener,
                  std::shared_ptr<DtlsContext> dtls_context, std::string local_ufrag,
                  std::string local_pwd);
  ~WebRtcTransport();
  WebRtcTransport(const WebRtcTransport&) = delete;
  WebRtcTransport& operator=(const WebRtcTransport&) = delete;

  const std::string& local_ufrag() const { return local_ufrag_; }
  const std::string& local_pwd() const { return local_pwd_; }
  // From the browser's SDP. Must be set before its first STUN check arrives.
  void SetRemote(std::string ufrag, std::string fingerprint);
  const std::string& remote_ufrag() const { return remote_ufrag_; }

  // One datagram from `from` (received on a connected or the unconnected socket), or one packet
  // from ICE-TCP connection `tcp_fd` (-1 for UDP).
  void OnDatagram(std::span<uint8_t> datagram, const SocketAddress& from, int tcp_fd = -1);
  // The peer closed ICE-TCP connection `fd` (or it failed): that candidate pair is gone.
  void OnTcpClosed(int fd);
  // Whether ICE-TCP connection `fd` passed a check and is one of this transport's pairs.
  bool HasTcpPair(int fd) const;
  // Called every few tens of ms: DTLS retransmissions, consent expiry.
  void OnTimer(Clock::time_point now);

  bool connected() const { return srtp_out_ != nullptr; }
  bool closed() const { return closed_; }
  // Encrypts in place (`buf` must have kSrtpTrailerRoom spare bytes) and sends to the
  // nominated address. Dropped while not connected.
  void SendRtp(uint8_t* buf, size_t len);
  void SendRtcp(uint8_t* buf, size_t len);

 private:
  struct Tuple {
    SocketAddress address;
    int fd = -1;  // connected UDP socket or ICE-TCP connection, or -1
    bool tcp = false;
  };
  void OnStun(std::span<const uint8_t> datagram, const SocketAddress& from, int tcp_fd);
  Tuple* FindTuple(const SocketAddress& from, int tcp_fd);
  void SendDatagram(std::span<const uint8_t> datagram);
  void SendOn(const Tuple& tuple, std::span<const uint8_t> datagram);
  void Close(const std::string& reason);
  void StartSrtp();
  bool OverTestEgress(size_t len);

  TransportHost& host_;
  TransportListener& listener_;
  std::shared_ptr<DtlsContext> dtls_context_;
  std::string local_ufrag_;
  std::string local_pwd_;
  std::string remote_ufrag_;
  std::string remote_fingerprint_;
  std::vector<Tuple> tuples_;  // authenticated addresses
  int selected_ = -1;          // index in tuples_ of the nominated one
  Clock::time_point last_consent_ = Clock::now();
  std::unique_ptr<DtlsSession> dtls_;
  std::unique_ptr<SrtpSession> srtp_in_;
  std::unique_ptr<SrtpSession> srtp_out_;
  bool closed_ = false;
  TokenBucket test_egress_;  // only with host_.test_egress_bitrate()
};

// A random ICE ufrag (`length` ice-chars, RFC 8839 §5.4).
std::string RandomIceString(size_t length);

}  // namespace ruche::rtc
