// Media through the real SFU over real UDP sockets: client peer connections (Ruche's stack in
// the browser's role: full ICE, DTLS client, SRTP) publish Opus- and VP8-shaped RTP and
// subscribe, signalled through rtc::Sfu's API. Checks what browsers cannot be made to do on
// demand: exact per-stream counts, and a publisher flooding the worker.
#include <gtest/gtest.h>
#include <poll.h>

#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "peer_connection.hpp"
#include "rtc/sfu.hpp"
#include "rtc/sfu_wait.hpp"

namespace ruche {
namespace {

using bench::NowNs;
using bench::PeerConnection;
using rtc::WaitFor;

// One SFU room and the client connections that talk to it, run by one poll loop.
class Meeting {
 public:
  explicit Meeting(uint64_t max_incoming_bitrate) {
    rtc::SfuOptions options;
    options.listen_ip = "127.0.0.1";
    options.workers = 1;  // everyone on one worker: the flooder shares it with the others
    options.max_incoming_bitrate = max_incoming_bitrate;
    auto sfu = rtc::Sfu::Start(options);
    EXPECT_TRUE(sfu) << (sfu ? "" : sfu.error().message);
    sfu_ = std::move(*sfu);
    auto dtls = rtc::DtlsContext::Create();
    EXPECT_TRUE(dtls);
    dtls_ = *dtls;
  }

  struct Client {
    std::unique_ptr<PeerConnection> pc;
    uint32_t video_kbps = 0;
    bench::SendStats sent;
    bench::ReceiveStats received;
  };

  // A participant publishing audio and video at `video_kbps`; returns its producer ids.
  std::vector<std::string> Publish(const std::string& name, uint32_t video_kbps) {
    AddPeer(name);
    Client& c = NewClient(name, PeerConnection::Role::kPublisher);
    c.video_kbps = video_kbps;
    auto published = WaitFor<Result<rtc::PublishResult>>(
        [&](auto done) { sfu_->Publish("room", name, c.pc->CreateOffer(), done); });
    EXPECT_TRUE(published) << (published ? "" : published.error().message);
    EXPECT_EQ(c.pc->SetAnswer(published->answer_sdp), "");
    std::vector<std::string> ids;
    for (const auto& p : published->producers) {
      ids.push_back(p.producer_id);
    }
    return ids;
  }

  // A participant receiving `producer_ids`.
  void Subscribe(const std::string& name, const std::vector<std::string>& producer_ids) {
    AddPeer(name);
    auto offer = WaitFor<Result<std::optional<rtc::SubscribeOffer>>>(
        [&](auto done) { sfu_->UpdateSubscriptions("room", name, producer_ids, {}, done); });
    ASSERT_TRUE(offer && *offer);
    Client& c = NewClient(name, PeerConnection::Role::kSubscriber);
    std::string error;
    std::string answer = c.pc->AnswerOffer((*offer)->sdp, error);
    ASSERT_EQ(error, "");
    auto next = WaitFor<Result<std::optional<rtc::SubscribeOffer>>>(
        [&](auto done) { sfu_->AnswerSubscription("room", name, answer, done); });
    ASSERT_TRUE(next) << next.error().message;
  }

  // Runs every connection for `seconds`: packets in, timers, and media out unless `quiet`
  // (publishers then pause, so what was sent can all arrive before counting).
  void Run(double seconds, bool quiet = false) {
    int64_t end = NowNs() + static_cast<int64_t>(seconds * 1e9);
    std::vector<pollfd> fds;
    for (auto& [name, c] : clients_) {
      fds.push_back({c.pc->fd(), POLLIN, 0});
    }
    while (NowNs() < end) {
      ::poll(fds.data(), fds.size(), 1);
      size_t i = 0;
      int64_t now = NowNs();
      for (auto& [name, c] : clients_) {
        if ((fds[i++].revents & POLLIN) != 0) {
          c.pc->OnReadable(c.received, c.sent, 1);
        }
        c.pc->OnTimer(now);
        if (!started_ && c.pc->role() == PeerConnection::Role::kPublisher) {
          c.pc->StartMedia(now);
        }
        if (!quiet) {
          c.pc->SendMedia(now, c.video_kbps, c.sent);
        }
        EXPECT_FALSE(c.pc->failed()) << name << ": " << c.pc->failure();
      }
      started_ = true;
    }
  }

