#include "matrix/search_routes.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "matrix/room_events.hpp"
#include "matrix/room_routes.hpp"
#include "matrix/route_helpers.hpp"
#include "matrix/search_query.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;

namespace {

constexpr int64_t kDefaultLimit = 10;
constexpr int64_t kMaxLimit = 100;
constexpr int64_t kDefaultContext = 5;
constexpr int64_t kMaxContext = 20;
// `count` is exact up to this many hits, then this number (the spec's count is approximate):
// counting every hit of a common word would cost as much as ranking them, and counting even
// 10,000 costs ~30 ms where the page itself costs ~0.4 ms.
constexpr int64_t kMaxCount = 1'000;
constexpr size_t kMaxFilterEntries = 500;
constexpr int64_t kSearchBodyLimit = 64 * 1024;

// The key each searchable event type is indexed under (migration 8's search_fields).
const std::map<std::string, std::string>& KeyTypes() {
  static const std::map<std::string, std::string> keys = {{"content.body", "m.room.message"},
                                                          {"content.name", "m.room.name"},
                                                          {"content.topic", "m.room.topic"}};
  return keys;
}

Result<std::vector<std::string>> StringList(const json::object& obj, std::string_view key,
                                            bool* present = nullptr) {
  std::vector<std::string> out;
  const json::value* v = obj.if_contains(key);
  if (present != nullptr) {
    *present = v != nullptr;
  }
  if (v == nullptr) {
    return out;
  }
  if (!v->is_array() || v->get_array().size() > kMaxFilterEntries) {
    return Error::BadRequest("'" + std::string(key) + "' must be a list of at most 500 strings");
  }
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) {
      return Error::BadRequest("'" + std::string(key) + "' must be a list of strings");
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

Result<int64_t> BoundedInt(const json::object& obj, std::string_view key, int64_t def,
                           int64_t max) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) {
    return def;
  }
  if (!v->is_int64() || v->get_int64() < 0) {
    return Error::BadRequest("'" + std::string(key) + "' must be a non-negative integer");
  }
  return std::min(v->get_int64(), max);
}

// The page position in a next_batch token: "s<N>" (recent: events before stream ordering N)
// or "r<N>" (rank: offset N). Tokens are opaque to clients.
Result<int64_t> ParseBatch(std::string_view token, char kind) {
  int64_t v = 0;
  if (token.size() < 2 || token.front() != kind) {
    return Error::BadRequest("Invalid next_batch", "M_INVALID_PARAM");
  }
  auto [ptr, ec] = std::from_chars(token.data() + 1, token.data() + token.size(), v);
  if (ec != std::errc() || ptr != token.data() + token.size() || v < 0) {
    return Error::BadRequest("Invalid next_batch", "M_INVALID_PARAM");
  }
  return v;
}

struct Hit {
  int64_t stream = 0;
  std::string room_id;
  std::string sender;
  double rank = 0;
  json::object event;
};

Result<json::array> ContextEvents(store::Connection& conn, const std::string& room_id,
                                  int64_t stream, int64_t limit, bool before, int64_t* edge) {
  json::array out;
  if (limit == 0) {
    return out;
  }
  const char* sql =
      "SELECT stream_ordering, json FROM events WHERE room_id = ? AND stream_ordering > ? "
      "ORDER BY stream_ordering ASC LIMIT ?";
  if (before) {
    sql =
        "SELECT stream_ordering, json FROM events WHERE room_id = ? AND stream_ordering < ? "
        "ORDER BY stream_ordering DESC LIMIT ?";
  }
  RUCHE_ASSIGN_OR_RETURN(auto rows, (conn.Query(sql, {room_id, stream, limit})));
  for (const auto& row : rows) {
    RUCHE_ASSIGN_OR_RETURN(auto ev, ParseStoredEvent(row.Text(1)));
    out.emplace_back(std::move(ev));
    *edge = row.Int(0);
  }
  return out;
}

