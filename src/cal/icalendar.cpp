#include "cal/icalendar.hpp"

#include <libical/ical.h>
#include <strings.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

namespace ruche::cal {
namespace {

constexpr int64_t kDay = 86'400;
// Stands for "no start" (a VTODO without dates): before every range.
constexpr int64_t kDistantPast = -(int64_t{1} << 50);

Error InvalidData(std::string message) {
  return Error(400, "C:valid-calendar-data", std::move(message));
}

icaltimezone* Utc() { return icaltimezone_get_utc_timezone(); }

// The zone a TZID names: the object's own VTIMEZONE first, then the system's tz database.
icaltimezone* ResolveZone(icalcomponent* root, const char* tzid) {
  if (icaltimezone* z = icalcomponent_get_timezone(root, tzid)) {
    return z;
  }
  if (icaltimezone* z = icaltimezone_get_builtin_timezone_from_tzid(tzid)) {
    return z;
  }
  return icaltimezone_get_builtin_timezone(tzid);
}

const char* TzidOf(icalproperty* p) {
  icalparameter* param = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
  return param != nullptr ? icalparameter_get_tzid(param) : nullptr;
}

// A date-time property's value with its zone attached (floating and DATE values stay floating
// and are read as UTC). nullopt when the TZID names no zone we know.
std::optional<icaltimetype> TimeOf(icalcomponent* root, icalproperty* p, icaltimetype t) {
  if (const char* tzid = TzidOf(p); tzid != nullptr && !t.is_date && !icaltime_is_utc(t)) {
    icaltimezone* z = ResolveZone(root, tzid);
    if (z == nullptr) {
      return std::nullopt;
    }
    t.zone = z;
  }
  return t;
}

// NOTE: not icaltime_as_timet_with_zone(t, utc), which reads the fields as if they were in the
// zone given, ignoring t.zone. Floating times and dates are read as UTC.
int64_t ToUtc(icaltimetype t) {
  if (t.zone != nullptr && !t.is_date && !icaltime_is_utc(t)) {
    t = icaltime_convert_to_zone(t, Utc());
  }
  return static_cast<int64_t>(icaltime_as_timet(t));
}

std::optional<icaltimetype> PropTime(icalcomponent* root, icalcomponent* c, icalproperty_kind k) {
  icalproperty* p = icalcomponent_get_first_property(c, k);
  if (p == nullptr) {
    return std::nullopt;
  }
  icalvalue* v = icalproperty_get_value(p);
  if (v == nullptr) {
    return std::nullopt;
  }
  icaltimetype t = icalvalue_get_datetime(v);
  if (icaltime_is_null_time(t)) {
    return std::nullopt;
  }
  return TimeOf(root, p, t);
}

bool IsCalendarComponent(icalcomponent_kind k) {
  return k == ICAL_VEVENT_COMPONENT || k == ICAL_VTODO_COMPONENT || k == ICAL_VJOURNAL_COMPONENT;
}

// The span of one component's own occurrence, from its DTSTART: [start, end) in UTC, and the
// length to give each recurrence. RFC 4791 §9.9 for the cases without an end.
struct Span {
  bool has_start = false;
  icaltimetype dtstart{};
  int64_t start = 0;
  int64_t duration = 0;
  bool instant = false;  // zero-length: matches a range that contains its start
  bool always = false;   // a VTODO with neither DTSTART nor DUE: matches every range
  bool never = false;    // a VJOURNAL without DTSTART: matches no range
};

Span SpanOf(icalcomponent* root, icalcomponent* c) {
  Span s;
  icalcomponent_kind kind = icalcomponent_isa(c);
  auto start = PropTime(root, c, ICAL_DTSTART_PROPERTY);
  icalproperty* dur = icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY);
  if (start) {
    s.has_start = true;
    s.dtstart = *start;
    s.start = ToUtc(*start);
    auto end_kind = kind == ICAL_VTODO_COMPONENT ? ICAL_DUE_PROPERTY : ICAL_DTEND_PROPERTY;
    if (auto end = PropTime(root, c, end_kind)) {
      s.duration = std::max<int64_t>(0, ToUtc(*end) - s.start);
    } else if (dur != nullptr) {
      s.duration = std::max<int64_t>(0, icaldurationtype_as_int(icalproperty_get_duration(dur)));
    } else if (start->is_date && kind != ICAL_VTODO_COMPONENT) {
      s.duration = kDay;
    }
    s.instant = s.duration == 0;
    return s;
  }
  if (kind == ICAL_VTODO_COMPONENT) {
    if (auto due = PropTime(root, c, ICAL_DUE_PROPERTY)) {
      s.has_start = true;
      s.dtstart = *due;
      s.start = ToUtc(*due);
      s.instant = true;
      return s;
    }
    s.always = true;
    return s;
  }
  s.never = true;
  return s;
}

bool SpanOverlaps(int64_t start, int64_t end, bool instant, TimeRange r) {
  if (instant) {
    return start >= r.start && start < r.end;
  }
  return start < r.end && end > r.start;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  if (b > 0 && a > std::numeric_limits<int64_t>::max() - b) {
    return std::numeric_limits<int64_t>::max();
  }
  if (b < 0 && a < std::numeric_limits<int64_t>::min() - b) {
    return std::numeric_limits<int64_t>::min();
  }
  return a + b;
}

struct Components {
  icalcomponent* master = nullptr;
  std::map<int64_t, icalcomponent*> overrides;  // by RECURRENCE-ID in UTC
};

Components Collect(icalcomponent* root) {
  Components out;
  for (icalcomponent* c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT); c != nullptr;
       c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
    if (!IsCalendarComponent(icalcomponent_isa(c))) {
      continue;
    }
    if (auto rid = PropTime(root, c, ICAL_RECURRENCEID_PROPERTY)) {
      out.overrides.emplace(ToUtc(*rid), c);
    } else if (out.master == nullptr) {
      out.master = c;
    }
  }
  return out;
}

