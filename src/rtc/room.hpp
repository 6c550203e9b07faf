#pragma once
// A room on one worker: its peers, their producers (tracks they publish) and consumers (tracks
// they receive), and the forwarding between them. Internal to src/rtc: everything here runs on
// the owning worker's thread, so nothing is locked.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rtc/layer_budget.hpp"
#include "rtc/reception_stats.hpp"
#include "rtc/rtcp_packet.hpp"
#include "rtc/rtp_packet.hpp"
#include "rtc/sdp.hpp"
#include "rtc/sfu.hpp"
#include "rtc/token_bucket.hpp"
#include "rtc/transport_cc.hpp"
#include "rtc/webrtc_transport.hpp"

namespace ruche::rtc {

class Peer;
class Room;
struct Consumer;

// What a worker lends to its rooms.
class WorkerContext : public TransportHost {
 public:
  virtual std::shared_ptr<DtlsContext> dtls_context() = 0;
  virtual const std::string& announced_ip() = 0;
  virtual uint16_t udp_port() = 0;
  // The ICE-TCP passive candidate's port, or 0 for none.
  virtual uint16_t tcp_port() = 0;
  // A per-worker buffer for one outgoing packet (MTU + SRTP trailer): consumers copy into it,
  // rewrite, encrypt and send, so forwarding never allocates.
  virtual uint8_t* scratch() = 0;
  // What publishers are told they may send (REMB), in bits per second.
  virtual uint64_t max_incoming_bitrate() = 0;
  virtual void RegisterUfrag(const std::string& ufrag, WebRtcTransport* transport) = 0;
};

inline constexpr size_t kMaxRtpPacket = 1500;
// Room for a forwarded packet's header to grow in front of it (kExtensionHeadroom), the packet,
// and the SRTP trailer.
inline constexpr size_t kScratchSize = kExtensionHeadroom + kMaxRtpPacket + kSrtpTrailerRoom;

// The last packets of a video producer, to answer NACKs (RFC 4585 §6.2.1) without asking the
// publisher. Indexed by sequence number modulo the size.
class RetransmitBuffer {
 public:
  static constexpr size_t kSlots = 256;
  void Store(uint16_t seq, std::span<const uint8_t> packet);
  // The stored packet with exactly `seq`, or empty.
  std::span<const uint8_t> Find(uint16_t seq) const;

