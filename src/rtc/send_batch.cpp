#include "rtc/send_batch.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103  // linux/udp.h; glibc's netinet/udp.h may lack it
#endif

namespace ruche::rtc {

SendBatch::SendBatch(size_t capacity)
    : capacity_(std::max<size_t>(1, capacity)),
      pool_(std::make_unique<uint8_t[]>(capacity_ * kMaxDatagramSize)) {
  entries_.resize(capacity_);
  order_.resize(capacity_);
  keys_.resize(capacity_);
}

void SendBatch::Add(int fd, std::span<const uint8_t> datagram) {
  if (datagram.empty()) {
    return;
  }
  if (datagram.size() > kMaxDatagramSize) {
    sends_++;
    datagrams_++;
    [[maybe_unused]] ssize_t n = ::send(fd, datagram.data(), datagram.size(), MSG_DONTWAIT);
    return;
  }
  if (count_ == capacity_) {
    Flush();
  }
  auto offset = static_cast<uint32_t>(count_ * kMaxDatagramSize);
  std::memcpy(pool_.get() + offset, datagram.data(), datagram.size());
  entries_[count_] = Entry{fd, offset, static_cast<uint16_t>(datagram.size())};
  count_++;
}

void SendBatch::Forget(int fd) {
  size_t kept = 0;
  for (size_t i = 0; i < count_; ++i) {
    if (entries_[i].fd != fd) {
      entries_[kept++] = entries_[i];  // offsets stay valid: the bytes do not move
    }
  }
  count_ = kept;
}

void SendBatch::Flush() {
  if (count_ == 0) {
    return;
  }
  // Group by socket, keeping each socket's order. NOTE: a plain sort of (fd, position) keys
  // rather than std::stable_sort, which allocates a buffer on every call; this is per wake-up.
  for (size_t i = 0; i < count_; ++i) {
    keys_[i] = static_cast<uint64_t>(static_cast<uint32_t>(entries_[i].fd)) << 32 | i;
  }
  std::sort(keys_.begin(), keys_.begin() + static_cast<std::ptrdiff_t>(count_));
  for (size_t i = 0; i < count_; ++i) {
    order_[i] = static_cast<uint32_t>(keys_[i]);
  }
  size_t i = 0;
  while (i < count_) {
    int fd = entries_[order_[i]].fd;
    size_t end = i + 1;
    while (end < count_ && entries_[order_[end]].fd == fd) {
      end++;
    }
    // Within one socket: runs of the same size, closed by a shorter datagram or by the limits.
    size_t start = i;
    while (start < end) {
      uint16_t size = entries_[order_[start]].size;
      size_t run = start + 1;
      size_t bytes = size;
      while (run < end && run - start < kMaxSegments && bytes + size <= kMaxGsoBytes) {
        uint16_t next = entries_[order_[run]].size;
        if (next > size) {
          break;
        }
        bytes += next;
        run++;
        if (next < size) {
          break;  // a shorter one may only end a run
        }
      }
      SendRun(fd, &order_[start], run - start);
      start = run;
    }
    i = end;
  }
  count_ = 0;
}

void SendBatch::SendOne(int fd, const Entry& e) {
  sends_++;
  datagrams_++;
  [[maybe_unused]] ssize_t n = ::send(fd, pool_.get() + e.offset, e.size, MSG_DONTWAIT);
}

void SendBatch::SendRun(int fd, const uint32_t* indexes, size_t count) {
  if (count == 1 || !gso_) {
    for (size_t k = 0; k < count; ++k) {
      SendOne(fd, entries_[indexes[k]]);
    }
    return;
  }
  iovec iov[kMaxSegments];
  for (size_t k = 0; k < count; ++k) {
    const Entry& e = entries_[indexes[k]];
    iov[k] = {pool_.get() + e.offset, e.size};
  }
  alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(uint16_t))] = {};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_UDP;
  cm->cmsg_type = UDP_SEGMENT;
  cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t segment = entries_[indexes[0]].size;
  std::memcpy(CMSG_DATA(cm), &segment, sizeof(segment));
  ssize_t n = ::sendmsg(fd, &msg, MSG_DONTWAIT);
  if (n < 0 && (errno == EIO || errno == ENOPROTOOPT || errno == EOPNOTSUPP || errno == EINVAL ||
                errno == EMSGSIZE)) {
    // EIO and the like: no GSO on this path (a device without checksum offload): one by one,
    // from now on. EINVAL / EMSGSIZE: this run does not fit the route's MTU as segments; one by
    // one this time (the kernel fragments or refuses each as a plain send would).
    if (errno != EINVAL && errno != EMSGSIZE) {
      gso_ = false;
    }
    for (size_t k = 0; k < count; ++k) {
      SendOne(fd, entries_[indexes[k]]);
    }
    return;
  }
  sends_++;
  datagrams_ += count;
}

}  // namespace ruche::rtc
