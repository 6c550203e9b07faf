#pragma once
// What a room's members' syncs have in common when one event wakes them all: the new events of
// the stream window (from, pos], read, parsed and aggregated once per wake-up instead of once
// per member. A message in a 1,000-member room then costs one timeline read, not 1,000 (see
// docs/benchmarks.md, fanout).
//
// Only what is the same for every reader is kept: events with their aggregations as anyone
// sees them, and the senders' member events (lazy loading). A window that is not — an event
// with a thread aggregation (current_user_participated), more events than the timeline limit
// (limited timelines, prev_batch) — is marked so, and the sync reads it the usual way. Entries
// live for a few seconds, bounded in number and in bytes (the events' stored size): a
// wake-up's syncs all arrive within milliseconds, and a later sync has a later window anyway.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "matrix/device_keys.hpp"
#include "store/store.hpp"

namespace ruche::matrix {

namespace json = core::json;

// The rooms with events in a window, and how many each.
struct StreamWindow {
  std::map<std::string, int64_t> event_counts;  // room -> events in (from, pos]
};

// One room's events in a window, as every reader sees them.
struct RoomWindow {
  bool shareable = true;  // false: the reader must read it themselves (see above)
  std::vector<std::pair<int64_t, json::object>> events;  // (stream, event), oldest first
  std::map<std::string, json::object> sender_members;    // sender -> current m.room.member
  std::vector<MemberChange> member_changes;              // membership events among them
  std::set<std::string> senders;
  // Serialised once for every reader's response (SyncRoutes' quiet path), each the inside of a
  // JSON array: the events, and the senders' member events that are not among them.
  std::string events_json;
  std::string lazy_members_json;
};

class SharedWindows {
 public:
  // nullptr when the window holds too many rooms to be worth sharing.
  Result<std::shared_ptr<const StreamWindow>> Window(store::Connection& conn, int64_t from,
                                                     int64_t pos);
  // `limit` is the reader's timeline limit: a window with more events is not shareable.
  Result<std::shared_ptr<const RoomWindow>> Room(store::Connection& conn, const std::string& room,
                                                 int64_t from, int64_t pos, int64_t limit);

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
  };
  Stats stats() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Clock::time_point made;
    std::shared_ptr<const void> value;
    size_t bytes = 0;
  };
  std::shared_ptr<const void> Find(const std::string& key);
  void Keep(const std::string& key, std::shared_ptr<const void> value, size_t bytes);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
  std::deque<std::string> order_;                   // GUARDED_BY(mu_), oldest first
  size_t bytes_ = 0;                                // GUARDED_BY(mu_), of the entries kept
  Stats stats_;                                     // GUARDED_BY(mu_)
};

}  // namespace ruche::matrix
