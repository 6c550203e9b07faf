#include "matrix/room_routes.hpp"

#include <charconv>
#include <set>

#include "auth/accounts.hpp"
#include "core/clock.hpp"
#include "matrix/aggregations.hpp"
#include "matrix/canonical_json.hpp"
#include "matrix/directory_routes.hpp"
#include "matrix/event_filter.hpp"
#include "matrix/route_helpers.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;

namespace {

constexpr size_t kMaxInvites = 100;
constexpr size_t kMaxInitialState = 100;
constexpr int64_t kMaxMessagesLimit = 1000;
// /messages with a filter reads at most this many events per request looking for matches.
constexpr int64_t kMaxFilterScan = 5000;
constexpr size_t kMaxTxnIdLength = 255;
constexpr size_t kMaxEventTypeLength = 255;

bool ValidUserId(std::string_view id) {
  size_t colon = id.find(':');
  return id.size() > 3 && id.size() <= auth::kMaxUserIdLength && id.front() == '@' &&
         colon != std::string_view::npos && colon > 1 && colon + 1 < id.size();
}

Result<void> ValidEventType(std::string_view type) {
  if (type.empty() || type.size() > kMaxEventTypeLength) {
    return core::Error::BadRequest("Invalid event type", "M_INVALID_PARAM");
  }
  return {};
}

// Power levels a new room starts with (spec: createRoom, "m.room.power_levels" defaults).
json::object DefaultPowerLevels(const std::string& creator) {
  return json::object{{"users", json::object{{creator, 100}}},
                      {"users_default", 0},
                      {"events", json::object{{"m.room.name", 50},
                                              {"m.room.power_levels", 100},
                                              {"m.room.history_visibility", 100},
                                              {"m.room.canonical_alias", 50},
                                              {"m.room.avatar", 50},
                                              {"m.room.tombstone", 100},
                                              {"m.room.server_acl", 100},
                                              {"m.room.encryption", 100}}},
                      {"events_default", 0},
                      {"state_default", 50},
                      {"ban", 50},
                      {"kick", 50},
                      {"redact", 50},
                      {"invite", 0},
                      {"notifications", json::object{{"room", 50}}}};
}

// Shallow merge, one level into objects (users/events), as createRoom's override expects.
void MergeOverride(json::object& into, const json::object& override_content) {
  for (const auto& kv : override_content) {
    auto it = into.find(kv.key());
    if (it != into.end() && it->value().is_object() && kv.value().is_object()) {
      for (const auto& inner : kv.value().get_object()) {
        it->value().get_object()[inner.key()] = inner.value();
      }
    } else {
      into[kv.key()] = kv.value();
    }
  }
}

json::array EventsToArray(std::vector<json::object> events) {
  json::array out;
  out.reserve(events.size());
  for (auto& e : events) {
    out.emplace_back(std::move(e));
  }
  return out;
}

// Inside a write: authorizes and appends a redaction of `target`, and rewrites the target to its
// redacted form in the same transaction, so once the client has its 200 the content is gone
// from storage, not only hidden.
Result<StoredEvent> RedactInWrite(store::Connection& c, RoomEvents& events,
                                  const std::string& room_id, const std::string& target,
                                  const std::string& sender, json::object content) {
  // Membership first: a stranger must not learn whether an event ID exists in a private room
  // from "not found" versus "not yours".
  RUCHE_RETURN_IF_ERROR(RequireJoined(c, room_id, sender));
  RUCHE_ASSIGN_OR_RETURN(auto version, RoomVersionOf(c, room_id));
  RUCHE_ASSIGN_OR_RETURN(auto row, (c.QueryOne("SELECT json, sender FROM events WHERE "
                                               "event_id = ? AND room_id = ?",
                                               {target, room_id})));
  if (!version || !row) {
    return core::Error::NotFound("Event not found");
  }
  DbRoomState state(c, room_id);
  if (!MayRedact(state, sender, row->Text(1), *version)) {
    return core::Error::Forbidden("You may only redact your own messages");
  }
  NewEvent ev{room_id, "m.room.redaction", sender, std::nullopt, std::move(content), std::nullopt};
  if (*version == "11") {
    ev.content["redacts"] = target;
  } else {
    ev.redacts = target;
  }
  RUCHE_ASSIGN_OR_RETURN(auto stored, events.Append(c, ev));
  RUCHE_ASSIGN_OR_RETURN(auto original, ParseStoredEvent(row->Text(0)));
  RUCHE_ASSIGN_OR_RETURN(auto redacted, Redact(original, *version));
  redacted["unsigned"] = json::object{{"redacted_because", stored.event}};
  RUCHE_RETURN_IF_ERROR((c.Execute("UPDATE events SET json = ? WHERE event_id = ?",
                                   {json::serialize(redacted), target})));
  // The redacted form has no m.relates_to: it no longer edits, annotates or replies in a thread.
  RUCHE_RETURN_IF_ERROR((c.Execute("DELETE FROM event_relations WHERE event_id = ?", {target})));
  return stored;
}

}  // namespace

std::string StreamToken(int64_t stream) { return "s" + std::to_string(stream); }

