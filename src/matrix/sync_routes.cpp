#include "matrix/sync_routes.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "matrix/aggregations.hpp"
#include "matrix/device_keys.hpp"
#include "matrix/event_filter.hpp"
#include "matrix/push_rules.hpp"
#include "matrix/room_events.hpp"
#include "matrix/room_routes.hpp"
#include "matrix/route_helpers.hpp"
#include "matrix/to_device_routes.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;

// What /sync reads from the request's filter.
struct SyncFilter {
  static constexpr int64_t kDefaultTimelineLimit = 10;
  SyncFilterSpec spec;  // the whole filter (event_filter.hpp)
  int64_t timeline_limit = kDefaultTimelineLimit;
  bool lazy_load_members = false;  // room.state.lazy_load_members
  // room.timeline.unread_thread_notifications: thread counts apart from the main timeline's
  bool thread_counts = false;
};

namespace {

constexpr int64_t kMaxTimelineLimit = 500;
constexpr int64_t kMaxTimeoutMs = 60'000;
constexpr size_t kMaxJoinedCache = 100'000;
// Parsed filters kept (every client sends the same one with each sync), and the longest kept.
constexpr size_t kMaxCachedFilters = 4096;
constexpr size_t kMaxCachedFilterBytes = 2048;
// A long-poll prepares its wake-up (PrepareForWake) for at most this many rooms.
constexpr size_t kMaxPreparedRooms = 50;
// At most this many people met in one response get their presence sent unasked (big rooms).
constexpr size_t kMaxNewcomerPresence = 500;

// The state types an invitee sees before joining (spec "Stripped state").
bool IsStrippedType(std::string_view type) {
  return type == "m.room.create" || type == "m.room.join_rules" || type == "m.room.name" ||
         type == "m.room.avatar" || type == "m.room.canonical_alias" ||
         type == "m.room.encryption" || type == "m.room.topic";
}

// The `filter` parameter of a /sync: inline JSON, or the ID of one the user stored.
Result<SyncFilter> ReadSyncFilter(std::string text, store::Store& store,
                                  const std::string& localpart) {
  SyncFilter out;
  std::optional<std::string> filter(std::move(text));
  if (filter->front() != '{') {
    int64_t id = -1;
    auto [ptr, ec] = std::from_chars(filter->data(), filter->data() + filter->size(), id);
    if (ec != std::errc() || ptr != filter->data() + filter->size()) {
      return core::Error::BadRequest("Invalid filter", "M_INVALID_PARAM");
    }
    auto row = store.Read()->QueryOne(
        "SELECT json FROM filters WHERE localpart = ? AND filter_id = ?", {localpart, id});
    if (!row) {
      return row.error();
    }
    if (!*row) {
      return core::Error::NotFound("No such filter");
    }
    *filter = (*row)->Text(0);
  }
  auto obj = core::ParseJsonObject(*filter);
  if (!obj) {
    return core::Error::BadRequest("Invalid filter", "M_INVALID_PARAM");
  }
  RUCHE_ASSIGN_OR_RETURN(out.spec, ParseSyncFilter(*obj));
  if (out.spec.timeline.limit) {
    out.timeline_limit = std::min(*out.spec.timeline.limit, kMaxTimelineLimit);
  }
  out.lazy_load_members = out.spec.state.lazy_load_members;
  out.thread_counts = out.spec.timeline.unread_thread_notifications;
  return out;
}

// Counts and heroes of the rooms (spec "room summary"), in one query each.
struct MemberSummary {
  int64_t joined = 0;
  int64_t invited = 0;
  std::vector<std::string> heroes;
};
Result<std::map<std::string, MemberSummary>> Summaries(store::Connection& conn,
                                                       const std::vector<std::string>& rooms,
                                                       const std::string& user) {
  std::map<std::string, MemberSummary> out;
  if (rooms.empty()) {
    return out;
  }
  const std::string in = "(" + store::Placeholders(rooms.size()) + ")";
  std::vector<store::Value> params(rooms.begin(), rooms.end());
  RUCHE_ASSIGN_OR_RETURN(
      auto counts,
      conn.Query("SELECT room_id, membership, COUNT(*) FROM memberships WHERE room_id IN " + in +
                     " AND membership IN ('join', 'invite') GROUP BY room_id, membership",
                 std::span<const store::Value>(params)));
  for (const auto& row : counts) {
    MemberSummary& s = out[row.Text(0)];
    (row.Text(1) == "join" ? s.joined : s.invited) = row.Int(2);
  }
  params.emplace_back(user);
  RUCHE_ASSIGN_OR_RETURN(
      auto heroes,
      conn.Query("SELECT room_id, user_id FROM (SELECT room_id, user_id, ROW_NUMBER() OVER "
                 "(PARTITION BY room_id ORDER BY stream_ordering) AS rn FROM memberships WHERE "
                 "room_id IN " +
                     in +
                     " AND user_id != ? AND membership IN ('join', 'invite')) AS t "
                     "WHERE rn <= 5",
                 std::span<const store::Value>(params)));
  for (const auto& row : heroes) {
    out[row.Text(0)].heroes.push_back(row.Text(1));
  }
  return out;
}

}  // namespace

