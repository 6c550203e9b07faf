#include "matrix/hierarchy_routes.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "matrix/room_events.hpp"
#include "matrix/room_summary.hpp"
#include "matrix/route_helpers.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;

namespace {

constexpr int64_t kDefaultLimit = 50;
constexpr int64_t kMaxLimit = 100;
constexpr int64_t kMaxDepth = 10;
// Rooms looked at in one walk, visible or not: a hostile or huge space costs at most this.
constexpr size_t kMaxWalkedRooms = 500;

struct Child {
  std::string room_id;
  json::object stripped;  // the m.space.child event as a stripped state event
  std::optional<std::string> order;
  int64_t ts = 0;
};

// Spec "Ordering of children within a space": `order` counts only if it is a string of at most
// 50 characters in 0x20-0x7E.
std::optional<std::string> ValidOrder(const json::object& content) {
  const json::value* v = content.if_contains("order");
  if (v == nullptr || !v->is_string() || v->get_string().size() > 50) {
    return std::nullopt;
  }
  for (char c : v->get_string()) {
    if (c < 0x20 || c > 0x7E) {
      return std::nullopt;
    }
  }
  return std::string(v->get_string());
}

bool ChildBefore(const Child& a, const Child& b) {
  if (a.order.has_value() != b.order.has_value()) {
    return a.order.has_value();
  }
  if (a.order && *a.order != *b.order) {
    return *a.order < *b.order;
  }
  if (a.ts != b.ts) {
    return a.ts < b.ts;
  }
  return a.room_id < b.room_id;
}

struct WalkParams {
  std::string root;
  std::string user_id;
  int64_t max_depth = kMaxDepth;
  bool suggested_only = false;
};

// Every room of the walk the requester may see, in breadth-first order with children sorted as
// the spec says. One set of queries per level of the tree, not per room.
Result<std::vector<json::object>> Walk(store::Connection& conn, const WalkParams& p,
                                       bool* root_visible) {
  std::vector<json::object> out;
  std::set<std::string> seen{p.root};
  std::vector<std::string> level{p.root};
  *root_visible = false;
  for (int64_t depth = 0; !level.empty(); ++depth) {
    RUCHE_ASSIGN_OR_RETURN(auto summaries, LoadRoomSummaries(conn, level));
    std::vector<store::Value> params;
    params.emplace_back(p.user_id);
    params.insert(params.end(), level.begin(), level.end());
    RUCHE_ASSIGN_OR_RETURN(
        auto member_rows,
        conn.Query(
            "SELECT room_id, membership FROM memberships WHERE user_id = ? AND room_id IN (" +
                store::Placeholders(level.size()) + ")",
            params));
    std::map<std::string, std::string> membership;
    for (const auto& row : member_rows) {
      membership[row.Text(0)] = row.Text(1);
    }
    std::vector<store::Value> room_params(level.begin(), level.end());
    RUCHE_ASSIGN_OR_RETURN(
        auto child_rows,
        conn.Query("SELECT s.room_id, s.state_key, e.json FROM room_state s JOIN events e ON "
                   "e.event_id = s.event_id WHERE s.type = 'm.space.child' AND s.room_id IN (" +
                       store::Placeholders(level.size()) + ")",
                   room_params));
    std::map<std::string, std::vector<Child>> children;
    for (const auto& row : child_rows) {
      RUCHE_ASSIGN_OR_RETURN(auto ev, ParseStoredEvent(row.Text(2)));
      const json::value* c = ev.if_contains("content");
      if (c == nullptr || !c->is_object()) {
        continue;
      }
      const json::object& content = c->get_object();
      // Spec: a child without a non-empty `via` list is not a child (that is how one is removed).
      const json::value* via = content.if_contains("via");
      if (via == nullptr || !via->is_array() || via->get_array().empty()) {
        continue;
      }
      if (p.suggested_only) {
        const json::value* s = content.if_contains("suggested");
        if (s == nullptr || !s->is_bool() || !s->get_bool()) {
          continue;
        }
      }
      Child child;
      child.room_id = row.Text(1);
      child.order = ValidOrder(content);
      if (const json::value* ts = ev.if_contains("origin_server_ts"); ts && ts->is_int64()) {
        child.ts = ts->get_int64();
      }
      child.stripped = json::object{{"type", "m.space.child"},
                                    {"state_key", child.room_id},
                                    {"content", content},
                                    {"sender", ev["sender"]},
                                    {"origin_server_ts", child.ts}};
      children[row.Text(0)].push_back(std::move(child));
    }
    std::vector<std::string> next;
    for (const auto& room_id : level) {
      auto summary = summaries.find(room_id);
      if (summary == summaries.end()) {
        continue;  // not a room of this server
      }
      const RoomSummary& s = summary->second;
      const std::string& m = membership[room_id];
      bool visible = m == "join" || m == "invite" || s.join_rule == "public" ||
                     s.join_rule == "knock" || s.world_readable();
      if (!visible) {
        continue;  // skipped, children included: nothing of it is revealed
      }
      if (depth == 0) {
        *root_visible = true;
      }
      json::object entry = s.ToJson();
      json::array children_state;
      auto& kids = children[room_id];
      std::sort(kids.begin(), kids.end(), ChildBefore);
      bool is_space = s.room_type == "m.space";
      for (auto& kid : kids) {
        if (!is_space) {
          break;
        }
        children_state.emplace_back(kid.stripped);
        if (depth < p.max_depth && seen.size() < kMaxWalkedRooms &&
            seen.insert(kid.room_id).second) {
          next.push_back(kid.room_id);  // loops end here: a room is walked once
        }
      }
      entry["children_state"] = std::move(children_state);
      out.push_back(std::move(entry));
    }
    level = std::move(next);
  }
  return out;
}

Result<int64_t> ParseInt(const std::optional<std::string>& text, int64_t def, int64_t max) {
  if (!text) {
    return def;
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || ptr != text->data() + text->size() || v < 0) {
    return Error::BadRequest("Invalid number", "M_INVALID_PARAM");
  }
  return std::min(v, max);
}

// `from` tokens carry the walk's parameters, which must not change between pages (spec).
std::string PageToken(int64_t offset, const WalkParams& p) {
  return "h" + std::to_string(offset) + "_" + std::to_string(p.max_depth) + "_" +
         (p.suggested_only ? "1" : "0");
}

Result<int64_t> ParsePageToken(const std::string& token, const WalkParams& p) {
  size_t underscore = token.find('_');
  if (token.size() < 2 || token.front() != 'h' || underscore == std::string::npos) {
    return Error::BadRequest("Invalid 'from' token", "M_INVALID_PARAM");
  }
  RUCHE_ASSIGN_OR_RETURN(int64_t offset, ParseInt(token.substr(1, underscore - 1), 0, INT64_MAX));
  if (PageToken(offset, p) != token) {
    return Error::BadRequest("'from' does not match max_depth/suggested_only", "M_INVALID_PARAM");
  }
  return offset;
}

Result<json::object> RunHierarchy(store::Connection& conn, const WalkParams& p, int64_t limit,
                                  const std::optional<std::string>& from) {
  int64_t offset = 0;
  if (from) {
    RUCHE_ASSIGN_OR_RETURN(offset, ParsePageToken(*from, p));
  }
  bool root_visible = false;
  RUCHE_ASSIGN_OR_RETURN(auto rooms, Walk(conn, p, &root_visible));
  if (!root_visible) {
    // The same answer whether the room is missing or private.
    return Error::Forbidden("You may not view this room");
  }
  json::array page;
  const auto total = static_cast<int64_t>(rooms.size());
  for (int64_t i = offset; i < total && i < offset + limit; ++i) {
    page.emplace_back(std::move(rooms[static_cast<size_t>(i)]));
  }
  json::object out{{"rooms", std::move(page)}};
  if (offset + limit < total) {
    out["next_batch"] = PageToken(offset + limit, p);
  }
  return out;
}

}  // namespace

