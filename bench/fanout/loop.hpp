#pragma once
// A minimal epoll loop and non-blocking TCP connection for the load generator. Level-triggered,
// one thread; EPOLLOUT is armed only while a write is pending.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ruche::bench {

// CLOCK_MONOTONIC in microseconds: send stamps and receive times come from the same clock,
// because sender and receivers live in this one process.
int64_t NowUs();

// Prints `why` and exits: the generator has no way to recover from a broken set-up.
[[noreturn]] void Fatal(const std::string& why);

class Loop;

class Conn {
 public:
  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  virtual ~Conn();

  // Connects to 127.0.0.1:port without blocking; writes queued before the connection completes
  // are sent when it does.
  void Connect(Loop& loop, uint16_t port);
  void Write(std::string_view data);

 protected:
  virtual void OnData() = 0;  // new bytes were appended to in_
  virtual void OnClose() { Fatal("server closed a connection"); }
  std::string in_;

 private:
  friend class Loop;
  void HandleEvents(uint32_t events);
  void Flush();
  void SetWantWrite(bool want);

  Loop* loop_ = nullptr;
  int fd_ = -1;
  std::string out_;
  size_t out_off_ = 0;
  bool want_write_ = false;
};

class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Dispatches events until `done()` is true, calling `tick()` (if set) at least every
  // `tick_us`. Fails the run when `deadline_us` (NowUs() scale) passes first.
  void RunUntil(const std::function<bool()>& done, int64_t deadline_us,
                const std::function<void()>& tick = {}, int64_t tick_us = 1000);
  int fd() const { return epfd_; }

 private:
  int epfd_;
};

}  // namespace ruche::bench
