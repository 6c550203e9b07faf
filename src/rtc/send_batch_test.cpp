// SendBatch over real UDP sockets on loopback: with GSO, runs of equal-sized datagrams leave in
// fewer sendmsg calls, and every receiver still gets each datagram, whole and in order.
#include "rtc/send_batch.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace ruche::rtc {
namespace {

struct Pair {
  int receiver = -1;
  int sender = -1;
  Pair() {
    receiver = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(receiver, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(receiver, reinterpret_cast<sockaddr*>(&a), &len);
    timeval timeout{1, 0};
    setsockopt(receiver, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sender = socket(AF_INET, SOCK_DGRAM, 0);
    connect(sender, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  ~Pair() {
    close(receiver);
    close(sender);
  }
  // Every datagram waiting, in arrival order.
  std::vector<std::vector<uint8_t>> Receive(size_t expected) {
    std::vector<std::vector<uint8_t>> got;
    while (got.size() < expected) {
      std::vector<uint8_t> buf(2000);
      ssize_t n = recv(receiver, buf.data(), buf.size(), 0);
      if (n < 0) {
        break;  // timed out
      }
      buf.resize(static_cast<size_t>(n));
      got.push_back(std::move(buf));
    }
    return got;
  }
};

std::vector<uint8_t> Datagram(size_t size, uint8_t tag) {
  std::vector<uint8_t> d(size, tag);
  d[0] = static_cast<uint8_t>(size >> 8);
  d[1] = static_cast<uint8_t>(size);
  return d;
}

// Sizes sent to A and B, interleaved as an SFU would (one packet to every subscriber in turn).
void SendInterleaved(SendBatch& batch, Pair& a, Pair& b, std::vector<std::vector<uint8_t>>& to_a,
                     std::vector<std::vector<uint8_t>>& to_b) {
  const size_t sizes_a[] = {1000, 1000, 1000, 1000, 1000, 300, 1000, 1000, 1000, 1200};
  uint8_t tag = 1;
  for (size_t i = 0; i < std::size(sizes_a); ++i) {
    to_a.push_back(Datagram(sizes_a[i], tag++));
    batch.Add(a.sender, to_a.back());
    if (i % 4 == 0) {
      to_b.push_back(Datagram(500, tag++));
      batch.Add(b.sender, to_b.back());
    }
  }
  EXPECT_FALSE(batch.empty());
  batch.Flush();
  EXPECT_TRUE(batch.empty());
}

TEST(SendBatch, GsoRunsArriveWholeAndInOrderInFewerSends) {
  Pair a;
  Pair b;
  SendBatch batch;
  std::vector<std::vector<uint8_t>> to_a;
  std::vector<std::vector<uint8_t>> to_b;
  SendInterleaved(batch, a, b, to_a, to_b);
  EXPECT_EQ(batch.datagrams(), to_a.size() + to_b.size());
  // Loopback takes UDP GSO on every kernel Ruche supports (Linux ≥ 4.18).
  ASSERT_TRUE(batch.gso());
  // A: [1000×5, 300] [1000×3] [1200]; B: [500×3].
  EXPECT_EQ(batch.sends(), 4u);
  EXPECT_EQ(a.Receive(to_a.size()), to_a);
  EXPECT_EQ(b.Receive(to_b.size()), to_b);
}

TEST(SendBatch, WithoutGsoEveryDatagramIsItsOwnSend) {
  Pair a;
  Pair b;
  SendBatch batch;
  batch.DisableGso();
  std::vector<std::vector<uint8_t>> to_a;
  std::vector<std::vector<uint8_t>> to_b;
  SendInterleaved(batch, a, b, to_a, to_b);
  EXPECT_EQ(batch.sends(), to_a.size() + to_b.size());
  EXPECT_EQ(a.Receive(to_a.size()), to_a);
  EXPECT_EQ(b.Receive(to_b.size()), to_b);
}

TEST(SendBatch, AFullPoolFlushesAndForgetDropsOneSocket) {
  Pair a;
  Pair b;
  SendBatch batch(8);
  std::vector<std::vector<uint8_t>> to_a;
  for (size_t i = 0; i < 20; ++i) {
    to_a.push_back(Datagram(100, static_cast<uint8_t>(i)));
    batch.Add(a.sender, to_a.back());
  }
  batch.Add(b.sender, Datagram(100, 7));
  batch.Forget(b.sender);
  batch.Flush();
  EXPECT_EQ(a.Receive(to_a.size()), to_a);
  EXPECT_TRUE(b.Receive(1).empty());
}

}  // namespace
}  // namespace ruche::rtc
