#include "rtc/sdp.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace ruche::rtc {
namespace {

Error SdpError(std::string reason) {
  return Error::BadRequest("invalid SDP: " + reason, "M_INVALID_PARAM");
}

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits at the first `sep`; `rest` is empty when there is none.
std::pair<std::string_view, std::string_view> SplitOnce(std::string_view s, char sep) {
  size_t at = s.find(sep);
  if (at == std::string_view::npos) {
    return {s, {}};
  }
  return {s.substr(0, at), s.substr(at + 1)};
}

std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t start = s.find_first_not_of(' ');
    if (start == std::string_view::npos) {
      break;
    }
    s.remove_prefix(start);
    size_t end = s.find(' ');
    out.push_back(s.substr(0, end));
    if (end == std::string_view::npos) {
      break;
    }
    s.remove_prefix(end);
  }
  return out;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// ICE ufrag/pwd characters (RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/").
bool IsIceToken(std::string_view s, size_t min, size_t max) {
  if (s.size() < min || s.size() > max) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

bool IsFingerprint(std::string_view s) {
  // 32 bytes of sha-256 as colon-separated hex pairs.
  if (s.size() != 32 * 3 - 1) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (i % 3 == 2 ? s[i] != ':' : !std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

Codec* FindCodecMutable(MediaSection& m, uint8_t pt) {
  for (auto& c : m.codecs) {
    if (c.payload_type == pt) {
      return &c;
    }
  }
  return nullptr;
}

// Applies one media-level a= attribute.
Result<void> ApplyMediaAttribute(MediaSection& m, std::string_view name, std::string_view value) {
  if (name == "mid") {
    if (value.empty() || value.size() > 32) {
      return SdpError("bad a=mid");
    }
    m.mid = std::string(value);
  } else if (name == "sendrecv" || name == "sendonly" || name == "recvonly" || name == "inactive") {
    m.direction = std::string(name);
  } else if (name == "rtcp-mux") {
    m.rtcp_mux = true;
  } else if (name == "rtpmap") {
    auto [pt_s, rest] = SplitOnce(value, ' ');
    uint8_t pt = 0;
    if (!ParseNumber(pt_s, pt) || pt > 127) {
      return SdpError("bad a=rtpmap payload type");
    }
    Codec* c = FindCodecMutable(m, pt);
    if (c == nullptr) {
      return Result<void>{};  // a payload type not in the m= line: ignored
    }
    auto [name_s, rate_rest] = SplitOnce(rest, '/');
    auto [rate_s, channels_s] = SplitOnce(rate_rest, '/');
    if (name_s.empty() || name_s.size() > 32 || !ParseNumber(rate_s, c->clock_rate)) {
      return SdpError("bad a=rtpmap");
    }
    c->name = std::string(name_s);
    if (!channels_s.empty() && !ParseNumber(channels_s, c->channels)) {
      return SdpError("bad a=rtpmap channels");
    }
  } else if (name == "fmtp") {
    auto [pt_s, params] = SplitOnce(value, ' ');
    uint8_t pt = 0;
    if (!ParseNumber(pt_s, pt)) {
      return SdpError("bad a=fmtp payload type");
    }
    if (Codec* c = FindCodecMutable(m, pt)) {
      c->fmtp = std::string(params);
    }
  } else if (name == "rtcp-fb") {
    auto [pt_s, fb] = SplitOnce(value, ' ');
    uint8_t pt = 0;
    if (pt_s == "*" || !ParseNumber(pt_s, pt)) {
      return Result<void>{};
    }
    if (Codec* c = FindCodecMutable(m, pt); c != nullptr && c->feedback.size() < 16) {
      c->feedback.emplace_back(fb);
    }
  } else if (name == "extmap") {
    auto [id_s, rest] = SplitOnce(value, ' ');
    id_s = SplitOnce(id_s, '/').first;  // "3/sendonly"
    uint8_t id = 0;
    if (!ParseNumber(id_s, id) || id == 0) {
      return SdpError("bad a=extmap id");
    }
    auto [uri, attrs] = SplitOnce(rest, ' ');
    if (uri.empty() || m.extensions.size() >= 32) {
      return SdpError("bad a=extmap");
    }
    m.extensions.push_back({id, std::string(uri)});
  } else if (name == "ssrc") {
    auto [id_s, rest] = SplitOnce(value, ' ');
    uint32_t ssrc = 0;
    if (!ParseNumber(id_s, ssrc)) {
      return SdpError("bad a=ssrc");
    }
    if (std::find(m.ssrcs.begin(), m.ssrcs.end(), ssrc) == m.ssrcs.end()) {
      if (m.ssrcs.size() >= 16) {
        return SdpError("too many a=ssrc");
      }
      m.ssrcs.push_back(ssrc);
    }
    auto [attr, attr_value] = SplitOnce(rest, ':');
    if (attr == "cname" && attr_value.size() <= 255) {
      m.cname = std::string(attr_value);
    }
  } else if (name == "ssrc-group") {
    auto parts = SplitSpaces(value);
    uint32_t primary = 0;
    uint32_t rtx = 0;
    if (parts.size() == 3 && parts[0] == "FID" && ParseNumber(parts[1], primary) &&
        ParseNumber(parts[2], rtx)) {
      m.rtx_ssrc = rtx;
    }
  } else if (name == "rid") {
    auto parts = SplitSpaces(value);
    if (parts.size() >= 2 && parts[1] == "send") {
      if (parts[0].empty() || parts[0].size() > 16 || m.send_rids.size() >= 4) {
        return SdpError("bad a=rid");
      }
      m.send_rids.emplace_back(parts[0]);
    }
  }
  return Result<void>{};
}

struct Transport {  // the ICE/DTLS attributes, from session or media level
  std::string ufrag, pwd, fingerprint_algorithm, fingerprint, setup;
};

Result<void> ApplyTransportAttribute(Transport& t, std::string_view name, std::string_view value) {
  if (name == "ice-ufrag") {
    if (!IsIceToken(value, 4, 256)) {
      return SdpError("bad a=ice-ufrag");
    }
    t.ufrag = std::string(value);
  } else if (name == "ice-pwd") {
    if (!IsIceToken(value, 22, 256)) {
      return SdpError("bad a=ice-pwd");
    }
    t.pwd = std::string(value);
  } else if (name == "fingerprint") {
    auto [alg, fp] = SplitOnce(value, ' ');
    if (IEquals(alg, "sha-256")) {
      if (!IsFingerprint(fp)) {
        return SdpError("bad a=fingerprint");
      }
      t.fingerprint_algorithm = "sha-256";
      t.fingerprint = std::string(fp);
      std::transform(t.fingerprint.begin(), t.fingerprint.end(), t.fingerprint.begin(),
                     [](char c) { return static_cast<char>(std::toupper(c)); });
    }
  } else if (name == "setup") {
    if (value != "actpass" && value != "active" && value != "passive") {
      return SdpError("bad a=setup");
    }
    t.setup = std::string(value);
  }
  return Result<void>{};
}

// Merges a media-level transport into the session's. With BUNDLE (RFC 9143 §7.3.1) the
// transport of the first bundled section is the one used: an offerer that gives each section
// its own credentials (aiortc, Chrome's "balanced" policy) moves onto it once Ruche's answer
// bundles, so the first section's values win and later ones are ignored.
void MergeTransport(Transport& session, const Transport& media) {
  auto merge = [](std::string& into, const std::string& v) {
    if (into.empty()) {
      into = v;
    }
  };
  merge(session.ufrag, media.ufrag);
  merge(session.pwd, media.pwd);
  merge(session.setup, media.setup);
  if (session.fingerprint.empty() && !media.fingerprint.empty()) {
    session.fingerprint = media.fingerprint;
    session.fingerprint_algorithm = media.fingerprint_algorithm;
  }
}

Result<MediaSection> ParseMediaLine(std::string_view value) {
  // m=<media> <port> <proto> <fmt> …
  auto parts = SplitSpaces(value);
  if (parts.size() < 3) {
    return SdpError("bad m= line");
  }
  MediaSection m;
  if (parts[0] == "audio") {
    m.kind = MediaKind::kAudio;
  } else if (parts[0] == "video") {
    m.kind = MediaKind::kVideo;
  } else {
    m.rejected = true;  // application (data channels) and others: not supported, rejected
  }
  uint16_t port = 0;
  if (!ParseNumber(SplitOnce(parts[1], '/').first, port)) {
    return SdpError("bad m= port");
  }
  if (port == 0) {
    m.rejected = true;
  }
  if (!m.rejected && parts[2] != "UDP/TLS/RTP/SAVPF") {
    return SdpError("only UDP/TLS/RTP/SAVPF is supported");
  }
  if (parts.size() - 3 > kMaxCodecsPerSection) {
    return SdpError("too many payload types");
  }
  for (size_t i = 3; i < parts.size() && !m.rejected; ++i) {
    uint8_t pt = 0;
    if (!ParseNumber(parts[i], pt) || pt > 127) {
      return SdpError("bad payload type in m= line");
    }
    Codec codec;
    codec.payload_type = pt;
    m.codecs.push_back(std::move(codec));
  }
  return m;
}

void LinkRtx(MediaSection& m) {
  for (const auto& c : m.codecs) {
    if (!IEquals(c.name, "rtx")) {
      continue;
    }
    // fmtp "apt=96"
    std::string_view f = c.fmtp;
    size_t at = f.find("apt=");
    uint8_t apt = 0;
    if (at == std::string_view::npos) {
      continue;
    }
    std::string_view num = f.substr(at + 4);
    num = num.substr(0, num.find(';'));
    if (ParseNumber(num, apt)) {
      if (Codec* media = FindCodecMutable(m, apt)) {
        media->rtx_payload_type = c.payload_type;
      }
    }
  }
}

std::string_view FmtpValue(std::string_view fmtp, std::string_view key) {
  while (!fmtp.empty()) {
    auto [item, rest] = SplitOnce(fmtp, ';');
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    auto [k, v] = SplitOnce(item, '=');
    if (k == key) {
      return v;
    }
    fmtp = rest;
  }
  return {};
}

void AppendTransport(std::string& out, const LocalTransport& local, std::string_view setup) {
  out += fmt::format(
      "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:{}\r\na=ice-pwd:{}\r\n"
      "a=fingerprint:sha-256 {}\r\na=setup:{}\r\n",
      local.ice_ufrag, local.ice_pwd, local.fingerprint, setup);
}

void AppendCandidates(std::string& out, const LocalTransport& local) {
  // RFC 8839 §5.1; host type, the highest priority for component 1.
  out += fmt::format("a=candidate:1 1 udp 2130706431 {} {} typ host\r\n", local.candidate_ip,
                     local.candidate_port);
  if (local.tcp_candidate_port != 0) {
    // RFC 6544 §4.5: the browser connects (active) to Ruche (passive). Priority (RFC 8445
    // §5.1.2.1) below UDP's, so TCP is used only where UDP cannot pass: type preference 100,
    // local preference 2^13 × 4 (passive) + 8191.
    constexpr uint32_t kTcpPriority = (100u << 24) | ((8192u * 4 + 8191) << 8) | 255;
    out += fmt::format("a=candidate:2 1 tcp {} {} {} typ host tcptype passive\r\n", kTcpPriority,
                       local.candidate_ip, local.tcp_candidate_port);
  }
  out += "a=end-of-candidates\r\n";
}

void AppendCodec(std::string& out, const Codec& c) {
  if (c.channels > 0) {
    out +=
        fmt::format("a=rtpmap:{} {}/{}/{}\r\n", c.payload_type, c.name, c.clock_rate, c.channels);
  } else {
    out += fmt::format("a=rtpmap:{} {}/{}\r\n", c.payload_type, c.name, c.clock_rate);
  }
  if (!c.fmtp.empty()) {
    out += fmt::format("a=fmtp:{} {}\r\n", c.payload_type, c.fmtp);
  }
  for (const auto& fb : c.feedback) {
    out += fmt::format("a=rtcp-fb:{} {}\r\n", c.payload_type, fb);
  }
  if (c.rtx_payload_type != 0) {
    out += fmt::format("a=rtpmap:{} rtx/{}\r\na=fmtp:{} apt={}\r\n", c.rtx_payload_type,
                       c.clock_rate, c.rtx_payload_type, c.payload_type);
  }
}

std::string SessionHeader(uint64_t version, std::string_view bundle) {
  // ICE-lite (RFC 8445 §2.5): Ruche never sends connectivity checks, the browser controls.
  return fmt::format(
      "v=0\r\no=- 4611731400430051336 {} IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
      "a=group:BUNDLE{}\r\na=msid-semantic: WMS *\r\n",
      version, bundle);
}

// The feedback Ruche honours from a publisher's point of view: NACK and PLI/FIR (Ruche sends
// them), REMB (Ruche states the bitrate it accepts, so simulcast's upper layers get sent),
// transport-cc (Ruche reports every packet's arrival, so the browser's congestion controller
// sees queues building on the way, not only losses).
std::vector<std::string> SupportedFeedback(MediaKind kind) {
  if (kind == MediaKind::kAudio) {
    return {"transport-cc"};
  }
  return {"nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"};
}

}  // namespace

std::string_view MediaKindName(MediaKind kind) {
  return kind == MediaKind::kAudio ? "audio" : "video";
}

uint8_t MediaSection::ExtensionId(std::string_view uri) const {
  for (const auto& e : extensions) {
    if (e.uri == uri) {
      return e.id;
    }
  }
  return 0;
}

const Codec* MediaSection::FindCodec(uint8_t payload_type) const {
  for (const auto& c : codecs) {
    if (c.payload_type == payload_type) {
      return &c;
    }
  }
  return nullptr;
}

Result<SessionDescription> ParseSdp(std::string_view sdp) {
  if (sdp.size() > kMaxSdpBytes) {
    return SdpError("too large");
  }
  SessionDescription out;
  Transport session;
  Transport media_transport;
  bool in_media = false;
  auto finish_media = [&]() -> Result<void> {
    if (!in_media) {
      return Result<void>{};
    }
    MediaSection& m = out.media.back();
    LinkRtx(m);
    if (!m.rejected) {
      MergeTransport(session, media_transport);
    }
    media_transport = Transport{};
    return Result<void>{};
  };
  size_t line_no = 0;
  while (!sdp.empty()) {
    size_t eol = sdp.find('\n');
    std::string_view line = sdp.substr(0, eol);
    sdp.remove_prefix(eol == std::string_view::npos ? sdp.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    ++line_no;
    if (line.empty()) {
      continue;
    }
    if (line.size() > kMaxSdpLineBytes) {
      return SdpError("line too long");
    }
    if (line.size() < 2 || line[1] != '=') {
      return SdpError(fmt::format("line {} is not <type>=<value>", line_no));
    }
    char type = line[0];
    std::string_view value = line.substr(2);
    if (line_no == 1 && (type != 'v' || value != "0")) {
      return SdpError("must start with v=0");
    }
    if (type == 'm') {
      if (auto r = finish_media(); !r) {
        return r.error();
      }
      if (out.media.size() >= kMaxMediaSections) {
        return SdpError("too many m= sections");
      }
      auto m = ParseMediaLine(value);
      if (!m) {
        return m.error();
      }
      out.media.push_back(std::move(*m));
      in_media = true;
      continue;
    }
    if (type != 'a') {
      continue;
    }
    auto [name, attr_value] = SplitOnce(value, ':');
    Transport& t = in_media ? media_transport : session;
    if (auto r = ApplyTransportAttribute(t, name, attr_value); !r) {
      return r.error();
    }
    if (in_media) {
      if (auto r = ApplyMediaAttribute(out.media.back(), name, attr_value); !r) {
        return r.error();
      }
    }
  }
  if (auto r = finish_media(); !r) {
    return r.error();
  }
  if (out.media.empty()) {
    return SdpError("no m= section");
  }
  if (session.ufrag.empty() || session.pwd.empty()) {
    return SdpError("no ICE credentials");
  }
  if (session.fingerprint.empty()) {
    return SdpError("no sha-256 DTLS fingerprint");
  }
  for (const auto& m : out.media) {
    if (!m.rejected && !m.rtcp_mux) {
      return SdpError("rtcp-mux is required");
    }
    if (!m.rejected && m.mid.empty()) {
      return SdpError("every section needs a=mid");
    }
  }
  out.ice_ufrag = std::move(session.ufrag);
  out.ice_pwd = std::move(session.pwd);
  out.fingerprint_algorithm = std::move(session.fingerprint_algorithm);
  out.fingerprint = std::move(session.fingerprint);
  out.setup = std::move(session.setup);
  return out;
}

std::vector<AcceptedMedia> ChoosePublishedMedia(const SessionDescription& offer) {
  std::vector<AcceptedMedia> out;
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const MediaSection& m = offer.media[i];
    if (m.rejected || (m.direction != "sendonly" && m.direction != "sendrecv")) {
      continue;
    }
    const Codec* chosen = nullptr;
    auto pick = [&](std::string_view name, auto&& extra_ok) {
      for (const auto& c : m.codecs) {
        if (chosen == nullptr && IEquals(c.name, name) && extra_ok(c)) {
          chosen = &c;
        }
      }
    };
    auto any = [](const Codec&) { return true; };
    if (m.kind == MediaKind::kAudio) {
      pick("opus", [](const Codec& c) { return c.clock_rate == 48000; });
    } else {
      pick("VP8", any);
      pick("H264", [](const Codec& c) {
        return FmtpValue(c.fmtp, "packetization-mode") == "1" &&
               FmtpValue(c.fmtp, "profile-level-id").starts_with("42e0");
      });
      pick("VP9", [](const Codec& c) {
        auto profile = FmtpValue(c.fmtp, "profile-id");
        return profile.empty() || profile == "0";
      });
    }
    if (chosen == nullptr) {
      continue;
    }
    AcceptedMedia a;
    a.section = i;
    a.codec = *chosen;
    // Keep only the feedback Ruche honours.
    auto supported = SupportedFeedback(m.kind);
    std::erase_if(a.codec.feedback, [&](const std::string& fb) {
      return std::find(supported.begin(), supported.end(), fb) == supported.end();
    });
    for (const auto& e : m.extensions) {
      bool wanted = e.uri == kExtMid || e.uri == kExtTransportCc ||
                    (m.kind == MediaKind::kAudio && e.uri == kExtAudioLevel) ||
                    (m.kind == MediaKind::kVideo && (e.uri == kExtRid || e.uri == kExtRepairedRid));
      if (wanted) {
        a.extensions.push_back(e);
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::string BuildPublishAnswer(const SessionDescription& offer,
                               const std::vector<AcceptedMedia>& accepted,
                               const LocalTransport& local) {
  std::string bundle;
  for (const auto& a : accepted) {
    bundle += " " + offer.media[a.section].mid;
  }
  std::string out = SessionHeader(2, bundle);
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const MediaSection& m = offer.media[i];
    auto it = std::find_if(accepted.begin(), accepted.end(),
                           [&](const AcceptedMedia& a) { return a.section == i; });
    std::string_view kind = MediaKindName(m.kind);
    if (it == accepted.end()) {
      // Rejected: port 0, the offered format echoed (RFC 8866 §5.14 needs one).
      uint8_t pt = m.codecs.empty() ? 0 : m.codecs.front().payload_type;
      out += fmt::format("m={} 0 UDP/TLS/RTP/SAVPF {}\r\nc=IN IP4 0.0.0.0\r\n", kind, pt);
      if (!m.mid.empty()) {
        out += fmt::format("a=mid:{}\r\n", m.mid);
      }
      out += "a=inactive\r\n";
      continue;
    }
    const Codec& c = it->codec;
    std::string pts = std::to_string(c.payload_type);
    if (c.rtx_payload_type != 0) {
      pts += " " + std::to_string(c.rtx_payload_type);
    }
    out += fmt::format("m={} 9 UDP/TLS/RTP/SAVPF {}\r\n", kind, pts);
    // Ruche is always the DTLS server: the browser's offer says actpass, Ruche takes passive.
    AppendTransport(out, local, "passive");
    out += fmt::format("a=mid:{}\r\na=recvonly\r\na=rtcp-mux\r\n", m.mid);
    AppendCodec(out, c);
    for (const auto& e : it->extensions) {
      out += fmt::format("a=extmap:{} {}\r\n", e.id, e.uri);
    }
    if (!m.send_rids.empty()) {
      std::string rids;
      for (const auto& rid : m.send_rids) {
        out += fmt::format("a=rid:{} recv\r\n", rid);
        rids += (rids.empty() ? "" : ";") + rid;
      }
      out += fmt::format("a=simulcast:recv {}\r\n", rids);
    }
    AppendCandidates(out, local);
  }
  return out;
}

std::string BuildSubscribeOffer(const std::vector<OfferedTrack>& tracks,
                                const LocalTransport& local, uint64_t session_version) {
  std::string bundle;
  for (const auto& t : tracks) {
    bundle += " " + t.mid;
  }
  std::string out = SessionHeader(session_version, bundle);
  for (const auto& t : tracks) {
    const Codec& c = t.codec;
    std::string pts = std::to_string(c.payload_type);
    if (c.rtx_payload_type != 0) {
      pts += " " + std::to_string(c.rtx_payload_type);
    }
    out += fmt::format("m={} 9 UDP/TLS/RTP/SAVPF {}\r\n", MediaKindName(t.kind), pts);
    AppendTransport(out, local, "actpass");
    out += fmt::format("a=mid:{}\r\na={}\r\na=rtcp-mux\r\n", t.mid,
                       t.active ? "sendonly" : "inactive");
    out += fmt::format("a=extmap:{} {}\r\na=extmap:{} {}\r\n", kSubscriberMidExtId, kExtMid,
                       kSubscriberAbsSendTimeExtId, kExtAbsSendTime);
    if (t.kind == MediaKind::kAudio) {
      out += fmt::format("a=extmap:{} {}\r\n", kSubscriberAudioLevelExtId, kExtAudioLevel);
    }
    AppendCodec(out, c);
    if (t.active) {
      out += fmt::format("a=msid:{} {}\r\n", t.stream_id, t.track_id);
      // RFC 5576 §4.2 / RFC 4588 §8.1: the RTX stream is tied to the media stream by FID.
      if (t.rtx_ssrc != 0 && c.rtx_payload_type != 0) {
        out += fmt::format("a=ssrc-group:FID {} {}\r\n", t.ssrc, t.rtx_ssrc);
      }
      for (uint32_t ssrc : {t.ssrc, t.rtx_ssrc}) {
        if (ssrc != 0) {
          out += fmt::format("a=ssrc:{} cname:{}\r\na=ssrc:{} msid:{} {}\r\n", ssrc, t.stream_id,
                             ssrc, t.stream_id, t.track_id);
        }
      }
    }
    AppendCandidates(out, local);
  }
  return out;
}

}  // namespace ruche::rtc
