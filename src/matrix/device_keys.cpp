#include "matrix/device_keys.hpp"

#include <sodium.h>

#include "auth/accounts.hpp"
#include "matrix/canonical_json.hpp"
#include "matrix/notifier.hpp"
#include "matrix/room_events.hpp"

namespace ruche::matrix {

namespace {

constexpr size_t kMaxSignatureUsers = 32;
constexpr size_t kMaxSignaturesPerUser = 64;
constexpr size_t kMaxKeyName = 255;
constexpr size_t kMaxKeyValue = 1024;
constexpr size_t kMaxAlgorithms = 16;
constexpr size_t kMaxDeviceKeyEntries = 16;
constexpr size_t kMaxAlgorithmName = 128;
// Users whose sharing a room with the syncing user is checked one by one; more are checked
// with one query for everyone who shares a room.
constexpr size_t kMaxSharedProbes = 64;

core::Error Invalid(std::string message) {
  return core::Error::BadRequest(std::move(message), "M_INVALID_PARAM");
}

// Unpadded standard base64 (the spec's encoding of keys and signatures) -> bytes.
std::optional<std::string> DecodeBase64(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

// The spec splits key names at the first colon: "<algorithm>:<id>".
std::optional<std::pair<std::string_view, std::string_view>> SplitKeyName(std::string_view name) {
  size_t colon = name.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == name.size() ||
      name.size() > kMaxKeyName) {
    return std::nullopt;
  }
  return std::make_pair(name.substr(0, colon), name.substr(colon + 1));
}

Result<void> CheckSize(const json::object& obj) {
  if (json::serialize(obj).size() > kMaxKeyObjectBytes) {
    return core::Error::TooLarge("Key object is too large");
  }
  return {};
}

}  // namespace

Result<void> ValidateSignatures(const json::value& signatures) {
  if (!signatures.is_object()) {
    return core::Error::BadRequest("'signatures' must be an object");
  }
  const json::object& users = signatures.get_object();
  if (users.size() > kMaxSignatureUsers) {
    return Invalid("Too many signing users");
  }
  for (const auto& [user, keys] : users) {
    if (!keys.is_object()) {
      return core::Error::BadRequest("'signatures' must map users to objects");
    }
    if (user.size() > kMaxKeyName || keys.get_object().size() > kMaxSignaturesPerUser) {
      return Invalid("Too many signatures");
    }
    for (const auto& [key_id, signature] : keys.get_object()) {
      if (!signature.is_string() || !SplitKeyName(key_id) ||
          signature.get_string().size() > kMaxKeyValue) {
        return core::Error::BadRequest("Signatures must map '<algorithm>:<id>' to strings");
      }
    }
  }
  return {};
}

bool VerifySignature(const json::object& signed_object, std::string_view user_id,
                     std::string_view key_id, std::string_view public_key) {
  const json::value* sigs = signed_object.if_contains("signatures");
  if (!sigs || !sigs->is_object()) {
    return false;
  }
  const json::value* by_user = sigs->get_object().if_contains(user_id);
  if (!by_user || !by_user->is_object()) {
    return false;
  }
  const json::value* sig = by_user->get_object().if_contains(key_id);
  if (!sig || !sig->is_string()) {
    return false;
  }
  auto sig_bytes = DecodeBase64(sig->get_string());
  auto key_bytes = DecodeBase64(public_key);
  if (!sig_bytes || !key_bytes || sig_bytes->size() != crypto_sign_BYTES ||
      key_bytes->size() != crypto_sign_PUBLICKEYBYTES) {
    return false;
  }
  json::object unsigned_copy = signed_object;
  unsigned_copy.erase("signatures");
  unsigned_copy.erase("unsigned");
  auto canonical = CanonicalJson(unsigned_copy);
  if (!canonical) {
    return false;
  }
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(sig_bytes->data()),
             reinterpret_cast<const unsigned char*>(canonical->data()), canonical->size(),
             reinterpret_cast<const unsigned char*>(key_bytes->data())) == 0;
}

std::string DeviceSigningKey(const json::object& device_keys, std::string_view device_id) {
  const json::value* keys = device_keys.if_contains("keys");
  if (!keys || !keys->is_object()) {
    return "";
  }
  std::string name = "ed25519:" + std::string(device_id);
  const json::value* key = keys->get_object().if_contains(name);
  return key && key->is_string() ? std::string(key->get_string()) : "";
}