Result<SyncToken> ParseSyncToken(std::string_view token) {
  auto invalid = [] {
    return core::Error::BadRequest("Invalid pagination token", "M_INVALID_PARAM");
  };
  if (token.size() < 2 || token.front() != 's') {
    return invalid();
  }
  SyncToken parsed;
  const char* end = token.data() + token.size();
  auto [ptr, ec] = std::from_chars(token.data() + 1, end, parsed.stream);
  if (ec != std::errc() || parsed.stream < 0) {
    return invalid();
  }
  if (ptr != end) {
    if (*ptr != '_') {
      return invalid();
    }
    auto [tptr, tec] = std::from_chars(ptr + 1, end, parsed.typing);
    if (tec != std::errc() || tptr != end || parsed.typing < 0) {
      return invalid();
    }
  }
  return parsed;
}

std::string SyncTokenText(const SyncToken& token) {
  return StreamToken(token.stream) + "_" + std::to_string(token.typing);
}

Result<int64_t> ParseStreamToken(std::string_view token) {
  // A sync token's typing part says nothing about history: pagination uses the stream alone.
  RUCHE_ASSIGN_OR_RETURN(auto parsed, ParseSyncToken(token));
  return parsed.stream;
}

RoomRoutes::RoomRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier,
                       std::shared_ptr<RoomEvents> events, PresenceTracker& presence)
    : deps_(deps),
      notifier_(notifier),
      events_(std::move(events)),
      presence_(presence),
      send_per_user_(deps.config.limits.send_per_user_per_second,
                     deps.config.limits.send_per_user_burst),
      send_per_room_(deps.config.limits.send_per_room_per_second,
                     deps.config.limits.send_per_room_burst) {
  AddClientRoute(router, "POST", "/createRoom", [this](Request& r) { return CreateRoom(r); });
  AddClientRoute(router, "PUT", "/rooms/{roomId}/send/{eventType}/{txnId}",
                 [this](Request& r) { return Send(r); });
  for (const char* p : {"/rooms/{roomId}/state/{eventType}", "/rooms/{roomId}/state/{eventType}/",
                        "/rooms/{roomId}/state/{eventType}/{stateKey}"}) {
    AddClientRoute(router, "PUT", p, [this](Request& r) { return PutState(r); });
    AddClientRoute(router, "GET", p, [this](Request& r) { return GetState(r); });
  }
  AddClientRoute(router, "GET", "/rooms/{roomId}/state",
                 [this](Request& r) { return GetAllState(r); });
  AddClientRoute(router, "POST", "/rooms/{roomId}/join",
                 [this](Request& r) { return Membership(r, "join"); });
  AddClientRoute(router, "POST", "/join/{roomId}",
                 [this](Request& r) { return Membership(r, "join"); });
  for (const char* action : {"invite", "leave", "kick", "ban", "unban"}) {
    AddClientRoute(router, "POST", std::string("/rooms/{roomId}/") + action,
                   [this, action](Request& r) { return Membership(r, action); });
  }
  AddClientRoute(router, "GET", "/joined_rooms", [this](Request& r) { return JoinedRooms(r); });
  AddClientRoute(router, "GET", "/rooms/{roomId}/event/{eventId}",
                 [this](Request& r) { return GetEvent(r); });
  AddClientRoute(router, "GET", "/rooms/{roomId}/messages",
                 [this](Request& r) { return Messages(r); });
  AddClientRoute(router, "PUT", "/rooms/{roomId}/redact/{eventId}/{txnId}",
                 [this](Request& r) { return Redact(r); });
  AddClientRoute(router, "GET", "/rooms/{roomId}/members",
                 [this](Request& r) { return Members(r, false); });
  AddClientRoute(router, "GET", "/rooms/{roomId}/joined_members",
                 [this](Request& r) { return Members(r, true); });
  AddClientRoute(router, "POST", "/rooms/{roomId}/receipt/{receiptType}/{eventId}",
                 [this](Request& r) { return Receipt(r); });
  AddClientRoute(router, "POST", "/rooms/{roomId}/read_markers",
                 [this](Request& r) { return ReadMarkers(r); });
  for (const char* p :
       {"/rooms/{roomId}/relations/{eventId}", "/rooms/{roomId}/relations/{eventId}/{relType}",
        "/rooms/{roomId}/relations/{eventId}/{relType}/{eventType}"}) {
    router.Add("GET", std::string("/_matrix/client/v1") + p,
               [this](Request& r) { return Relations(r); });
  }
}

asio::awaitable<Result<std::vector<StoredEvent>>> RoomRoutes::AppendEvents(
    std::vector<NewEvent> events) {
  auto out = std::make_shared<std::vector<StoredEvent>>();
  auto appender = events_;
  store::WriteFn write = [appender, events = std::move(events),
                          out](store::Connection& c) -> Result<void> {
    out->clear();
    for (const auto& ev : events) {
      auto stored = appender->Append(c, ev);
      if (!stored) {
        return stored.error();
      }
      out->push_back(std::move(*stored));
    }
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return committed.error();
  }
  std::vector<std::string> rooms, users;
  int64_t last = 0;
  for (const auto& e : *out) {
    rooms.push_back(e.room_id);
    if (e.type == "m.room.member" && e.state_key) {
      users.push_back(*e.state_key);
    }
    last = std::max(last, e.stream_ordering);
  }
  notifier_.Publish(last, rooms, users);
  co_return std::move(*out);
}

