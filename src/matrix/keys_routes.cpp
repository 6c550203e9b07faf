#include "matrix/keys_routes.hpp"

#include <map>

#include "auth/accounts.hpp"
#include "matrix/room_routes.hpp"
#include "matrix/route_helpers.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;

namespace {

constexpr size_t kMaxQueryUsers = 1'000;
constexpr size_t kMaxClaims = 2'000;
constexpr size_t kMaxSignedObjects = 100;
constexpr const char* kUsages[] = {"master", "self_signing", "user_signing"};

core::Error Invalid(std::string message) {
  return core::Error::BadRequest(std::move(message), "M_INVALID_PARAM");
}

// "@<localpart>:<server>" of this server -> localpart; nullopt for other servers and malformed
// IDs (no federation: other servers' users have no keys here).
std::optional<std::string> LocalLocalpart(std::string_view user_id, const std::string& server) {
  if (user_id.size() < server.size() + 3 || user_id.front() != '@' ||
      user_id.substr(user_id.size() - server.size() - 1) != ":" + server) {
    return std::nullopt;
  }
  return std::string(user_id.substr(1, user_id.size() - server.size() - 2));
}

json::object WithoutSignatures(json::object obj) {
  obj.erase("signatures");
  obj.erase("unsigned");
  return obj;
}

// Adds stored detached signatures to `obj.signatures`.
void MergeSignatures(json::object& obj, const std::vector<const store::Row*>& sigs) {
  if (sigs.empty()) {
    return;
  }
  json::value& all = obj["signatures"];
  if (!all.is_object()) {
    all = json::object{};
  }
  for (const store::Row* row : sigs) {
    json::value& by_user = all.as_object()[row->Text(1)];
    if (!by_user.is_object()) {
      by_user = json::object{};
    }
    by_user.as_object()[row->Text(2)] = row->Text(3);
  }
}

// The uploads of one /keys/upload, checked before the write.
struct KeyUpload {
  std::optional<json::object> device_keys;
  std::vector<UploadedKey> one_time;
  std::vector<UploadedKey> fallback;
};

Result<KeyUpload> ReadKeyUpload(const json::object& body, const auth::Session& session) {
  KeyUpload out;
  if (const json::value* dk = body.if_contains("device_keys"); dk && !dk->is_null()) {
    if (!dk->is_object()) {
      return core::Error::BadRequest("'device_keys' must be an object");
    }
    RUCHE_ASSIGN_OR_RETURN(auto checked,
                           CheckDeviceKeys(dk->get_object(), session.user_id, session.device_id));
    out.device_keys = std::move(checked);
  }
  auto read_keys = [](const json::value* v, std::vector<UploadedKey>& into) -> Result<void> {
    if (!v || v->is_null()) {
      return {};
    }
    if (!v->is_object()) {
      return core::Error::BadRequest("Keys must be an object");
    }
    if (v->get_object().size() > kMaxOneTimeKeysPerUpload) {
      return Invalid("At most " + std::to_string(kMaxOneTimeKeysPerUpload) + " keys per upload");
    }
    for (const auto& [name, value] : v->get_object()) {
      RUCHE_ASSIGN_OR_RETURN(auto key, CheckUploadedKey(name, value));
      into.push_back(std::move(key));
    }
    return {};
  };
  RUCHE_RETURN_IF_ERROR(read_keys(body.if_contains("one_time_keys"), out.one_time));
  // Fallback keys under their stable name, or the unstable one older clients use.
  const json::value* fallback = body.if_contains("fallback_keys");
  if (!fallback) {
    fallback = body.if_contains("org.matrix.msc2732.fallback_keys");
  }
  RUCHE_RETURN_IF_ERROR(read_keys(fallback, out.fallback));
  std::set<std::string> algorithms;
  for (const auto& key : out.fallback) {
    if (!algorithms.insert(key.algorithm).second) {
      return Invalid("One fallback key per algorithm");
    }
  }
  return out;
}

}  // namespace

