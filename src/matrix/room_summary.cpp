#include "matrix/room_summary.hpp"

#include "matrix/room_events.hpp"

namespace ruche::matrix {

namespace {

std::optional<std::string> StringField(const json::object& content, std::string_view key) {
  if (const json::value* v = content.if_contains(key); v != nullptr && v->is_string()) {
    return std::string(v->get_string());
  }
  return std::nullopt;
}

}  // namespace

json::object RoomSummary::ToJson() const {
  json::object out{{"room_id", room_id},
                   {"num_joined_members", num_joined_members},
                   {"world_readable", world_readable()},
                   {"guest_can_join", guest_can_join},
                   {"join_rule", join_rule}};
  auto put = [&](const char* key, const std::optional<std::string>& v) {
    if (v) {
      out[key] = *v;
    }
  };
  put("name", name);
  put("topic", topic);
  put("canonical_alias", canonical_alias);
  put("avatar_url", avatar_url);
  put("room_type", room_type);
  return out;
}

Result<std::map<std::string, RoomSummary>> LoadRoomSummaries(
    store::Connection& conn, const std::vector<std::string>& room_ids) {
  std::map<std::string, RoomSummary> out;
  if (room_ids.empty()) {
    return out;
  }
  std::vector<store::Value> params(room_ids.begin(), room_ids.end());
  std::string in = "(" + store::Placeholders(room_ids.size()) + ")";
  RUCHE_ASSIGN_OR_RETURN(
      auto rows,
      conn.Query("SELECT s.room_id, s.type, e.json FROM room_state s JOIN events e ON "
                 "e.event_id = s.event_id WHERE s.state_key = '' AND s.type IN ('m.room.create', "
                 "'m.room.name', 'm.room.topic', 'm.room.canonical_alias', 'm.room.avatar', "
                 "'m.room.join_rules', 'm.room.history_visibility', 'm.room.guest_access') AND "
                 "s.room_id IN " +
                     in,
                 params));
  for (const auto& row : rows) {
    RUCHE_ASSIGN_OR_RETURN(auto ev, ParseStoredEvent(row.Text(2)));
    const json::value* c = ev.if_contains("content");
    if (c == nullptr || !c->is_object()) {
      continue;
    }
    const json::object& content = c->get_object();
    RoomSummary& s = out[row.Text(0)];
    s.room_id = row.Text(0);
    const std::string& type = row.Text(1);
    if (type == "m.room.create") {
      s.room_type = StringField(content, "type");
    } else if (type == "m.room.name") {
      s.name = StringField(content, "name");
    } else if (type == "m.room.topic") {
      s.topic = StringField(content, "topic");
    } else if (type == "m.room.canonical_alias") {
      s.canonical_alias = StringField(content, "alias");
    } else if (type == "m.room.avatar") {
      s.avatar_url = StringField(content, "url");
    } else if (type == "m.room.join_rules") {
      s.join_rule = StringField(content, "join_rule").value_or("invite");
    } else if (type == "m.room.history_visibility") {
      s.history_visibility = StringField(content, "history_visibility").value_or("shared");
    } else if (type == "m.room.guest_access") {
      s.guest_can_join = StringField(content, "guest_access") == "can_join";
    }
  }
  RUCHE_ASSIGN_OR_RETURN(
      auto counts,
      conn.Query("SELECT room_id, COUNT(*) FROM memberships WHERE membership = 'join' AND "
                 "room_id IN " +
                     in + " GROUP BY room_id",
                 params));
  for (const auto& row : counts) {
    if (auto it = out.find(row.Text(0)); it != out.end()) {
      it->second.num_joined_members = row.Int(1);
    }
  }
  return out;
}

}  // namespace ruche::matrix