 private:
  struct Slot {
    uint16_t seq = 0;
    uint16_t length = 0;  // 0 = empty
    std::array<uint8_t, kMaxRtpPacket> data;
  };
  std::unique_ptr<std::array<Slot, kSlots>> slots_ = std::make_unique<std::array<Slot, kSlots>>();
};

// One encoding of a producer: its only one, or one simulcast layer (by rid, lowest first).
struct ProducerLayer {
  using Clock = std::chrono::steady_clock;
  std::string rid;    // empty without simulcast
  uint32_t ssrc = 0;  // from a=ssrc, or learned from the mid/rid header extensions
  // RFC 4588: the SSRC of this layer's retransmissions (a=ssrc-group:FID, or learned from the
  // mid/repaired-rid extensions), or 0.
  uint32_t rtx_ssrc = 0;
  // Loss toward Ruche: gaps in the sequence are NACKed to the publisher (video with "nack").
  bool seq_started = false;
  uint16_t highest_seq = 0;
  std::unique_ptr<RetransmitBuffer> retransmit;  // video only
  Clock::time_point last_packet{};
  // PLI/FIR throttling: at most one keyframe request per second per layer.
  Clock::time_point last_keyframe_request{};
  bool keyframe_request_pending = false;
  // What the receiver reports to the publisher once a second tell about this stream.
  ReceptionStats reception;
};

struct Producer {
  using Clock = std::chrono::steady_clock;
  std::string id;
  Peer* owner = nullptr;
  MediaKind kind = MediaKind::kAudio;
  std::string mid;  // of the publisher's m= section
  Codec codec;      // the publisher's payload type
  uint8_t mid_ext_id = 0;
  uint8_t rid_ext_id = 0;
  uint8_t audio_level_ext_id = 0;
  uint8_t repaired_rid_ext_id = 0;
  bool nack_enabled = false;
  std::vector<ProducerLayer> layers;  // at least one
  std::vector<Consumer*> consumers;
  // What this track may push through the forwarding path (bytes): a participant flooding the
  // worker is cut off at twice the bitrate it was told it may send, before any fan-out.
  TokenBucket budget;
  // Audio loudness over the current active-speaker window (127 - level in -dBov).
  uint64_t loudness_sum = 0;
  uint32_t loudness_count = 0;
};

struct Consumer {
  Peer* subscriber = nullptr;
  Producer* producer = nullptr;  // null once the producer is gone
  std::string producer_id;
  std::string publisher_id;
  std::string mid;
  MediaKind kind = MediaKind::kAudio;
  Codec codec;        // Ruche's payload type toward this subscriber
  uint32_t ssrc = 0;  // Ruche's SSRC toward this subscriber
  // RFC 4588 retransmissions toward this subscriber (video with NACK): their own SSRC and
  // numbering, used once the subscriber's answer accepted codec.rtx_payload_type.
  uint32_t rtx_ssrc = 0;
  uint16_t rtx_seq = 0;
  bool rtx_negotiated = false;
  // The header extensions the subscriber's answer accepted, by its ids (0: not accepted). Each
  // forwarded packet carries exactly these, rebuilt, never the publisher's own elements.
  uint8_t mid_ext_id = 0;
  uint8_t abs_send_time_ext_id = 0;
  uint8_t audio_level_ext_id = 0;
  bool wanted = true;       // subscribed (false: unsubscribed, section inactive)
  bool negotiated = false;  // the browser answered an offer containing it
  // Simulcast: the subscriber's wish, the layer it should get (the highest layer at most the
  // wish that is being received), and the layer it gets (switched on a key frame).
  int preferred_layer = 2;
  // What the subscriber's path has shown it can take (LayerBudget): starts at the top.
  int bandwidth_cap = LayerBudget::kTopLayer;
  int target_layer = 0;
  int current_layer = -1;  // nothing forwarded yet
  bool out_started = false;
  uint16_t last_out_seq = 0;
  uint32_t last_out_timestamp = 0;
  uint16_t switch_seq = 0;  // the first sequence number sent from the current layer
  // Per-subscriber rewriting: what is added to the producer's numbers (simulcast switches
  // move these so the subscriber sees one continuous stream).
  uint16_t seq_offset = 0;
  uint32_t timestamp_offset = 0;
};

class Peer final : public TransportListener {
 public:
  Peer(Room& room, std::string id, PeerEvents events);
  ~Peer() override;

  const std::string& id() const { return id_; }
  Result<PublishResult> Publish(const std::string& offer_sdp);
  Result<std::optional<SubscribeOffer>> UpdateSubscriptions(const std::vector<std::string>& add,
                                                            const std::vector<std::string>& remove);
  Result<std::optional<SubscribeOffer>> AnswerSubscription(const std::string& answer_sdp);
  // The producer went away: its consumers here stop (the section becomes inactive next offer).
  void DetachProducer(Producer& producer);
  std::vector<std::string> RemoveAllProducers();
  const std::vector<std::unique_ptr<Producer>>& producers() const { return producers_; }
  Producer* FindProducer(const std::string& id);
  void OnTimer(std::chrono::steady_clock::time_point now);
  void RequestKeyFrame(Producer& producer, int layer);
  void SetPreferredLayer(const std::string& producer_id, int layer);
  // Moves consumers' target layers to what is being received and what the subscriber's path
  // takes (every 500 ms).
  void UpdateTargetLayers(std::chrono::steady_clock::time_point now);

  // TransportListener
  void OnTransportConnected(WebRtcTransport& transport) override;
  void OnTransportClosed(WebRtcTransport& transport, const std::string& reason) override;
  void OnRtp(WebRtcTransport& transport, RtpPacket& packet) override;
  void OnRtcp(WebRtcTransport& transport, std::span<const uint8_t> compound) override;

