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
        auto cals = calendars.Calendars(localpart);
        if (!cals) {
          return std::nullopt;
        }
        const int64_t now = now_ms / 1000;
        TimeRange range{now, now + 1};
        int64_t until = 0;
        for (const auto& cal : *cals) {
          auto objects = calendars.Candidates(cal.id, "VEVENT", range, false);
          if (!objects) {
            continue;
          }
          for (const auto& o : *objects) {
            auto load = [&]() -> std::optional<std::string> {
              auto full = calendars.FindObject(cal.id, o.name, true);
              if (full && *full) {
                return std::move((*full)->data);
              }
              return std::nullopt;
            };
            if (auto series = instances.Get(cal.id, o, range, load)) {
              series->ForEachOverlapping(range, [&until](const ICalendar::Occurrence& oc) {
                if (oc.busy) {
                  until = std::max(until, oc.end);
                }
              });
            }
          }
        }
        if (until <= now) {
          return std::nullopt;
        }
        return until * 1000;
      };
}

}  // namespace ruche::cal
