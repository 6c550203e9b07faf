#pragma once
// Wall-clock time in a named zone (IANA tz database, read by libical from the system's
// /usr/share/zoneinfo), for booking rules written in the owner's local time. Never offset
// arithmetic of our own: daylight-saving changes come from the database.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ruche::cal {

struct LocalDate {
  int year = 0;
  int month = 0;  // 1-12
  int day = 0;    // 1-31
  auto operator<=>(const LocalDate&) const = default;
  std::string ToString() const;  // "2027-03-28"
};

// "2027-03-28" -> date (checked: a real calendar day).
std::optional<LocalDate> ParseLocalDate(std::string_view text);
LocalDate NextDay(LocalDate d);
// 0 = Monday … 6 = Sunday.
int Weekday(LocalDate d);

class TimeZone {
 public:
  // nullopt for a name the tz database does not know. "UTC" is known.
  static std::optional<TimeZone> Find(std::string_view name);
  const std::string& name() const { return name_; }

  // The UTC instant of `minutes` after midnight on `date` in this zone; nullopt when that wall
  // time does not exist (skipped by a change to summer time). An ambiguous time (the hour
  // repeated in autumn) gives its first occurrence.
  std::optional<int64_t> ToUtc(LocalDate date, int minutes) const;
  // The local date of a UTC instant, and the minutes after that date's midnight.
  LocalDate DateOf(int64_t utc) const;
  int MinutesOf(int64_t utc) const;

 private:
  TimeZone(void* zone, std::string name) : zone_(zone), name_(std::move(name)) {}
  void* zone_;  // icaltimezone*, owned by libical's built-in table
  std::string name_;
};

}  // namespace ruche::cal
