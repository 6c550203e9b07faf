#include "cal/time_zones.hpp"

#include <libical/ical.h>

#include <cstdio>

namespace ruche::cal {
namespace {

icaltimezone* Zone(void* z) { return static_cast<icaltimezone*>(z); }

icaltimetype LocalIn(void* zone, int64_t utc) {
  icaltimetype t =
      icaltime_from_timet_with_zone(static_cast<time_t>(utc), 0, icaltimezone_get_utc_timezone());
  return icaltime_convert_to_zone(t, Zone(zone));
}

}  // namespace

std::string LocalDate::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

std::optional<LocalDate> ParseLocalDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  auto num = [&](size_t from, size_t len) {
    int v = 0;
    for (size_t i = from; i < from + len; ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return -1;
      }
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  LocalDate d{num(0, 4), num(5, 2), num(8, 2)};
  if (d.year < 1970 || d.year > 9999 || d.month < 1 || d.month > 12 || d.day < 1 ||
      d.day > icaltime_days_in_month(d.month, d.year)) {
    return std::nullopt;
  }
  return d;
}

LocalDate NextDay(LocalDate d) {
  if (d.day < icaltime_days_in_month(d.month, d.year)) {
    return {d.year, d.month, d.day + 1};
  }
  if (d.month < 12) {
    return {d.year, d.month + 1, 1};
  }
  return {d.year + 1, 1, 1};
}

int Weekday(LocalDate d) {
  icaltimetype t = icaltime_null_date();
  t.year = d.year;
  t.month = d.month;
  t.day = d.day;
  int sunday_first = icaltime_day_of_week(t);  // 1 = Sunday
  return (sunday_first + 5) % 7;
}

std::optional<TimeZone> TimeZone::Find(std::string_view name) {
  std::string n(name);
  if (n == "UTC" || n == "Etc/UTC") {
    return TimeZone(icaltimezone_get_utc_timezone(), n);
  }
  icaltimezone* z = icaltimezone_get_builtin_timezone(n.c_str());
  if (z == nullptr) {
    return std::nullopt;
  }
  return TimeZone(z, n);
}

std::optional<int64_t> TimeZone::ToUtc(LocalDate date, int minutes) const {
  icaltimetype t = icaltime_null_time();
  t.year = date.year;
  t.month = date.month;
  t.day = date.day;
  t.hour = minutes / 60;
  t.minute = minutes % 60;
  t.zone = Zone(zone_);
  icaltimetype u = icaltime_convert_to_zone(t, icaltimezone_get_utc_timezone());
  int64_t utc = static_cast<int64_t>(icaltime_as_timet(u));
  // A wall time skipped by the spring change does not come back unchanged.
  icaltimetype back = LocalIn(zone_, utc);
  if (back.year != date.year || back.month != date.month || back.day != date.day ||
      back.hour * 60 + back.minute != minutes) {
    return std::nullopt;
  }
  // For a repeated wall time, prefer the earlier instant if it maps to the same wall time.
  if (int64_t earlier = utc - 3600; LocalIn(zone_, earlier).hour == back.hour &&
                                    LocalIn(zone_, earlier).minute == back.minute &&
                                    LocalIn(zone_, earlier).day == back.day) {
    return earlier;
  }
  return utc;
}

LocalDate TimeZone::DateOf(int64_t utc) const {
  icaltimetype t = LocalIn(zone_, utc);
  return {t.year, t.month, t.day};
}

int TimeZone::MinutesOf(int64_t utc) const {
  icaltimetype t = LocalIn(zone_, utc);
  return t.hour * 60 + t.minute;
}

}  // namespace ruche::cal
