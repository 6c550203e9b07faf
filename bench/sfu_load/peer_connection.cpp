#include "peer_connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>

#include "rtc/byte_order.hpp"
#include "rtc/rtcp_packet.hpp"
#include "rtc/rtp_packet.hpp"
#include "rtc/sdp.hpp"
#include "rtc/stun_message.hpp"

namespace ruche::bench {
namespace {

constexpr int64_t kCheckEveryNs = 50'000'000;       // until a path works
constexpr int64_t kConsentEveryNs = 2'000'000'000;  // then (RFC 7675 asks for < 5 s or so)
constexpr int64_t kDtlsTimerNs = 20'000'000;
constexpr int64_t kGiveUpNs = 15'000'000'000;     // ICE, as browsers roughly do
constexpr int64_t kFrameNs = 1'000'000'000 / 30;  // 30 fps
constexpr int64_t kAudioNs = 20'000'000;          // one Opus frame per 20 ms
constexpr uint64_t kKeyFrameEvery = 60;           // frames: one key frame every 2 s
constexpr size_t kMaxPayload = 1100;              // per RTP packet, under the path MTU
constexpr size_t kAudioPayload = 80;              // a 32 kbit/s Opus frame
constexpr uint32_t kHostPriority = (126u << 24) | (65535u << 8) | 255u;
constexpr uint32_t kCheckPriority = (110u << 24) | (65535u << 8) | 255u;  // peer-reflexive

std::string RandomToken(size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out(n, 'a');
  std::vector<uint8_t> bytes(n);
  RAND_bytes(bytes.data(), static_cast<int>(n));
  for (size_t i = 0; i < n; ++i) {
    out[i] = kAlphabet[bytes[i] % 64];
  }
  return out;
}

uint32_t RandomU32() {
  uint32_t v = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof(v));
  return v | 1;
}

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "sfu_load: %s\n", why.c_str());
  std::exit(1);
}

void Put64(uint8_t* p, uint64_t v) {
  rtc::Put32(p, static_cast<uint32_t>(v >> 32));
  rtc::Put32(p + 4, static_cast<uint32_t>(v));
}

uint64_t Get64(const uint8_t* p) {
  return static_cast<uint64_t>(rtc::Get32(p)) << 32 | rtc::Get32(p + 4);
}

// When the kernel received the datagram (SO_TIMESTAMPNS): the client's own delay in reading
// its sockets is then not counted as the SFU's.
int64_t ArrivalNs(msghdr& header) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
      return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
  }
  return NowNs();
}

bool SameAddress(const sockaddr_in& a, const sockaddr_in& b) {
  return a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port;
}

}  // namespace

int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);  // the clock of the kernel's receive time stamps
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

PeerConnection::PeerConnection(std::string name, Role role, const std::string& bind_ip,
                               std::shared_ptr<rtc::DtlsContext> dtls_context)
    : name_(std::move(name)),
      role_(role),
      ufrag_(RandomToken(8)),
      pwd_(RandomToken(24)),
      dtls_context_(std::move(dtls_context)) {
  RAND_bytes(reinterpret_cast<unsigned char*>(&tie_breaker_), sizeof(tie_breaker_));
  fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    Die(fmt::format("socket: {}", std::strerror(errno)));
  }
  // A subscriber may take hundreds of packets in one burst (every publisher's key frame).
  int size = 4 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
  setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
  int on = 1;
  setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
  local_.sin_family = AF_INET;
  if (inet_pton(AF_INET, bind_ip.c_str(), &local_.sin_addr) != 1) {
    Die("bad --bind address " + bind_ip);
  }
  if (bind(fd_, reinterpret_cast<sockaddr*>(&local_), sizeof(local_)) != 0) {
    Die(fmt::format("bind {}: {}", bind_ip, std::strerror(errno)));
  }
  socklen_t len = sizeof(local_);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&local_), &len);
  audio_ssrc_ = RandomU32();
  video_ssrc_ = RandomU32();
  audio_seq_ = static_cast<uint16_t>(RandomU32());
  video_seq_ = static_cast<uint16_t>(RandomU32());
}

PeerConnection::~PeerConnection() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

