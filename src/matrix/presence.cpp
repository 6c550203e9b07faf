#include "matrix/presence.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "matrix/route_helpers.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;

namespace {
// Spec: currently_active is true when the user was active very recently.
constexpr int64_t kCurrentlyActiveMs = 60'000;
}  // namespace

PresenceTracker::PresenceTracker(const core::PresenceConfig& config, store::Store& store,
                                 Notifier& notifier, std::shared_ptr<RoomEvents> events,
                                 CalendarBusy calendar_busy)
    : config_(config),
      calendar_busy_(std::move(calendar_busy)),
      store_(store),
      notifier_(notifier),
      events_(std::move(events)) {}

Result<void> PresenceTracker::Load() {
  auto rows = store_.Read()->Query(
      "SELECT user_id, state, status_msg, last_active_ms, explicit_state, availability "
      "FROM presence");
  if (!rows) {
    return rows.error();
  }
  int64_t now = core::NowMs();
  std::lock_guard lock(mu_);
  for (const auto& row : *rows) {
    UserPresence& p = users_[row.Text(0)];
    p.state = row.Text(1);
    p.status_msg = row.Text(2);
    p.last_active_ms = row.Int(3);
    p.explicit_state = row.Int(4) != 0;
    p.availability = row.Text(5);
    p.last_sync_end_ms = now;  // a grace period to reconnect after a restart
  }
  return {};
}

PresenceTracker::UserPresence& PresenceTracker::Entry(const std::string& user) {
  return users_[user];
}

asio::awaitable<void> PresenceTracker::SyncStarted(const std::string& user,
                                                   std::string_view set_presence) {
  if (!config_.enabled) {
    co_return;
  }
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    UserPresence& p = Entry(user);
    ++p.syncing;
    if (set_presence == "unavailable") {
      if (p.state != "unavailable" && !p.explicit_state) {
        p.state = "unavailable";
        changed = true;
      }
    } else if (set_presence != "offline" && p.state == "offline" && !p.explicit_state) {
      p.state = "online";
      p.last_active_ms = core::NowMs();
      changed = true;
    }
  }
  if (changed) {
    auto r = co_await Persist(user);
    (void)r;  // presence is best effort: the sync itself must not fail for it
  }
}

void PresenceTracker::SyncEnded(const std::string& user) {
  if (!config_.enabled) {
    return;
  }
  std::lock_guard lock(mu_);
  UserPresence& p = Entry(user);
  --p.syncing;
  p.last_sync_end_ms = core::NowMs();
}

asio::awaitable<void> PresenceTracker::Active(const std::string& user) {
  if (!config_.enabled) {
    co_return;
  }
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    UserPresence& p = Entry(user);
    p.last_active_ms = core::NowMs();
    if (p.state != "online" && !p.explicit_state) {
      p.state = "online";
      changed = true;
    }
  }
  if (changed) {
    auto r = co_await Persist(user);
    (void)r;
  }
}

asio::awaitable<Result<void>> PresenceTracker::SetExplicit(const std::string& user,
                                                           ExplicitUpdate update) {
  if (!config_.enabled) {
    co_return Result<void>{};
  }
  {
    std::lock_guard lock(mu_);
    UserPresence& p = Entry(user);
    p.state = std::move(update.state);
    // "online" hands control back to the automatic transitions.
    p.explicit_state = p.state != "online";
    if (update.status_msg) {
      p.status_msg = std::move(*update.status_msg);
    }
    if (update.availability) {
      p.availability = std::move(*update.availability);
    }
    p.last_active_ms = core::NowMs();
  }
  co_return co_await Persist(user);
}

asio::awaitable<void> PresenceTracker::InMeeting(const std::string& user, bool joined) {
  if (!config_.enabled) {
    co_return;
  }
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    UserPresence& p = Entry(user);
    int before = p.meetings;
    p.meetings = std::max(0, p.meetings + (joined ? 1 : -1));
    changed = (before > 0) != (p.meetings > 0);
    if (joined) {
      p.last_active_ms = core::NowMs();
    }
  }
  if (changed) {
    auto r = co_await Persist(user);
    (void)r;  // best effort, like every automatic presence change
  }
}

json::object PresenceTracker::Content(const std::string& user, std::string_view stored_state,
                                      std::string_view stored_status,
                                      int64_t stored_last_active_ms) const {
  std::string state(stored_state), status(stored_status);
  int64_t last_active = stored_last_active_ms;
  int64_t busy_until = 0;
  std::string chosen;  // the user's own availability
  bool in_meeting = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = users_.find(user); it != users_.end()) {
      const UserPresence& p = it->second;
      state = p.state;
      status = p.status_msg;
      last_active = p.last_active_ms;
      chosen = p.availability;
      // An explicit "unavailable" or "offline" is how the user chose to appear: the automatic
      // availabilities stay hidden behind it.
      if (!p.explicit_state) {
        busy_until = p.busy_until_ms;
        in_meeting = p.meetings > 0;
      }
    }
  }
  json::object content{{"presence", state}};
  if (state != "offline") {
    if (!chosen.empty()) {
      content["org.ruche.availability"] = chosen;
      content["org.ruche.availability_source"] = "user";
    } else if (in_meeting) {
      content["org.ruche.availability"] = "in_meeting";
      content["org.ruche.availability_source"] = "meeting";
    } else if (busy_until > core::NowMs()) {
      content["org.ruche.availability"] = "busy";
      content["org.ruche.availability_source"] = "calendar";
      content["org.ruche.busy_until"] = busy_until;
    }
  }
  if (last_active > 0) {
    int64_t ago = std::max<int64_t>(0, core::NowMs() - last_active);
    content["last_active_ago"] = ago;
    content["currently_active"] = state == "online" && ago < kCurrentlyActiveMs;
  }
  if (!status.empty()) {
    content["status_msg"] = status;
  }
  return content;
}