Result<json::object> CheckDeviceKeys(const json::object& keys, std::string_view user_id,
                                     std::string_view device_id) {
  RUCHE_RETURN_IF_ERROR(CheckSize(keys));
  auto user = core::RequireString(keys, "user_id");
  auto device = core::RequireString(keys, "device_id");
  if (!user || !device) {
    return core::Error::BadRequest("device_keys needs 'user_id' and 'device_id'",
                                   "M_MISSING_PARAM");
  }
  if (*user != user_id || *device != device_id) {
    return Invalid("device_keys must be for the uploading user and device");
  }
  const json::value* algorithms = keys.if_contains("algorithms");
  if (!algorithms || !algorithms->is_array() || algorithms->get_array().size() > kMaxAlgorithms) {
    return Invalid("'algorithms' must be a short list of strings");
  }
  for (const auto& a : algorithms->get_array()) {
    if (!a.is_string() || a.get_string().empty() || a.get_string().size() > kMaxAlgorithmName) {
      return Invalid("'algorithms' must be a short list of strings");
    }
  }
  const json::value* key_map = keys.if_contains("keys");
  if (!key_map || !key_map->is_object() || key_map->get_object().empty() ||
      key_map->get_object().size() > kMaxDeviceKeyEntries) {
    return Invalid("'keys' must map '<algorithm>:<device>' to keys");
  }
  for (const auto& [name, value] : key_map->get_object()) {
    auto split = SplitKeyName(name);
    if (!split || split->second != device_id || !value.is_string() ||
        value.get_string().size() > kMaxKeyValue) {
      return Invalid("'keys' must map '<algorithm>:<device>' to keys");
    }
  }
  const json::value* sigs = keys.if_contains("signatures");
  if (!sigs) {
    return core::Error::BadRequest("device_keys must be signed", "M_MISSING_PARAM");
  }
  RUCHE_RETURN_IF_ERROR(ValidateSignatures(*sigs));
  std::string signing_key = DeviceSigningKey(keys, device_id);
  if (signing_key.empty()) {
    return Invalid("device_keys needs the device's ed25519 key");
  }
  std::string key_id = "ed25519:" + std::string(device_id);
  if (!VerifySignature(keys, user_id, key_id, signing_key)) {
    return core::Error::BadRequest("device_keys' self-signature does not verify",
                                   "M_INVALID_SIGNATURE");
  }
  json::object stored = keys;
  stored.erase("unsigned");
  return stored;
}

Result<UploadedKey> CheckUploadedKey(std::string_view name, const json::value& value) {
  auto split = SplitKeyName(name);
  if (!split || split->first.size() > kMaxAlgorithmName) {
    return Invalid("Key names must be '<algorithm>:<key id>'");
  }
  if (value.is_string()) {
    if (value.get_string().empty() || value.get_string().size() > kMaxKeyValue) {
      return Invalid("Invalid key");
    }
  } else if (value.is_object()) {
    const json::object& obj = value.get_object();
    RUCHE_RETURN_IF_ERROR(CheckSize(obj));
    const json::value* key = obj.if_contains("key");
    if (!key || !key->is_string() || key->get_string().empty() ||
        key->get_string().size() > kMaxKeyValue) {
      return Invalid("A key object needs a 'key' string");
    }
    if (const json::value* sigs = obj.if_contains("signatures")) {
      RUCHE_RETURN_IF_ERROR(ValidateSignatures(*sigs));
    }
  } else {
    return Invalid("A key must be a string or an object");
  }
  return UploadedKey{std::string(split->first), std::string(split->second), json::serialize(value)};
}

Result<std::string> CheckCrossSigningKey(const json::object& key, std::string_view user_id,
                                         std::string_view usage) {
  RUCHE_RETURN_IF_ERROR(CheckSize(key));
  auto user = core::RequireString(key, "user_id");
  if (!user || *user != user_id) {
    return Invalid("A cross-signing key must be for the uploading user");
  }
  const json::value* usages = key.if_contains("usage");
  if (!usages || !usages->is_array() || usages->get_array().size() != 1 ||
      !usages->get_array()[0].is_string() || usages->get_array()[0].get_string() != usage) {
    return Invalid("The " + std::string(usage) + " key must have usage [\"" + std::string(usage) +
                   "\"]");
  }
  const json::value* keys = key.if_contains("keys");
  if (!keys || !keys->is_object() || keys->get_object().size() != 1) {
    return Invalid("A cross-signing key has exactly one key");
  }
  const auto& [name, value] = *keys->get_object().begin();
  auto split = SplitKeyName(name);
  if (!split || split->first != "ed25519" || !value.is_string() ||
      value.get_string() != split->second) {
    return Invalid("A cross-signing key is 'ed25519:<public key>': '<public key>'");
  }
  auto bytes = DecodeBase64(split->second);
  if (!bytes || bytes->size() != crypto_sign_PUBLICKEYBYTES) {
    return Invalid("Invalid ed25519 public key");
  }
  if (const json::value* sigs = key.if_contains("signatures")) {
    RUCHE_RETURN_IF_ERROR(ValidateSignatures(*sigs));
  }
  return std::string(split->second);
}