void PeerConnection::Fail(std::string why) {
  if (failure_.empty()) {
    failure_ = std::move(why);
  }
}

std::string PeerConnection::TransportLines() const {
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &local_.sin_addr, ip, sizeof(ip));
  std::string out = "c=IN IP4 0.0.0.0\r\n";
  out += fmt::format("a=candidate:1 1 udp {} {} {} typ host\r\n", kHostPriority, ip,
                     ntohs(local_.sin_port));
  out += "a=end-of-candidates\r\n";
  out += fmt::format("a=ice-ufrag:{}\r\na=ice-pwd:{}\r\n", ufrag_, pwd_);
  out += fmt::format("a=fingerprint:sha-256 {}\r\n", dtls_context_->fingerprint());
  out += role_ == Role::kPublisher ? "a=setup:actpass\r\n" : "a=setup:active\r\n";
  out += "a=rtcp-mux\r\n";
  return out;
}

std::string PeerConnection::CreateOffer() {
  std::string stream = "load-" + name_;
  std::string sdp = fmt::format(
      "v=0\r\no=- {} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
      "a=msid-semantic: WMS {}\r\n",
      RandomU32(), stream);
  sdp += fmt::format("m=audio 9 UDP/TLS/RTP/SAVPF {}\r\n", audio_pt_) + TransportLines();
  sdp += fmt::format(
      "a=mid:0\r\na=extmap:{} {}\r\na=extmap:{} {}\r\na=sendonly\r\na=msid:{} {}-audio\r\n"
      "a=rtpmap:{} opus/48000/2\r\na=fmtp:{} minptime=10;useinbandfec=1\r\n"
      "a=ssrc:{} cname:{}\r\na=ssrc:{} msid:{} {}-audio\r\n",
      level_ext_, rtc::kExtAudioLevel, mid_ext_, rtc::kExtMid, stream, stream, audio_pt_, audio_pt_,
      audio_ssrc_, stream, audio_ssrc_, stream, stream);
  sdp += fmt::format("m=video 9 UDP/TLS/RTP/SAVPF {}\r\n", video_pt_) + TransportLines();
  sdp += fmt::format(
      "a=mid:1\r\na=extmap:{} {}\r\na=sendonly\r\na=msid:{} {}-video\r\na=rtcp-rsize\r\n"
      "a=rtpmap:{} VP8/90000\r\na=rtcp-fb:{} goog-remb\r\na=rtcp-fb:{} ccm fir\r\n"
      "a=rtcp-fb:{} nack\r\na=rtcp-fb:{} nack pli\r\n"
      "a=ssrc:{} cname:{}\r\na=ssrc:{} msid:{} {}-video\r\n",
      mid_ext_, rtc::kExtMid, stream, stream, video_pt_, video_pt_, video_pt_, video_pt_, video_pt_,
      video_ssrc_, stream, video_ssrc_, stream, stream);
  return sdp;
}

void PeerConnection::ParseRemote(const std::string& sdp, bool offer) {
  remote_lite_ = sdp.find("a=ice-lite") != std::string::npos;
  // RFC 8445 §6.1.1: against an ICE-lite agent the full agent controls; otherwise the offerer.
  controlling_ = remote_lite_ || !offer;
  std::istringstream lines(sdp);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.rfind("a=candidate:", 0) == 0) {
      AddRemoteCandidate(line.substr(2));
    }
  }
}

void PeerConnection::AddRemoteCandidate(const std::string& line) {
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …
  std::istringstream in(line);
  std::string foundation;
  std::string transport;
  std::string address;
  std::string typ;
  std::string type;
  unsigned component = 0;
  uint32_t priority = 0;
  unsigned port = 0;
  in >> foundation >> component >> transport >> priority >> address >> port >> typ >> type;
  if (!in || component != 1 || (transport != "udp" && transport != "UDP") || port == 0 ||
      port > 65535) {
    return;  // TCP, RTCP component, or not understood
  }
  Candidate c;
  c.address.sin_family = AF_INET;
  c.address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.c_str(), &c.address.sin_addr) != 1) {
    return;  // IPv6 or a hostname: the benchmark's namespace is IPv4
  }
  c.priority = priority;
  for (const Candidate& known : candidates_) {
    if (SameAddress(known.address, c.address)) {
      return;
    }
  }
  candidates_.push_back(c);
  next_check_ns_ = 0;  // check it now
}