Result<Notifier::RoomList> SyncRoutes::JoinedRooms(const std::string& user, bool* read_now) {
  if (read_now) {
    *read_now = false;
  }
  {
    std::lock_guard lock(joined_mu_);
    if (auto it = joined_cache_.find(user);
        it != joined_cache_.end() &&
        !notifier_.WrittenSince(Notifier::Kind::kMembership, it->second.read_at)) {
      return it->second.rooms;
    }
  }
  // Every membership event up to this position is committed (it is published) and was noted
  // before its commit: the rooms read below stay right until a membership is noted past it.
  const int64_t read_at = notifier_.position();
  RUCHE_ASSIGN_OR_RETURN(
      auto rows, deps_.store.Read()->Query("SELECT room_id FROM memberships WHERE user_id = ? AND "
                                           "membership = 'join'",
                                           {user}));
  auto rooms = std::make_shared<std::vector<std::string>>();
  rooms->reserve(rows.size());
  for (const auto& row : rows) {
    rooms->push_back(row.Text(0));
  }
  std::sort(rooms->begin(), rooms->end());  // the quiet path looks rooms up by halving
  std::lock_guard lock(joined_mu_);
  if (joined_cache_.size() >= kMaxJoinedCache) {
    joined_cache_.clear();  // bounded; refilled by the next polls
  }
  Notifier::RoomList list = std::move(rooms);
  joined_cache_[user] = CachedRooms{list, read_at};
  if (read_now) {
    *read_now = true;
  }
  return list;
}

void SyncRoutes::PrepareForWake(const std::string& user, const std::string& device,
                                const std::vector<std::string>& rooms, int64_t since) {
  if (rooms.size() > kMaxPreparedRooms || since > notifier_.position()) {
    return;  // a token from the future is the general path's to answer
  }
  std::optional<store::Store::ReadLease> lease;
  auto conn = [&]() -> store::Connection& {
    if (!lease) {
      lease.emplace(deps_.store.Read());
    }
    return lease->conn();
  };
  static const std::vector<std::pair<int64_t, json::object>> kNoEvents;
  for (const auto& room : rooms) {
    if (!unread_.Known(user, room)) {
      (void)unread_.Counts(conn(), user, room, since, since, &kNoEvents);
    }
  }
  if (!keys_.CountsKnown(user, device)) {
    (void)keys_.Counts(conn(), user, device, keys_.CountsGeneration());
  }
}

Result<std::shared_ptr<const SyncFilter>> SyncRoutes::Filter(const Request& req,
                                                             const std::string& localpart) {
  static const auto kNoFilter = std::make_shared<const SyncFilter>();
  auto text = req.QueryParam("filter");
  if (!text || text->empty()) {
    return kNoFilter;
  }
  // Stored filters never change (the spec has no way to edit one): by owner and ID.
  std::string key = text->front() == '{' ? *text : localpart + '\n' + *text;
  const bool keep = key.size() <= kMaxCachedFilterBytes;
  if (keep) {
    std::lock_guard lock(filters_mu_);
    if (auto it = filters_.find(key); it != filters_.end()) {
      return it->second;
    }
  }
  RUCHE_ASSIGN_OR_RETURN(auto parsed, ReadSyncFilter(std::move(*text), deps_.store, localpart));
  auto filter = std::make_shared<const SyncFilter>(std::move(parsed));
  if (keep) {
    std::lock_guard lock(filters_mu_);
    if (filters_.size() >= kMaxCachedFilters) {
      filters_.clear();  // bounded; refilled by the next syncs
    }
    filters_.emplace(std::move(key), filter);
  }
  return filter;
}

Result<void> SyncRoutes::AcknowledgeToDevice(store::Connection& conn, const std::string& user,
                                             const std::string& device, int64_t since) {
  RUCHE_ASSIGN_OR_RETURN(
      auto acked, conn.QueryOne("SELECT MAX(stream_ordering) FROM to_device WHERE user_id = ? AND "
                                "device_id = ? AND stream_ordering <= ?",
                                {user, device, since}));
  if (!acked || acked->IsNull(0)) {
    return {};
  }
  // Not awaited: delivery reads only what is newer than the token, so the sync need not wait
  // for the delete; a crash before it commits only delays it to the next acknowledgement.
  int64_t newest = acked->Int(0);
  keys_.Acknowledged(user, device, since);
  deps_.store.Write(
      [user, device, newest](store::Connection& c) -> Result<void> {
        RUCHE_RETURN_IF_ERROR(c.Execute(
            "DELETE FROM to_device WHERE user_id = ? AND device_id = ? AND stream_ordering <= ?",
            {user, device, newest}));
        // The deleted positions may have been the newest handed out: remember them so that a
        // restart never hands them out again (see migration 10).
        RUCHE_RETURN_IF_ERROR(
            c.Execute("UPDATE stream_high_water SET stream_ordering = ? WHERE id = 1 AND "
                      "stream_ordering < ?",
                      {newest, newest}));
        return {};
      },
      [](Result<void>) {});
  return {};
}

