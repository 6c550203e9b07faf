#include "matrix/key_backup_routes.hpp"

#include <charconv>

#include "auth/accounts.hpp"
#include "matrix/route_helpers.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;
namespace json = core::json;

namespace {

constexpr size_t kMaxIdBytes = 255;
constexpr size_t kMaxAlgorithmBytes = 255;
constexpr size_t kMaxAuthDataBytes = 16 * 1024;
constexpr size_t kMaxSessionDataBytes = 16 * 1024;
constexpr size_t kMaxSessionsPerRequest = 10'000;
constexpr int64_t kMaxSessionsPerVersion = 1'000'000;

core::Error Invalid(std::string message) {
  return core::Error::BadRequest(std::move(message), "M_INVALID_PARAM");
}

core::Error NoSuchVersion() { return core::Error::NotFound("Unknown backup version"); }

// Backup versions are opaque strings to clients; Ruche's are decimal numbers.
std::optional<int64_t> ParseVersion(std::string_view text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v <= 0) {
    return std::nullopt;
  }
  return v;
}

struct BackupVersion {
  int64_t version = 0;
  std::string algorithm;
  std::string auth_data;
  int64_t etag = 0;
  int64_t count = 0;
};

// `version`, or the newest when nullopt; deleted versions are not found.
Result<std::optional<BackupVersion>> LoadVersion(store::Connection& c, const std::string& user,
                                                 std::optional<int64_t> version) {
  std::optional<store::Row> row;
  if (version) {
    RUCHE_ASSIGN_OR_RETURN(
        row, c.QueryOne("SELECT version, algorithm, auth_data, etag, key_count FROM "
                        "key_backup_versions WHERE user_id = ? AND version = ? AND deleted = 0",
                        {user, *version}));
  } else {
    RUCHE_ASSIGN_OR_RETURN(
        row, c.QueryOne("SELECT version, algorithm, auth_data, etag, key_count FROM "
                        "key_backup_versions WHERE user_id = ? AND deleted = 0 ORDER BY version "
                        "DESC LIMIT 1",
                        {user}));
  }
  if (!row) {
    return std::optional<BackupVersion>{};
  }
  return std::optional<BackupVersion>(
      BackupVersion{row->Int(0), row->Text(1), row->Text(2), row->Int(3), row->Int(4)});
}

json::object VersionJson(const BackupVersion& v) {
  boost::system::error_code ec;
  json::value auth_data = json::parse(v.auth_data, ec);
  return json::object{{"algorithm", v.algorithm},
                      {"auth_data", ec ? json::value(json::object{}) : std::move(auth_data)},
                      {"count", v.count},
                      {"etag", std::to_string(v.etag)},
                      {"version", std::to_string(v.version)}};
}

// Body of a version create/update: algorithm and auth_data.
Result<std::pair<std::string, std::string>> ReadVersionBody(const json::object& body) {
  auto algorithm = core::RequireString(body, "algorithm");
  if (!algorithm) {
    return algorithm.error();
  }
  const json::value* auth_data = body.if_contains("auth_data");
  if (!auth_data || !auth_data->is_object()) {
    return core::Error::BadRequest("'auth_data' must be an object", "M_MISSING_PARAM");
  }
  std::string auth_text = json::serialize(*auth_data);
  if (algorithm->empty() || algorithm->size() > kMaxAlgorithmBytes ||
      auth_text.size() > kMaxAuthDataBytes) {
    return Invalid("'algorithm' or 'auth_data' is too large");
  }
  return std::make_pair(std::string(*algorithm), auth_text);
}

struct SessionKey {
  std::string room_id, session_id;
  int64_t first_message_index = 0;
  int64_t forwarded_count = 0;
  bool is_verified = false;
  std::string session_data;
};