std::string PeerConnection::SetAnswer(const std::string& sdp) {
  auto parsed = rtc::ParseSdp(sdp);
  if (!parsed) {
    return "the answer does not parse: " + parsed.error().message;
  }
  remote_ufrag_ = parsed->ice_ufrag;
  remote_pwd_ = parsed->ice_pwd;
  remote_fingerprint_ = parsed->fingerprint;
  remote_setup_ = parsed->setup;
  for (const rtc::MediaSection& m : parsed->media) {
    // Payload types and extension ids are the answer's to use (normally the offer's).
    for (const rtc::Codec& c : m.codecs) {
      if (m.kind == rtc::MediaKind::kAudio && c.name == "opus") {
        audio_pt_ = c.payload_type;
      } else if (m.kind == rtc::MediaKind::kVideo && c.name == "VP8") {
        video_pt_ = c.payload_type;
      }
    }
    if (uint8_t id = m.ExtensionId(rtc::kExtMid); id != 0) {
      mid_ext_ = id;
    }
    if (uint8_t id = m.ExtensionId(rtc::kExtAudioLevel); id != 0) {
      level_ext_ = id;
    }
  }
  ParseRemote(sdp, /*offer=*/false);
  if (candidates_.empty()) {
    return "the answer has no usable IPv4 UDP candidate";
  }
  return "";
}

std::string PeerConnection::AnswerOffer(const std::string& sdp, std::string& error) {
  auto parsed = rtc::ParseSdp(sdp);
  if (!parsed) {
    error = "the offer does not parse: " + parsed.error().message;
    return "";
  }
  bool first = remote_ufrag_.empty();
  if (!first && parsed->ice_ufrag != remote_ufrag_) {
    error = "an ICE restart is not supported";
    return "";
  }
  remote_ufrag_ = parsed->ice_ufrag;
  remote_pwd_ = parsed->ice_pwd;
  remote_fingerprint_ = parsed->fingerprint;
  remote_setup_ = parsed->setup;
  if (dtls_) {
    dtls_->SetRemoteFingerprint(remote_fingerprint_);
  }
  if (first) {
    ParseRemote(sdp, /*offer=*/true);
  }
  std::string mids;
  std::string body;
  for (const rtc::MediaSection& m : parsed->media) {
    const rtc::Codec* chosen = nullptr;
    for (const rtc::Codec& c : m.codecs) {
      if (c.name != "rtx" && c.name != "red" && c.name != "ulpfec" && c.name != "flexfec-03") {
        chosen = &c;
        break;
      }
    }
    std::string kind(rtc::MediaKindName(m.kind));
    if (m.rejected || chosen == nullptr) {
      body += fmt::format("m={} 0 UDP/TLS/RTP/SAVPF {}\r\nc=IN IP4 0.0.0.0\r\na=mid:{}\r\n", kind,
                          m.codecs.empty() ? 0 : m.codecs.front().payload_type, m.mid);
      continue;
    }
    mids += " " + m.mid;
    body += fmt::format("m={} 9 UDP/TLS/RTP/SAVPF {}\r\n", kind, chosen->payload_type);
    body += TransportLines();
    body += fmt::format("a=mid:{}\r\n", m.mid);
    if (uint8_t id = m.ExtensionId(rtc::kExtMid); id != 0) {
      body += fmt::format("a=extmap:{} {}\r\n", id, rtc::kExtMid);
    }
    body += m.direction == "inactive" || m.direction == "recvonly" ? "a=inactive\r\n"
                                                                   : "a=recvonly\r\n";
    body +=
        fmt::format("a=rtpmap:{} {}/{}", chosen->payload_type, chosen->name, chosen->clock_rate);
    body += chosen->channels > 1 ? fmt::format("/{}\r\n", chosen->channels) : "\r\n";
    if (!chosen->fmtp.empty()) {
      body += fmt::format("a=fmtp:{} {}\r\n", chosen->payload_type, chosen->fmtp);
    }
    for (const std::string& fb : chosen->feedback) {
      if (fb == "nack" || fb == "nack pli" || fb == "ccm fir") {
        body += fmt::format("a=rtcp-fb:{} {}\r\n", chosen->payload_type, fb);
      }
    }
  }
  return fmt::format("v=0\r\no=- {} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE{}\r\n",
                     RandomU32(), mids) +
         body;
}

