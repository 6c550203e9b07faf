#pragma once
// Server-side aggregations (spec "Aggregations of child events"): the events a client receives
// carry `unsigned.m.relations` — for a thread root `m.thread` {latest_event, count,
// current_user_participated}, for an edited event `m.replace` (the latest edit by the original
// sender), for a referenced event `m.reference` {chunk: [{event_id}]}. Annotations (reactions)
// are not aggregated by the server since spec v1.7; clients use /relations.
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "store/store.hpp"

namespace ruche::matrix {

// Adds the aggregations of `events` (client-form events with event_id), in a few queries for
// the whole list. `user_id` is the reader (for current_user_participated); `device_id` the
// reader's device: the events it sent itself get `unsigned.transaction_id` (spec: "if the
// client being given the event is the same one which sent it"), which is how clients match
// their local echo with the event that came back.
Result<void> AddAggregations(store::Connection& conn,
                             const std::vector<core::json::object*>& events,
                             std::string_view user_id, std::string_view device_id);

}  // namespace ruche::matrix
