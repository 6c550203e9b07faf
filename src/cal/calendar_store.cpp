#include "cal/calendar_store.hpp"

#include "core/clock.hpp"
#include "core/crypto.hpp"

namespace ruche::cal {
namespace {

constexpr const char* kCalendarColumns =
    "calendar_id, owner, name, displayname, description, color, timezone, components, sync_seq, "
    "created_ts";

Calendar CalendarFrom(const store::Row& r) {
  Calendar c;
  c.id = r.Int(0);
  c.owner = r.Text(1);
  c.name = r.Text(2);
  c.displayname = r.Text(3);
  c.description = r.Text(4);
  c.color = r.Text(5);
  c.timezone = r.Text(6);
  c.components = r.Text(7);
  c.sync_seq = r.Int(8);
  c.created_ts = r.Int(9);
  return c;
}

std::string ObjectColumns(bool with_data) {
  return std::string(
             "name, uid, component, etag, first_start, last_end, recurring, modified_seq, "
             "modified_ts, size") +
         (with_data ? ", data" : "");
}

StoredObject ObjectFrom(const store::Row& r, bool with_data) {
  StoredObject o;
  o.name = r.Text(0);
  o.uid = r.Text(1);
  o.component = r.Text(2);
  o.etag = r.Text(3);
  o.first_start = r.Int(4);
  if (!r.IsNull(5)) {
    o.last_end = r.Int(5);
  }
  o.recurring = r.Int(6) != 0;
  o.modified_seq = r.Int(7);
  o.modified_ts = r.Int(8);
  o.size = r.Int(9);
  if (with_data) {
    o.data = r.Text(10);
  }
  return o;
}

Result<std::vector<StoredObject>> ObjectsFrom(Result<store::Rows> rows, bool with_data) {
  if (!rows) {
    return rows.error();
  }
  std::vector<StoredObject> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) {
    out.push_back(ObjectFrom(r, with_data));
  }
  return out;
}

// The calendar's next sequence number (its sync-token and getctag after this change).
Result<int64_t> BumpSeq(store::Connection& c, int64_t calendar_id) {
  RUCHE_ASSIGN_OR_RETURN(
      auto row, c.QueryOne("UPDATE calendars SET sync_seq = sync_seq + 1 WHERE calendar_id = ? "
                           "RETURNING sync_seq",
                           {calendar_id}));
  if (!row) {
    return Error::NotFound("calendar not found");
  }
  return row->Int(0);
}

Result<void> CheckPreconditions(const std::optional<store::Row>& existing,
                                const Preconditions& pre) {
  if (pre.if_none_match_any && existing) {
    return Error(412, "M_PRECONDITION_FAILED", "the resource exists (If-None-Match: *)");
  }
  if (!pre.if_none_match.empty() && existing &&
      Preconditions::ListHas(pre.if_none_match, existing->Text(0), false)) {
    return Error(412, "M_PRECONDITION_FAILED", "the resource is that version (If-None-Match)");
  }
  if (pre.if_match) {
    if (!existing) {
      return Error(412, "M_PRECONDITION_FAILED", "the resource does not exist (If-Match)");
    }
    if (!Preconditions::ListHas(*pre.if_match, existing->Text(0), true)) {
      return Error(412, "M_PRECONDITION_FAILED", "the resource changed (If-Match)");
    }
  }
  return Ok();
}

Result<void> SetDead(store::Connection& c, const std::string& path,
                     const std::vector<DeadProperty>& set,
                     const std::vector<std::pair<std::string, std::string>>& remove) {
  for (const auto& p : set) {
    RUCHE_RETURN_IF_ERROR(
        c.Execute("INSERT INTO dav_properties (path, ns, name, value) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT (path, ns, name) DO UPDATE SET value = excluded.value",
                  {path, p.ns, p.name, p.value}));
  }
  for (const auto& [ns, name] : remove) {
    RUCHE_RETURN_IF_ERROR(c.Execute(
        "DELETE FROM dav_properties WHERE path = ? AND ns = ? AND name = ?", {path, ns, name}));
  }
  return Ok();
}

}  // namespace

