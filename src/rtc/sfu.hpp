#pragma once
// Ruche's SFU (selective forwarding unit), the public face of src/rtc: rooms of peers, each with
// a send transport (what the browser publishes) and a receive transport (what it subscribes
// to). One worker thread per core owns its UDP sockets and its rooms; a room lives on one worker.
// Every call below is asynchronous and thread-safe: it runs on the room's worker and calls
// `done` (or the event callbacks) there — callers hop back to their own thread.
//
// The SFU knows nothing of HTTP, accounts or meetings: it forwards packets between the peers it
// is told about (see docs/architecture.md, "Meetings media plane").
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "rtc/sdp.hpp"

namespace ruche::rtc {

struct SfuOptions {
  std::string listen_ip = "127.0.0.1";  // the media socket's address
  uint16_t udp_port = 8009;             // 0 = any free port (tests)
  std::string announced_ip;             // in SDP candidates; empty = listen_ip
  int workers = 0;                      // 0 = one per core
  // Tests only: drop this share of media packets, both from publishers and to subscribers, to
  // exercise NACK recovery (rtc.test_loss_percent).
  double test_loss_percent = 0;
  // Tests only: the bitrate each subscriber connection's media is policed to (0: none), as a
  // narrow downlink would, to exercise layer choice by bandwidth (rtc_test_subscriber_kbps).
  uint64_t test_subscriber_bitrate = 0;
  // The bitrate each publisher is told (REMB) it may send per video track, all simulcast layers
  // together.
  uint64_t max_incoming_bitrate = 3'000'000;
  // Send each subscriber's share of a wake-up with UDP GSO (see send_batch.hpp).
  bool gso = true;
  // Listen for ICE-TCP on the media port number too, and offer it as a passive candidate.
  bool tcp = true;
};

struct ProducerInfo {
  std::string producer_id;
  std::string peer_id;
  MediaKind kind = MediaKind::kAudio;
};

struct PublishResult {
  std::string answer_sdp;
  std::vector<ProducerInfo> producers;            // every producer of this peer now
  std::vector<std::string> removed_producer_ids;  // those the new offer dropped
};

struct ConsumerInfo {
  std::string mid;
  std::string producer_id;
  std::string peer_id;  // the publisher
  MediaKind kind = MediaKind::kAudio;
};

struct SubscribeOffer {
  std::string sdp;
  std::vector<ConsumerInfo> consumers;  // the active ones, by mid
};

// Called on the worker thread.
struct PeerEvents {
  // A transport failed (DTLS error, consent expired): the peer should reconnect or leave.
  std::function<void(std::string reason)> on_transport_closed;
};
struct RoomEvents {
  // The loudest participant changed (RFC 6464 audio levels), checked every 300 ms.
  std::function<void(std::string peer_id)> on_active_speaker;
};

struct SfuCounters {
  uint64_t rooms = 0;  // now
  uint64_t peers = 0;  // now
  uint64_t datagrams_in = 0;
  uint64_t datagrams_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t rtp_forwarded = 0;               // RTP packets sent to subscribers
  uint64_t nacks_received = 0;              // from subscribers
  uint64_t retransmissions_sent = 0;        // NACKed packets resent from the buffer
  uint64_t rtx_received = 0;                // publishers' RFC 4588 retransmissions, unwrapped
  uint64_t transport_cc_feedback_sent = 0;  // transport-wide feedback packets to publishers
  uint64_t layer_downgrades = 0;            // simulcast steps down for a congested subscriber path
  uint64_t layer_probes = 0;                // steps back up, as probes
  uint64_t nacks_sent = 0;                  // to publishers, for gaps Ruche saw
  uint64_t keyframe_requests_sent = 0;      // PLIs to publishers (after throttling)
  uint64_t dropped_unauthenticated = 0;     // from addresses/ufrags no STUN check vouched for
  uint64_t dropped_undecryptable = 0;       // SRTP authentication or replay failures
  uint64_t dropped_malformed = 0;
  uint64_t dropped_test_loss = 0;      // rtc.test_loss_percent
  uint64_t dropped_rate_limited = 0;   // unvouched sources over their budget
  uint64_t dropped_tcp_congested = 0;  // ICE-TCP packets the connection's backlog had no room for
  uint64_t dropped_over_bitrate = 0;   // media over a track's budget (a flooding publisher)
};

class Sfu {
 public:
  static Result<std::unique_ptr<Sfu>> Start(const SfuOptions& options);
  ~Sfu();  // stops the workers (pending callbacks are dropped)
  Sfu(const Sfu&) = delete;
  Sfu& operator=(const Sfu&) = delete;

  uint16_t udp_port() const;
  int workers() const;

  // Creates the room on first use. A peer id already present is replaced.
  void AddPeer(const std::string& room_id, const std::string& peer_id, PeerEvents peer_events,
               RoomEvents room_events, std::function<void()> done);
  void RemovePeer(const std::string& room_id, const std::string& peer_id,
                  std::function<void(std::vector<std::string> removed_producer_ids)> done);

  // The browser's send-connection offer; the answer and the peer's producers.
  void Publish(const std::string& room_id, const std::string& peer_id, std::string offer_sdp,
               std::function<void(Result<PublishResult>)> done);

  // Adds and removes subscriptions (unknown producer ids are ignored). When the receive
  // connection needs a new offer and none is outstanding, `done` gets it; otherwise nullopt
  // (the changes go into the offer that follows the pending answer).
  void UpdateSubscriptions(const std::string& room_id, const std::string& peer_id,
                           std::vector<std::string> add, std::vector<std::string> remove,
                           std::function<void(Result<std::optional<SubscribeOffer>>)> done);
  // The browser's answer to the outstanding offer; may yield the next offer.
  void AnswerSubscription(const std::string& room_id, const std::string& peer_id,
                          std::string answer_sdp,
                          std::function<void(Result<std::optional<SubscribeOffer>>)> done);

  // Simulcast: the highest layer (0–2) `peer_id` wants of `producer_id`.
  void SetPreferredLayer(const std::string& room_id, const std::string& peer_id,
                         const std::string& producer_id, int layer);

  // Totals across workers (relaxed reads: each figure is exact, the set is not a snapshot).
  SfuCounters Counters() const;

  class Impl;

 private:
  explicit Sfu(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ruche::rtc