Result<bool> SyncRoutes::SharedTimelines(
    store::Connection& conn, const std::string& user, const std::map<std::string, bool>& joined,
    int64_t from, int64_t pos, int64_t limit, std::map<std::string, RoomTimeline>& timelines,
    std::vector<MemberChange>& member_changes,
    std::map<std::string, std::map<std::string, json::object>>& members) {
  RUCHE_ASSIGN_OR_RETURN(auto window, shared_.Window(conn, from, pos));
  if (!window) {
    return false;
  }
  for (const auto& [room, count] : window->event_counts) {
    if (!joined.contains(room)) {
      continue;
    }
    if (count > limit) {
      return false;
    }
    RUCHE_ASSIGN_OR_RETURN(auto shared, shared_.Room(conn, room, from, pos, limit));
    if (!shared->shareable) {
      return false;
    }
    for (const auto& [stream, ev] : shared->events) {
      if (ev.at("sender").as_string() == user) {
        return false;  // the sender's own device gets its transaction ID: read it the usual way
      }
    }
    RoomTimeline& timeline = timelines[room];
    timeline.events.assign(shared->events.begin(), shared->events.end());
    member_changes.insert(member_changes.end(), shared->member_changes.begin(),
                          shared->member_changes.end());
    members[room].insert(shared->sender_members.begin(), shared->sender_members.end());
  }
  return true;
}

SyncRoutes::SyncRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier,
                       TypingState& typing, PresenceTracker& presence, DeviceKeys& keys)
    : deps_(deps),
      notifier_(notifier),
      typing_(typing),
      presence_(presence),
      keys_(keys),
      unread_(&notifier) {
  AddClientRoute(router, "GET", "/sync", [this](Request& r) { return Sync(r); });
}

