#pragma once
// GET /sync: initial and incremental sync with long-polling. Joined rooms (timeline with
// limited/prev_batch, state, ephemeral typing and receipts), invites (stripped state), rooms left
// since the last sync, account data, presence, to-device messages and the E2EE device lists and
// key counts. Every section is built with one query for all
// rooms, not one per room.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "matrix/client_api.hpp"
#include "matrix/device_keys.hpp"
#include "matrix/event_filter.hpp"
#include "matrix/notifier.hpp"
#include "matrix/presence.hpp"
#include "matrix/shared_windows.hpp"
#include "matrix/typing.hpp"
#include "matrix/unread_counts.hpp"
#include "net/router.hpp"
#include "store/store.hpp"

namespace ruche::matrix {

struct SyncFilter;  // sync_routes.cpp

class SyncRoutes {
 public:
  SyncRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier, TypingState& typing,
             PresenceTracker& presence, DeviceKeys& keys);

  SharedWindows::Stats SharedWindowStats() const { return shared_.stats(); }
  uint64_t QuietSyncs() const { return quiet_syncs_.load(std::memory_order_relaxed); }

 private:
  boost::asio::awaitable<net::Response> Sync(net::Request& req);
  // The rooms `user` is joined to, sorted: from memory while no membership event was written
  // since they were read (a fanout's 1,000 re-polls then skip a query and copy nothing).
  // `read_now` (optional) tells whether they were read from the store this time.
  Result<Notifier::RoomList> JoinedRooms(const std::string& user, bool* read_now = nullptr);

  // The quiet path (sync_quiet_path.cpp): an incremental sync in which, since `from`, only room
  // events without membership changes and typing happened — every member's sync of a
  // message's fanout — is put together from the bytes the members share (SharedWindows) and
  // this user's own counts: no read transaction, no JSON tree. nullopt when something else
  // happened, or the filter asks for more than plain timelines: take the general path.
  struct QuietRequest {
    const std::string& user;
    const std::string& device;
    int64_t from = 0;
    int64_t since_typing = 0;
    const SyncFilterSpec& filter;
    int64_t timeline_limit = 0;
    bool lazy_members = false;
    bool thread_counts = false;
  };
  Result<std::optional<std::string>> QuietSync(const QuietRequest& req);
  // While a long-poll waits: reads what its wake-up would otherwise read on the spot when the
  // user's state may be cold (their rooms were just read: after a restart, a first sync) — the
  // device's key counts, each room's unread counts as of the token — so that a message's fanout
  // does not queue 1,000 users' cold reads behind it. Best effort: an error only leaves the wake-up
  // to read them.
  void PrepareForWake(const std::string& user, const std::string& device,
                      const std::vector<std::string>& rooms, int64_t since);
  // The request's `filter`, parsed (and kept: a client sends the same one with every sync).
  Result<std::shared_ptr<const SyncFilter>> Filter(const net::Request& req,
                                                   const std::string& localpart);
  // The device's sync token `since` acknowledges the to-device messages up to it: deletes them.
  Result<void> AcknowledgeToDevice(store::Connection& conn, const std::string& user,
                                   const std::string& device, int64_t since);

  struct RoomTimeline {
    std::vector<std::pair<int64_t, json::object>> events;  // (stream, event), oldest first
    bool limited = false;
  };

  // Fills the timelines (and the window's membership changes and, for lazy loading, the
  // senders' member events) of an incremental sync whose rooms did not change from the windows
  // every member's sync shares. False when one is not shareable: read them the usual way.
  Result<bool> SharedTimelines(store::Connection& conn, const std::string& user,
                               const std::map<std::string, bool>& joined, int64_t from, int64_t pos,
                               int64_t limit, std::map<std::string, RoomTimeline>& timelines,
                               std::vector<MemberChange>& member_changes,
                               std::map<std::string, std::map<std::string, json::object>>& members);

  struct CachedRooms {
    Notifier::RoomList rooms;
    int64_t read_at = 0;  // Notifier::position() read before the query
  };
  std::mutex joined_mu_;
  std::unordered_map<std::string, CachedRooms> joined_cache_;  // GUARDED_BY(joined_mu_)
  std::atomic<uint64_t> quiet_syncs_{0};
  std::mutex filters_mu_;
  std::unordered_map<std::string, std::shared_ptr<const SyncFilter>> filters_;  // GUARDED_BY

  MatrixDeps deps_;
  Notifier& notifier_;
  TypingState& typing_;
  PresenceTracker& presence_;
  DeviceKeys& keys_;  // to-device queues and key counts
  SharedWindows shared_;
  UnreadCounts unread_;
};

}  // namespace ruche::matrix