 private:
  std::unique_ptr<WebRtcTransport> NewTransport();
  LocalTransport LocalOf(const WebRtcTransport& transport) const;
  SubscribeOffer BuildOffer();
  // The producer and layer a publisher's packet belongs to (learning SSRCs from mid/rid).
  std::pair<Producer*, int> ProducerForPacket(const RtpPacket& packet);
  // A publisher's media packet, or one repaired from its RTX stream (`repair`).
  void OnProducerPacket(Producer& producer, int layer, const RtpPacket& packet, bool repair);
  // RFC 4588 §4: restores the original packet from an RTX one, in place, and handles it.
  void OnProducerRtx(Producer& producer, int layer, RtpPacket& rtx);
  void Forward(Producer& producer, int layer, const RtpPacket& packet);
  void NackGaps(Producer& producer, ProducerLayer& layer, uint16_t seq);
  void ForwardToConsumer(Consumer& consumer, int layer, const RtpPacket& packet, bool key_frame);
  void SendToConsumer(Consumer& consumer, std::span<const uint8_t> packet);
  // Answers a subscriber's NACK with a stored packet: on the consumer's RTX stream when
  // negotiated, else again on its media stream.
  void Retransmit(Consumer& consumer, std::span<const uint8_t> packet);
  // Copies `packet` into the worker's scratch buffer rewritten for `consumer` (SSRC, payload
  // type, sequence number, timestamp); nullopt when it cannot be sent.
  std::optional<RtpPacket> RewriteForConsumer(Consumer& consumer, std::span<const uint8_t> packet);
  void SendReceiverReports(std::chrono::steady_clock::time_point now);
  void SendTransportCcFeedback(std::chrono::steady_clock::time_point now);
  void OnSubscriberRtcp(std::span<const uint8_t> compound);
  void OnPublisherRtcp(std::span<const uint8_t> compound);
  void SendSenderReport(Consumer& consumer, SenderInfo info);
  Consumer* ConsumerBySsrc(uint32_t ssrc);
  // The highest layer `c` may get from what it wants and what the publisher sends now.
  int LayerCeiling(const Consumer& c, std::chrono::steady_clock::time_point now) const;
  // Runs `fn(std::span<LayerSlot>)` over the simulcast consumers and keeps the caps it sets.
  template <typename Fn>
  bool AdjustBandwidthCaps(std::chrono::steady_clock::time_point now, Fn fn);
  // The worst loss a subscriber's receiver report gives for Ruche's videos.
  void OnSubscriberLoss(uint8_t fraction_lost);
  void SendKeyFrameRequest(ProducerLayer& layer);

  Room& room_;
  std::string id_;
  PeerEvents events_;
  std::unique_ptr<WebRtcTransport> send_transport_;
  std::unique_ptr<WebRtcTransport> recv_transport_;
  std::vector<std::unique_ptr<Producer>> producers_;
  std::vector<std::unique_ptr<Consumer>> consumers_;  // index = mid
  bool offer_outstanding_ = false;
  bool subscriptions_dirty_ = false;
  uint64_t offer_version_ = 1;
  bool closed_reported_ = false;
  std::chrono::steady_clock::time_point next_receiver_report_{};
  // Transport-wide congestion control toward the publisher: the extension's id in its packets
  // (0: not negotiated), their arrivals, and when feedback is next due.
  uint8_t transport_cc_ext_id_ = 0;
  // As a subscriber: the layers the receive path takes, and scratch for its slots.
  LayerBudget layer_budget_;
  std::vector<LayerSlot> layer_slots_;
  std::vector<Consumer*> slot_consumers_;
  TransportCcRecorder transport_cc_;
  std::chrono::steady_clock::time_point next_transport_cc_{};
};

class Room {
 public:
  Room(WorkerContext& worker, std::string id, RoomEvents events);
  ~Room();
  WorkerContext& worker() { return worker_; }
  const std::string& id() const { return id_; }
  Peer& AddPeer(const std::string& peer_id, PeerEvents events);
  // Returns the ids of the producers that went away with the peer.
  std::vector<std::string> RemovePeer(const std::string& peer_id);
  Peer* FindPeer(const std::string& peer_id);
  Producer* FindProducer(const std::string& producer_id);
  // Tells every peer's consumers that `producer` is about to be destroyed.
  void DetachProducer(Producer& producer);
  bool empty() const { return peers_.empty(); }
  size_t size() const { return peers_.size(); }
  void OnTimer(std::chrono::steady_clock::time_point now);
  uint32_t NextSsrc();

 private:
  void UpdateActiveSpeaker();

  WorkerContext& worker_;
  std::string id_;
  RoomEvents events_;
  std::map<std::string, std::unique_ptr<Peer>> peers_;
  std::chrono::steady_clock::time_point next_speaker_check_{};
  std::chrono::steady_clock::time_point next_layer_check_{};
  std::string active_speaker_;
  uint32_t next_ssrc_;
};

}  // namespace ruche::rtc