Result<std::vector<MemberChange>> MemberChangesBetween(store::Connection& conn,
                                                       const std::string& user_id, int64_t from,
                                                       int64_t to) {
  RUCHE_ASSIGN_OR_RETURN(
      auto rows,
      conn.Query("SELECT e.room_id, e.state_key, e.json FROM memberships m JOIN events e ON "
                 "e.room_id = m.room_id AND e.stream_ordering > ? AND e.stream_ordering <= ? "
                 "WHERE m.user_id = ? AND e.type = 'm.room.member'",
                 {from, to, user_id}));
  std::vector<MemberChange> out;
  for (const auto& row : rows) {
    auto ev = ParseStoredEvent(row.Text(2));
    if (!ev) {
      continue;
    }
    const json::value* content = ev->if_contains("content");
    const json::value* membership =
        content && content->is_object() ? content->get_object().if_contains("membership") : nullptr;
    if (membership && membership->is_string()) {
      out.push_back({row.Text(0), row.Text(1), std::string(membership->get_string())});
    }
  }
  return out;
}

Result<DeviceListDelta> DeviceListChanges(store::Connection& conn, const std::string& user_id,
                                          int64_t from, int64_t to,
                                          const std::vector<MemberChange>& member_changes) {
  std::set<std::string> maybe_changed, maybe_left;
  for (const auto& change : member_changes) {
    bool joined = change.membership == "join";
    bool gone = change.membership == "leave" || change.membership == "ban";
    if (change.user_id != user_id) {
      if (joined) {
        maybe_changed.insert(change.user_id);
      } else if (gone) {
        maybe_left.insert(change.user_id);
      }
      continue;
    }
    if (!joined && !gone) {
      continue;
    }
    // The user joined (everyone there is news) or left (everyone there may be gone).
    RUCHE_ASSIGN_OR_RETURN(
        auto members,
        conn.Query("SELECT user_id FROM memberships WHERE room_id = ? AND membership = 'join'",
                   {change.room_id}));
    for (const auto& row : members) {
      if (row.Text(0) != user_id) {
        (joined ? maybe_changed : maybe_left).insert(row.Text(0));
      }
    }
  }

  DeviceListDelta out;
  RUCHE_ASSIGN_OR_RETURN(
      auto rows,
      conn.Query("SELECT d.user_id FROM device_list_changes d WHERE d.stream_ordering > ? AND "
                 "d.stream_ordering <= ?",
                 {from, to}));
  for (const auto& row : rows) {
    if (row.Text(0) == user_id) {
      out.changed.insert(user_id);  // the user's own other devices
    } else {
      maybe_changed.insert(row.Text(0));
    }
  }
  if (maybe_changed.empty() && maybe_left.empty()) {
    return out;
  }

  // Keep only what concerns users who share a room now (changed) or no longer do (left).
  std::set<std::string> candidates(maybe_changed);
  candidates.insert(maybe_left.begin(), maybe_left.end());
  std::set<std::string> sharing;
  if (candidates.size() <= kMaxSharedProbes) {
    for (const auto& other : candidates) {
      RUCHE_ASSIGN_OR_RETURN(
          auto shared,
          conn.QueryOne("SELECT 1 FROM memberships a JOIN memberships b ON b.room_id = a.room_id "
                        "AND b.user_id = ? AND b.membership = 'join' WHERE a.user_id = ? AND "
                        "a.membership = 'join' LIMIT 1",
                        {other, user_id}));
      if (shared) {
        sharing.insert(other);
      }
    }
  } else {
    RUCHE_ASSIGN_OR_RETURN(
        auto shared,
        conn.Query("SELECT DISTINCT b.user_id FROM memberships a JOIN memberships b ON "
                   "b.room_id = a.room_id AND b.membership = 'join' WHERE a.user_id = ? AND "
                   "a.membership = 'join'",
                   {user_id}));
    for (const auto& row : shared) {
      sharing.insert(row.Text(0));
    }
  }
  for (const auto& other : maybe_changed) {
    if (sharing.count(other)) {
      out.changed.insert(other);
    }
  }
  for (const auto& other : maybe_left) {
    if (!sharing.count(other)) {
      out.left.insert(other);
    }
  }
  return out;
}

