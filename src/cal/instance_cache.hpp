#pragma once
// The occurrences of stored events, computed once per version of each object (its ETag) for a
// window around now, so that time-range REPORTs and free-slot computations read intervals
// instead of parsing iCalendar and expanding rules on every request. Shared by all threads;
// bounded in entries (cleared when full: recomputing is only slower, never wrong). A range that
// leaves the window is not answered from the cache: callers parse then.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cal/calendar_store.hpp"
#include "cal/icalendar.hpp"

namespace ruche::cal {

// One object's occurrences, sorted by start.
struct CachedSeries {
  std::vector<ICalendar::Occurrence> list;
  int64_t longest = 0;  // the longest occurrence, to bound the binary search below

  // Whether one occurrence overlaps `range` (RFC 4791 §9.9: an instant matches a range that
  // contains it).
  bool AnyOverlaps(TimeRange range) const {
    bool any = false;
    ForEachOverlapping(range, [&any](const ICalendar::Occurrence&) { any = true; });
    return any;
  }

  // Calls fn(occurrence) for each occurrence overlapping `range`, found by binary search.
  template <class F>
  void ForEachOverlapping(TimeRange range, F fn) const {
    auto it =
        std::lower_bound(list.begin(), list.end(), range.start - longest,
                         [](const ICalendar::Occurrence& o, int64_t t) { return o.start < t; });
    for (; it != list.end() && it->start < range.end; ++it) {
      bool instant = it->end == it->start;
      if (instant ? it->start >= range.start : it->end > range.start) {
        fn(*it);
      }
    }
  }
};

class InstanceCache {
 public:
  explicit InstanceCache(size_t max_entries = 500'000);

  // The object's occurrences inside the window, or nullptr when `range` leaves the window or the
  // object cannot be read. `load` gives the object's text when `object.data` is empty.
  std::shared_ptr<const CachedSeries> Get(int64_t calendar_id, const StoredObject& object,
                                          TimeRange range,
                                          const std::function<std::optional<std::string>()>& load);

  TimeRange window() const { return window_; }

  // Every busy occurrence of a calendar's VEVENTs inside the window, for the calendar's content
  // version `sync_seq`, split by whether the object is a booking's copy (name starting with
  // kBookingObjectPrefix). Built on the first ask after a change from the objects' series
  // above, so a free-slot query binary-searches intervals instead of reading one index row
  // per candidate object. `calendars` reads the objects on a rebuild.
  struct CalendarBusyTime {
    int64_t sync_seq = 0;
    CachedSeries events;    // busy occurrences of the owner's own events
    CachedSeries bookings;  // those of the copies Ruche writes for bookings
  };
  Result<std::shared_ptr<const CalendarBusyTime>> BusyTime(CalendarStore& calendars,
                                                           const Calendar& calendar);
  // How many calendars' busy times are kept.
  size_t busy_calendars() const;

 private:
  struct Entry {
    std::string etag;
    std::shared_ptr<const CachedSeries> series;
  };
  const size_t max_entries_;
  const TimeRange window_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_), by "<calendar>/<name>"
  // GUARDED_BY(mu_), by calendar ID; cleared when it holds kMaxBusyCalendars.
  std::unordered_map<int64_t, std::shared_ptr<const CalendarBusyTime>> busy_;
};

// Builds the busy time of every calendar of the users who offer booking types, so that the
// first visitor of a booking page after a start does not wait for it (seconds for a calendar of
// 10,000 events). For a background thread at start-up; returns early once `stop` is set.
void WarmBookingOwners(store::Store& store, InstanceCache& cache, const std::atomic<bool>& stop);

// The objects Ruche writes into an owner's calendar for their bookings are named with this
// prefix; free slots count bookings from their own table (buffers included) instead.
inline constexpr std::string_view kBookingObjectPrefix = "ruche-booking-";

// Calls fn(occurrence) for each busy occurrence (not TRANSPARENT, not CANCELLED) overlapping
// `range` of the VEVENTs in `owner`'s calendars, the bookings' copies included or not: from the
// calendars' busy time above, else — outside the cache's window — by parsing the objects. What
// free slots and presence read.
Result<void> ForEachBusyOccurrence(CalendarStore& calendars, InstanceCache& cache,
                                   const std::string& owner, TimeRange range,
                                   bool with_booking_copies,
                                   const std::function<void(const ICalendar::Occurrence&)>& fn);

}  // namespace ruche::cal
