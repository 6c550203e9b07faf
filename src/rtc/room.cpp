#include "rtc/room.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "core/log.hpp"
#include "rtc/byte_order.hpp"
#include "rtc/rtcp_packet.hpp"
#include "rtc/rtp_packet.hpp"

namespace ruche::rtc {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kKeyFrameRequestInterval = std::chrono::seconds(1);
constexpr auto kActiveSpeakerInterval = std::chrono::milliseconds(300);
// Average loudness (127 - RFC 6464 level) a participant needs over a window to count as
// speaking: about -90 dBov, above the comfort noise browsers send when muted.
constexpr uint64_t kSpeakingLoudness = 37;
// Bounds what one participant can make the worker hold.
constexpr size_t kMaxConsumersPerPeer = 500;
constexpr size_t kMaxProducersPerPeer = 8;
// The widest sequence gap answered with a NACK rather than a key frame request.
constexpr size_t kMaxNackGap = 64;
// The SSRC Ruche's own RTCP (PLI) carries as sender.
constexpr uint32_t kSfuRtcpSsrc = 0x52554348;  // "RUCH"

std::string RandomId() {
  unsigned char bytes[9];
  RAND_bytes(bytes, sizeof(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// Ruche's payload types toward subscribers, whatever each publisher's browser chose: every
// subscriber's offer then reads the same and a consumer rewrites one byte per packet.
uint8_t SubscriberPayloadType(const Codec& codec) {
  if (codec.name == "opus") {
    return 111;
  }
  if (codec.name == "VP8") {
    return 96;
  }
  if (codec.name == "VP9") {
    return 98;
  }
  return 102;  // H264
}

}  // namespace

// ---- RetransmitBuffer ----

void RetransmitBuffer::Store(uint16_t seq, std::span<const uint8_t> packet) {
  if (packet.size() > kMaxRtpPacket) {
    return;
  }
  Slot& slot = (*slots_)[seq % kSlots];
  slot.seq = seq;
  slot.length = static_cast<uint16_t>(packet.size());
  std::memcpy(slot.data.data(), packet.data(), packet.size());
}

std::span<const uint8_t> RetransmitBuffer::Find(uint16_t seq) const {
  const Slot& slot = (*slots_)[seq % kSlots];
  if (slot.length == 0 || slot.seq != seq) {
    return {};
  }
  return std::span<const uint8_t>(slot.data.data(), slot.length);
}

// ---- Peer ----

Peer::Peer(Room& room, std::string id, PeerEvents events)
    : room_(room), id_(std::move(id)), events_(std::move(events)) {
  WorkerStats::Bump(room_.worker().stats().peers);
}

Peer::~Peer() {
  auto& peers = room_.worker().stats().peers;
  peers.store(peers.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  for (auto& c : consumers_) {
    if (c->producer != nullptr) {
      std::erase(c->producer->consumers, c.get());
    }
  }
}

std::unique_ptr<WebRtcTransport> Peer::NewTransport() {
  auto t = std::make_unique<WebRtcTransport>(room_.worker(), *this, room_.worker().dtls_context(),
                                             RandomIceString(8), RandomIceString(24));
  room_.worker().RegisterUfrag(t->local_ufrag(), t.get());
  return t;
}

LocalTransport Peer::LocalOf(const WebRtcTransport& transport) const {
  return LocalTransport{.ice_ufrag = transport.local_ufrag(),
                        .ice_pwd = transport.local_pwd(),
                        .fingerprint = room_.worker().dtls_context()->fingerprint(),
                        .candidate_ip = room_.worker().announced_ip(),
                        .candidate_port = room_.worker().udp_port(),
                        .tcp_candidate_port = room_.worker().tcp_port()};
}

Producer* Peer::FindProducer(const std::string& id) {
  for (auto& p : producers_) {
    if (p->id == id) {
      return p.get();
    }
  }
  return nullptr;
}

Result<PublishResult> Peer::Publish(const std::string& offer_sdp) {
  auto offer = ParseSdp(offer_sdp);
  if (!offer) {
    return offer.error();
  }
  std::vector<AcceptedMedia> accepted = ChoosePublishedMedia(*offer);
  if (accepted.empty()) {
    return Error::BadRequest("the offer has nothing Ruche can receive (Opus, VP8, H.264, VP9)");
  }
  if (accepted.size() > kMaxProducersPerPeer) {
    return Error::BadRequest("too many tracks in one offer");
  }
  if (send_transport_ == nullptr || send_transport_->remote_ufrag() != offer->ice_ufrag ||
      send_transport_->closed()) {
    send_transport_ = NewTransport();  // first publish or an ICE restart
  }
  send_transport_->SetRemote(offer->ice_ufrag, offer->fingerprint);

  PublishResult result;
  std::vector<std::unique_ptr<Producer>> kept;
  for (const auto& a : accepted) {
    const MediaSection& m = offer->media[a.section];
    std::unique_ptr<Producer> p;
    for (auto& old : producers_) {
      if (old != nullptr && old->mid == m.mid && old->kind == m.kind &&
          old->codec.name == a.codec.name) {
        p = std::move(old);
        break;
      }
    }
    if (p == nullptr) {
      p = std::make_unique<Producer>();
      p->id = RandomId();
      p->owner = this;
      p->kind = m.kind;
      p->mid = m.mid;
    }
    // One layer per simulcast rid (in the offer's order: Ruche's client lists them lowest
    // first), else one. Kept across renegotiation when unchanged, so SSRCs stay learned.
    std::vector<std::string> rids = m.send_rids;
    if (rids.empty()) {
      rids.emplace_back();
    }
    bool same_layers = p->layers.size() == rids.size();
    for (size_t i = 0; same_layers && i < rids.size(); ++i) {
      same_layers = p->layers[i].rid == rids[i];
    }
    if (!same_layers) {
      p->layers.clear();
      for (const auto& rid : rids) {
        ProducerLayer layer;
        layer.rid = rid;
        if (m.kind == MediaKind::kVideo) {
          layer.retransmit = std::make_unique<RetransmitBuffer>();
        }
        p->layers.push_back(std::move(layer));
      }
    }
    p->codec = a.codec;
    p->nack_enabled = p->kind == MediaKind::kVideo &&
                      std::find(a.codec.feedback.begin(), a.codec.feedback.end(), "nack") !=
                          a.codec.feedback.end();
    uint32_t ssrc = 0;
    for (uint32_t s : m.ssrcs) {
      if (s != m.rtx_ssrc) {
        ssrc = s;
        break;
      }
    }
    if (p->layers.size() == 1) {
      p->layers[0].ssrc = ssrc;  // 0: learned from the first packet's mid extension
      p->layers[0].rtx_ssrc = m.rtx_ssrc;
    }
    p->mid_ext_id = 0;
    p->rid_ext_id = 0;
    p->audio_level_ext_id = 0;
    p->repaired_rid_ext_id = 0;
    for (const auto& e : a.extensions) {
      if (e.uri == kExtMid) {
        p->mid_ext_id = e.id;
      } else if (e.uri == kExtRid) {
        p->rid_ext_id = e.id;
      } else if (e.uri == kExtAudioLevel) {
        p->audio_level_ext_id = e.id;
      } else if (e.uri == kExtRepairedRid) {
        p->repaired_rid_ext_id = e.id;
      }
    }
    result.producers.push_back({p->id, id_, p->kind});
    kept.push_back(std::move(p));
  }
  for (auto& old : producers_) {
    if (old != nullptr) {
      result.removed_producer_ids.push_back(old->id);
      room_.DetachProducer(*old);
    }
  }
  producers_ = std::move(kept);
  // BUNDLE gives one id per extension across sections (RFC 8843 §7.2.2): the first will do.
  transport_cc_ext_id_ = 0;
  for (const auto& a : accepted) {
    for (const auto& e : a.extensions) {
      if (e.uri == kExtTransportCc && transport_cc_ext_id_ == 0) {
        transport_cc_ext_id_ = e.id;
      }
    }
  }
  result.answer_sdp = BuildPublishAnswer(*offer, accepted, LocalOf(*send_transport_));
  return result;
}

std::vector<std::string> Peer::RemoveAllProducers() {
  std::vector<std::string> ids;
  for (auto& p : producers_) {
    ids.push_back(p->id);
    room_.DetachProducer(*p);
  }
  producers_.clear();
  return ids;
}

void Peer::DetachProducer(Producer& producer) {
  for (auto& c : consumers_) {
    if (c->producer == &producer) {
      c->producer = nullptr;
      c->wanted = false;
      c->negotiated = false;
      subscriptions_dirty_ = true;
    }
  }
}

Result<std::optional<SubscribeOffer>> Peer::UpdateSubscriptions(
    const std::vector<std::string>& add, const std::vector<std::string>& remove) {
  for (const auto& producer_id : add) {
    Producer* p = room_.FindProducer(producer_id);
    if (p == nullptr || p->owner == this) {
      continue;
    }
    bool already = std::any_of(consumers_.begin(), consumers_.end(),
                               [&](const auto& c) { return c->producer == p && c->wanted; });
    if (already) {
      continue;
    }
    if (consumers_.size() >= kMaxConsumersPerPeer) {
      return Error::BadRequest("too many subscriptions in one meeting", "M_LIMIT_EXCEEDED");
    }
    auto c = std::make_unique<Consumer>();
    c->subscriber = this;
    c->producer = p;
    c->producer_id = p->id;
    c->publisher_id = p->owner->id();
    c->mid = std::to_string(consumers_.size());
    c->kind = p->kind;
    c->codec = p->codec;
    c->codec.payload_type = SubscriberPayloadType(p->codec);
    // Retransmissions go on their own stream (RFC 4588), so the subscriber's loss and bitrate
    // figures for the media stream stay true; the payload type next to the codec's.
    c->codec.rtx_payload_type = 0;
    if (p->nack_enabled) {
      c->codec.rtx_payload_type = static_cast<uint8_t>(c->codec.payload_type + 1);
      c->rtx_ssrc = room_.NextSsrc();
      RAND_bytes(reinterpret_cast<unsigned char*>(&c->rtx_seq), sizeof(c->rtx_seq));
    }
    // Bandwidth feedback from subscribers is not used (yet): not offered to them.
    std::erase(c->codec.feedback, "goog-remb");
    c->target_layer = static_cast<int>(p->layers.size()) - 1;
    c->ssrc = room_.NextSsrc();
    p->consumers.push_back(c.get());
    consumers_.push_back(std::move(c));
    subscriptions_dirty_ = true;
  }
  for (const auto& producer_id : remove) {
    for (auto& c : consumers_) {
      if (c->producer_id == producer_id && c->wanted) {
        c->wanted = false;
        c->negotiated = false;
        if (c->producer != nullptr) {
          std::erase(c->producer->consumers, c.get());
          c->producer = nullptr;
        }
        subscriptions_dirty_ = true;
      }
    }
  }
  if (!subscriptions_dirty_ || offer_outstanding_ || consumers_.empty()) {
    return std::optional<SubscribeOffer>();
  }
  return std::optional<SubscribeOffer>(BuildOffer());
}

SubscribeOffer Peer::BuildOffer() {
  if (recv_transport_ == nullptr || recv_transport_->closed()) {
    recv_transport_ = NewTransport();
    for (auto& c : consumers_) {
      c->negotiated = false;
    }
  }
  SubscribeOffer offer;
  std::vector<OfferedTrack> tracks;
  tracks.reserve(consumers_.size());
  for (const auto& c : consumers_) {
    bool active = c->wanted && c->producer != nullptr;
    tracks.push_back(OfferedTrack{.mid = c->mid,
                                  .kind = c->kind,
                                  .codec = c->codec,
                                  .ssrc = c->ssrc,
                                  .rtx_ssrc = c->rtx_ssrc,
                                  .stream_id = c->publisher_id,
                                  .track_id = c->producer_id,
                                  .active = active});
    if (active) {
      offer.consumers.push_back({c->mid, c->producer_id, c->publisher_id, c->kind});
    }
  }
  offer.sdp = BuildSubscribeOffer(tracks, LocalOf(*recv_transport_), ++offer_version_);
  offer_outstanding_ = true;
  subscriptions_dirty_ = false;
  return offer;
}

Result<std::optional<SubscribeOffer>> Peer::AnswerSubscription(const std::string& answer_sdp) {
  if (!offer_outstanding_ || recv_transport_ == nullptr) {
    return Error::BadRequest("no subscription offer is waiting for an answer");
  }
  auto answer = ParseSdp(answer_sdp);
  if (!answer) {
    return answer.error();
  }
  if (answer->setup == "passive") {
    return Error::BadRequest("Ruche is the DTLS server: the answer must say a=setup:active");
  }
  recv_transport_->SetRemote(answer->ice_ufrag, answer->fingerprint);
  offer_outstanding_ = false;
  for (auto& c : consumers_) {
    auto it = std::find_if(answer->media.begin(), answer->media.end(),
                           [&](const MediaSection& m) { return m.mid == c->mid; });
    bool ok = it != answer->media.end() && !it->rejected && c->wanted && c->producer != nullptr;
    bool newly = ok && !c->negotiated;
    c->negotiated = ok;
    c->rtx_negotiated =
        ok && c->codec.rtx_payload_type != 0 && it->FindCodec(c->codec.rtx_payload_type) != nullptr;
    // One-byte ids only: those are what forwarded packets carry (RFC 8285 §4.2).
    auto ext_id = [&](std::string_view uri) -> uint8_t {
      uint8_t id = ok ? it->ExtensionId(uri) : 0;
      return id <= 14 ? id : 0;
    };
    c->mid_ext_id = ext_id(kExtMid);
    c->abs_send_time_ext_id = ext_id(kExtAbsSendTime);
    c->audio_level_ext_id = c->kind == MediaKind::kAudio ? ext_id(kExtAudioLevel) : 0;
    if (newly && recv_transport_->connected()) {
      c->producer->owner->RequestKeyFrame(*c->producer, c->target_layer);
    }
  }
  if (subscriptions_dirty_) {
    return std::optional<SubscribeOffer>(BuildOffer());
  }
  return std::optional<SubscribeOffer>();
}

void Peer::OnTransportConnected(WebRtcTransport& transport) {
  if (&transport != recv_transport_.get()) {
    return;
  }
  // The subscriber can decode only from a key frame.
  for (auto& c : consumers_) {
    if (c->negotiated && c->producer != nullptr && c->kind == MediaKind::kVideo) {
      c->producer->owner->RequestKeyFrame(*c->producer, c->target_layer);
    }
  }
}

void Peer::OnTransportClosed(WebRtcTransport&, const std::string& reason) {
  if (closed_reported_) {
    return;
  }
  closed_reported_ = true;
  if (events_.on_transport_closed) {
    events_.on_transport_closed(reason);
  }
}

std::pair<Producer*, int> Peer::ProducerForPacket(const RtpPacket& packet) {
  uint32_t ssrc = packet.ssrc();
  for (auto& p : producers_) {
    for (size_t i = 0; i < p->layers.size(); ++i) {
      if (p->layers[i].ssrc == ssrc || p->layers[i].rtx_ssrc == ssrc) {
        return {p.get(), static_cast<int>(i)};
      }
    }
  }
  // Not announced with a=ssrc (always so with simulcast): the mid header extension says which
  // section, the rid extension which layer.
  auto text = [](std::span<const uint8_t> v) {
    return std::string_view(reinterpret_cast<const char*>(v.data()), v.size());
  };
  for (auto& p : producers_) {
    if (p->mid_ext_id == 0 || text(packet.Extension(p->mid_ext_id)) != p->mid) {
      continue;
    }
    // An RTX stream names its layer with repaired-rid (RFC 8852 §3.2).
    bool rtx = p->codec.rtx_payload_type != 0 && packet.payload_type() == p->codec.rtx_payload_type;
    uint8_t rid_ext = rtx ? p->repaired_rid_ext_id : p->rid_ext_id;
    std::string_view rid = rid_ext != 0 ? text(packet.Extension(rid_ext)) : "";
    for (size_t i = 0; i < p->layers.size(); ++i) {
      ProducerLayer& layer = p->layers[i];
      uint32_t& known = rtx ? layer.rtx_ssrc : layer.ssrc;
      if (known == 0 && (p->layers.size() == 1 || layer.rid == rid)) {
        known = ssrc;
        return {p.get(), static_cast<int>(i)};
      }
    }
  }
  return {nullptr, 0};
}

void Peer::OnRtp(WebRtcTransport& transport, RtpPacket& packet) {
  if (&transport != send_transport_.get()) {
    return;  // subscribers do not send media on their receive connection
  }
  if (transport_cc_ext_id_ != 0) {
    // Every packet counts, probes and retransmissions included: the browser's controller
    // accounts for all it sent.
    std::span<const uint8_t> seq = packet.Extension(transport_cc_ext_id_);
    if (seq.size() == 2) {
      transport_cc_.OnPacket(Get16(seq.data()), Clock::now());
    }
  }
  auto [p, layer_index] = ProducerForPacket(packet);
  if (p == nullptr) {
    return;
  }
  const ProducerLayer& layer = p->layers[static_cast<size_t>(layer_index)];
  uint8_t pt = packet.payload_type();
  if (pt == p->codec.payload_type && packet.ssrc() == layer.ssrc) {
    OnProducerPacket(*p, layer_index, packet, false);
  } else if (pt == p->codec.rtx_payload_type && pt != 0 && packet.ssrc() == layer.rtx_ssrc) {
    OnProducerRtx(*p, layer_index, packet);
  }
}

void Peer::OnProducerRtx(Producer& p, int layer_index, RtpPacket& rtx) {
  ProducerLayer& layer = p.layers[static_cast<size_t>(layer_index)];
  std::span<const uint8_t> payload = rtx.payload();
  if (payload.size() < 2 || layer.ssrc == 0) {
    return;  // padding only (a browser probing for bandwidth), or a stream not learned yet
  }
  // The payload starts with the original sequence number; moving the header over it leaves the
  // original packet, whose payload type and SSRC are the media stream's.
  auto osn = static_cast<uint16_t>((payload[0] << 8) | payload[1]);
  std::span<uint8_t> bytes = rtx.bytes();
  std::memmove(bytes.data() + 2, bytes.data(), rtx.header_size());
  auto original = RtpPacket::Parse(bytes.subspan(2));
  if (!original) {
    return;
  }
  original->set_payload_type(p.codec.payload_type);
  original->set_ssrc(layer.ssrc);
  original->set_sequence(osn);
  WorkerStats::Bump(room_.worker().stats().rtx_received);
  OnProducerPacket(p, layer_index, *original, true);
}

void Peer::OnProducerPacket(Producer& p, int layer_index, const RtpPacket& packet, bool repair) {
  ProducerLayer& layer = p.layers[static_cast<size_t>(layer_index)];
  layer.last_packet = Clock::now();
  // A repaired packet is late by a round trip: its arrival says nothing of the path's jitter
  // (clock rate 0 leaves the jitter alone).
  layer.reception.OnPacket(packet.sequence(), packet.timestamp(), repair ? 0 : p.codec.clock_rate,
                           layer.last_packet);
  if (p.nack_enabled) {
    NackGaps(p, layer, packet.sequence());
  }
  // Twice the stated bitrate (browsers keep under it; a key frame or a retransmission burst
  // fits the one-second burst), Opus's 510 kbit/s maximum for audio.
  double rate = p.kind == MediaKind::kVideo
                    ? static_cast<double>(room_.worker().max_incoming_bitrate()) * 2 / 8
                    : 1'000'000.0 / 8;
  if (!p.budget.Take(static_cast<double>(packet.size()), rate, rate, layer.last_packet)) {
    WorkerStats::Bump(room_.worker().stats().dropped_over_bitrate);
    return;
  }
  if (p.kind == MediaKind::kAudio && p.audio_level_ext_id != 0) {
    if (auto level = AudioLevelOf(packet, p.audio_level_ext_id)) {
      p.loudness_sum += 127u - std::min<uint8_t>(*level, 127);
      p.loudness_count++;
    }
  }
  if (layer.retransmit != nullptr) {
    layer.retransmit->Store(packet.sequence(), packet.bytes());
  }
  Forward(p, layer_index, packet);
}

void Peer::NackGaps(Producer& producer, ProducerLayer& layer, uint16_t seq) {
  if (!layer.seq_started) {
    layer.seq_started = true;
    layer.highest_seq = seq;
    return;
  }
  auto ahead = static_cast<uint16_t>(seq - layer.highest_seq);
  if (ahead == 0 || ahead >= 0x8000) {
    return;  // a duplicate, a reordered or a retransmitted packet
  }
  // A gap: ask the publisher at once for what is missing (RFC 4585 §6.2.1). Larger holes are a
  // restart or a long outage, where a key frame request serves better.
  if (ahead > 1 && ahead <= kMaxNackGap && send_transport_ != nullptr &&
      send_transport_->connected()) {
    std::array<uint16_t, kMaxNackGap> missing;
    size_t n = 0;
    for (uint16_t s = static_cast<uint16_t>(layer.highest_seq + 1); s != seq; ++s) {
      missing[n++] = s;
    }
    uint8_t* buf = room_.worker().scratch();
    size_t len = BuildNack(kSfuRtcpSsrc, layer.ssrc, std::span<const uint16_t>(missing.data(), n),
                           std::span<uint8_t>(buf, kMaxRtpPacket));
    if (len > 0) {
      send_transport_->SendRtcp(buf, len);
      WorkerStats::Bump(room_.worker().stats().nacks_sent);
    }
  } else if (ahead > kMaxNackGap) {
    RequestKeyFrame(producer, static_cast<int>(&layer - producer.layers.data()));
  }
  layer.highest_seq = seq;
}

void Peer::Forward(Producer& producer, int layer, const RtpPacket& packet) {
  // Whether this packet starts a key frame matters only to consumers switching layers;
  // decided once for all of them. Codecs Ruche cannot inspect count as always switchable.
  bool key_frame = true;
  if (producer.kind == MediaKind::kVideo) {
    if (producer.codec.name == "VP8") {
      key_frame = IsVp8KeyFrame(packet.payload());
    } else if (producer.codec.name == "H264") {
      key_frame = IsH264KeyFrame(packet.payload());
    }
  }
  for (Consumer* c : producer.consumers) {
    if (c->negotiated) {
      c->subscriber->ForwardToConsumer(*c, layer, packet, key_frame);
    }
  }
}

void Peer::ForwardToConsumer(Consumer& c, int layer, const RtpPacket& packet, bool key_frame) {
  if (layer != c.current_layer) {
    // Switch only onto the target layer, and only at a key frame: the subscriber's decoder
    // could not use anything else.
    if (layer != c.target_layer || !key_frame) {
      return;
    }
    if (c.out_started) {
      // Continue the subscriber's numbering where the previous layer stopped (one frame later
      // for the timestamp, at 90 kHz), so its jitter buffer sees one stream.
      c.seq_offset = static_cast<uint16_t>(c.last_out_seq + 1 - packet.sequence());
      c.timestamp_offset = c.last_out_timestamp + 3000 - packet.timestamp();
    }
    c.current_layer = layer;
    c.switch_seq = static_cast<uint16_t>(packet.sequence() + c.seq_offset);
  }
  SendToConsumer(c, packet.bytes());
}

void Peer::SendToConsumer(Consumer& consumer, std::span<const uint8_t> packet) {
  auto out = RewriteForConsumer(consumer, packet);
  if (!out) {
    return;
  }
  WorkerStats::Bump(room_.worker().stats().rtp_forwarded);
  recv_transport_->SendRtp(out->bytes().data(), out->size());
}

void Peer::Retransmit(Consumer& consumer, std::span<const uint8_t> packet) {
  WorkerStats::Bump(room_.worker().stats().retransmissions_sent);
  if (!consumer.rtx_negotiated || packet.size() + 2 > kMaxRtpPacket) {
    SendToConsumer(consumer, packet);
    return;
  }
  auto out = RewriteForConsumer(consumer, packet);
  if (!out) {
    return;
  }
  // RFC 4588 §4: the RTX packet is the original's header with the RTX payload type, SSRC and
  // sequence number, then the original sequence number, then the original payload (padding
  // dropped).
  uint8_t* buf = out->bytes().data();
  size_t header = out->header_size();
  size_t payload = out->payload().size();
  uint16_t osn = out->sequence();
  std::memmove(buf + header + 2, buf + header, payload);
  buf[header] = static_cast<uint8_t>(osn >> 8);
  buf[header + 1] = static_cast<uint8_t>(osn);
  buf[0] &= static_cast<uint8_t>(~0x20);  // no padding
  out->set_payload_type(consumer.codec.rtx_payload_type);
  out->set_ssrc(consumer.rtx_ssrc);
  out->set_sequence(consumer.rtx_seq++);
  recv_transport_->SendRtp(buf, header + 2 + payload);
}

std::optional<RtpPacket> Peer::RewriteForConsumer(Consumer& consumer,
                                                  std::span<const uint8_t> packet) {
  if (recv_transport_ == nullptr || !recv_transport_->connected() ||
      packet.size() > kMaxRtpPacket) {
    return std::nullopt;
  }
  // Copied behind a headroom: the header is rebuilt in front of the payload, which stays put.
  std::span<uint8_t> area(room_.worker().scratch(), kScratchSize);
  uint8_t* buf = area.data() + kExtensionHeadroom;
  std::memcpy(buf, packet.data(), packet.size());
  auto in = RtpPacket::Parse(std::span<uint8_t>(buf, packet.size()));
  if (!in) {
    return std::nullopt;
  }
  // The subscriber's extensions with its ids, in place of the publisher's elements (whose ids
  // mean nothing to the subscriber, and whose transport-wide sequence numbers are the
  // publisher's path's).
  OneByteExtensions ext;
  if (consumer.mid_ext_id != 0) {
    ext.Add(consumer.mid_ext_id,
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(consumer.mid.data()),
                                     consumer.mid.size()));
  }
  if (consumer.abs_send_time_ext_id != 0) {
    auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch());
    uint32_t t = AbsSendTime(static_cast<uint64_t>(us.count()));
    const uint8_t value[3] = {static_cast<uint8_t>(t >> 16), static_cast<uint8_t>(t >> 8),
                              static_cast<uint8_t>(t)};
    ext.Add(consumer.abs_send_time_ext_id, value);
  }
  if (consumer.audio_level_ext_id != 0 && consumer.producer != nullptr &&
      consumer.producer->audio_level_ext_id != 0) {
    auto level = in->Extension(consumer.producer->audio_level_ext_id);
    if (level.size() == 1) {
      ext.Add(consumer.audio_level_ext_id, level);
    }
  }
  auto out = ReplaceExtensions(area, *in, ext);
  if (!out) {
    return std::nullopt;
  }
  out->set_ssrc(consumer.ssrc);
  out->set_payload_type(consumer.codec.payload_type);
  auto out_seq = static_cast<uint16_t>(out->sequence() + consumer.seq_offset);
  uint32_t out_ts = out->timestamp() + consumer.timestamp_offset;
  out->set_sequence(out_seq);
  out->set_timestamp(out_ts);
  if (!consumer.out_started || static_cast<uint16_t>(out_seq - consumer.last_out_seq) < 0x8000) {
    consumer.out_started = true;
    consumer.last_out_seq = out_seq;
    consumer.last_out_timestamp = out_ts;
  }
  return out;
}

Consumer* Peer::ConsumerBySsrc(uint32_t ssrc) {
  for (auto& c : consumers_) {
    if (c->ssrc == ssrc) {
      return c.get();
    }
  }
  return nullptr;
}

void Peer::OnRtcp(WebRtcTransport& transport, std::span<const uint8_t> compound) {
  if (&transport == recv_transport_.get()) {
    OnSubscriberRtcp(compound);
  } else if (&transport == send_transport_.get()) {
    OnPublisherRtcp(compound);
  }
}

void Peer::OnPublisherRtcp(std::span<const uint8_t> compound) {
  // Sender reports map each stream's RTP clock to wall-clock time: subscribers need them to
  // play audio and video in sync. Each goes on to the consumers currently on that stream, in
  // their SSRC and timestamp space, without the publisher's reception blocks.
  ForEachRtcpPacket(compound, [&](const RtcpPacketView& packet) {
    if (!IsSenderReport(packet)) {
      return;
    }
    SenderInfo info = SenderInfoOf(packet);
    for (auto& p : producers_) {
      for (size_t i = 0; i < p->layers.size(); ++i) {
        if (p->layers[i].ssrc != info.ssrc) {
          continue;
        }
        p->layers[i].reception.OnSenderReport(info.ntp_timestamp, Clock::now());
        for (Consumer* c : p->consumers) {
          if (c->negotiated && c->current_layer == static_cast<int>(i)) {
            c->subscriber->SendSenderReport(*c, info);
          }
        }
        return;
      }
    }
  });
}

void Peer::SendSenderReport(Consumer& consumer, SenderInfo info) {
  if (recv_transport_ == nullptr || !recv_transport_->connected()) {
    return;
  }
  info.ssrc = consumer.ssrc;
  info.rtp_timestamp += consumer.timestamp_offset;
  uint8_t* buf = room_.worker().scratch();
  size_t n = BuildSenderReport(info, std::span<uint8_t>(buf, kMaxRtpPacket));
  if (n > 0) {
    recv_transport_->SendRtcp(buf, n);
  }
}

void Peer::OnSubscriberRtcp(std::span<const uint8_t> compound) {
  ForEachRtcpPacket(compound, [&](const RtcpPacketView& packet) {
    if (IsReceiverReport(packet)) {
      // Loss on the way to the subscriber (for the media streams, RTX repairs not counted):
      // the signal that its path cannot take what it is sent.
      uint8_t worst = 0;
      bool any = false;
      ForEachReportBlock(packet, [&](const ReportBlock& block) {
        Consumer* c = ConsumerBySsrc(block.ssrc);
        if (c != nullptr && c->kind == MediaKind::kVideo && c->negotiated) {
          worst = std::max(worst, block.fraction_lost);
          any = true;
        }
      });
      if (any) {
        OnSubscriberLoss(worst);
      }
      return;
    }
    if (IsPictureLossIndication(packet) || IsFullIntraRequest(packet)) {
      Consumer* c = ConsumerBySsrc(MediaSsrcOf(packet));
      if (c != nullptr && c->producer != nullptr) {
        c->producer->owner->RequestKeyFrame(
            *c->producer, c->current_layer >= 0 ? c->current_layer : c->target_layer);
      }
      return;
    }
    if (IsGenericNack(packet)) {
      Consumer* c = ConsumerBySsrc(MediaSsrcOf(packet));
      if (c == nullptr || c->producer == nullptr || !c->negotiated || c->current_layer < 0) {
        return;
      }
      ProducerLayer& layer = c->producer->layers[static_cast<size_t>(c->current_layer)];
      if (layer.retransmit == nullptr) {
        return;
      }
      WorkerStats::Bump(room_.worker().stats().nacks_received);
      ForEachNackedSequence(packet, [&](uint16_t seq) {
        if (static_cast<uint16_t>(seq - c->switch_seq) >= 0x8000) {
          return;  // sent from the previous layer: its packets are not this layer's
        }
        auto stored = layer.retransmit->Find(static_cast<uint16_t>(seq - c->seq_offset));
        if (!stored.empty()) {
          Retransmit(*c, stored);
        }
      });
    }
  });
}

void Peer::RequestKeyFrame(Producer& producer, int layer_index) {
  if (producer.kind != MediaKind::kVideo || layer_index < 0 ||
      static_cast<size_t>(layer_index) >= producer.layers.size()) {
    return;
  }
  ProducerLayer& layer = producer.layers[static_cast<size_t>(layer_index)];
  auto now = Clock::now();
  if (now - layer.last_keyframe_request >= kKeyFrameRequestInterval) {
    SendKeyFrameRequest(layer);
  } else {
    layer.keyframe_request_pending = true;  // sent by OnTimer when the second is up
  }
}

void Peer::SendKeyFrameRequest(ProducerLayer& layer) {
  layer.last_keyframe_request = Clock::now();
  layer.keyframe_request_pending = false;
  if (send_transport_ == nullptr || !send_transport_->connected() || layer.ssrc == 0) {
    return;
  }
  uint8_t* buf = room_.worker().scratch();
  size_t n = BuildPli(kSfuRtcpSsrc, layer.ssrc, std::span<uint8_t>(buf, kMaxRtpPacket));
  if (n > 0) {
    send_transport_->SendRtcp(buf, n);
    WorkerStats::Bump(room_.worker().stats().keyframe_requests_sent);
  }
}

void Peer::SetPreferredLayer(const std::string& producer_id, int layer) {
  for (auto& c : consumers_) {
    if (c->producer_id == producer_id && c->producer != nullptr) {
      c->preferred_layer = layer;
    }
  }
  UpdateTargetLayers(Clock::now());
}

int Peer::LayerCeiling(const Consumer& c, Clock::time_point now) const {
  // A layer counts as received if a packet came in the last 1.5 s (an encoder may pause the
  // upper layers when the publisher's bandwidth or CPU drops).
  constexpr auto kActive = std::chrono::milliseconds(1500);
  const Producer* p = c.producer;
  int layer = std::min<int>(c.preferred_layer, static_cast<int>(p->layers.size()) - 1);
  while (layer > 0 && now - p->layers[static_cast<size_t>(layer)].last_packet > kActive) {
    --layer;
  }
  return layer;
}

template <typename Fn>
bool Peer::AdjustBandwidthCaps(Clock::time_point now, Fn fn) {
  layer_slots_.clear();
  slot_consumers_.clear();
  for (auto& c : consumers_) {
    if (c->producer != nullptr && c->producer->layers.size() >= 2 && c->negotiated) {
      layer_slots_.push_back({.ceiling = LayerCeiling(*c, now), .cap = c->bandwidth_cap});
      slot_consumers_.push_back(c.get());
    }
  }
  bool changed = fn(std::span<LayerSlot>(layer_slots_));
  for (size_t i = 0; i < slot_consumers_.size(); ++i) {
    slot_consumers_[i]->bandwidth_cap = layer_slots_[i].cap;
  }
  return changed;
}

void Peer::OnSubscriberLoss(uint8_t fraction_lost) {
  auto now = Clock::now();
  if (AdjustBandwidthCaps(now, [&](std::span<LayerSlot> slots) {
        return layer_budget_.OnLoss(fraction_lost, now, slots);
      })) {
    WorkerStats::Bump(room_.worker().stats().layer_downgrades);
    UpdateTargetLayers(now);
  }
}

void Peer::UpdateTargetLayers(Clock::time_point now) {
  if (AdjustBandwidthCaps(
          now, [&](std::span<LayerSlot> slots) { return layer_budget_.OnTick(now, slots); })) {
    WorkerStats::Bump(room_.worker().stats().layer_probes);
  }
  for (auto& c : consumers_) {
    Producer* p = c->producer;
    if (p == nullptr || p->layers.size() < 2 || !c->negotiated) {
      continue;
    }
    int target = std::min(LayerCeiling(*c, now), c->bandwidth_cap);
    c->target_layer = target;
    // Until the switch happens, keep asking (RequestKeyFrame throttles to one a second per
    // layer): a lost PLI, or an encoder that ignored one, must not strand the subscriber.
    if (target != c->current_layer) {
      p->owner->RequestKeyFrame(*p, target);
    }
  }
}

void Peer::SendReceiverReports(Clock::time_point now) {
  // Once a second, one compound toward the publisher:
  // - a receiver report (RFC 3550 §6.4.2) with a block per stream received: the browser's
  //   bandwidth estimator reads the loss, and its stats the loss, jitter and round-trip time;
  // - REMB (draft-alvestrand-rmcat-remb): how much the publisher may send. Without it a browser
  //   never learns it may go past its start bitrate, and would not send its upper simulcast
  //   layers. Ruche does no congestion control toward itself yet: it states a fixed ceiling.
  if (now < next_receiver_report_ || send_transport_ == nullptr || !send_transport_->connected()) {
    return;
  }
  next_receiver_report_ = now + std::chrono::seconds(1);
  std::array<ReportBlock, kMaxReportBlocks> blocks;
  size_t block_count = 0;
  std::array<uint32_t, 16> video_ssrcs;
  size_t video_count = 0;
  for (const auto& p : producers_) {
    for (auto& layer : p->layers) {
      if (layer.ssrc == 0) {
        continue;
      }
      if (block_count < blocks.size() &&
          layer.reception.Report(layer.ssrc, now, blocks[block_count])) {
        block_count++;
      }
      if (p->kind == MediaKind::kVideo && video_count < video_ssrcs.size()) {
        video_ssrcs[video_count++] = layer.ssrc;
      }
    }
  }
  uint8_t* buf = room_.worker().scratch();
  std::span<uint8_t> out(buf, kMaxRtpPacket);
  size_t len = block_count > 0 ? BuildReceiverReport(
                                     kSfuRtcpSsrc,
                                     std::span<const ReportBlock>(blocks.data(), block_count), out)
                               : 0;
  if (video_count > 0) {
    len += BuildRemb(kSfuRtcpSsrc, room_.worker().max_incoming_bitrate(),
                     std::span<const uint32_t>(video_ssrcs.data(), video_count), out.subspan(len));
  }
  if (len > 0) {
    send_transport_->SendRtcp(buf, len);
  }
}

void Peer::OnTimer(Clock::time_point now) {
  if (send_transport_ != nullptr) {
    send_transport_->OnTimer(now);
  }
  if (recv_transport_ != nullptr) {
    recv_transport_->OnTimer(now);
  }
  for (auto& p : producers_) {
    for (auto& layer : p->layers) {
      if (layer.keyframe_request_pending &&
          now - layer.last_keyframe_request >= kKeyFrameRequestInterval) {
        SendKeyFrameRequest(layer);
      }
    }
  }
  SendReceiverReports(now);
  SendTransportCcFeedback(now);
}

void Peer::SendTransportCcFeedback(Clock::time_point now) {
  // Every 100 ms, as browsers do as receivers: often enough for the sender to see a queue
  // grow within a few round trips.
  if (now < next_transport_cc_ || send_transport_ == nullptr || !send_transport_->connected()) {
    return;
  }
  next_transport_cc_ = now + std::chrono::milliseconds(100);
  uint32_t media_ssrc = 0;
  if (!producers_.empty()) {
    media_ssrc = producers_.front()->layers.front().ssrc;
  }
  // Two packets at most per turn (1,000 packets in 100 ms is 100 Mbit/s of video).
  for (int i = 0; i < 2 && transport_cc_.HasPending(); ++i) {
    uint8_t* buf = room_.worker().scratch();
    size_t n = transport_cc_.BuildFeedback(kSfuRtcpSsrc, media_ssrc,
                                           std::span<uint8_t>(buf, kMaxRtpPacket));
    if (n == 0) {
      return;
    }
    send_transport_->SendRtcp(buf, n);
    WorkerStats::Bump(room_.worker().stats().transport_cc_feedback_sent);
  }
}

// ---- Room ----

Room::Room(WorkerContext& worker, std::string id, RoomEvents events)
    : worker_(worker), id_(std::move(id)), events_(std::move(events)) {
  RAND_bytes(reinterpret_cast<unsigned char*>(&next_ssrc_), sizeof(next_ssrc_));
}

Room::~Room() {
  // Peers point at each other's producers: detach everything before destroying any of them.
  for (auto& [id, peer] : peers_) {
    peer->RemoveAllProducers();
  }
  peers_.clear();
}

Peer& Room::AddPeer(const std::string& peer_id, PeerEvents events) {
  RemovePeer(peer_id);
  auto& slot = peers_[peer_id];
  slot = std::make_unique<Peer>(*this, peer_id, std::move(events));
  return *slot;
}

std::vector<std::string> Room::RemovePeer(const std::string& peer_id) {
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) {
    return {};
  }
  std::vector<std::string> removed = it->second->RemoveAllProducers();
  peers_.erase(it);
  if (active_speaker_ == peer_id) {
    active_speaker_.clear();
  }
  return removed;
}

Peer* Room::FindPeer(const std::string& peer_id) {
  auto it = peers_.find(peer_id);
  return it == peers_.end() ? nullptr : it->second.get();
}

Producer* Room::FindProducer(const std::string& producer_id) {
  for (auto& [id, peer] : peers_) {
    if (Producer* p = peer->FindProducer(producer_id)) {
      return p;
    }
  }
  return nullptr;
}

void Room::DetachProducer(Producer& producer) {
  for (auto& [id, peer] : peers_) {
    peer->DetachProducer(producer);
  }
  producer.consumers.clear();
}

uint32_t Room::NextSsrc() {
  // Distinct within the room; never 0 (0 means "unknown" in Producer).
  do {
    next_ssrc_ += 1;
  } while (next_ssrc_ == 0 || next_ssrc_ == kSfuRtcpSsrc);
  return next_ssrc_;
}

void Room::OnTimer(Clock::time_point now) {
  for (auto& [id, peer] : peers_) {
    peer->OnTimer(now);
  }
  if (now >= next_layer_check_) {
    next_layer_check_ = now + std::chrono::milliseconds(500);
    for (auto& [id, peer] : peers_) {
      peer->UpdateTargetLayers(now);
    }
  }
  if (now >= next_speaker_check_) {
    next_speaker_check_ = now + kActiveSpeakerInterval;
    UpdateActiveSpeaker();
  }
}

void Room::UpdateActiveSpeaker() {
  std::string loudest;
  uint64_t best = 0;
  for (auto& [id, peer] : peers_) {
    for (const auto& p : peer->producers()) {
      if (p->kind != MediaKind::kAudio || p->loudness_count == 0) {
        continue;
      }
      uint64_t average = p->loudness_sum / p->loudness_count;
      p->loudness_sum = 0;
      p->loudness_count = 0;
      if (average >= kSpeakingLoudness && average > best) {
        best = average;
        loudest = id;
      }
    }
  }
  if (!loudest.empty() && loudest != active_speaker_) {
    active_speaker_ = loudest;
    if (events_.on_active_speaker) {
      events_.on_active_speaker(loudest);
    }
  }
}

}  // namespace ruche::rtc
