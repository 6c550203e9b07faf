#pragma once
// POST /search, category room_events: full-text search over the messages, names and topics of
// the rooms the requester is joined to, through the FTS5 index `event_search` that migration 8's
// triggers keep in step with `events` (see docs/architecture.md, "Search").
#include <optional>
#include <string>

#include "core/json.hpp"
#include "matrix/client_api.hpp"
#include "net/router.hpp"
#include "store/store.hpp"

namespace ruche::matrix {

// The room_events category of a search: `criteria` is the request's
// search_categories.room_events object, `next_batch` the query parameter. Only rooms `user_id` is
// joined to are searched. Answers the category's result object (results, count, highlights,
// next_batch, and state/groups/context when asked).
Result<core::json::object> SearchRoomEvents(store::Connection& conn, const std::string& user_id,
                                            const core::json::object& criteria,
                                            const std::optional<std::string>& next_batch);

// Merges the index if a redaction (or deletion) left words in it, and clears the debt; a write.
Result<void> PurgeSearchIndex(store::Connection& conn);

class SearchRoutes {
 public:
  SearchRoutes(net::Router& router, MatrixDeps deps);

  // Called about once a second: merges the index once the oldest pending erasure is
  // `search.purge_delay_ms` old.
  boost::asio::awaitable<void> PurgeIfDue();

 private:
  boost::asio::awaitable<net::Response> Search(net::Request& req);

  MatrixDeps deps_;
};

}  // namespace ruche::matrix
