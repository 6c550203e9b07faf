#include "matrix/ephemeral_routes.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/clock.hpp"
#include "matrix/room_events.hpp"
#include "matrix/route_helpers.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;

namespace {

constexpr int64_t kDefaultTypingTimeoutMs = 30'000;
constexpr int64_t kMaxTypingTimeoutMs = 120'000;
constexpr size_t kMaxStatusMsgBytes = 1024;
constexpr auto kSweepPeriod = std::chrono::seconds(1);

}  // namespace

struct EphemeralRoutes::Timer {
  explicit Timer(asio::strand<asio::thread_pool::executor_type> ex) : timer(ex) {}
  asio::steady_timer timer;
};

EphemeralRoutes::EphemeralRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier,
                                 TypingState& typing, PresenceTracker& presence)
    : deps_(deps),
      notifier_(notifier),
      typing_(typing),
      presence_(presence),
      strand_(asio::make_strand(deps.blocking.get_executor())),
      timer_(std::make_shared<Timer>(strand_)) {
  AddClientRoute(router, "PUT", "/rooms/{roomId}/typing/{userId}",
                 [this](Request& r) { return PutTyping(r); });
  AddClientRoute(router, "PUT", "/presence/{userId}/status",
                 [this](Request& r) { return PutPresence(r); });
  AddClientRoute(router, "GET", "/presence/{userId}/status",
                 [this](Request& r) { return GetPresence(r); });
}

void EphemeralRoutes::Start(std::function<asio::awaitable<void>()> also) {
  also_ = std::move(also);
  asio::co_spawn(strand_, SweepLoop(), asio::detached);
}

void EphemeralRoutes::Stop() {
  stopping_->store(true);
  asio::post(strand_, [timer = timer_] { timer->timer.cancel(); });
}

asio::awaitable<void> EphemeralRoutes::SweepLoop() {
  auto timer = timer_;  // keeps the timer alive while the loop runs
  auto stopping = stopping_;
  while (!stopping->load()) {
    timer->timer.expires_after(kSweepPeriod);
    auto [ec] = co_await timer->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;  // aborted = Stop(); the loop condition decides
    if (stopping->load()) {
      break;
    }
    for (const auto& [room, serial] : typing_.Expire(core::NowMs())) {
      notifier_.PublishTyping(serial, room);
    }
    co_await presence_.Sweep();
    if (also_) {
      co_await also_();
    }
  }
}

asio::awaitable<Response> EphemeralRoutes::PutTyping(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  if (req.Param("userId") != session->user_id) {
    co_return Fail(core::Error::Forbidden("You can only set your own typing state"));
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  const json::value* typing = body->if_contains("typing");
  if (!typing || !typing->is_bool()) {
    co_return Fail(core::Error::BadRequest("'typing' must be a boolean", "M_BAD_JSON"));
  }
  int64_t timeout = kDefaultTypingTimeoutMs;
  if (const json::value* t = body->if_contains("timeout")) {
    if (!t->is_int64() || t->get_int64() <= 0) {
      co_return Fail(core::Error::BadRequest("'timeout' must be a positive integer", "M_BAD_JSON"));
    }
    timeout = std::min(t->get_int64(), kMaxTypingTimeoutMs);
  }
  std::string room_id(req.Param("roomId"));
  {
    auto lease = deps_.store.Read();
    if (auto joined = RequireJoined(lease.conn(), room_id, session->user_id); !joined) {
      co_return Fail(joined.error());
    }
  }
  int64_t serial =
      typing_.Set(room_id, session->user_id, typing->get_bool(), timeout, core::NowMs());
  if (serial != 0) {
    notifier_.PublishTyping(serial, room_id);
  }
  if (typing->get_bool()) {
    co_await presence_.Active(session->user_id);
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> EphemeralRoutes::PutPresence(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  if (req.Param("userId") != session->user_id) {
    co_return Fail(core::Error::Forbidden("You can only set your own presence"));
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  const json::value* state = body->if_contains("presence");
  if (!state || !state->is_string() ||
      (state->get_string() != "online" && state->get_string() != "unavailable" &&
       state->get_string() != "offline")) {
    co_return Fail(core::Error::BadRequest("'presence' must be one of online, unavailable, offline",
                                           "M_INVALID_PARAM"));
  }
  std::optional<std::string> status_msg;
  if (const json::value* m = body->if_contains("status_msg"); m && !m->is_null()) {
    if (!m->is_string() || m->get_string().size() > kMaxStatusMsgBytes) {
      co_return Fail(core::Error::BadRequest("'status_msg' must be a string of at most 1024 bytes",
                                             "M_INVALID_PARAM"));
    }
    status_msg = std::string(m->get_string());
  }
  PresenceTracker::ExplicitUpdate update{.state = std::string(state->get_string()),
                                         .status_msg = std::move(status_msg),
                                         .availability = std::nullopt};
  // Ruche's availability: a string sets it, null gives it back to the automatic ones (meeting,
  // calendar), absent leaves it as it is — so Matrix clients that know nothing of it keep it.
  if (const json::value* a = body->if_contains("org.ruche.availability")) {
    if (a->is_null()) {
      update.availability = "";
    } else if (a->is_string() && (a->get_string() == "busy" || a->get_string() == "dnd")) {
      update.availability = std::string(a->get_string());
    } else {
      co_return Fail(core::Error::BadRequest(
          "'org.ruche.availability' must be \"busy\", \"dnd\" or null", "M_INVALID_PARAM"));
    }
  }
  auto r = co_await presence_.SetExplicit(session->user_id, std::move(update));
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> EphemeralRoutes::GetPresence(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string target(req.Param("userId"));
  if (target != session->user_id) {
    // Only people who share a room see each other's presence; the same answer for a user who
    // does not exist, so the endpoint does not reveal accounts.
    auto row = deps_.store.Read()->QueryOne(
        "SELECT 1 FROM memberships a JOIN memberships b ON a.room_id = b.room_id "
        "WHERE a.user_id = ? AND a.membership = 'join' AND b.user_id = ? AND "
        "b.membership = 'join' LIMIT 1",
        {session->user_id, target});
    if (!row) {
      co_return Fail(row.error());
    }
    if (!*row) {
      co_return Fail(core::Error::Forbidden("You do not share a room with this user"));
    }
  }
  auto content = presence_.Get(target);
  if (!content) {
    co_return Fail(content.error());
  }
  co_return Response::Json(std::move(*content));
}

}  // namespace ruche::matrix