Result<SessionKey> ReadSessionKey(std::string room_id, std::string session_id,
                                  const json::value& value) {
  if (room_id.empty() || room_id.size() > kMaxIdBytes || session_id.empty() ||
      session_id.size() > kMaxIdBytes) {
    return Invalid("Invalid room or session ID");
  }
  if (!value.is_object()) {
    return core::Error::BadRequest("A backed-up key must be an object");
  }
  const json::object& obj = value.get_object();
  const json::value* first = obj.if_contains("first_message_index");
  const json::value* forwarded = obj.if_contains("forwarded_count");
  const json::value* verified = obj.if_contains("is_verified");
  const json::value* data = obj.if_contains("session_data");
  if (!first || !first->is_int64() || first->get_int64() < 0 || !forwarded ||
      !forwarded->is_int64() || forwarded->get_int64() < 0 || !verified || !verified->is_bool() ||
      !data || !data->is_object()) {
    return core::Error::BadRequest(
        "A backed-up key needs first_message_index, forwarded_count, is_verified and "
        "session_data",
        "M_MISSING_PARAM");
  }
  std::string data_text = json::serialize(*data);
  if (data_text.size() > kMaxSessionDataBytes) {
    return core::Error::TooLarge("session_data is too large");
  }
  return SessionKey{std::move(room_id),     std::move(session_id), first->get_int64(),
                    forwarded->get_int64(), verified->get_bool(),  std::move(data_text)};
}

// Spec "Storing keys": a verified copy beats an unverified one, then the lower first message
// index (it decrypts more), then the lower forwarded count.
bool Better(const SessionKey& fresh, const store::Row& stored) {
  bool stored_verified = stored.Int(2) != 0;
  if (fresh.is_verified != stored_verified) {
    return fresh.is_verified;
  }
  if (fresh.first_message_index != stored.Int(0)) {
    return fresh.first_message_index < stored.Int(0);
  }
  return fresh.forwarded_count < stored.Int(1);
}

json::object SessionJson(const store::Row& row, size_t first_column) {
  boost::system::error_code ec;
  json::value data = json::parse(row.Text(first_column + 3), ec);
  return json::object{{"first_message_index", row.Int(first_column)},
                      {"forwarded_count", row.Int(first_column + 1)},
                      {"is_verified", row.Int(first_column + 2) != 0},
                      {"session_data", ec ? json::value(json::object{}) : std::move(data)}};
}

// Narrows a query on key_backup_sessions to one room, or one session of it.
void NarrowToScope(bool one_room, bool one_session, const std::string& room_id,
                   const std::string& session_id, std::string& sql,
                   std::vector<store::Value>& params) {
  if (one_room) {
    sql += " AND room_id = ?";
    params.emplace_back(room_id);
  }
  if (one_session) {
    sql += " AND session_id = ?";
    params.emplace_back(session_id);
  }
}

// The `version` query parameter of /room_keys/keys.
Result<int64_t> KeysVersionParam(const Request& req) {
  auto text = req.QueryParam("version");
  if (!text) {
    return core::Error::BadRequest("'version' is required", "M_MISSING_PARAM");
  }
  auto v = ParseVersion(*text);
  if (!v) {
    return NoSuchVersion();
  }
  return *v;
}

}  // namespace

KeyBackupRoutes::KeyBackupRoutes(net::Router& router, MatrixDeps deps) : deps_(deps) {
  AddClientRoute(router, "POST", "/room_keys/version",
                 [this](Request& r) { return CreateVersion(r); });
  AddClientRoute(router, "GET", "/room_keys/version",
                 [this](Request& r) { return GetVersion(r, true); });
  AddClientRoute(router, "GET", "/room_keys/version/{version}",
                 [this](Request& r) { return GetVersion(r, false); });
  AddClientRoute(router, "PUT", "/room_keys/version/{version}",
                 [this](Request& r) { return UpdateVersion(r); });
  AddClientRoute(router, "DELETE", "/room_keys/version/{version}",
                 [this](Request& r) { return DeleteVersion(r); });
  const std::pair<const char*, Scope> paths[] = {
      {"/room_keys/keys", Scope::kAll},
      {"/room_keys/keys/{roomId}", Scope::kRoom},
      {"/room_keys/keys/{roomId}/{sessionId}", Scope::kSession}};
  for (const auto& [path, scope] : paths) {
    Scope s = scope;
    AddClientRoute(router, "PUT", path, [this, s](Request& r) { return PutKeys(r, s); });
    AddClientRoute(router, "GET", path, [this, s](Request& r) { return GetKeys(r, s); });
    AddClientRoute(router, "DELETE", path, [this, s](Request& r) { return DeleteKeys(r, s); });
  }
}