HierarchyRoutes::HierarchyRoutes(net::Router& router, MatrixDeps deps) : deps_(deps) {
  router.Add("GET", "/_matrix/client/v1/rooms/{roomId}/hierarchy",
             [this](Request& r) { return Hierarchy(r); });
}

asio::awaitable<Response> HierarchyRoutes::Hierarchy(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Response::FromError(session.error());
  }
  WalkParams p;
  p.root = std::string(req.Param("roomId"));
  p.user_id = session->user_id;
  auto max_depth = ParseInt(req.QueryParam("max_depth"), kMaxDepth, kMaxDepth);
  auto limit = ParseInt(req.QueryParam("limit"), kDefaultLimit, kMaxLimit);
  if (!max_depth || !limit) {
    co_return Response::FromError(
        core::Error::BadRequest("Invalid max_depth or limit", "M_INVALID_PARAM"));
  }
  p.max_depth = *max_depth;
  std::string suggested = req.QueryParam("suggested_only").value_or("false");
  if (suggested != "true" && suggested != "false") {
    co_return Response::FromError(
        core::Error::BadRequest("'suggested_only' must be true or false", "M_INVALID_PARAM"));
  }
  p.suggested_only = suggested == "true";
  int64_t page_limit = *limit;
  if (page_limit == 0) {
    page_limit = kDefaultLimit;
  }
  auto out = RunHierarchy(deps_.store.Read().conn(), p, page_limit, req.QueryParam("from"));
  if (!out) {
    co_return Response::FromError(out.error());
  }
  co_return Response::Json(*out);
}

}  // namespace ruche::matrix
