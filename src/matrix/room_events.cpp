#include "matrix/room_events.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "matrix/canonical_json.hpp"

namespace ruche::matrix {

DbRoomState::DbRoomState(store::Connection& conn, std::string room_id)
    : conn_(conn), room_id_(std::move(room_id)) {}

const DbRoomState::Entry& DbRoomState::Load(std::string_view type,
                                            std::string_view state_key) const {
  auto key = std::make_pair(std::string(type), std::string(state_key));
  if (auto it = cache_.find(key); it != cache_.end()) {
    return it->second;
  }
  Entry entry;
  auto row = conn_.QueryOne(
      "SELECT e.event_id, e.json FROM room_state s JOIN events e ON e.event_id = s.event_id "
      "WHERE s.room_id = ? AND s.type = ? AND s.state_key = ?",
      {room_id_, key.first, key.second});
  if (row && *row) {
    auto parsed = ParseStoredEvent((*row)->Text(1));
    if (parsed) {
      entry.event_id = (*row)->Text(0);
      if (auto snd = parsed->find("sender"); snd != parsed->end() && snd->value().is_string()) {
        entry.sender = std::string(snd->value().get_string());
      }
      if (auto c = parsed->find("content"); c != parsed->end() && c->value().is_object()) {
        entry.content = c->value().get_object();
      }
      entry.found = true;
    }
  }
  return cache_.emplace(std::move(key), std::move(entry)).first->second;
}

const json::object* DbRoomState::Get(std::string_view type, std::string_view state_key) const {
  const Entry& e = Load(type, state_key);
  return e.found ? &e.content : nullptr;
}

std::string_view DbRoomState::CreateSender() const { return Load("m.room.create", "").sender; }

std::string DbRoomState::EventIdOf(std::string_view type, std::string_view state_key) const {
  return Load(type, state_key).event_id;
}

Result<json::object> ParseStoredEvent(const std::string& json_text) {
  boost::system::error_code ec;
  json::value v = json::parse(json_text, ec);
  if (ec || !v.is_object()) {
    return Error::Internal("corrupt stored event");
  }
  return std::move(v.as_object());
}

Result<std::optional<std::string>> RoomVersionOf(store::Connection& conn,
                                                 std::string_view room_id) {
  auto row =
      conn.QueryOne("SELECT room_version FROM rooms WHERE room_id = ?", {std::string(room_id)});
  if (!row) {
    return row.error();
  }
  if (!*row) {
    return std::optional<std::string>{};
  }
  return std::optional<std::string>((*row)->Text(0));
}

Result<std::optional<std::string>> CurrentMemberEventJson(store::Connection& conn,
                                                          std::string_view room_id,
                                                          std::string_view user_id) {
  auto row = conn.QueryOne(
      "SELECT e.json FROM room_state s JOIN events e ON e.event_id = s.event_id "
      "WHERE s.room_id = ? AND s.type = 'm.room.member' AND s.state_key = ?",
      {std::string(room_id), std::string(user_id)});
  if (!row) {
    return row.error();
  }
  return *row ? std::optional<std::string>((*row)->Text(0)) : std::nullopt;
}

Result<std::string> MembershipOf(store::Connection& conn, std::string_view room_id,
                                 std::string_view user_id) {
  auto row = conn.QueryOne("SELECT membership FROM memberships WHERE room_id = ? AND user_id = ?",
                           {std::string(room_id), std::string(user_id)});
  if (!row) {
    return row.error();
  }
  return *row ? (*row)->Text(0) : std::string();
}

Result<int64_t> MaxStreamOrdering(store::Connection& conn) {
  auto row = conn.QueryOne(
      "SELECT MAX(m) FROM (SELECT COALESCE(MAX(stream_ordering), 0) AS m FROM events UNION ALL "
      "SELECT COALESCE(MAX(stream_ordering), 0) AS m FROM account_data UNION ALL "
      "SELECT COALESCE(MAX(stream_ordering), 0) AS m FROM receipts UNION ALL "
      "SELECT COALESCE(MAX(stream_ordering), 0) AS m FROM presence UNION ALL "
      "SELECT COALESCE(MAX(stream_ordering), 0) AS m FROM device_list_changes UNION ALL "
      "SELECT COALESCE(MAX(stream_ordering), 0) AS m FROM to_device UNION ALL "
      "SELECT COALESCE(MAX(stream_ordering), 0) AS m FROM stream_high_water) AS t");
  if (!row) {
    return row.error();
  }
  return (*row)->Int(0);
}

Result<void> RequireJoined(store::Connection& conn, std::string_view room_id,
                           std::string_view user_id) {
  auto membership = MembershipOf(conn, room_id, user_id);
  if (!membership) {
    return membership.error();
  }
  if (*membership != "join") {
    return Error::Forbidden("You are not in this room");
  }
  return {};
}

std::string RoomEvents::NewRoomId() const {
  return "!" + core::RandomToken(18) + ":" + server_name_;
}

Result<int64_t> RoomEvents::NextStreamOrdering(store::Connection& conn) {
  if (last_stream_ < 0) {
    auto max = MaxStreamOrdering(conn);
    if (!max) {
      return max.error();
    }
    last_stream_ = *max;
  }
  // NOTE: a write that rolls back leaves a gap; orderings stay increasing, which is all sync
  // tokens need.
  return ++last_stream_;
}

Result<StoredEvent> RoomEvents::Create(store::Connection& conn, const std::string& room_id,
                                       const std::string& room_version, const std::string& creator,
                                       json::object creation_content) {
  auto ins = conn.Execute(
      "INSERT INTO rooms (room_id, room_version, creator, created_ms) VALUES (?, ?, ?, ?)",
      {room_id, room_version, creator, core::NowMs()});
  if (!ins) {
    return ins.error();
  }
  creation_content["room_version"] = room_version;
  if (room_version == "10") {
    creation_content["creator"] = creator;  // v11 takes the creator from the sender
  }
  return Append(conn, NewEvent{room_id, "m.room.create", creator, std::string(),
                               std::move(creation_content), std::nullopt});
}

Result<StoredEvent> RoomEvents::Append(store::Connection& conn, const NewEvent& ev) {
  auto version = RoomVersionOf(conn, ev.room_id);
  if (!version) {
    return version.error();
  }
  if (!*version) {
    return Error::Forbidden("You are not in this room");  // never reveal that it does not exist
  }
  const std::string& room_version = **version;

  json::object event;
  event["type"] = ev.type;
  event["room_id"] = ev.room_id;
  event["sender"] = ev.sender;
  event["content"] = ev.content;
  if (ev.state_key) {
    event["state_key"] = *ev.state_key;
  }
  if (ev.redacts) {
    event["redacts"] = *ev.redacts;  // top-level in v10; v11 clients read content.redacts
  }

  DbRoomState state(conn, ev.room_id);
  if (auto ok = Authorize(event, state, room_version); !ok) {
    return ok.error();
  }

  // Place it after the room's latest event: local history is a chain.
  auto extremity =
      conn.QueryOne("SELECT event_id, depth FROM room_extremities WHERE room_id = ?", {ev.room_id});
  if (!extremity) {
    return extremity.error();
  }
  json::array prev_events;
  int64_t depth = 1;
  if (*extremity) {
    prev_events.emplace_back((*extremity)->Text(0));
    depth = (*extremity)->Int(1) + 1;
  }
  // auth_events (spec "Auth events selection"): create, power levels, the sender's membership,
  // and for membership events the target's membership and the join rules.
  json::array auth_events;
  auto add_auth = [&](std::string_view type, std::string_view key) {
    std::string id = state.EventIdOf(type, key);
    if (!id.empty() &&
        std::find(auth_events.begin(), auth_events.end(), json::value(id)) == auth_events.end()) {
      auth_events.emplace_back(id);
    }
  };
  if (ev.type != "m.room.create") {
    add_auth("m.room.create", "");
    add_auth("m.room.power_levels", "");
    add_auth("m.room.member", ev.sender);
    if (ev.type == "m.room.member" && ev.state_key) {
      add_auth("m.room.member", *ev.state_key);
      add_auth("m.room.join_rules", "");
    }
  }
  event["prev_events"] = std::move(prev_events);
  event["auth_events"] = std::move(auth_events);
  event["depth"] = depth;
  event["origin_server_ts"] = core::NowMs();
  if (room_version == "10") {
    event["origin"] = server_name_;
  }
  auto content_hash = ContentHash(event);
  if (!content_hash) {
    return content_hash.error();
  }
  event["hashes"] = json::object{{"sha256", *content_hash}};
  auto canonical = CanonicalJson(event);
  if (!canonical) {
    return canonical.error();
  }
  if (canonical->size() > kMaxEventBytes) {
    return Error(413, "M_TOO_LARGE", "Event is larger than 65536 bytes");
  }
  auto event_id = EventIdFor(event, room_version);
  if (!event_id) {
    return event_id.error();
  }
  auto stream = NextStreamOrdering(conn);
  if (!stream) {
    return stream.error();
  }
  event["event_id"] = *event_id;
  std::string stored = json::serialize(event);

  store::Value state_key_value;
  if (ev.state_key) {
    state_key_value = *ev.state_key;
  }
  auto r = conn.Execute(
      "INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, depth, "
      "origin_server_ts, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {*stream, *event_id, ev.room_id, ev.type, state_key_value, ev.sender, depth,
       event["origin_server_ts"].as_int64(), stored});
  if (!r) {
    return r.error();
  }
  if (ev.state_key) {
    r = conn.Execute(
        "INSERT INTO room_state (room_id, type, state_key, event_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id",
        {ev.room_id, ev.type, *ev.state_key, *event_id});
    if (!r) {
      return r.error();
    }
    if (ev.type == "m.room.member") {
      std::string membership;
      if (auto m = ev.content.find("membership"); m != ev.content.end() && m->value().is_string()) {
        membership = std::string(m->value().get_string());
      }
      r = conn.Execute(
          "INSERT INTO memberships (room_id, user_id, membership, event_id, stream_ordering) "
          "VALUES (?, ?, ?, ?, ?) ON CONFLICT (room_id, user_id) DO UPDATE SET "
          "membership = excluded.membership, event_id = excluded.event_id, "
          "stream_ordering = excluded.stream_ordering",
          {ev.room_id, *ev.state_key, membership, *event_id, *stream});
      if (!r) {
        return r.error();
      }
      if (notifier_) {
        notifier_->NoteWrite(Notifier::Kind::kMembership, *stream);  // before the commit
      }
    }
  }
  // Relations (edits, reactions, threads, replies' references) are indexed by their parent.
  if (auto rel = ev.content.find("m.relates_to");
      rel != ev.content.end() && rel->value().is_object()) {
    const json::object& relates = rel->value().get_object();
    auto parent = relates.find("event_id");
    auto rel_type = relates.find("rel_type");
    if (parent != relates.end() && parent->value().is_string() && rel_type != relates.end() &&
        rel_type->value().is_string()) {
      r = conn.Execute(
          "INSERT INTO event_relations (event_id, room_id, relates_to, rel_type, type, "
          "stream_ordering) VALUES (?, ?, ?, ?, ?, ?)",
          {*event_id, ev.room_id, std::string(parent->value().get_string()),
           std::string(rel_type->value().get_string()), ev.type, *stream});
      if (!r) {
        return r.error();
      }
    }
  }
  r = conn.Execute(
      "INSERT INTO room_extremities (room_id, event_id, depth) VALUES (?, ?, ?) "
      "ON CONFLICT (room_id) DO UPDATE SET event_id = excluded.event_id, depth = excluded.depth",
      {ev.room_id, *event_id, depth});
  if (!r) {
    return r.error();
  }
  return StoredEvent{*stream,      *event_id, ev.room_id,      ev.type,
                     ev.state_key, ev.sender, std::move(event)};
}

}  // namespace ruche::matrix
