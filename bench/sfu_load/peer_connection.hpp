#pragma once
// One WebRTC peer connection of the SFU load client, in the browser's role against an SFU
// (Ruche's, or Janus for the side-by-side figures): a full ICE agent with one host candidate
// (checks sent and answered), DTLS as client or server as the SDP decides, then SRTP. A
// publisher sends Opus- and VP8-shaped RTP at real rate; a subscriber counts what arrives and
// decrypts a sample of it to read the send time stamped in the payload.
//
// Built on Ruche's own media stack (src/rtc/: STUN, DTLS, SRTP, RTP, SDP) in the client role.
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "rtc/dtls_transport.hpp"
#include "rtc/srtp_session.hpp"

namespace ruche::bench {

// CLOCK_REALTIME in nanoseconds: publishers stamp it into payloads; subscribers compare it with
// the kernel's receive time stamp (same host, same clock).
int64_t NowNs();

// What every subscriber adds up between two stats reports.
struct ReceiveStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t rtcp_packets = 0;
  uint64_t decrypt_failures = 0;
  std::vector<int64_t> latency_ns;  // send → receive of the sampled packets
};

struct SendStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t key_frames = 0;
  uint64_t key_frame_requests = 0;  // PLI / FIR received
  uint64_t nacks = 0;
};

class PeerConnection {
 public:
  enum class Role { kPublisher, kSubscriber };

  // Binds a UDP socket on `bind_ip` (port chosen by the kernel). Fails the process on error.
  PeerConnection(std::string name, Role role, const std::string& bind_ip,
                 std::shared_ptr<rtc::DtlsContext> dtls_context);
  ~PeerConnection();
  PeerConnection(const PeerConnection&) = delete;
  PeerConnection& operator=(const PeerConnection&) = delete;

  const std::string& name() const { return name_; }
  int fd() const { return fd_; }
  Role role() const { return role_; }
  bool connected() const { return srtp_out_ != nullptr; }
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }

  // Publisher: the sendonly Opus + VP8 offer (candidate inside, no trickle).
  std::string CreateOffer();
  // Publisher: the SFU's answer. Errors as text ("" when fine).
  std::string SetAnswer(const std::string& sdp);
  // Subscriber: the SFU's offer (first or renegotiated) → the recvonly answer, or "" with
  // `error` set.
  std::string AnswerOffer(const std::string& sdp, std::string& error);
  // A trickled remote candidate line ("candidate:…").
  void AddRemoteCandidate(const std::string& line);

  // Reads every datagram waiting on the socket.
  void OnReadable(ReceiveStats& receive, SendStats& send, uint32_t sample_every);
  // ICE checks (every 50 ms until a path works, then every 2 s for consent), DTLS timers.
  void OnTimer(int64_t now_ns);
  // Publisher: sends what is due by `now_ns` at `video_kbps` (30 fps) and 50 Opus packets/s.
  void SendMedia(int64_t now_ns, uint32_t video_kbps, SendStats& stats);
  void StartMedia(int64_t start_ns);
  // 0 (the default): each video frame leaves in one burst, as from a sender without a pacer.
  // Above 0: video packets leave at `factor` × the video bitrate with at most 5 ms of budget at
  // once, as WebRTC's pacer sends them (pacing factor 2.5 there); audio is never held back.
  void SetPacing(double factor) { pacing_factor_ = factor; }
  // Set once when the connection is up; the caller reports it.
  bool TakeConnectedEvent();

 private:
  struct Candidate {
    sockaddr_in address{};
    uint32_t priority = 0;
  };
  void ParseRemote(const std::string& sdp, bool offer);
  void HandleStun(const uint8_t* data, size_t len, const sockaddr_in& from);
  void SendCheck(const Candidate& to);
  void StartDtls();
  void OnDtlsProgress();
  void HandleRtcp(uint8_t* data, size_t len, SendStats& send);
  void SendRtp(uint8_t* packet, size_t len, SendStats& stats);
  void SendVideoFrame(bool key, uint32_t video_kbps, SendStats& stats);
  void SendVideoPacket(SendStats& stats);  // the next packet of the oldest frame queued
  void SendPacedVideo(int64_t now_ns, uint32_t video_kbps, SendStats& stats);
  void SendAudioPacket(SendStats& stats);
  std::string TransportLines() const;
  void Fail(std::string why);

  std::string name_;
  Role role_;
  int fd_ = -1;
  sockaddr_in local_{};
  std::string ufrag_;
  std::string pwd_;
  uint64_t tie_breaker_ = 0;
  std::shared_ptr<rtc::DtlsContext> dtls_context_;

  // From the SFU's SDP.
  std::string remote_ufrag_;
  std::string remote_pwd_;
  std::string remote_fingerprint_;
  std::string remote_setup_;
  bool remote_lite_ = false;
  bool controlling_ = true;
  std::vector<Candidate> candidates_;

  bool have_path_ = false;
  sockaddr_in path_{};
  std::array<uint8_t, 12> last_transaction_{};
  int64_t next_check_ns_ = 0;
  int64_t first_check_ns_ = 0;
  uint64_t check_errors_ = 0;
  std::unique_ptr<rtc::DtlsSession> dtls_;
  int64_t next_dtls_timer_ns_ = 0;
  std::unique_ptr<rtc::SrtpSession> srtp_out_;
  std::unique_ptr<rtc::SrtpSession> srtp_in_;
  bool connected_event_ = false;
  std::string failure_;

  // Publisher media.
  uint32_t audio_ssrc_ = 0;
  uint32_t video_ssrc_ = 0;
  uint16_t audio_seq_ = 0;
  uint16_t video_seq_ = 0;
  uint8_t audio_pt_ = 111;
  uint8_t video_pt_ = 96;
  uint8_t mid_ext_ = 4;
  uint8_t level_ext_ = 1;
  bool media_started_ = false;
  int64_t media_start_ns_ = 0;
  uint64_t video_frames_ = 0;
  uint64_t audio_packets_ = 0;
  bool key_frame_wanted_ = true;
  // Video frames not yet sent whole (only more than one with pacing).
  struct PendingFrame {
    bool key = false;
    size_t packets = 0;
    size_t per_packet = 0;
    uint32_t timestamp = 0;
    size_t sent = 0;
  };
  std::deque<PendingFrame> pending_frames_;
  double pacing_factor_ = 0;
  double pace_budget_bytes_ = 0;
  int64_t pace_last_ns_ = 0;

  // Subscriber: RTP packets seen, for sampling.
  uint64_t received_rtp_ = 0;
};

}  // namespace ruche::bench
