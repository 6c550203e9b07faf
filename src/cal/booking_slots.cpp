#include "cal/booking_slots.hpp"

#include <algorithm>

namespace ruche::cal {
namespace {

constexpr int64_t kMinute = 60;
constexpr int kMaxWindowsPerDay = 24;

bool Overlaps(int64_t a0, int64_t a1, int64_t b0, int64_t b1) { return a0 < b1 && b0 < a1; }

Error Invalid(std::string message) {
  return Error::BadRequest(std::move(message), "M_INVALID_PARAM");
}

Result<void> CheckWindows(const std::vector<DayWindow>& windows) {
  if (windows.size() > kMaxWindowsPerDay) {
    return Invalid("at most 24 availability windows a day");
  }
  for (const auto& w : windows) {
    if (w.start < 0 || w.end > 24 * 60 || w.start >= w.end) {
      return Invalid("an availability window must lie within one day, start before its end");
    }
  }
  return Ok();
}

}  // namespace

Result<void> ValidateRules(const BookingRules& r) {
  if (r.duration_min < 5 || r.duration_min > 24 * 60) {
    return Invalid("duration must be 5 to 1440 minutes");
  }
  if (r.interval_min < 0 || r.interval_min > 24 * 60 ||
      (r.interval_min > 0 && r.interval_min < 5)) {
    return Invalid("slot interval must be 0 (the duration) or 5 to 1440 minutes");
  }
  if (r.buffer_before_min < 0 || r.buffer_before_min > 24 * 60 || r.buffer_after_min < 0 ||
      r.buffer_after_min > 24 * 60) {
    return Invalid("buffers must be 0 to 1440 minutes");
  }
  if (r.min_notice_min < 0 || r.min_notice_min > 365 * 24 * 60) {
    return Invalid("minimum notice must be 0 to 525600 minutes");
  }
  if (r.horizon_days < 1 || r.horizon_days > 730) {
    return Invalid("how far ahead must be 1 to 730 days");
  }
  if (r.max_per_day < 0 || r.max_per_day > 1000) {
    return Invalid("maximum per day must be 0 (no limit) to 1000");
  }
  if (r.seats < 1 || r.seats > 1000) {
    return Invalid("seats must be 1 to 1000");
  }
  return Ok();
}

Result<void> ValidateAvailability(const Availability& a) {
  for (const auto& day : a.weekly) {
    RUCHE_RETURN_IF_ERROR(CheckWindows(day));
  }
  if (a.overrides.size() > 1000) {
    return Invalid("at most 1000 date overrides");
  }
  for (const auto& [date, windows] : a.overrides) {
    RUCHE_RETURN_IF_ERROR(CheckWindows(windows));
  }
  return Ok();
}

std::vector<Slot> ComputeSlots(const BookingRules& rules, const Availability& availability,
                               const TimeZone& zone, const std::vector<Interval>& busy,
                               const std::vector<Interval>& bookings, int64_t now,
                               TimeRange range) {
  std::vector<Slot> out;
  const int64_t duration = rules.duration_min * kMinute;
  const int step = rules.interval_min > 0 ? rules.interval_min : rules.duration_min;
  const int64_t before = rules.buffer_before_min * kMinute;
  const int64_t after = rules.buffer_after_min * kMinute;
  const int64_t earliest = std::max(range.start, now + rules.min_notice_min * kMinute);
  const int64_t latest = std::min(range.end, now + int64_t{rules.horizon_days} * 86'400);
  if (earliest >= latest) {
    return out;
  }
  // Busy time as sorted, disjoint intervals: each slot is then one binary search.
  std::vector<Interval> merged(busy.begin(), busy.end());
  std::sort(merged.begin(), merged.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  size_t kept = 0;
  for (const auto& b : merged) {
    if (b.end <= b.start) {
      continue;
    }
    if (kept > 0 && b.start <= merged[kept - 1].end) {
      merged[kept - 1].end = std::max(merged[kept - 1].end, b.end);
    } else {
      merged[kept++] = b;
    }
  }
  merged.resize(kept);
  // Walk the owner's local days that the range touches (one day of margin each side: the
  // range's ends are UTC instants).
  LocalDate day = zone.DateOf(earliest - 86'400);
  const LocalDate last_day = zone.DateOf(latest + 86'400);
  for (int guard = 0; day <= last_day && guard < 800; ++guard, day = NextDay(day)) {
    auto ov = availability.overrides.find(day);
    const std::vector<DayWindow>& windows =
        ov != availability.overrides.end() ? ov->second : availability.weekly[Weekday(day)];
    int booked_today = 0;
    if (rules.max_per_day > 0) {
      for (const auto& b : bookings) {
        booked_today += zone.DateOf(b.start + before) == day ? 1 : 0;
      }
    }
    for (const auto& w : windows) {
      for (int m = w.start; m + rules.duration_min <= w.end; m += step) {
        auto start = zone.ToUtc(day, m);
        if (!start) {
          continue;  // this wall time does not exist today (spring forward)
        }
        const int64_t end = *start + duration;
        if (*start < earliest || *start >= latest) {
          continue;
        }
        // The first merged busy interval ending after the block starts decides.
        auto next = std::upper_bound(merged.begin(), merged.end(), *start - before,
                                     [](int64_t t, const Interval& b) { return t < b.end; });
        bool blocked = next != merged.end() && next->start < end + after;
        int taken = 0;
        for (const auto& b : bookings) {
          if (rules.seats > 1 && b.start == *start - before && b.end == end + after) {
            ++taken;  // a seat of this group session
          } else if (Overlaps(*start - before, end + after, b.start, b.end)) {
            blocked = true;
          }
        }
        if (blocked || taken >= rules.seats) {
          continue;
        }
        if (rules.max_per_day > 0 && booked_today >= rules.max_per_day && taken == 0) {
          continue;
        }
        out.push_back({*start, end, rules.seats - taken});
        if (out.size() >= kMaxSlots) {
          return out;
        }
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Slot& a, const Slot& b) { return a.start < b.start; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Slot& a, const Slot& b) { return a.start == b.start; }),
            out.end());
  return out;
}

}  // namespace ruche::cal