bool Preconditions::ListHas(std::string_view list, std::string_view etag, bool strong) {
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
      v.remove_prefix(1);
    }
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
      v.remove_suffix(1);
    }
    return v;
  };
  if (trim(list) == "*") {
    return true;
  }
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view tag = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    bool weak = tag.starts_with("W/");
    if (weak) {
      if (strong) {
        continue;
      }
      tag.remove_prefix(2);
    }
    if (tag == etag) {
      return true;
    }
  }
  return false;
}

bool Calendar::Accepts(std::string_view component) const {
  size_t pos = 0;
  std::string_view all(components);
  while (pos <= all.size()) {
    size_t comma = all.find(',', pos);
    if (comma == std::string_view::npos) {
      comma = all.size();
    }
    if (all.substr(pos, comma - pos) == component) {
      return true;
    }
    pos = comma + 1;
  }
  return false;
}

std::string CalendarStore::ETagOf(std::string_view data) {
  return "\"" + core::Sha256Hex(data).substr(0, 32) + "\"";
}

Result<std::vector<Calendar>> CalendarStore::Calendars(const std::string& owner) {
  auto lease = store_.Read();
  RUCHE_ASSIGN_OR_RETURN(
      auto rows, lease->Query(std::string("SELECT ") + kCalendarColumns +
                                  " FROM calendars WHERE owner = ? ORDER BY created_ts, name",
                              {owner}));
  std::vector<Calendar> out;
  for (const auto& r : rows) {
    out.push_back(CalendarFrom(r));
  }
  return out;
}

Result<std::optional<Calendar>> CalendarStore::FindCalendar(const std::string& owner,
                                                            const std::string& name) {
  auto lease = store_.Read();
  RUCHE_ASSIGN_OR_RETURN(auto row,
                         lease->QueryOne(std::string("SELECT ") + kCalendarColumns +
                                             " FROM calendars WHERE owner = ? AND name = ?",
                                         {owner, name}));
  if (!row) {
    return std::optional<Calendar>();
  }
  return std::optional<Calendar>(CalendarFrom(*row));
}

Result<std::optional<StoredObject>> CalendarStore::FindObject(int64_t calendar_id,
                                                              const std::string& name,
                                                              bool with_data) {
  auto lease = store_.Read();
  RUCHE_ASSIGN_OR_RETURN(
      auto row, lease->QueryOne("SELECT " + ObjectColumns(with_data) +
                                    " FROM calendar_objects WHERE calendar_id = ? AND name = ?",
                                {calendar_id, name}));
  if (!row) {
    return std::optional<StoredObject>();
  }
  return std::optional<StoredObject>(ObjectFrom(*row, with_data));
}

Result<std::vector<StoredObject>> CalendarStore::Objects(int64_t calendar_id, bool with_data) {
  auto lease = store_.Read();
  return ObjectsFrom(lease->Query("SELECT " + ObjectColumns(with_data) +
                                      " FROM calendar_objects WHERE calendar_id = ? ORDER BY name",
                                  {calendar_id}),
                     with_data);
}

Result<std::vector<StoredObject>> CalendarStore::Candidates(int64_t calendar_id,
                                                            const std::string& component,
                                                            TimeRange range, bool with_data) {
  auto lease = store_.Read();
  return ObjectsFrom(
      lease->Query("SELECT " + ObjectColumns(with_data) +
                       " FROM calendar_objects WHERE calendar_id = ? AND component = ? "
                       "AND first_start < ? AND (last_end IS NULL OR last_end > ?) ORDER BY name",
                   {calendar_id, component, range.end, range.start}),
      with_data);
}