Result<json::object> PresenceTracker::Get(const std::string& user) const {
  {
    std::lock_guard lock(mu_);
    if (users_.find(user) == users_.end()) {
      return json::object{{"presence", "offline"}};
    }
  }
  return Content(user, "offline", "", 0);
}

asio::awaitable<Result<void>> PresenceTracker::Persist(std::string user) {
  auto stream = std::make_shared<int64_t>(0);
  auto rooms = std::make_shared<std::vector<std::string>>();
  // NOTE: the write is a named variable, not a temporary inside co_await (gcc 12 destroys
  // such temporaries twice).
  store::WriteFn write = [this, user, stream, rooms](store::Connection& c) -> Result<void> {
    UserPresence snapshot;
    {
      std::lock_guard lock(mu_);
      snapshot = Entry(user);
    }
    RUCHE_ASSIGN_OR_RETURN(auto next, events_->NextStreamOrdering(c));
    *stream = next;
    notifier_.NoteWrite(Notifier::Kind::kPresence, next);  // before the commit: see Notifier
    RUCHE_RETURN_IF_ERROR(c.Execute(
        "INSERT INTO presence (user_id, state, status_msg, last_active_ms, explicit_state, "
        "availability, stream_ordering) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO "
        "UPDATE SET state = excluded.state, status_msg = excluded.status_msg, last_active_ms = "
        "excluded.last_active_ms, explicit_state = excluded.explicit_state, availability = "
        "excluded.availability, stream_ordering = excluded.stream_ordering",
        {user, snapshot.state, snapshot.status_msg, snapshot.last_active_ms,
         int64_t{snapshot.explicit_state ? 1 : 0}, snapshot.availability, next}));
    RUCHE_ASSIGN_OR_RETURN(
        auto joined,
        c.Query("SELECT room_id FROM memberships WHERE user_id = ? AND membership = 'join'",
                {user}));
    for (const auto& row : joined) {
      rooms->push_back(row.Text(0));
    }
    notifier_.NotePresence(next, user, *rooms);  // before the commit, like NoteWrite
    return {};
  };
  auto r = co_await Commit(store_, std::move(write));
  if (r) {
    std::vector<std::string> users{user};
    notifier_.Publish(*stream, *rooms, users);
  }
  co_return r;
}

asio::awaitable<void> PresenceTracker::Sweep() {
  if (!config_.enabled) {
    co_return;
  }
  std::vector<std::string> changed;
  {
    int64_t now = core::NowMs();
    std::lock_guard lock(mu_);
    for (auto& [user, p] : users_) {
      if (p.state == "offline" || p.explicit_state) {
        continue;
      }
      int64_t last_seen = std::max(p.last_sync_end_ms, p.last_active_ms);
      if (p.syncing <= 0 && now - last_seen >= config_.offline_after_ms) {
        p.state = "offline";
        changed.push_back(user);
      } else if (p.state == "online" && now - p.last_active_ms >= config_.idle_after_ms) {
        p.state = "unavailable";
        changed.push_back(user);
      }
    }
  }
  CheckCalendars(changed);
  for (const auto& user : changed) {
    auto r = co_await Persist(user);
    (void)r;
  }
}

void PresenceTracker::CheckCalendars(std::vector<std::string>& changed) {
  if (!calendar_busy_) {
    return;
  }
  int64_t now = core::NowMs();
  std::vector<std::string> due;
  {
    std::lock_guard lock(mu_);
    for (auto& [user, p] : users_) {
      bool was_busy = p.busy_until_ms > 0;
      if (was_busy && p.busy_until_ms <= now) {
        p.busy_until_ms = 0;  // the event ended
        if (!p.explicit_state && p.state != "offline") {
          changed.push_back(user);
        }
      }
      if (p.state != "offline" && now - p.busy_checked_ms >= config_.calendar_check_ms) {
        p.busy_checked_ms = now;
        due.push_back(user);
      }
    }
  }
  for (const auto& user : due) {
    int64_t until = calendar_busy_(user, now).value_or(0);  // reads the store: outside mu_
    std::lock_guard lock(mu_);
    auto it = users_.find(user);
    if (it == users_.end() || it->second.busy_until_ms == until) {
      continue;
    }
    bool visible = !it->second.explicit_state && (it->second.busy_until_ms > now) != (until > now);
    it->second.busy_until_ms = until;
    if (visible && std::find(changed.begin(), changed.end(), user) == changed.end()) {
      changed.push_back(user);
    }
  }
}

}  // namespace ruche::matrix
