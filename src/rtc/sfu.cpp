#include "rtc/sfu.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "rtc/worker.hpp"

namespace ruche::rtc {

class Sfu::Impl {
 public:
  Demux demux;
  std::vector<std::unique_ptr<Worker>> workers;

  Worker& WorkerFor(const std::string& room_id) {
    return *workers[std::hash<std::string>{}(room_id) % workers.size()];
  }

  // Runs `fn(room)` on the room's worker; `missing()` when the room or peer is unknown.
  template <typename Fn, typename Missing>
  void WithPeer(const std::string& room_id, const std::string& peer_id, Fn fn, Missing missing) {
    Worker& w = WorkerFor(room_id);
    w.Post([&w, room_id, peer_id, fn = std::move(fn), missing = std::move(missing)]() mutable {
      Room* room = w.FindRoom(room_id);
      Peer* peer = room == nullptr ? nullptr : room->FindPeer(peer_id);
      if (peer == nullptr) {
        missing();
        return;
      }
      fn(*peer);
    });
  }
};

Sfu::Sfu(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Sfu::~Sfu() {
  for (auto& w : impl_->workers) {
    w->Stop();
  }
}

Result<std::unique_ptr<Sfu>> Sfu::Start(const SfuOptions& options) {
  auto impl = std::make_unique<Impl>();
  auto dtls = DtlsContext::Create();
  if (!dtls) {
    return dtls.error();
  }
  SocketAddress bind;
  if (!SocketAddress::Parse(options.listen_ip, options.udp_port, bind)) {
    return Error::BadRequest("rtc: not an IP address: " + options.listen_ip);
  }
  int count = options.workers > 0
                  ? options.workers
                  : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string announced = options.announced_ip.empty() ? options.listen_ip : options.announced_ip;
  // SO_REUSEPORT would let a second server (same user) share the port and steal half the
  // packets: first claim the port without it, so a port in use is an error, as for TCP.
  {
    int probe = ::socket(bind.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bool free = probe >= 0 && ::bind(probe, bind.get(), bind.length) == 0;
    if (free && options.udp_port == 0) {
      SocketAddress bound;
      bound.length = sizeof(bound.storage);
      ::getsockname(probe, bound.get(), &bound.length);
      bind = bound;  // the ephemeral port the kernel chose, for every worker
    }
    int err = errno;
    if (probe >= 0) {
      ::close(probe);
    }
    if (!free) {
      return Error::Unavailable("cannot bind the media UDP port " + bind.ToString() + ": " +
                                std::strerror(err));
    }
  }
  for (int i = 0; i < count; ++i) {
    auto w = Worker::Create(WorkerConfig{
        bind, announced, *dtls, &impl->demux, options.test_loss_percent,
        options.max_incoming_bitrate, options.gso, options.tcp, options.test_subscriber_bitrate});
    if (!w) {
      return w.error();
    }
    impl->workers.push_back(std::move(*w));
  }
  for (auto& w : impl->workers) {
    w->Start();
  }
  return std::unique_ptr<Sfu>(new Sfu(std::move(impl)));
}

uint16_t Sfu::udp_port() const { return impl_->workers.front()->bound_port(); }
int Sfu::workers() const { return static_cast<int>(impl_->workers.size()); }

void Sfu::AddPeer(const std::string& room_id, const std::string& peer_id, PeerEvents peer_events,
                  RoomEvents room_events, std::function<void()> done) {
  Worker& w = impl_->WorkerFor(room_id);
  w.Post([&w, room_id, peer_id, peer_events = std::move(peer_events),
          room_events = std::move(room_events), done = std::move(done)]() mutable {
    w.RoomFor(room_id, std::move(room_events)).AddPeer(peer_id, std::move(peer_events));
    done();
  });
}

void Sfu::RemovePeer(const std::string& room_id, const std::string& peer_id,
                     std::function<void(std::vector<std::string>)> done) {
  Worker& w = impl_->WorkerFor(room_id);
  w.Post([&w, room_id, peer_id, done = std::move(done)] {
    std::vector<std::string> removed;
    if (Room* room = w.FindRoom(room_id)) {
      removed = room->RemovePeer(peer_id);
      w.DropRoomIfEmpty(room_id);
    }
    done(std::move(removed));
  });
}

void Sfu::Publish(const std::string& room_id, const std::string& peer_id, std::string offer_sdp,
                  std::function<void(Result<PublishResult>)> done) {
  impl_->WithPeer(
      room_id, peer_id,
      [offer = std::move(offer_sdp), done](Peer& peer) { done(peer.Publish(offer)); },
      [done] { done(Error::NotFound("not in this meeting")); });
}

void Sfu::UpdateSubscriptions(const std::string& room_id, const std::string& peer_id,
                              std::vector<std::string> add, std::vector<std::string> remove,
                              std::function<void(Result<std::optional<SubscribeOffer>>)> done) {
  impl_->WithPeer(
      room_id, peer_id,
      [add = std::move(add), remove = std::move(remove), done](Peer& peer) {
        done(peer.UpdateSubscriptions(add, remove));
      },
      [done] { done(Error::NotFound("not in this meeting")); });
}

void Sfu::AnswerSubscription(const std::string& room_id, const std::string& peer_id,
                             std::string answer_sdp,
                             std::function<void(Result<std::optional<SubscribeOffer>>)> done) {
  impl_->WithPeer(
      room_id, peer_id,
      [answer = std::move(answer_sdp), done](Peer& peer) { done(peer.AnswerSubscription(answer)); },
      [done] { done(Error::NotFound("not in this meeting")); });
}

void Sfu::SetPreferredLayer(const std::string& room_id, const std::string& peer_id,
                            const std::string& producer_id, int layer) {
  impl_->WithPeer(
      room_id, peer_id,
      [producer_id, layer](Peer& peer) { peer.SetPreferredLayer(producer_id, layer); }, [] {});
}

SfuCounters Sfu::Counters() const {
  SfuCounters total;
  for (const auto& w : impl_->workers) {
    w->stats().AddTo(total);
  }
  return total;
}

}  // namespace ruche::rtc
