#include "matrix/shared_windows.hpp"

#include <set>

#include "matrix/aggregations.hpp"
#include "matrix/room_events.hpp"

namespace ruche::matrix {

namespace {

constexpr size_t kMaxEntries = 1024;
// The kept events' stored size, all windows together (parsed, they take a few times more).
constexpr size_t kMaxBytes = 8u << 20;
constexpr auto kMaxAge = std::chrono::seconds(5);
// A window over more rooms than this is a sync after a long absence: read it the usual way.
constexpr int64_t kMaxWindowRooms = 200;

std::string Key(char kind, std::string_view room, int64_t from, int64_t pos, int64_t limit) {
  std::string key(1, kind);
  key += std::to_string(from);
  key += '|';
  key += std::to_string(pos);
  key += '|';
  key += std::to_string(limit);
  key += '|';
  key += room;
  return key;
}

}  // namespace

std::shared_ptr<const void> SharedWindows::Find(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || Clock::now() - it->second.made > kMaxAge) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  return it->second.value;
}

void SharedWindows::Keep(const std::string& key, std::shared_ptr<const void> value, size_t bytes) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    bytes_ -= it->second.bytes;  // the same window read twice at once: the newer one stays
    it->second = Entry{Clock::now(), std::move(value), bytes};
  } else {
    entries_.emplace(key, Entry{Clock::now(), std::move(value), bytes});
    order_.push_back(key);
  }
  bytes_ += bytes;
  while (!order_.empty() && (order_.size() > kMaxEntries || bytes_ > kMaxBytes)) {
    if (auto it = entries_.find(order_.front()); it != entries_.end()) {
      bytes_ -= it->second.bytes;
      entries_.erase(it);
    }
    order_.pop_front();
  }
}

SharedWindows::Stats SharedWindows::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Result<std::shared_ptr<const StreamWindow>> SharedWindows::Window(store::Connection& conn,
                                                                  int64_t from, int64_t pos) {
  const std::string key = Key('w', "", from, pos, 0);
  if (auto found = Find(key)) {
    return std::static_pointer_cast<const StreamWindow>(found);
  }
  RUCHE_ASSIGN_OR_RETURN(
      auto rows, conn.Query("SELECT room_id, COUNT(*) FROM events WHERE stream_ordering > ? AND "
                            "stream_ordering <= ? GROUP BY room_id LIMIT ?",
                            {from, pos, kMaxWindowRooms + 1}));
  if (static_cast<int64_t>(rows.size()) > kMaxWindowRooms) {
    return std::shared_ptr<const StreamWindow>();
  }
  auto window = std::make_shared<StreamWindow>();
  for (const auto& row : rows) {
    window->event_counts.emplace(row.Text(0), row.Int(1));
  }
  Keep(key, window, 64 * window->event_counts.size());
  return std::shared_ptr<const StreamWindow>(std::move(window));
}

Result<std::shared_ptr<const RoomWindow>> SharedWindows::Room(store::Connection& conn,
                                                              const std::string& room, int64_t from,
                                                              int64_t pos, int64_t limit) {
  const std::string key = Key('r', room, from, pos, limit);
  if (auto found = Find(key)) {
    return std::static_pointer_cast<const RoomWindow>(found);
  }
  auto window = std::make_shared<RoomWindow>();
  RUCHE_ASSIGN_OR_RETURN(
      auto rows,
      conn.Query("SELECT stream_ordering, json FROM events WHERE room_id = ? AND stream_ordering "
                 "> ? AND stream_ordering <= ? ORDER BY stream_ordering LIMIT ?",
                 {room, from, pos, limit + 1}));
  if (static_cast<int64_t>(rows.size()) > limit) {
    window->shareable = false;  // a limited timeline: its prev_batch and trimming are the reader's
  }
  std::set<std::string>& senders = window->senders;
  size_t bytes = 0;  // the stored size of what is kept, for the cache's bound
  for (const auto& row : rows) {
    if (!window->shareable) {
      break;
    }
    auto ev = ParseStoredEvent(row.Text(1));
    if (!ev) {
      continue;
    }
    if (ev->at("type").as_string() == "m.room.member") {
      const json::value* m = ev->at("content").as_object().if_contains("membership");
      if (m && m->is_string() && ev->contains("state_key")) {
        window->member_changes.push_back(
            {room, std::string(ev->at("state_key").as_string()), std::string(m->get_string())});
      }
    }
    senders.insert(std::string(ev->at("sender").as_string()));
    bytes += row.Text(1).size();
    window->events.emplace_back(row.Int(0), std::move(*ev));
  }
  if (window->shareable) {
    std::vector<json::object*> events;
    for (auto& [stream, ev] : window->events) {
      events.push_back(&ev);
    }
    // As no one in particular reads them: no transaction IDs, no thread participation.
    RUCHE_RETURN_IF_ERROR(AddAggregations(conn, events, "", ""));
    for (const auto& [stream, ev] : window->events) {
      const json::value* relations = nullptr;
      if (const json::value* u = ev.if_contains("unsigned"); u && u->is_object()) {
        relations = u->as_object().if_contains("m.relations");
      }
      if (relations && relations->is_object() && relations->as_object().contains("m.thread")) {
        window->shareable = false;  // current_user_participated is the reader's
      }
    }
    for (const auto& sender : senders) {
      RUCHE_ASSIGN_OR_RETURN(auto member, CurrentMemberEventJson(conn, room, sender));
      if (member) {
        if (auto ev = ParseStoredEvent(*member)) {
          bytes += member->size();
          window->sender_members.emplace(sender, std::move(*ev));
        }
      }
    }
  }
  if (!window->shareable) {
    window->events.clear();
    window->sender_members.clear();
    window->member_changes.clear();
    window->senders.clear();
  } else {
    auto id_of = [](const json::object& ev) {
      const json::string& id = ev.at("event_id").as_string();
      return std::string_view(id.data(), id.size());
    };
    std::set<std::string_view> ids;
    for (const auto& [stream, ev] : window->events) {
      if (!window->events_json.empty()) {
        window->events_json += ',';
      }
      window->events_json += json::serialize(ev);
      ids.insert(id_of(ev));
    }
    for (const auto& [sender, ev] : window->sender_members) {
      if (ids.contains(id_of(ev))) {
        continue;  // in the timeline already
      }
      if (!window->lazy_members_json.empty()) {
        window->lazy_members_json += ',';
      }
      window->lazy_members_json += json::serialize(ev);
    }
    bytes += window->events_json.size() + window->lazy_members_json.size();
  }
  Keep(key, window, window->shareable ? bytes : 0);
  return std::shared_ptr<const RoomWindow>(std::move(window));
}

}  // namespace ruche::matrix
