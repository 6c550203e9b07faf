#include "rtc/worker.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.hpp"
#include "rtc/stun_message.hpp"

namespace ruche::rtc {
namespace {

using Clock = std::chrono::steady_clock;

// The loop's tick: DTLS retransmission timers, keyframe-request throttling, consent, active
// speaker. Packets never wait for it.
constexpr int kTickMs = 20;
// Datagrams read per socket per wake-up before the loop looks at the others (fairness: one
// flooding peer cannot starve the rest of the worker).
constexpr int kMaxReadsPerWake = 64;
constexpr int kMaxEvents = 64;

int OpenMediaSocket(const SocketAddress& bind) {
  int fd = ::socket(bind.storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  // Media bursts (a key frame is tens of packets): a larger buffer than the default 208 KiB.
  int size = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  if (::bind(fd, bind.get(), bind.length) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

// ---- Demux ----

void Demux::SetUfrag(const std::string& ufrag, Worker* worker) {
  std::lock_guard lock(mu_);
  ufrags_[ufrag] = worker;
}

void Demux::SetTuple(const SocketAddress& peer, Worker* worker) {
  std::lock_guard lock(mu_);
  tuples_[peer] = worker;
}

void Demux::Forget(const std::string& ufrag, const std::vector<SocketAddress>& tuples) {
  std::lock_guard lock(mu_);
  ufrags_.erase(ufrag);
  for (const auto& t : tuples) {
    tuples_.erase(t);
  }
}

Worker* Demux::ByUfrag(const std::string& ufrag) {
  std::lock_guard lock(mu_);
  auto it = ufrags_.find(ufrag);
  return it == ufrags_.end() ? nullptr : it->second;
}

Worker* Demux::ByTuple(const SocketAddress& peer) {
  std::lock_guard lock(mu_);
  auto it = tuples_.find(peer);
  return it == tuples_.end() ? nullptr : it->second;
}

// ---- Worker ----

Worker::Worker(WorkerConfig config) : config_(std::move(config)) {
  if (!config_.gso) {
    send_batch_.DisableGso();
  }
}

Result<std::unique_ptr<Worker>> Worker::Create(WorkerConfig config) {
  std::unique_ptr<Worker> w(new Worker(std::move(config)));
  w->listen_fd_ = OpenMediaSocket(w->config_.bind);
  if (w->listen_fd_ < 0) {
    return Error::Unavailable("cannot bind the media UDP port " + w->config_.bind.ToString() +
                              ": " + std::strerror(errno));
  }
  SocketAddress bound;
  bound.length = sizeof(bound.storage);
  ::getsockname(w->listen_fd_, bound.get(), &bound.length);
  w->port_ = ntohs(bound.storage.ss_family == AF_INET
                       ? reinterpret_cast<sockaddr_in*>(&bound.storage)->sin_port
                       : reinterpret_cast<sockaddr_in6*>(&bound.storage)->sin6_port);
  w->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  w->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->epoll_fd_ < 0 || w->wake_fd_ < 0 || !w->Watch(w->wake_fd_) || !w->Watch(w->listen_fd_)) {
    return Error::Internal(std::string("rtc worker set-up: ") + std::strerror(errno));
  }
  return w;
}

Worker::~Worker() {
  Stop();
  rooms_.clear();
  for (auto& [fd, s] : connected_) {
    ::close(fd);
  }
  for (int fd : {listen_fd_, epoll_fd_, wake_fd_}) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

bool Worker::Watch(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void Worker::Start() {
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Worker::Stop() {
  if (!thread_.joinable()) {
    return;
  }
  Post([this] {
    rooms_.clear();  // transports close their sockets on this thread
    running_ = false;
  });
  thread_.join();
}

void Worker::Post(std::function<void()> fn) {
  {
    std::lock_guard lock(tasks_mu_);
    tasks_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void Worker::DrainTasks() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof(count));
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(tasks_mu_);
    tasks.swap(tasks_);
  }
  for (auto& t : tasks) {
    t();
  }
}

void Worker::Run() {
  epoll_event events[kMaxEvents];
  auto next_tick = Clock::now();
  while (running_) {
    auto now = Clock::now();
    // Rounded up: a truncated timeout of 0 ms would spin epoll_wait for the last millisecond
    // before every tick (it did: a third of the worker's CPU in a 4-person meeting).
    int timeout = static_cast<int>(std::max<int64_t>(
        0, std::chrono::ceil<std::chrono::milliseconds>(next_tick - now).count()));
    int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        DrainTasks();
      } else {
        OnReadable(fd);
        // What this socket's datagrams made the worker send goes now, not after every other
        // socket's turn: a subscriber waits for at most one socket's batch.
        send_batch_.Flush();
      }
    }
    now = Clock::now();
    if (now >= next_tick) {
      next_tick = now + std::chrono::milliseconds(kTickMs);
      OnTimer();
    }
    send_batch_.Flush();
  }
}

void Worker::OnReadable(int fd) {
  uint8_t* buf = recv_scratch_.get();
  if (fd == listen_fd_) {
    for (int i = 0; i < kMaxReadsPerWake; ++i) {
      SocketAddress from;
      from.length = sizeof(from.storage);
      ssize_t n = ::recvfrom(fd, buf, kMaxRtpPacket, MSG_DONTWAIT, from.get(), &from.length);
      if (n < 0) {
        return;  // EAGAIN
      }
      OnUnconnectedDatagram(std::span<uint8_t>(buf, static_cast<size_t>(n)), from, true);
    }
    return;
  }
  // A connected socket: its transport and peer are known, looked up once per wake-up. NOTE:
  // transports are destroyed only by posted tasks, never while handling a datagram, so the
  // entry stays valid through the loop.
  auto it = connected_.find(fd);
  if (it == connected_.end()) {
    return;
  }
  WebRtcTransport* owner = it->second.owner;
  const SocketAddress& peer = it->second.peer;
  for (int i = 0; i < kMaxReadsPerWake; ++i) {
    ssize_t n = ::recv(fd, buf, kMaxRtpPacket, MSG_DONTWAIT);
    if (n < 0) {
      return;  // EAGAIN, or an ICMP error queued on the connected socket
    }
    owner->OnDatagram(std::span<uint8_t>(buf, static_cast<size_t>(n)), peer);
  }
}

void Worker::OnUnconnectedDatagram(std::span<uint8_t> datagram, const SocketAddress& from,
                                   bool may_forward) {
  if (auto it = tuples_.find(from); it != tuples_.end()) {
    it->second->OnDatagram(datagram, from);
    return;
  }
  // From here on the sender has not passed a connectivity check: what it can make Ruche do
  // (HMAC checks, 401 answers, hand-offs to other workers) is rationed per source address.
  if (may_forward && !TakeSourceToken(from)) {
    WorkerStats::Bump(stats_.dropped_rate_limited);
    return;
  }
  Worker* owner = nullptr;
  std::string ufrag;
  if (LooksLikeStun(datagram)) {
    if (auto msg = ParseStun(datagram)) {
      ufrag = std::string(LocalUfragOf(msg->username));
      if (auto it = ufrags_.find(ufrag); it != ufrags_.end()) {
        it->second->OnDatagram(datagram, from);
        return;
      }
      owner = may_forward ? config_.demux->ByUfrag(ufrag) : nullptr;
    }
  } else if (may_forward) {
    owner = config_.demux->ByTuple(from);
  }
  if (owner == nullptr || owner == this) {
    WorkerStats::Bump(
        stats_.dropped_unauthenticated);  // unknown ufrag or an address that never passed a check
    return;
  }
  // Rare: the start of a connection that the kernel gave to another worker's socket.
  owner->Post([owner, data = std::vector<uint8_t>(datagram.begin(), datagram.end()),
               from]() mutable { owner->OnForeignDatagram(std::move(data), from); });
}

void Worker::OnForeignDatagram(std::vector<uint8_t> datagram, SocketAddress from) {
  std::memcpy(recv_scratch_.get(), datagram.data(), std::min(datagram.size(), kScratchSize));
  OnUnconnectedDatagram(std::span<uint8_t>(recv_scratch_.get(), datagram.size()), from, false);
}

void Worker::OnTimer() {
  auto now = Clock::now();
  for (auto& [id, room] : rooms_) {
    room->OnTimer(now);
  }
}

Room& Worker::RoomFor(const std::string& room_id, RoomEvents events) {
  auto& slot = rooms_[room_id];
  if (slot == nullptr) {
    slot = std::make_unique<Room>(*this, room_id, std::move(events));
    WorkerStats::Bump(stats_.rooms);
  }
  return *slot;
}

Room* Worker::FindRoom(const std::string& room_id) {
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? nullptr : it->second.get();
}

void Worker::DropRoomIfEmpty(const std::string& room_id) {
  auto it = rooms_.find(room_id);
  if (it != rooms_.end() && it->second->empty()) {
    rooms_.erase(it);
    stats_.rooms.store(stats_.rooms.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }
}

bool Worker::TakeSourceToken(const SocketAddress& from) {
  // Keyed by IP without the port: changing ports does not buy a flooder more.
  std::string key;
  if (from.storage.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&from.storage);
    key.assign(reinterpret_cast<const char*>(&a->sin_addr), sizeof(a->sin_addr));
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&from.storage);
    key.assign(reinterpret_cast<const char*>(&a->sin6_addr), sizeof(a->sin6_addr));
  }
  auto now = Clock::now();
  if (source_buckets_.size() >= kMaxSourceBuckets && !source_buckets_.contains(key)) {
    source_buckets_.clear();  // bounded memory; a rare reset only forgives for a moment
  }
  auto [it, fresh] = source_buckets_.try_emplace(key, SourceBucket{kSourceBurst, now});
  SourceBucket& b = it->second;
  if (!fresh) {
    double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(kSourceBurst, b.tokens + elapsed * kSourcePerSecond);
    b.updated = now;
  }
  if (b.tokens < 1) {
    return false;
  }
  b.tokens -= 1;
  return true;
}

bool Worker::DropForTest() {
  if (config_.test_loss_percent <= 0) {
    return false;
  }
  // xorshift64: cheap, and good enough to spread test losses.
  loss_state_ ^= loss_state_ << 13;
  loss_state_ ^= loss_state_ >> 7;
  loss_state_ ^= loss_state_ << 17;
  if (static_cast<double>(loss_state_ % 100000) / 1000.0 < config_.test_loss_percent) {
    WorkerStats::Bump(stats_.dropped_test_loss);
    return true;
  }
  return false;
}

void Worker::RegisterUfrag(const std::string& ufrag, WebRtcTransport* transport) {
  ufrags_[ufrag] = transport;
  config_.demux->SetUfrag(ufrag, this);
}

int Worker::OpenConnectedSocket(const SocketAddress& peer, WebRtcTransport* owner) {
  SocketAddress bind = config_.bind;
  if (bind.storage.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&bind.storage)->sin_port = htons(port_);
  } else {
    reinterpret_cast<sockaddr_in6*>(&bind.storage)->sin6_port = htons(port_);
  }
  int fd = OpenMediaSocket(bind);
  if (fd < 0) {
    return -1;
  }
  if (::connect(fd, peer.get(), peer.length) != 0 || !Watch(fd)) {
    ::close(fd);
    return -1;
  }
  connected_[fd] = ConnectedSocket{owner, peer};
  return fd;
}

void Worker::CloseConnectedSocket(int fd) {
  if (connected_.erase(fd) > 0) {
    send_batch_.Flush();  // what was queued for it still goes; nothing refers to fd after
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
  }
}

void Worker::SendConnected(int fd, std::span<const uint8_t> datagram) {
  // Sent at the end of this wake-up with the rest of it (see send_batch.hpp). A full socket
  // buffer drops the packet, as the network would; NACK/PLI recover.
  send_batch_.Add(fd, datagram);
}

void Worker::SendTo(const SocketAddress& peer, std::span<const uint8_t> datagram) {
  [[maybe_unused]] ssize_t n =
      ::sendto(listen_fd_, datagram.data(), datagram.size(), MSG_DONTWAIT, peer.get(), peer.length);
}

void Worker::RouteTuple(const SocketAddress& peer, WebRtcTransport* owner) {
  tuples_[peer] = owner;
  config_.demux->SetTuple(peer, this);
}

void Worker::ForgetTransport(WebRtcTransport* transport) {
  std::vector<SocketAddress> gone;
  for (auto it = tuples_.begin(); it != tuples_.end();) {
    if (it->second == transport) {
      gone.push_back(it->first);
      it = tuples_.erase(it);
    } else {
      ++it;
    }
  }
  ufrags_.erase(transport->local_ufrag());
  config_.demux->Forget(transport->local_ufrag(), gone);
}

}  // namespace ruche::rtc
