#include "matrix/device_routes.hpp"

#include "auth/accounts.hpp"
#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "matrix/route_helpers.hpp"
#include "net/async.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;
namespace json = core::json;

namespace {

constexpr int64_t kSessionLifetimeMs = 10 * 60 * 1000;
constexpr size_t kMaxSessions = 10'000;
constexpr size_t kMaxDeviceName = 255;
constexpr size_t kMaxDevicesPerDelete = 1000;
constexpr std::string_view kPasswordStage = "m.login.password";

json::object DeviceJson(const store::Row& row) {
  json::object d{{"device_id", row.Text(0)}};
  if (!row.IsNull(1)) {
    d["display_name"] = row.Text(1);
  }
  if (!row.IsNull(2)) {
    d["last_seen_ts"] = row.Int(2);
  }
  if (!row.IsNull(3)) {
    d["last_seen_ip"] = row.Text(3);
  }
  return d;
}

constexpr const char* kDeviceColumns =
    "SELECT device_id, display_name, last_seen_ms, last_seen_ip FROM devices WHERE localpart = ?";

}  // namespace

DeviceRoutes::DeviceRoutes(net::Router& router, MatrixDeps deps)
    : deps_(deps),
      failures_per_user_(deps.config.limits.login_failures_per_user_per_second,
                         deps.config.limits.login_failures_per_user_burst) {
  AddClientRoute(router, "GET", "/devices", [this](Request& r) { return ListDevices(r); });
  AddClientRoute(router, "GET", "/devices/{deviceId}", [this](Request& r) { return GetDevice(r); });
  AddClientRoute(router, "PUT", "/devices/{deviceId}",
                 [this](Request& r) { return RenameDevice(r); });
  AddClientRoute(router, "DELETE", "/devices/{deviceId}",
                 [this](Request& r) { return DeleteDevices(r, false); });
  AddClientRoute(router, "POST", "/delete_devices",
                 [this](Request& r) { return DeleteDevices(r, true); });
  AddClientRoute(router, "POST", "/account/password",
                 [this](Request& r) { return ChangePassword(r); });
}

asio::awaitable<Response> DeviceRoutes::ListDevices(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string sql = std::string(kDeviceColumns) + " ORDER BY created_ms";
  auto rows = deps_.store.Read()->Query(sql, {session->localpart});
  if (!rows) {
    co_return Fail(rows.error());
  }
  json::array devices;
  for (const auto& row : *rows) {
    devices.emplace_back(DeviceJson(row));
  }
  co_return Response::Json(json::object{{"devices", std::move(devices)}});
}

asio::awaitable<Response> DeviceRoutes::GetDevice(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string sql = std::string(kDeviceColumns) + " AND device_id = ?";
  auto row =
      deps_.store.Read()->QueryOne(sql, {session->localpart, std::string(req.Param("deviceId"))});
  if (!row) {
    co_return Fail(row.error());
  }
  if (!*row) {
    co_return Fail(core::Error::NotFound("No such device"));
  }
  co_return Response::Json(DeviceJson(**row));
}