// An RRULE with neither COUNT nor UNTIL.
bool EndlessRule(icalcomponent* c) {
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY); p != nullptr;
       p = icalcomponent_get_next_property(c, ICAL_RRULE_PROPERTY)) {
    icalrecurrencetype rule = icalproperty_get_rrule(p);
    if (rule.freq != ICAL_NO_RECURRENCE && rule.count == 0 && icaltime_is_null_time(rule.until)) {
      return true;
    }
  }
  return false;
}

bool HasRecurrence(icalcomponent* c) {
  return icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY) != nullptr ||
         icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY) != nullptr;
}

// The master's occurrence starts (UTC) up to `until` (exclusive), from `from` on when it can skip
// ahead, at most kMaxIterations rule steps. `complete` says whether the set ended before `until`
// (false when the rule goes on or the bound stopped it).
struct Starts {
  std::set<int64_t> starts;
  bool complete = true;
};

Starts MasterStarts(icalcomponent* root, icalcomponent* master, const Span& span, int64_t from,
                    int64_t until, size_t want = std::numeric_limits<size_t>::max()) {
  Starts out;
  out.starts.insert(span.start);  // DTSTART is always the first instance (RFC 5545 §3.8.5.3)
  size_t steps = 0;
  for (icalproperty* p = icalcomponent_get_first_property(master, ICAL_RRULE_PROPERTY);
       p != nullptr; p = icalcomponent_get_next_property(master, ICAL_RRULE_PROPERTY)) {
    icalrecurrencetype rule = icalproperty_get_rrule(p);
    if (rule.freq == ICAL_NO_RECURRENCE) {
      continue;
    }
    icalrecur_iterator* it = icalrecur_iterator_new(rule, span.dtstart);
    if (it == nullptr) {
      continue;
    }
    // Skip the instances ending before the range (not possible with COUNT: counting needs them).
    if (rule.count == 0 && from > span.start + span.duration) {
      icaltimetype skip =
          icaltime_from_timet_with_zone(static_cast<time_t>(from - span.duration - kDay), 0, Utc());
      if (span.dtstart.is_date) {
        skip.is_date = 1;
        skip.zone = nullptr;
      } else if (span.dtstart.zone != nullptr) {
        skip = icaltime_convert_to_zone(skip, const_cast<icaltimezone*>(span.dtstart.zone));
      } else {
        skip.zone = nullptr;  // floating, read as UTC
      }
      icalrecur_iterator_set_start(it, skip);
    }
    bool ended = false;
    for (;;) {
      if (++steps > kMaxIterations) {
        break;
      }
      icaltimetype next = icalrecur_iterator_next(it);
      if (icaltime_is_null_time(next)) {
        ended = true;
        break;
      }
      next.zone = span.dtstart.zone;
      int64_t s = ToUtc(next);
      if (s >= until) {
        break;
      }
      out.starts.insert(s);
      if (SaturatingAdd(s, span.duration) >= from && --want == 0) {
        break;  // the caller only asks whether something is there
      }
    }
    icalrecur_iterator_free(it);
    if (!ended) {
      out.complete = false;
    }
  }
  for (icalproperty* p = icalcomponent_get_first_property(master, ICAL_RDATE_PROPERTY);
       p != nullptr; p = icalcomponent_get_next_property(master, ICAL_RDATE_PROPERTY)) {
    icaldatetimeperiodtype rd = icalproperty_get_rdate(p);
    icaltimetype t = icaltime_is_null_time(rd.time) ? rd.period.start : rd.time;
    if (auto z = TimeOf(root, p, t)) {
      int64_t s = ToUtc(*z);
      if (s < until) {
        out.starts.insert(s);
      }
    }
  }
  for (icalproperty* p = icalcomponent_get_first_property(master, ICAL_EXDATE_PROPERTY);
       p != nullptr; p = icalcomponent_get_next_property(master, ICAL_EXDATE_PROPERTY)) {
    if (auto z = TimeOf(root, p, icalproperty_get_exdate(p))) {
      out.starts.erase(ToUtc(*z));
    }
  }
  return out;
}

struct IcalFree {
  void operator()(char* p) const { icalmemory_free_buffer(p); }
};