void PeerConnection::SendCheck(const Candidate& to) {
  rtc::BindingRequest request;
  RAND_bytes(request.transaction_id.data(), static_cast<int>(request.transaction_id.size()));
  std::string username = remote_ufrag_ + ":" + ufrag_;
  request.username = username;
  request.password = remote_pwd_;
  request.priority = kCheckPriority;
  request.controlling = controlling_;
  request.tie_breaker = tie_breaker_;
  request.use_candidate = controlling_;  // aggressive nomination
  uint8_t out[rtc::kMaxStunMessage];
  size_t n = rtc::BuildBindingRequest(request, out);
  if (n == 0) {
    Fail("could not build a connectivity check");
    return;
  }
  last_transaction_ = request.transaction_id;
  sendto(fd_, out, n, 0, reinterpret_cast<const sockaddr*>(&to.address), sizeof(to.address));
}

void PeerConnection::HandleStun(const uint8_t* data, size_t len, const sockaddr_in& from) {
  std::span<const uint8_t> bytes(data, len);
  auto message = rtc::ParseStun(bytes);
  if (!message) {
    return;
  }
  if (message->type == 0x0001) {  // a check from the SFU (a full agent: Janus)
    if (!rtc::VerifyMessageIntegrity(bytes, *message, pwd_)) {
      return;
    }
    uint8_t out[rtc::kMaxStunMessage];
    size_t n =
        rtc::BuildBindingSuccess(*message, reinterpret_cast<const sockaddr*>(&from), pwd_, out);
    sendto(fd_, out, n, 0, reinterpret_cast<const sockaddr*>(&from), sizeof(from));
    if (!have_path_ && (message->use_candidate || !controlling_)) {
      // A controlled agent's path is the one the controlling side nominates; a check from an
      // address also proves the path works both ways.
      have_path_ = true;
      path_ = from;
      StartDtls();
    }
    return;
  }
  if (message->type == 0x0101 && message->transaction_id == last_transaction_) {
    if (!rtc::VerifyMessageIntegrity(bytes, *message, remote_pwd_)) {
      return;
    }
    if (!have_path_) {
      have_path_ = true;
      path_ = from;
      StartDtls();
    }
  } else if (message->type == 0x0111 && message->transaction_id == last_transaction_) {
    // E.g. 401 when the check overtook the SFU's own set-up of this connection (the offer is
    // sent before the worker knows the ufrag): a browser retries, and so does this client
    // until kGiveUpNs.
    check_errors_++;
  }
}

void PeerConnection::StartDtls() {
  if (dtls_) {
    return;
  }
  // The SFU's setup: passive (or actpass, when it offered) → this side is the DTLS client.
  bool client = remote_setup_ != "active";
  auto session = rtc::DtlsSession::Create(
      dtls_context_, remote_fingerprint_,
      [this](std::span<const uint8_t> record) {
        if (have_path_) {
          sendto(fd_, record.data(), record.size(), 0, reinterpret_cast<const sockaddr*>(&path_),
                 sizeof(path_));
        }
      },
      client ? rtc::DtlsRole::kClient : rtc::DtlsRole::kServer);
  if (!session) {
    Fail("DTLS: " + session.error().message);
    return;
  }
  dtls_ = std::move(*session);
  dtls_->Connect();
  OnDtlsProgress();
}

