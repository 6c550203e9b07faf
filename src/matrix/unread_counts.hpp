#pragma once
// Unread notification counts for /sync (spec "Receiving notifications": `unread_notifications`,
// and `unread_thread_notifications` when the filter asks for them): how many events after the
// user's read receipt their push rules say notify, and how many of those highlight.
//
// Counted lazily, when a room goes out in a sync, and remembered per (user, room): a rescan
// reads the events after the read receipt once (at most the newest kMaxScan of them); then each
// sync only evaluates the window's new events, which every member's sync already holds, so a
// message in a 1,000-member room costs 1,000 rule evaluations and no query. A sync that carries
// a new read receipt of the user, or a gap in what was evaluated, rescans.
//
// A user's own event counts as reading everything before it in its thread (as in Element and
// Synapse). Events before the user's join never count.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "matrix/notifier.hpp"
#include "matrix/push_eval.hpp"
#include "store/store.hpp"

namespace ruche::matrix {

struct UnreadCount {
  int64_t notifications = 0;
  int64_t highlights = 0;
};

struct RoomUnread {
  UnreadCount main;                            // the main timeline (thread roots included)
  std::map<std::string, UnreadCount> threads;  // thread root -> the thread's events
  UnreadCount Total() const;
};

class UnreadCounts {
 public:
  // `notifier` (optional) tells when a room's member count may have changed (kMembership).
  explicit UnreadCounts(const Notifier* notifier = nullptr) : notifier_(notifier) {}

  static constexpr int64_t kMaxScan = 1000;  // events read by one rescan: counts saturate there

  // `window`: the room's events in (from, pos], oldest first, when the sync holds all of them;
  // nullptr when it does not (initial sync, a limited timeline, a new join).
  Result<RoomUnread> Counts(store::Connection& conn, const std::string& user,
                            const std::string& room, int64_t from, int64_t pos,
                            const std::vector<std::pair<int64_t, core::json::object>>* window);

  // Whether the counts of (user, room) are in memory: Counts() then only adds new events.
  bool Known(const std::string& user, const std::string& room);

  // The user's read receipt in `room` moved, at stream position `at`: the next Counts rescans,
  // and counts read from a snapshot older than `at` are not kept.
  void ReadMoved(const std::string& user, const std::string& room, int64_t at);
  // The user's push rules changed: compile them again.
  void RulesChanged(const std::string& user);

 private:
  struct Entry {
    int64_t upto = 0;        // events up to this stream position are counted; -1: rescan
    int64_t valid_from = 0;  // only counts read at or after this position may replace these
    int64_t unthreaded_read = 0;
    std::map<std::string, int64_t> read;  // bucket ("" = main) -> its own receipt or own event
    RoomUnread counts;
    std::string display_name;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry> entries;  // GUARDED_BY(mu), key: room '\n' user
  };
  // The joined member count of a room at a stream position: every member's sync of one
  // wake-up asks for the same one.
  struct MemberCount {
    int64_t pos = -1;
    int64_t count = 0;
  };

  Result<std::shared_ptr<const PushRuleSet>> Rules(store::Connection& conn,
                                                   const std::string& user);
  Result<Entry> Rescan(store::Connection& conn, const std::string& user, const std::string& room,
                       int64_t pos, const PushRuleSet& rules);
  // Counts one event into `e` (events must come oldest first).
  void Apply(Entry& e, store::Connection& conn, const std::string& user, const std::string& room,
             int64_t pos, int64_t stream, const core::json::object& ev, const PushRuleSet& rules);
  int64_t JoinedMembers(store::Connection& conn, const std::string& room, int64_t pos);
  Shard& ShardFor(const std::string& key);

  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxEntriesPerShard = 8192;  // then the shard starts over
  static constexpr size_t kMaxRuleSets = 20000;
  const Notifier* notifier_;
  std::array<Shard, kShards> shards_;
  std::mutex rules_mu_;
  std::unordered_map<std::string, std::shared_ptr<const PushRuleSet>> rules_;  // GUARDED_BY
  std::mutex count_mu_;
  std::unordered_map<std::string, MemberCount> member_counts_;  // GUARDED_BY(count_mu_)
};

}  // namespace ruche::matrix