std::string AsText(icalcomponent* c) {
  std::unique_ptr<char, IcalFree> s(icalcomponent_as_ical_string_r(c));
  return s ? std::string(s.get()) : std::string();
}

void RemoveAll(icalcomponent* c, icalproperty_kind kind) {
  while (icalproperty* p = icalcomponent_get_first_property(c, kind)) {
    icalcomponent_remove_property(c, p);
    icalproperty_free(p);
  }
}

icaltimetype UtcTime(int64_t seconds) {
  return icaltime_from_timet_with_zone(static_cast<time_t>(seconds), 0, Utc());
}

bool IsCleanUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) {
        return false;
      }
      ++p;
      continue;
    }
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
    if (extra < 0 || c > 0xf4 || end - p <= extra) {
      return false;
    }
    uint32_t cp = c & (0x3f >> extra);
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    bool overlong = (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
        cp == 0xffff || (cp >= 0x80 && cp < 0xa0)) {
      return false;
    }
    p += extra + 1;
  }
  return true;
}

}  // namespace

Result<ICalendar> ICalendar::Parse(std::string_view text) {
  if (text.size() > kMaxObjectBytes) {
    return Error(413, "M_TOO_LARGE", "calendar object too large");
  }
  if (!IsCleanUtf8(text)) {
    // RFC 5545 §3.1: UTF-8, no control characters but HTAB (and the line ends); and what XML
    // cannot carry either (U+FFFE, U+FFFF), since objects are sent inside REPORT answers.
    return InvalidData("calendar data must be UTF-8 text without control characters");
  }
  // libical forgives an END that closes the wrong component; RFC 5545 §3.4 does not.
  {
    std::vector<std::string_view> open;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t eol = text.find('\n', pos);
      std::string_view line = text.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
      pos = eol == std::string_view::npos ? text.size() : eol + 1;
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      if (line.starts_with("BEGIN:")) {
        if (open.size() >= 16) {
          return InvalidData("components nested too deeply");
        }
        open.push_back(line.substr(6));
      } else if (line.starts_with("END:")) {
        if (open.empty() || open.back() != line.substr(4)) {
          return InvalidData("END:" + std::string(line.substr(4)) + " closes no open component");
        }
        open.pop_back();
      }
    }
    if (!open.empty()) {
      return InvalidData("BEGIN:" + std::string(open.back()) + " is never closed");
    }
  }
  std::string copy(text);
  icalcomponent* root = icalparser_parse_string(copy.c_str());
  if (root == nullptr) {
    return InvalidData("not iCalendar data");
  }
  ICalendar cal(root);
  if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
    return InvalidData("the data must be one VCALENDAR");
  }
  if (icalcomponent_count_errors(root) > 0) {
    return InvalidData("malformed iCalendar data");
  }
  return cal;
}

ICalendar::ICalendar(ICalendar&& o) noexcept : root_(o.root_) { o.root_ = nullptr; }
ICalendar& ICalendar::operator=(ICalendar&& o) noexcept {
  std::swap(root_, o.root_);
  return *this;
}
ICalendar::~ICalendar() {
  if (root_ != nullptr) {
    icalcomponent_free(root_);
  }
}

std::string ICalendar::Text() const { return AsText(root_); }

std::vector<std::pair<std::string, std::string>> ICalendar::Partstats() const {
  std::vector<std::pair<std::string, std::string>> out;
  icalcomponent* c = icalcomponent_get_first_component(root_, ICAL_VEVENT_COMPONENT);
  if (c == nullptr) {
    return out;
  }
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY); p != nullptr;
       p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
    const char* value = icalproperty_get_attendee(p);
    icalparameter* ps = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
    const char* answer =
        ps != nullptr ? icalparameter_enum_to_string(icalparameter_get_partstat(ps)) : nullptr;
    if (value != nullptr && answer != nullptr) {
      out.emplace_back(value, answer);
    }
  }
  return out;
}

int ICalendar::SetPartstat(std::string_view address, std::string_view partstat) {
  icalparameter_partstat kind;
  if (partstat == "ACCEPTED") {
    kind = ICAL_PARTSTAT_ACCEPTED;
  } else if (partstat == "TENTATIVE") {
    kind = ICAL_PARTSTAT_TENTATIVE;
  } else if (partstat == "DECLINED") {
    kind = ICAL_PARTSTAT_DECLINED;
  } else {
    return 0;
  }
  int set = 0;
  for (icalcomponent* c = icalcomponent_get_first_component(root_, ICAL_VEVENT_COMPONENT);
       c != nullptr; c = icalcomponent_get_next_component(root_, ICAL_VEVENT_COMPONENT)) {
    for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
         p != nullptr; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
      const char* value = icalproperty_get_attendee(p);
      if (value != nullptr && strlen(value) == address.size() &&
          strncasecmp(value, address.data(), address.size()) == 0) {
        icalproperty_set_parameter(p, icalparameter_new_partstat(kind));
        ++set;
      }
    }
  }
  return set;
}

