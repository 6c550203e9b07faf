#pragma once
// Presence (spec "Presence"): online / unavailable / offline, `last_active_ago`, `status_msg`.
// The state lives in memory for speed and is written to the store (table presence, on the shared
// stream) only when it changes, so /sync delivers changes by stream position like any other data
// and a restart keeps the last known state. Activity timestamps alone are never written.
//
// Transitions: a /sync (set_presence=online, the default) brings an offline user online;
// activity (sending, typing) brings an idle user back online; the sweep makes users idle
// (unavailable) after `presence.idle_after_ms` without activity and offline once they have had
// no /sync open for `presence.offline_after_ms`. A state set explicitly with PUT .../status wins
// over the automatic ones (e.g. "offline" to appear invisible while connected).
//
// Availability (Ruche's addition, "org.ruche.availability" in the content, with
// "org.ruche.availability_source"): what colleagues should expect beyond the spec's three
// states — "dnd" or "busy" chosen by the user (stored), else "in_meeting" while they are in a
// Ruche meeting (memory only), else "busy" during a calendar event. Hidden when offline.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config.hpp"
#include "core/json.hpp"
#include "matrix/notifier.hpp"
#include "matrix/room_events.hpp"
#include "store/store.hpp"

namespace ruche::matrix {

class PresenceTracker {
 public:
  // When `calendar_busy(user_id, now_ms)` gives the end of an event the user is busy with, the
  // user's presence carries "org.ruche.availability": "busy" and "org.ruche.busy_until" (ms)
  // until then, unless they set a state themselves. Checked by the sweep every
  // `presence.calendar_check_ms` for connected users.
  using CalendarBusy =
      std::function<std::optional<int64_t>(const std::string& user_id, int64_t now_ms)>;
  PresenceTracker(const core::PresenceConfig& config, store::Store& store, Notifier& notifier,
                  std::shared_ptr<RoomEvents> events, CalendarBusy calendar_busy = {});

  bool enabled() const { return config_.enabled; }

  // Reads the persisted states (start-up). Users not seen again go offline after the timeout.
  Result<void> Load();

  // A /sync of `user` begins; `set_presence` is the request's parameter ("" = online).
  boost::asio::awaitable<void> SyncStarted(const std::string& user, std::string_view set_presence);
  void SyncEnded(const std::string& user);

  // `user` did something (sent an event, typed).
  boost::asio::awaitable<void> Active(const std::string& user);

  // PUT /presence/{userId}/status, validated by the caller. Unset optionals change nothing.
  struct ExplicitUpdate {
    std::string state;  // online | unavailable | offline
    std::optional<std::string> status_msg;
    std::optional<std::string> availability;  // "busy" | "dnd" | "" (back to automatic)
  };
  boost::asio::awaitable<Result<void>> SetExplicit(const std::string& user, ExplicitUpdate update);

  // `user` joined (true) or left (false) a meeting with their account; they show "in_meeting"
  // while they are in at least one.
  boost::asio::awaitable<void> InMeeting(const std::string& user, bool joined);

  // The m.presence content for `user`: from memory, else from the stored row (`stored_*`).
  json::object Content(const std::string& user, std::string_view stored_state,
                       std::string_view stored_status, int64_t stored_last_active_ms) const;
  // GET /presence/{userId}/status.
  Result<json::object> Get(const std::string& user) const;

  // Applies the idle and offline timeouts. Called periodically.
  boost::asio::awaitable<void> Sweep();

 private:
  struct UserPresence {
    std::string state = "offline";
    std::string status_msg;
    int64_t last_active_ms = 0;
    int64_t last_sync_end_ms = 0;
    int syncing = 0;
    bool explicit_state = false;  // set by PUT: automatic transitions leave it alone
    int64_t busy_until_ms = 0;    // from the calendar; 0 = not busy
    int64_t busy_checked_ms = 0;
    std::string availability;  // chosen by the user: "", "busy", "dnd"
    int meetings = 0;          // meetings the user is in now
  };
  // Writes the user's current in-memory state (read inside the write, so the last write wins
  // with the latest state) and wakes the syncs of everyone sharing a room with them.
  boost::asio::awaitable<Result<void>> Persist(std::string user);
  UserPresence& Entry(const std::string& user);  // REQUIRES(mu_)
  // Looks at connected users' calendars (at most every calendar_check_ms each) and adds to
  // `changed` those whose busy state changed.
  void CheckCalendars(std::vector<std::string>& changed);

  core::PresenceConfig config_;
  CalendarBusy calendar_busy_;
  store::Store& store_;
  Notifier& notifier_;
  std::shared_ptr<RoomEvents> events_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, UserPresence> users_;  // GUARDED_BY(mu_)
};

}  // namespace ruche::matrix
