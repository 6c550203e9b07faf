#pragma once
// The server side of end-to-end encryption's keys (spec "End-to-End Encryption"): devices'
// identity keys, one-time and fallback keys, cross-signing keys and the signatures between them,
// and the device-list changes that tell other users to fetch keys again. The server stores only
// public keys and checks what it can (shapes, sizes, ed25519 signatures) so that it never hands
// a client a key object that its owner did not sign.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "store/store.hpp"

namespace ruche::auth {
class Accounts;
}

namespace ruche::matrix {

namespace json = core::json;
class Notifier;
class RoomEvents;

// Bounds on what clients upload (a real device-keys object is ~600 bytes).
inline constexpr size_t kMaxKeyObjectBytes = 16 * 1024;
inline constexpr size_t kMaxOneTimeKeysPerUpload = 200;
inline constexpr int64_t kMaxOneTimeKeysPerDevice = 1'000;  // per algorithm

// ---- Checks on uploaded objects (pure; fuzzed by device_keys_fuzz.cpp) ----

// `signatures`: an object of users, each an object of key IDs to signature strings, bounded in
// count and size. M_BAD_JSON / M_INVALID_PARAM otherwise.
Result<void> ValidateSignatures(const json::value& signatures);

// True when `signed_object` carries a valid ed25519 signature by `user_id`'s key `key_id`
// ("ed25519:<id>"), made with `public_key` (unpadded base64): spec "Signing JSON" — the
// canonical JSON of the object without `signatures` and `unsigned`.
bool VerifySignature(const json::object& signed_object, std::string_view user_id,
                     std::string_view key_id, std::string_view public_key);

// A device-keys object as /keys/upload receives it: for this user and device, its algorithms
// and keys, and self-signed with its own ed25519 key (M_INVALID_SIGNATURE otherwise).
// Returns the object to store (without `unsigned`).
Result<json::object> CheckDeviceKeys(const json::object& keys, std::string_view user_id,
                                     std::string_view device_id);

// One entry of `one_time_keys` / `fallback_keys`: "<algorithm>:<key id>" -> a key string or a
// signed key object.
struct UploadedKey {
  std::string algorithm;
  std::string key_id;
  std::string json;  // the value as stored and handed out
};
Result<UploadedKey> CheckUploadedKey(std::string_view name, const json::value& value);

// A cross-signing key (spec "Cross-signing"): for this user, with exactly the given usage
// ("master", "self_signing" or "user_signing") and one ed25519 key. Returns its public key.
Result<std::string> CheckCrossSigningKey(const json::object& key, std::string_view user_id,
                                         std::string_view usage);

// The ed25519 public key of a device-keys object (its "ed25519:<device>" entry), or "".
std::string DeviceSigningKey(const json::object& device_keys, std::string_view device_id);

// ---- Device lists ----

// A membership change seen in a stream window.
struct MemberChange {
  std::string room_id;
  std::string user_id;
  std::string membership;
};

// Spec "Tracking the device list for a user": whose keys a user must fetch again (`changed`:
// they changed their devices or newly share a room) and whom they stopped sharing every room
// with (`left`), for the stream window (from, to].
struct DeviceListDelta {
  std::set<std::string> changed;
  std::set<std::string> left;
};
// `member_changes`: the membership events of the window in rooms the user is or was in (sync has
// them already; MemberChangesBetween reads them otherwise).
Result<DeviceListDelta> DeviceListChanges(store::Connection& conn, const std::string& user_id,
                                          int64_t from, int64_t to,
                                          const std::vector<MemberChange>& member_changes);
Result<std::vector<MemberChange>> MemberChangesBetween(store::Connection& conn,
                                                       const std::string& user_id, int64_t from,
                                                       int64_t to);

// /sync's device_one_time_keys_count and device_unused_fallback_key_types for a device.
struct KeyCounts {
  json::object one_time_keys_count;
  json::array unused_fallback_key_types;
};
Result<KeyCounts> CountKeys(store::Connection& conn, const std::string& user_id,
                            const std::string& device_id);

// Claims a key of `algorithm` for the device: a one-time key (deleted: handed out once), else
// its fallback key (kept, marked used). Returns {"<algorithm>:<key id>": key}, or nullopt when
// the device has neither. Call only inside a store write (the writer serializes claimers).
Result<std::optional<json::object>> ClaimKey(store::Connection& conn, const std::string& user_id,
                                             const std::string& device_id,
                                             const std::string& algorithm);

// Stream bookkeeping shared by the key and to-device endpoints.
class DeviceKeys {
 public:
  DeviceKeys(store::Store& store, Notifier& notifier, std::shared_ptr<RoomEvents> events)
      : store_(store), notifier_(notifier), events_(std::move(events)) {}

