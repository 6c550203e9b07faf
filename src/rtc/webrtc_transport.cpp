#include "rtc/webrtc_transport.hpp"

#include <openssl/rand.h>

#include <algorithm>

#include "core/log.hpp"
#include "rtc/rtp_packet.hpp"
#include "rtc/stun_message.hpp"

namespace ruche::rtc {
namespace {

constexpr uint16_t kStunBindingRequest = 0x0001;

// RFC 7983 §7: the first byte tells STUN (0–3), DTLS (20–63) and RTP/RTCP (128–191) apart.
enum class PacketClass { kStun, kDtls, kRtp, kOther };
PacketClass Classify(std::span<const uint8_t> d) {
  if (d.empty()) {
    return PacketClass::kOther;
  }
  uint8_t b = d[0];
  if (b <= 3) {
    return PacketClass::kStun;
  }
  if (b >= 20 && b <= 63) {
    return PacketClass::kDtls;
  }
  if (b >= 128 && b <= 191) {
    return PacketClass::kRtp;
  }
  return PacketClass::kOther;
}

}  // namespace

std::string RandomIceString(size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out(length, 'A');
  std::vector<unsigned char> bytes(length);
  RAND_bytes(bytes.data(), static_cast<int>(length));
  for (size_t i = 0; i < length; ++i) {
    out[i] = kAlphabet[bytes[i] & 63];
  }
  return out;
}

WebRtcTransport::WebRtcTransport(TransportHost& host, TransportListener& listener,
                                 std::shared_ptr<DtlsContext> dtls_context, std::string local_ufrag,
                                 std::string local_pwd)
    : host_(host),
      listener_(listener),
      dtls_context_(std::move(dtls_context)),
      local_ufrag_(std::move(local_ufrag)),
      local_pwd_(std::move(local_pwd)) {}

WebRtcTransport::~WebRtcTransport() {
  for (auto& t : tuples_) {
    if (t.fd >= 0) {
      host_.CloseConnectedSocket(t.fd);
    }
  }
  host_.ForgetTransport(this);
}

void WebRtcTransport::SetRemote(std::string ufrag, std::string fingerprint) {
  remote_ufrag_ = std::move(ufrag);
  remote_fingerprint_ = std::move(fingerprint);
  if (dtls_ != nullptr && !connected() && !closed_) {
    dtls_->SetRemoteFingerprint(remote_fingerprint_);
    if (dtls_->state() == DtlsSession::State::kFailed) {
      Close(dtls_->failure());
    } else if (dtls_->state() == DtlsSession::State::kConnected) {
      StartSrtp();
    }
  }
}

WebRtcTransport::Tuple* WebRtcTransport::FindTuple(const SocketAddress& from, int tcp_fd) {
  for (auto& t : tuples_) {
    if (t.address == from && (t.tcp ? t.fd == tcp_fd : tcp_fd < 0)) {
      return &t;
    }
  }
  return nullptr;
}

bool WebRtcTransport::HasTcpPair(int fd) const {
  return std::any_of(tuples_.begin(), tuples_.end(),
                     [fd](const Tuple& t) { return t.tcp && t.fd == fd; });
}

void WebRtcTransport::OnTcpClosed(int fd) {
  for (size_t i = 0; i < tuples_.size(); ++i) {
    if (tuples_[i].tcp && tuples_[i].fd == fd) {
      tuples_.erase(tuples_.begin() + static_cast<std::ptrdiff_t>(i));
      // Nothing is sent until the browser nominates another pair (or consent runs out).
      int index = static_cast<int>(i);
      selected_ = selected_ == index ? -1 : selected_ > index ? selected_ - 1 : selected_;
      return;
    }
  }
}

void WebRtcTransport::OnDatagram(std::span<uint8_t> datagram, const SocketAddress& from,
                                 int tcp_fd) {
  if (closed_) {
    return;
  }
  WorkerStats::Bump(host_.stats().datagrams_in);
  WorkerStats::Bump(host_.stats().bytes_in, datagram.size());
  PacketClass cls = Classify(datagram);
  if (cls == PacketClass::kStun) {
    OnStun(datagram, from, tcp_fd);
    return;
  }
  // Everything else only from an address that passed a STUN check (RFC 8445 §7.3).
  if (FindTuple(from, tcp_fd) == nullptr) {
    WorkerStats::Bump(host_.stats().dropped_unauthenticated);
    return;
  }
  if (cls == PacketClass::kDtls) {
    if (dtls_ == nullptr) {
      auto s =
          DtlsSession::Create(dtls_context_, remote_fingerprint_,
                              [this](std::span<const uint8_t> record) { SendDatagram(record); });
      if (!s) {
        Close(s.error().message);
        return;
      }
      dtls_ = std::move(*s);
    }
    bool was_connected = dtls_->state() == DtlsSession::State::kConnected;
    dtls_->OnDatagram(datagram);
    if (dtls_->state() == DtlsSession::State::kFailed) {
      Close(dtls_->failure());
    } else if (dtls_->state() == DtlsSession::State::kClosed) {
      Close("the peer closed DTLS");
    } else if (!was_connected && dtls_->state() == DtlsSession::State::kConnected) {
      StartSrtp();
    }
    return;
  }
  if (cls != PacketClass::kRtp || srtp_in_ == nullptr || datagram.size() < 12) {
    WorkerStats::Bump(host_.stats().dropped_malformed);
    return;
  }
  size_t len = datagram.size();
  if (IsRtcpPacketType(datagram[1])) {
    if (!srtp_in_->UnprotectRtcp(datagram.data(), len)) {
      WorkerStats::Bump(host_.stats().dropped_undecryptable);
      return;
    }
    listener_.OnRtcp(*this, datagram.first(len));
    return;
  }
  // Simulated loss happens where a network's would: before decryption, so a retransmission
  // of a lost packet is not refused as a replay.
  if (host_.DropForTest()) {
    return;
  }
  if (!srtp_in_->UnprotectRtp(datagram.data(), len)) {
    WorkerStats::Bump(host_.stats().dropped_undecryptable);
    return;
  }
  auto packet = RtpPacket::Parse(datagram.first(len));
  if (!packet) {
    WorkerStats::Bump(host_.stats().dropped_malformed);
    return;
  }
  listener_.OnRtp(*this, *packet);
}

void WebRtcTransport::OnStun(std::span<const uint8_t> datagram, const SocketAddress& from,
                             int tcp_fd) {
  auto msg = ParseStun(datagram);
  if (!msg || msg->type != kStunBindingRequest) {
    WorkerStats::Bump(
        host_.stats().dropped_malformed);  // responses and indications: ICE-lite sends no checks
    return;
  }
  uint8_t response[512];
  // RFC 8489 §9.1.3: a request that fails the integrity check gets 401 and changes nothing.
  if (LocalUfragOf(msg->username) != local_ufrag_ || !msg->has_message_integrity ||
      !VerifyMessageIntegrity(datagram, *msg, local_pwd_) ||
      (msg->has_fingerprint && !VerifyFingerprint(datagram, *msg))) {
    WorkerStats::Bump(host_.stats().dropped_unauthenticated);
    size_t n = BuildBindingError(*msg, 401, "Unauthorized", response);
    if (n > 0) {
      SendOn(Tuple{from, tcp_fd, tcp_fd >= 0}, std::span<const uint8_t>(response, n));
    }
    return;
  }
  last_consent_ = Clock::now();
  Tuple* tuple = FindTuple(from, tcp_fd);
  if (tuple == nullptr) {
    if (tuples_.size() >= kMaxTuples) {
      WorkerStats::Bump(host_.stats().dropped_unauthenticated);
      return;
    }
    tuples_.push_back(Tuple{from, tcp_fd, tcp_fd >= 0});
    tuple = &tuples_.back();
    if (tcp_fd < 0) {
      host_.RouteTuple(from, this);
    }
  }
  size_t index = static_cast<size_t>(tuple - tuples_.data());
  // ICE-lite: the browser (controlling) nominates with USE-CANDIDATE (RFC 8445 §8.1.1); until it
  // does, the first authenticated address carries DTLS.
  if (msg->use_candidate || selected_ < 0) {
    selected_ = static_cast<int>(index);
    if (tuple->fd < 0) {
      tuple->fd = host_.OpenConnectedSocket(from, this);
    }
  }
  size_t n = BuildBindingSuccess(*msg, from.get(), local_pwd_, response);
  if (n > 0) {
    SendOn(*tuple, std::span<const uint8_t>(response, n));
  }
}

void WebRtcTransport::StartSrtp() {
  const SrtpKeys& keys = dtls_->keys();
  auto in =
      SrtpSession::Create(keys.profile, keys.remote_key_salt, SrtpSession::Direction::kInbound);
  auto out =
      SrtpSession::Create(keys.profile, keys.local_key_salt, SrtpSession::Direction::kOutbound);
  if (!in || !out) {
    Close("SRTP set-up failed");
    return;
  }
  srtp_in_ = std::move(*in);
  srtp_out_ = std::move(*out);
  listener_.OnTransportConnected(*this);
}

void WebRtcTransport::SendDatagram(std::span<const uint8_t> datagram) {
  if (selected_ < 0) {
    return;
  }
  SendOn(tuples_[static_cast<size_t>(selected_)], datagram);
}

void WebRtcTransport::SendOn(const Tuple& tuple, std::span<const uint8_t> datagram) {
  WorkerStats::Bump(host_.stats().datagrams_out);
  WorkerStats::Bump(host_.stats().bytes_out, datagram.size());
  // Same local port either way; the connected socket saves the kernel a route lookup.
  if (tuple.tcp) {
    host_.SendTcp(tuple.fd, datagram);
  } else if (tuple.fd >= 0) {
    host_.SendConnected(tuple.fd, datagram);
  } else {
    host_.SendTo(tuple.address, datagram);
  }
}

void WebRtcTransport::SendRtp(uint8_t* buf, size_t len) {
  if (srtp_out_ == nullptr || closed_) {
    return;
  }
  if (srtp_out_->ProtectRtp(buf, len) && !host_.DropForTest() && !OverTestEgress(len)) {
    SendDatagram(std::span<const uint8_t>(buf, len));
  }
}

bool WebRtcTransport::OverTestEgress(size_t len) {
  uint64_t bps = host_.test_egress_bitrate();
  if (bps == 0) {
    return false;
  }
  // A policer with a quarter second of burst, as a shaped access link drops.
  double rate = static_cast<double>(bps) / 8;
  if (test_egress_.Take(static_cast<double>(len), rate, rate / 4, Clock::now())) {
    return false;
  }
  WorkerStats::Bump(host_.stats().dropped_test_loss);
  return true;
}

void WebRtcTransport::SendRtcp(uint8_t* buf, size_t len) {
  if (srtp_out_ == nullptr || closed_) {
    return;
  }
  if (srtp_out_->ProtectRtcp(buf, len)) {
    SendDatagram(std::span<const uint8_t>(buf, len));
  }
}

void WebRtcTransport::OnTimer(Clock::time_point now) {
  if (closed_) {
    return;
  }
  if (dtls_ != nullptr) {
    dtls_->OnTimer();
    if (dtls_->state() == DtlsSession::State::kFailed) {
      Close(dtls_->failure());
      return;
    }
  }
  if (now - last_consent_ > kConsentTimeout) {
    Close("consent expired (no STUN check for 30 s)");
  }
}

void WebRtcTransport::Close(const std::string& reason) {
  if (closed_) {
    return;
  }
  closed_ = true;
  RUCHE_LOG_INFO("rtc: transport {} closed: {}", local_ufrag_, reason);
  listener_.OnTransportClosed(*this, reason);
}

}  // namespace ruche::rtc
