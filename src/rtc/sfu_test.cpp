// The SFU's control surface across threads: rooms on two workers, peers publishing a real
// Chromium offer and subscribing to each other, answers parsed back, peers leaving. Media itself
// is tested with real browsers (tests/interop, tests/e2e); this runs under ThreadSanitizer too.
#include "rtc/sfu.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace ruche::rtc {
namespace {

constexpr std::string_view kOffer =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\n"
    "a=ice-pwd:0123456789abcdefghijklmn\r\n"
    "a=fingerprint:sha-256 "
    "28:94:DB:73:60:5B:D8:80:82:A9:3C:66:EA:BD:D4:0D:58:FD:C1:D1:3C:F2:59:F9:56:89:F7:FB:80:55:B4:"
    "16\r\na=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=ssrc:1111 cname:x\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\n"
    "a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=ssrc-group:FID 2222 3333\r\n"
    "a=ssrc:2222 cname:x\r\na=ssrc:3333 cname:x\r\n";

// Calls an asynchronous SFU operation and waits for its callback (which runs on a worker).
template <typename T, typename Start>
T Wait(Start start) {
  std::promise<T> p;
  auto f = p.get_future();
  start([&p](T v) { p.set_value(std::move(v)); });
  return f.get();
}

void AddPeer(Sfu& sfu, const std::string& room, const std::string& peer) {
  std::promise<void> p;
  sfu.AddPeer(room, peer, {}, {}, [&p] { p.set_value(); });
  p.get_future().get();
}

std::unique_ptr<Sfu> StartSfu() {
  SfuOptions options;
  options.listen_ip = "127.0.0.1";
  options.udp_port = 0;
  options.workers = 2;
  auto sfu = Sfu::Start(options);
  EXPECT_TRUE(sfu) << (sfu ? "" : sfu.error().message);
  return sfu ? std::move(*sfu) : nullptr;
}

TEST(Sfu, PublishSubscribeAndLeave) {
  auto sfu = StartSfu();
  ASSERT_NE(sfu, nullptr);
  EXPECT_NE(sfu->udp_port(), 0);
  AddPeer(*sfu, "room", "alice");
  AddPeer(*sfu, "room", "bob");
  auto published = Wait<Result<PublishResult>>(
      [&](auto done) { sfu->Publish("room", "alice", std::string(kOffer), done); });
  ASSERT_TRUE(published) << published.error().message;
  ASSERT_EQ(published->producers.size(), 2u);
  auto answer = ParseSdp(published->answer_sdp);
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->setup, "passive");
  EXPECT_NE(published->answer_sdp.find(" " + std::to_string(sfu->udp_port()) + " typ host"),
            std::string::npos);

  std::vector<std::string> ids;
  for (const auto& p : published->producers) {
    ids.push_back(p.producer_id);
  }
  auto offer = Wait<Result<std::optional<SubscribeOffer>>>(
      [&](auto done) { sfu->UpdateSubscriptions("room", "bob", ids, {}, done); });
  ASSERT_TRUE(offer);
  ASSERT_TRUE(*offer);
  EXPECT_EQ((*offer)->consumers.size(), 2u);
  // A second change before the answer is folded into the next offer.
  auto none = Wait<Result<std::optional<SubscribeOffer>>>(
      [&](auto done) { sfu->UpdateSubscriptions("room", "bob", {}, {ids[0]}, done); });
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  // Bob's answer (the offer turned around) yields the pending offer, without the audio.
  std::string bob_answer = (*offer)->sdp;
  for (size_t at; (at = bob_answer.find("a=sendonly")) != std::string::npos;) {
    bob_answer.replace(at, 10, "a=recvonly");
  }
  for (size_t at; (at = bob_answer.find("a=setup:actpass")) != std::string::npos;) {
    bob_answer.replace(at, 15, "a=setup:active");
  }
  auto next = Wait<Result<std::optional<SubscribeOffer>>>(
      [&](auto done) { sfu->AnswerSubscription("room", "bob", bob_answer, done); });
  ASSERT_TRUE(next) << next.error().message;
  ASSERT_TRUE(*next);
  EXPECT_EQ((*next)->consumers.size(), 1u);

  auto removed =
      Wait<std::vector<std::string>>([&](auto done) { sfu->RemovePeer("room", "alice", done); });
  EXPECT_EQ(removed.size(), 2u);
  auto counters = sfu->Counters();
  EXPECT_EQ(counters.rooms, 1u);
  EXPECT_EQ(counters.peers, 1u);
}

TEST(Sfu, UnknownPeersAndBadOffersAreErrors) {
  auto sfu = StartSfu();
  ASSERT_NE(sfu, nullptr);
  auto missing = Wait<Result<PublishResult>>(
      [&](auto done) { sfu->Publish("nowhere", "nobody", std::string(kOffer), done); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errcode, "M_NOT_FOUND");
  AddPeer(*sfu, "r", "p");
  auto bad = Wait<Result<PublishResult>>(
      [&](auto done) { sfu->Publish("r", "p", "v=0\r\nm=audio 9 RTP/AVP 0\r\n", done); });
  EXPECT_FALSE(bad);
  auto no_offer = Wait<Result<std::optional<SubscribeOffer>>>(
      [&](auto done) { sfu->AnswerSubscription("r", "p", std::string(kOffer), done); });
  EXPECT_FALSE(no_offer);
}

TEST(Sfu, ManyThreadsManyRooms) {
  auto sfu = StartSfu();
  ASSERT_NE(sfu, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string room = "room" + std::to_string(i % 5);
        std::string peer = "t" + std::to_string(t) + "p" + std::to_string(i);
        AddPeer(*sfu, room, peer);
        auto r = Wait<Result<PublishResult>>(
            [&](auto done) { sfu->Publish(room, peer, std::string(kOffer), done); });
        EXPECT_TRUE(r);
        Wait<std::vector<std::string>>([&](auto done) { sfu->RemovePeer(room, peer, done); });
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  auto counters = sfu->Counters();
  EXPECT_EQ(counters.peers, 0u);
  EXPECT_EQ(counters.rooms, 0u);
}

TEST(Sfu, ASecondServerCannotShareTheMediaPort) {
  auto first = StartSfu();
  ASSERT_NE(first, nullptr);
  SfuOptions options;
  options.udp_port = first->udp_port();
  auto second = Sfu::Start(options);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("cannot bind"), std::string::npos);
}

}  // namespace
}  // namespace ruche::rtc