void PeerConnection::OnDtlsProgress() {
  if (!dtls_ || srtp_out_) {
    return;
  }
  if (dtls_->state() == rtc::DtlsSession::State::kFailed) {
    Fail("DTLS: " + dtls_->failure());
    return;
  }
  if (dtls_->state() != rtc::DtlsSession::State::kConnected) {
    return;
  }
  const rtc::SrtpKeys& keys = dtls_->keys();
  auto out = rtc::SrtpSession::Create(keys.profile, keys.local_key_salt,
                                      rtc::SrtpSession::Direction::kOutbound);
  auto in = rtc::SrtpSession::Create(keys.profile, keys.remote_key_salt,
                                     rtc::SrtpSession::Direction::kInbound);
  if (!out || !in) {
    Fail("SRTP sessions could not be made");
    return;
  }
  srtp_out_ = std::move(*out);
  srtp_in_ = std::move(*in);
  connected_event_ = true;
}

bool PeerConnection::TakeConnectedEvent() {
  bool was = connected_event_;
  connected_event_ = false;
  return was;
}

void PeerConnection::OnTimer(int64_t now_ns) {
  if (remote_ufrag_.empty() || failed()) {
    return;
  }
  if (first_check_ns_ == 0) {
    first_check_ns_ = now_ns;
  }
  if (!have_path_ && now_ns - first_check_ns_ > kGiveUpNs) {
    Fail(fmt::format("no ICE path within {} s ({} checks refused)", kGiveUpNs / 1'000'000'000,
                     check_errors_));
    return;
  }
  if (now_ns >= next_check_ns_) {
    if (have_path_) {
      Candidate path;
      path.address = path_;
      SendCheck(path);  // consent freshness
      next_check_ns_ = now_ns + kConsentEveryNs;
    } else {
      for (const Candidate& c : candidates_) {
        SendCheck(c);
      }
      next_check_ns_ = now_ns + kCheckEveryNs;
    }
  }
  if (dtls_ && !srtp_out_ && now_ns >= next_dtls_timer_ns_) {
    dtls_->OnTimer();
    next_dtls_timer_ns_ = now_ns + kDtlsTimerNs;
    OnDtlsProgress();
  }
}

void PeerConnection::OnReadable(ReceiveStats& receive, SendStats& send, uint32_t sample_every) {
  constexpr int kBatch = 64;
  constexpr size_t kBufSize = 1500 + rtc::kSrtpTrailerRoom;
  static uint8_t buffers[kBatch][kBufSize];
  static sockaddr_in addrs[kBatch];
  static iovec iov[kBatch];
  static mmsghdr msgs[kBatch];
  static uint8_t controls[kBatch][CMSG_SPACE(sizeof(timespec))];
  for (;;) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {buffers[i], 1500};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
      msgs[i].msg_hdr.msg_control = controls[i];
      msgs[i].msg_hdr.msg_controllen = sizeof(controls[i]);
    }
    int n = recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      return;
    }
    for (int i = 0; i < n; ++i) {
      uint8_t* data = buffers[i];
      size_t len = msgs[i].msg_len;
      if (len == 0) {
        continue;
      }
      uint8_t first = data[0];
      if (first < 2) {
        HandleStun(data, len, addrs[i]);
      } else if (first >= 20 && first <= 63) {
        if (dtls_) {
          dtls_->OnDatagram(std::span<const uint8_t>(data, len));
          OnDtlsProgress();
        } else if (!have_path_) {
          // The SFU's ClientHello overtook the check's answer: the path works.
          have_path_ = true;
          path_ = addrs[i];
          StartDtls();
          if (dtls_) {
            dtls_->OnDatagram(std::span<const uint8_t>(data, len));
            OnDtlsProgress();
          }
        }
      } else if (first >= 128 && first <= 191 && srtp_in_) {
        if (rtc::IsRtcpPacketType(data[1])) {
          receive.rtcp_packets++;
          if (srtp_in_->UnprotectRtcp(data, len)) {
            HandleRtcp(data, len, send);
          }
          continue;
        }
        receive.packets++;
        receive.bytes += len;
        // Decrypting every packet would make the client as busy as the server: a sample is
        // opened (checking the SFU's encryption) and its send time read from the payload's end.
        if (received_rtp_++ % sample_every != 0) {
          continue;
        }
        if (!srtp_in_->UnprotectRtp(data, len)) {
          receive.decrypt_failures++;
          continue;
        }
        auto packet = rtc::RtpPacket::Parse(std::span<uint8_t>(data, len));
        if (packet && packet->payload().size() >= 8) {
          auto payload = packet->payload();
          int64_t sent = static_cast<int64_t>(Get64(payload.data() + payload.size() - 8));
          int64_t delay = ArrivalNs(msgs[i].msg_hdr) - sent;
          if (delay >= 0 && delay < 10'000'000'000) {
            receive.latency_ns.push_back(delay);
          }
        }
      }
    }
    if (n < kBatch) {
      return;
    }
  }
}

