#pragma once
// iCalendar (RFC 5545) through libical: checking a calendar object resource as CalDAV requires
// (RFC 4791 §4.1), finding its instances in a time range (recurrence rules, RDATE, EXDATE,
// overridden instances, time zones from the object's VTIMEZONE or the system's tz database —
// never offset arithmetic of our own), and writing expanded instances and free/busy answers.
//
// Every expansion is bounded (kMaxIterations rule steps per object per call), so an impossible or
// absurd rule (FREQ=SECONDLY from 1900, COUNT=1e9) costs a bounded amount of work.
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

struct icalcomponent_impl;

namespace ruche::cal {

// Seconds since the epoch, UTC. A half-open interval [start, end).
struct TimeRange {
  int64_t start = std::numeric_limits<int64_t>::min();
  int64_t end = std::numeric_limits<int64_t>::max();
};

inline constexpr size_t kMaxIterations = 100'000;   // recurrence steps per object per call
inline constexpr size_t kMaxObjectBytes = 1 << 20;  // one calendar object resource
inline constexpr size_t kMaxComponents = 1'000;     // components in one object (overrides)

// What the store keeps beside an object's text, to answer queries without parsing it.
struct ObjectSummary {
  std::string uid;
  std::string component;  // "VEVENT", "VTODO" or "VJOURNAL"
  int64_t first_start = 0;
  std::optional<int64_t> last_end;  // nullopt: recurs without end (or too far to compute)
  bool recurring = false;
};

// One occurrence of a component.
struct Instance {
  int64_t start = 0;
  int64_t end = 0;
  icalcomponent_impl* component = nullptr;  // the master or an overriding component
  bool recurring = false;                   // part of a recurring set (has a RECURRENCE-ID)
};

// A parsed VCALENDAR. Move-only; frees the libical tree.
class ICalendar {
 public:
  // Parses `text`: 400 (valid-calendar-data) when it is not a well-formed VCALENDAR.
  static Result<ICalendar> Parse(std::string_view text);
  ICalendar(ICalendar&&) noexcept;
  ICalendar& operator=(ICalendar&&) noexcept;
  ~ICalendar();

  // RFC 4791 §4.1: one UID, one component type among VEVENT/VTODO/VJOURNAL, no METHOD, every
  // TZID known; and the values the store indexes.
  Result<ObjectSummary> Validate() const;

  // The instances overlapping `range`, in start order (RFC 4791 §9.9 overlap rules).
  // `want` bounds the work when the caller needs only that many (Overlaps asks for one).
  std::vector<Instance> InstancesIn(TimeRange range,
                                    size_t want = std::numeric_limits<size_t>::max()) const;
  bool Overlaps(TimeRange range) const;

  // The object with its instances in `range` expanded (RFC 4791 §9.6.5): one component per
  // instance, times in UTC, RECURRENCE-ID set, no rules and no VTIMEZONE.
  std::string Expanded(TimeRange range) const;

  // The busy periods in `range` (events not TRANSPARENT and not CANCELLED), as
  // {start, end, tentative}.
  struct Busy {
    int64_t start = 0;
    int64_t end = 0;
    bool tentative = false;
  };
  std::vector<Busy> BusyIn(TimeRange range) const;

  // Every instance in `range` unclipped, with whether it makes its owner busy (a VEVENT neither
  // TRANSPARENT nor CANCELLED): what InstanceCache keeps.
  struct Occurrence {
    int64_t start = 0;
    int64_t end = 0;  // == start for an instant (a VEVENT without duration)
    bool busy = false;
  };
  std::vector<Occurrence> Occurrences(TimeRange range) const;

  // For prop-filter (RFC 4791 §9.7.2): whether any VEVENT/VTODO/VJOURNAL has the property, and
  // whether any value of it contains `text` (ASCII case-insensitively, i;ascii-casemap).
  bool HasProperty(std::string_view name) const;
  bool PropertyContains(std::string_view name, std::string_view text) const;

  // The instances in `range` as the web client's calendar shows them.
  struct InstanceView {
    int64_t start = 0;
    int64_t end = 0;
    bool all_day = false;
    bool recurring = false;
    std::string uid;
    std::string summary;
    std::string location;
    std::string description;
    std::string rrule;  // the series' rule, "" when none
    std::string booking_id;
    struct Attendee {
      std::string user_id;  // a user of this server (urn:x-ruche:user:…), else ""
      std::string email;
      std::string name;
      std::string partstat;
    };
    std::vector<Attendee> attendees;
  };
  std::vector<InstanceView> Views(TimeRange range,
                                  size_t want = std::numeric_limits<size_t>::max()) const;

  std::string Text() const;

  // An attendee's answer (iTIP REPLY applied in place): sets PARTSTAT (ACCEPTED, TENTATIVE or
  // DECLINED) on the ATTENDEE `address` (compared ASCII case-insensitively) of every VEVENT —
  // the series and its overridden instances. Returns how many were set; 0 if not invited.
  int SetPartstat(std::string_view address, std::string_view partstat);
  // (address, PARTSTAT) of the first VEVENT's attendees.
  std::vector<std::pair<std::string, std::string>> Partstats() const;

 private:
  explicit ICalendar(icalcomponent_impl* root) : root_(root) {}
  icalcomponent_impl* root_ = nullptr;
};

// "20270329T070000Z" -> seconds. Only UTC date-times (RFC 4791 §9.9 requires them).
Result<int64_t> ParseUtcDateTime(std::string_view value);
std::string FormatUtcDateTime(int64_t seconds);

// One event as Ruche writes it (bookings): into the owner's calendar (no method) or as an iMIP
// message (method "REQUEST" or "CANCEL", RFC 6047).
struct EventFields {
  std::string uid;
  int64_t start = 0;
  int64_t end = 0;
  int64_t sequence = 0;
  std::string summary;
  std::string location;
  std::string description;
  std::string url;
  std::string organizer_name;
  std::string organizer_email;
  std::string attendee_name;
  std::string attendee_email;
  std::string status = "CONFIRMED";  // CONFIRMED, TENTATIVE, CANCELLED
  std::string partstat = "ACCEPTED";
  std::string booking_id;  // X-RUCHE-BOOKING
};
std::string EventCalendar(const EventFields& e, std::string_view method = {});

// An event a user writes in the web client: a single or recurring event in a time zone (with
// its VTIMEZONE), or an all-day one, with attendees. 400 M_INVALID_PARAM for a bad RRULE or
// zone.
struct UserEvent {
  std::string uid;
  int64_t sequence = 0;
  std::string summary;
  std::string location;
  std::string description;
  bool all_day = false;
  int64_t start = 0;  // UTC; for all-day events the UTC midnight of the first day
  int64_t end = 0;    // exclusive
  std::string timezone = "UTC";
  std::string rrule;  // e.g. "FREQ=WEEKLY;COUNT=10"; empty: none
  std::string organizer_name;
  std::string organizer_email;
  std::vector<std::pair<std::string, std::string>> attendees;  // (email, name)
  // Users of this server: (user ID, name), written as urn:x-ruche:user:<user ID>.
  std::vector<std::pair<std::string, std::string>> internal_attendees;
  std::string url;  // the meeting's join link, if any
};
Result<std::string> UserEventCalendar(const UserEvent& e, std::string_view method = {});

// A VCALENDAR with one VFREEBUSY for `range` listing `busy` (RFC 4791 §7.10).
std::string FreeBusyCalendar(TimeRange range, std::vector<ICalendar::Busy> busy);

}  // namespace ruche::cal
