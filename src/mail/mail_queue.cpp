#include "mail/mail_queue.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "net/async.hpp"

namespace ruche::mail {
namespace {

namespace asio = boost::asio;

constexpr int64_t kPollMs = 30'000;  // also catches retries that fell due
constexpr size_t kBatch = 20;
constexpr int64_t kGiveUpAfterMs = 2 * 24 * 3600 * 1000LL;

int64_t RetryDelayMs(int64_t attempts) {
  static constexpr int64_t kDelays[] = {60'000, 5 * 60'000, 30 * 60'000};
  if (attempts >= 1 && attempts <= 3) {
    return kDelays[attempts - 1];
  }
  return 2 * 3600'000;
}

}  // namespace

struct MailQueue::State {
  explicit State(asio::any_io_executor ex) : wake(ex) {}
  asio::steady_timer wake;
  bool stopping = false;
  bool woken = false;  // a Wake() arrived while delivering: look again before sleeping
};

MailQueue::MailQueue(const core::Config& config, store::Store& store) : store_(store) {
  settings_.host = config.mail.smtp_host;
  settings_.port = static_cast<int>(config.mail.smtp_port);
  settings_.username = config.mail.smtp_username;
  settings_.password = config.mail.smtp_password;
  settings_.verify_certificate = config.mail.tls_verify;
  settings_.tls = config.mail.tls == "none"       ? TlsMode::kNone
                  : config.mail.tls == "required" ? TlsMode::kRequired
                                                  : TlsMode::kOpportunistic;
  settings_.helo_name = config.server_name;
  sender_ = config.mail.from.empty() ? "noreply@" + config.server_name : config.mail.from;
  sender_name_ = config.mail.from_name;
}

MailQueue::~MailQueue() = default;

store::WriteFn MailQueue::Enqueue(std::string recipient, std::string message) {
  return [recipient = std::move(recipient),
          message = std::move(message)](store::Connection& c) -> Result<void> {
    int64_t now = core::NowMs();
    RUCHE_RETURN_IF_ERROR(c.Execute(
        "INSERT INTO mail_queue (recipient, message, attempts, next_attempt_ts, last_error, "
        "status, created_ts, sent_ts) VALUES (?, ?, 0, ?, '', 'queued', ?, 0)",
        {recipient, message, now, now}));
    return Ok();
  };
}

void MailQueue::Start(asio::any_io_executor executor) {
  state_ = std::make_shared<State>(executor);
  if (!enabled()) {
    RUCHE_LOG_INFO("mail: no relay configured (mail.smtp_host): messages stay queued");
    return;
  }
  asio::co_spawn(executor, Run(state_), asio::detached);
}

void MailQueue::Wake() {
  if (auto s = state_) {
    asio::post(s->wake.get_executor(), [s] {
      s->woken = true;
      s->wake.cancel();
    });
  }
}

void MailQueue::Stop() {
  if (auto s = state_) {
    asio::post(s->wake.get_executor(), [s] {
      s->stopping = true;
      s->wake.cancel();
    });
  }
}

asio::awaitable<void> MailQueue::Run(std::shared_ptr<State> state) {
  while (!state->stopping) {
    state->woken = false;
    co_await DeliverDue();
    if (state->stopping) {
      break;
    }
    if (state->woken) {
      continue;  // new mail was queued while this round was sending
    }
    boost::system::error_code ec;
    state->wake.expires_after(std::chrono::milliseconds(kPollMs));
    co_await state->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> MailQueue::DeliverDue() {
  store::Rows due;
  {
    auto lease = store_.Read();
    auto rows = lease->Query(
        "SELECT mail_id, recipient, message, attempts, created_ts FROM mail_queue WHERE "
        "status = 'queued' AND next_attempt_ts <= ? ORDER BY next_attempt_ts LIMIT ?",
        {core::NowMs(), static_cast<int64_t>(kBatch)});
    if (!rows) {
      RUCHE_LOG_WARN("mail: cannot read the queue: {}", rows.error().message);
      co_return;
    }
    due = std::move(*rows);
  }
  for (const auto& row : due) {
    int64_t id = row.Int(0);
    std::vector<std::string> recipients{row.Text(1)};
    const std::string& message = row.Text(2);
    auto sent = co_await SendMail(settings_, sender_, recipients, message);
    int64_t now = core::NowMs();
    store::WriteFn update;
    if (sent) {
      counters_.sent++;
      update = [id, now](store::Connection& c) -> Result<void> {
        RUCHE_RETURN_IF_ERROR(c.Execute(
            "UPDATE mail_queue SET status = 'sent', sent_ts = ?, attempts = attempts + 1, "
            "message = '' WHERE mail_id = ?",
            {now, id}));
        return Ok();
      };
    } else {
      int64_t attempts = row.Int(3) + 1;
      bool give_up =
          sent.error().errcode == "M_MAIL_PERMANENT" || now - row.Int(4) > kGiveUpAfterMs;
      (give_up ? counters_.failed : counters_.retried)++;
      RUCHE_LOG_WARN("mail: to {} {}: {}", row.Text(1), give_up ? "failed" : "will retry",
                     sent.error().message);
      std::string error = sent.error().message.substr(0, 1000);
      update = [id, attempts, give_up, now, error](store::Connection& c) -> Result<void> {
        RUCHE_RETURN_IF_ERROR(c.Execute(
            "UPDATE mail_queue SET attempts = ?, last_error = ?, status = ?, next_attempt_ts = ? "
            "WHERE mail_id = ?",
            {attempts, error, std::string(give_up ? "failed" : "queued"),
             now + RetryDelayMs(attempts), id}));
        return Ok();
      };
    }
    auto done = co_await net::AwaitCallback<Result<void>>(
        [&](auto cb) { store_.Write(std::move(update), std::move(cb)); });
    if (!done) {
      RUCHE_LOG_WARN("mail: cannot update the queue: {}", done.error().message);
    }
  }
}

}  // namespace ruche::mail
