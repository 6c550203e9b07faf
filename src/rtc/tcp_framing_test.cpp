// RFC 4571 reassembly: packets split across reads, several in one read, bad lengths.
#include "rtc/tcp_framing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ruche::rtc {
namespace {

std::vector<uint8_t> Framed(const std::vector<std::string>& packets) {
  std::vector<uint8_t> out;
  for (const auto& p : packets) {
    uint8_t prefix[2];
    PutTcpFrameLength(prefix, p.size());
    out.insert(out.end(), prefix, prefix + 2);
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

// Feeds `stream` in pieces of `piece` bytes and returns every packet the reader yields.
std::vector<std::string> Reassemble(const std::vector<uint8_t>& stream, size_t piece) {
  TcpFrameReader reader;
  std::vector<std::string> out;
  size_t at = 0;
  while (at < stream.size()) {
    auto space = reader.WritableSpace();
    size_t n = std::min({piece, space.size(), stream.size() - at});
    EXPECT_GT(n, 0u);
    std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(at), n, space.begin());
    reader.Commit(n);
    at += n;
    std::span<uint8_t> frame;
    TcpFrameReader::Status s;
    while ((s = reader.Next(frame)) == TcpFrameReader::Status::kFrame) {
      out.emplace_back(frame.begin(), frame.end());
    }
    EXPECT_EQ(s, TcpFrameReader::Status::kNeedMore);
  }
  EXPECT_TRUE(reader.Unread().empty());
  return out;
}

TEST(TcpFraming, ReassemblesWhateverTheStreamCutsItInto) {
  std::vector<std::string> packets{"a", std::string(1200, 'b'), "cc",
                                   std::string(TcpFrameReader::kMaxFrame, 'd'), "eee"};
  auto stream = Framed(packets);
  for (size_t piece : {1u, 2u, 3u, 7u, 1000u, 5000u}) {
    EXPECT_EQ(Reassemble(stream, piece), packets) << "pieces of " << piece;
  }
}

TEST(TcpFraming, ManyPacketsKeepFlowingThroughTheFixedBuffer) {
  std::vector<std::string> packets;
  for (int i = 0; i < 500; ++i) {
    packets.push_back(std::string(static_cast<size_t>(1 + (i * 37) % 1400), static_cast<char>(i)));
  }
  EXPECT_EQ(Reassemble(Framed(packets), 1500), packets);
}

TEST(TcpFraming, RefusesZeroAndOversizedLengths) {
  for (size_t length : {size_t{0}, TcpFrameReader::kMaxFrame + 1, size_t{65535}}) {
    TcpFrameReader reader;
    auto space = reader.WritableSpace();
    PutTcpFrameLength(space.data(), length);
    reader.Commit(2);
    std::span<uint8_t> frame;
    EXPECT_EQ(reader.Next(frame), TcpFrameReader::Status::kError) << length;
  }
}

TEST(TcpFraming, UnreadKeepsAPartialPacketForAnotherReader) {
  auto stream = Framed({"hello", "world"});
  TcpFrameReader reader;
  auto space = reader.WritableSpace();
  std::copy(stream.begin(), stream.end() - 2, space.begin());
  reader.Commit(stream.size() - 2);
  std::span<uint8_t> frame;
  ASSERT_EQ(reader.Next(frame), TcpFrameReader::Status::kFrame);
  EXPECT_EQ(std::string(frame.begin(), frame.end()), "hello");
  EXPECT_EQ(reader.Next(frame), TcpFrameReader::Status::kNeedMore);
  auto rest = reader.Unread();
  EXPECT_EQ(std::vector<uint8_t>(rest.begin(), rest.end()),
            std::vector<uint8_t>(stream.begin() + 7, stream.end() - 2));
}

}  // namespace
}  // namespace ruche::rtc
