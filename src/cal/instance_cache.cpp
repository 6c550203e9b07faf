#include "cal/instance_cache.hpp"

#include "core/clock.hpp"

namespace ruche::cal {
namespace {

constexpr int64_t kDay = 86'400;
constexpr size_t kMaxBusyCalendars = 4096;  // ~150k intervals (2.4 MB) for a very busy one

TimeRange WindowAroundNow() {
  int64_t now = core::NowMs() / 1000;
  return {now - 400 * kDay, now + 1100 * kDay};
}

}  // namespace

InstanceCache::InstanceCache(size_t max_entries)
    : max_entries_(max_entries), window_(WindowAroundNow()) {}

std::shared_ptr<const CachedSeries> InstanceCache::Get(
    int64_t calendar_id, const StoredObject& object, TimeRange range,
    const std::function<std::optional<std::string>()>& load) {
  if (range.start < window_.start || range.end > window_.end) {
    return nullptr;
  }
  std::string key = std::to_string(calendar_id) + "/" + object.name;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.etag == object.etag) {
      return it->second.series;
    }
  }
  std::optional<std::string> text;
  if (object.data.empty()) {
    text = load();
    if (!text) {
      return nullptr;
    }
  }
  auto parsed = ICalendar::Parse(object.data.empty() ? *text : object.data);
  if (!parsed) {
    return nullptr;
  }
  auto series = std::make_shared<CachedSeries>();
  series->list = parsed->Occurrences(window_);  // InstancesIn sorts by start
  for (const auto& o : series->list) {
    series->longest = std::max(series->longest, o.end - o.start);
  }
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_entries_) {
    entries_.clear();
  }
  entries_[key] = Entry{object.etag, series};
  return series;
}

Result<std::shared_ptr<const InstanceCache::CalendarBusyTime>> InstanceCache::BusyTime(
    CalendarStore& calendars, const Calendar& calendar) {
  {
    std::lock_guard lock(mu_);
    if (auto it = busy_.find(calendar.id);
        it != busy_.end() && it->second->sync_seq == calendar.sync_seq) {
      return it->second;
    }
  }
  // Built outside the lock (Get takes it per object). `sync_seq` was read before the objects:
  // a change in between only makes the next ask rebuild, never hides a change.
  auto built = std::make_shared<CalendarBusyTime>();
  built->sync_seq = calendar.sync_seq;
  RUCHE_ASSIGN_OR_RETURN(auto objects, calendars.EventKeysIn(calendar.id, window_));
  for (const auto& o : objects) {
    auto load = [&]() -> std::optional<std::string> {
      auto full = calendars.FindObject(calendar.id, o.name, true);
      if (full && *full) {
        return std::move((*full)->data);
      }
      return std::nullopt;
    };
    auto series = Get(calendar.id, o, window_, load);
    if (!series) {
      continue;  // unreadable: not busy, as a query would also find
    }
    CachedSeries& into = o.name.starts_with(kBookingObjectPrefix) ? built->bookings : built->events;
    for (const auto& oc : series->list) {
      if (oc.busy) {
        into.list.push_back(oc);
        into.longest = std::max(into.longest, oc.end - oc.start);
      }
    }
  }
  for (CachedSeries* s : {&built->events, &built->bookings}) {
    std::sort(s->list.begin(), s->list.end(),
              [](const auto& a, const auto& b) { return a.start < b.start; });
  }
  std::lock_guard lock(mu_);
  if (busy_.size() >= kMaxBusyCalendars) {
    busy_.clear();
  }
  busy_[calendar.id] = built;
  return std::shared_ptr<const CalendarBusyTime>(std::move(built));
}

size_t InstanceCache::busy_calendars() const {
  std::lock_guard lock(mu_);
  return busy_.size();
}

void WarmBookingOwners(store::Store& store, InstanceCache& cache, const std::atomic<bool>& stop) {
  auto owners = store.Read()->Query("SELECT DISTINCT owner FROM booking_types");
  if (!owners) {
    return;  // only slower: the first query builds it
  }
  CalendarStore calendars(store);
  for (const auto& row : *owners) {
    auto cals = calendars.Calendars(row.Text(0));
    if (!cals) {
      continue;
    }
    for (const auto& cal : *cals) {
      if (stop.load()) {
        return;
      }
      (void)cache.BusyTime(calendars, cal);
    }
  }
}

Result<void> ForEachBusyOccurrence(CalendarStore& calendars, InstanceCache& cache,
                                   const std::string& owner, TimeRange range,
                                   bool with_booking_copies,
                                   const std::function<void(const ICalendar::Occurrence&)>& fn) {
  RUCHE_ASSIGN_OR_RETURN(auto cals, calendars.Calendars(owner));
  const TimeRange window = cache.window();
  const bool inside = range.start >= window.start && range.end <= window.end;
  for (const auto& cal : cals) {
    if (inside) {
      RUCHE_ASSIGN_OR_RETURN(auto busy, cache.BusyTime(calendars, cal));
      busy->events.ForEachOverlapping(range, fn);
      if (with_booking_copies) {
        busy->bookings.ForEachOverlapping(range, fn);
      }
      continue;
    }
    // Outside the window: parse each candidate.
    RUCHE_ASSIGN_OR_RETURN(auto objects, calendars.EventKeysIn(cal.id, range));
    for (const auto& o : objects) {
      if (!with_booking_copies && o.name.starts_with(kBookingObjectPrefix)) {
        continue;
      }
      auto full = calendars.FindObject(cal.id, o.name, true);
      if (!full || !*full) {
        continue;
      }
      if (auto parsed = ICalendar::Parse((*full)->data)) {
        for (const auto& oc : parsed->Occurrences(range)) {
          if (oc.busy) {
            fn(oc);
          }
        }
      }
    }
  }
  return {};
}

}  // namespace ruche::cal