Result<ObjectSummary> ICalendar::Validate() const {
  if (icalcomponent_get_first_property(root_, ICAL_METHOD_PROPERTY) != nullptr) {
    return InvalidData("a stored calendar object has no METHOD property (RFC 4791 §4.1)");
  }
  ObjectSummary out;
  size_t count = 0;
  std::set<int64_t> rids;
  bool master_seen = false;
  for (icalcomponent* c = icalcomponent_get_first_component(root_, ICAL_ANY_COMPONENT);
       c != nullptr; c = icalcomponent_get_next_component(root_, ICAL_ANY_COMPONENT)) {
    if (++count > kMaxComponents) {
      return InvalidData("too many components in one calendar object");
    }
    icalcomponent_kind kind = icalcomponent_isa(c);
    if (kind == ICAL_VTIMEZONE_COMPONENT) {
      continue;
    }
    if (!IsCalendarComponent(kind)) {
      // NOTE: libical names no kind it does not know (an X- component): NULL, not a string.
      const char* kind_name = icalcomponent_kind_to_string(kind);
      return Error(
          403, "C:supported-calendar-component",
          std::string("unsupported component ") + (kind_name != nullptr ? kind_name : "(unknown)"));
    }
    std::string name = icalcomponent_kind_to_string(kind);
    if (out.component.empty()) {
      out.component = name;
    } else if (out.component != name) {
      return InvalidData("one calendar object holds one type of component (RFC 4791 §4.1)");
    }
    const char* uid = icalcomponent_get_uid(c);
    if (uid == nullptr || *uid == '\0') {
      return InvalidData("every component needs a UID");
    }
    if (out.uid.empty()) {
      out.uid = uid;
    } else if (out.uid != uid) {
      return InvalidData("every component of one calendar object has the same UID");
    }
    // Every TZID must name a zone: the object's VTIMEZONE or one of the tz database.
    for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != nullptr;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
      if (const char* tzid = TzidOf(p); tzid != nullptr && ResolveZone(root_, tzid) == nullptr) {
        return Error(403, "C:valid-calendar-data", std::string("unknown time zone: ") + tzid);
      }
    }
    // Dates that are not dates, an end before the start, rules too dense to serve.
    auto start = PropTime(root_, c, ICAL_DTSTART_PROPERTY);
    auto end_prop = kind == ICAL_VTODO_COMPONENT ? ICAL_DUE_PROPERTY : ICAL_DTEND_PROPERTY;
    auto end = PropTime(root_, c, end_prop);
    for (const auto& t : {start, end}) {
      if (t && (!icaltime_is_valid_time(*t) || t->month < 1 || t->month > 12 || t->day < 1 ||
                t->day > icaltime_days_in_month(t->month, t->year) || t->hour > 23 ||
                t->minute > 59 || t->second > 60)) {
        return InvalidData("a date or time that does not exist");
      }
    }
    if (start && end && ToUtc(*end) < ToUtc(*start)) {
      return InvalidData("the end comes before the start");
    }
    for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY); p != nullptr;
         p = icalcomponent_get_next_property(c, ICAL_RRULE_PROPERTY)) {
      icalrecurrencetype rule = icalproperty_get_rrule(p);
      if (rule.freq == ICAL_SECONDLY_RECURRENCE || rule.freq == ICAL_MINUTELY_RECURRENCE) {
        return Error(403, "C:valid-calendar-data",
                     "recurrence every second or minute is not served (RFC 5545 allows it; no "
                     "calendar needs it)");
      }
      if (rule.count > static_cast<int>(kMaxIterations)) {
        return Error(403, "C:valid-calendar-data", "a rule of more than 100000 instances");
      }
    }
    if (auto rid = PropTime(root_, c, ICAL_RECURRENCEID_PROPERTY)) {
      if (!rids.insert(ToUtc(*rid)).second) {
        return InvalidData("two components override the same instance");
      }
    } else {
      if (master_seen) {
        return InvalidData("two components without RECURRENCE-ID share a UID");
      }
      master_seen = true;
    }
  }
  if (out.component.empty()) {
    return InvalidData("no VEVENT, VTODO or VJOURNAL in the calendar object");
  }
  if (out.uid.size() > 1024) {
    return InvalidData("UID too long");
  }

  // The index: the earliest start and the latest end over every instance, when they are known.
  Components parts = Collect(root_);
  int64_t first = std::numeric_limits<int64_t>::max();
  int64_t last = std::numeric_limits<int64_t>::min();
  bool unbounded = false;
  auto note = [&](int64_t start, const Span& s) {
    first = std::min(first, start);
    last = std::max(last, SaturatingAdd(start, s.instant ? 1 : s.duration));
  };
  if (parts.master != nullptr) {
    Span s = SpanOf(root_, parts.master);
    if (s.always) {
      first = kDistantPast;
      unbounded = true;
    } else if (!s.never) {
      out.recurring = HasRecurrence(parts.master);
      note(s.start, s);
      if (EndlessRule(parts.master)) {
        unbounded = true;  // no need to walk a rule that never ends
      } else if (out.recurring) {
        Starts starts = MasterStarts(root_, parts.master, s, std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::max());
        if (!starts.complete) {
          unbounded = true;
        }
        for (int64_t st : starts.starts) {
          note(st, s);
        }
      }
    }
  }
  for (const auto& [rid, c] : parts.overrides) {
    out.recurring = true;
    Span s = SpanOf(root_, c);
    if (s.always) {
      first = kDistantPast;
      unbounded = true;
    } else if (!s.never) {
      note(s.start, s);
      note(rid, s);
    }
  }
  out.first_start = first == std::numeric_limits<int64_t>::max() ? kDistantPast : first;
  if (!unbounded && last != std::numeric_limits<int64_t>::min()) {
    out.last_end = last;
  }
  if (first == std::numeric_limits<int64_t>::max() && !unbounded) {
    out.last_end = kDistantPast;  // a VJOURNAL without dates: in no range
  }
  return out;
}

