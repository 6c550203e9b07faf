#include "matrix/directory_routes.hpp"

#include <algorithm>
#include <charconv>

#include "core/clock.hpp"
#include "matrix/auth_rules.hpp"
#include "matrix/room_events.hpp"
#include "matrix/room_summary.hpp"
#include "matrix/route_helpers.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;

namespace {

constexpr int64_t kDefaultPublicRoomsLimit = 100;
constexpr int64_t kMaxPublicRoomsLimit = 500;
// Published rooms read per request; an organisation's directory is far below this.
constexpr int64_t kMaxPublishedRooms = 10'000;
constexpr size_t kMaxGenericSearchBytes = 256;
constexpr int64_t kDefaultUserLimit = 10;
constexpr int64_t kMaxUserLimit = 50;
constexpr size_t kMaxUserSearchBytes = 256;

// Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// A LIKE pattern matching `s` anywhere (with ESCAPE '\').
std::string LikeEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

Result<int64_t> ParseOffsetToken(std::string_view token) {
  int64_t v = 0;
  if (token.size() < 2 || token.front() != 'p') {
    return Error::BadRequest("Invalid pagination token", "M_INVALID_PARAM");
  }
  auto [ptr, ec] = std::from_chars(token.data() + 1, token.data() + token.size(), v);
  if (ec != std::errc() || ptr != token.data() + token.size() || v < 0) {
    return Error::BadRequest("Invalid pagination token", "M_INVALID_PARAM");
  }
  return v;
}

// Who may change a room's aliases and directory entry: server admins, and members with the
// power to send m.room.canonical_alias (spec "Room aliases": servers may use it this way).
Result<bool> MayEditDirectory(store::Connection& conn, const std::string& room_id,
                              const std::string& user_id, bool is_admin) {
  if (is_admin) {
    return true;
  }
  auto membership = MembershipOf(conn, room_id, user_id);
  if (!membership) {
    return membership.error();
  }
  if (*membership != "join") {
    return false;
  }
  RUCHE_ASSIGN_OR_RETURN(auto version, RoomVersionOf(conn, room_id));
  if (!version) {
    return false;
  }
  DbRoomState state(conn, room_id);
  return UserPowerLevel(state, user_id, *version) >=
         RequiredPowerLevel(state, "m.room.canonical_alias", true);
}

struct PublicRoomsQuery {
  int64_t limit = kDefaultPublicRoomsLimit;
  int64_t offset = 0;
  std::string search;  // lower-cased
  bool filter_types = false;
  std::vector<std::optional<std::string>> room_types;  // nullopt = rooms without a type
};

Result<json::object> ListPublicRooms(store::Connection& conn, const PublicRoomsQuery& q) {
  RUCHE_ASSIGN_OR_RETURN(auto rows,
                         (conn.Query("SELECT room_id FROM public_rooms ORDER BY room_id LIMIT ?",
                                     {kMaxPublishedRooms})));
  std::vector<std::string> ids;
  for (const auto& row : rows) {
    ids.push_back(row.Text(0));
  }
  RUCHE_ASSIGN_OR_RETURN(auto summaries, LoadRoomSummaries(conn, ids));
  std::vector<const RoomSummary*> listed;
  auto contains = [&](const std::optional<std::string>& field) {
    return field && AsciiLower(*field).find(q.search) != std::string::npos;
  };
  for (const auto& [id, s] : summaries) {
    // Published AND joinable by anyone: a room that stopped being public drops out.
    if (s.join_rule != "public") {
      continue;
    }
    if (!q.search.empty() && !contains(s.name) && !contains(s.topic) &&
        !contains(s.canonical_alias)) {
      continue;
    }
    if (q.filter_types &&
        std::find(q.room_types.begin(), q.room_types.end(), s.room_type) == q.room_types.end()) {
      continue;
    }
    listed.push_back(&s);
  }
  std::stable_sort(listed.begin(), listed.end(), [](const RoomSummary* a, const RoomSummary* b) {
    return a->num_joined_members > b->num_joined_members;
  });
  const auto total = static_cast<int64_t>(listed.size());
  json::array chunk;
  for (int64_t i = q.offset; i < total && i < q.offset + q.limit; ++i) {
    chunk.emplace_back(listed[static_cast<size_t>(i)]->ToJson());
  }
  json::object out{{"chunk", std::move(chunk)}, {"total_room_count_estimate", total}};
  if (q.offset + q.limit < total) {
    out["next_batch"] = "p" + std::to_string(q.offset + q.limit);
  }
  if (q.offset > 0) {
    out["prev_batch"] = "p" + std::to_string(std::max<int64_t>(0, q.offset - q.limit));
  }
  return out;
}

Result<json::object> SearchUserDirectory(store::Connection& conn, std::string_view server_name,
                                         std::string_view term, int64_t limit) {
  std::string needle = AsciiLower(term);
  needle.erase(0, needle.find_first_not_of(" \t\r\n"));
  needle.erase(needle.find_last_not_of(" \t\r\n") + 1);
  json::object out{{"results", json::array()}, {"limited", false}};
  if (needle.empty() || limit == 0) {
    return out;
  }
  std::string anywhere = "%" + LikeEscape(needle) + "%";
  std::string prefix = LikeEscape(needle) + "%";
  std::string server(server_name);
  // Every local account that is not deactivated: the directory of an organisation (see
  // docs/architecture.md). LIKE folds ASCII case; prefix matches of a name come first.
  RUCHE_ASSIGN_OR_RETURN(
      auto rows,
      (conn.Query(
          "SELECT u.localpart, p.displayname, p.avatar_url FROM users u LEFT JOIN profiles p ON "
          "p.localpart = u.localpart WHERE u.deactivated = 0 AND (('@' || u.localpart || ':' || "
          "?) LIKE ? ESCAPE '\\' OR p.displayname LIKE ? ESCAPE '\\') ORDER BY CASE WHEN "
          "u.localpart LIKE ? ESCAPE '\\' OR p.displayname LIKE ? ESCAPE '\\' THEN 0 ELSE 1 END, "
          "LOWER(COALESCE(p.displayname, u.localpart)), u.localpart LIMIT ?",
          {server, anywhere, anywhere, prefix, prefix, limit + 1})));
  json::array results;
  for (const auto& row : rows) {
    if (static_cast<int64_t>(results.size()) == limit) {
      out["limited"] = true;
      break;
    }
    json::object user{{"user_id", "@" + row.Text(0) + ":" + server}};
    if (!row.IsNull(1)) {
      user["display_name"] = row.Text(1);
    }
    if (!row.IsNull(2)) {
      user["avatar_url"] = row.Text(2);
    }
    results.emplace_back(std::move(user));
  }
  out["results"] = std::move(results);
  return out;
}

}  // namespace