json::object ProfileOf(DbRoomState& state, const std::string& user_id) {
  json::object info;
  if (const json::object* member = state.Get("m.room.member", user_id)) {
    for (const char* key : {"displayname", "avatar_url"}) {
      if (auto it = member->find(key); it != member->end() && it->value().is_string()) {
        info[key] = it->value();
      }
    }
  }
  return info;
}

}  // namespace

Result<json::object> SearchRoomEvents(store::Connection& conn, const std::string& user_id,
                                      const json::object& criteria,
                                      const std::optional<std::string>& next_batch) {
  RUCHE_ASSIGN_OR_RETURN(auto term, core::RequireString(criteria, "search_term"));
  RUCHE_ASSIGN_OR_RETURN(auto query, BuildFtsQuery(term));

  std::vector<std::string> types;
  bool keys_given = false;
  RUCHE_ASSIGN_OR_RETURN(auto keys, StringList(criteria, "keys", &keys_given));
  if (!keys_given) {
    keys = {"content.body", "content.name", "content.topic"};
  }
  for (const auto& k : keys) {
    auto it = KeyTypes().find(k);
    if (it == KeyTypes().end()) {
      return Error::BadRequest("Unknown key '" + k + "'", "M_INVALID_PARAM");
    }
    types.push_back(it->second);
  }

  std::string order = "recent";
  RUCHE_ASSIGN_OR_RETURN(auto order_by, core::OptString(criteria, "order_by"));
  if (order_by) {
    order = std::string(*order_by);
    if (order != "recent" && order != "rank") {
      return Error::BadRequest("'order_by' must be recent or rank", "M_INVALID_PARAM");
    }
  }
  const bool ranked = order == "rank";

  json::object empty_filter;
  RUCHE_ASSIGN_OR_RETURN(const json::object* filter_ptr, core::OptObject(criteria, "filter"));
  const json::object& filter = filter_ptr != nullptr ? *filter_ptr : empty_filter;
  RUCHE_ASSIGN_OR_RETURN(int64_t limit, BoundedInt(filter, "limit", kDefaultLimit, kMaxLimit));
  bool rooms_given = false;
  RUCHE_ASSIGN_OR_RETURN(auto only_rooms, StringList(filter, "rooms", &rooms_given));
  RUCHE_ASSIGN_OR_RETURN(auto not_rooms, StringList(filter, "not_rooms"));
  bool senders_given = false;
  RUCHE_ASSIGN_OR_RETURN(auto senders, StringList(filter, "senders", &senders_given));
  RUCHE_ASSIGN_OR_RETURN(auto not_senders, StringList(filter, "not_senders"));

  // Only rooms the requester is joined to now; filter.rooms can narrow that, never widen it.
  // Encrypted rooms are left out: their messages are ciphertext, and words a client sent in
  // clear there (before encryption was turned on, or by mistake) must not be found either.
  RUCHE_ASSIGN_OR_RETURN(
      auto joined_rows,
      (conn.Query("SELECT m.room_id FROM memberships m WHERE m.user_id = ? AND m.membership = "
                  "'join' AND NOT EXISTS (SELECT 1 FROM room_state s WHERE s.room_id = "
                  "m.room_id AND s.type = 'm.room.encryption' AND s.state_key = '')",
                  {user_id})));
  std::set<std::string> allowed(only_rooms.begin(), only_rooms.end());
  std::set<std::string> excluded(not_rooms.begin(), not_rooms.end());
  std::vector<store::Value> rooms;
  for (const auto& row : joined_rows) {
    const std::string& room = row.Text(0);
    if ((!rooms_given || allowed.contains(room)) && !excluded.contains(room)) {
      rooms.emplace_back(room);
    }
  }

  int64_t position = 0;  // recent: before this stream ordering (0 = newest); rank: offset
  if (next_batch) {
    RUCHE_ASSIGN_OR_RETURN(position, ParseBatch(*next_batch, ranked ? 'r' : 's'));
  }

  json::object result{{"highlights", json::array(query.highlights.begin(), query.highlights.end())},
                      {"results", json::array()},
                      {"count", 0}};
  if (query.expression.empty() || rooms.empty() || types.empty() ||
      (senders_given && senders.empty()) || limit == 0) {
    return result;
  }

  // One WHERE clause for the page and for the count.
  // NOTE: the unary `+` keeps SQLite from answering `e.room_id IN (...)` through events_by_room,
  // which costs one index probe per room for every hit; the event is found by its stream
  // ordering (one probe) and its room checked on the row (measured: 160 ms -> 30 ms to count
  // 10k hits in 20 rooms).
  std::string where = "event_search MATCH ? AND +e.room_id IN (" +
                      store::Placeholders(rooms.size()) + ") AND +e.type IN (" +
                      store::Placeholders(types.size()) + ")";
  std::vector<store::Value> params;
  params.emplace_back(query.expression);
  params.insert(params.end(), rooms.begin(), rooms.end());
  params.insert(params.end(), types.begin(), types.end());
  if (senders_given) {
    where += " AND +e.sender IN (" + store::Placeholders(senders.size()) + ")";
    params.insert(params.end(), senders.begin(), senders.end());
  }
  if (!not_senders.empty()) {
    where += " AND +e.sender NOT IN (" + store::Placeholders(not_senders.size()) + ")";
    params.insert(params.end(), not_senders.begin(), not_senders.end());
  }

  // NOTE: CROSS JOIN makes SQLite keep the FTS5 table as the outer loop (a join order it may
  // not otherwise pick for a room with many events but few hits).
  std::string count_sql =
      "SELECT COUNT(*) FROM (SELECT 1 FROM event_search CROSS JOIN events e ON "
      "e.stream_ordering = event_search.rowid WHERE " +
      where + " LIMIT " + std::to_string(kMaxCount) + ") AS hits";
  RUCHE_ASSIGN_OR_RETURN(auto count_rows, conn.Query(count_sql, params));
  result["count"] = count_rows.empty() ? 0 : count_rows.front().Int(0);

  // Newest first walks FTS5's rowid order backwards and stops after `limit` matches in the
  // requester's rooms; rank (bm25) must score every hit before it can sort them.
  // NOTE: bm25 only when ranking: its first call counts every hit of every term (the collection
  // statistics), which alone costs ~26 ms for a word in 630k of 1M messages. With `recent`,
  // rank is 0.
  std::string page_sql = "SELECT e.stream_ordering, e.room_id, e.sender, e.json, 0 FROM ";
  if (ranked) {
    page_sql = "SELECT e.stream_ordering, e.room_id, e.sender, e.json, -bm25(event_search) FROM ";
  }
  page_sql +=
      "event_search CROSS JOIN events e ON e.stream_ordering = event_search.rowid WHERE " + where;
  std::vector<store::Value> page_params = params;
  if (ranked) {
    page_sql += " ORDER BY event_search.rank, event_search.rowid DESC LIMIT ? OFFSET ?";
    page_params.emplace_back(limit);
    page_params.emplace_back(position);
  } else {
    if (position > 0) {
      page_sql += " AND event_search.rowid < ?";
      page_params.emplace_back(position);
    }
    page_sql += " ORDER BY event_search.rowid DESC LIMIT ?";
    page_params.emplace_back(limit);
  }
  RUCHE_ASSIGN_OR_RETURN(auto rows, conn.Query(page_sql, page_params));
  std::vector<Hit> hits;
  for (const auto& row : rows) {
    RUCHE_ASSIGN_OR_RETURN(auto ev, ParseStoredEvent(row.Text(3)));
    hits.push_back(Hit{row.Int(0), row.Text(1), row.Text(2), row.Real(4), std::move(ev)});
  }
  if (static_cast<int64_t>(rows.size()) == limit) {
    if (ranked) {
      result["next_batch"] = "r" + std::to_string(position + limit);
    } else {
      result["next_batch"] = "s" + std::to_string(hits.back().stream);
    }
  }

  // event_context (spec "Search": before_limit/after_limit default 5, include_profile).
  const json::object* context = nullptr;
  RUCHE_ASSIGN_OR_RETURN(context, core::OptObject(criteria, "event_context"));
  int64_t before_limit = 0, after_limit = 0;
  bool include_profile = false;
  if (context != nullptr) {
    RUCHE_ASSIGN_OR_RETURN(before_limit,
                           BoundedInt(*context, "before_limit", kDefaultContext, kMaxContext));
    RUCHE_ASSIGN_OR_RETURN(after_limit,
                           BoundedInt(*context, "after_limit", kDefaultContext, kMaxContext));
    RUCHE_ASSIGN_OR_RETURN(auto profile, core::OptBool(*context, "include_profile"));
    include_profile = profile.value_or(false);
  }

  std::map<std::string, std::unique_ptr<DbRoomState>> states;
  auto state_of = [&](const std::string& room) -> DbRoomState& {
    auto& s = states[room];
    if (!s) {
      s = std::make_unique<DbRoomState>(conn, room);
    }
    return *s;
  };
  json::array results;
  for (auto& hit : hits) {
    json::object item{{"rank", hit.rank}, {"result", hit.event}};
    if (context != nullptr) {
      int64_t start = hit.stream, end = hit.stream;
      RUCHE_ASSIGN_OR_RETURN(
          auto before, ContextEvents(conn, hit.room_id, hit.stream, before_limit, true, &start));
      RUCHE_ASSIGN_OR_RETURN(
          auto after, ContextEvents(conn, hit.room_id, hit.stream, after_limit, false, &end));
      json::object ctx{{"events_before", std::move(before)},
                       {"events_after", std::move(after)},
                       {"start", StreamToken(start - 1)},
                       {"end", StreamToken(end)}};
      if (include_profile) {
        json::object profiles;
        std::set<std::string> users{hit.sender};
        for (const char* side : {"events_before", "events_after"}) {
          for (const auto& ev : ctx[side].as_array()) {
            if (const json::value* s = ev.as_object().if_contains("sender"); s && s->is_string()) {
              users.emplace(s->get_string());
            }
          }
        }
        for (const auto& u : users) {
          profiles[u] = ProfileOf(state_of(hit.room_id), u);
        }
        ctx["profile_info"] = std::move(profiles);
      }
      item["context"] = std::move(ctx);
    }
    results.emplace_back(std::move(item));
  }
  result["results"] = std::move(results);

  // include_state: the current state of each room in this page.
  RUCHE_ASSIGN_OR_RETURN(auto include_state, core::OptBool(criteria, "include_state"));
  if (include_state.value_or(false)) {
    json::object state;
    for (const auto& hit : hits) {
      if (state.contains(hit.room_id)) {
        continue;
      }
      RUCHE_ASSIGN_OR_RETURN(
          auto state_rows,
          (conn.Query("SELECT e.json FROM room_state s JOIN events e ON e.event_id = s.event_id "
                      "WHERE s.room_id = ? ORDER BY e.stream_ordering",
                      {hit.room_id})));
      json::array events;
      for (const auto& row : state_rows) {
        RUCHE_ASSIGN_OR_RETURN(auto ev, ParseStoredEvent(row.Text(0)));
        events.emplace_back(std::move(ev));
      }
      state[hit.room_id] = std::move(events);
    }
    result["state"] = std::move(state);
  }

  // groupings: this page's results grouped by room and/or sender.
  RUCHE_ASSIGN_OR_RETURN(const json::object* groupings, core::OptObject(criteria, "groupings"));
  if (groupings != nullptr) {
    const json::value* group_by = groupings->if_contains("group_by");
    if (group_by != nullptr && !group_by->is_array()) {
      return Error::BadRequest("'group_by' must be a list");
    }
    json::object groups;
    if (group_by != nullptr) {
      for (const auto& g : group_by->get_array()) {
        const json::value* key = g.is_object() ? g.get_object().if_contains("key") : nullptr;
        if (key == nullptr || !key->is_string() ||
            (key->get_string() != "room_id" && key->get_string() != "sender")) {
          return Error::BadRequest("group_by keys must be room_id or sender", "M_INVALID_PARAM");
        }
        bool by_room = key->get_string() == "room_id";
        json::object by;
        int64_t next_order = 1;
        for (const auto& hit : hits) {
          const std::string& k = by_room ? hit.room_id : hit.sender;
          if (!by.contains(k)) {
            by[k] = json::object{{"order", next_order++}, {"results", json::array()}};
          }
          by[k].as_object()["results"].as_array().emplace_back(hit.event.at("event_id"));
        }
        groups[key->get_string()] = std::move(by);
      }
    }
    result["groups"] = std::move(groups);
  }
  return result;
}