  Client& client(const std::string& name) { return clients_.at(name); }
  bool AllConnected() {
    for (auto& [name, c] : clients_) {
      if (!c.pc->connected()) {
        return false;
      }
    }
    return true;
  }
  rtc::SfuCounters counters() const { return sfu_->Counters(); }

 private:
  void AddPeer(const std::string& name) {
    std::promise<void> p;
    sfu_->AddPeer("room", name, {}, {}, [&p] { p.set_value(); });
    p.get_future().get();
  }
  Client& NewClient(const std::string& name, PeerConnection::Role role) {
    Client& c = clients_[name];
    c.pc = std::make_unique<PeerConnection>(name, role, "127.0.0.1", dtls_);
    return c;
  }

  std::unique_ptr<rtc::Sfu> sfu_;
  std::shared_ptr<rtc::DtlsContext> dtls_;
  std::map<std::string, Client> clients_;
  bool started_ = false;
};

TEST(SfuMedia, EveryPacketOfAPublisherReachesItsSubscriber) {
  Meeting m(3'000'000);
  auto ids = m.Publish("alice", 600);
  m.Subscribe("bob", ids);
  m.Run(2.0);  // connect, and the first key frame
  ASSERT_TRUE(m.AllConnected());
  m.Run(0.3, true);
  auto sent0 = m.client("alice").sent.packets;
  auto received0 = m.client("bob").received.packets;
  m.Run(2.0);
  m.Run(0.3, true);
  auto sent = m.client("alice").sent.packets - sent0;
  auto received = m.client("bob").received.packets - received0;
  EXPECT_GT(sent, 100u);
  EXPECT_EQ(received, sent);  // loopback loses nothing
  EXPECT_EQ(m.client("bob").received.decrypt_failures, 0u);
  EXPECT_EQ(m.counters().dropped_over_bitrate, 0u);
}

TEST(SfuMedia, AFloodingPublisherIsCutAtItsBudgetAndTheOthersKeepTheirs) {
  // Publishers are told 1 Mbit/s per video (REMB); a track's budget is twice that.
  constexpr uint64_t kStated = 1'000'000;
  Meeting m(kStated);
  auto flood = m.Publish("flooder", 6'000);  // 6 Mbit/s of video
  auto calm = m.Publish("calm", 400);
  m.Subscribe("watches-flooder", flood);
  m.Subscribe("watches-calm", calm);
  // Long enough to connect and to spend the flooder's one-second burst.
  m.Run(3.0);
  ASSERT_TRUE(m.AllConnected());
  m.Run(0.3, true);
  auto& flooder = m.client("flooder");
  auto& calm_pub = m.client("calm");
  auto& flood_sub = m.client("watches-flooder");
  auto& calm_sub = m.client("watches-calm");
  auto flood_sent0 = flooder.sent.bytes;
  auto flood_received0 = flood_sub.received.bytes;
  auto calm_sent0 = calm_pub.sent.packets;
  auto calm_received0 = calm_sub.received.packets;
  constexpr double kWindow = 3.0;
  m.Run(kWindow);
  m.Run(0.3, true);
  double flood_sent = static_cast<double>(flooder.sent.bytes - flood_sent0);
  double flood_forwarded = static_cast<double>(flood_sub.received.bytes - flood_received0);
  // What got through is the budget (plus audio and SRTP overhead), not what was sent. The
  // bucket refilled during the quiet pause before the window too.
  double budget = 2.0 * kStated / 8 * (kWindow + 0.3);
  EXPECT_GT(flood_sent, 2 * budget);
  EXPECT_LT(flood_forwarded, budget * 1.1) << "sent " << flood_sent;
  EXPECT_GT(flood_forwarded, budget * 0.5);
  EXPECT_GT(m.counters().dropped_over_bitrate, 0u);
  // The calm publisher's subscriber gets everything.
  auto calm_sent = calm_pub.sent.packets - calm_sent0;
  auto calm_received = calm_sub.received.packets - calm_received0;
  EXPECT_GT(calm_sent, 100u);
  EXPECT_EQ(calm_received, calm_sent);
}

}  // namespace
}  // namespace ruche
