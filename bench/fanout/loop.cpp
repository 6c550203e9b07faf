#include "loop.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace ruche::bench {

int64_t NowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

void Fatal(const std::string& why) {
  std::fprintf(stderr, "loadgen: %s\n", why.c_str());
  std::exit(1);
}

Conn::~Conn() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

void Conn::Connect(Loop& loop, uint16_t port) {
  loop_ = &loop;
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    Fatal(std::string("socket: ") + std::strerror(errno));
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    Fatal(std::string("connect: ") + std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;  // EPOLLOUT reports the end of the connect
  ev.data.ptr = this;
  want_write_ = true;
  if (epoll_ctl(loop.fd(), EPOLL_CTL_ADD, fd_, &ev) != 0) {
    Fatal(std::string("epoll_ctl: ") + std::strerror(errno));
  }
}

void Conn::Write(std::string_view data) {
  if (out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
  }
  out_.append(data);
  if (!want_write_) {
    Flush();
  }
}

void Conn::Flush() {
  while (out_off_ < out_.size()) {
    ssize_t n = send(fd_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL);
    if (n > 0) {
      out_off_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == ENOTCONN)) {
      SetWantWrite(true);
      return;
    }
    Fatal(std::string("send: ") + std::strerror(errno));
  }
  SetWantWrite(false);
}

void Conn::SetWantWrite(bool want) {
  if (want == want_write_) {
    return;
  }
  want_write_ = want;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.ptr = this;
  epoll_ctl(loop_->fd(), EPOLL_CTL_MOD, fd_, &ev);
}

void Conn::HandleEvents(uint32_t events) {
  if (events & EPOLLOUT) {
    if (events & EPOLLERR) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      Fatal(std::string("connection failed: ") + std::strerror(err));
    }
    Flush();
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    char buf[64 * 1024];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      OnData();
    } else if (n == 0) {
      OnClose();
    } else if (errno != EAGAIN && errno != EINTR) {
      Fatal(std::string("recv: ") + std::strerror(errno));
    }
  }
}

Loop::Loop() : epfd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (epfd_ < 0) {
    Fatal("epoll_create1 failed");
  }
}

Loop::~Loop() { close(epfd_); }

void Loop::RunUntil(const std::function<bool()>& done, int64_t deadline_us,
                    const std::function<void()>& tick, int64_t tick_us) {
  epoll_event events[256];
  int64_t next_tick = NowUs();
  while (!done()) {
    int64_t now = NowUs();
    if (now > deadline_us) {
      Fatal("timed out (is the server overloaded or down?)");
    }
    if (tick && now >= next_tick) {
      tick();
      next_tick = now + tick_us;
      if (done()) {
        break;
      }
    }
    int timeout_ms = 100;
    if (tick) {
      timeout_ms = static_cast<int>(std::max<int64_t>(0, (next_tick - NowUs() + 999) / 1000));
    }
    int n = epoll_wait(epfd_, events, 256, timeout_ms);
    if (n < 0 && errno != EINTR) {
      Fatal(std::string("epoll_wait: ") + std::strerror(errno));
    }
    for (int i = 0; i < n; ++i) {
      static_cast<Conn*>(events[i].data.ptr)->HandleEvents(events[i].events);
    }
  }
}

}  // namespace ruche::bench