bool ICalendar::Overlaps(TimeRange range) const { return !InstancesIn(range, 1).empty(); }

std::vector<Instance> ICalendar::InstancesIn(TimeRange range, size_t want) const {
  std::vector<Instance> out;
  Components parts = Collect(root_);
  if (parts.master != nullptr) {
    Span s = SpanOf(root_, parts.master);
    bool recurring = HasRecurrence(parts.master);
    if (s.always) {
      out.push_back({range.start, range.end, parts.master, false});
    } else if (!s.never) {
      // One more than asked: one of them may be replaced by an override.
      size_t ask =
          want == std::numeric_limits<size_t>::max() ? want : want + parts.overrides.size();
      Starts starts = MasterStarts(root_, parts.master, s, range.start, range.end, ask);
      for (int64_t st : starts.starts) {
        if (parts.overrides.contains(st)) {
          continue;  // replaced by its overriding component
        }
        int64_t en = SaturatingAdd(st, s.duration);
        if (SpanOverlaps(st, en, s.instant, range)) {
          out.push_back({st, en, parts.master, recurring || !parts.overrides.empty()});
        }
      }
    }
  }
  for (const auto& [rid, c] : parts.overrides) {
    Span s = SpanOf(root_, c);
    if (s.always) {
      out.push_back({range.start, range.end, c, true});
    } else if (!s.never) {
      int64_t en = SaturatingAdd(s.start, s.duration);
      if (SpanOverlaps(s.start, en, s.instant, range)) {
        out.push_back({s.start, en, c, true});
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Instance& a, const Instance& b) { return a.start < b.start; });
  return out;
}

std::string ICalendar::Expanded(TimeRange range) const {
  std::vector<Instance> instances = InstancesIn(range);
  icalcomponent* out = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
  for (icalproperty* p = icalcomponent_get_first_property(root_, ICAL_ANY_PROPERTY); p != nullptr;
       p = icalcomponent_get_next_property(root_, ICAL_ANY_PROPERTY)) {
    icalcomponent_add_property(out, icalproperty_new_clone(p));
  }
  for (const Instance& in : instances) {
    icalcomponent* c = icalcomponent_new_clone(in.component);
    bool had_end = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY) != nullptr ||
                   icalcomponent_get_first_property(c, ICAL_DUE_PROPERTY) != nullptr;
    bool is_date = false;
    if (auto st = PropTime(root_, in.component, ICAL_DTSTART_PROPERTY)) {
      is_date = st->is_date != 0;
    }
    for (auto kind :
         {ICAL_RRULE_PROPERTY, ICAL_RDATE_PROPERTY, ICAL_EXDATE_PROPERTY, ICAL_EXRULE_PROPERTY,
          ICAL_DTSTART_PROPERTY, ICAL_DTEND_PROPERTY, ICAL_RECURRENCEID_PROPERTY}) {
      RemoveAll(c, kind);
    }
    if (is_date) {
      icaltimetype d = UtcTime(in.start);
      d.is_date = 1;
      d.zone = nullptr;
      icalcomponent_add_property(c, icalproperty_new_dtstart(d));
    } else {
      icalcomponent_add_property(c, icalproperty_new_dtstart(UtcTime(in.start)));
    }
    if (had_end && icalcomponent_isa(c) == ICAL_VEVENT_COMPONENT) {
      icaltimetype e = UtcTime(in.end);
      if (is_date) {
        e.is_date = 1;
        e.zone = nullptr;
      }
      icalcomponent_add_property(c, icalproperty_new_dtend(e));
    }
    if (in.recurring) {
      icaltimetype r = UtcTime(in.start);
      if (in.component != nullptr) {
        if (auto rid = PropTime(root_, in.component, ICAL_RECURRENCEID_PROPERTY)) {
          r = UtcTime(ToUtc(*rid));
        }
      }
      if (is_date) {
        r.is_date = 1;
        r.zone = nullptr;
      }
      icalcomponent_add_property(c, icalproperty_new_recurrenceid(r));
    }
    icalcomponent_add_component(out, c);
  }
  std::string text = AsText(out);
  icalcomponent_free(out);
  return text;
}

