#pragma once
// Typing notifications (PUT /rooms/{roomId}/typing/{userId}) and presence
// (GET/PUT /presence/{userId}/status), plus the once-a-second sweep that expires typers and
// moves idle users to unavailable and absent ones to offline.
#include <atomic>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>

#include "matrix/client_api.hpp"
#include "matrix/notifier.hpp"
#include "matrix/presence.hpp"
#include "matrix/typing.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class EphemeralRoutes {
 public:
  EphemeralRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier, TypingState& typing,
                  PresenceTracker& presence);

  // Starts the sweep on the blocking pool; Stop() ends it (the pool's join() then returns).
  // `also` runs after each sweep (other once-a-second housekeeping).
  void Start(std::function<boost::asio::awaitable<void>()> also);
  void Stop();

 private:
  boost::asio::awaitable<net::Response> PutTyping(net::Request& req);
  boost::asio::awaitable<net::Response> PutPresence(net::Request& req);
  boost::asio::awaitable<net::Response> GetPresence(net::Request& req);
  boost::asio::awaitable<void> SweepLoop();

  MatrixDeps deps_;
  Notifier& notifier_;
  TypingState& typing_;
  PresenceTracker& presence_;
  boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
  std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
  std::function<boost::asio::awaitable<void>()> also_;
  struct Timer;
  std::shared_ptr<Timer> timer_;
};

}  // namespace ruche::matrix
