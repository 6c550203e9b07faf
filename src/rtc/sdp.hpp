#pragma once
// SDP (RFC 8866) as WebRTC browsers speak it (unified plan, JSEP RFC 8829): the parser for the
// browser's offers and answers, and the generators for Ruche's answers (publish) and offers
// (subscribe). Ruche generates SDP on the server, as mediasoup does for mediasoup-client, so the
// browser never needs to know the SFU's internal model.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace ruche::rtc {

enum class MediaKind { kAudio, kVideo };
std::string_view MediaKindName(MediaKind kind);

struct Codec {
  std::string name;  // as in a=rtpmap: "opus", "VP8", "H264", "VP9", "rtx"
  uint8_t payload_type = 0;
  uint32_t clock_rate = 0;
  uint8_t channels = 0;               // audio only (opus: 2)
  std::string fmtp;                   // the a=fmtp parameters, verbatim
  std::vector<std::string> feedback;  // a=rtcp-fb values: "nack", "nack pli", "ccm fir", …
  uint8_t rtx_payload_type = 0;       // the RTX payload type whose apt= points here, or 0
};

struct HeaderExtension {
  uint8_t id = 0;
  std::string uri;
};

// The RTP header extensions Ruche understands (RFC 8285 URIs).
inline constexpr std::string_view kExtMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kExtRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kExtRepairedRid =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
inline constexpr std::string_view kExtAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr std::string_view kExtAbsSendTime =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kExtTransportCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

// The ids Ruche's subscribe offers give the extensions it writes toward subscribers, the same
// in every bundled section (RFC 8843 §9.2): the packet's mid, its send time (abs-send-time:
// what a receiver-side bandwidth estimate reads), and for audio the publisher's level.
inline constexpr uint8_t kSubscriberMidExtId = 1;
inline constexpr uint8_t kSubscriberAbsSendTimeExtId = 2;
inline constexpr uint8_t kSubscriberAudioLevelExtId = 3;

struct MediaSection {  // one m= line
  MediaKind kind = MediaKind::kAudio;
  bool rejected = false;  // port 0
  std::string mid;
  std::string direction = "sendrecv";  // sendrecv | sendonly | recvonly | inactive
  std::vector<Codec> codecs;           // in the m= line's order (RTX entries included)
  std::vector<HeaderExtension> extensions;
  std::vector<uint32_t> ssrcs;  // every a=ssrc id, in order of first appearance
  uint32_t rtx_ssrc = 0;        // from a=ssrc-group:FID <primary> <rtx>
  std::string cname;
  std::vector<std::string> send_rids;  // a=rid:<id> send, in the a=simulcast order
  bool rtcp_mux = false;

  // The section's value for `uri`'s extension id, or 0.
  uint8_t ExtensionId(std::string_view uri) const;
  const Codec* FindCodec(uint8_t payload_type) const;
};

struct SessionDescription {
  std::string ice_ufrag;
  std::string ice_pwd;
  std::string fingerprint_algorithm;  // "sha-256"
  std::string fingerprint;            // "AB:CD:…", upper case
  std::string setup;                  // actpass | active | passive
  std::vector<MediaSection> media;
};

// Limits that bound what a peer can make the parser do.
inline constexpr size_t kMaxSdpBytes = 256 * 1024;
inline constexpr size_t kMaxSdpLineBytes = 4096;
inline constexpr size_t kMaxMediaSections = 512;
inline constexpr size_t kMaxCodecsPerSection = 64;

// Parses a browser's SDP. Checks what Ruche relies on: ICE credentials and a sha-256 DTLS
// fingerprint (session- or media-level, the same on every bundled section), rtcp-mux, UDP/TLS/
// RTP/SAVPF transport. Errors carry a short human reason.
Result<SessionDescription> ParseSdp(std::string_view sdp);

// What the server side of a transport announces.
struct LocalTransport {
  std::string ice_ufrag;
  std::string ice_pwd;
  std::string fingerprint;  // sha-256, "AB:CD:…"
  std::string candidate_ip;
  uint16_t candidate_port = 0;
  uint16_t tcp_candidate_port = 0;  // ICE-TCP passive candidate (RFC 6544), 0 for none
};

// One accepted send-direction section of a publisher's offer: the codec chosen for it.
struct AcceptedMedia {
  size_t section = 0;                       // index in offer.media
  Codec codec;                              // the chosen codec (payload types are the offer's)
  std::vector<HeaderExtension> extensions;  // the accepted subset, ids are the offer's
};

// Chooses, for every section of a publisher's offer, the codec and extensions Ruche accepts
// (audio: Opus; video: VP8, then H.264 packetization-mode=1, then VP9). Sections the browser
// does not send on, or with no usable codec, are rejected.
std::vector<AcceptedMedia> ChoosePublishedMedia(const SessionDescription& offer);

// The answer to a publisher's offer: each accepted section recvonly, the rest rejected.
std::string BuildPublishAnswer(const SessionDescription& offer,
                               const std::vector<AcceptedMedia>& accepted,
                               const LocalTransport& local);

// One track Ruche sends to a subscriber.
struct OfferedTrack {
  std::string mid;
  MediaKind kind = MediaKind::kVideo;
  Codec codec;  // with Ruche's payload type for this subscriber
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  // RFC 4588 retransmissions, with codec.rtx_payload_type; 0: none
  std::string stream_id;  // msid stream (the publishing participant)
  std::string track_id;   // msid track (the producer)
  bool active = true;     // false: the track was unsubscribed; the section stays, inactive
};

// The subscriber's offer: one sendonly section per track, in mid order, all bundled, each with
// the extensions above.
std::string BuildSubscribeOffer(const std::vector<OfferedTrack>& tracks,
                                const LocalTransport& local, uint64_t session_version);

}  // namespace ruche::rtc
