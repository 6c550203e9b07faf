#include "matrix/account_routes.hpp"

#include <charconv>

#include "auth/accounts.hpp"
#include "matrix/push_rules.hpp"
#include "matrix/route_helpers.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;

namespace {

constexpr size_t kMaxTypeLength = 255;
constexpr size_t kMaxProfileValue = 1024;
constexpr int64_t kMaxFiltersPerUser = 1000;

// The authenticated user may only touch their own account's data.
Result<auth::Session> Owner(auth::Accounts& accounts, const Request& req) {
  auto session = Authenticate(accounts, req);
  if (!session) {
    return session.error();
  }
  if (req.Param("userId") != session->user_id) {
    return core::Error::Forbidden("You can only access your own account");
  }
  return session;
}

}  // namespace

AccountRoutes::AccountRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier,
                             std::shared_ptr<RoomEvents> events)
    : deps_(deps), notifier_(notifier), events_(std::move(events)) {
  AddClientRoute(router, "POST", "/user/{userId}/filter",
                 [this](Request& r) { return PostFilter(r); });
  AddClientRoute(router, "GET", "/user/{userId}/filter/{filterId}",
                 [this](Request& r) { return GetFilter(r); });
  AddClientRoute(router, "PUT", "/user/{userId}/account_data/{type}",
                 [this](Request& r) { return PutAccountData(r, false); });
  AddClientRoute(router, "GET", "/user/{userId}/account_data/{type}",
                 [this](Request& r) { return GetAccountData(r, false); });
  AddClientRoute(router, "PUT", "/user/{userId}/rooms/{roomId}/account_data/{type}",
                 [this](Request& r) { return PutAccountData(r, true); });
  AddClientRoute(router, "GET", "/user/{userId}/rooms/{roomId}/account_data/{type}",
                 [this](Request& r) { return GetAccountData(r, true); });
  AddClientRoute(router, "GET", "/profile/{userId}",
                 [this](Request& r) { return GetProfile(r, ""); });
  for (const char* field : {"displayname", "avatar_url"}) {
    AddClientRoute(router, "GET", std::string("/profile/{userId}/") + field,
                   [this, field](Request& r) { return GetProfile(r, field); });
    AddClientRoute(router, "PUT", std::string("/profile/{userId}/") + field,
                   [this, field](Request& r) { return PutProfile(r, field); });
  }
  // Push rules, stored as the m.push_rules account data (so /sync delivers changes).
  AddClientRoute(router, "GET", "/pushrules/", [this](Request& r) { return GetPushRules(r, ""); });
  AddClientRoute(router, "GET", "/pushrules/global/",
                 [this](Request& r) { return GetPushRules(r, "global"); });
  AddClientRoute(router, "GET", "/pushrules/global/{kind}/{ruleId}",
                 [this](Request& r) { return GetPushRules(r, "rule"); });
  AddClientRoute(router, "PUT", "/pushrules/global/{kind}/{ruleId}",
                 [this](Request& r) { return EditPushRule(r, "", false); });
  AddClientRoute(router, "DELETE", "/pushrules/global/{kind}/{ruleId}",
                 [this](Request& r) { return EditPushRule(r, "", true); });
  for (const char* attribute : {"enabled", "actions"}) {
    std::string path = std::string("/pushrules/global/{kind}/{ruleId}/") + attribute;
    AddClientRoute(router, "GET", path,
                   [this, attribute](Request& r) { return GetPushRules(r, attribute); });
    AddClientRoute(router, "PUT", path,
                   [this, attribute](Request& r) { return EditPushRule(r, attribute, false); });
  }
  AddClientRoute(router, "GET", "/user/{userId}/rooms/{roomId}/tags",
                 [this](Request& r) { return GetTags(r); });
  AddClientRoute(router, "PUT", "/user/{userId}/rooms/{roomId}/tags/{tag}",
                 [this](Request& r) { return EditTag(r, true); });
  AddClientRoute(router, "DELETE", "/user/{userId}/rooms/{roomId}/tags/{tag}",
                 [this](Request& r) { return EditTag(r, false); });
  AddClientRoute(router, "GET", "/capabilities", [this](Request& r) -> asio::awaitable<Response> {
    auto session = Authenticate(deps_.accounts, r);
    if (!session) {
      co_return Fail(session.error());
    }
    co_return Response::Json(json::object{
        {"capabilities", json::object{{"m.room_versions",
                                       json::object{{"default", kDefaultRoomVersion},
                                                    {"available", json::object{{"10", "stable"},
                                                                               {"11", "stable"}}}}},
                                      {"m.change_password", json::object{{"enabled", false}}},
                                      {"m.set_displayname", json::object{{"enabled", true}}},
                                      {"m.set_avatar_url", json::object{{"enabled", true}}},
                                      {"m.3pid_changes", json::object{{"enabled", false}}}}}});
  });
}

