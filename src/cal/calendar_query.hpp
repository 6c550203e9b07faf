#pragma once
// The filter of a CalDAV calendar-query REPORT (RFC 4791 §9.7): which component, which time
// range, which property conditions.
//
// Supported: the VCALENDAR comp-filter with one nested comp-filter (VEVENT, VTODO, VJOURNAL)
// carrying time-range, is-not-defined and prop-filters (is-not-defined, text-match with
// negate-condition). Filters below that (a VALARM comp-filter, param-filter) are not evaluated:
// the objects they would narrow down are returned — a superset, which clients filter again,
// never a miss.
#include <optional>
#include <string>
#include <vector>

#include "cal/dav_xml.hpp"
#include "cal/icalendar.hpp"

namespace ruche::cal {

struct PropFilter {
  std::string name;
  bool is_not_defined = false;
  std::optional<std::string> text;  // text-match
  bool negate = false;
};

struct CalendarFilter {
  std::optional<std::string> component;  // nullopt: any component
  bool component_not_defined = false;    // matches nothing we store
  std::optional<TimeRange> range;
  std::vector<PropFilter> props;
};

// Reads <C:filter>. 400 (C:valid-filter) for a filter that is not well-formed.
Result<CalendarFilter> ReadCalendarFilter(const XmlElement* filter);

// Reads a <C:time-range start= end=> (either bound may be missing, not both).
Result<TimeRange> ReadTimeRange(const XmlElement& e);

// Whether `cal` passes the filter's property conditions.
bool MatchesProperties(const ICalendar& cal, const std::vector<PropFilter>& props);

}  // namespace ruche::cal