// A membership event's content with the user's profile (displayname, avatar_url), as clients
// expect on joins and invites: they name members, and an invited person, from these events
// before any profile lookup. Users of other servers, and unset fields, add nothing.
static void AddProfile(store::Connection& conn, const auth::Accounts& accounts,
                       const std::string& user_id, json::object& content) {
  auto localpart = accounts.LocalpartFrom(user_id);
  if (!localpart) {
    return;
  }
  auto row = conn.QueryOne("SELECT displayname, avatar_url FROM profiles WHERE localpart = ?",
                           {*localpart});
  if (!row || !*row) {
    return;
  }
  if (!(*row)->IsNull(0)) {
    content["displayname"] = (*row)->Text(0);
  }
  if (!(*row)->IsNull(1)) {
    content["avatar_url"] = (*row)->Text(1);
  }
}

asio::awaitable<Response> RoomRoutes::CreateRoom(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  const std::string& creator = session->user_id;
  std::string room_version = kDefaultRoomVersion;
  std::string preset = "private_chat";
  if (auto v = body->find("visibility"); v != body->end() && v->value() == "public") {
    preset = "public_chat";
  }
  for (const char* key :
       {"room_version", "preset", "name", "topic", "visibility", "room_alias_name"}) {
    if (auto it = body->find(key); it != body->end() && !it->value().is_string()) {
      co_return Fail(core::Error::BadRequest(std::string("'") + key + "' must be a string"));
    }
  }
  if (auto v = body->find("room_version"); v != body->end()) {
    room_version = std::string(v->value().get_string());
    if (room_version != "10" && room_version != "11") {
      co_return Fail(core::Error::BadRequest("Room version " + room_version + " is not supported",
                                             "M_UNSUPPORTED_ROOM_VERSION"));
    }
  }
  if (auto v = body->find("preset"); v != body->end()) {
    preset = std::string(v->value().get_string());
    if (preset != "private_chat" && preset != "public_chat" && preset != "trusted_private_chat") {
      co_return Fail(core::Error::BadRequest("Unknown preset", "M_INVALID_PARAM"));
    }
  }
  json::object creation_content;
  if (auto v = body->find("creation_content"); v != body->end()) {
    if (!v->value().is_object()) {
      co_return Fail(core::Error::BadRequest("'creation_content' must be an object"));
    }
    creation_content = v->value().get_object();
  }
  std::vector<std::string> invites;
  if (auto v = body->find("invite"); v != body->end()) {
    if (!v->value().is_array() || v->value().get_array().size() > kMaxInvites) {
      co_return Fail(core::Error::BadRequest("'invite' must be a list of at most 100 user IDs"));
    }
    for (const auto& id : v->value().get_array()) {
      if (!id.is_string() || !ValidUserId(id.get_string())) {
        co_return Fail(core::Error::BadRequest("Invalid user ID in 'invite'", "M_INVALID_PARAM"));
      }
      invites.emplace_back(id.get_string());
    }
  }
  bool is_direct = false;
  if (auto v = body->find("is_direct"); v != body->end() && v->value().is_bool()) {
    is_direct = v->value().get_bool();
  }
  // room_alias_name and visibility: the alias and the directory entry are made in the room's
  // own write, so a taken alias leaves no room behind.
  std::string alias;
  if (auto v = body->find("room_alias_name"); v != body->end()) {
    std::string local(v->value().get_string());
    alias = "#" + local + ":" + events_->server_name();
    if (local.find(':') != std::string::npos ||
        !ValidateLocalAlias(alias, events_->server_name())) {
      co_return Fail(core::Error::BadRequest("Invalid room_alias_name", "M_INVALID_PARAM"));
    }
  }
  bool publish = false;
  if (auto v = body->find("visibility"); v != body->end() && v->value() == "public") {
    publish = true;
  }

  std::string room_id = events_->NewRoomId();
  std::vector<NewEvent> events;
  auto state = [&](std::string type, json::object content, std::string key = "") {
    events.push_back(NewEvent{room_id, std::move(type), creator, std::move(key), std::move(content),
                              std::nullopt});
  };
  json::object creator_content{{"membership", "join"}};
  AddProfile(deps_.store.Read().conn(), deps_.accounts, creator, creator_content);
  state("m.room.member", std::move(creator_content), creator);
  json::object power = DefaultPowerLevels(creator);
  if (preset == "trusted_private_chat") {
    for (const auto& id : invites) {
      power["users"].as_object()[id] = 100;
    }
  }
  if (auto v = body->find("power_level_content_override"); v != body->end()) {
    if (!v->value().is_object()) {
      co_return Fail(core::Error::BadRequest("'power_level_content_override' must be an object"));
    }
    MergeOverride(power, v->value().get_object());
  }
  state("m.room.power_levels", std::move(power));
  if (!alias.empty()) {
    state("m.room.canonical_alias", json::object{{"alias", alias}});
  }
  state("m.room.join_rules",
        json::object{{"join_rule", preset == "public_chat" ? "public" : "invite"}});
  state("m.room.history_visibility", json::object{{"history_visibility", "shared"}});
  state("m.room.guest_access",
        json::object{{"guest_access", preset == "public_chat" ? "forbidden" : "can_join"}});
  if (auto v = body->find("initial_state"); v != body->end()) {
    if (!v->value().is_array() || v->value().get_array().size() > kMaxInitialState) {
      co_return Fail(core::Error::BadRequest("'initial_state' must be a list of state events"));
    }
    for (const auto& item : v->value().get_array()) {
      const json::object* obj = item.if_object();
      if (obj == nullptr || !obj->contains("type") || !obj->at("type").is_string() ||
          !obj->contains("content") || !obj->at("content").is_object() ||
          (obj->contains("state_key") && !obj->at("state_key").is_string())) {
        co_return Fail(core::Error::BadRequest("Invalid event in 'initial_state'"));
      }
      std::string key;
      if (obj->contains("state_key")) {
        key = std::string(obj->at("state_key").get_string());
      }
      state(std::string(obj->at("type").get_string()), obj->at("content").get_object(), key);
    }
  }
  if (auto v = body->find("name"); v != body->end()) {
    state("m.room.name", json::object{{"name", v->value()}});
  }
  if (auto v = body->find("topic"); v != body->end()) {
    state("m.room.topic", json::object{{"topic", v->value()}});
  }
  for (const auto& id : invites) {
    json::object content{{"membership", "invite"}};
    if (is_direct) {
      content["is_direct"] = true;
    }
    AddProfile(deps_.store.Read().conn(), deps_.accounts, id, content);
    state("m.room.member", std::move(content), id);
  }
  // The create event first: it inserts the room row the others are checked against.
  auto creation = std::make_shared<json::object>(std::move(creation_content));
  auto appender = events_;
  auto out = std::make_shared<std::vector<StoredEvent>>();
  store::WriteFn write = [appender, room_id, room_version, creator, creation, events, out, alias,
                          publish](store::Connection& c) -> Result<void> {
    auto created = appender->Create(c, room_id, room_version, creator, *creation);
    if (!created) {
      return created.error();
    }
    out->push_back(std::move(*created));
    for (const auto& ev : events) {
      auto stored = appender->Append(c, ev);
      if (!stored) {
        return stored.error();
      }
      out->push_back(std::move(*stored));
    }
    if (!alias.empty()) {
      if (auto made = CreateAliasInWrite(c, alias, room_id, creator); !made) {
        if (made.error().http_status == 409) {
          return core::Error::BadRequest("Room alias already taken", "M_ROOM_IN_USE");
        }
        return made.error();
      }
    }
    if (publish) {
      RUCHE_RETURN_IF_ERROR(SetRoomPublishedInWrite(c, room_id, true));
    }
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return Fail(committed.error());
  }
  std::vector<std::string> users(invites);
  users.push_back(creator);
  notifier_.Publish(out->back().stream_ordering, {room_id}, users);
  co_return Response::Json(json::object{{"room_id", room_id}});
}

