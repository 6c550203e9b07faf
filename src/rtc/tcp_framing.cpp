#include "rtc/tcp_framing.hpp"

#include <cstring>

namespace ruche::rtc {

std::span<uint8_t> TcpFrameReader::WritableSpace() {
  if (begin_ > 0 && (end_ == kCapacity || begin_ == end_)) {
    // Move the partial packet to the front. At most one packet's worth, and only once the
    // buffer's tail is used up, so each byte moves at most once.
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  return std::span<uint8_t>(buf_.get() + end_, kCapacity - end_);
}

void TcpFrameReader::Commit(size_t n) { end_ += n; }

TcpFrameReader::Status TcpFrameReader::Next(std::span<uint8_t>& frame) {
  size_t available = end_ - begin_;
  if (available < 2) {
    return Status::kNeedMore;
  }
  size_t length = (static_cast<size_t>(buf_[begin_]) << 8) | buf_[begin_ + 1];
  if (length == 0 || length > kMaxFrame) {
    return Status::kError;
  }
  if (available < 2 + length) {
    return Status::kNeedMore;
  }
  frame = std::span<uint8_t>(buf_.get() + begin_ + 2, length);
  begin_ += 2 + length;
  return Status::kFrame;
}

std::span<const uint8_t> TcpFrameReader::Unread() const {
  return std::span<const uint8_t>(buf_.get() + begin_, end_ - begin_);
}

}  // namespace ruche::rtc