Result<std::vector<StoredObject>> CalendarStore::EventKeysIn(int64_t calendar_id, TimeRange range) {
  auto lease = store_.Read();
  RUCHE_ASSIGN_OR_RETURN(
      auto rows, lease->Query("SELECT name, etag FROM calendar_objects WHERE calendar_id = ? AND "
                              "component = 'VEVENT' AND first_start < ? AND (last_end IS NULL "
                              "OR last_end > ?)",
                              {calendar_id, range.end, range.start}));
  std::vector<StoredObject> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    out[i].name = rows[i].Text(0);
    out[i].etag = rows[i].Text(1);
  }
  return out;
}

Result<std::vector<StoredObject>> CalendarStore::ObjectsNamed(int64_t calendar_id,
                                                              const std::vector<std::string>& names,
                                                              bool with_data) {
  std::vector<StoredObject> out;
  auto lease = store_.Read();
  constexpr size_t kChunk = 200;
  for (size_t i = 0; i < names.size(); i += kChunk) {
    size_t n = std::min(kChunk, names.size() - i);
    std::vector<store::Value> params;
    params.emplace_back(calendar_id);
    for (size_t j = 0; j < n; ++j) {
      params.emplace_back(names[i + j]);
    }
    RUCHE_ASSIGN_OR_RETURN(
        auto rows, lease->Query("SELECT " + ObjectColumns(with_data) +
                                    " FROM calendar_objects WHERE calendar_id = ? AND name IN (" +
                                    store::Placeholders(n) + ")",
                                params));
    for (const auto& r : rows) {
      out.push_back(ObjectFrom(r, with_data));
    }
  }
  return out;
}

Result<CalendarStore::Changes> CalendarStore::ChangesSince(int64_t calendar_id, int64_t seq,
                                                           bool with_data) {
  Changes out;
  auto lease = store_.Read();
  RUCHE_ASSIGN_OR_RETURN(
      out.changed, ObjectsFrom(lease->Query("SELECT " + ObjectColumns(with_data) +
                                                " FROM calendar_objects WHERE calendar_id = ? AND "
                                                "modified_seq > ? ORDER BY modified_seq",
                                            {calendar_id, seq}),
                               with_data));
  if (seq > 0) {
    RUCHE_ASSIGN_OR_RETURN(
        auto rows, lease->Query("SELECT name FROM calendar_tombstones WHERE calendar_id = ? AND "
                                "deleted_seq > ? ORDER BY deleted_seq",
                                {calendar_id, seq}));
    for (const auto& r : rows) {
      out.deleted.push_back(r.Text(0));
    }
  }
  return out;
}

Result<std::vector<DeadProperty>> CalendarStore::DeadProperties(const std::string& path) {
  auto lease = store_.Read();
  RUCHE_ASSIGN_OR_RETURN(
      auto rows,
      lease->Query("SELECT ns, name, value FROM dav_properties WHERE path = ? ORDER BY ns, name",
                   {path}));
  std::vector<DeadProperty> out;
  for (const auto& r : rows) {
    out.push_back({r.Text(0), r.Text(1), r.Text(2)});
  }
  return out;
}

Result<std::unordered_map<std::string, std::vector<DeadProperty>>>
CalendarStore::DeadPropertiesUnder(const std::string& prefix) {
  // [prefix, prefix with its last byte incremented): a range the primary key index serves.
  std::string upper = prefix;
  if (!upper.empty()) {
    upper.back() = static_cast<char>(upper.back() + 1);
  }
  auto lease = store_.Read();
  RUCHE_ASSIGN_OR_RETURN(
      auto rows, lease->Query("SELECT path, ns, name, value FROM dav_properties WHERE path >= ? "
                              "AND path < ? ORDER BY path, ns, name",
                              {prefix, upper}));
  std::unordered_map<std::string, std::vector<DeadProperty>> out;
  for (const auto& r : rows) {
    out[r.Text(0)].push_back({r.Text(1), r.Text(2), r.Text(3)});
  }
  return out;
}

