#pragma once
// Bridges from handler coroutines to work that runs elsewhere: threads that complete by callback
// (the store's writer) and the blocking pool (password hashing). Include only in files that write
// handlers.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>

namespace ruche::net {

// Runs `fn()` (which may block: hashing, disk) on `pool` and resumes the caller, on its own
// executor, with the result.
template <class R, class F>
boost::asio::awaitable<R> Offload(boost::asio::thread_pool& pool, F fn) {
  std::optional<R> out;
  // Named, not a temporary in the co_await expression (gcc 12 coroutine temporaries bug).
  auto run = [&]() -> boost::asio::awaitable<void> {
    out.emplace(fn());
    co_return;
  };
  co_await boost::asio::co_spawn(pool, run, boost::asio::use_awaitable);
  co_return std::move(*out);
}

// Starts work that completes through a callback on another thread (the store's writer, say)
// and resumes the caller on its own executor with the value passed to the callback:
//   Result<void> r = co_await AwaitCallback<Result<void>>([&](auto done) {
//     store.Write(fn, std::move(done)); });
template <class T, class Start>
boost::asio::awaitable<T> AwaitCallback(Start start) {
  return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(T)>(
      [](auto handler, Start start) {
        using Handler = decltype(handler);
        auto shared = std::make_shared<Handler>(std::move(handler));
        // Keeps the I/O context running while the work is in flight.
        auto work = boost::asio::prefer(boost::asio::get_associated_executor(*shared),
                                        boost::asio::execution::outstanding_work.tracked);
        start(std::function<void(T)>([shared, work](T value) mutable {
          boost::asio::post(
              work, [shared, value = std::move(value)]() mutable { (*shared)(std::move(value)); });
        }));
      },
      boost::asio::use_awaitable, std::move(start));
}

}  // namespace ruche::net
