#pragma once
// The outgoing mail queue. A message is a row of the store (table mail_queue), written in the
// same transaction as what caused it (a booking), so it is sent even if the server stops right
// after; a sender coroutine delivers due messages through the relay and retries temporary
// failures with growing delays (1 min, 5 min, 30 min, then every 2 h, for 2 days).
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "mail/smtp_client.hpp"
#include "store/store.hpp"

namespace ruche::mail {

struct QueueCounters {
  std::atomic<int64_t> sent{0};
  std::atomic<int64_t> retried{0};
  std::atomic<int64_t> failed{0};
};

class MailQueue {
 public:
  MailQueue(const core::Config& config, store::Store& store);
  ~MailQueue();

  bool enabled() const { return !settings_.host.empty(); }
  const std::string& sender() const { return sender_; }
  const std::string& sender_name() const { return sender_name_; }

  // Queues `message` (composed with ComposeMessage) for `recipient`; compose it into the write
  // of what caused it. Call Wake() once that write committed.
  static store::WriteFn Enqueue(std::string recipient, std::string message);

  // Runs the sender on `executor` until Stop().
  void Start(boost::asio::any_io_executor executor);
  void Wake();
  void Stop();

  const QueueCounters& counters() const { return counters_; }

 private:
  struct State;
  boost::asio::awaitable<void> Run(std::shared_ptr<State> state);
  boost::asio::awaitable<void> DeliverDue();

  store::Store& store_;
  SmtpSettings settings_;
  std::string sender_;
  std::string sender_name_;
  QueueCounters counters_;
  std::shared_ptr<State> state_;
};

}  // namespace ruche::mail