store::WriteFn CalendarStore::EnsureDefaultCalendar(std::string owner, std::string displayname) {
  return [owner = std::move(owner),
          displayname = std::move(displayname)](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(auto any,
                           c.QueryOne("SELECT 1 FROM calendars WHERE owner = ? LIMIT 1", {owner}));
    if (any) {
      return Ok();
    }
    RUCHE_RETURN_IF_ERROR(
        c.Execute("INSERT INTO calendars (owner, name, displayname, components, created_ts) "
                  "VALUES (?, ?, ?, 'VEVENT,VTODO', ?)",
                  {owner, std::string(kDefaultCalendarName), displayname, core::NowMs()}));
    return Ok();
  };
}

store::WriteFn CalendarStore::CreateCalendar(Calendar cal) {
  return [cal = std::move(cal)](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(
        auto exists,
        c.QueryOne("SELECT 1 FROM calendars WHERE owner = ? AND name = ?", {cal.owner, cal.name}));
    if (exists) {
      return Error(405, "D:resource-must-be-null", "a calendar of that name exists");
    }
    RUCHE_ASSIGN_OR_RETURN(
        auto count, c.QueryOne("SELECT COUNT(*) FROM calendars WHERE owner = ?", {cal.owner}));
    if (count && count->Int(0) >= static_cast<int64_t>(kMaxCalendarsPerUser)) {
      return Error(507, "M_RESOURCE_LIMIT_EXCEEDED", "too many calendars");
    }
    RUCHE_RETURN_IF_ERROR(
        c.Execute("INSERT INTO calendars (owner, name, displayname, description, color, timezone, "
                  "components, created_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  {cal.owner, cal.name, cal.displayname, cal.description, cal.color, cal.timezone,
                   cal.components, core::NowMs()}));
    return Ok();
  };
}

store::WriteFn CalendarStore::DeleteCalendar(int64_t calendar_id, std::string path_prefix) {
  return [calendar_id, path_prefix = std::move(path_prefix)](store::Connection& c) -> Result<void> {
    RUCHE_RETURN_IF_ERROR(
        c.Execute("DELETE FROM calendar_objects WHERE calendar_id = ?", {calendar_id}));
    RUCHE_RETURN_IF_ERROR(
        c.Execute("DELETE FROM calendar_tombstones WHERE calendar_id = ?", {calendar_id}));
    // The prefix ends with '/': the calendar's own properties and its objects'.
    RUCHE_RETURN_IF_ERROR(c.Execute("DELETE FROM dav_properties WHERE substr(path, 1, ?) = ?",
                                    {static_cast<int64_t>(path_prefix.size()), path_prefix}));
    RUCHE_RETURN_IF_ERROR(c.Execute("DELETE FROM calendars WHERE calendar_id = ?", {calendar_id}));
    return Ok();
  };
}

store::WriteFn CalendarStore::PatchCalendar(int64_t calendar_id, std::string path,
                                            CalendarPatch patch) {
  return [calendar_id, path = std::move(path),
          patch = std::move(patch)](store::Connection& c) -> Result<void> {
    auto set = [&](const char* column, const std::optional<std::string>& v) -> Result<void> {
      if (!v) {
        return Ok();
      }
      RUCHE_RETURN_IF_ERROR(
          c.Execute(std::string("UPDATE calendars SET ") + column + " = ? WHERE calendar_id = ?",
                    {*v, calendar_id}));
      return Ok();
    };
    RUCHE_RETURN_IF_ERROR(set("displayname", patch.displayname));
    RUCHE_RETURN_IF_ERROR(set("description", patch.description));
    RUCHE_RETURN_IF_ERROR(set("color", patch.color));
    RUCHE_RETURN_IF_ERROR(set("timezone", patch.timezone));
    return SetDead(c, path, patch.set_dead, patch.remove_dead);
  };
}

store::WriteFn CalendarStore::PatchDead(std::string path, std::vector<DeadProperty> set,
                                        std::vector<std::pair<std::string, std::string>> remove) {
  return [path = std::move(path), set = std::move(set), remove = std::move(remove)](
             store::Connection& c) -> Result<void> { return SetDead(c, path, set, remove); };
}