void PeerConnection::HandleRtcp(uint8_t* data, size_t len, SendStats& send) {
  rtc::ForEachRtcpPacket(std::span<const uint8_t>(data, len), [&](const rtc::RtcpPacketView& p) {
    if (rtc::IsPictureLossIndication(p) || rtc::IsFullIntraRequest(p)) {
      send.key_frame_requests++;
      key_frame_wanted_ = true;
    } else if (rtc::IsGenericNack(p)) {
      send.nacks++;  // not answered: the benchmark's path loses nothing
    }
  });
}

void PeerConnection::StartMedia(int64_t start_ns) {
  if (role_ == Role::kPublisher && !media_started_) {
    media_started_ = true;
    media_start_ns_ = start_ns;
  }
}

void PeerConnection::SendRtp(uint8_t* packet, size_t len, SendStats& stats) {
  if (!srtp_out_->ProtectRtp(packet, len)) {
    Fail("SRTP protect failed");
    return;
  }
  if (sendto(fd_, packet, len, 0, reinterpret_cast<const sockaddr*>(&path_), sizeof(path_)) > 0) {
    stats.packets++;
    stats.bytes += len;
  }
}

// RTP header with a one-byte-header extension block (RFC 8285): mid, and the audio level for
// Opus. Returns the header's size.
static size_t WriteHeader(uint8_t* p, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                          uint32_t ssrc, uint8_t mid_ext, char mid, uint8_t level_ext) {
  p[0] = 0x90;  // V=2, X=1
  p[1] = static_cast<uint8_t>(pt | (marker ? 0x80 : 0));
  rtc::Put16(p + 2, seq);
  rtc::Put32(p + 4, ts);
  rtc::Put32(p + 8, ssrc);
  p[12] = 0xBE;
  p[13] = 0xDE;
  uint8_t* ext = p + 16;
  size_t at = 0;
  ext[at++] = static_cast<uint8_t>(mid_ext << 4);  // length 1 byte (L = 0)
  ext[at++] = static_cast<uint8_t>(mid);
  if (level_ext != 0) {
    ext[at++] = static_cast<uint8_t>(level_ext << 4);
    ext[at++] = 0x80 | 30;  // voice activity, -30 dBov
  }
  while (at % 4 != 0) {
    ext[at++] = 0;
  }
  rtc::Put16(p + 14, static_cast<uint16_t>(at / 4));
  return 16 + at;
}

void PeerConnection::SendVideoFrame(bool key, uint32_t video_kbps, SendStats& stats) {
  size_t frame_bytes = static_cast<size_t>(video_kbps) * 1000 / 8 / 30;
  if (key) {
    frame_bytes *= 3;
    stats.key_frames++;
  }
  PendingFrame frame;
  frame.key = key;
  frame.packets = (frame_bytes + kMaxPayload - 1) / kMaxPayload;
  frame.per_packet = std::max<size_t>(frame_bytes / frame.packets, 24);
  frame.timestamp = static_cast<uint32_t>(video_frames_ * 3000);  // 90 kHz clock
  pending_frames_.push_back(frame);
  video_frames_++;
  if (pacing_factor_ <= 0) {
    while (!pending_frames_.empty()) {
      SendVideoPacket(stats);
    }
  }
}

