#include "matrix/login_routes.hpp"

#include "auth/accounts.hpp"
#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "core/json.hpp"
#include "matrix/route_helpers.hpp"
#include "net/async.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
namespace json = core::json;
using net::Request;
using net::Response;

namespace {

constexpr int64_t kUiaSessionLifetimeMs = 30 * 60 * 1000;
constexpr size_t kMaxUiaSessions = 10'000;
constexpr std::string_view kDummyStage = "m.login.dummy";
constexpr std::string_view kTokenStage = "m.login.registration_token";

// Request bodies, parsed and validated outside the coroutines (plain early returns).
struct LoginRequest {
  std::string user;  // localpart or full user ID, as given
  std::string password;
  std::optional<std::string> device_id;
  std::string display_name;
};

struct UiaAuth {
  std::string type;
  std::optional<std::string> session;
  std::optional<std::string> token;  // m.login.registration_token
};

struct RegisterRequest {
  std::optional<std::string> username;
  std::string password;
  bool inhibit_login = false;
  std::optional<std::string> device_id;
  std::string display_name;
  std::optional<UiaAuth> auth;
};

std::optional<std::string> Owned(std::optional<std::string_view> v) {
  if (!v) {
    return std::nullopt;
  }
  return std::string(*v);
}

Result<void> ValidateDevice(const std::optional<std::string>& device_id,
                            const std::string& display_name) {
  if (device_id && (device_id->empty() || device_id->size() > auth::kMaxDeviceIdLength)) {
    return Error::BadRequest("device_id must be 1 to 64 characters");
  }
  if (display_name.size() > auth::kMaxDisplayNameLength) {
    return Error::BadRequest("Device display name is too long");
  }
  return {};
}

Result<LoginRequest> ParseLoginRequest(std::string_view text) {
  RUCHE_ASSIGN_OR_RETURN(auto body, core::ParseJsonObject(text));
  RUCHE_ASSIGN_OR_RETURN(auto type, core::RequireString(body, "type"));
  if (type != "m.login.password") {
    return Error::BadRequest("Unknown login type", "M_UNKNOWN");
  }
  LoginRequest out;
  // The user: identifier {type: m.id.user, user} (v1.x), or the legacy top-level "user".
  RUCHE_ASSIGN_OR_RETURN(auto ident, core::OptObject(body, "identifier"));
  if (ident != nullptr) {
    RUCHE_ASSIGN_OR_RETURN(auto id_type, core::RequireString(*ident, "type"));
    if (id_type != "m.id.user") {
      return Error::BadRequest("Unsupported identifier type", "M_UNKNOWN");
    }
    RUCHE_ASSIGN_OR_RETURN(out.user, core::RequireString(*ident, "user"));
  } else {
    RUCHE_ASSIGN_OR_RETURN(out.user, core::RequireString(body, "user"));
  }
  RUCHE_ASSIGN_OR_RETURN(out.password, core::RequireString(body, "password"));
  RUCHE_ASSIGN_OR_RETURN(auto device_id, core::OptString(body, "device_id"));
  RUCHE_ASSIGN_OR_RETURN(auto display, core::OptString(body, "initial_device_display_name"));
  out.device_id = Owned(device_id);
  out.display_name = std::string(display.value_or(""));
  RUCHE_RETURN_IF_ERROR(ValidateDevice(out.device_id, out.display_name));
  return out;
}

Result<RegisterRequest> ParseRegisterRequest(std::string_view text) {
  RUCHE_ASSIGN_OR_RETURN(auto body, core::ParseJsonObject(text));
  RegisterRequest out;
  RUCHE_ASSIGN_OR_RETURN(auto username, core::OptString(body, "username"));
  RUCHE_ASSIGN_OR_RETURN(auto password, core::OptString(body, "password"));
  RUCHE_ASSIGN_OR_RETURN(auto inhibit, core::OptBool(body, "inhibit_login"));
  RUCHE_ASSIGN_OR_RETURN(auto device_id, core::OptString(body, "device_id"));
  RUCHE_ASSIGN_OR_RETURN(auto display, core::OptString(body, "initial_device_display_name"));
  RUCHE_ASSIGN_OR_RETURN(auto auth, core::OptObject(body, "auth"));
  if (!password) {
    return Error::BadRequest("'password' is required", "M_MISSING_PARAM");
  }
  out.username = Owned(username);
  out.password = std::string(*password);
  out.inhibit_login = inhibit.value_or(false);
  out.device_id = Owned(device_id);
  out.display_name = std::string(display.value_or(""));
  RUCHE_RETURN_IF_ERROR(ValidateDevice(out.device_id, out.display_name));
  if (auth != nullptr) {
    UiaAuth a;
    RUCHE_ASSIGN_OR_RETURN(a.type, core::RequireString(*auth, "type"));
    RUCHE_ASSIGN_OR_RETURN(auto session, core::OptString(*auth, "session"));
    RUCHE_ASSIGN_OR_RETURN(auto token, core::OptString(*auth, "token"));
    a.session = Owned(session);
    a.token = Owned(token);
    out.auth = std::move(a);
  }
  return out;
}

}  // namespace