asio::awaitable<Response> RoomRoutes::SendOnce(const auth::Session& session, std::string txn,
                                               EventMaker make) {
  if (txn.size() > kMaxTxnIdLength) {
    co_return Fail(core::Error::BadRequest("Transaction ID too long", "M_INVALID_PARAM"));
  }
  if (int64_t wait = send_per_user_.Take(session.user_id, core::MonotonicMs())) {
    co_return Fail(core::Error::LimitExceeded(wait));
  }
  auto stored = std::make_shared<StoredEvent>();
  auto existing = std::make_shared<std::string>();
  std::string localpart = session.localpart, device = session.device_id;
  // The transaction is looked up inside the write, so two concurrent retries create one event;
  // a retry answers with the event the first attempt created.
  store::WriteFn write = [make = std::move(make), stored, existing, localpart, device, txn,
                          room_budget = &send_per_room_](store::Connection& c) -> Result<void> {
    auto seen = c.QueryOne(
        "SELECT event_id FROM transaction_ids WHERE localpart = ? AND device_id = ? AND "
        "txn_id = ?",
        {localpart, device, txn});
    if (!seen) {
      return seen.error();
    }
    if (*seen) {
      *existing = (*seen)->Text(0);
      return {};
    }
    RUCHE_ASSIGN_OR_RETURN(*stored, make(c));
    // The room's budget is charged only once the event is authorized (and rolled back with
    // it otherwise): someone outside a room can neither drain it nor learn from a 429 that
    // the room exists or is busy.
    if (int64_t wait = room_budget->Take(stored->room_id, core::MonotonicMs())) {
      return core::Error::LimitExceeded(wait);
    }
    RUCHE_RETURN_IF_ERROR((c.Execute(
        "INSERT INTO transaction_ids (localpart, device_id, txn_id, event_id) VALUES (?, ?, ?, ?)",
        {localpart, device, txn, stored->event_id})));
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return Fail(committed.error());
  }
  if (!existing->empty()) {
    co_return Response::Json(json::object{{"event_id", *existing}});
  }
  notifier_.Publish(stored->stream_ordering, {stored->room_id}, {});
  co_await presence_.Active(session.user_id);
  co_return Response::Json(json::object{{"event_id", stored->event_id}});
}

