#pragma once
// One SFU worker: a thread running its own epoll loop, its sockets on the shared media port,
// its rooms. Other threads talk to it only through Post(). Internal to src/rtc. (A plain epoll
// loop rather than asio: the packet path is a few callbacks, and src/rtc stays free of the
// HTTP stack's dependencies.)
//
// Demultiplexing (one UDP port for everything): every worker has an unconnected socket on the
// port (SO_REUSEPORT), where a browser's first STUN checks land on whichever worker the kernel
// picks; a check is routed by its USERNAME's ufrag to the worker owning that transport. Once
// a browser address is nominated, its owner opens a socket *connected* to that address on the
// same port: Linux then delivers that 5-tuple's datagrams straight to the owner's socket, so
// the media path never crosses threads and takes no lock.
//
// ICE-TCP (RFC 6544), for networks that block UDP: every worker also listens on the same port
// number over TCP (SO_REUSEPORT) as a passive candidate. A new connection's first packet must be
// a STUN check; its ufrag names the transport, and a connection accepted by another worker is
// handed to the owner whole (socket and unread bytes). From then on it is one more candidate
// pair of that transport.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "rtc/room.hpp"
#include "rtc/send_batch.hpp"
#include "rtc/socket_address.hpp"
#include "rtc/tcp_framing.hpp"
#include "rtc/token_bucket.hpp"

namespace ruche::rtc {

class Worker;

// Which worker owns a ufrag or a peer address: consulted only for datagrams that arrive on an
// unconnected socket (the start of each connection), never per media packet.
class Demux {
 public:
  void SetUfrag(const std::string& ufrag, Worker* worker);
  void SetTuple(const SocketAddress& peer, Worker* worker);
  void Forget(const std::string& ufrag, const std::vector<SocketAddress>& tuples);
  Worker* ByUfrag(const std::string& ufrag);
  Worker* ByTuple(const SocketAddress& peer);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, Worker*> ufrags_;                       // GUARDED_BY(mu_)
  std::unordered_map<SocketAddress, Worker*, SocketAddressHash> tuples_;  // GUARDED_BY(mu_)
};

struct WorkerConfig {
  SocketAddress bind;  // listen ip + the media port (0 only for the first worker)
  std::string announced_ip;
  std::shared_ptr<DtlsContext> dtls_context;
  Demux* demux = nullptr;
  double test_loss_percent = 0;
  uint64_t max_incoming_bitrate = 3'000'000;
  bool gso = true;
  bool tcp = true;  // listen for ICE-TCP on the media port number too
  uint64_t test_subscriber_bitrate = 0;
};

class Worker final : public WorkerContext {
 public:
  // Binds the worker's unconnected socket; the thread starts with Start().
  static Result<std::unique_ptr<Worker>> Create(WorkerConfig config);
  ~Worker() override;

  void Start();
  // Destroys the rooms on the worker thread, then stops and joins it.
  void Stop();
  // Runs `fn` on the worker thread.
  void Post(std::function<void()> fn);
  uint16_t bound_port() const { return port_; }

  // On the worker thread only.
  Room& RoomFor(const std::string& room_id, RoomEvents events);
  Room* FindRoom(const std::string& room_id);
  void DropRoomIfEmpty(const std::string& room_id);
  const WorkerStats& stats() const { return stats_; }
  // A datagram another worker received for one of this worker's transports.
  void OnForeignDatagram(std::vector<uint8_t> datagram, SocketAddress from);
  // An ICE-TCP connection another worker accepted for one of this worker's transports, with
  // what was read from it and not yet handled.
  void AdoptTcpConnection(int fd, SocketAddress peer, std::vector<uint8_t> unread);