Result<void> ValidateLocalAlias(std::string_view alias, std::string_view server_name) {
  auto bad = [] { return Error::BadRequest("Invalid room alias", "M_INVALID_PARAM"); };
  if (alias.size() < 3 || alias.size() > kMaxAliasBytes || alias.front() != '#' ||
      !ValidUtf8(alias)) {
    return bad();
  }
  size_t colon = alias.find(':');
  if (colon == std::string_view::npos || colon == 1) {
    return bad();
  }
  for (char c : alias.substr(1, colon - 1)) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      return bad();
    }
  }
  if (alias.substr(colon + 1) != server_name) {
    return Error::BadRequest("Room alias must be on this server (" + std::string(server_name) + ")",
                             "M_INVALID_PARAM");
  }
  return {};
}

Result<std::optional<std::string>> ResolveAlias(store::Connection& conn, std::string_view alias) {
  RUCHE_ASSIGN_OR_RETURN(auto row, (conn.QueryOne("SELECT room_id FROM room_aliases WHERE "
                                                  "alias = ?",
                                                  {std::string(alias)})));
  if (!row) {
    return std::optional<std::string>{};
  }
  return std::optional<std::string>(row->Text(0));
}

Result<void> CreateAliasInWrite(store::Connection& conn, const std::string& alias,
                                const std::string& room_id, const std::string& creator) {
  RUCHE_ASSIGN_OR_RETURN(
      auto changed,
      (conn.Execute("INSERT INTO room_aliases (alias, room_id, creator, created_ms) VALUES "
                    "(?, ?, ?, ?) ON CONFLICT (alias) DO NOTHING",
                    {alias, room_id, creator, core::NowMs()})));
  if (changed == 0) {
    return Error::Conflict("Room alias already taken", "M_UNKNOWN");
  }
  return {};
}