asio::awaitable<Response> RoomRoutes::Send(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string room_id(req.Param("roomId")), type(req.Param("eventType"));
  if (auto v = ValidEventType(type); !v) {
    co_return Fail(v.error());
  }
  auto content = core::ParseJsonObject(req.body);
  if (!content) {
    co_return Fail(content.error());
  }
  auto appender = events_;
  std::string sender = session->user_id;
  EventMaker make;
  if (type == "m.room.redaction") {
    // A redaction sent as a plain event gets the same checks and the same erasure as /redact.
    auto target = core::RequireString(*content, "redacts");
    if (!target) {
      co_return Fail(target.error());
    }
    std::string target_id(*target);
    make = [appender, room_id, target_id, sender,
            content = std::move(*content)](store::Connection& c) {
      return RedactInWrite(c, *appender, room_id, target_id, sender, content);
    };
  } else {
    NewEvent ev{room_id, type, sender, std::nullopt, std::move(*content), std::nullopt};
    make = [appender, ev = std::move(ev)](store::Connection& c) { return appender->Append(c, ev); };
  }
  co_return co_await SendOnce(*session, std::string(req.Param("txnId")), std::move(make));
}

asio::awaitable<Response> RoomRoutes::PutState(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string type(req.Param("eventType"));
  if (auto v = ValidEventType(type); !v) {
    co_return Fail(v.error());
  }
  auto content = core::ParseJsonObject(req.body);
  if (!content) {
    co_return Fail(content.error());
  }
  if (int64_t wait = send_per_user_.Take(session->user_id, core::MonotonicMs())) {
    co_return Fail(core::Error::LimitExceeded(wait));
  }
  std::vector<NewEvent> events;
  events.push_back(NewEvent{std::string(req.Param("roomId")), type, session->user_id,
                            std::string(req.Param("stateKey")), std::move(*content), std::nullopt});
  auto stored = co_await AppendEvents(std::move(events));
  if (!stored) {
    co_return Fail(stored.error());
  }
  co_return Response::Json(json::object{{"event_id", stored->front().event_id}});
}

asio::awaitable<Response> RoomRoutes::GetState(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string room_id(req.Param("roomId"));
  auto lease = deps_.store.Read();
  if (auto joined = RequireJoined(lease.conn(), room_id, session->user_id); !joined) {
    co_return Fail(joined.error());
  }
  DbRoomState state(lease.conn(), room_id);
  const json::object* content = state.Get(req.Param("eventType"), req.Param("stateKey"));
  if (content == nullptr) {
    co_return Fail(core::Error::NotFound("Event not found"));
  }
  co_return Response::Json(*content);
}

asio::awaitable<Response> RoomRoutes::GetAllState(Request& req) {
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
      "SELECT e.json FROM room_state s JOIN events e ON e.event_id = s.event_id "
      "WHERE s.room_id = ? ORDER BY e.stream_ordering",
      {room_id});
  if (!rows) {
    co_return Fail(rows.error());
  }
  json::array out;
  for (const auto& row : *rows) {
    auto ev = ParseStoredEvent(row.Text(0));
    if (ev) {
      out.emplace_back(std::move(*ev));
    }
  }
  co_return Response::Json(out);
}