Result<void> PurgeSearchIndex(store::Connection& conn) {
  RUCHE_ASSIGN_OR_RETURN(auto owed, conn.QueryOne("SELECT since_ms FROM search_purge"));
  if (!owed) {
    return {};
  }
  RUCHE_RETURN_IF_ERROR(
      conn.Execute("INSERT INTO event_search (event_search) VALUES ('optimize')"));
  RUCHE_RETURN_IF_ERROR(conn.Execute("DELETE FROM search_purge"));
  return {};
}

boost::asio::awaitable<void> SearchRoutes::PurgeIfDue() {
  auto owed = deps_.store.Read()->QueryOne("SELECT since_ms FROM search_purge");
  if (!owed || !*owed || core::NowMs() - (*owed)->Int(0) < deps_.config.search.purge_delay_ms) {
    co_return;
  }
  store::WriteFn write = [](store::Connection& c) { return PurgeSearchIndex(c); };
  auto r = co_await Commit(deps_.store, std::move(write));
  if (!r) {
    RUCHE_LOG_WARN("search index purge failed: {}", r.error().message);
  }
}

Result<void> PurgeRedactedSearchText(store::Store& store) {
  return store.WriteSync([](store::Connection& c) { return PurgeSearchIndex(c); });
}

SearchRoutes::SearchRoutes(net::Router& router, MatrixDeps deps) : deps_(deps) {
  net::RouteOptions options;
  options.body_limit = kSearchBodyLimit;
  AddClientRoute(
      router, "POST", "/search", [this](Request& r) { return Search(r); }, options);
}

asio::awaitable<Response> SearchRoutes::Search(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Response::FromError(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Response::FromError(body.error());
  }
  auto categories = core::OptObject(*body, "search_categories");
  if (!categories) {
    co_return Response::FromError(categories.error());
  }
  if (*categories == nullptr) {
    co_return Response::FromError(
        core::Error::BadRequest("'search_categories' is required", "M_MISSING_PARAM"));
  }
  auto room_events = core::OptObject(**categories, "room_events");
  if (!room_events) {
    co_return Response::FromError(room_events.error());
  }
  json::object out_categories;
  if (*room_events != nullptr) {
    std::optional<std::string> next_batch;
    if (auto nb = req.QueryParam("next_batch")) {
      next_batch = std::string(*nb);
    }
    auto lease = deps_.store.Read();
    auto found = SearchRoomEvents(lease.conn(), session->user_id, **room_events, next_batch);
    if (!found) {
      co_return Response::FromError(found.error());
    }
    out_categories["room_events"] = std::move(*found);
  }
  co_return Response::Json(json::object{{"search_categories", std::move(out_categories)}});
}

}  // namespace ruche::matrix