  // Inside a store write: records that `user_id`'s devices or keys changed. Returns the stream
  // position to Announce() after the commit.
  Result<int64_t> NoteChange(store::Connection& conn, const std::string& user_id);

  // Inside a store write: forgets a deleted device's keys, the signatures on them, its
  // to-device queue and transaction IDs, and records the change. Returns the stream position.
  Result<int64_t> ForgetDevice(store::Connection& conn, const std::string& user_id,
                               const std::string& device_id);

  // A store write that deletes the user's `devices` (every device when nullopt): their access
  // tokens (auth::Accounts::DeleteDevice) and, with ForgetDevice(), their keys. `*stream` gets
  // the position to Announce() after the commit (0 when no device was deleted).
  store::WriteFn DeleteDevices(auth::Accounts& accounts, std::string localpart, std::string user_id,
                               std::optional<std::vector<std::string>> devices,
                               std::shared_ptr<int64_t> stream);

  // After the commit of a NoteChange()/ForgetDevice(): wakes the syncs of the user and of
  // everyone who shares a room with them (their device_lists.changed).
  void Announce(const std::string& user_id, int64_t stream);

  // Inside a store write: the next position of the server's stream.
  Result<int64_t> NextStream(store::Connection& conn);

  Notifier& notifier() { return notifier_; }

  // In-memory gates that keep E2EE free for the syncs of devices that do not use it (a
  // message's fanout to 1,000 syncs would otherwise pay two more queries per delivery).
  //
  // To-device: the stream position of the newest message queued for a device, 0 when none is.
  // Load once at start; NoteQueued() inside each write that queues (before its commit, as
  // Notifier::NoteWrite); Acknowledged() when a sync token covers everything queued (the
  // device's rows are being deleted).
  Result<void> LoadQueued();
  int64_t NewestQueued(const std::string& user_id, const std::string& device_id) const;
  void NoteQueued(const std::string& user_id, const std::string& device_id, int64_t stream);
  void Acknowledged(const std::string& user_id, const std::string& device_id, int64_t since);

  // Key counts: /sync's per-device counts, read from the tables only after they changed.
  // ForgetCounts() after every commit that changes a device's one-time or fallback keys.
  // `generation` is CountsGeneration() read before the caller's read snapshot began: counts
  // read on a snapshot older than a ForgetCounts() must not be cached.
  uint64_t CountsGeneration() const;
  Result<KeyCounts> Counts(store::Connection& conn, const std::string& user_id,
                           const std::string& device_id, uint64_t generation);
  void ForgetCounts(const std::string& user_id, const std::string& device_id);
  // Whether Counts() would answer from memory.
  bool CountsKnown(const std::string& user_id, const std::string& device_id) const;

 private:
  static std::string DeviceKey(const std::string& user_id, const std::string& device_id) {
    return user_id + '\n' + device_id;
  }

  store::Store& store_;
  Notifier& notifier_;
  std::shared_ptr<RoomEvents> events_;  // stream positions; used only inside store writes

  mutable std::mutex mu_;
  std::unordered_map<std::string, int64_t> newest_queued_;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, KeyCounts> counts_;       // GUARDED_BY(mu_)
  uint64_t counts_generation_ = 0;  // GUARDED_BY(mu_): bumped by every ForgetCounts()
};

}  // namespace ruche::matrix
