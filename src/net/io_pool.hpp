#pragma once
// One asio io_context per I/O thread (each with concurrency hint 1), rather than one context
// shared by all threads: a connection lives on one context for its whole life, so its handlers
// never need a strand and the threads never contend on a shared scheduler lock.
#include <memory>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace ruche::net {

class IoPool {
 public:
  explicit IoPool(int threads);
  ~IoPool();

  int size() const { return static_cast<int>(contexts_.size()); }
  // The first context: the listener and signals live there.
  boost::asio::io_context& main() { return *contexts_.front(); }
  // Round-robin over the contexts, for placing new connections.
  boost::asio::io_context& Next();

  // Runs every context (one thread each, the caller's thread running the first) until Stop().
  void Run();
  void Stop();

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  size_t next_ = 0;  // touched only by the acceptor, which runs on main()
};

}  // namespace ruche::net