LoginRoutes::LoginRoutes(net::Router& router, MatrixDeps deps, DeviceKeys& keys)
    : deps_(deps),
      keys_(keys),
      login_per_ip_(deps.config.limits.login_per_ip_per_second,
                    deps.config.limits.login_per_ip_burst),
      login_failures_per_user_(deps.config.limits.login_failures_per_user_per_second,
                               deps.config.limits.login_failures_per_user_burst),
      register_per_ip_(deps.config.limits.register_per_ip_per_second,
                       deps.config.limits.register_per_ip_burst),
      // Computed once at start, with the configured cost, so that a login for an unknown user
      // costs the same time as a wrong password (no user enumeration by timing).
      dummy_hash_(*core::HashPassword("ruche-no-such-user-dummy-password",
                                      core::PasswordHashCostOf(deps.config))) {
  AddClientRoute(router, "GET", "/login", [](Request&) -> asio::awaitable<Response> {
    co_return Response::Json(
        json::object{{"flows", json::array{json::object{{"type", "m.login.password"}}}}});
  });
  AddClientRoute(router, "POST", "/login", [this](Request& r) { return Login(r); });
  AddClientRoute(router, "POST", "/register", [this](Request& r) { return Register(r); });
  AddClientRoute(router, "GET", "/register/available", [this](Request& r) { return Available(r); });
  router.Add("GET", "/_matrix/client/v1/register/m.login.registration_token/validity",
             [this](Request& r) { return TokenValidity(r); });
  AddClientRoute(router, "POST", "/logout", [this](Request& r) { return Logout(r, false); });
  AddClientRoute(router, "POST", "/logout/all", [this](Request& r) { return Logout(r, true); });
  AddClientRoute(router, "GET", "/account/whoami", [this](Request& r) { return WhoAmI(r); });
}

asio::awaitable<Response> LoginRoutes::Login(Request& req) {
  auto parsed = ParseLoginRequest(req.body);
  if (!parsed) {
    co_return Response::FromError(parsed.error());
  }
  const LoginRequest& login = *parsed;
  int64_t now = core::MonotonicMs();
  if (int64_t wait = login_per_ip_.Take(req.remote_ip, now)) {
    co_return Response::FromError(Error::LimitExceeded(wait));
  }
  auto localpart = deps_.accounts.LocalpartFrom(login.user);
  const Error kBadCredentials = Error::Forbidden("Invalid username or password");
  if (!localpart) {
    co_return Response::FromError(kBadCredentials);
  }
  if (int64_t wait = login_failures_per_user_.Peek(*localpart, now)) {
    co_return Response::FromError(Error::LimitExceeded(wait));
  }
  auto record = deps_.accounts.FindUser(*localpart);
  if (!record) {
    co_return Response::FromError(record.error());
  }
  bool usable = *record && !(*record)->deactivated && !(*record)->password_hash.empty();
  std::string hash = dummy_hash_;
  if (usable) {
    hash = (*record)->password_hash;
  }
  const std::string& pw = login.password;
  auto verify = [&hash, &pw] { return core::VerifyPassword(hash, pw); };
  bool ok = co_await net::Offload<bool>(deps_.blocking, verify);
  if (!ok || !usable) {
    login_failures_per_user_.Take(*localpart, core::MonotonicMs());
    co_return Response::FromError(kBadCredentials);
  }
  login_failures_per_user_.Reset(*localpart);

  // NOTE: gcc 12 can destroy temporaries of a co_await expression (and those built by ?: in a
  // coroutine) twice, so every non-trivial argument is a named variable before co_await.
  std::string device = login.device_id.value_or(auth::Accounts::NewDeviceId());
  auto token = auth::Accounts::NewToken();
  store::WriteFn write = deps_.accounts.CreateSession(*localpart, device, login.display_name,
                                                      token.token_hash, req.remote_ip);
  auto committed = co_await Commit(deps_.store, std::move(write));
  deps_.accounts.ForgetCachedSessions();  // a re-used device's old tokens ended: see Accounts
  // A device ID used again after its device was deleted must not see the old key counts.
  keys_.ForgetCounts(deps_.accounts.UserId(*localpart), device);
  if (!committed) {
    co_return Response::FromError(committed.error());
  }
  co_return Response::Json(json::object{{"user_id", deps_.accounts.UserId(*localpart)},
                                        {"access_token", token.token},
                                        {"device_id", device},
                                        {"home_server", deps_.accounts.server_name()}});
}

