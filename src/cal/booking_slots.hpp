#pragma once
// Which slots of a booking type are free: weekly availability in the owner's time zone, date
// overrides and holidays, buffers around every booking and busy event, minimum notice, how far
// ahead, slot interval, a maximum per day and group seats. A pure function of its inputs, so it
// is tested around daylight-saving changes without a server.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cal/icalendar.hpp"
#include "cal/time_zones.hpp"
#include "core/error.hpp"

namespace ruche::cal {

// [start, end) in minutes after local midnight.
struct DayWindow {
  int start = 0;
  int end = 0;
};

struct Availability {
  std::array<std::vector<DayWindow>, 7> weekly;  // 0 = Monday
  // A date's own windows replace the weekly ones; an empty list is a day off (a holiday).
  std::map<LocalDate, std::vector<DayWindow>> overrides;
};

struct BookingRules {
  int duration_min = 30;
  int interval_min = 0;  // 0: the duration
  int buffer_before_min = 0;
  int buffer_after_min = 0;
  int min_notice_min = 0;
  int horizon_days = 60;
  int max_per_day = 0;  // 0: no limit
  int seats = 1;        // > 1: a group session, several people book the same slot
};

struct Interval {
  int64_t start = 0;  // UTC seconds
  int64_t end = 0;
};

struct Slot {
  int64_t start = 0;
  int64_t end = 0;
  int seats_left = 0;
};

inline constexpr size_t kMaxSlots = 5'000;  // per answer

// Free slots starting in `range`. A booking occupies the owner's time from `buffer_before`
// before its start to `buffer_after` after its end. `busy`: the owner's busy events (not
// bookings); `bookings`: the owner's live bookings as the time they occupy (a group session's
// seats occupy the same span).
std::vector<Slot> ComputeSlots(const BookingRules& rules, const Availability& availability,
                               const TimeZone& zone, const std::vector<Interval>& busy,
                               const std::vector<Interval>& bookings, int64_t now, TimeRange range);

// Rule checks: 400 M_INVALID_PARAM saying which value is wrong.
Result<void> ValidateRules(const BookingRules& rules);
Result<void> ValidateAvailability(const Availability& availability);

}  // namespace ruche::cal