Result<void> SetRoomPublishedInWrite(store::Connection& conn, const std::string& room_id,
                                     bool published) {
  if (published) {
    RUCHE_RETURN_IF_ERROR(
        (conn.Execute("INSERT INTO public_rooms (room_id, published_ms) VALUES (?, ?) "
                      "ON CONFLICT (room_id) DO NOTHING",
                      {room_id, core::NowMs()})));
  } else {
    RUCHE_RETURN_IF_ERROR((conn.Execute("DELETE FROM public_rooms WHERE room_id = ?", {room_id})));
  }
  return {};
}

DirectoryRoutes::DirectoryRoutes(net::Router& router, MatrixDeps deps) : deps_(deps) {
  AddClientRoute(router, "PUT", "/directory/room/{roomAlias}",
                 [this](Request& r) { return PutAlias(r); });
  AddClientRoute(router, "GET", "/directory/room/{roomAlias}",
                 [this](Request& r) { return GetAlias(r); });
  AddClientRoute(router, "DELETE", "/directory/room/{roomAlias}",
                 [this](Request& r) { return DeleteAlias(r); });
  AddClientRoute(router, "GET", "/rooms/{roomId}/aliases",
                 [this](Request& r) { return RoomAliases(r); });
  AddClientRoute(router, "GET", "/directory/list/room/{roomId}",
                 [this](Request& r) { return GetVisibility(r); });
  AddClientRoute(router, "PUT", "/directory/list/room/{roomId}",
                 [this](Request& r) { return PutVisibility(r); });
  AddClientRoute(router, "GET", "/publicRooms", [this](Request& r) { return PublicRooms(r); });
  AddClientRoute(router, "POST", "/publicRooms", [this](Request& r) { return PublicRooms(r); });
  AddClientRoute(router, "POST", "/user_directory/search",
                 [this](Request& r) { return SearchUsers(r); });
}