asio::awaitable<Response> DeviceRoutes::RenameDevice(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObjectOrEmpty(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  auto name = core::OptString(*body, "display_name");
  if (!name) {
    co_return Fail(name.error());
  }
  if (!*name) {
    co_return Response::Json(json::object{});  // nothing to change
  }
  if ((*name)->size() > kMaxDeviceName) {
    co_return Fail(core::Error::BadRequest("display_name is too long", "M_INVALID_PARAM"));
  }
  std::string localpart = session->localpart, device(req.Param("deviceId"));
  std::string new_name(**name);
  store::WriteFn write = [localpart, device, new_name](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(
        auto changed,
        c.Execute("UPDATE devices SET display_name = ? WHERE localpart = ? AND device_id = ?",
                  {new_name, localpart, device}));
    if (changed == 0) {
      return core::Error::NotFound("No such device");
    }
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(json::object{});
}

std::string DeviceRoutes::NewSession(const std::string& localpart, const std::string& operation) {
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

Response DeviceRoutes::Challenge(const std::string& session_id, const core::Error* error) {
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

asio::awaitable<std::optional<Response>> DeviceRoutes::CheckPassword(const json::object& body,
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

asio::awaitable<Response> DeviceRoutes::DeleteDevices(Request& req, bool many) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObjectOrEmpty(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  std::vector<std::string> devices;
  if (many) {
    const json::value* list = body->if_contains("devices");
    if (!list || !list->is_array() || list->get_array().size() > kMaxDevicesPerDelete) {
      co_return Fail(core::Error::BadRequest("'devices' must be a list of at most 1000 IDs"));
    }
    for (const auto& d : list->get_array()) {
      if (!d.is_string()) {
        co_return Fail(core::Error::BadRequest("'devices' must contain strings"));
      }
      devices.emplace_back(d.get_string());
    }
  } else {
    devices.emplace_back(req.Param("deviceId"));
    auto exists =
        deps_.store.Read()->QueryOne("SELECT 1 FROM devices WHERE localpart = ? AND device_id = ?",
                                     {session->localpart, devices.front()});
    if (!exists) {
      co_return Fail(exists.error());
    }
    if (!*exists) {
      co_return Fail(core::Error::NotFound("No such device"));
    }
  }
  std::string localpart = session->localpart;
  std::string operation = "delete_devices";
  auto denied = co_await CheckPassword(*body, localpart, operation);
  if (denied) {
    co_return std::move(*denied);
  }
  auth::Accounts& accounts = deps_.accounts;
  store::WriteFn write = [&accounts, localpart, devices](store::Connection& c) -> Result<void> {
    for (const auto& d : devices) {
      RUCHE_RETURN_IF_ERROR(accounts.DeleteDevice(localpart, d)(c));
    }
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  deps_.accounts.ForgetCachedSessions();  // the ended tokens: see Accounts
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> DeviceRoutes::ChangePassword(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObjectOrEmpty(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  std::string localpart = session->localpart;
  std::string operation = "password";
  auto denied = co_await CheckPassword(*body, localpart, operation);
  if (denied) {
    co_return std::move(*denied);
  }
  const json::value* pw = body->if_contains("new_password");
  if (!pw || !pw->is_string()) {
    co_return Fail(core::Error::BadRequest("'new_password' is required", "M_MISSING_PARAM"));
  }
  std::string new_password(pw->get_string());
  if (auto v = auth::Accounts::ValidatePassword(new_password); !v) {
    co_return Fail(v.error());
  }
  bool logout_devices = true;
  if (const json::value* l = body->if_contains("logout_devices"); l && l->is_bool()) {
    logout_devices = l->get_bool();
  }
  auto hash_password = [&new_password] { return core::HashPassword(new_password); };
  auto hash = co_await net::Offload<Result<std::string>>(deps_.blocking, hash_password);
  if (!hash) {
    co_return Fail(hash.error());
  }
  auth::Accounts& accounts = deps_.accounts;
  std::string keep = session->device_id, new_hash = *hash;
  store::WriteFn write = [&accounts, localpart, keep, new_hash,
                          logout_devices](store::Connection& c) -> Result<void> {
    RUCHE_RETURN_IF_ERROR(accounts.SetPasswordHash(localpart, new_hash)(c));
    if (logout_devices) {
      // Spec: every other device is signed out; the one that changed the password stays.
      RUCHE_ASSIGN_OR_RETURN(auto others,
                             c.Query("SELECT device_id FROM devices WHERE localpart = ? AND "
                                     "device_id != ?",
                                     {localpart, keep}));
      for (const auto& row : others) {
        RUCHE_RETURN_IF_ERROR(accounts.DeleteDevice(localpart, row.Text(0))(c));
      }
    }
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  deps_.accounts.ForgetCachedSessions();  // the ended tokens: see Accounts
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(json::object{});
}

}  // namespace ruche::matrix
