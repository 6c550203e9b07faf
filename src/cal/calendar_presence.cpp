#include "cal/calendar_presence.hpp"

#include "cal/calendar_store.hpp"

namespace ruche::cal {

std::function<std::optional<int64_t>(const std::string&, int64_t)> CalendarBusyProbe(
    store::Store& store, InstanceCache& instances) {
  return
      [&store, &instances](const std::string& user_id, int64_t now_ms) -> std::optional<int64_t> {
        // "@alice:server" -> "alice"
        size_t colon = user_id.find(':');
        if (user_id.size() < 2 || user_id[0] != '@' || colon == std::string::npos) {
          return std::nullopt;
        }
        std::string localpart = user_id.substr(1, colon - 1);
        CalendarStore calendars(store);
        const int64_t now = now_ms / 1000;
        TimeRange range{now, now + 1};
        int64_t until = 0;
        auto found = ForEachBusyOccurrence(
            calendars, instances, localpart, range, /*with_booking_copies=*/true,
            [&until](const ICalendar::Occurrence& oc) { until = std::max(until, oc.end); });
        if (!found || until <= now) {
          return std::nullopt;
        }
        return until * 1000;
      };
}

}  // namespace ruche::cal
