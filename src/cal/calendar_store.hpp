#pragma once
// Calendars and their objects in the store (tables of migration 12). Reads run inline on a read
// connection; changes are store::WriteFn the caller commits. Preconditions (If-Match, UID
// uniqueness, "must not exist") are checked inside the write, where the single writer makes the
// check and the change one atomic step.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cal/icalendar.hpp"
#include "core/error.hpp"
#include "store/store.hpp"

namespace ruche::cal {

inline constexpr std::string_view kDefaultCalendarName = "personal";
inline constexpr size_t kMaxCalendarsPerUser = 100;
inline constexpr size_t kMaxObjectsPerCalendar = 100'000;
inline constexpr size_t kMaxNameLength = 255;

struct Calendar {
  int64_t id = 0;
  std::string owner;  // localpart
  std::string name;   // URL segment
  std::string displayname;
  std::string description;
  std::string color;
  std::string timezone;    // calendar-timezone (a VCALENDAR with one VTIMEZONE), may be empty
  std::string components;  // "VEVENT,VTODO"
  int64_t sync_seq = 0;    // grows with every change of content: getctag and sync-token
  int64_t created_ts = 0;

  bool Accepts(std::string_view component) const;
};

struct StoredObject {
  std::string name;
  std::string uid;
  std::string component;
  std::string etag;  // quoted
  std::string data;  // empty when the query did not ask for it
  int64_t size = 0;  // of data, in bytes
  int64_t first_start = 0;
  std::optional<int64_t> last_end;
  bool recurring = false;
  int64_t modified_seq = 0;
  int64_t modified_ts = 0;
};

struct DeadProperty {
  std::string ns;
  std::string name;
  std::string value;  // an XML fragment (SerializeFragment)
};

// Conditions of a PUT or DELETE (RFC 9110 §13.1).
struct Preconditions {
  std::optional<std::string> if_match;  // an ETag list as sent ("*" for any)
  bool if_none_match_any = false;       // If-None-Match: *
  std::string if_none_match;            // an ETag list, else ""

  // RFC 9110 §13.1.1: If-Match compares strongly (a weak tag never matches); §13.1.2:
  // If-None-Match weakly.
  static bool ListHas(std::string_view list, std::string_view etag, bool strong);
};

class CalendarStore {
 public:
  explicit CalendarStore(store::Store& store) : store_(store) {}

  Result<std::vector<Calendar>> Calendars(const std::string& owner);
  Result<std::optional<Calendar>> FindCalendar(const std::string& owner, const std::string& name);
  Result<std::optional<StoredObject>> FindObject(int64_t calendar_id, const std::string& name,
                                                 bool with_data);
  Result<std::vector<StoredObject>> Objects(int64_t calendar_id, bool with_data);
  // Objects of `component` that may have an instance in `range` (by the stored first start and
  // last end): recurring ones still need their instances checked.
  Result<std::vector<StoredObject>> Candidates(int64_t calendar_id, const std::string& component,
                                               TimeRange range, bool with_data);
  // The same for VEVENTs, with only `name` and `etag` set and in no order: what the occurrence
  // cache needs, read from the covering index alone (free slots, presence).
  Result<std::vector<StoredObject>> EventKeysIn(int64_t calendar_id, TimeRange range);
  Result<std::vector<StoredObject>> ObjectsNamed(int64_t calendar_id,
                                                 const std::vector<std::string>& names,
                                                 bool with_data);
  struct Changes {
    std::vector<StoredObject> changed;
    std::vector<std::string> deleted;
  };
  Result<Changes> ChangesSince(int64_t calendar_id, int64_t seq, bool with_data);
  Result<std::vector<DeadProperty>> DeadProperties(const std::string& path);
  // Dead properties of `prefix` and of every path below it (prefix ends with '/'), by path.
  Result<std::unordered_map<std::string, std::vector<DeadProperty>>> DeadPropertiesUnder(
      const std::string& prefix);

  // --- Writes ---
  // Creates the user's default calendar unless they have one already (or any calendar).
  static store::WriteFn EnsureDefaultCalendar(std::string owner, std::string displayname);
  // 405 when a calendar of that name exists.
  static store::WriteFn CreateCalendar(Calendar calendar);
  static store::WriteFn DeleteCalendar(int64_t calendar_id, std::string path_prefix);
  struct CalendarPatch {
    std::optional<std::string> displayname, description, color, timezone;
    std::vector<DeadProperty> set_dead;
    std::vector<std::pair<std::string, std::string>> remove_dead;  // (ns, name)
  };
  static store::WriteFn PatchCalendar(int64_t calendar_id, std::string path, CalendarPatch patch);
  static store::WriteFn PatchDead(std::string path, std::vector<DeadProperty> set,
                                  std::vector<std::pair<std::string, std::string>> remove);
  // Stores (creates or replaces) an object. `created` tells which; `etag` is its new ETag.
  static store::WriteFn PutObject(int64_t calendar_id, std::string name, ObjectSummary summary,
                                  std::string data, Preconditions pre, bool* created,
                                  std::string* etag);
  static store::WriteFn DeleteObject(int64_t calendar_id, std::string name, std::string path,
                                     Preconditions pre);

  static std::string ETagOf(std::string_view data);

 private:
  store::Store& store_;
};

}  // namespace ruche::cal