namespace {

// Calls fn(property) for every property named `name` of the calendar's components until it
// returns true.
template <class F>
bool AnyProperty(icalcomponent* root, std::string_view name, F fn) {
  std::string n(name);
  for (icalcomponent* c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT); c != nullptr;
       c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
    if (!IsCalendarComponent(icalcomponent_isa(c))) {
      continue;
    }
    for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != nullptr;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
      const char* pname = icalproperty_get_property_name(p);
      if (pname != nullptr && strcasecmp(pname, n.c_str()) == 0 && fn(p)) {
        return true;
      }
    }
  }
  return false;
}

bool ContainsIgnoringCase(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

}  // namespace

bool ICalendar::HasProperty(std::string_view name) const {
  return AnyProperty(root_, name, [](icalproperty*) { return true; });
}

bool ICalendar::PropertyContains(std::string_view name, std::string_view text) const {
  return AnyProperty(root_, name, [text](icalproperty* p) {
    const char* v = icalproperty_get_value_as_string(p);
    return v != nullptr && ContainsIgnoringCase(v, text);
  });
}

namespace {

// Whether an instance of `c` makes its owner busy, and tentatively so.
bool MakesBusy(icalcomponent* c, bool* tentative) {
  if (icalcomponent_isa(c) != ICAL_VEVENT_COMPONENT) {
    return false;
  }
  if (icalproperty* t = icalcomponent_get_first_property(c, ICAL_TRANSP_PROPERTY);
      t != nullptr && icalproperty_get_transp(t) == ICAL_TRANSP_TRANSPARENT) {
    return false;
  }
  icalproperty_status status = ICAL_STATUS_NONE;
  if (icalproperty* st = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY)) {
    status = icalproperty_get_status(st);
  }
  if (tentative != nullptr) {
    *tentative = status == ICAL_STATUS_TENTATIVE;
  }
  return status != ICAL_STATUS_CANCELLED;
}

}  // namespace

std::vector<ICalendar::Busy> ICalendar::BusyIn(TimeRange range) const {
  std::vector<Busy> out;
  for (const Instance& in : InstancesIn(range)) {
    bool tentative = false;
    if (in.end <= in.start || !MakesBusy(in.component, &tentative)) {
      continue;
    }
    out.push_back({std::max(in.start, range.start), std::min(in.end, range.end), tentative});
  }
  return out;
}

std::vector<ICalendar::Occurrence> ICalendar::Occurrences(TimeRange range) const {
  std::vector<Occurrence> out;
  for (const Instance& in : InstancesIn(range)) {
    out.push_back({in.start, in.end, in.end > in.start && MakesBusy(in.component, nullptr)});
  }
  return out;
}

Result<int64_t> ParseUtcDateTime(std::string_view value) {
  // YYYYMMDDTHHMMSSZ exactly: icaltime_from_string accepts much else, and RFC 4791 §9.9 says
  // time-range values are UTC date-times.
  if (value.size() != 16 || value[8] != 'T' || value[15] != 'Z') {
    return Error::BadRequest("time-range values must be UTC date-times like 20270329T070000Z",
                             "C:valid-filter");
  }
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && (value[i] < '0' || value[i] > '9')) {
      return Error::BadRequest("malformed time-range value", "C:valid-filter");
    }
  }
  std::string s(value);
  icaltimetype t = icaltime_from_string(s.c_str());
  if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t) || t.month < 1 || t.month > 12 ||
      t.day < 1 || t.day > 31 || t.hour > 23 || t.minute > 59 || t.second > 60) {
    return Error::BadRequest("malformed time-range value", "C:valid-filter");
  }
  return ToUtc(t);
}

std::string FormatUtcDateTime(int64_t seconds) {
  icaltimetype t = UtcTime(seconds);
  return icaltime_as_ical_string(t);
}

