// The SFU's control surface across threads: rooms on two workers, peers publishing a real
// Chromium offer and subscribing to each other, answers parsed back, peers leaving. Media itself
// is tested with real browsers (tests/interop, tests/e2e); this runs under ThreadSanitizer too.
#include "rtc/sfu.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "rtc/sdp.hpp"
#include "rtc/sfu_wait.hpp"
#include "rtc/stun_message.hpp"
#include "rtc/tcp_framing.hpp"

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
  auto published = WaitFor<Result<PublishResult>>(
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
  auto offer = WaitFor<Result<std::optional<SubscribeOffer>>>(
      [&](auto done) { sfu->UpdateSubscriptions("room", "bob", ids, {}, done); });
  ASSERT_TRUE(offer);
  ASSERT_TRUE(*offer);
  EXPECT_EQ((*offer)->consumers.size(), 2u);
  // A second change before the answer is folded into the next offer.
  auto none = WaitFor<Result<std::optional<SubscribeOffer>>>(
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
  auto next = WaitFor<Result<std::optional<SubscribeOffer>>>(
      [&](auto done) { sfu->AnswerSubscription("room", "bob", bob_answer, done); });
  ASSERT_TRUE(next) << next.error().message;
  ASSERT_TRUE(*next);
  EXPECT_EQ((*next)->consumers.size(), 1u);

  auto removed =
      WaitFor<std::vector<std::string>>([&](auto done) { sfu->RemovePeer("room", "alice", done); });
  EXPECT_EQ(removed.size(), 2u);
  auto counters = sfu->Counters();
  EXPECT_EQ(counters.rooms, 1u);
  EXPECT_EQ(counters.peers, 1u);
}

TEST(Sfu, UnknownPeersAndBadOffersAreErrors) {
  auto sfu = StartSfu();
  ASSERT_NE(sfu, nullptr);
  auto missing = WaitFor<Result<PublishResult>>(
      [&](auto done) { sfu->Publish("nowhere", "nobody", std::string(kOffer), done); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errcode, "M_NOT_FOUND");
  AddPeer(*sfu, "r", "p");
  auto bad = WaitFor<Result<PublishResult>>(
      [&](auto done) { sfu->Publish("r", "p", "v=0\r\nm=audio 9 RTP/AVP 0\r\n", done); });
  EXPECT_FALSE(bad);
  auto no_offer = WaitFor<Result<std::optional<SubscribeOffer>>>(
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
        auto r = WaitFor<Result<PublishResult>>(
            [&](auto done) { sfu->Publish(room, peer, std::string(kOffer), done); });
        EXPECT_TRUE(r);
        WaitFor<std::vector<std::string>>([&](auto done) { sfu->RemovePeer(room, peer, done); });
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

// A TCP client of the media port, as a browser's active ICE-TCP candidate (RFC 6544).
class TcpClient {
 public:
  explicit TcpClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~TcpClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  void SendRaw(std::span<const uint8_t> bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void SendFramed(std::span<const uint8_t> packet) {
    std::vector<uint8_t> out(2 + packet.size());
    PutTcpFrameLength(out.data(), packet.size());
    std::copy(packet.begin(), packet.end(), out.begin() + 2);
    SendRaw(out);
  }
  // True when the server closes the connection within 5 s (data before the close is skipped).
  bool WaitClosed() {
    uint8_t byte;
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) {
        return false;
      }
      ssize_t r = ::recv(fd_, &byte, 1, 0);
      if (r <= 0) {
        return true;
      }
    }
  }
  // The next framed packet; empty when the server closed the connection (or after 5 s).
  std::vector<uint8_t> Receive() {
    uint8_t prefix[2];
    if (!ReadExactly(prefix, 2)) {
      return {};
    }
    std::vector<uint8_t> packet((prefix[0] << 8) | prefix[1]);
    if (!ReadExactly(packet.data(), packet.size())) {
      return {};
    }
    return packet;
  }

 private:
  bool ReadExactly(uint8_t* out, size_t n) {
    for (size_t got = 0; got < n;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) {
        return false;
      }
      ssize_t r = ::recv(fd_, out + got, n - got, 0);
      if (r <= 0) {
        return false;
      }
      got += static_cast<size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
};

std::vector<uint8_t> Check(const std::string& username, const std::string& password) {
  BindingRequest request;
  request.transaction_id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  request.username = username;
  request.password = password;
  request.priority = 1518280447;
  request.tie_breaker = 42;
  request.use_candidate = true;
  std::vector<uint8_t> out(512);
  out.resize(BuildBindingRequest(request, out));
  return out;
}

TEST(Sfu, IceTcpPassiveCandidateAnswersChecksOverFramedTcp) {
  auto sfu = StartSfu();
  ASSERT_NE(sfu, nullptr);
  AddPeer(*sfu, "room", "alice");
  auto published = WaitFor<Result<PublishResult>>(
      [&](auto done) { sfu->Publish("room", "alice", std::string(kOffer), done); });
  ASSERT_TRUE(published) << published.error().message;
  const std::string& sdp = published->answer_sdp;
  std::string port = std::to_string(sfu->udp_port());
  // Both candidates, UDP first by priority, the TCP one passive on the same port number.
  EXPECT_NE(sdp.find("a=candidate:1 1 udp 2130706431 127.0.0.1 " + port + " typ host\r\n"),
            std::string::npos)
      << sdp;
  EXPECT_NE(sdp.find(" tcp 1688207359 127.0.0.1 " + port + " typ host tcptype passive\r\n"),
            std::string::npos)
      << sdp;
  auto answer = ParseSdp(sdp);
  ASSERT_TRUE(answer);

  // A check with the right credentials, framed (RFC 4571), gets a framed success response
  // whose XOR-MAPPED-ADDRESS is the client's own TCP address. Two workers listen: whichever
  // accepted the connection, the transport's owner answers.
  for (int attempt = 0; attempt < 4; ++attempt) {
    TcpClient client(sfu->udp_port());
    ASSERT_TRUE(client.connected());
    auto request = Check(answer->ice_ufrag + ":abcd", answer->ice_pwd);
    ASSERT_FALSE(request.empty());
    // Split mid-packet: the server must reassemble.
    std::vector<uint8_t> framed(2 + request.size());
    PutTcpFrameLength(framed.data(), request.size());
    std::copy(request.begin(), request.end(), framed.begin() + 2);
    client.SendRaw(std::span<const uint8_t>(framed).first(7));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    client.SendRaw(std::span<const uint8_t>(framed).subspan(7));
    auto response = client.Receive();
    ASSERT_FALSE(response.empty()) << "no response on attempt " << attempt;
    auto msg = ParseStun(response);
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->type, 0x0101);  // binding success
    EXPECT_EQ(msg->transaction_id,
              (std::array<uint8_t, 12>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    EXPECT_TRUE(VerifyMessageIntegrity(response, *msg, answer->ice_pwd));
  }
  // A wrong password: 401, and the connection is not a candidate pair.
  {
    TcpClient client(sfu->udp_port());
    client.SendFramed(Check(answer->ice_ufrag + ":abcd", "not-the-password-at-all!"));
    auto response = client.Receive();
    auto msg = ParseStun(response);
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->type, 0x0111);  // binding error
    // Still nobody's: anything but another check closes it.
    std::vector<uint8_t> dtls{22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    client.SendFramed(dtls);
    EXPECT_TRUE(client.WaitClosed());
  }
  // Nothing but a check naming a known transport opens a connection: other ufrags, other
  // protocols and broken framing are closed at once.
  {
    TcpClient client(sfu->udp_port());
    client.SendFramed(Check("nosuchufrag:abcd", "whatever-password-here"));
    EXPECT_TRUE(client.WaitClosed());
  }
  {
    TcpClient client(sfu->udp_port());
    std::vector<uint8_t> dtls{22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    client.SendFramed(dtls);
    EXPECT_TRUE(client.WaitClosed());
  }
  {
    TcpClient client(sfu->udp_port());
    std::vector<uint8_t> huge{0xFF, 0xFF, 0, 1};
    client.SendRaw(huge);
    EXPECT_TRUE(client.WaitClosed());
  }
  auto counters = sfu->Counters();
  EXPECT_GE(counters.dropped_unauthenticated, 2u);
  EXPECT_GE(counters.dropped_malformed, 1u);
}

TEST(Sfu, IceTcpCanBeTurnedOff) {
  SfuOptions options;
  options.listen_ip = "127.0.0.1";
  options.workers = 1;
  options.tcp = false;
  auto sfu = Sfu::Start(options);
  ASSERT_TRUE(sfu);
  AddPeer(**sfu, "room", "alice");
  auto published = WaitFor<Result<PublishResult>>(
      [&](auto done) { (*sfu)->Publish("room", "alice", std::string(kOffer), done); });
  ASSERT_TRUE(published);
  EXPECT_EQ(published->answer_sdp.find(" tcp "), std::string::npos);
  EXPECT_FALSE(TcpClient((*sfu)->udp_port()).connected());
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