Result<KeyCounts> CountKeys(store::Connection& conn, const std::string& user_id,
                            const std::string& device_id) {
  RUCHE_ASSIGN_OR_RETURN(
      auto rows,
      conn.Query("SELECT algorithm, COUNT(*), 0 FROM one_time_keys WHERE user_id = ? AND "
                 "device_id = ? GROUP BY algorithm UNION ALL SELECT algorithm, 0, 1 FROM "
                 "fallback_keys WHERE user_id = ? AND device_id = ? AND used = 0",
                 {user_id, device_id, user_id, device_id}));
  KeyCounts out;
  // Clients (Element's crypto, nio) read a missing count as "unknown": say 0 for the usual one.
  out.one_time_keys_count["signed_curve25519"] = 0;
  for (const auto& row : rows) {
    if (row.Int(2) == 1) {
      out.unused_fallback_key_types.emplace_back(row.Text(0));
    } else {
      out.one_time_keys_count[row.Text(0)] = row.Int(1);
    }
  }
  return out;
}

Result<std::optional<json::object>> ClaimKey(store::Connection& conn, const std::string& user_id,
                                             const std::string& device_id,
                                             const std::string& algorithm) {
  RUCHE_ASSIGN_OR_RETURN(
      auto one_time,
      conn.QueryOne("SELECT key_id, json FROM one_time_keys WHERE user_id = ? AND device_id = ? "
                    "AND algorithm = ? ORDER BY key_id LIMIT 1",
                    {user_id, device_id, algorithm}));
  std::optional<store::Row> found = std::move(one_time);
  if (found) {
    RUCHE_RETURN_IF_ERROR(
        conn.Execute("DELETE FROM one_time_keys WHERE user_id = ? AND device_id = ? AND "
                     "algorithm = ? AND key_id = ?",
                     {user_id, device_id, algorithm, found->Text(0)}));
  } else {
    RUCHE_ASSIGN_OR_RETURN(
        found, conn.QueryOne("SELECT key_id, json FROM fallback_keys WHERE user_id = ? AND "
                             "device_id = ? AND algorithm = ?",
                             {user_id, device_id, algorithm}));
    if (!found) {
      return std::optional<json::object>{};
    }
    RUCHE_RETURN_IF_ERROR(
        conn.Execute("UPDATE fallback_keys SET used = 1 WHERE user_id = ? AND device_id = ? AND "
                     "algorithm = ?",
                     {user_id, device_id, algorithm}));
  }
  boost::system::error_code ec;
  json::value key = json::parse(found->Text(1), ec);
  if (ec) {
    return core::Error::Internal("Stored key is not JSON");
  }
  return std::optional<json::object>(
      json::object{{algorithm + ":" + found->Text(0), std::move(key)}});
}

Result<int64_t> DeviceKeys::NextStream(store::Connection& conn) {
  return events_->NextStreamOrdering(conn);
}

Result<int64_t> DeviceKeys::NoteChange(store::Connection& conn, const std::string& user_id) {
  RUCHE_ASSIGN_OR_RETURN(auto stream, NextStream(conn));
  notifier_.NoteWrite(Notifier::Kind::kDeviceLists, stream);  // before the commit: see Notifier
  RUCHE_RETURN_IF_ERROR(
      conn.Execute("INSERT INTO device_list_changes (user_id, stream_ordering) VALUES (?, ?) "
                   "ON CONFLICT (user_id) DO UPDATE SET stream_ordering = excluded.stream_ordering",
                   {user_id, stream}));
  return stream;
}

Result<int64_t> DeviceKeys::ForgetDevice(store::Connection& conn, const std::string& user_id,
                                         const std::string& device_id) {
  for (const char* sql : {
           "DELETE FROM device_keys WHERE user_id = ? AND device_id = ?",
           "DELETE FROM one_time_keys WHERE user_id = ? AND device_id = ?",
           "DELETE FROM fallback_keys WHERE user_id = ? AND device_id = ?",
           "DELETE FROM key_signatures WHERE target_user = ? AND target_key = ?",
           "DELETE FROM to_device WHERE user_id = ? AND device_id = ?",
           "DELETE FROM to_device_txns WHERE user_id = ? AND device_id = ?",
       }) {
    RUCHE_RETURN_IF_ERROR(conn.Execute(sql, {user_id, device_id}));
  }
  // The device's own signatures on the user's keys go too: a signer that no longer exists
  // vouches for nothing.
  RUCHE_RETURN_IF_ERROR(
      conn.Execute("DELETE FROM key_signatures WHERE signer_user = ? AND signer_key = ?",
                   {user_id, "ed25519:" + device_id}));
  return NoteChange(conn, user_id);
}

