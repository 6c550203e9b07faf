#pragma once
// What the public room directory and /hierarchy show of a room (spec "PublishedRoomsChunk"):
// name, topic, alias, avatar, join rule, history and guest settings, member count, room type,
// read from the current state of many rooms in two queries.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "store/store.hpp"

namespace ruche::matrix {

namespace json = core::json;

struct RoomSummary {
  std::string room_id;
  std::optional<std::string> name, topic, canonical_alias, avatar_url, room_type;
  std::string join_rule = "invite";
  std::string history_visibility = "shared";
  bool guest_can_join = false;
  int64_t num_joined_members = 0;

  bool world_readable() const { return history_visibility == "world_readable"; }
  // The spec's chunk: absent optional fields are left out.
  json::object ToJson() const;
};

// Summaries of the rooms in `room_ids` that exist (unknown IDs are simply missing).
Result<std::map<std::string, RoomSummary>> LoadRoomSummaries(
    store::Connection& conn, const std::vector<std::string>& room_ids);

}  // namespace ruche::matrix