asio::awaitable<Response> RoomRoutes::Membership(Request& req, std::string action) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string room_id(req.Param("roomId"));
  if (action == "join" && !room_id.empty() && room_id.front() == '#') {
    auto resolved = ResolveAlias(deps_.store.Read().conn(), room_id);  // POST /join/{alias}
    if (!resolved) {
      co_return Fail(resolved.error());
    }
    if (!*resolved) {
      co_return Fail(core::Error::NotFound("Room alias not found"));
    }
    room_id = **resolved;
  }
  if (room_id.empty() || room_id.front() != '!') {
    co_return Fail(core::Error::NotFound("Invalid room ID"));
  }
  auto body = core::ParseJsonObjectOrEmpty(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  std::string target = session->user_id;
  std::string membership = action;
  if (action == "invite" || action == "kick" || action == "ban" || action == "unban") {
    auto user = core::RequireString(*body, "user_id");
    if (!user) {
      co_return Fail(user.error());
    }
    if (!ValidUserId(*user)) {
      co_return Fail(core::Error::BadRequest("Invalid user ID", "M_INVALID_PARAM"));
    }
    target = std::string(*user);
    if (action == "kick" || action == "unban") {
      membership = "leave";
    }
  }
  json::object content{{"membership", membership}};
  if (auto reason = body->find("reason"); reason != body->end() && reason->value().is_string()) {
    content["reason"] = reason->value();
  }
  if (membership == "join" || membership == "invite") {
    AddProfile(deps_.store.Read().conn(), deps_.accounts, target, content);
  }
  std::vector<NewEvent> events;
  events.push_back(NewEvent{room_id, "m.room.member", session->user_id, target, std::move(content),
                            std::nullopt});
  auto stored = co_await AppendEvents(std::move(events));
  if (!stored) {
    core::Error e = stored.error();
    if (action == "join" && e.http_status == 403) {
      // One answer whether the room is missing, private or forbidden: it reveals nothing.
      e.message = "You cannot join this room";
    }
    co_return Fail(e);
  }
  if (action == "join") {
    co_return Response::Json(json::object{{"room_id", room_id}});
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> RoomRoutes::JoinedRooms(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto rows = deps_.store.Read()->Query(
      "SELECT room_id FROM memberships WHERE user_id = ? AND membership = 'join'",
      {session->user_id});
  if (!rows) {
    co_return Fail(rows.error());
  }
  json::array ids;
  for (const auto& row : *rows) {
    ids.emplace_back(row.Text(0));
  }
  co_return Response::Json(json::object{{"joined_rooms", std::move(ids)}});
}

asio::awaitable<Response> RoomRoutes::GetEvent(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string room_id(req.Param("roomId"));
  auto lease = deps_.store.Read();
  auto membership = MembershipOf(lease.conn(), room_id, session->user_id);
  if (!membership) {
    co_return Fail(membership.error());
  }
  auto row = lease->QueryOne("SELECT json FROM events WHERE event_id = ? AND room_id = ?",
                             {std::string(req.Param("eventId")), room_id});
  if (!row) {
    co_return Fail(row.error());
  }
  // Not found and not allowed look the same.
  if (*membership != "join" || !*row) {
    co_return Fail(core::Error::NotFound("Event not found"));
  }
  auto ev = ParseStoredEvent((*row)->Text(0));
  if (!ev) {
    co_return Fail(ev.error());
  }
  if (auto agg = AddAggregations(lease.conn(), {&*ev}, session->user_id, session->device_id);
      !agg) {
    co_return Fail(agg.error());
  }
  co_return Response::Json(*ev);
}

asio::awaitable<Response> RoomRoutes::Messages(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string room_id(req.Param("roomId"));
  std::string dir = req.QueryParam("dir").value_or("b");
  if (dir != "b" && dir != "f") {
    co_return Fail(core::Error::BadRequest("'dir' must be b or f", "M_INVALID_PARAM"));
  }
  auto parsed_limit = LimitParam(req, 10, kMaxMessagesLimit);
  if (!parsed_limit) {
    co_return Fail(parsed_limit.error());
  }
  int64_t limit = *parsed_limit;
  int64_t from = 0;
  if (dir == "b") {
    from = notifier_.position();
  }
  if (auto f = req.QueryParam("from")) {
    auto parsed = ParseStreamToken(*f);
    if (!parsed) {
      co_return Fail(parsed.error());
    }
    from = *parsed;
  }
  EventFilter filter;
  if (auto f = req.QueryParam("filter"); f && !f->empty()) {
    auto obj = core::ParseJsonObject(*f);
    if (!obj) {
      co_return Fail(core::Error::BadRequest("Invalid filter", "M_INVALID_PARAM"));
    }
    auto parsed = ParseEventFilter(*obj);
    if (!parsed) {
      co_return Fail(parsed.error());
    }
    filter = std::move(*parsed);
  }
  auto lease = deps_.store.Read();
  if (auto joined = RequireJoined(lease.conn(), room_id, session->user_id); !joined) {
    co_return Fail(joined.error());
  }
  // A token s<N> is the position just after event N (sync's next_batch is one): going back
  // from it returns events <= N, going forward events > N.
  // NOTE: if/else, not ?:, for values built in a coroutine (gcc 12 double destruction).
  const char* sql =
      "SELECT stream_ordering, json FROM events WHERE room_id = ? AND stream_ordering > ? "
      "ORDER BY stream_ordering ASC LIMIT ?";
  if (dir == "b") {
    sql =
        "SELECT stream_ordering, json FROM events WHERE room_id = ? AND stream_ordering <= ? "
        "ORDER BY stream_ordering DESC LIMIT ?";
  }
  // With a filter, read on in batches until `limit` events pass it, the room is exhausted, or
  // kMaxFilterScan events were read (then `end` lets the client go on from there).
  std::vector<json::object> chunk;
  int64_t end = from;  // just past the last event read, in the direction of travel
  bool more = false;
  const int64_t batch = filter.RestrictsEvents() ? std::max<int64_t>(limit, 100) : limit;
  for (int64_t scanned = 0; limit > 0;) {
    auto rows = lease->Query(sql, {room_id, end, batch});
    if (!rows) {
      co_return Fail(rows.error());
    }
    size_t used = 0;
    for (const auto& row : *rows) {
      ++used;
      ++scanned;
      end = dir == "b" ? row.Int(0) - 1 : row.Int(0);
      auto ev = ParseStoredEvent(row.Text(1));
      if (ev && filter.Allows(*ev)) {
        chunk.push_back(std::move(*ev));
        if (static_cast<int64_t>(chunk.size()) == limit) {
          break;
        }
      }
    }
    bool exhausted = static_cast<int64_t>(rows->size()) < batch && used == rows->size();
    if (static_cast<int64_t>(chunk.size()) == limit || scanned >= kMaxFilterScan) {
      more = !exhausted;
      break;
    }
    if (exhausted) {
      break;
    }
  }
  std::vector<json::object*> to_aggregate;
  for (auto& ev : chunk) {
    to_aggregate.push_back(&ev);
  }
  if (auto agg = AddAggregations(lease.conn(), to_aggregate, session->user_id, session->device_id);
      !agg) {
    co_return Fail(agg.error());
  }
  // Lazy loading: the member events of the chunk's senders, as the spec's `state`.
  json::array state;
  if (filter.lazy_load_members) {
    std::set<std::string> senders;
    for (const auto& ev : chunk) {
      if (const json::value* s = ev.if_contains("sender"); s && s->is_string()) {
        senders.emplace(s->get_string());
      }
    }
    for (const auto& sender : senders) {
      auto member = CurrentMemberEventJson(lease.conn(), room_id, sender);
      if (!member) {
        co_return Fail(member.error());
      }
      if (*member) {
        if (auto ev = ParseStoredEvent(**member); ev) {
          state.emplace_back(std::move(*ev));
        }
      }
    }
  }
  json::object out{{"chunk", EventsToArray(std::move(chunk))}, {"start", StreamToken(from)}};
  if (more) {
    out["end"] = StreamToken(end);  // absent end = no more events in that direction
  }
  if (filter.lazy_load_members) {
    out["state"] = std::move(state);
  }
  co_return Response::Json(out);
}

asio::awaitable<Response> RoomRoutes::Redact(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObjectOrEmpty(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  json::object content;
  if (auto reason = body->find("reason"); reason != body->end()) {
    if (!reason->value().is_string()) {
      co_return Fail(core::Error::BadRequest("'reason' must be a string"));
    }
    content["reason"] = reason->value();
  }
  auto appender = events_;
  std::string room_id(req.Param("roomId")), target(req.Param("eventId"));
  std::string sender = session->user_id;
  EventMaker make = [appender, room_id, target, sender, content](store::Connection& c) {
    return RedactInWrite(c, *appender, room_id, target, sender, content);
  };
  co_return co_await SendOnce(*session, std::string(req.Param("txnId")), std::move(make));
}

asio::awaitable<Response> RoomRoutes::Members(Request& req, bool joined_only) {
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
      "SELECT m.user_id, m.membership, e.json FROM memberships m JOIN events e "
      "ON e.event_id = m.event_id WHERE m.room_id = ? ORDER BY m.stream_ordering",
      {room_id});
  if (!rows) {
    co_return Fail(rows.error());
  }
  if (joined_only) {
    json::object joined;
    for (const auto& row : *rows) {
      if (row.Text(1) != "join") {
        continue;
      }
      json::object info;
      if (auto ev = ParseStoredEvent(row.Text(2))) {
        const json::object& c = (*ev)["content"].as_object();
        info["display_name"] = nullptr;
        info["avatar_url"] = nullptr;
        if (c.contains("displayname")) {
          info["display_name"] = c.at("displayname");
        }
        if (c.contains("avatar_url")) {
          info["avatar_url"] = c.at("avatar_url");
        }
      }
      joined[row.Text(0)] = std::move(info);
    }
    co_return Response::Json(json::object{{"joined", std::move(joined)}});
  }
  std::string only = req.QueryParam("membership").value_or("");
  std::string not_membership = req.QueryParam("not_membership").value_or("");
  json::array chunk;
  for (const auto& row : *rows) {
    if ((!only.empty() && row.Text(1) != only) ||
        (!not_membership.empty() && row.Text(1) == not_membership)) {
      continue;
    }
    if (auto ev = ParseStoredEvent(row.Text(2))) {
      chunk.emplace_back(std::move(*ev));
    }
  }
  co_return Response::Json(json::object{{"chunk", std::move(chunk)}});
}

asio::awaitable<Result<void>> RoomRoutes::StoreReceipts(
    std::string room_id, std::string user_id,
    std::vector<std::pair<std::string, std::string>> receipts, std::string thread_id) {
  auto appender = events_;
  auto stream = std::make_shared<int64_t>(0);
  auto public_change = std::make_shared<bool>(false);
  Notifier* notifier = &notifier_;
  store::WriteFn write = [appender, notifier, room_id, user_id, receipts, thread_id, stream,
                          public_change](store::Connection& c) -> Result<void> {
    if (auto joined = RequireJoined(c, room_id, user_id); !joined) {
      return joined.error();
    }
    for (const auto& [type, event_id] : receipts) {
      auto found = c.QueryOne("SELECT 1 FROM events WHERE event_id = ? AND room_id = ?",
                              {event_id, room_id});
      if (!found) {
        return found.error();
      }
      if (!*found) {
        return core::Error::NotFound("Event not found");
      }
      auto next = appender->NextStreamOrdering(c);
      if (!next) {
        return next.error();
      }
      *stream = *next;
      // Markers are account data, the rest receipts: a sync after this reads both kinds.
      notifier->NoteWrite(Notifier::Kind::kAccountData, *next);
      notifier->NoteWrite(Notifier::Kind::kReceipts, *next);
      Result<int64_t> r = int64_t{0};
      if (type == "m.fully_read") {
        // The read marker is room account data (spec "Fully read markers").
        r = c.Execute(
            "INSERT INTO account_data (user_id, room_id, type, json, stream_ordering) "
            "VALUES (?, ?, 'm.fully_read', ?, ?) ON CONFLICT (user_id, room_id, type) DO UPDATE "
            "SET json = excluded.json, stream_ordering = excluded.stream_ordering",
            {user_id, room_id, json::serialize(json::object{{"event_id", event_id}}), *next});
      } else {
        *public_change = *public_change || type == "m.read";
        r = c.Execute(
            "INSERT INTO receipts (room_id, user_id, receipt_type, thread_id, event_id, ts, "
            "stream_ordering) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (room_id, user_id, "
            "receipt_type, thread_id) DO UPDATE SET event_id = excluded.event_id, "
            "ts = excluded.ts, stream_ordering = excluded.stream_ordering",
            {room_id, user_id, type, thread_id, event_id, core::NowMs(), *next});
      }
      if (!r) {
        return r.error();
      }
    }
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return committed.error();
  }
  std::vector<std::string> rooms;
  if (*public_change) {
    rooms.push_back(room_id);
  }
  notifier_.Publish(*stream, rooms, {user_id});
  co_return Result<void>{};
}

asio::awaitable<Response> RoomRoutes::Receipt(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string type(req.Param("receiptType"));
  if (type != "m.read" && type != "m.read.private" && type != "m.fully_read") {
    co_return Fail(core::Error::BadRequest("Unknown receipt type", "M_INVALID_PARAM"));
  }
  auto body = core::ParseJsonObjectOrEmpty(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  auto thread = core::OptString(*body, "thread_id");
  if (!thread) {
    co_return Fail(thread.error());
  }
  std::string thread_id;
  if (*thread) {
    thread_id = std::string(**thread);
    if (thread_id.empty() || thread_id.size() > 255 || type == "m.fully_read") {
      co_return Fail(core::Error::BadRequest("Invalid thread_id", "M_INVALID_PARAM"));
    }
  }
  std::vector<std::pair<std::string, std::string>> receipts;
  receipts.emplace_back(type, std::string(req.Param("eventId")));
  auto stored = co_await StoreReceipts(std::string(req.Param("roomId")), session->user_id,
                                       std::move(receipts), thread_id);
  if (!stored) {
    co_return Fail(stored.error());
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> RoomRoutes::ReadMarkers(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  std::vector<std::pair<std::string, std::string>> receipts;
  for (const char* type : {"m.fully_read", "m.read", "m.read.private"}) {
    auto id = core::OptString(*body, type);
    if (!id) {
      co_return Fail(id.error());
    }
    if (*id) {
      receipts.emplace_back(type, std::string(**id));
    }
  }
  if (receipts.empty()) {
    co_return Response::Json(json::object{});
  }
  auto stored = co_await StoreReceipts(std::string(req.Param("roomId")), session->user_id,
                                       std::move(receipts), "");
  if (!stored) {
    co_return Fail(stored.error());
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> RoomRoutes::Relations(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string room_id(req.Param("roomId")), parent(req.Param("eventId"));
  std::string rel_type(req.Param("relType")), event_type(req.Param("eventType"));
  auto parsed_limit = LimitParam(req, 50, kMaxMessagesLimit);
  if (!parsed_limit) {
    co_return Fail(parsed_limit.error());
  }
  int64_t limit = *parsed_limit;
  int64_t from = notifier_.position();
  if (auto f = req.QueryParam("from")) {
    auto parsed = ParseStreamToken(*f);
    if (!parsed) {
      co_return Fail(parsed.error());
    }
    from = *parsed;
  }
  auto lease = deps_.store.Read();
  if (auto joined = RequireJoined(lease.conn(), room_id, session->user_id); !joined) {
    // Spec (relations): "not found or no permission" is one answer, 404.
    core::Error error = joined.error();
    if (error.http_status == 403) {
      error = core::Error::NotFound("Event not found");
    }
    co_return Fail(error);
  }
  // Newest first, like the spec's default dir=b; empty filters match everything.
  auto rows = lease->Query(
      "SELECT r.stream_ordering, e.json FROM event_relations r JOIN events e "
      "ON e.event_id = r.event_id WHERE r.relates_to = ? AND r.room_id = ? AND "
      "(? = '' OR r.rel_type = ?) AND (? = '' OR r.type = ?) AND r.stream_ordering <= ? "
      "ORDER BY r.stream_ordering DESC LIMIT ?",
      {parent, room_id, rel_type, rel_type, event_type, event_type, from, limit});
  if (!rows) {
    co_return Fail(rows.error());
  }
  json::array chunk;
  int64_t last = from;
  for (const auto& row : *rows) {
    if (auto ev = ParseStoredEvent(row.Text(1))) {
      chunk.emplace_back(std::move(*ev));
    }
    last = row.Int(0) - 1;
  }
  json::object out{{"chunk", std::move(chunk)}};
  if (static_cast<int64_t>(rows->size()) == limit && limit > 0) {
    out["next_batch"] = StreamToken(last);
  }
  co_return Response::Json(out);
}

}  // namespace ruche::matrix
