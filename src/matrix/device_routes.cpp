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

constexpr size_t kMaxDeviceName = 255;
constexpr size_t kMaxDevicesPerDelete = 1000;

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

DeviceRoutes::DeviceRoutes(net::Router& router, MatrixDeps deps, PasswordUia& uia, DeviceKeys& keys)
    : deps_(deps), uia_(uia), keys_(keys) {
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
  auto denied = co_await uia_.Check(*body, localpart, operation);
  if (denied) {
    co_return std::move(*denied);
  }
  auto stream = std::make_shared<int64_t>(0);
  auto r = co_await Commit(deps_.store, keys_.DeleteDevices(deps_.accounts, localpart,
                                                            session->user_id, devices, stream));
  deps_.accounts.ForgetCachedSessions();  // the ended tokens: see Accounts
  if (!r) {
    co_return Fail(r.error());
  }
  if (*stream) {
    keys_.Announce(session->user_id, *stream);
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
  auto denied = co_await uia_.Check(*body, localpart, operation);
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
  DeviceKeys& keys = keys_;
  std::string keep = session->device_id, new_hash = *hash, user_id = session->user_id;
  auto stream = std::make_shared<int64_t>(0);
  store::WriteFn write = [&accounts, &keys, localpart, user_id, keep, new_hash, logout_devices,
                          stream](store::Connection& c) -> Result<void> {
    RUCHE_RETURN_IF_ERROR(accounts.SetPasswordHash(localpart, new_hash)(c));
    if (logout_devices) {
      // Spec: every other device is signed out; the one that changed the password stays.
      RUCHE_ASSIGN_OR_RETURN(auto others,
                             c.Query("SELECT device_id FROM devices WHERE localpart = ? AND "
                                     "device_id != ?",
                                     {localpart, keep}));
      std::vector<std::string> ids;
      for (const auto& row : others) {
        ids.push_back(row.Text(0));
      }
      RUCHE_RETURN_IF_ERROR(keys.DeleteDevices(accounts, localpart, user_id, ids, stream)(c));
    }
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  deps_.accounts.ForgetCachedSessions();  // the ended tokens: see Accounts
  if (!r) {
    co_return Fail(r.error());
  }
  if (*stream) {
    keys_.Announce(user_id, *stream);
  }
  co_return Response::Json(json::object{});
}

}  // namespace ruche::matrix
