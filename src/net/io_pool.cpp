#include "net/io_pool.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

namespace ruche::net {

IoPool::IoPool(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
  }
}

IoPool::~IoPool() = default;

boost::asio::io_context& IoPool::Next() {
  auto& io = *contexts_[next_];
  next_ = (next_ + 1) % contexts_.size();
  return io;
}

void IoPool::Run() {
  // Work guards keep idle contexts running until Stop().
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards;
  for (auto& io : contexts_) {
    guards.push_back(boost::asio::make_work_guard(*io));
  }
  std::vector<std::thread> threads;
  for (size_t i = 1; i < contexts_.size(); ++i) {
    threads.emplace_back([io = contexts_[i].get()] { io->run(); });
  }
  contexts_.front()->run();
  for (auto& t : threads) {
    t.join();
  }
}

void IoPool::Stop() {
  for (auto& io : contexts_) {
    io->stop();
  }
}

}  // namespace ruche::net
