#include "matrix/aggregations.hpp"

#include <map>
#include <set>
#include <string>

#include "matrix/room_events.hpp"

namespace ruche::matrix {

namespace json = core::json;

namespace {

// SQLite allows 32,766 parameters; batches stay far below.
constexpr size_t kBatch = 500;
constexpr int64_t kMaxReferences = 100;

json::object& Unsigned(json::object& ev) {
  json::value& u = ev["unsigned"];
  if (!u.is_object()) {
    u = json::object{};
  }
  return u.as_object();
}

json::object& Relations(json::object& ev) {
  json::value& r = Unsigned(ev)["m.relations"];
  if (!r.is_object()) {
    r = json::object{};
  }
  return r.as_object();
}

Result<void> AggregateBatch(store::Connection& conn, const std::vector<json::object*>& events,
                            std::string_view user_id) {
  std::map<std::string, json::object*> by_id;
  std::vector<store::Value> ids;
  for (json::object* ev : events) {
    const json::value* id = ev->if_contains("event_id");
    if (id && id->is_string()) {
      by_id[std::string(id->get_string())] = ev;
      ids.emplace_back(std::string(id->get_string()));
    }
  }
  if (ids.empty()) {
    return {};
  }
  {
    // Most events (every new message) have no children: one point lookup per event on the
    // parent index, and done. (An IN list would make SQLite build a temporary index per call,
    // which costs more than the lookups for the few events of a sync.)
    std::vector<store::Value> parents;
    for (const auto& id : ids) {
      RUCHE_ASSIGN_OR_RETURN(auto found,
                             conn.QueryOne("SELECT 1 FROM event_relations WHERE relates_to = ? AND "
                                           "rel_type != 'm.annotation' LIMIT 1",
                                           {id}));
      if (found) {
        parents.push_back(id);
      }
    }
    if (parents.empty()) {
      return {};
    }
    ids = std::move(parents);
  }
  const std::string in = "(" + store::Placeholders(ids.size()) + ")";

  struct Thread {
    int64_t count = 0;
    int64_t latest = 0;
    bool participated = false;
  };
  std::map<std::string, Thread> threads;
  std::map<std::string, int64_t> latest_edit;  // parent -> stream ordering of the edit
  {
    std::vector<store::Value> params{std::string(user_id)};
    params.insert(params.end(), ids.begin(), ids.end());
    RUCHE_ASSIGN_OR_RETURN(
        auto rows,
        conn.Query("SELECT r.relates_to, COUNT(*), MAX(r.stream_ordering), MAX(e.sender = ?) "
                   "FROM event_relations r JOIN events e ON e.event_id = r.event_id "
                   "WHERE r.rel_type = 'm.thread' AND r.relates_to IN " +
                       in + " GROUP BY r.relates_to",
                   std::span<const store::Value>(params)));
    for (const auto& row : rows) {
      threads[row.Text(0)] = Thread{row.Int(1), row.Int(2), row.Int(3) != 0};
    }
  }
  {
    // Spec: only edits by the original sender count; the newest one wins.
    RUCHE_ASSIGN_OR_RETURN(
        auto rows,
        conn.Query("SELECT r.relates_to, MAX(r.stream_ordering) FROM event_relations r "
                   "JOIN events e ON e.event_id = r.event_id "
                   "JOIN events o ON o.event_id = r.relates_to "
                   "WHERE r.rel_type = 'm.replace' AND e.sender = o.sender AND r.relates_to IN " +
                       in + " GROUP BY r.relates_to",
                   std::span<const store::Value>(ids)));
    for (const auto& row : rows) {
      latest_edit[row.Text(0)] = row.Int(1);
    }
  }
  std::map<std::string, json::array> references;
  {
    RUCHE_ASSIGN_OR_RETURN(
        auto rows, conn.Query("SELECT relates_to, event_id FROM event_relations "
                              "WHERE rel_type = 'm.reference' AND relates_to IN " +
                                  in + " ORDER BY stream_ordering LIMIT " +
                                  std::to_string(kMaxReferences * static_cast<int64_t>(ids.size())),
                              std::span<const store::Value>(ids)));
    for (const auto& row : rows) {
      json::array& chunk = references[row.Text(0)];
      if (static_cast<int64_t>(chunk.size()) < kMaxReferences) {
        chunk.emplace_back(json::object{{"event_id", row.Text(1)}});
      }
    }
  }

  // The latest thread replies and edits, in one query.
  std::map<int64_t, json::object> latest_events;
  std::vector<store::Value> wanted;
  for (const auto& [parent, t] : threads) {
    wanted.emplace_back(t.latest);
  }
  for (const auto& [parent, stream] : latest_edit) {
    wanted.emplace_back(stream);
  }
  if (!wanted.empty()) {
    RUCHE_ASSIGN_OR_RETURN(
        auto rows,
        conn.Query("SELECT stream_ordering, json FROM events WHERE stream_ordering IN (" +
                       store::Placeholders(wanted.size()) + ")",
                   std::span<const store::Value>(wanted)));
    for (const auto& row : rows) {
      auto ev = ParseStoredEvent(row.Text(1));
      if (ev) {
        latest_events[row.Int(0)] = std::move(*ev);
      }
    }
  }

  for (auto& [id, ev] : by_id) {
    if (auto it = threads.find(id); it != threads.end()) {
      auto latest = latest_events.find(it->second.latest);
      if (latest != latest_events.end()) {
        const json::value* sender = ev->if_contains("sender");
        bool root_is_mine = sender && sender->is_string() && sender->get_string() == user_id;
        Relations(*ev)["m.thread"] =
            json::object{{"latest_event", latest->second},
                         {"count", it->second.count},
                         {"current_user_participated", it->second.participated || root_is_mine}};
      }
    }
    if (auto it = latest_edit.find(id); it != latest_edit.end()) {
      auto latest = latest_events.find(it->second);
      if (latest != latest_events.end()) {
        Relations(*ev)["m.replace"] = latest->second;
      }
    }
    if (auto it = references.find(id); it != references.end()) {
      Relations(*ev)["m.reference"] = json::object{{"chunk", std::move(it->second)}};
    }
  }
  return {};
}

// One point lookup per event the reader sent (by others', the common case, none).
Result<void> AddTransactionIds(store::Connection& conn, const std::vector<json::object*>& events,
                               std::string_view user_id, std::string_view device_id) {
  if (device_id.empty() || user_id.size() < 2) {
    return {};
  }
  // transaction_ids is keyed by localpart: "@alice:server" → "alice".
  std::string_view localpart = user_id.substr(1, user_id.find(':') - 1);
  for (json::object* ev : events) {
    const json::value* sender = ev->if_contains("sender");
    const json::value* id = ev->if_contains("event_id");
    if (!sender || !id || !sender->is_string() || !id->is_string() ||
        sender->get_string() != user_id) {
      continue;
    }
    RUCHE_ASSIGN_OR_RETURN(
        auto row, conn.QueryOne("SELECT txn_id FROM transaction_ids WHERE event_id = ? AND "
                                "localpart = ? AND device_id = ?",
                                {std::string(id->get_string()), std::string(localpart),
                                 std::string(device_id)}));
    if (row) {
      Unsigned(*ev)["transaction_id"] = row->Text(0);
    }
  }
  return {};
}

}  // namespace

Result<void> AddAggregations(store::Connection& conn, const std::vector<json::object*>& events,
                             std::string_view user_id, std::string_view device_id) {
  RUCHE_RETURN_IF_ERROR(AddTransactionIds(conn, events, user_id, device_id));
  for (size_t i = 0; i < events.size(); i += kBatch) {
    std::vector<json::object*> batch(
        events.begin() + static_cast<std::ptrdiff_t>(i),
        events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), i + kBatch)));
    RUCHE_RETURN_IF_ERROR(AggregateBatch(conn, batch, user_id));
  }
  return {};
}

}  // namespace ruche::matrix