asio::awaitable<Response> KeyBackupRoutes::CreateVersion(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  auto fields = ReadVersionBody(*body);
  if (!fields) {
    co_return Fail(fields.error());
  }
  std::string user = session->user_id;
  auto created = std::make_shared<int64_t>(0);
  store::WriteFn write = [user, fields = *fields, created](store::Connection& c) -> Result<void> {
    // Deleted versions keep their row, so a number is never given twice.
    RUCHE_ASSIGN_OR_RETURN(
        auto max, c.QueryOne("SELECT COALESCE(MAX(version), 0) FROM key_backup_versions WHERE "
                             "user_id = ?",
                             {user}));
    *created = max->Int(0) + 1;
    RUCHE_RETURN_IF_ERROR(
        c.Execute("INSERT INTO key_backup_versions (user_id, version, algorithm, auth_data) "
                  "VALUES (?, ?, ?, ?)",
                  {user, *created, fields.first, fields.second}));
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(json::object{{"version", std::to_string(*created)}});
}

asio::awaitable<Response> KeyBackupRoutes::GetVersion(Request& req, bool latest) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::optional<int64_t> version;
  if (!latest) {
    version = ParseVersion(req.Param("version"));
    if (!version) {
      co_return Fail(NoSuchVersion());
    }
  }
  auto found = LoadVersion(deps_.store.Read().conn(), session->user_id, version);
  if (!found) {
    co_return Fail(found.error());
  }
  if (!*found) {
    // js-sdk reads M_NOT_FOUND as "no backup yet".
    co_return Fail(latest ? core::Error::NotFound("No current backup version") : NoSuchVersion());
  }
  co_return Response::Json(VersionJson(**found));
}

