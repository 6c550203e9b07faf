#include "rtc/worker.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
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

// The ICE-TCP listening socket on the media port number; -1 (logged) when it cannot be bound:
// UDP still works, only the TCP fallback is missing.
int OpenTcpListener(SocketAddress bind, uint16_t port) {
  if (bind.storage.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&bind.storage)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&bind.storage)->sin6_port = htons(port);
  }
  int fd = ::socket(bind.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (::bind(fd, bind.get(), bind.length) != 0 || ::listen(fd, 128) != 0) {
    RUCHE_LOG_WARN("rtc: no ICE-TCP on {}: {}", bind.ToString(), std::strerror(errno));
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
  if (w->config_.tcp) {
    w->tcp_listen_fd_ = OpenTcpListener(w->config_.bind, w->port_);
    if (w->tcp_listen_fd_ >= 0 && !w->Watch(w->tcp_listen_fd_)) {
      return Error::Internal(std::string("rtc worker set-up: ") + std::strerror(errno));
    }
  }
  return w;
}

Worker::~Worker() {
  Stop();
  rooms_.clear();
  for (auto& [fd, s] : connected_) {
    ::close(fd);
  }
  for (auto& [fd, conn] : tcp_) {
    ::close(fd);
  }
  for (int fd : {listen_fd_, tcp_listen_fd_, epoll_fd_, wake_fd_}) {
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
      } else if (fd == tcp_listen_fd_) {
        OnTcpAccept();
      } else if (tcp_.contains(fd)) {
        OnTcpEvent(fd, events[i].events);
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
  if (now >= next_tcp_sweep_) {
    next_tcp_sweep_ = now + std::chrono::seconds(1);
    std::vector<int> idle;
    for (auto& [fd, conn] : tcp_) {
      if (conn->owner == nullptr && now - conn->accepted > kTcpLoginTimeout) {
        idle.push_back(fd);
      }
    }
    for (int fd : idle) {
      WorkerStats::Bump(stats_.dropped_unauthenticated);
      CloseTcp(fd, false);
    }
  }
}

// ---- ICE-TCP ----

void Worker::OnTcpAccept() {
  for (int i = 0; i < kMaxReadsPerWake; ++i) {
    SocketAddress peer;
    peer.length = sizeof(peer.storage);
    int fd = ::accept4(tcp_listen_fd_, peer.get(), &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;  // EAGAIN, or a connection reset before it was accepted
    }
    // The same rationing as unvouched UDP sources: a connection costs a token.
    if (tcp_.size() >= kMaxTcpConnections || !TakeSourceToken(peer)) {
      WorkerStats::Bump(stats_.dropped_rate_limited);
      ::close(fd);
      continue;
    }
    if (!AddTcp(fd, peer, {})) {
      ::close(fd);
    }
  }
}

bool Worker::AddTcp(int fd, const SocketAddress& peer, std::span<const uint8_t> unread) {
  int one = 1;
  // Media is latency-bound: no Nagle delay on small packets (RTCP, audio).
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto conn = std::make_unique<TcpConnection>();
  conn->peer = peer;
  conn->accepted = Clock::now();
  auto space = conn->reader.WritableSpace();
  if (unread.size() > space.size() || !Watch(fd)) {
    return false;
  }
  std::copy(unread.begin(), unread.end(), space.begin());
  conn->reader.Commit(unread.size());
  TcpConnection& c = *conn;
  tcp_[fd] = std::move(conn);
  if (!unread.empty() && !HandleTcpPackets(fd, c)) {
    CloseTcp(fd, true);
  }
  return true;
}

void Worker::AdoptTcpConnection(int fd, SocketAddress peer, std::vector<uint8_t> unread) {
  if (!AddTcp(fd, peer, unread)) {
    ::close(fd);
  }
}

void Worker::OnTcpEvent(int fd, uint32_t events) {
  TcpConnection* conn = tcp_.at(fd).get();
  if ((events & EPOLLOUT) != 0) {
    FlushTcp(fd, *conn);
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) {
    return;
  }
  for (int i = 0; i < kMaxReadsPerWake; ++i) {
    auto space = conn->reader.WritableSpace();
    ssize_t n = ::recv(fd, space.data(), space.size(), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      CloseTcp(fd, true);  // the peer closed, or the connection failed
      return;
    }
    if (n < 0) {
      return;
    }
    conn->reader.Commit(static_cast<size_t>(n));
    if (!HandleTcpPackets(fd, *conn)) {
      CloseTcp(fd, true);
      return;
    }
    if (!tcp_.contains(fd)) {
      return;  // handed to another worker
    }
  }
}

bool Worker::HandleTcpPackets(int fd, TcpConnection& conn) {
  std::span<uint8_t> packet;
  for (;;) {
    TcpFrameReader::Status status = conn.reader.Next(packet);
    if (status == TcpFrameReader::Status::kNeedMore) {
      return true;
    }
    if (status == TcpFrameReader::Status::kError) {
      WorkerStats::Bump(stats_.dropped_malformed);
      return false;
    }
    if (conn.owner != nullptr) {
      conn.owner->OnDatagram(packet, conn.peer, fd);
      continue;
    }
    // The first packet must be a connectivity check naming one of Ruche's transports.
    auto msg = LooksLikeStun(packet) ? ParseStun(packet) : std::nullopt;
    std::string ufrag = msg ? std::string(LocalUfragOf(msg->username)) : std::string();
    if (auto it = ufrags_.find(ufrag); it != ufrags_.end()) {
      // Owned only once a check passed (the transport took the connection as a candidate
      // pair): a connection whose checks fail stays unowned and is closed by the sweep.
      it->second->OnDatagram(packet, conn.peer, fd);
      if (it->second->HasTcpPair(fd)) {
        conn.owner = it->second;
      }
      continue;
    }
    Worker* owner = msg ? config_.demux->ByUfrag(ufrag) : nullptr;
    if (owner == nullptr || owner == this) {
      WorkerStats::Bump(stats_.dropped_unauthenticated);
      return false;
    }
    // Accepted here, owned there: the socket and what it sent so far move to the owner.
    std::vector<uint8_t> unread(packet.size() + 2 + conn.reader.Unread().size());
    PutTcpFrameLength(unread.data(), packet.size());
    std::copy(packet.begin(), packet.end(), unread.begin() + 2);
    std::copy(conn.reader.Unread().begin(), conn.reader.Unread().end(),
              unread.begin() + 2 + static_cast<std::ptrdiff_t>(packet.size()));
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    SocketAddress peer = conn.peer;
    tcp_.erase(fd);
    owner->Post([owner, fd, peer, unread = std::move(unread)]() mutable {
      owner->AdoptTcpConnection(fd, peer, std::move(unread));
    });
    return true;
  }
}

void Worker::SendTcp(int fd, std::span<const uint8_t> packet) {
  auto it = tcp_.find(fd);
  if (it == tcp_.end() || packet.size() > 0xFFFF) {
    return;
  }
  TcpConnection& conn = *it->second;
  uint8_t prefix[2];
  PutTcpFrameLength(prefix, packet.size());
  size_t total = 2 + packet.size();
  size_t sent = 0;
  if (conn.unsent_begin == conn.unsent.size()) {
    iovec iov[2] = {{prefix, 2}, {const_cast<uint8_t*>(packet.data()), packet.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    ssize_t n = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(total)) {
      return;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return;  // the read side sees the failure and closes
    }
    sent = n > 0 ? static_cast<size_t>(n) : 0;
  } else if (conn.unsent.size() - conn.unsent_begin + total > kMaxTcpUnsent) {
    WorkerStats::Bump(stats_.dropped_tcp_congested);
    return;  // whole packets only, so the stream stays framed
  }
  // Keep the rest; the vector's capacity is reused, so a steady backlog does not allocate.
  if (conn.unsent_begin == conn.unsent.size()) {
    conn.unsent.clear();
    conn.unsent_begin = 0;
  }
  if (sent < 2) {
    conn.unsent.insert(conn.unsent.end(), prefix + sent, prefix + 2);
    conn.unsent.insert(conn.unsent.end(), packet.begin(), packet.end());
  } else {
    conn.unsent.insert(conn.unsent.end(), packet.begin() + static_cast<std::ptrdiff_t>(sent - 2),
                       packet.end());
  }
  if (!conn.want_write) {
    conn.want_write = true;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  }
}

void Worker::FlushTcp(int fd, TcpConnection& conn) {
  while (conn.unsent_begin < conn.unsent.size()) {
    ssize_t n = ::send(fd, conn.unsent.data() + conn.unsent_begin,
                       conn.unsent.size() - conn.unsent_begin, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0) {
      return;  // EAGAIN: wait for the next EPOLLOUT; an error shows on the read side
    }
    conn.unsent_begin += static_cast<size_t>(n);
  }
  conn.unsent.clear();
  conn.unsent_begin = 0;
  conn.want_write = false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void Worker::CloseTcp(int fd, bool tell_owner) {
  auto it = tcp_.find(fd);
  if (it == tcp_.end()) {
    return;
  }
  WebRtcTransport* owner = it->second->owner;
  tcp_.erase(it);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  if (tell_owner && owner != nullptr) {
    owner->OnTcpClosed(fd);
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
  auto [it, fresh] = source_buckets_.try_emplace(key, kSourceBurst, now);
  return it->second.Take(1, kSourcePerSecond, kSourceBurst, now);
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
  if (tcp_.contains(fd)) {
    CloseTcp(fd, false);  // its transport is the one asking
    return;
  }
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
  // A connection is owned only as one of the transport's pairs, which the transport closes as
  // it goes; this sweep keeps a dangling owner impossible should that ever change.
  std::vector<int> orphans;
  for (auto& [fd, conn] : tcp_) {
    if (conn->owner == transport) {
      orphans.push_back(fd);
    }
  }
  for (int fd : orphans) {
    CloseTcp(fd, false);
  }
}

}  // namespace ruche::rtc