KeysRoutes::KeysRoutes(net::Router& router, MatrixDeps deps, DeviceKeys& keys, PasswordUia& uia)
    : deps_(deps), keys_(keys), uia_(uia) {
  AddClientRoute(router, "POST", "/keys/upload", [this](Request& r) { return Upload(r); });
  AddClientRoute(router, "POST", "/keys/query", [this](Request& r) { return Query(r); });
  AddClientRoute(router, "POST", "/keys/claim", [this](Request& r) { return Claim(r); });
  AddClientRoute(router, "GET", "/keys/changes", [this](Request& r) { return Changes(r); });
  AddClientRoute(router, "POST", "/keys/device_signing/upload",
                 [this](Request& r) { return UploadCrossSigning(r); });
  AddClientRoute(router, "POST", "/keys/signatures/upload",
                 [this](Request& r) { return UploadSignatures(r); });
}

asio::awaitable<Response> KeysRoutes::Upload(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObjectOrEmpty(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  auto upload = ReadKeyUpload(*body, *session);
  if (!upload) {
    co_return Fail(upload.error());
  }
  auto counts = std::make_shared<KeyCounts>();
  auto changed_at = std::make_shared<int64_t>(0);
  DeviceKeys& keys = keys_;
  std::string user = session->user_id, device = session->device_id;
  store::WriteFn write = [&keys, user, device, upload = std::move(*upload), counts,
                          changed_at](store::Connection& c) -> Result<void> {
    if (upload.device_keys) {
      std::string text = json::serialize(*upload.device_keys);
      RUCHE_ASSIGN_OR_RETURN(auto existing,
                             c.QueryOne("SELECT json FROM device_keys WHERE user_id = ? AND "
                                        "device_id = ?",
                                        {user, device}));
      if (!existing || existing->Text(0) != text) {
        RUCHE_RETURN_IF_ERROR(
            c.Execute("INSERT INTO device_keys (user_id, device_id, json) VALUES (?, ?, ?) "
                      "ON CONFLICT (user_id, device_id) DO UPDATE SET json = excluded.json",
                      {user, device, text}));
        RUCHE_ASSIGN_OR_RETURN(*changed_at, keys.NoteChange(c, user));
      }
    }
    std::set<std::string> algorithms;
    for (const auto& key : upload.one_time) {
      RUCHE_ASSIGN_OR_RETURN(
          auto existing,
          c.QueryOne("SELECT json FROM one_time_keys WHERE user_id = ? AND device_id = ? AND "
                     "algorithm = ? AND key_id = ?",
                     {user, device, key.algorithm, key.key_id}));
      if (existing) {
        if (existing->Text(0) != key.json) {
          // Spec: a key ID is never reused for another key; a retried upload is harmless.
          return Invalid("One-time key " + key.algorithm + ":" + key.key_id +
                         " already exists with another value");
        }
        continue;
      }
      RUCHE_RETURN_IF_ERROR(
          c.Execute("INSERT INTO one_time_keys (user_id, device_id, algorithm, key_id, json) "
                    "VALUES (?, ?, ?, ?, ?)",
                    {user, device, key.algorithm, key.key_id, key.json}));
      algorithms.insert(key.algorithm);
    }
    for (const auto& algorithm : algorithms) {
      RUCHE_ASSIGN_OR_RETURN(auto count,
                             c.QueryOne("SELECT COUNT(*) FROM one_time_keys WHERE user_id = ? AND "
                                        "device_id = ? AND algorithm = ?",
                                        {user, device, algorithm}));
      if (count && count->Int(0) > kMaxOneTimeKeysPerDevice) {
        return Invalid("A device holds at most " + std::to_string(kMaxOneTimeKeysPerDevice) +
                       " one-time keys per algorithm");
      }
    }
    for (const auto& key : upload.fallback) {
      // A new fallback key is unused; re-uploading the same one keeps its state.
      RUCHE_RETURN_IF_ERROR(c.Execute(
          "INSERT INTO fallback_keys (user_id, device_id, algorithm, key_id, json, used) "
          "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET "
          "key_id = excluded.key_id, json = excluded.json, used = CASE WHEN "
          "fallback_keys.key_id = excluded.key_id THEN fallback_keys.used ELSE 0 END",
          {user, device, key.algorithm, key.key_id, key.json}));
    }
    RUCHE_ASSIGN_OR_RETURN(*counts, CountKeys(c, user, device));
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  if (!r) {
    co_return Fail(r.error());
  }
  keys_.ForgetCounts(user, device);
  if (*changed_at) {
    keys_.Announce(user, *changed_at);
  }
  co_return Response::Json(
      json::object{{"one_time_key_counts", std::move(counts->one_time_keys_count)}});
}

asio::awaitable<Response> KeysRoutes::Query(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  const json::value* wanted = body->if_contains("device_keys");
  if (!wanted || !wanted->is_object()) {
    co_return Fail(core::Error::BadRequest("'device_keys' is required", "M_MISSING_PARAM"));
  }
  if (wanted->get_object().size() > kMaxQueryUsers) {
    co_return Fail(Invalid("At most 1000 users per query"));
  }
  const std::string& me = session->user_id;
  json::object device_keys, master_keys, self_signing_keys, user_signing_keys, failures;
  auto lease = deps_.store.Read();
  for (const auto& [user_key, devices_value] : wanted->get_object()) {
    std::string user(user_key);
    if (!devices_value.is_array()) {
      co_return Fail(core::Error::BadRequest("device_keys must map users to lists of devices"));
    }
    std::set<std::string> only;
    for (const auto& d : devices_value.get_array()) {
      if (!d.is_string()) {
        co_return Fail(core::Error::BadRequest("Device IDs must be strings"));
      }
      only.emplace(d.get_string());
    }
    auto localpart = LocalLocalpart(user, deps_.accounts.server_name());
    if (!localpart) {
      continue;  // no federation yet: nothing is known of other servers' users
    }
    auto rows = lease->Query(
        "SELECT k.device_id, k.json, d.display_name FROM device_keys k JOIN devices d ON "
        "d.localpart = ? AND d.device_id = k.device_id WHERE k.user_id = ?",
        {*localpart, user});
    // Signatures by the key's owner, and by the one asking (who verified whom is private).
    auto sigs = lease->Query(
        "SELECT target_key, signer_user, signer_key, signature FROM key_signatures WHERE "
        "target_user = ? AND (signer_user = ? OR signer_user = ?)",
        {user, user, me});
    auto cross = lease->Query(
        "SELECT usage, public_key, json FROM cross_signing_keys WHERE user_id = ?", {user});
    if (!rows || !sigs || !cross) {
      co_return Fail(!rows ? rows.error() : !sigs ? sigs.error() : cross.error());
    }
    std::map<std::string, std::vector<const store::Row*>> sigs_by_target;
    for (const auto& row : *sigs) {
      sigs_by_target[row.Text(0)].push_back(&row);
    }
    json::object devices;
    for (const auto& row : *rows) {
      if (!only.empty() && !only.count(row.Text(0))) {
        continue;
      }
      auto obj = core::ParseJsonObject(row.Text(1));
      if (!obj) {
        continue;
      }
      MergeSignatures(*obj, sigs_by_target[row.Text(0)]);
      if (!row.IsNull(2)) {
        (*obj)["unsigned"] = json::object{{"device_display_name", row.Text(2)}};
      }
      devices[row.Text(0)] = std::move(*obj);
    }
    device_keys[user] = std::move(devices);
    for (const auto& row : *cross) {
      auto obj = core::ParseJsonObject(row.Text(2));
      if (!obj) {
        continue;
      }
      MergeSignatures(*obj, sigs_by_target[row.Text(1)]);
      const std::string& usage = row.Text(0);
      if (usage == "master") {
        master_keys[user] = std::move(*obj);
      } else if (usage == "self_signing") {
        self_signing_keys[user] = std::move(*obj);
      } else if (usage == "user_signing" && user == me) {
        user_signing_keys[user] = std::move(*obj);  // only the owner sees it
      }
    }
  }
  co_return Response::Json(json::object{{"device_keys", std::move(device_keys)},
                                        {"master_keys", std::move(master_keys)},
                                        {"self_signing_keys", std::move(self_signing_keys)},
                                        {"user_signing_keys", std::move(user_signing_keys)},
                                        {"failures", std::move(failures)}});
}

asio::awaitable<Response> KeysRoutes::Claim(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  const json::value* wanted = body->if_contains("one_time_keys");
  if (!wanted || !wanted->is_object()) {
    co_return Fail(core::Error::BadRequest("'one_time_keys' is required", "M_MISSING_PARAM"));
  }
  struct Want {
    std::string user, device, algorithm;
  };
  std::vector<Want> wants;
  for (const auto& [user, devices] : wanted->get_object()) {
    if (!devices.is_object()) {
      co_return Fail(core::Error::BadRequest("one_time_keys must map users to objects"));
    }
    if (!LocalLocalpart(user, deps_.accounts.server_name())) {
      continue;  // no federation yet
    }
    for (const auto& [device, algorithm] : devices.get_object()) {
      if (!algorithm.is_string()) {
        co_return Fail(core::Error::BadRequest("one_time_keys must map devices to algorithms"));
      }
      wants.push_back(
          {std::string(user), std::string(device), std::string(algorithm.get_string())});
    }
  }
  if (wants.size() > kMaxClaims) {
    co_return Fail(Invalid("At most " + std::to_string(kMaxClaims) + " keys per claim"));
  }
  auto claimed = std::make_shared<json::object>();
  store::WriteFn write = [wants, claimed](store::Connection& c) -> Result<void> {
    for (const auto& want : wants) {
      RUCHE_ASSIGN_OR_RETURN(auto key, ClaimKey(c, want.user, want.device, want.algorithm));
      if (!key) {
        continue;  // spec: devices without keys are left out
      }
      json::value& by_user = (*claimed)[want.user];
      if (!by_user.is_object()) {
        by_user = json::object{};
      }
      by_user.as_object()[want.device] = std::move(*key);
    }
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  for (const auto& want : wants) {
    keys_.ForgetCounts(want.user, want.device);
  }
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(
      json::object{{"one_time_keys", std::move(*claimed)}, {"failures", json::object{}}});
}

asio::awaitable<Response> KeysRoutes::Changes(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto from_text = req.QueryParam("from");
  auto to_text = req.QueryParam("to");
  if (!from_text || !to_text) {
    co_return Fail(core::Error::BadRequest("'from' and 'to' are required", "M_MISSING_PARAM"));
  }
  auto from = ParseSyncToken(*from_text);
  auto to = ParseSyncToken(*to_text);
  if (!from || !to) {
    co_return Fail(!from ? from.error() : to.error());
  }
  auto lease = deps_.store.Read();
  auto members = MemberChangesBetween(lease.conn(), session->user_id, from->stream, to->stream);
  if (!members) {
    co_return Fail(members.error());
  }
  auto delta =
      DeviceListChanges(lease.conn(), session->user_id, from->stream, to->stream, *members);
  if (!delta) {
    co_return Fail(delta.error());
  }
  json::array changed(delta->changed.begin(), delta->changed.end());
  json::array left(delta->left.begin(), delta->left.end());
  co_return Response::Json(
      json::object{{"changed", std::move(changed)}, {"left", std::move(left)}});
}

asio::awaitable<Response> KeysRoutes::UploadCrossSigning(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  const std::string& user = session->user_id;
  // usage -> (public key, object) for each key in the request.
  std::map<std::string, std::pair<std::string, json::object>> uploaded;
  for (const char* usage : kUsages) {
    std::string field = std::string(usage) + "_key";
    const json::value* v = body->if_contains(field);
    if (!v || v->is_null()) {
      continue;
    }
    if (!v->is_object()) {
      co_return Fail(core::Error::BadRequest("'" + field + "' must be an object"));
    }
    auto public_key = CheckCrossSigningKey(v->get_object(), user, usage);
    if (!public_key) {
      co_return Fail(public_key.error());
    }
    uploaded[usage] = {*public_key, v->get_object()};
  }
  if (uploaded.empty()) {
    co_return Fail(core::Error::BadRequest("No key to upload", "M_MISSING_PARAM"));
  }
  auto stored_rows = deps_.store.Read()->Query(
      "SELECT usage, public_key, json FROM cross_signing_keys WHERE user_id = ?", {user});
  if (!stored_rows) {
    co_return Fail(stored_rows.error());
  }
  std::map<std::string, std::pair<std::string, json::value>> stored;
  for (const auto& row : *stored_rows) {
    boost::system::error_code ec;
    stored[row.Text(0)] = {row.Text(1), json::parse(row.Text(2), ec)};
  }
  // Spec v1.11 (MSC3967): the first upload, or one that repeats the stored keys exactly, needs
  // no password; replacing keys does.
  bool replaces = false;
  for (const auto& [usage, key] : uploaded) {
    auto it = stored.find(usage);
    replaces = replaces || (it != stored.end() && it->second.second != json::value(key.second));
  }
  if (stored.count("master") && replaces) {
    std::string operation = "device_signing";
    auto denied = co_await uia_.Check(*body, session->localpart, operation);
    if (denied) {
      co_return std::move(*denied);
    }
  }
  std::string master;
  if (auto it = uploaded.find("master"); it != uploaded.end()) {
    master = it->second.first;
  } else if (auto st = stored.find("master"); st != stored.end()) {
    master = st->second.first;
  }
  for (const char* usage : {"self_signing", "user_signing"}) {
    auto it = uploaded.find(usage);
    if (it == uploaded.end()) {
      continue;
    }
    if (master.empty()) {
      co_return Fail(core::Error::BadRequest("Upload a master key first", "M_MISSING_PARAM"));
    }
    if (!VerifySignature(it->second.second, user, "ed25519:" + master, master)) {
      co_return Fail(core::Error::BadRequest(
          std::string("The ") + usage + " key is not signed by the master key",
          "M_INVALID_SIGNATURE"));
    }
  }
  bool new_master =
      uploaded.count("master") && (!stored.count("master") || stored["master"].first != master);
  DeviceKeys& keys = keys_;
  auto changed_at = std::make_shared<int64_t>(0);
  store::WriteFn write = [&keys, user, uploaded, new_master,
                          changed_at](store::Connection& c) -> Result<void> {
    if (new_master) {
      // Keys and signatures made under the old master no longer chain to anything.
      RUCHE_RETURN_IF_ERROR(c.Execute("DELETE FROM cross_signing_keys WHERE user_id = ?", {user}));
      RUCHE_RETURN_IF_ERROR(c.Execute(
          "DELETE FROM key_signatures WHERE signer_user = ? AND signer_key NOT IN (SELECT "
          "'ed25519:' || device_id FROM device_keys WHERE user_id = ?)",
          {user, user}));
    }
    for (const auto& [usage, key] : uploaded) {
      RUCHE_RETURN_IF_ERROR(c.Execute(
          "INSERT INTO cross_signing_keys (user_id, usage, public_key, json) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (user_id, usage) DO UPDATE SET public_key = excluded.public_key, "
          "json = excluded.json",
          {user, usage, key.first, json::serialize(key.second)}));
    }
    RUCHE_ASSIGN_OR_RETURN(*changed_at, keys.NoteChange(c, user));
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  if (!r) {
    co_return Fail(r.error());
  }
  keys_.Announce(user, *changed_at);
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> KeysRoutes::UploadSignatures(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  struct Signed {
    std::string user, key_id;
    json::object object;
  };
  std::vector<Signed> items;
  for (const auto& [user, keys] : *body) {
    if (!keys.is_object()) {
      co_return Fail(core::Error::BadRequest("Signatures must map users to objects"));
    }
    for (const auto& [key_id, obj] : keys.get_object()) {
      if (!obj.is_object()) {
        co_return Fail(core::Error::BadRequest("A signed key must be an object"));
      }
      const json::value* sigs = obj.get_object().if_contains("signatures");
      if (!sigs) {
        co_return Fail(core::Error::BadRequest("A signed key needs 'signatures'"));
      }
      if (auto v = ValidateSignatures(*sigs); !v) {
        co_return Fail(v.error());
      }
      items.push_back({std::string(user), std::string(key_id), obj.get_object()});
    }
  }
  if (items.size() > kMaxSignedObjects) {
    co_return Fail(Invalid("At most " + std::to_string(kMaxSignedObjects) + " keys per upload"));
  }
  const std::string me = session->user_id;
  auto failures = std::make_shared<json::object>();
  auto changed = std::make_shared<std::map<std::string, int64_t>>();
  DeviceKeys& keys = keys_;
  store::WriteFn write = [&keys, me, items, failures,
                          changed](store::Connection& c) -> Result<void> {
    auto fail = [&](const Signed& item, const char* code, const char* message) {
      json::value& by_user = (*failures)[item.user];
      if (!by_user.is_object()) {
        by_user = json::object{};
      }
      by_user.as_object()[item.key_id] = json::object{{"errcode", code}, {"error", message}};
    };
    // The signer's public key for "ed25519:<device or public key>", if it is one of mine.
    auto my_key = [&](const std::string& signer_key) -> Result<std::pair<std::string, bool>> {
      std::string id = signer_key.substr(signer_key.find(':') + 1);
      RUCHE_ASSIGN_OR_RETURN(auto device,
                             c.QueryOne("SELECT json FROM device_keys WHERE user_id = ? AND "
                                        "device_id = ?",
                                        {me, id}));
      if (device) {
        auto obj = core::ParseJsonObject(device->Text(0));
        return std::make_pair(obj ? DeviceSigningKey(*obj, id) : std::string(), false);
      }
      RUCHE_ASSIGN_OR_RETURN(
          auto cross, c.QueryOne("SELECT usage FROM cross_signing_keys WHERE user_id = ? AND "
                                 "public_key = ?",
                                 {me, id}));
      bool user_signing = cross && cross->Text(0) == "user_signing";
      return std::make_pair(cross ? id : std::string(), user_signing);
    };
    for (const auto& item : items) {
      std::optional<store::Row> target;
      if (item.user == me) {
        RUCHE_ASSIGN_OR_RETURN(
            target, c.QueryOne("SELECT json FROM device_keys WHERE user_id = ? AND device_id = ?",
                               {me, item.key_id}));
      }
      if (!target) {
        // A cross-signing key: any of mine, or another user's master key.
        RUCHE_ASSIGN_OR_RETURN(
            target, c.QueryOne("SELECT json FROM cross_signing_keys WHERE user_id = ? AND "
                               "public_key = ? AND (user_id = ? OR usage = 'master')",
                               {item.user, item.key_id, me}));
      }
      if (!target) {
        fail(item, "M_NOT_FOUND", "No such key");
        continue;
      }
      auto stored = core::ParseJsonObject(target->Text(0));
      if (!stored || WithoutSignatures(*stored) != WithoutSignatures(item.object)) {
        fail(item, "M_INVALID_SIGNATURE", "The signed object differs from the stored key");
        continue;
      }
      const json::value* mine = item.object.at("signatures").get_object().if_contains(me);
      if (!mine) {
        fail(item, "M_INVALID_SIGNATURE", "No signature by the uploading user");
        continue;
      }
      bool added = false, bad = false;
      for (const auto& [signer_key, signature] : mine->get_object()) {
        RUCHE_ASSIGN_OR_RETURN(auto signer, my_key(std::string(signer_key)));
        // Another user's key may only be signed with the user-signing key.
        bool allowed = !signer.first.empty() && (item.user == me || signer.second);
        if (!allowed || !VerifySignature(item.object, me, std::string(signer_key), signer.first)) {
          bad = true;
          continue;
        }
        RUCHE_RETURN_IF_ERROR(c.Execute(
            "INSERT INTO key_signatures (target_user, target_key, signer_user, signer_key, "
            "signature) VALUES (?, ?, ?, ?, ?) ON CONFLICT (target_user, target_key, "
            "signer_user, signer_key) DO UPDATE SET signature = excluded.signature",
            {item.user, item.key_id, me, std::string(signer_key),
             std::string(signature.get_string())}));
        added = true;
      }
      if (bad) {
        fail(item, "M_INVALID_SIGNATURE", "A signature does not verify with the signer's key");
      }
      if (added) {
        // A signature on another user's key is news for the signer's own devices only: telling
        // the target's room-mates would reveal that someone verified them.
        RUCHE_ASSIGN_OR_RETURN((*changed)[me], keys.NoteChange(c, me));
      }
    }
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  if (!r) {
    co_return Fail(r.error());
  }
  for (const auto& [user, stream] : *changed) {
    keys_.Announce(user, stream);
  }
  co_return Response::Json(json::object{{"failures", std::move(*failures)}});
}

}  // namespace ruche::matrix