asio::awaitable<Response> KeyBackupRoutes::UpdateVersion(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto version = ParseVersion(req.Param("version"));
  if (!version) {
    co_return Fail(NoSuchVersion());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  auto fields = ReadVersionBody(*body);
  if (!fields) {
    co_return Fail(fields.error());
  }
  if (const json::value* v = body->if_contains("version");
      v && (!v->is_string() || v->get_string() != req.Param("version"))) {
    co_return Fail(Invalid("'version' does not match the path"));
  }
  std::string user = session->user_id;
  store::WriteFn write = [user, v = *version,
                          fields = *fields](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(auto found, LoadVersion(c, user, v));
    if (!found) {
      return NoSuchVersion();
    }
    if (found->algorithm != fields.first) {
      return Invalid("A backup version's algorithm cannot change");
    }
    RUCHE_RETURN_IF_ERROR(
        c.Execute("UPDATE key_backup_versions SET auth_data = ? WHERE user_id = ? AND version = ?",
                  {fields.second, user, v}));
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> KeyBackupRoutes::DeleteVersion(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto version = ParseVersion(req.Param("version"));
  if (!version) {
    co_return Fail(NoSuchVersion());
  }
  std::string user = session->user_id;
  store::WriteFn write = [user, v = *version](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(
        auto changed, c.Execute("UPDATE key_backup_versions SET deleted = 1, key_count = 0 WHERE "
                                "user_id = ? AND version = ? AND deleted = 0",
                                {user, v}));
    if (changed == 0) {
      return NoSuchVersion();
    }
    RUCHE_RETURN_IF_ERROR(
        c.Execute("DELETE FROM key_backup_sessions WHERE user_id = ? AND version = ?", {user, v}));
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> KeyBackupRoutes::PutKeys(Request& req, Scope scope) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto version = KeysVersionParam(req);
  if (!version) {
    co_return Fail(version.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  std::vector<SessionKey> keys;
  auto add_room = [&keys](std::string room_id, const json::value& room) -> Result<void> {
    const json::value* sessions =
        room.is_object() ? room.get_object().if_contains("sessions") : nullptr;
    if (!sessions || !sessions->is_object()) {
      return core::Error::BadRequest("A room needs a 'sessions' object", "M_MISSING_PARAM");
    }
    for (const auto& [session_id, value] : sessions->get_object()) {
      if (keys.size() >= kMaxSessionsPerRequest) {
        return Invalid("Too many keys in one request");
      }
      RUCHE_ASSIGN_OR_RETURN(auto key, ReadSessionKey(room_id, std::string(session_id), value));
      keys.push_back(std::move(key));
    }
    return {};
  };
  Result<void> read_body;
  if (scope == Scope::kAll) {
    const json::value* rooms = body->if_contains("rooms");
    if (!rooms || !rooms->is_object()) {
      co_return Fail(core::Error::BadRequest("'rooms' is required", "M_MISSING_PARAM"));
    }
    for (const auto& [room_id, room] : rooms->get_object()) {
      read_body = add_room(std::string(room_id), room);
      if (!read_body) {
        break;
      }
    }
  } else if (scope == Scope::kRoom) {
    read_body = add_room(std::string(req.Param("roomId")), *body);
  } else {
    auto key = ReadSessionKey(std::string(req.Param("roomId")), std::string(req.Param("sessionId")),
                              json::value(*body));
    if (key) {
      keys.push_back(std::move(*key));
    } else {
      read_body = key.error();
    }
  }
  if (!read_body) {
    co_return Fail(read_body.error());
  }
  std::string user = session->user_id;
  auto result = std::make_shared<BackupVersion>();
  store::WriteFn write = [user, v = *version, keys, result](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(auto current, LoadVersion(c, user, std::nullopt));
    if (!current || current->version != v) {
      RUCHE_ASSIGN_OR_RETURN(auto exists, LoadVersion(c, user, v));
      if (!exists) {
        return NoSuchVersion();
      }
      // Spec: only the current version takes keys; the client learns which it is.
      core::Error wrong(403, "M_WRONG_ROOM_KEYS_VERSION",
                        "Keys go to the current backup version only", 0);
      if (current) {
        wrong.extra_fields.emplace_back("current_version", std::to_string(current->version));
      }
      return wrong;
    }
    int64_t added = 0, changed = 0;
    for (const auto& key : keys) {
      RUCHE_ASSIGN_OR_RETURN(
          auto stored, c.QueryOne("SELECT first_message_index, forwarded_count, is_verified FROM "
                                  "key_backup_sessions WHERE user_id = ? AND version = ? AND "
                                  "room_id = ? AND session_id = ?",
                                  {user, v, key.room_id, key.session_id}));
      if (stored && !Better(key, *stored)) {
        continue;
      }
      added += stored ? 0 : 1;
      ++changed;
      RUCHE_RETURN_IF_ERROR(c.Execute(
          "INSERT INTO key_backup_sessions (user_id, version, room_id, session_id, "
          "first_message_index, forwarded_count, is_verified, session_data) VALUES "
          "(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, version, room_id, session_id) DO "
          "UPDATE SET first_message_index = excluded.first_message_index, forwarded_count = "
          "excluded.forwarded_count, is_verified = excluded.is_verified, session_data = "
          "excluded.session_data",
          {user, v, key.room_id, key.session_id, key.first_message_index, key.forwarded_count,
           int64_t{key.is_verified ? 1 : 0}, key.session_data}));
    }
    if (current->count + added > kMaxSessionsPerVersion) {
      return Invalid("A backup holds at most " + std::to_string(kMaxSessionsPerVersion) + " keys");
    }
    *result = *current;
    if (changed) {
      result->etag += 1;
      result->count += added;
      RUCHE_RETURN_IF_ERROR(
          c.Execute("UPDATE key_backup_versions SET etag = ?, key_count = ? WHERE user_id = ? "
                    "AND version = ?",
                    {result->etag, result->count, user, v}));
    }
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(
      json::object{{"etag", std::to_string(result->etag)}, {"count", result->count}});
}

asio::awaitable<Response> KeyBackupRoutes::GetKeys(Request& req, Scope scope) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto version = KeysVersionParam(req);
  if (!version) {
    co_return Fail(version.error());
  }
  auto lease = deps_.store.Read();
  auto found = LoadVersion(lease.conn(), session->user_id, *version);
  if (!found) {
    co_return Fail(found.error());
  }
  if (!*found) {
    co_return Fail(NoSuchVersion());
  }
  std::string sql =
      "SELECT room_id, session_id, first_message_index, forwarded_count, is_verified, "
      "session_data FROM key_backup_sessions WHERE user_id = ? AND version = ?";
  std::vector<store::Value> params{session->user_id, *version};
  NarrowToScope(scope != Scope::kAll, scope == Scope::kSession, std::string(req.Param("roomId")),
                std::string(req.Param("sessionId")), sql, params);
  auto rows = lease->Query(sql, std::span<const store::Value>(params));
  if (!rows) {
    co_return Fail(rows.error());
  }
  if (scope == Scope::kSession) {
    if (rows->empty()) {
      co_return Fail(core::Error::NotFound("No key for this session"));
    }
    co_return Response::Json(SessionJson(rows->front(), 2));
  }
  json::object rooms;
  for (const auto& row : *rows) {
    json::value& room = rooms[row.Text(0)];
    if (!room.is_object()) {
      room = json::object{{"sessions", json::object{}}};
    }
    room.as_object()["sessions"].as_object()[row.Text(1)] = SessionJson(row, 2);
  }
  if (scope == Scope::kRoom) {
    auto it = rooms.find(req.Param("roomId"));
    co_return Response::Json(it != rooms.end() ? it->value().as_object()
                                               : json::object{{"sessions", json::object{}}});
  }
  co_return Response::Json(json::object{{"rooms", std::move(rooms)}});
}

asio::awaitable<Response> KeyBackupRoutes::DeleteKeys(Request& req, Scope scope) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto version = KeysVersionParam(req);
  if (!version) {
    co_return Fail(version.error());
  }
  std::string user = session->user_id;
  std::string room(req.Param("roomId")), session_id(req.Param("sessionId"));
  auto result = std::make_shared<BackupVersion>();
  store::WriteFn write = [user, v = *version, scope, room, session_id,
                          result](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(auto found, LoadVersion(c, user, v));
    if (!found) {
      return NoSuchVersion();
    }
    std::string sql = "DELETE FROM key_backup_sessions WHERE user_id = ? AND version = ?";
    std::vector<store::Value> params{user, v};
    NarrowToScope(scope != Scope::kAll, scope == Scope::kSession, room, session_id, sql, params);
    RUCHE_ASSIGN_OR_RETURN(auto deleted, c.Execute(sql, std::span<const store::Value>(params)));
    *result = *found;
    if (deleted) {
      result->etag += 1;
      result->count -= deleted;
      RUCHE_RETURN_IF_ERROR(
          c.Execute("UPDATE key_backup_versions SET etag = ?, key_count = ? WHERE user_id = ? "
                    "AND version = ?",
                    {result->etag, result->count, user, v}));
    }
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(
      json::object{{"etag", std::to_string(result->etag)}, {"count", result->count}});
}

}  // namespace ruche::matrix