asio::awaitable<Response> AccountRoutes::PostFilter(Request& req) {
  auto session = Owner(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  auto id = std::make_shared<int64_t>(0);
  std::string localpart = session->localpart, text = json::serialize(*body);
  store::WriteFn write = [localpart, text, id](store::Connection& c) -> Result<void> {
    auto row = c.QueryOne(
        "SELECT COALESCE(MAX(filter_id), -1) + 1, COUNT(*) FROM filters WHERE localpart = ?",
        {localpart});
    if (!row) {
      return row.error();
    }
    if ((*row)->Int(1) >= kMaxFiltersPerUser) {
      return core::Error(400, "M_RESOURCE_LIMIT_EXCEEDED", "Too many filters");
    }
    *id = (*row)->Int(0);
    auto r = c.Execute("INSERT INTO filters (localpart, filter_id, json) VALUES (?, ?, ?)",
                       {localpart, *id, text});
    if (!r) {
      return r.error();
    }
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return Fail(committed.error());
  }
  co_return Response::Json(json::object{{"filter_id", std::to_string(*id)}});
}

asio::awaitable<Response> AccountRoutes::GetFilter(Request& req) {
  auto session = Owner(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string_view text = req.Param("filterId");
  int64_t id = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    co_return Fail(core::Error::NotFound("No such filter"));
  }
  auto row = deps_.store.Read()->QueryOne(
      "SELECT json FROM filters WHERE localpart = ? AND filter_id = ?", {session->localpart, id});
  if (!row) {
    co_return Fail(row.error());
  }
  if (!*row) {
    co_return Fail(core::Error::NotFound("No such filter"));
  }
  Response r;
  r.body = (*row)->Text(0);
  co_return r;
}

asio::awaitable<Response> AccountRoutes::PutAccountData(Request& req, bool per_room) {
  auto session = Owner(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string type(req.Param("type"));
  if (type.empty() || type.size() > kMaxTypeLength) {
    co_return Fail(core::Error::BadRequest("Invalid account data type", "M_INVALID_PARAM"));
  }
  if (type == "m.fully_read" || type == "m.push_rules") {
    // Spec: these have their own endpoints.
    co_return Fail(core::Error(405, "M_BAD_JSON", "Cannot set " + type + " through account data"));
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  std::string room_id;
  if (per_room) {
    room_id = std::string(req.Param("roomId"));
  }
  json::object content = std::move(*body);
  AccountDataEdit replace = [content](std::optional<json::object>) -> Result<json::object> {
    return content;
  };
  auto committed = co_await EditAccountData(session->user_id, room_id, type, std::move(replace));
  if (!committed) {
    co_return Fail(committed.error());
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Result<void>> AccountRoutes::EditAccountData(std::string user, std::string room_id,
                                                             std::string type,
                                                             AccountDataEdit edit) {
  auto appender = events_;
  auto stream = std::make_shared<int64_t>(0);
  Notifier* notifier = &notifier_;
  store::WriteFn write = [appender, notifier, user, room_id, type, edit = std::move(edit),
                          stream](store::Connection& c) -> Result<void> {
    if (!room_id.empty()) {
      RUCHE_ASSIGN_OR_RETURN(auto membership, MembershipOf(c, room_id, user));
      if (membership != "join") {
        return core::Error::Forbidden("You are not in this room");
      }
    }
    RUCHE_ASSIGN_OR_RETURN(
        auto row, c.QueryOne("SELECT json FROM account_data WHERE user_id = ? AND room_id = ? "
                             "AND type = ?",
                             {user, room_id, type}));
    std::optional<json::object> current;
    if (row) {
      auto parsed = core::ParseJsonObject(row->Text(0));
      if (parsed) {
        current = std::move(*parsed);
      }
    }
    RUCHE_ASSIGN_OR_RETURN(json::object next_content, edit(std::move(current)));
    RUCHE_ASSIGN_OR_RETURN(auto next, appender->NextStreamOrdering(c));
    *stream = next;
    notifier->NoteWrite(Notifier::Kind::kAccountData, next);
    RUCHE_RETURN_IF_ERROR(
        c.Execute("INSERT INTO account_data (user_id, room_id, type, json, stream_ordering) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, room_id, type) DO UPDATE SET "
                  "json = excluded.json, stream_ordering = excluded.stream_ordering",
                  {user, room_id, type, json::serialize(next_content), next}));
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (committed) {
    std::vector<std::string> users{user};
    notifier_.Publish(*stream, {}, users);
  }
  co_return committed;
}

asio::awaitable<Response> AccountRoutes::GetAccountData(Request& req, bool per_room) {
  auto session = Owner(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string room_id;
  if (per_room) {
    room_id = std::string(req.Param("roomId"));
  }
  auto row = deps_.store.Read()->QueryOne(
      "SELECT json FROM account_data WHERE user_id = ? AND room_id = ? AND type = ?",
      {session->user_id, room_id, std::string(req.Param("type"))});
  if (!row) {
    co_return Fail(row.error());
  }
  if (!*row) {
    co_return Fail(core::Error::NotFound("No account data of that type"));
  }
  Response r;
  r.body = (*row)->Text(0);
  co_return r;
}

asio::awaitable<Response> AccountRoutes::GetProfile(Request& req, std::string field) {
  // Profiles of local users are visible to any signed-in user (the spec allows it; rooms and
  // the user directory show them anyway).
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string user_id(req.Param("userId"));
  std::string suffix = ":" + deps_.accounts.server_name();
  if (user_id.size() <= suffix.size() + 1 || user_id.front() != '@' || !user_id.ends_with(suffix)) {
    co_return Fail(core::Error::NotFound("Profile not found"));
  }
  std::string localpart = user_id.substr(1, user_id.size() - suffix.size() - 1);
  auto lease = deps_.store.Read();
  auto row = lease->QueryOne(
      "SELECT p.displayname, p.avatar_url FROM users u LEFT JOIN profiles p "
      "ON p.localpart = u.localpart WHERE u.localpart = ?",
      {localpart});
  if (!row) {
    co_return Fail(row.error());
  }
  if (!*row) {
    co_return Fail(core::Error::NotFound("Profile not found"));
  }
  json::object out;
  if (!(*row)->IsNull(0) && (field.empty() || field == "displayname")) {
    out["displayname"] = (*row)->Text(0);
  }
  if (!(*row)->IsNull(1) && (field.empty() || field == "avatar_url")) {
    out["avatar_url"] = (*row)->Text(1);
  }
  if (!field.empty() && out.empty()) {
    co_return Fail(core::Error::NotFound("No " + field + " set"));
  }
  co_return Response::Json(out);
}

asio::awaitable<Response> AccountRoutes::PutProfile(Request& req, std::string field) {
  auto session = Owner(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  auto value = core::OptString(*body, field);
  if (!value) {
    co_return Fail(value.error());
  }
  store::Value stored;  // null or "" clears the field
  if (*value && !(*value)->empty()) {
    if ((*value)->size() > kMaxProfileValue) {
      co_return Fail(core::Error::BadRequest(field + " is too long"));
    }
    if (field == "avatar_url" && !(*value)->starts_with("mxc://")) {
      co_return Fail(core::Error::BadRequest("avatar_url must be an mxc:// URI"));
    }
    stored = std::string(**value);
  }
  std::string localpart = session->localpart;
  std::string user_id = session->user_id;
  // NOTE: the column name comes from the route table above, never from the request.
  std::string sql = "INSERT INTO profiles (localpart, " + field + ") VALUES (?, ?) " +
                    "ON CONFLICT (localpart) DO UPDATE SET " + field + " = excluded." + field;
  // Clients name members from their member events, so the new name or picture is announced in
  // every room the user has joined (as Synapse does): their member event again, updated.
  auto rooms = std::make_shared<std::vector<std::string>>();
  auto last = std::make_shared<int64_t>(0);
  store::WriteFn write = [localpart, user_id, field, stored, sql, rooms, last,
                          appender = events_](store::Connection& c) -> Result<void> {
    rooms->clear();
    RUCHE_RETURN_IF_ERROR(c.Execute(sql, {localpart, stored}));
    RUCHE_ASSIGN_OR_RETURN(
        auto joined,
        c.Query("SELECT m.room_id, e.json FROM memberships m JOIN room_state s ON s.room_id = "
                "m.room_id AND s.type = 'm.room.member' AND s.state_key = m.user_id JOIN events "
                "e ON e.event_id = s.event_id WHERE m.user_id = ? AND m.membership = 'join'",
                {user_id}));
    for (const auto& row : joined) {
      auto current = ParseStoredEvent(row.Text(1));
      if (!current || !current->contains("content") || !current->at("content").is_object()) {
        continue;
      }
      json::object content = current->at("content").as_object();
      content.erase("reason");
      content.erase("join_authorised_via_users_server");  // valid on the join it authorised only
      const json::value* had = content.if_contains(field);
      const std::string* now = std::get_if<std::string>(&stored);
      if (now ? (had && had->is_string() && had->get_string() == *now) : had == nullptr) {
        continue;  // already says so
      }
      if (now) {
        content[field] = *now;
      } else {
        content.erase(field);
      }
      auto appended = appender->Append(c, NewEvent{row.Text(0), "m.room.member", user_id, user_id,
                                                   std::move(content), std::nullopt});
      if (!appended) {
        if (appended.error().http_status >= 500) {
          return appended.error();
        }
        continue;  // refused before anything was written (e.g. a room's rules): skip it
      }
      rooms->push_back(row.Text(0));
      *last = std::max(*last, appended->stream_ordering);
    }
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return Fail(committed.error());
  }
  if (!rooms->empty()) {
    notifier_.Publish(*last, *rooms, {user_id});
  }
  co_return Response::Json(json::object{});
}

namespace {

constexpr size_t kMaxTagLength = 255;
constexpr size_t kMaxTagsPerRoom = 100;

}  // namespace

asio::awaitable<Response> AccountRoutes::GetTags(Request& req) {
  auto session = Owner(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto row = deps_.store.Read()->QueryOne(
      "SELECT json FROM account_data WHERE user_id = ? AND room_id = ? AND type = 'm.tag'",
      {session->user_id, std::string(req.Param("roomId"))});
  if (!row) {
    co_return Fail(row.error());
  }
  json::object tags;
  if (*row) {
    auto content = core::ParseJsonObject((*row)->Text(0));
    if (content && content->contains("tags") && content->at("tags").is_object()) {
      tags = content->at("tags").get_object();
    }
  }
  co_return Response::Json(json::object{{"tags", std::move(tags)}});
}

asio::awaitable<Response> AccountRoutes::EditTag(Request& req, bool put) {
  auto session = Owner(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string tag(req.Param("tag"));
  if (tag.empty() || tag.size() > kMaxTagLength) {
    co_return Fail(core::Error::BadRequest("Invalid tag", "M_INVALID_PARAM"));
  }
  json::object value;
  if (put) {
    auto body = core::ParseJsonObjectOrEmpty(req.body);
    if (!body) {
      co_return Fail(body.error());
    }
    if (const json::value* order = body->if_contains("order")) {
      if (!order->is_number() || order->to_number<double>() < 0 || order->to_number<double>() > 1) {
        co_return Fail(core::Error::BadRequest("'order' must be a number between 0 and 1"));
      }
      value["order"] = order->to_number<double>();
    }
  }
  AccountDataEdit edit = [tag, value,
                          put](std::optional<json::object> current) -> Result<json::object> {
    json::object content = current.value_or(json::object{});
    json::value& tags = content["tags"];
    if (!tags.is_object()) {
      tags = json::object{};
    }
    if (put) {
      if (!tags.as_object().contains(tag) && tags.as_object().size() >= kMaxTagsPerRoom) {
        return core::Error::BadRequest("Too many tags on this room", "M_RESOURCE_LIMIT_EXCEEDED");
      }
      tags.as_object()[tag] = value;
    } else {
      tags.as_object().erase(tag);
    }
    return content;
  };
  // NOTE: named arguments, no temporaries inside co_await (gcc 12).
  std::string user = session->user_id, room_id(req.Param("roomId")), type = "m.tag";
  auto r = co_await EditAccountData(user, room_id, type, std::move(edit));
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(json::object{});
}

Result<json::object> AccountRoutes::PushRulesOf(const auth::Session& session) {
  auto row = deps_.store.Read()->QueryOne(
      "SELECT json FROM account_data WHERE user_id = ? AND room_id = '' AND type = "
      "'m.push_rules'",
      {session.user_id});
  if (!row) {
    return row.error();
  }
  if (*row) {
    auto stored = core::ParseJsonObject((*row)->Text(0));
    if (stored) {
      return std::move(*stored);
    }
  }
  return DefaultPushRules(session.user_id, session.localpart);
}

asio::awaitable<Response> AccountRoutes::GetPushRules(Request& req, std::string what) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto rules = PushRulesOf(*session);
  if (!rules) {
    co_return Fail(rules.error());
  }
  if (what.empty()) {
    co_return Response::Json(std::move(*rules));
  }
  if (what == "global") {
    co_return Response::Json((*rules)["global"]);
  }
  auto rule = FindPushRule(*rules, req.Param("kind"), req.Param("ruleId"));
  if (!rule) {
    co_return Fail(rule.error());
  }
  if (what == "rule") {
    co_return Response::Json(std::move(*rule));
  }
  co_return Response::Json(json::object{{what, (*rule)[what]}});
}

asio::awaitable<Response> AccountRoutes::EditPushRule(Request& req, std::string what, bool remove) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  json::object body;
  if (!remove) {
    auto parsed = core::ParseJsonObject(req.body);
    if (!parsed) {
      co_return Fail(parsed.error());
    }
    body = std::move(*parsed);
  }
  std::string kind(req.Param("kind")), rule_id(req.Param("ruleId"));
  std::optional<std::string> before, after;
  if (auto b = req.QueryParam("before")) {
    before = std::string(*b);
  }
  if (auto a = req.QueryParam("after")) {
    after = std::string(*a);
  }
  json::object defaults = DefaultPushRules(session->user_id, session->localpart);
  AccountDataEdit edit = [=](std::optional<json::object> current) -> Result<json::object> {
    json::object rules = current.value_or(defaults);
    if (remove) {
      RUCHE_RETURN_IF_ERROR(DeletePushRule(rules, kind, rule_id));
    } else if (what.empty()) {
      std::optional<std::string_view> b, a;
      if (before) {
        b = *before;
      }
      if (after) {
        a = *after;
      }
      RUCHE_RETURN_IF_ERROR(PutPushRule(rules, kind, rule_id, body, b, a));
    } else {
      RUCHE_RETURN_IF_ERROR(SetPushRuleAttribute(rules, kind, rule_id, what, body));
    }
    return rules;
  };
  std::string user = session->user_id, global_room, type = "m.push_rules";
  auto r = co_await EditAccountData(user, global_room, type, std::move(edit));
  if (!r) {
    co_return Fail(r.error());
  }
  co_return Response::Json(json::object{});
}

}  // namespace ruche::matrix