store::WriteFn CalendarStore::PutObject(int64_t calendar_id, std::string name,
                                        ObjectSummary summary, std::string data, Preconditions pre,
                                        bool* created, std::string* etag) {
  return [=, name = std::move(name), summary = std::move(summary),
          data = std::move(data)](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(
        auto existing,
        c.QueryOne("SELECT etag FROM calendar_objects WHERE calendar_id = ? AND name = ?",
                   {calendar_id, name}));
    RUCHE_RETURN_IF_ERROR(CheckPreconditions(existing, pre));
    RUCHE_ASSIGN_OR_RETURN(auto clash,
                           c.QueryOne("SELECT name FROM calendar_objects WHERE calendar_id = ? AND "
                                      "uid = ? AND name <> ?",
                                      {calendar_id, summary.uid, name}));
    if (clash) {
      return Error(403, "C:no-uid-conflict",
                   "another object of this calendar has the same UID: " + clash->Text(0));
    }
    if (!existing) {
      RUCHE_ASSIGN_OR_RETURN(
          auto count,
          c.QueryOne("SELECT COUNT(*) FROM calendar_objects WHERE calendar_id = ?", {calendar_id}));
      if (count && count->Int(0) >= static_cast<int64_t>(kMaxObjectsPerCalendar)) {
        return Error(507, "M_RESOURCE_LIMIT_EXCEEDED", "this calendar is full");
      }
    }
    RUCHE_ASSIGN_OR_RETURN(int64_t seq, BumpSeq(c, calendar_id));
    std::string new_etag = ETagOf(data);
    store::Value last_end;
    if (summary.last_end) {
      last_end = *summary.last_end;
    }
    RUCHE_RETURN_IF_ERROR(c.Execute(
        "INSERT INTO calendar_objects (calendar_id, name, uid, component, etag, data, size, "
        "first_start, last_end, recurring, modified_seq, modified_ts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (calendar_id, name) DO UPDATE SET "
        "uid = excluded.uid, component = excluded.component, etag = excluded.etag, "
        "data = excluded.data, size = excluded.size, first_start = excluded.first_start, last_end "
        "= excluded.last_end, "
        "recurring = excluded.recurring, modified_seq = excluded.modified_seq, "
        "modified_ts = excluded.modified_ts",
        {calendar_id, name, summary.uid, summary.component, new_etag, data,
         static_cast<int64_t>(data.size()), summary.first_start, last_end,
         static_cast<int64_t>(summary.recurring), seq, core::NowMs()}));
    RUCHE_RETURN_IF_ERROR(c.Execute(
        "DELETE FROM calendar_tombstones WHERE calendar_id = ? AND name = ?", {calendar_id, name}));
    *created = !existing;
    *etag = new_etag;
    return Ok();
  };
}

store::WriteFn CalendarStore::DeleteObject(int64_t calendar_id, std::string name, std::string path,
                                           Preconditions pre) {
  return [=, name = std::move(name), path = std::move(path)](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(
        auto existing,
        c.QueryOne("SELECT etag FROM calendar_objects WHERE calendar_id = ? AND name = ?",
                   {calendar_id, name}));
    if (!existing) {
      return Error::NotFound("no such calendar object");
    }
    RUCHE_RETURN_IF_ERROR(CheckPreconditions(existing, pre));
    RUCHE_ASSIGN_OR_RETURN(int64_t seq, BumpSeq(c, calendar_id));
    RUCHE_RETURN_IF_ERROR(c.Execute(
        "DELETE FROM calendar_objects WHERE calendar_id = ? AND name = ?", {calendar_id, name}));
    RUCHE_RETURN_IF_ERROR(c.Execute(
        "INSERT INTO calendar_tombstones (calendar_id, name, deleted_seq) VALUES (?, ?, ?) "
        "ON CONFLICT (calendar_id, name) DO UPDATE SET deleted_seq = excluded.deleted_seq",
        {calendar_id, name, seq}));
    RUCHE_RETURN_IF_ERROR(c.Execute("DELETE FROM dav_properties WHERE path = ?", {path}));
    return Ok();
  };
}

}  // namespace ruche::cal
