// The quiet path of /sync (see SyncRoutes::QuietSync in sync_routes.hpp).
//
// A message in a 1,000-member room wakes 1,000 long-polls, and each must answer with the same
// new events plus a few numbers of its own: the unread counts, the next token, the device's key
// counts. The general path builds each answer as a JSON tree from a read transaction — the
// memberships, every section's query or check, the shared events copied into the tree, then
// serialised. Here the events and the senders' member events come already serialised from the
// shared window, every other section is known to be empty from the notifier's per-kind marks,
// and the answer is written straight into one string.
//
// What makes a sync quiet, all checked after reading the position it answers up to (each kind
// is noted before its commit, so nothing up to that position can be missed):
// - no membership event anywhere since `from` (so the user's rooms are the cached ones, no room
//   was joined, left or invited to, no summary or device list moves), no account data, receipt
//   or device-list write since `from`, no presence write of the user or of anyone in one of
//   their rooms, no to-device message queued for the device;
// - a filter that only sets the timeline limit, lazy loading and thread counts (no room, type
//   or sender lists on the timeline or state);
// - every room with new events is shareable (SharedWindows: at most `limit` events, no thread
//   aggregation) and has none sent by this user (whose own events carry a transaction ID).
// Anything else returns nullopt and the general path answers; the integration test
// test_sync_quiet_path.py runs the same scenario with the quiet path off and compares.
#include <algorithm>

#include "matrix/room_routes.hpp"
#include "matrix/sync_routes.hpp"

