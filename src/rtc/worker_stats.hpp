#pragma once
// Counters of one SFU worker. Written only by the worker's thread (a relaxed load and store,
// no locked instruction on the packet path), read by anyone (metrics) and summed over workers.
#include <atomic>
#include <cstdint>

#include "rtc/sfu.hpp"

namespace ruche::rtc {

class WorkerStats {
 public:
  using Counter = std::atomic<uint64_t>;
  // Single writer: no read-modify-write needed.
  static void Bump(Counter& c, uint64_t by = 1) {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
  void AddTo(SfuCounters& out) const {
    auto get = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
    out.rooms += get(rooms);
    out.peers += get(peers);
    out.datagrams_in += get(datagrams_in);
    out.datagrams_out += get(datagrams_out);
    out.bytes_in += get(bytes_in);
    out.bytes_out += get(bytes_out);
    out.rtp_forwarded += get(rtp_forwarded);
    out.nacks_received += get(nacks_received);
    out.retransmissions_sent += get(retransmissions_sent);
    out.rtx_received += get(rtx_received);
    out.transport_cc_feedback_sent += get(transport_cc_feedback_sent);
    out.layer_downgrades += get(layer_downgrades);
    out.layer_probes += get(layer_probes);
    out.nacks_sent += get(nacks_sent);
    out.keyframe_requests_sent += get(keyframe_requests_sent);
    out.dropped_unauthenticated += get(dropped_unauthenticated);
    out.dropped_undecryptable += get(dropped_undecryptable);
    out.dropped_malformed += get(dropped_malformed);
    out.dropped_test_loss += get(dropped_test_loss);
    out.dropped_rate_limited += get(dropped_rate_limited);
    out.dropped_tcp_congested += get(dropped_tcp_congested);
    out.dropped_over_bitrate += get(dropped_over_bitrate);
  }

  Counter rooms{0};  // current
  Counter peers{0};  // current
  Counter datagrams_in{0};
  Counter datagrams_out{0};
  Counter bytes_in{0};
  Counter bytes_out{0};
  Counter rtp_forwarded{0};
  Counter nacks_received{0};
  Counter retransmissions_sent{0};
  Counter rtx_received{0};
  Counter transport_cc_feedback_sent{0};
  Counter layer_downgrades{0};
  Counter layer_probes{0};
  Counter nacks_sent{0};
  Counter keyframe_requests_sent{0};
  Counter dropped_unauthenticated{0};
  Counter dropped_undecryptable{0};
  Counter dropped_malformed{0};
  Counter dropped_test_loss{0};
  Counter dropped_rate_limited{0};
  Counter dropped_tcp_congested{0};
  Counter dropped_over_bitrate{0};
};

}  // namespace ruche::rtc