namespace {

icalproperty* Organizer(const std::string& email, const std::string& name) {
  std::string mailto = "mailto:" + email;
  icalproperty* org = icalproperty_new_organizer(mailto.c_str());
  if (!name.empty()) {
    icalproperty_add_parameter(org, icalparameter_new_cn(name.c_str()));
  }
  return org;
}

icalproperty* Attendee(const std::string& address, const std::string& name,
                       icalparameter_partstat partstat, bool rsvp) {
  icalproperty* att = icalproperty_new_attendee(address.c_str());
  if (!name.empty()) {
    icalproperty_add_parameter(att, icalparameter_new_cn(name.c_str()));
  }
  icalproperty_add_parameter(att, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
  icalproperty_add_parameter(att, icalparameter_new_partstat(partstat));
  if (rsvp) {
    icalproperty_add_parameter(att, icalparameter_new_rsvp(ICAL_RSVP_TRUE));
  }
  return att;
}

}  // namespace

std::string EventCalendar(const EventFields& e, std::string_view method) {
  icalcomponent* cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
  icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
  icalcomponent_add_property(cal, icalproperty_new_prodid("-//Ruche//Booking//EN"));
  if (!method.empty()) {
    icalcomponent_add_property(
        cal, icalproperty_new_method(icalproperty_string_to_method(std::string(method).c_str())));
  }
  icalcomponent* ev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
  icalcomponent_add_property(ev, icalproperty_new_uid(e.uid.c_str()));
  icalcomponent_add_property(ev, icalproperty_new_dtstamp(UtcTime(time(nullptr))));
  icalcomponent_add_property(ev, icalproperty_new_dtstart(UtcTime(e.start)));
  icalcomponent_add_property(ev, icalproperty_new_dtend(UtcTime(e.end)));
  icalcomponent_add_property(ev, icalproperty_new_sequence(static_cast<int>(e.sequence)));
  icalcomponent_add_property(ev, icalproperty_new_summary(e.summary.c_str()));
  if (!e.location.empty()) {
    icalcomponent_add_property(ev, icalproperty_new_location(e.location.c_str()));
  }
  if (!e.description.empty()) {
    icalcomponent_add_property(ev, icalproperty_new_description(e.description.c_str()));
  }
  if (!e.url.empty()) {
    icalcomponent_add_property(ev, icalproperty_new_url(e.url.c_str()));
  }
  icalcomponent_add_property(
      ev, icalproperty_new_status(icalproperty_string_to_status(e.status.c_str())));
  if (!e.organizer_email.empty()) {
    icalcomponent_add_property(ev, Organizer(e.organizer_email, e.organizer_name));
  }
  if (!e.attendee_email.empty()) {
    icalcomponent_add_property(
        ev, Attendee("mailto:" + e.attendee_email, e.attendee_name,
                     e.partstat == "ACCEPTED" ? ICAL_PARTSTAT_ACCEPTED : ICAL_PARTSTAT_NEEDSACTION,
                     false));
  }
  if (!e.booking_id.empty()) {
    icalproperty* x = icalproperty_new_x(e.booking_id.c_str());
    icalproperty_set_x_name(x, "X-RUCHE-BOOKING");
    icalcomponent_add_property(ev, x);
  }
  icalcomponent_add_component(cal, ev);
  std::string text = AsText(cal);
  icalcomponent_free(cal);
  return text;
}

std::vector<ICalendar::InstanceView> ICalendar::Views(TimeRange range, size_t want) const {
  std::vector<InstanceView> out;
  auto text = [](icalcomponent* c, icalproperty_kind k) {
    icalproperty* p = icalcomponent_get_first_property(c, k);
    const char* v = p != nullptr ? icalproperty_get_value_as_string(p) : nullptr;
    return std::string(v != nullptr ? v : "");
  };
  std::string rrule;
  if (Components parts = Collect(root_); parts.master != nullptr) {
    rrule = text(parts.master, ICAL_RRULE_PROPERTY);
  }
  for (const Instance& in : InstancesIn(range, want)) {
    InstanceView v;
    v.start = in.start;
    v.end = in.end;
    v.recurring = in.recurring;
    icalcomponent* c = in.component;
    if (auto st = PropTime(root_, c, ICAL_DTSTART_PROPERTY)) {
      v.all_day = st->is_date != 0;
    }
    const char* uid = icalcomponent_get_uid(c);
    v.uid = uid != nullptr ? uid : "";
    const char* summary = icalcomponent_get_summary(c);
    v.summary = summary != nullptr ? summary : "";
    const char* location = icalcomponent_get_location(c);
    v.location = location != nullptr ? location : "";
    const char* description = icalcomponent_get_description(c);
    v.description = description != nullptr ? description : "";
    v.rrule = rrule;
    for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p != nullptr;
         p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY)) {
      const char* name = icalproperty_get_x_name(p);
      if (name != nullptr && strcmp(name, "X-RUCHE-BOOKING") == 0) {
        const char* val = icalproperty_get_x(p);
        v.booking_id = val != nullptr ? val : "";
      }
    }
    for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
         p != nullptr; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
      InstanceView::Attendee a;
      const char* addr = icalproperty_get_attendee(p);
      a.email = addr != nullptr ? addr : "";
      constexpr std::string_view kUserUrn = "urn:x-ruche:user:";
      if (a.email.size() > 7 && strncasecmp(a.email.c_str(), "mailto:", 7) == 0) {
        a.email = a.email.substr(7);
      } else if (a.email.starts_with(kUserUrn)) {
        a.user_id = a.email.substr(kUserUrn.size());
        a.email.clear();
      }
      if (icalparameter* cn = icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER)) {
        a.name = icalparameter_get_cn(cn);
      }
      a.partstat = "NEEDS-ACTION";
      if (icalparameter* ps = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER)) {
        const char* s2 = icalparameter_enum_to_string(icalparameter_get_partstat(ps));
        a.partstat = s2 != nullptr ? s2 : "NEEDS-ACTION";
      }
      v.attendees.push_back(std::move(a));
    }
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::string> UserEventCalendar(const UserEvent& e, std::string_view method) {
  icaltimezone* zone = nullptr;
  if (!e.all_day && e.timezone != "UTC") {
    zone = icaltimezone_get_builtin_timezone(e.timezone.c_str());
    if (zone == nullptr) {
      return Error::BadRequest("unknown time zone: " + e.timezone, "M_INVALID_PARAM");
    }
  }
  if (!e.rrule.empty()) {
    icalerror_clear_errno();
    icalrecurrencetype r = icalrecurrencetype_from_string(e.rrule.c_str());
    if (r.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
      icalerror_clear_errno();
      return Error::BadRequest("rrule is not an RFC 5545 recurrence rule", "M_INVALID_PARAM");
    }
  }
  auto local = [&](int64_t utc) {
    icaltimetype t = UtcTime(utc);
    if (e.all_day) {
      t.is_date = 1;
      t.zone = nullptr;
      t.hour = t.minute = t.second = 0;
    } else if (zone != nullptr) {
      t = icaltime_convert_to_zone(t, zone);
    }
    return t;
  };
  auto with_tzid = [&](icalproperty* p) {
    if (zone != nullptr) {
      icalproperty_add_parameter(p, icalparameter_new_tzid(icaltimezone_get_tzid(zone)));
    }
    return p;
  };
  icalcomponent* cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
  icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
  icalcomponent_add_property(cal, icalproperty_new_prodid("-//Ruche//Calendar//EN"));
  if (!method.empty()) {
    icalcomponent_add_property(
        cal, icalproperty_new_method(icalproperty_string_to_method(std::string(method).c_str())));
  }
  if (zone != nullptr) {
    icalcomponent_add_component(cal, icalcomponent_new_clone(icaltimezone_get_component(zone)));
  }
  icalcomponent* ev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
  icalcomponent_add_property(ev, icalproperty_new_uid(e.uid.c_str()));
  icalcomponent_add_property(ev, icalproperty_new_dtstamp(UtcTime(time(nullptr))));
  icalcomponent_add_property(ev, with_tzid(icalproperty_new_dtstart(local(e.start))));
  icalcomponent_add_property(ev, with_tzid(icalproperty_new_dtend(local(e.end))));
  icalcomponent_add_property(ev, icalproperty_new_sequence(static_cast<int>(e.sequence)));
  icalcomponent_add_property(ev, icalproperty_new_summary(e.summary.c_str()));
  if (!e.location.empty()) {
    icalcomponent_add_property(ev, icalproperty_new_location(e.location.c_str()));
  }
  if (!e.description.empty()) {
    icalcomponent_add_property(ev, icalproperty_new_description(e.description.c_str()));
  }
  if (!e.rrule.empty()) {
    icalcomponent_add_property(
        ev, icalproperty_new_rrule(icalrecurrencetype_from_string(e.rrule.c_str())));
  }
  if (!e.url.empty()) {
    icalcomponent_add_property(ev, icalproperty_new_url(e.url.c_str()));
  }
  if ((!e.attendees.empty() || !e.internal_attendees.empty()) && !e.organizer_email.empty()) {
    icalcomponent_add_property(ev, Organizer(e.organizer_email, e.organizer_name));
  }
  for (const auto& [user_id, name] : e.internal_attendees) {
    icalcomponent_add_property(
        ev, Attendee("urn:x-ruche:user:" + user_id, name, ICAL_PARTSTAT_NEEDSACTION, false));
  }
  for (const auto& [email, name] : e.attendees) {
    icalcomponent_add_property(ev,
                               Attendee("mailto:" + email, name, ICAL_PARTSTAT_NEEDSACTION, true));
  }
  icalcomponent_add_component(cal, ev);
  std::string text = AsText(cal);
  icalcomponent_free(cal);
  return text;
}