std::string LoginRoutes::NewUiaSession() {
  std::lock_guard lock(uia_mu_);
  int64_t now = core::NowMs();
  if (uia_sessions_.size() >= kMaxUiaSessions) {
    std::erase_if(uia_sessions_, [now](const auto& kv) {
      return now - kv.second.created_ms > kUiaSessionLifetimeMs;
    });
    if (uia_sessions_.size() >= kMaxUiaSessions) {
      uia_sessions_.erase(uia_sessions_.begin());
    }
  }
  std::string id = core::RandomToken(18);
  uia_sessions_[id] = UiaSession{{}, "", now};
  return id;
}

Response LoginRoutes::UiaChallenge(const std::string& session_id, const Error* error) {
  std::string_view stage =
      deps_.config.registration == core::RegistrationMode::kToken ? kTokenStage : kDummyStage;
  json::array completed;
  {
    std::lock_guard lock(uia_mu_);
    if (auto it = uia_sessions_.find(session_id); it != uia_sessions_.end()) {
      for (const auto& s : it->second.completed) {
        completed.emplace_back(s);
      }
    }
  }
  json::object body{{"flows", json::array{json::object{{"stages", json::array{stage}}}}},
                    {"params", json::object{}},
                    {"session", session_id}};
  if (!completed.empty()) {
    body["completed"] = std::move(completed);
  }
  if (error != nullptr) {
    body["errcode"] = error->errcode;
    body["error"] = error->message;
  }
  return Response::Json(401, body);
}

