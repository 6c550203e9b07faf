#pragma once
// The authorization rules of room versions 10 and 11 (spec "Room Version 10 — Authorization
// rules", and v11's changes: the creator is the sender of m.room.create, whose content no longer
// has `creator`). Ruche runs them on the events it creates itself, against the room's current
// state: local history is linear, so there is no state resolution and no auth_events checking.
#include <cstdint>
#include <string_view>

#include "core/error.hpp"
#include "core/json.hpp"

namespace ruche::matrix {

namespace json = core::json;

// What the rules need to know of the room's state *before* the event.
class AuthState {
 public:
  virtual ~AuthState() = default;
  // Content of the current state event (type, state_key), or nullptr if none.
  virtual const json::object* Get(std::string_view type, std::string_view state_key) const = 0;
  // Sender of the current m.room.create event, or "" if unknown; valid as long as this object.
  // Room version 11 takes the room creator from it (its create content has no `creator`).
  // NOTE: the default knows no sender, so in v11 rooms the creator's rules (first join, level
  // 100 without m.room.power_levels) then fail closed: override it wherever v11 rooms exist.
  virtual std::string_view CreateSender() const { return {}; }
};

// Checks `event` (a JSON object with at least type, sender, room_id, content, and state_key for
// state events) against the room version's authorization rules. Ok, or 403 M_FORBIDDEN with a
// message for the user ("You are not invited to this room", "Insufficient power level to send
// m.room.name: 50 needed, you have 0"); malformed events (content not an object, no membership,
// non-integer power levels) are 400 M_BAD_JSON. room_version "10" or "11"; others are 400
// M_UNSUPPORTED_ROOM_VERSION. `state` is empty for the m.room.create event.
// m.room.redaction events pass like any other event here: whether the redaction may take effect
// is decided when it is applied, with MayRedact (spec "Handling redactions").
Result<void> Authorize(const json::object& event, const AuthState& state,
                       std::string_view room_version);

// The power level of `user_id`: users[user_id], else users_default, else 0; without an
// m.room.power_levels event, 100 for the room creator and 0 for everyone else.
int64_t UserPowerLevel(const AuthState& state, std::string_view user_id,
                       std::string_view room_version);

// The level needed to send an event of `event_type`: events[event_type], else state_default
// (50) for state events or events_default (0) for the others.
int64_t RequiredPowerLevel(const AuthState& state, std::string_view event_type, bool is_state);

// Whether `user_id` may redact an event sent by `original_sender`: their own event, or any event
// with the redact level (default 50). The redaction event itself is authorized by Authorize.
bool MayRedact(const AuthState& state, std::string_view user_id, std::string_view original_sender,
               std::string_view room_version);

}  // namespace ruche::matrix
