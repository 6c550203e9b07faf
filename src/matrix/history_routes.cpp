#include "matrix/history_routes.hpp"

#include <charconv>

#include "matrix/aggregations.hpp"
#include "matrix/room_events.hpp"
#include "matrix/room_routes.hpp"
#include "matrix/route_helpers.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;

namespace {

constexpr int64_t kDefaultContextLimit = 10;
constexpr int64_t kMaxContextLimit = 100;
constexpr int64_t kDefaultThreadsLimit = 20;
constexpr int64_t kMaxThreadsLimit = 100;

// Rows of (stream_ordering, json) into client events, skipping unreadable rows.
std::vector<std::pair<int64_t, json::object>> ToEvents(const store::Rows& rows) {
  std::vector<std::pair<int64_t, json::object>> out;
  for (const auto& row : rows) {
    auto ev = ParseStoredEvent(row.Text(1));
    if (ev) {
      out.emplace_back(row.Int(0), std::move(*ev));
    }
  }
  return out;
}

}  // namespace

HistoryRoutes::HistoryRoutes(net::Router& router, MatrixDeps deps) : deps_(deps) {
  AddClientRoute(router, "GET", "/rooms/{roomId}/context/{eventId}",
                 [this](Request& r) { return Context(r); });
  router.Add("GET", "/_matrix/client/v1/rooms/{roomId}/threads",
             [this](Request& r) { return Threads(r); });
}

asio::awaitable<Response> HistoryRoutes::Context(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto limit = LimitParam(req, kDefaultContextLimit, kMaxContextLimit);
  if (!limit) {
    co_return Fail(limit.error());
  }
  std::string room_id(req.Param("roomId")), event_id(req.Param("eventId"));
  auto lease = deps_.store.Read();
  auto membership = MembershipOf(lease.conn(), room_id, session->user_id);
  if (!membership) {
    co_return Fail(membership.error());
  }
  auto row =
      lease->QueryOne("SELECT stream_ordering, json FROM events WHERE event_id = ? AND room_id = ?",
                      {event_id, room_id});
  if (!row) {
    co_return Fail(row.error());
  }
  // Not found and not allowed look the same.
  if (*membership != "join" || !*row) {
    co_return Fail(core::Error::NotFound("Event not found"));
  }
  int64_t at = (*row)->Int(0);
  auto event = ParseStoredEvent((*row)->Text(1));
  if (!event) {
    co_return Fail(event.error());
  }
  int64_t before_limit = *limit / 2, after_limit = *limit - *limit / 2;
  auto before_rows = lease->Query(
      "SELECT stream_ordering, json FROM events WHERE room_id = ? AND stream_ordering < ? "
      "ORDER BY stream_ordering DESC LIMIT ?",
      {room_id, at, before_limit});
  auto after_rows = lease->Query(
      "SELECT stream_ordering, json FROM events WHERE room_id = ? AND stream_ordering > ? "
      "ORDER BY stream_ordering ASC LIMIT ?",
      {room_id, at, after_limit});
  auto state_rows = lease->Query(
      "SELECT e.stream_ordering, e.json FROM room_state s JOIN events e ON e.event_id = "
      "s.event_id WHERE s.room_id = ?",
      {room_id});
  if (!before_rows || !after_rows || !state_rows) {
    co_return Fail(core::Error::Internal("Reading the event's context failed"));
  }
  auto before = ToEvents(*before_rows);  // newest first, as the spec orders events_before
  auto after = ToEvents(*after_rows);
  std::vector<json::object*> to_aggregate{&*event};
  for (auto& [s, ev] : before) {
    to_aggregate.push_back(&ev);
  }
  for (auto& [s, ev] : after) {
    to_aggregate.push_back(&ev);
  }
  if (auto agg = AddAggregations(lease.conn(), to_aggregate, session->user_id, session->device_id);
      !agg) {
    co_return Fail(agg.error());
  }
  // Tokens follow /messages: going back from `start` gives what precedes events_before,
  // going forward from `end` what follows events_after.
  int64_t start = (before.empty() ? at : before.back().first) - 1;
  int64_t end = after.empty() ? at : after.back().first;
  json::array before_json, after_json, state_json;
  for (auto& [s, ev] : before) {
    before_json.emplace_back(std::move(ev));
  }
  for (auto& [s, ev] : after) {
    after_json.emplace_back(std::move(ev));
  }
  for (auto& [s, ev] : ToEvents(*state_rows)) {
    state_json.emplace_back(std::move(ev));
  }
  co_return Response::Json(json::object{{"event", std::move(*event)},
                                        {"events_before", std::move(before_json)},
                                        {"events_after", std::move(after_json)},
                                        {"start", StreamToken(start)},
                                        {"end", StreamToken(end)},
                                        {"state", std::move(state_json)}});
}