void PeerConnection::SendVideoPacket(SendStats& stats) {
  PendingFrame& f = pending_frames_.front();
  size_t i = f.sent;
  uint8_t buf[1500 + rtc::kSrtpTrailerRoom];
  size_t at = WriteHeader(buf, video_pt_, i + 1 == f.packets, video_seq_++,
                          f.timestamp + video_ssrc_, video_ssrc_, mid_ext_, '1', 0);
  uint8_t* payload = buf + at;
  size_t size = f.per_packet;
  std::memset(payload, 0x5A, size);
  // VP8 payload descriptor (RFC 7741 §4.2): S=1 on the first packet of the frame, PID 0.
  payload[0] = i == 0 ? 0x10 : 0x00;
  if (i == 0) {
    // VP8 frame tag (RFC 6386 §9.1): P=0 for a key frame, then the start code and 1280×720.
    payload[1] = f.key ? 0x10 : 0x11;
    payload[2] = 0x00;
    payload[3] = 0x00;
    if (f.key) {
      payload[4] = 0x9D;
      payload[5] = 0x01;
      payload[6] = 0x2A;
      payload[7] = 1280 & 0xFF;
      payload[8] = 1280 >> 8;
      payload[9] = 720 & 0xFF;
      payload[10] = 720 >> 8;
    }
  }
  // The send time, read by subscribers: stamped as the packet leaves, after any pacing.
  Put64(payload + size - 8, static_cast<uint64_t>(NowNs()));
  SendRtp(buf, at + size, stats);
  if (++f.sent == f.packets) {
    pending_frames_.pop_front();
  }
}

void PeerConnection::SendPacedVideo(int64_t now_ns, uint32_t video_kbps, SendStats& stats) {
  // A leaky bucket in bytes: filled at the pacing rate, at most 5 ms of it at once.
  double bytes_per_ns = pacing_factor_ * video_kbps * 1000 / 8 / 1e9;
  if (pace_last_ns_ != 0) {
    pace_budget_bytes_ += static_cast<double>(now_ns - pace_last_ns_) * bytes_per_ns;
  }
  pace_last_ns_ = now_ns;
  pace_budget_bytes_ = std::min(pace_budget_bytes_, 5e6 * bytes_per_ns);
  while (!pending_frames_.empty() && pace_budget_bytes_ > 0) {
    pace_budget_bytes_ -= static_cast<double>(pending_frames_.front().per_packet);
    SendVideoPacket(stats);
  }
  if (pending_frames_.empty()) {
    pace_budget_bytes_ = std::max(pace_budget_bytes_, 0.0);
  }
}

void PeerConnection::SendAudioPacket(SendStats& stats) {
  uint8_t buf[256 + rtc::kSrtpTrailerRoom];
  uint32_t ts = static_cast<uint32_t>(audio_packets_ * 960) + audio_ssrc_;  // 48 kHz, 20 ms
  size_t at =
      WriteHeader(buf, audio_pt_, false, audio_seq_++, ts, audio_ssrc_, mid_ext_, '0', level_ext_);
  std::memset(buf + at, 0x3C, kAudioPayload);
  Put64(buf + at + kAudioPayload - 8, static_cast<uint64_t>(NowNs()));
  SendRtp(buf, at + kAudioPayload, stats);
  audio_packets_++;
}

void PeerConnection::SendMedia(int64_t now_ns, uint32_t video_kbps, SendStats& stats) {
  if (!media_started_ || !connected() || failed()) {
    return;
  }
  // Catch up with the schedule, but never burst more than a few frames after a stall.
  int64_t elapsed = now_ns - media_start_ns_;
  uint64_t due_frames = static_cast<uint64_t>(elapsed / kFrameNs) + 1;
  if (due_frames > video_frames_ + 3) {
    video_frames_ = due_frames - 3;
  }
  while (video_frames_ < due_frames) {
    bool key = key_frame_wanted_ || video_frames_ % kKeyFrameEvery == 0;
    key_frame_wanted_ = false;
    SendVideoFrame(key, video_kbps, stats);
  }
  if (pacing_factor_ > 0) {
    SendPacedVideo(now_ns, video_kbps, stats);
  }
  uint64_t due_audio = static_cast<uint64_t>(elapsed / kAudioNs) + 1;
  if (due_audio > audio_packets_ + 5) {
    audio_packets_ = due_audio - 5;
  }
  while (audio_packets_ < due_audio) {
    SendAudioPacket(stats);
  }
}

}  // namespace ruche::bench