  // WorkerContext
  std::shared_ptr<DtlsContext> dtls_context() override { return config_.dtls_context; }
  const std::string& announced_ip() override { return config_.announced_ip; }
  uint16_t udp_port() override { return port_; }
  // 0 when ICE-TCP is off or its port could not be bound.
  uint16_t tcp_port() override { return tcp_listen_fd_ >= 0 ? port_ : 0; }
  uint8_t* scratch() override { return send_scratch_.get(); }
  uint64_t max_incoming_bitrate() override { return config_.max_incoming_bitrate; }
  void RegisterUfrag(const std::string& ufrag, WebRtcTransport* transport) override;
  int OpenConnectedSocket(const SocketAddress& peer, WebRtcTransport* owner) override;
  void CloseConnectedSocket(int fd) override;
  void SendConnected(int fd, std::span<const uint8_t> datagram) override;
  void SendTcp(int fd, std::span<const uint8_t> packet) override;
  void SendTo(const SocketAddress& peer, std::span<const uint8_t> datagram) override;
  void RouteTuple(const SocketAddress& peer, WebRtcTransport* owner) override;
  void ForgetTransport(WebRtcTransport* transport) override;
  WorkerStats& stats() override { return stats_; }
  bool DropForTest() override;
  uint64_t test_egress_bitrate() override { return config_.test_subscriber_bitrate; }

  // The connected sockets: each belongs to one transport and one peer address.
  struct ConnectedSocket {
    WebRtcTransport* owner = nullptr;
    SocketAddress peer;
  };

 private:
  explicit Worker(WorkerConfig config);
  void OnUnconnectedDatagram(std::span<uint8_t> datagram, const SocketAddress& from,
                             bool may_forward);
  void OnTimer();
  // Token bucket per source IP for datagrams from addresses no check vouched for yet.
  bool TakeSourceToken(const SocketAddress& from);
  void Run();
  void DrainTasks();
  void OnReadable(int fd);
  bool Watch(int fd);

  // ICE-TCP connections: read side reassembles RFC 4571 packets; the write side keeps what the
  // kernel would not take yet (whole packets only, bounded: beyond it packets are dropped, as a
  // congested UDP path would drop them).
  struct TcpConnection {
    SocketAddress peer;
    WebRtcTransport* owner = nullptr;  // null until a STUN check to its transport passes
    std::chrono::steady_clock::time_point accepted;
    TcpFrameReader reader;
    std::vector<uint8_t> unsent;
    size_t unsent_begin = 0;
    bool want_write = false;
  };
  static constexpr size_t kMaxTcpConnections = 10'000;
  static constexpr size_t kMaxTcpUnsent = 512 * 1024;
  // How long a connection may stay without a valid STUN check.
  static constexpr std::chrono::seconds kTcpLoginTimeout{10};
  void OnTcpAccept();
  void OnTcpEvent(int fd, uint32_t events);
  // Handles the buffered packets of `fd`; false when the connection must close.
  bool HandleTcpPackets(int fd, TcpConnection& conn);
  void FlushTcp(int fd, TcpConnection& conn);
  void CloseTcp(int fd, bool tell_owner);
  bool AddTcp(int fd, const SocketAddress& peer, std::span<const uint8_t> unread);

  WorkerConfig config_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int tcp_listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: Post() wakes the loop
  std::atomic<bool> running_{false};
  std::thread thread_;
  std::mutex tasks_mu_;
  std::vector<std::function<void()>> tasks_;  // GUARDED_BY(tasks_mu_)
  std::unordered_map<int, ConnectedSocket> connected_;
  std::unordered_map<int, std::unique_ptr<TcpConnection>> tcp_;
  std::chrono::steady_clock::time_point next_tcp_sweep_{};
  // Per-source budget before a connectivity check passed: enough for the checks of every
  // browser behind one office NAT joining at once (they retry), not for a flood.
  static constexpr double kSourcePerSecond = 200;
  static constexpr double kSourceBurst = 400;
  static constexpr size_t kMaxSourceBuckets = 10'000;
  std::unordered_map<std::string, TokenBucket> source_buckets_;
  std::unique_ptr<uint8_t[]> send_scratch_ = std::make_unique<uint8_t[]>(kScratchSize);
  std::unique_ptr<uint8_t[]> recv_scratch_ = std::make_unique<uint8_t[]>(kScratchSize);
  SendBatch send_batch_;  // what this wake-up sends on connected sockets
  std::unordered_map<std::string, std::unique_ptr<Room>> rooms_;
  std::unordered_map<std::string, WebRtcTransport*> ufrags_;
  std::unordered_map<SocketAddress, WebRtcTransport*, SocketAddressHash> tuples_;
  WorkerStats stats_;
  uint64_t loss_state_ = 0x9E3779B97F4A7C15ull;  // xorshift state for DropForTest
};

}  // namespace ruche::rtc