store::WriteFn DeviceKeys::DeleteDevices(auth::Accounts& accounts, std::string localpart,
                                         std::string user_id,
                                         std::optional<std::vector<std::string>> devices,
                                         std::shared_ptr<int64_t> stream) {
  return
      [this, &accounts, localpart, user_id, devices, stream](store::Connection& c) -> Result<void> {
        std::vector<std::string> ids;
        if (devices) {
          ids = *devices;
        } else {
          RUCHE_ASSIGN_OR_RETURN(
              auto rows, c.Query("SELECT device_id FROM devices WHERE localpart = ?", {localpart}));
          for (const auto& row : rows) {
            ids.push_back(row.Text(0));
          }
        }
        for (const auto& id : ids) {
          RUCHE_RETURN_IF_ERROR(accounts.DeleteDevice(localpart, id)(c));
          RUCHE_ASSIGN_OR_RETURN(*stream, ForgetDevice(c, user_id, id));
        }
        return {};
      };
}

Result<void> DeviceKeys::LoadQueued() {
  RUCHE_ASSIGN_OR_RETURN(
      auto rows, store_.Read()->Query("SELECT user_id, device_id, MAX(stream_ordering) FROM "
                                      "to_device GROUP BY user_id, device_id"));
  std::lock_guard lock(mu_);
  for (const auto& row : rows) {
    newest_queued_[DeviceKey(row.Text(0), row.Text(1))] = row.Int(2);
  }
  return {};
}

int64_t DeviceKeys::NewestQueued(const std::string& user_id, const std::string& device_id) const {
  std::lock_guard lock(mu_);
  auto it = newest_queued_.find(DeviceKey(user_id, device_id));
  return it == newest_queued_.end() ? 0 : it->second;
}

void DeviceKeys::NoteQueued(const std::string& user_id, const std::string& device_id,
                            int64_t stream) {
  std::lock_guard lock(mu_);
  int64_t& newest = newest_queued_[DeviceKey(user_id, device_id)];
  newest = std::max(newest, stream);
}

void DeviceKeys::Acknowledged(const std::string& user_id, const std::string& device_id,
                              int64_t since) {
  std::lock_guard lock(mu_);
  auto it = newest_queued_.find(DeviceKey(user_id, device_id));
  if (it != newest_queued_.end() && it->second <= since) {
    newest_queued_.erase(it);  // a message queued since then has a newer position: kept
  }
}

uint64_t DeviceKeys::CountsGeneration() const {
  std::lock_guard lock(mu_);
  return counts_generation_;
}

Result<KeyCounts> DeviceKeys::Counts(store::Connection& conn, const std::string& user_id,
                                     const std::string& device_id, uint64_t generation) {
  std::string key = DeviceKey(user_id, device_id);
  {
    std::lock_guard lock(mu_);
    if (auto it = counts_.find(key); it != counts_.end()) {
      return it->second;
    }
  }
  RUCHE_ASSIGN_OR_RETURN(auto counts, CountKeys(conn, user_id, device_id));
  std::lock_guard lock(mu_);
  // Cached only if nothing was forgotten since the caller's snapshot began.
  if (generation == counts_generation_) {
    if (counts_.size() >= 100'000) {
      counts_.clear();  // bounded; refilled by the next syncs
    }
    counts_[key] = counts;
  }
  return counts;
}

bool DeviceKeys::CountsKnown(const std::string& user_id, const std::string& device_id) const {
  std::lock_guard lock(mu_);
  return counts_.contains(DeviceKey(user_id, device_id));
}

void DeviceKeys::ForgetCounts(const std::string& user_id, const std::string& device_id) {
  std::lock_guard lock(mu_);
  counts_.erase(DeviceKey(user_id, device_id));
  ++counts_generation_;
}

void DeviceKeys::Announce(const std::string& user_id, int64_t stream) {
  std::vector<std::string> rooms;
  auto rows = store_.Read()->Query(
      "SELECT room_id FROM memberships WHERE user_id = ? AND membership = 'join'", {user_id});
  if (rows) {
    for (const auto& row : *rows) {
      rooms.push_back(row.Text(0));
    }
  }
  std::vector<std::string> users{user_id};
  notifier_.Publish(stream, rooms, users);
}

}  // namespace ruche::matrix
