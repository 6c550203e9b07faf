#include "matrix/password_uia.hpp"

#include "auth/accounts.hpp"
#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "matrix/route_helpers.hpp"
#include "net/async.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Response;
namespace json = core::json;

namespace {

constexpr int64_t kSessionLifetimeMs = 10 * 60 * 1000;
constexpr size_t kMaxSessions = 10'000;
constexpr std::string_view kPasswordStage = "m.login.password";

}  // namespace

PasswordUia::PasswordUia(MatrixDeps deps)
    : deps_(deps),
      failures_per_user_(deps.config.limits.login_failures_per_user_per_second,
                         deps.config.limits.login_failures_per_user_burst) {}

std::string PasswordUia::NewSession(const std::string& localpart, const std::string& operation) {
  std::lock_guard lock(mu_);
  int64_t now = core::NowMs();
  if (sessions_.size() >= kMaxSessions) {
    std::erase_if(sessions_, [now](const auto& kv) {
      return now - kv.second.created_ms > kSessionLifetimeMs;
    });
    if (sessions_.size() >= kMaxSessions) {
      sessions_.erase(sessions_.begin());
    }
  }
  std::string id = core::RandomToken(16);
  sessions_[id] = UiaSession{localpart, operation, now};
  return id;
}

Response PasswordUia::Challenge(const std::string& session_id, const core::Error* error) {
  json::object body{
      {"flows", json::array{json::object{{"stages", json::array{json::string(kPasswordStage)}}}}},
      {"params", json::object{}},
      {"session", session_id}};
  if (error) {
    body["errcode"] = error->errcode;
    body["error"] = error->message;
  }
  Response r = Response::Json(std::move(body));
  r.status = 401;
  return r;
}

asio::awaitable<std::optional<Response>> PasswordUia::Check(const json::object& body,
                                                            const std::string& localpart,
                                                            const std::string& operation) {
  const json::value* auth = body.if_contains("auth");
  if (!auth || !auth->is_object()) {
    std::string fresh = NewSession(localpart, operation);
    co_return Challenge(fresh, nullptr);
  }
  const json::object& a = auth->get_object();
  std::string session_id;
  if (const json::value* s = a.if_contains("session"); s && s->is_string()) {
    session_id = std::string(s->get_string());
  }
  {
    // A client may answer in its first request (no session yet); a session, when given, must
    // be one we issued, for this user and this kind of request.
    std::lock_guard lock(mu_);
    if (!session_id.empty()) {
      auto it = sessions_.find(session_id);
      if (it == sessions_.end() || it->second.localpart != localpart ||
          it->second.operation != operation ||
          core::NowMs() - it->second.created_ms > kSessionLifetimeMs) {
        co_return Fail(core::Error::BadRequest("Unknown or expired session", "M_UNKNOWN"));
      }
    }
  }
  if (session_id.empty()) {
    session_id = NewSession(localpart, operation);
  }
  const json::value* type = a.if_contains("type");
  if (!type || !type->is_string() || type->get_string() != kPasswordStage) {
    core::Error e = core::Error::BadRequest("Only m.login.password is supported", "M_UNRECOGNIZED");
    co_return Challenge(session_id, &e);
  }
  // The password must be the session user's own: `identifier.user` / `user`, when given, must
  // name that user.
  std::string named;
  if (const json::value* id = a.if_contains("identifier"); id && id->is_object()) {
    if (const json::value* u = id->get_object().if_contains("user"); u && u->is_string()) {
      named = std::string(u->get_string());
    }
  } else if (const json::value* u = a.if_contains("user"); u && u->is_string()) {
    named = std::string(u->get_string());
  }
  const json::value* password = a.if_contains("password");
  core::Error forbidden = core::Error::Forbidden("Invalid password");
  if (!password || !password->is_string()) {
    co_return Challenge(session_id, &forbidden);
  }
  if (!named.empty()) {
    auto lp = deps_.accounts.LocalpartFrom(named);
    if (!lp || *lp != localpart) {
      co_return Challenge(session_id, &forbidden);
    }
  }
  if (int64_t wait = failures_per_user_.Peek(localpart, core::MonotonicMs())) {
    co_return Fail(core::Error::LimitExceeded(wait));
  }
  auto record = deps_.accounts.FindUser(localpart);
  if (!record) {
    co_return Fail(record.error());
  }
  if (!*record || (*record)->password_hash.empty()) {
    co_return Challenge(session_id, &forbidden);
  }
  std::string hash = (*record)->password_hash, pw(password->get_string());
  auto verify = [&hash, &pw] { return core::VerifyPassword(hash, pw); };
  bool ok = co_await net::Offload<bool>(deps_.blocking, verify);
  if (!ok) {
    failures_per_user_.Take(localpart, core::MonotonicMs());
    co_return Challenge(session_id, &forbidden);
  }
  failures_per_user_.Reset(localpart);
  std::lock_guard lock(mu_);
  sessions_.erase(session_id);  // used once
  co_return std::nullopt;
}

}  // namespace ruche::matrix