std::string FreeBusyCalendar(TimeRange range, std::vector<ICalendar::Busy> busy) {
  std::sort(busy.begin(), busy.end(),
            [](const auto& a, const auto& b) { return a.start < b.start; });
  // Merge overlapping periods of the same kind.
  std::vector<ICalendar::Busy> merged;
  for (const auto& b : busy) {
    bool joined = false;
    for (auto it = merged.rbegin(); it != merged.rend(); ++it) {
      if (it->tentative == b.tentative && b.start <= it->end) {
        it->end = std::max(it->end, b.end);
        joined = true;
        break;
      }
    }
    if (!joined) {
      merged.push_back(b);
    }
  }
  icalcomponent* cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
  icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
  icalcomponent_add_property(cal, icalproperty_new_prodid("-//Ruche//CalDAV//EN"));
  icalcomponent* fb = icalcomponent_new(ICAL_VFREEBUSY_COMPONENT);
  icalcomponent_add_property(fb, icalproperty_new_dtstamp(UtcTime(time(nullptr))));
  icalcomponent_add_property(fb, icalproperty_new_dtstart(UtcTime(range.start)));
  icalcomponent_add_property(fb, icalproperty_new_dtend(UtcTime(range.end)));
  for (const auto& b : merged) {
    icalperiodtype period = icalperiodtype_null_period();
    period.start = UtcTime(b.start);
    period.end = UtcTime(b.end);
    icalproperty* p = icalproperty_new_freebusy(period);
    icalproperty_add_parameter(
        p, icalparameter_new_fbtype(b.tentative ? ICAL_FBTYPE_BUSYTENTATIVE : ICAL_FBTYPE_BUSY));
    icalcomponent_add_property(fb, p);
  }
  icalcomponent_add_component(cal, fb);
  std::string text = AsText(cal);
  icalcomponent_free(cal);
  return text;
}

}  // namespace ruche::cal
