#pragma once
// Outgoing datagrams of one worker wake-up, sent together: per connected socket, runs of
// equal-sized datagrams (the last of a run may be shorter) go in one sendmsg with UDP GSO
// (UDP_SEGMENT, Linux ≥ 4.18), which costs the kernel one route, one socket lookup and one skb
// build per run instead of per datagram. An SFU sends each incoming packet to every subscriber,
// and a video frame's packets arrive together and are of equal size (browsers' packetizers even
// them out), so a subscriber's share of one wake-up is typically such a run.
//
// Order per socket is kept. Memory is one pool allocated at construction; Add never allocates.
// Without GSO support (a device without checksum offload answers EIO) it falls back, for good,
// to one send per datagram; a run the route's MTU refuses as segments goes one by one.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace ruche::rtc {

class SendBatch {
 public:
  static constexpr size_t kMaxDatagrams = 512;
  static constexpr size_t kMaxDatagramSize = 1500;
  // UDP GSO limits: segments per send (UDP_MAX_SEGMENTS) and bytes of one UDP payload.
  static constexpr size_t kMaxSegments = 64;
  static constexpr size_t kMaxGsoBytes = 65000;

  // Holds up to `capacity` datagrams between flushes.
  explicit SendBatch(size_t capacity = kMaxDatagrams);
  // Queues `datagram` for connected socket `fd`; flushes first when the pool is full. A datagram
  // larger than kMaxDatagramSize is sent at once.
  void Add(int fd, std::span<const uint8_t> datagram);
  // Sends everything queued. A full socket buffer drops datagrams, as a network would.
  void Flush();
  // Drops what is queued for `fd` (it is being closed).
  void Forget(int fd);
  bool empty() const { return count_ == 0; }

  // Counters for tests and /metrics: sendmsg calls made, and datagrams they carried.
  uint64_t sends() const { return sends_; }
  uint64_t datagrams() const { return datagrams_; }
  bool gso() const { return gso_; }
  void DisableGso() { gso_ = false; }

 private:
  struct Entry {
    int fd;
    uint32_t offset;
    uint16_t size;
  };
  void SendRun(int fd, const uint32_t* indexes, size_t count);
  void SendOne(int fd, const Entry& e);

  size_t capacity_;
  std::unique_ptr<uint8_t[]> pool_;
  std::vector<Entry> entries_;   // reserved kMaxDatagrams
  std::vector<uint64_t> keys_;   // fd << 32 | position, sorted at flush
  std::vector<uint32_t> order_;  // reserved kMaxDatagrams: entries grouped by socket
  size_t count_ = 0;
  bool gso_ = true;
  uint64_t sends_ = 0;
  uint64_t datagrams_ = 0;
};

}  // namespace ruche::rtc
