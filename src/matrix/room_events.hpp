#pragma once
// Creating and persisting room events. Everything that decides an event's place in its room —
// authorization against the current state, prev_events, depth, the stream ordering — runs inside
// one store write on the writer thread, so a room's history is a simple chain even when many
// clients send at once, and an event is visible only once committed.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "matrix/auth_rules.hpp"
#include "matrix/notifier.hpp"
#include "store/store.hpp"

namespace ruche::matrix {

inline constexpr const char* kDefaultRoomVersion = "10";

struct NewEvent {
  std::string room_id;
  std::string type;
  std::string sender;                    // full user ID
  std::optional<std::string> state_key;  // set for state events
  json::object content;
  std::optional<std::string> redacts;  // m.room.redaction (v10 keeps it top-level too)
};

struct StoredEvent {
  int64_t stream_ordering = 0;
  std::string event_id;
  std::string room_id;
  std::string type;
  std::optional<std::string> state_key;
  std::string sender;
  json::object event;  // the full event as clients see it (with event_id)
};

// The current state of one room, read through a connection (inside a write it sees the batch's
// own uncommitted events). Contents are parsed once and cached for the life of the object.
class DbRoomState final : public AuthState {
 public:
  DbRoomState(store::Connection& conn, std::string room_id);
  const json::object* Get(std::string_view type, std::string_view state_key) const override;
  std::string_view CreateSender() const override;
  // Event ID of the current state event, or "".
  std::string EventIdOf(std::string_view type, std::string_view state_key) const;

 private:
  struct Entry {
    std::string event_id;
    std::string sender;
    json::object content;
    bool found = false;
  };
  const Entry& Load(std::string_view type, std::string_view state_key) const;
  store::Connection& conn_;
  std::string room_id_;
  mutable std::map<std::pair<std::string, std::string>, Entry> cache_;
};

class RoomEvents {
 public:
  // `notifier`, when given, is told of every membership event before its commit
  // (Notifier::Kind::kMembership).
  explicit RoomEvents(std::string server_name, Notifier* notifier = nullptr)
      : server_name_(std::move(server_name)), notifier_(notifier) {}

  // Authorizes `ev` against the room's current state, links it after the room's latest event,
  // stores it and updates state and memberships. Call only inside a store write.
  Result<StoredEvent> Append(store::Connection& conn, const NewEvent& ev);

  // Inserts the room row, then the m.room.create event. Call only inside a store write.
  Result<StoredEvent> Create(store::Connection& conn, const std::string& room_id,
                             const std::string& room_version, const std::string& creator,
                             json::object creation_content);

  std::string NewRoomId() const;
  const std::string& server_name() const { return server_name_; }

  // The next position of the server's one stream (room events, account data and receipts share it,
  // so a sync token orders both). Call only inside a store write.
  Result<int64_t> NextStreamOrdering(store::Connection& conn);

 private:
  std::string server_name_;
  Notifier* notifier_;
  int64_t last_stream_ = -1;  // only touched on the store's writer thread
};

// The newest stream position in the database (start-up: sync tokens continue from it).
Result<int64_t> MaxStreamOrdering(store::Connection& conn);

// Reads a stored event row's JSON back into the client form.
Result<json::object> ParseStoredEvent(const std::string& json_text);

// The room version of `room_id`, or nullopt when the room does not exist.
Result<std::optional<std::string>> RoomVersionOf(store::Connection& conn, std::string_view room_id);

// Ok if `user_id` is joined to `room_id`; else 403 "You are not in this room" (the same answer
// whether or not the room exists).
Result<void> RequireJoined(store::Connection& conn, std::string_view room_id,
                           std::string_view user_id);

// The stored JSON of the room's current m.room.member event for `user_id` (lazy-loaded members,
// a member's display name), or nullopt when there is none.
Result<std::optional<std::string>> CurrentMemberEventJson(store::Connection& conn,
                                                          std::string_view room_id,
                                                          std::string_view user_id);

// The membership of `user_id` in `room_id` ("join", "invite", "leave", "ban", "knock"), or "".
Result<std::string> MembershipOf(store::Connection& conn, std::string_view room_id,
                                 std::string_view user_id);

}  // namespace ruche::matrix