asio::awaitable<Response> LoginRoutes::Register(Request& req) {
  if (deps_.config.registration == core::RegistrationMode::kClosed) {
    co_return Response::FromError(Error::Forbidden("Registration is disabled on this server"));
  }
  if (auto kind = req.QueryParam("kind"); kind && *kind != "user") {
    co_return Response::FromError(
        Error(403, "M_GUEST_ACCESS_FORBIDDEN", "Guest registration is not enabled"));
  }
  auto parsed = ParseRegisterRequest(req.body);
  if (!parsed) {
    co_return Response::FromError(parsed.error());
  }
  const RegisterRequest& reg = *parsed;

  // The name and password are checked before any auth stage, as clients expect to learn early
  // that a name is taken.
  std::string localpart;
  if (reg.username) {
    localpart = *reg.username;
  } else {  // no name asked for: generate one
    localpart = "user" + core::RandomUpperAlpha(8);
    for (char& c : localpart) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (auto v = deps_.accounts.ValidateLocalpart(localpart); !v) {
    co_return Response::FromError(v.error());
  }
  if (auto v = auth::Accounts::ValidatePassword(reg.password); !v) {
    co_return Response::FromError(v.error());
  }
  auto existing = deps_.accounts.FindUser(localpart);
  if (!existing) {
    co_return Response::FromError(existing.error());
  }
  if (*existing) {
    co_return Response::FromError(Error::BadRequest("User ID already taken", "M_USER_IN_USE"));
  }

  // User-interactive auth.
  if (!reg.auth) {
    co_return UiaChallenge(NewUiaSession(), nullptr);
  }
  // A client may complete a one-stage flow in its first request, with no session yet
  // (matrix-nio does): start one for it.
  std::string session_id;
  if (reg.auth->session) {
    session_id = *reg.auth->session;
  } else {
    session_id = NewUiaSession();
  }
  {
    std::lock_guard lock(uia_mu_);
    auto it = uia_sessions_.find(session_id);
    if (it == uia_sessions_.end() ||
        core::NowMs() - it->second.created_ms > kUiaSessionLifetimeMs) {
      co_return Response::FromError(Error::BadRequest("Unknown or expired session", "M_UNKNOWN"));
    }
  }
  bool token_mode = deps_.config.registration == core::RegistrationMode::kToken;
  std::string registration_token;
  if (token_mode) {
    if (reg.auth->type != kTokenStage) {
      Error e = Error::Forbidden("This server requires a registration token");
      co_return UiaChallenge(session_id, &e);
    }
    if (!reg.auth->token) {
      co_return Response::FromError(Error::BadRequest("'token' is required", "M_MISSING_PARAM"));
    }
    const std::string& tok = *reg.auth->token;
    if (int64_t wait = register_per_ip_.Take(req.remote_ip, core::MonotonicMs())) {
      co_return Response::FromError(Error::LimitExceeded(wait));
    }
    auto valid = deps_.accounts.RegistrationTokenValid(tok);
    if (!valid) {
      co_return Response::FromError(valid.error());
    }
    if (!*valid) {
      Error e = Error::Forbidden("Invalid registration token");
      co_return UiaChallenge(session_id, &e);
    }
    registration_token = tok;
  } else {
    if (reg.auth->type != kDummyStage) {
      Error e = Error::BadRequest("Unsupported authentication stage", "M_UNRECOGNIZED");
      co_return UiaChallenge(session_id, &e);
    }
    if (int64_t wait = register_per_ip_.Take(req.remote_ip, core::MonotonicMs())) {
      co_return Response::FromError(Error::LimitExceeded(wait));
    }
  }
  {
    std::lock_guard lock(uia_mu_);
    uia_sessions_.erase(session_id);  // the flow is complete; a session is used once
  }

  const std::string& pw = reg.password;
  core::PasswordHashCost cost = core::PasswordHashCostOf(deps_.config);
  auto hash_password = [&pw, cost] { return core::HashPassword(pw, cost); };
  auto hash = co_await net::Offload<Result<std::string>>(deps_.blocking, hash_password);
  if (!hash) {
    co_return Response::FromError(hash.error());
  }
  bool login = !reg.inhibit_login;
  std::string device = reg.device_id.value_or(auth::Accounts::NewDeviceId());
  auto token = auth::Accounts::NewToken();
  // One write: the token's use, the account and its first session commit together or not at all.
  store::WriteFn consume;
  if (token_mode) {
    consume = deps_.accounts.ConsumeRegistrationToken(registration_token);
  }
  auto create = deps_.accounts.CreateUser(localpart, std::move(*hash), false);
  store::WriteFn session;
  if (login) {
    session = deps_.accounts.CreateSession(localpart, device, reg.display_name, token.token_hash,
                                           req.remote_ip);
  }
  store::WriteFn register_all = [consume, create, session](store::Connection& c) -> Result<void> {
    if (consume) {
      if (auto r = consume(c); !r) {
        return r;
      }
    }
    if (auto r = create(c); !r) {
      return r;
    }
    if (session) {
      return session(c);
    }
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(register_all));
  if (!committed) {
    co_return Response::FromError(committed.error());
  }
  json::object out{{"user_id", deps_.accounts.UserId(localpart)},
                   {"home_server", deps_.accounts.server_name()}};
  if (login) {
    out["access_token"] = token.token;
    out["device_id"] = device;
  }
  co_return Response::Json(out);
}

asio::awaitable<Response> LoginRoutes::Available(Request& req) {
  auto name = req.QueryParam("username");
  if (!name) {
    co_return Response::FromError(Error::BadRequest("'username' is required", "M_MISSING_PARAM"));
  }
  if (auto v = deps_.accounts.ValidateLocalpart(*name); !v) {
    co_return Response::FromError(v.error());
  }
  auto existing = deps_.accounts.FindUser(*name);
  if (!existing) {
    co_return Response::FromError(existing.error());
  }
  if (*existing) {
    co_return Response::FromError(Error::BadRequest("User ID already taken", "M_USER_IN_USE"));
  }
  co_return Response::Json(json::object{{"available", true}});
}

asio::awaitable<Response> LoginRoutes::TokenValidity(Request& req) {
  if (deps_.config.registration != core::RegistrationMode::kToken) {
    co_return Response::FromError(Error::Forbidden("Registration tokens are not in use"));
  }
  auto token = req.QueryParam("token");
  if (!token) {
    co_return Response::FromError(Error::BadRequest("'token' is required", "M_MISSING_PARAM"));
  }
  if (int64_t wait = register_per_ip_.Peek(req.remote_ip, core::MonotonicMs())) {
    co_return Response::FromError(Error::LimitExceeded(wait));
  }
  auto valid = deps_.accounts.RegistrationTokenValid(*token);
  if (!valid) {
    co_return Response::FromError(valid.error());
  }
  co_return Response::Json(json::object{{"valid", *valid}});
}

asio::awaitable<Response> LoginRoutes::Logout(Request& req, bool all) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Response::FromError(session.error());
  }
  // Spec: logging out deletes the device, and with it its E2EE keys and to-device queue.
  std::optional<std::vector<std::string>> devices;
  if (!all) {
    devices = std::vector<std::string>{session->device_id};
  }
  auto stream = std::make_shared<int64_t>(0);
  auto committed = co_await Commit(
      deps_.store,
      keys_.DeleteDevices(deps_.accounts, session->localpart, session->user_id, devices, stream));
  deps_.accounts.ForgetCachedSessions();  // the ended tokens: see Accounts
  if (!committed) {
    co_return Response::FromError(committed.error());
  }
  if (*stream) {
    keys_.Announce(session->user_id, *stream);
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> LoginRoutes::WhoAmI(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Response::FromError(session.error());
  }
  co_return Response::Json(json::object{
      {"user_id", session->user_id}, {"device_id", session->device_id}, {"is_guest", false}});
}

}  // namespace ruche::matrix