asio::awaitable<Response> SyncRoutes::Sync(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Response::FromError(session.error());
  }
  const std::string& user = session->user_id;
  std::optional<int64_t> since;
  int64_t since_typing = 0;
  if (auto s = req.QueryParam("since")) {
    auto parsed = ParseSyncToken(*s);
    if (!parsed) {
      co_return Response::FromError(parsed.error());
    }
    since = parsed->stream;
    since_typing = parsed->typing;
  }
  std::string set_presence(req.QueryParam("set_presence").value_or("online"));
  if (set_presence != "online" && set_presence != "offline" && set_presence != "unavailable") {
    co_return Response::FromError(core::Error::BadRequest(
        "set_presence must be one of online, offline, unavailable", "M_INVALID_PARAM"));
  }
  int64_t timeout = 0;
  if (auto t = req.QueryParam("timeout")) {
    auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), timeout);
    if (ec != std::errc() || timeout < 0) {
      co_return Response::FromError(core::Error::BadRequest("Invalid timeout", "M_INVALID_PARAM"));
    }
    timeout = std::min(timeout, kMaxTimeoutMs);
  }
  bool full_state = req.QueryParam("full_state").value_or("false") == "true";
  auto parsed_filter = Filter(req, session->localpart);
  if (!parsed_filter) {
    co_return Response::FromError(parsed_filter.error());
  }
  const SyncFilter* sync_filter = parsed_filter->get();
  const int64_t* limit = &sync_filter->timeline_limit;
  const bool lazy_members = sync_filter->lazy_load_members;
  const SyncFilterSpec& filter = sync_filter->spec;

  // While a sync is open its user counts as connected (presence); the guard ends it on every
  // return path.
  co_await presence_.SyncStarted(user, set_presence);
  struct SyncingGuard {
    PresenceTracker& presence;
    const std::string& user;
    ~SyncingGuard() { presence.SyncEnded(user); }
  } syncing_guard{presence_, user};

  if (since && timeout > 0 && !full_state) {
    bool rooms_read = false;
    auto rooms = JoinedRooms(user, &rooms_read);
    if (!rooms) {
      co_return Response::FromError(rooms.error());
    }
    if (rooms_read) {  // else this user polled since their rooms last changed: state is warm
      PrepareForWake(user, session->device_id, **rooms, *since);
    }
    co_await notifier_.Wait(std::move(*rooms), user, *since, since_typing, timeout);
  }
  if (since && !full_state && deps_.config.limits.sync_quiet_path) {
    auto quiet = QuietSync(QuietRequest{user, session->device_id, *since, since_typing, filter,
                                        *limit, lazy_members, sync_filter->thread_counts});
    if (!quiet) {
      co_return Response::FromError(quiet.error());
    }
    if (*quiet) {
      co_return Response::Text(200, std::move(**quiet), "application/json");
    }
  }

  // Everything below reads up to `pos`, the newest committed position, so the next sync starts
  // exactly where this one ends.
  int64_t pos = notifier_.position();
  const uint64_t counts_generation = keys_.CountsGeneration();  // before the snapshot begins
  int64_t from = since.value_or(0);
  bool initial = !since || full_state;
  auto lease = deps_.store.Read();
  // One read transaction for the whole response: one consistent snapshot, and one WAL read
  // lock instead of one per query.
  struct Snapshot {
    store::Connection& conn;
    bool open;
    ~Snapshot() {
      if (open) {
        (void)conn.Execute("COMMIT");
      }
    }
  } snapshot{lease.conn(), static_cast<bool>(lease->Execute("BEGIN"))};

  // To-device messages first: when more are queued than one response carries, the whole
  // response stops at the last one delivered, so the next sync continues from there.
  json::array to_device_events;
  const int64_t newest_queued = keys_.NewestQueued(user, session->device_id);
  if (newest_queued > from) {
    auto rows = lease->Query(
        "SELECT stream_ordering, sender, type, content FROM to_device WHERE user_id = ? AND "
        "device_id = ? AND stream_ordering > ? AND stream_ordering <= ? ORDER BY "
        "stream_ordering LIMIT ?",
        {user, session->device_id, from, pos, kMaxToDevicePerSync + 1});
    if (!rows) {
      co_return Response::FromError(rows.error());
    }
    if (static_cast<int64_t>(rows->size()) > kMaxToDevicePerSync) {
      rows->resize(kMaxToDevicePerSync);
      pos = rows->back().Int(0);
    }
    for (const auto& row : *rows) {
      boost::system::error_code ec;
      json::value content = json::parse(row.Text(3), ec);
      if (!ec) {
        to_device_events.emplace_back(json::object{
            {"sender", row.Text(1)}, {"type", row.Text(2)}, {"content", std::move(content)}});
      }
    }
  }
  if (since && newest_queued != 0) {
    if (auto acked = AcknowledgeToDevice(lease.conn(), user, session->device_id, *since); !acked) {
      co_return Response::FromError(acked.error());
    }
  }

  auto memberships = lease->Query(
      "SELECT room_id, membership, stream_ordering FROM memberships WHERE user_id = ? AND "
      "stream_ordering <= ?",
      {user, pos});
  if (!memberships) {
    co_return Response::FromError(memberships.error());
  }
  std::map<std::string, bool> joined;  // room -> needs full state (initial or joined since)
  std::vector<std::string> invited, left;
  for (const auto& row : *memberships) {
    const std::string& m = row.Text(1);
    bool changed = row.Int(2) > from;
    if (m == "join") {
      joined[row.Text(0)] = initial || changed;
    } else if (m == "invite" && (initial || changed)) {
      invited.push_back(row.Text(0));
    } else if ((m == "leave" || m == "ban") && !initial && changed) {
      left.push_back(row.Text(0));
    }
  }
  // The filter's room.rooms / room.not_rooms: the other rooms are left out of every section.
  // Their membership changes still count for device_lists (read apart below).
  const size_t rooms_before = joined.size() + invited.size() + left.size();
  std::erase_if(joined, [&](const auto& j) { return !filter.AllowsRoom(j.first); });
  std::erase_if(invited, [&](const std::string& r) { return !filter.AllowsRoom(r); });
  std::erase_if(left, [&](const std::string& r) { return !filter.AllowsRoom(r); });
  const bool rooms_left_out = joined.size() + invited.size() + left.size() != rooms_before;
  // With a timeline filter, each room's whole window as read, for the unread counts (which
  // must see the events the filter hides).
  const bool timeline_filtered = filter.timeline.RestrictsEvents();
  std::map<std::string, std::vector<std::pair<int64_t, json::object>>> count_windows;

  // Timelines: one query for every joined room.
  std::map<std::string, RoomTimeline> timelines;
  std::vector<MemberChange> member_changes;  // of the window (incremental syncs)
  std::map<std::string, std::map<std::string, json::object>> lazy_members_by_room;
  // When the user's rooms did not change, the window's new events come from what every
  // member's sync shares (shared_windows.hpp); else, or when a window is not shareable, from
  // the query below.
  bool shared = false;
  const int64_t max_window = deps_.config.limits.sync_window_events;
  bool window_cut = false;  // the window held more than max_window events
  if (!initial && invited.empty() && left.empty() &&
      std::none_of(joined.begin(), joined.end(), [](const auto& j) { return j.second; })) {
    auto got = SharedTimelines(lease.conn(), user, joined, from, pos, *limit, timelines,
                               member_changes, lazy_members_by_room);
    if (!got) {
      co_return Response::FromError(got.error());
    }
    shared = *got;
    if (!shared) {
      timelines.clear();
      member_changes.clear();
      lazy_members_by_room.clear();
    } else if (timeline_filtered) {
      for (auto& [room, tl] : timelines) {
        count_windows[room] = tl.events;
        std::erase_if(tl.events, [&](const auto& e) { return !filter.timeline.Allows(e.second); });
      }
    }
  }
  if (!shared && (!joined.empty() || !left.empty())) {
    Result<store::Rows> rows = store::Rows{};
    if (initial) {
      rows = lease->Query(
          "SELECT room_id, stream_ordering, json FROM (SELECT room_id, stream_ordering, json, "
          "ROW_NUMBER() OVER (PARTITION BY room_id ORDER BY stream_ordering DESC) AS rn "
          "FROM events WHERE stream_ordering <= ? AND room_id IN (SELECT room_id FROM memberships "
          "WHERE user_id = ? AND membership = 'join')) AS t WHERE rn <= ? "
          "ORDER BY stream_ordering",
          {pos, user, *limit + 1});
    } else {
      // Rooms left since: only up to the leave (or ban) itself, never what came after.
      rows = lease->Query(
          "SELECT e.room_id, e.stream_ordering, e.json FROM events e JOIN memberships m "
          "ON m.room_id = e.room_id AND m.user_id = ? WHERE e.stream_ordering > ? AND "
          "e.stream_ordering <= ? AND (m.membership = 'join' OR (m.membership IN ('leave', 'ban') "
          "AND e.stream_ordering <= m.stream_ordering)) ORDER BY e.stream_ordering LIMIT ?",
          {user, from, pos, max_window});
      if (rows && static_cast<int64_t>(rows->size()) >= max_window) {
        // More events than one read takes: each room's newest instead (the busy ones come out
        // limited, with a prev_batch), so no room's later events are skipped.
        window_cut = true;
        rows = lease->Query(
            "SELECT room_id, stream_ordering, json FROM (SELECT e.room_id, e.stream_ordering, "
            "e.json, ROW_NUMBER() OVER (PARTITION BY e.room_id ORDER BY e.stream_ordering DESC) "
            "AS rn FROM events e JOIN memberships m ON m.room_id = e.room_id AND m.user_id = ? "
            "WHERE e.stream_ordering > ? AND e.stream_ordering <= ? AND (m.membership = 'join' "
            "OR (m.membership IN ('leave', 'ban') AND e.stream_ordering <= m.stream_ordering))) "
            "AS t WHERE rn <= ? ORDER BY stream_ordering",
            {user, from, pos, *limit + 1});
      }
    }
    if (!rows) {
      co_return Response::FromError(rows.error());
    }
    for (const auto& row : *rows) {
      if (!filter.AllowsRoom(row.Text(0))) {
        continue;
      }
      auto ev = ParseStoredEvent(row.Text(2));
      if (!ev) {
        continue;
      }
      if (!initial && ev->at("type").as_string() == "m.room.member") {
        // (A window cut at max_window reads the window's membership changes apart, below.)
        const json::value* m = ev->at("content").as_object().if_contains("membership");
        if (m && m->is_string() && ev->contains("state_key")) {
          member_changes.push_back({row.Text(0), std::string(ev->at("state_key").as_string()),
                                    std::string(m->get_string())});
        }
      }
      if (timeline_filtered) {
        count_windows[row.Text(0)].emplace_back(row.Int(1), *ev);
        if (!filter.timeline.Allows(*ev)) {
          continue;
        }
      }
      timelines[row.Text(0)].events.emplace_back(row.Int(1), std::move(*ev));
    }
    std::vector<json::object*> to_aggregate;
    for (auto& [room, tl] : timelines) {
      if (static_cast<int64_t>(tl.events.size()) > *limit) {
        tl.limited = true;
        tl.events.erase(tl.events.begin(), tl.events.end() - *limit);
      }
      for (auto& [stream, ev] : tl.events) {
        to_aggregate.push_back(&ev);
      }
    }
    if (auto agg = AddAggregations(lease.conn(), to_aggregate, user, session->device_id); !agg) {
      co_return Response::FromError(agg.error());
    }
  }

  // Current state of the rooms that need it, in one query.
  std::map<std::string, std::vector<json::object>> states;
  std::vector<std::string> need_state;
  for (const auto& [room, full] : joined) {
    if (full) {
      need_state.push_back(room);
    }
  }
  for (const auto& room : invited) {
    need_state.push_back(room);
  }
  if (!need_state.empty()) {
    // Only the rooms that need it (new joins, invites): not the state of every room.
    std::string sql =
        "SELECT s.room_id, e.stream_ordering, e.json FROM room_state s "
        "JOIN events e ON e.event_id = s.event_id WHERE e.stream_ordering <= ? AND s.room_id IN (" +
        store::Placeholders(need_state.size()) + ")";
    std::vector<store::Value> params{pos};
    params.insert(params.end(), need_state.begin(), need_state.end());
    auto rows = lease->Query(sql, std::span<const store::Value>(params));
    if (!rows) {
      co_return Response::FromError(rows.error());
    }
    for (const auto& row : *rows) {
      auto ev = ParseStoredEvent(row.Text(2));
      if (ev) {
        states[row.Text(0)].push_back(std::move(*ev));
      }
    }
  }

  // Account data changed in the window: global, and per room for joined rooms.
  json::array global_account_data;
  std::map<std::string, json::array> room_account_data;
  if (initial || notifier_.WrittenSince(Notifier::Kind::kAccountData, from)) {
    auto rows = lease->Query(
        "SELECT room_id, type, json FROM account_data WHERE user_id = ? AND stream_ordering > ? "
        "AND stream_ordering <= ?",
        {user, initial ? int64_t{0} : from, pos});
    if (!rows) {
      co_return Response::FromError(rows.error());
    }
    for (const auto& row : *rows) {
      boost::system::error_code ec;
      json::value content = json::parse(row.Text(2), ec);
      if (ec) {
        continue;
      }
      json::object item{{"type", row.Text(1)}, {"content", std::move(content)}};
      if (row.Text(0).empty() && row.Text(1) == "m.push_rules") {
        unread_.RulesChanged(user);
      }
      const EventFilter& section =
          row.Text(0).empty() ? filter.account_data : filter.room_account_data;
      if (!section.AllowsType(row.Text(1))) {
        continue;
      }
      if (row.Text(0).empty()) {
        global_account_data.emplace_back(std::move(item));
      } else if (joined.count(row.Text(0))) {
        room_account_data[row.Text(0)].emplace_back(std::move(item));
      }
    }
  }

  if (initial) {
    // Clients (Element) read push rules from account data: until the user edits them, they are
    // the spec's defaults, which are not stored.
    bool stored = false;
    for (const auto& item : global_account_data) {
      stored = stored || item.at("type").as_string() == "m.push_rules";
    }
    if (!stored && filter.account_data.AllowsType("m.push_rules")) {
      global_account_data.emplace_back(json::object{
          {"type", "m.push_rules"}, {"content", DefaultPushRules(user, session->localpart)}});
    }
  }

  // Receipts changed in the window, for joined rooms; private ones only to their owner.
  std::map<std::string, json::object> receipts_by_room;  // room -> m.receipt content
  if (initial || notifier_.WrittenSince(Notifier::Kind::kReceipts, from)) {
    auto rows = lease->Query(
        "SELECT r.room_id, r.user_id, r.receipt_type, r.thread_id, r.event_id, r.ts, "
        "r.stream_ordering FROM receipts r JOIN memberships m ON m.room_id = r.room_id AND "
        "m.user_id = ? "
        "AND m.membership = 'join' WHERE r.stream_ordering > ? AND r.stream_ordering <= ?",
        {user, initial ? int64_t{0} : from, pos});
    if (!rows) {
      co_return Response::FromError(rows.error());
    }
    for (const auto& row : *rows) {
      const std::string& type = row.Text(2);
      if (type == "m.read.private" && row.Text(1) != user) {
        continue;
      }
      if (row.Text(1) == user) {
        unread_.ReadMoved(user, row.Text(0), row.Int(6));
      }
      json::object receipt{{"ts", row.Int(5)}};
      if (!row.Text(3).empty()) {
        receipt["thread_id"] = row.Text(3);
      }
      json::object& content = receipts_by_room[row.Text(0)];
      json::value& by_event = content[row.Text(4)];
      if (!by_event.is_object()) {
        by_event = json::object{};
      }
      json::value& by_type = by_event.as_object()[type];
      if (!by_type.is_object()) {
        by_type = json::object{};
      }
      by_type.as_object()[row.Text(1)] = std::move(receipt);
    }
  }

  // Lazy-loaded members (spec "Lazy-loading room members"): the state carries only the member
  // events of the timeline's senders (and the user's own on a full sync), and every room sent
  // gets its summary so clients can name rooms without the full member list.
  std::map<std::string, MemberSummary> summaries;
  if (!lazy_members) {
    lazy_members_by_room.clear();  // the shared windows bring them: only for lazy loading
  }
  if (lazy_members) {
    std::vector<std::string> rooms_in_response;
    for (const auto& [room, full] : joined) {
      auto it = timelines.find(room);
      if (full || (it != timelines.end() && !it->second.events.empty())) {
        rooms_in_response.push_back(room);
      }
    }
    for (const auto& room : rooms_in_response) {
      if (shared) {
        break;  // the senders' member events came with the shared windows
      }
      std::set<std::string> senders;
      if (auto it = timelines.find(room); it != timelines.end()) {
        for (const auto& [stream, ev] : it->second.events) {
          senders.insert(std::string(ev.at("sender").as_string()));
        }
      }
      if (joined[room]) {
        senders.insert(user);
      }
      if (senders.empty()) {
        continue;
      }
      // One point lookup per sender (usually one or two): cheaper than an IN list.
      for (const auto& sender : senders) {
        auto member = CurrentMemberEventJson(lease.conn(), room, sender);
        if (!member) {
          co_return Response::FromError(member.error());
        }
        if (*member) {
          auto ev = ParseStoredEvent(**member);
          if (ev) {
            lazy_members_by_room[room][sender] = std::move(*ev);
          }
        }
      }
    }
    // The summary only when it may have changed: a full room, or members came and went in the
    // timeline. Counting a 1,000-member room for every message would cost more than the message.
    std::vector<std::string> need_summary;
    for (const auto& room : rooms_in_response) {
      bool membership_changed = false;
      if (auto it = timelines.find(room); it != timelines.end()) {
        for (const auto& [stream, ev] : it->second.events) {
          membership_changed = membership_changed || ev.at("type").as_string() == "m.room.member";
        }
      }
      if (joined[room] || membership_changed) {
        need_summary.push_back(room);
      }
    }
    auto got = Summaries(lease.conn(), need_summary, user);
    if (!got) {
      co_return Response::FromError(got.error());
    }
    summaries = std::move(*got);
  }

  // Typing: the rooms whose typers changed since the token's typing serial.
  int64_t typing_now = 0;
  std::map<std::string, TypingState::RoomTypers> typing_by_room;
  {
    std::vector<std::string> joined_ids;
    joined_ids.reserve(joined.size());
    for (const auto& [room, full] : joined) {
      joined_ids.push_back(room);
    }
    typing_by_room = typing_.ChangedSince(joined_ids, initial ? 0 : since_typing, &typing_now);
  }

  // Presence changed in the window, of the user and of everyone sharing a joined room with them.
  json::array presence_events;
  if (presence_.enabled() && (initial || notifier_.WrittenSince(Notifier::Kind::kPresence, from))) {
    auto rows = lease->Query(
        "SELECT user_id, state, status_msg, last_active_ms FROM presence WHERE "
        "stream_ordering > ? AND stream_ordering <= ? AND (user_id = ? OR user_id IN ("
        "SELECT b.user_id FROM memberships a JOIN memberships b ON b.room_id = a.room_id AND "
        "b.membership = 'join' WHERE a.user_id = ? AND a.membership = 'join'))",
        {initial ? int64_t{0} : from, pos, user, user});
    if (!rows) {
      co_return Response::FromError(rows.error());
    }
    for (const auto& row : *rows) {
      presence_events.emplace_back(json::object{
          {"type", "m.presence"},
          {"sender", row.Text(0)},
          {"content", presence_.Content(row.Text(0), row.Text(1), row.Text(2), row.Int(3))}});
    }
  }
  // People the user newly shares a room with (they joined one of the user's rooms, or the user
  // joined theirs) get their current presence sent too, changed in the window or not — else a
  // new direct chat would show nobody's presence until it next changes (Synapse does the same).
  if (presence_.enabled() && !initial) {
    std::set<std::string> newcomers;
    for (const auto& change : member_changes) {
      if (change.membership == "join" && change.user_id != user) {
        newcomers.insert(change.user_id);
      }
    }
    std::vector<store::Value> rooms_joined_now;
    for (const auto& [room, full] : joined) {
      if (full) {
        rooms_joined_now.emplace_back(room);
      }
    }
    if (!rooms_joined_now.empty()) {
      auto rows = lease->Query(
          "SELECT DISTINCT user_id FROM memberships WHERE membership = 'join' AND room_id IN (" +
              store::Placeholders(rooms_joined_now.size()) + ") LIMIT " +
              std::to_string(kMaxNewcomerPresence),
          std::span<const store::Value>(rooms_joined_now));
      if (!rows) {
        co_return Response::FromError(rows.error());
      }
      for (const auto& row : *rows) {
        if (row.Text(0) != user) {
          newcomers.insert(row.Text(0));
        }
      }
    }
    for (const auto& e : presence_events) {
      newcomers.erase(std::string(e.as_object().at("sender").as_string()));
    }
    size_t sent = 0;
    for (const auto& who : newcomers) {
      if (++sent > kMaxNewcomerPresence) {
        break;
      }
      auto row = lease->QueryOne(
          "SELECT state, status_msg, last_active_ms FROM presence WHERE user_id = ?", {who});
      if (!row) {
        co_return Response::FromError(row.error());
      }
      if (*row) {
        presence_events.emplace_back(json::object{
            {"type", "m.presence"},
            {"sender", who},
            {"content", presence_.Content(who, (*row)->Text(0), (*row)->Text(1), (*row)->Int(2))}});
      }
    }
  }

  // E2EE: whose device keys to fetch again, and this device's key counts.
  json::object device_lists{{"changed", json::array{}}, {"left", json::array{}}};
  if (since && (full_state || window_cut || rooms_left_out)) {
    // The timelines above were read as for an initial sync, or only each room's newest, or
    // without the rooms the filter leaves out: read the window's membership changes themselves
    // (none of these may cost device-list changes).
    auto changes = MemberChangesBetween(lease.conn(), user, from, pos);
    if (!changes) {
      co_return Response::FromError(changes.error());
    }
    member_changes = std::move(*changes);
  }
  if (since &&
      (!member_changes.empty() || notifier_.WrittenSince(Notifier::Kind::kDeviceLists, from))) {
    auto delta = DeviceListChanges(lease.conn(), user, from, pos, member_changes);
    if (!delta) {
      co_return Response::FromError(delta.error());
    }
    device_lists["changed"] = json::array(delta->changed.begin(), delta->changed.end());
    device_lists["left"] = json::array(delta->left.begin(), delta->left.end());
  }
  auto key_counts = keys_.Counts(lease.conn(), user, session->device_id, counts_generation);
  if (!key_counts) {
    co_return Response::FromError(key_counts.error());
  }

  json::object join_section, invite_section, leave_section;
  auto timeline_json = [&](const std::string& room, int64_t fallback) {
    json::array events;
    int64_t oldest = fallback;
    bool limited = false;
    std::set<std::string> ids;
    if (auto it = timelines.find(room); it != timelines.end()) {
      limited = it->second.limited;
      if (!it->second.events.empty()) {
        oldest = it->second.events.front().first - 1;  // just before the timeline's first event
      }
      for (auto& [stream, ev] : it->second.events) {
        ids.insert(std::string(ev["event_id"].as_string()));
        events.emplace_back(std::move(ev));
      }
    }
    return std::make_tuple(json::object{{"events", std::move(events)},
                                        {"limited", limited},
                                        {"prev_batch", StreamToken(oldest)}},
                           std::move(ids));
  };
  for (const auto& [room, full] : joined) {
    // Unread counts for every room that goes out, before its timeline's events move into the
    // response (the counts evaluate them).
    auto timeline_it = timelines.find(room);
    bool has_events = timeline_it != timelines.end() && !timeline_it->second.events.empty();
    bool goes_out = full || has_events || room_account_data.contains(room) ||
                    receipts_by_room.contains(room) || typing_by_room.contains(room);
    std::optional<RoomUnread> unread;
    if (goes_out) {
      // The window is complete unless something cut it: an initial sync, a new join, a limited
      // timeline, the window's event cap.
      static const std::vector<std::pair<int64_t, json::object>> kNoEvents;
      const std::vector<std::pair<int64_t, json::object>>* window = nullptr;
      if (!initial && !full && !window_cut && timeline_filtered) {
        auto it = count_windows.find(room);  // complete: read before the filter and the limit
        window = it == count_windows.end() ? &kNoEvents : &it->second;
      } else if (!initial && !full && !window_cut) {
        window = timeline_it == timelines.end() ? &kNoEvents
                 : timeline_it->second.limited  ? nullptr
                                                : &timeline_it->second.events;
      }
      auto got = unread_.Counts(lease.conn(), user, room, from, pos, window);
      if (!got) {
        co_return Response::FromError(got.error());
      }
      unread = std::move(*got);
    }
    auto [timeline, in_timeline] = timeline_json(room, pos);
    json::array account_data;
    if (auto it = room_account_data.find(room); it != room_account_data.end()) {
      account_data = std::move(it->second);
    }
    json::array ephemeral;
    if (auto it = receipts_by_room.find(room);
        it != receipts_by_room.end() && filter.ephemeral.AllowsType("m.receipt")) {
      ephemeral.emplace_back(
          json::object{{"type", "m.receipt"}, {"content", std::move(it->second)}});
    }
    if (auto it = typing_by_room.find(room);
        it != typing_by_room.end() && filter.ephemeral.AllowsType("m.typing")) {
      json::array user_ids;
      for (const auto& u : it->second.users) {
        user_ids.emplace_back(u);
      }
      ephemeral.emplace_back(json::object{
          {"type", "m.typing"}, {"content", json::object{{"user_ids", std::move(user_ids)}}}});
    }
    if (!full && timeline["events"].as_array().empty() && account_data.empty() &&
        ephemeral.empty()) {
      continue;  // nothing new in this room
    }
    json::array state;
    if (full) {
      for (auto& ev : states[room]) {
        if (lazy_members && ev["type"].as_string() == "m.room.member") {
          continue;  // only the needed ones, added below
        }
        if (!in_timeline.count(std::string(ev["event_id"].as_string())) &&
            filter.state.Allows(ev)) {
          state.emplace_back(std::move(ev));
        }
      }
    }
    if (auto it = lazy_members_by_room.find(room); it != lazy_members_by_room.end()) {
      for (auto& [member, ev] : it->second) {
        if (!in_timeline.count(std::string(ev["event_id"].as_string())) &&
            filter.state.Allows(ev)) {
          state.emplace_back(std::move(ev));
        }
      }
    }
    json::object room_json{{"timeline", std::move(timeline)},
                           {"state", json::object{{"events", std::move(state)}}},
                           {"ephemeral", json::object{{"events", std::move(ephemeral)}}},
                           {"account_data", json::object{{"events", std::move(account_data)}}}};
    if (unread) {
      auto counts_json = [](const UnreadCount& c) {
        return json::object{{"notification_count", c.notifications},
                            {"highlight_count", c.highlights}};
      };
      if (sync_filter->thread_counts) {
        room_json["unread_notifications"] = counts_json(unread->main);
        json::object by_thread;
        for (const auto& [root, c] : unread->threads) {
          if (c.notifications > 0) {
            by_thread[root] = counts_json(c);
          }
        }
        room_json["unread_thread_notifications"] = std::move(by_thread);
      } else {
        room_json["unread_notifications"] = counts_json(unread->Total());
      }
    }
    if (auto it = summaries.find(room); it != summaries.end()) {
      json::array heroes;
      for (const auto& h : it->second.heroes) {
        heroes.emplace_back(h);
      }
      room_json["summary"] = json::object{{"m.heroes", std::move(heroes)},
                                          {"m.joined_member_count", it->second.joined},
                                          {"m.invited_member_count", it->second.invited}};
    }
    join_section[room] = std::move(room_json);
  }
  for (const auto& room : invited) {
    json::array stripped;
    // The invitee's own member event, and the inviter's: clients name the invitation after
    // whoever sent it.
    std::string inviter;
    for (const auto& ev : states[room]) {
      if (ev.at("type").as_string() == "m.room.member" && ev.contains("state_key") &&
          ev.at("state_key").as_string() == user) {
        inviter = ev.at("sender").as_string();
      }
    }
    for (const auto& ev : states[room]) {
      std::string_view type = ev.at("type").as_string();
      bool member = type == "m.room.member" && ev.contains("state_key");
      bool mine = member && ev.at("state_key").as_string() == user;
      bool inviters = member && !inviter.empty() && ev.at("state_key").as_string() == inviter;
      if (IsStrippedType(type) || mine || inviters) {
        stripped.emplace_back(json::object{{"type", ev.at("type")},
                                           {"state_key", ev.at("state_key")},
                                           {"content", ev.at("content")},
                                           {"sender", ev.at("sender")}});
      }
    }
    invite_section[room] =
        json::object{{"invite_state", json::object{{"events", std::move(stripped)}}}};
  }
  for (const auto& room : left) {
    auto [timeline, ids] = timeline_json(room, pos);
    leave_section[room] = json::object{{"timeline", std::move(timeline)},
                                       {"state", json::object{{"events", json::array{}}}}};
  }
  if (filter.presence.RestrictsEvents()) {
    json::array kept;
    for (auto& e : presence_events) {
      if (filter.presence.Allows(e.as_object())) {
        kept.emplace_back(std::move(e));
      }
    }
    presence_events = std::move(kept);
  }
  co_return Response::Json(json::object{
      {"next_batch", SyncTokenText(SyncToken{pos, typing_now})},
      {"rooms", json::object{{"join", std::move(join_section)},
                             {"invite", std::move(invite_section)},
                             {"leave", std::move(leave_section)}}},
      {"presence", json::object{{"events", std::move(presence_events)}}},
      {"account_data", json::object{{"events", std::move(global_account_data)}}},
      {"to_device", json::object{{"events", std::move(to_device_events)}}},
      {"device_lists", std::move(device_lists)},
      {"device_one_time_keys_count", std::move(key_counts->one_time_keys_count)},
      {"device_unused_fallback_key_types", std::move(key_counts->unused_fallback_key_types)}});
}

}  // namespace ruche::matrix
