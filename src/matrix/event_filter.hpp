#pragma once
// The spec's filters ("Filtering": EventFilter, RoomEventFilter, RoomFilter, Filter): which
// events each section of /sync, and /messages, returns. Parsed once per request from the
// inline JSON or the stored filter; checking an event reads it in place.
//
// A list that is absent allows everything; a list that is present allows only what it names
// (so `"types": []` allows nothing). The `not_` lists win over the others. Type patterns may
// use '*' for any run of characters (case-sensitive).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"

namespace ruche::matrix {

struct EventFilter {
  using List = std::optional<std::vector<std::string>>;
  List types, not_types, senders, not_senders;
  List rooms, not_rooms;  // RoomEventFilter only (`/messages` ignores them: one room)
  std::optional<bool> contains_url;
  std::optional<int64_t> limit;
  bool lazy_load_members = false;
  bool unread_thread_notifications = false;

  // Whether any field restricts events (types, senders, contains_url).
  bool RestrictsEvents() const;
  bool AllowsType(std::string_view type) const;
  bool AllowsSender(std::string_view sender) const;
  bool AllowsRoom(std::string_view room) const;
  // types, senders and contains_url (content.url is a string) of one event.
  bool Allows(const core::json::object& event) const;
};

// A whole /sync filter.
struct SyncFilterSpec {
  EventFilter presence, account_data;                         // top level
  EventFilter timeline, state, ephemeral, room_account_data;  // room.*
  EventFilter::List rooms, not_rooms;                         // room.rooms, room.not_rooms
  bool AllowsRoom(std::string_view room) const;
};

// 400 M_INVALID_PARAM when a field has the wrong type or a list is too long.
Result<EventFilter> ParseEventFilter(const core::json::object& obj);
Result<SyncFilterSpec> ParseSyncFilter(const core::json::object& obj);

// '*' matches any run of characters; everything else itself.
bool FilterPatternMatches(std::string_view pattern, std::string_view text);

}  // namespace ruche::matrix