asio::awaitable<Response> DirectoryRoutes::PutAlias(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string alias(req.Param("roomAlias"));
  if (auto ok = ValidateLocalAlias(alias, deps_.accounts.server_name()); !ok) {
    co_return Fail(ok.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  auto room = core::RequireString(*body, "room_id");
  if (!room) {
    co_return Fail(room.error());
  }
  std::string room_id(*room), user_id = session->user_id;
  store::WriteFn write = [alias, room_id, user_id](store::Connection& c) -> Result<void> {
    // Only members point an alias at a room (the same 403 whether or not the room exists).
    RUCHE_RETURN_IF_ERROR(RequireJoined(c, room_id, user_id));
    return CreateAliasInWrite(c, alias, room_id, user_id);
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return Fail(committed.error());
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> DirectoryRoutes::GetAlias(Request& req) {
  // NOTE: no access token needed (spec; matrix-nio's room_resolve_alias sends none). An alias is
  // a name someone chose to publish; resolving it grants nothing, joining is still checked.
  std::string alias(req.Param("roomAlias"));
  if (auto ok = ValidateLocalAlias(alias, deps_.accounts.server_name()); !ok) {
    // Another server's alias: no federation yet, so nothing is known of it.
    size_t colon = alias.find(':');
    if (colon != std::string::npos && alias.substr(colon + 1) != deps_.accounts.server_name()) {
      co_return Fail(core::Error::NotFound("Room alias not found"));
    }
    co_return Fail(ok.error());
  }
  auto room = ResolveAlias(deps_.store.Read().conn(), alias);
  if (!room) {
    co_return Fail(room.error());
  }
  if (!*room) {
    co_return Fail(core::Error::NotFound("Room alias not found"));
  }
  json::array servers;
  servers.emplace_back(deps_.accounts.server_name());
  co_return Response::Json(json::object{{"room_id", **room}, {"servers", std::move(servers)}});
}

asio::awaitable<Response> DirectoryRoutes::DeleteAlias(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string alias(req.Param("roomAlias"));
  if (auto ok = ValidateLocalAlias(alias, deps_.accounts.server_name()); !ok) {
    co_return Fail(ok.error());
  }
  std::string user_id = session->user_id;
  bool is_admin = session->is_admin;
  store::WriteFn write = [alias, user_id, is_admin](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(
        auto row,
        (c.QueryOne("SELECT room_id, creator FROM room_aliases WHERE alias = ?", {alias})));
    if (!row) {
      return Error::NotFound("Room alias not found");
    }
    if (row->Text(1) != user_id) {
      RUCHE_ASSIGN_OR_RETURN(bool allowed, MayEditDirectory(c, row->Text(0), user_id, is_admin));
      if (!allowed) {
        return Error::Forbidden("You may not remove this alias");
      }
    }
    RUCHE_RETURN_IF_ERROR((c.Execute("DELETE FROM room_aliases WHERE alias = ?", {alias})));
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return Fail(committed.error());
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> DirectoryRoutes::RoomAliases(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string room_id(req.Param("roomId"));
  auto lease = deps_.store.Read();
  if (auto joined = RequireJoined(lease.conn(), room_id, session->user_id); !joined) {
    co_return Fail(joined.error());
  }
  auto rows = lease->Query(
      "SELECT alias FROM room_aliases WHERE room_id = ? ORDER BY created_ms, alias", {room_id});
  if (!rows) {
    co_return Fail(rows.error());
  }
  json::array aliases;
  for (const auto& row : *rows) {
    aliases.emplace_back(row.Text(0));
  }
  co_return Response::Json(json::object{{"aliases", std::move(aliases)}});
}

asio::awaitable<Response> DirectoryRoutes::GetVisibility(Request& req) {
  // NOTE: a room that does not exist answers "private" like an unpublished one (the spec says
  // 404), so this unauthenticated endpoint reveals nothing about private rooms.
  auto row = deps_.store.Read()->QueryOne("SELECT 1 FROM public_rooms WHERE room_id = ?",
                                          {std::string(req.Param("roomId"))});
  if (!row) {
    co_return Fail(row.error());
  }
  std::string visibility = "private";
  if (*row) {
    visibility = "public";
  }
  co_return Response::Json(json::object{{"visibility", visibility}});
}

asio::awaitable<Response> DirectoryRoutes::PutVisibility(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  auto visibility = core::OptString(*body, "visibility");
  if (!visibility) {
    co_return Fail(visibility.error());
  }
  std::string value = "public";
  if (*visibility) {
    value = std::string(**visibility);
  }
  if (value != "public" && value != "private") {
    co_return Fail(
        core::Error::BadRequest("'visibility' must be public or private", "M_INVALID_PARAM"));
  }
  std::string room_id(req.Param("roomId")), user_id = session->user_id;
  bool is_admin = session->is_admin, publish = value == "public";
  store::WriteFn write = [room_id, user_id, is_admin,
                          publish](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(auto version, RoomVersionOf(c, room_id));
    RUCHE_ASSIGN_OR_RETURN(bool allowed, MayEditDirectory(c, room_id, user_id, is_admin));
    if (!version && is_admin) {
      return Error::NotFound("Room not found");
    }
    if (!version || !allowed) {
      return Error::Forbidden("You may not change this room's directory entry");
    }
    return SetRoomPublishedInWrite(c, room_id, publish);
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return Fail(committed.error());
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> DirectoryRoutes::PublicRooms(Request& req) {
  // NOTE: authenticated, also for GET (the spec allows servers to require it, as Synapse does by
  // default): the directory is for the organisation's members.
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  if (auto server = req.QueryParam("server"); server && *server != deps_.accounts.server_name()) {
    co_return Fail(core::Error::NotFound("Unknown server (no federation)"));
  }
  PublicRoomsQuery q;
  std::optional<std::string> since;
  std::optional<std::string> limit_text;
  if (req.method == "POST") {
    auto body = core::ParseJsonObjectOrEmpty(req.body);
    if (!body) {
      co_return Fail(body.error());
    }
    if (const json::value* l = body->if_contains("limit"); l != nullptr) {
      if (!l->is_int64() || l->get_int64() < 0) {
        co_return Fail(core::Error::BadRequest("'limit' must be a non-negative integer"));
      }
      q.limit = std::min(l->get_int64(), kMaxPublicRoomsLimit);
    }
    auto s = core::OptString(*body, "since");
    if (!s) {
      co_return Fail(s.error());
    }
    if (*s) {
      since = std::string(**s);
    }
    auto filter = core::OptObject(*body, "filter");
    if (!filter) {
      co_return Fail(filter.error());
    }
    if (*filter != nullptr) {
      auto term = core::OptString(**filter, "generic_search_term");
      if (!term) {
        co_return Fail(term.error());
      }
      if (*term) {
        if ((*term)->size() > kMaxGenericSearchBytes) {
          co_return Fail(
              core::Error::BadRequest("'generic_search_term' is too long", "M_INVALID_PARAM"));
        }
        q.search = AsciiLower(**term);
      }
      if (const json::value* types = (*filter)->if_contains("room_types"); types != nullptr) {
        if (!types->is_array() || types->get_array().size() > 100) {
          co_return Fail(core::Error::BadRequest("'room_types' must be a list"));
        }
        q.filter_types = true;
        for (const auto& t : types->get_array()) {
          if (t.is_null()) {
            q.room_types.emplace_back(std::nullopt);
          } else if (t.is_string()) {
            q.room_types.emplace_back(std::string(t.get_string()));
          } else {
            co_return Fail(core::Error::BadRequest("'room_types' must hold strings or null"));
          }
        }
      }
    }
  } else {
    since = req.QueryParam("since");
    limit_text = req.QueryParam("limit");
  }
  if (limit_text) {
    int64_t limit = 0;
    auto [ptr, ec] =
        std::from_chars(limit_text->data(), limit_text->data() + limit_text->size(), limit);
    if (ec != std::errc() || ptr != limit_text->data() + limit_text->size() || limit < 0) {
      co_return Fail(core::Error::BadRequest("Invalid limit", "M_INVALID_PARAM"));
    }
    q.limit = std::min(limit, kMaxPublicRoomsLimit);
  }
  if (since) {
    auto offset = ParseOffsetToken(*since);
    if (!offset) {
      co_return Fail(offset.error());
    }
    q.offset = *offset;
  }
  auto out = ListPublicRooms(deps_.store.Read().conn(), q);
  if (!out) {
    co_return Fail(out.error());
  }
  co_return Response::Json(*out);
}

asio::awaitable<Response> DirectoryRoutes::SearchUsers(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  auto term = core::RequireString(*body, "search_term");
  if (!term) {
    co_return Fail(term.error());
  }
  if (term->size() > kMaxUserSearchBytes) {
    co_return Fail(core::Error::BadRequest("'search_term' is too long", "M_INVALID_PARAM"));
  }
  int64_t limit = kDefaultUserLimit;
  if (const json::value* l = body->if_contains("limit"); l != nullptr) {
    if (!l->is_int64() || l->get_int64() < 0) {
      co_return Fail(core::Error::BadRequest("'limit' must be a non-negative integer"));
    }
    limit = std::min(l->get_int64(), kMaxUserLimit);
  }
  auto out =
      SearchUserDirectory(deps_.store.Read().conn(), deps_.accounts.server_name(), *term, limit);
  if (!out) {
    co_return Fail(out.error());
  }
  co_return Response::Json(*out);
}

}  // namespace ruche::matrix