asio::awaitable<Response> HistoryRoutes::Threads(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto limit = LimitParam(req, kDefaultThreadsLimit, kMaxThreadsLimit);
  if (!limit) {
    co_return Fail(limit.error());
  }
  std::string include = req.QueryParam("include").value_or("all");
  if (include != "all" && include != "participated") {
    co_return Fail(
        core::Error::BadRequest("include must be all or participated", "M_INVALID_PARAM"));
  }
  int64_t from = INT64_MAX;
  if (auto f = req.QueryParam("from")) {
    auto parsed = ParseStreamToken(*f);
    if (!parsed) {
      co_return Fail(parsed.error());
    }
    from = *parsed;
  }
  std::string room_id(req.Param("roomId"));
  auto lease = deps_.store.Read();
  if (auto joined = RequireJoined(lease.conn(), room_id, session->user_id); !joined) {
    co_return Fail(joined.error());
  }
  // Threads ordered by their latest reply; `from` (s<N>) continues below activity N.
  std::string sql =
      "SELECT r.relates_to, MAX(r.stream_ordering) AS latest, MAX(e.sender = ?) AS mine "
      "FROM event_relations r JOIN events e ON e.event_id = r.event_id "
      "WHERE r.room_id = ? AND r.rel_type = 'm.thread' GROUP BY r.relates_to HAVING latest < ?";
  std::vector<store::Value> params{session->user_id, room_id, from};
  if (include == "participated") {
    sql +=
        " AND (mine OR r.relates_to IN (SELECT event_id FROM events WHERE room_id = ? AND "
        "sender = ?))";
    params.emplace_back(room_id);
    params.emplace_back(session->user_id);
  }
  sql += " ORDER BY latest DESC LIMIT ?";
  params.emplace_back(*limit);
  auto rows = lease->Query(sql, std::span<const store::Value>(params));
  if (!rows) {
    co_return Fail(rows.error());
  }
  std::vector<json::object> roots;
  for (const auto& row : *rows) {
    auto root = lease->QueryOne("SELECT json FROM events WHERE event_id = ? AND room_id = ?",
                                {row.Text(0), room_id});
    if (!root) {
      co_return Fail(root.error());
    }
    if (*root) {
      auto ev = ParseStoredEvent((*root)->Text(0));
      if (ev) {
        roots.push_back(std::move(*ev));
      }
    }
  }
  std::vector<json::object*> to_aggregate;
  for (auto& ev : roots) {
    to_aggregate.push_back(&ev);
  }
  if (auto agg = AddAggregations(lease.conn(), to_aggregate, session->user_id, session->device_id);
      !agg) {
    co_return Fail(agg.error());
  }
  json::array chunk;
  for (auto& ev : roots) {
    chunk.emplace_back(std::move(ev));
  }
  json::object out{{"chunk", std::move(chunk)}};
  if (static_cast<int64_t>(rows->size()) == *limit && *limit > 0) {
    out["next_batch"] = StreamToken(rows->back().Int(1));
  }
  co_return Response::Json(std::move(out));
}

}  // namespace ruche::matrix