namespace ruche::matrix {

namespace {

// Appends `text` as a JSON string.
void AppendString(std::string& out, std::string_view text) {
  out += json::serialize(json::string_view(text.data(), text.size()));
}

void AppendCount(std::string& out, const UnreadCount& c) {
  out += "{\"notification_count\":";
  out += std::to_string(c.notifications);
  out += ",\"highlight_count\":";
  out += std::to_string(c.highlights);
  out += '}';
}

}  // namespace

Result<std::optional<std::string>> SyncRoutes::QuietSync(const QuietRequest& req) {
  const SyncFilterSpec& filter = req.filter;
  if (filter.rooms || filter.not_rooms || filter.timeline.RestrictsEvents() ||
      filter.state.RestrictsEvents()) {
    return std::nullopt;
  }
  const int64_t from = req.from;
  // Read first: every write at or below it has noted its kind already (see the file comment).
  const int64_t pos = notifier_.position();
  const uint64_t counts_generation = keys_.CountsGeneration();
  using Kind = Notifier::Kind;
  for (Kind kind : {Kind::kMembership, Kind::kAccountData, Kind::kReceipts, Kind::kDeviceLists}) {
    if (notifier_.WrittenSince(kind, from)) {
      return std::nullopt;
    }
  }
  if (keys_.NewestQueued(req.user, req.device) != 0) {
    return std::nullopt;  // to-device messages to deliver or acknowledge
  }
  RUCHE_ASSIGN_OR_RETURN(auto joined_list, JoinedRooms(req.user));
  const std::vector<std::string>& joined = *joined_list;  // sorted
  // Presence: only that of the user and of people sharing a room with them goes out.
  if (presence_.enabled() && notifier_.WrittenSince(Kind::kPresence, from) &&
      notifier_.PresenceWrittenSince(from, req.user, joined)) {
    return std::nullopt;
  }

  // No read transaction: what is read below is either below `pos` (committed, immutable for
  // this purpose) or counted per (user, room) with its own positions (UnreadCounts).
  auto lease = deps_.store.Read();
  struct Out {
    const std::string* room;
    std::shared_ptr<const RoomWindow> window;  // null: no new events
    const TypingState::RoomTypers* typers = nullptr;
  };
  std::vector<Out> out_rooms;
  if (pos > from) {
    RUCHE_ASSIGN_OR_RETURN(auto window, shared_.Window(lease.conn(), from, pos));
    if (!window) {
      return std::nullopt;
    }
    for (const auto& [room, count] : window->event_counts) {
      auto it = std::lower_bound(joined.begin(), joined.end(), room);
      if (it == joined.end() || *it != room) {
        continue;
      }
      if (count > req.timeline_limit) {
        return std::nullopt;  // limited: prev_batch and trimming are the reader's
      }
      RUCHE_ASSIGN_OR_RETURN(auto shared,
                             shared_.Room(lease.conn(), room, from, pos, req.timeline_limit));
      if (!shared->shareable || shared->senders.contains(req.user) ||
          !shared->member_changes.empty()) {
        return std::nullopt;
      }
      out_rooms.push_back({&*it, std::move(shared)});
    }
  }
  int64_t typing_now = 0;
  auto typing = typing_.ChangedSince(joined, req.since_typing, &typing_now);
  if (filter.ephemeral.AllowsType("m.typing")) {
    for (const auto& entry : typing) {
      const std::string& room = entry.first;  // (not a structured binding: clang 14's lambdas)
      const TypingState::RoomTypers& typers = entry.second;
      auto it = std::find_if(out_rooms.begin(), out_rooms.end(),
                             [&](const Out& o) { return *o.room == room; });
      if (it != out_rooms.end()) {
        it->typers = &typers;
      } else {
        auto j = std::lower_bound(joined.begin(), joined.end(), room);
        out_rooms.push_back({&*j, nullptr, &typers});
      }
    }
  }
  std::sort(out_rooms.begin(), out_rooms.end(),
            [](const Out& a, const Out& b) { return *a.room < *b.room; });
  RUCHE_ASSIGN_OR_RETURN(auto key_counts,
                         keys_.Counts(lease.conn(), req.user, req.device, counts_generation));

  std::string body;
  body.reserve(512 + [&] {
    size_t n = 0;
    for (const auto& o : out_rooms) {
      n += 400 + (o.window ? o.window->events_json.size() + o.window->lazy_members_json.size() : 0);
    }
    return n;
  }());
  body += "{\"next_batch\":";
  AppendString(body, SyncTokenText(SyncToken{pos, typing_now}));
  body += ",\"rooms\":{\"join\":{";
  static const std::vector<std::pair<int64_t, json::object>> kNoEvents;
  bool first_room = true;
  for (const Out& o : out_rooms) {
    RUCHE_ASSIGN_OR_RETURN(auto unread, unread_.Counts(lease.conn(), req.user, *o.room, from, pos,
                                                       o.window ? &o.window->events : &kNoEvents));
    if (!first_room) {
      body += ',';
    }
    first_room = false;
    AppendString(body, *o.room);
    body += ":{\"timeline\":{\"events\":[";
    int64_t prev_batch = pos;
    if (o.window) {
      body += o.window->events_json;
      if (!o.window->events.empty()) {
        prev_batch = o.window->events.front().first - 1;  // just before the first event
      }
    }
    body += "],\"limited\":false,\"prev_batch\":";
    AppendString(body, StreamToken(prev_batch));
    body += "},\"state\":{\"events\":[";
    if (o.window && req.lazy_members) {
      body += o.window->lazy_members_json;
    }
    body += "]},\"ephemeral\":{\"events\":[";
    if (o.typers) {
      body += "{\"type\":\"m.typing\",\"content\":{\"user_ids\":[";
      for (size_t i = 0; i < o.typers->users.size(); ++i) {
        if (i > 0) {
          body += ',';
        }
        AppendString(body, o.typers->users[i]);
      }
      body += "]}}";
    }
    body += "]},\"account_data\":{\"events\":[]},\"unread_notifications\":";
    if (req.thread_counts) {
      AppendCount(body, unread.main);
      body += ",\"unread_thread_notifications\":{";
      bool first_thread = true;
      for (const auto& [root, c] : unread.threads) {
        if (c.notifications <= 0) {
          continue;
        }
        if (!first_thread) {
          body += ',';
        }
        first_thread = false;
        AppendString(body, root);
        body += ':';
        AppendCount(body, c);
      }
      body += '}';
    } else {
      AppendCount(body, unread.Total());
    }
    body += '}';
  }
  body +=
      "},\"invite\":{},\"leave\":{}},\"presence\":{\"events\":[]},\"account_data\":{\"events\":[]},"
      "\"to_device\":{\"events\":[]},\"device_lists\":{\"changed\":[],\"left\":[]},"
      "\"device_one_time_keys_count\":";
  body += json::serialize(key_counts.one_time_keys_count);
  body += ",\"device_unused_fallback_key_types\":";
  body += json::serialize(key_counts.unused_fallback_key_types);
  body += '}';
  quiet_syncs_.fetch_add(1, std::memory_order_relaxed);
  return std::optional<std::string>(std::move(body));
}

}  // namespace ruche::matrix
