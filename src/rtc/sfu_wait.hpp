#pragma once
// Blocking use of the SFU's asynchronous API, for tests and tools on another thread (never on a
// worker: its callback could not run). `WaitFor<T>([&](auto done) { sfu.Publish(..., done); })`
// starts the operation and returns what its callback was given.
#include <future>
#include <utility>

namespace ruche::rtc {

template <typename T, typename Start>
T WaitFor(Start start) {
  std::promise<T> p;
  auto f = p.get_future();
  start([&p](T v) { p.set_value(std::move(v)); });
  return f.get();
}

}  // namespace ruche::rtc
