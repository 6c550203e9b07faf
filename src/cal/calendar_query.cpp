#include "cal/calendar_query.hpp"

namespace ruche::cal {
namespace {

Error InvalidFilter(std::string message) {
  return Error::BadRequest(std::move(message), "C:valid-filter");
}

constexpr size_t kMaxPropFilters = 50;

}  // namespace

Result<TimeRange> ReadTimeRange(const XmlElement& e) {
  TimeRange r;
  auto start = e.Attribute("start");
  auto end = e.Attribute("end");
  if (!start && !end) {
    return InvalidFilter("time-range needs a start or an end");
  }
  if (start) {
    RUCHE_ASSIGN_OR_RETURN(r.start, ParseUtcDateTime(*start));
  }
  if (end) {
    RUCHE_ASSIGN_OR_RETURN(r.end, ParseUtcDateTime(*end));
  }
  if (r.end <= r.start) {
    return InvalidFilter("time-range end must follow its start");
  }
  return r;
}

Result<CalendarFilter> ReadCalendarFilter(const XmlElement* filter) {
  CalendarFilter out;
  if (filter == nullptr) {
    return out;
  }
  const XmlElement* top = filter->Child(kCalDavNs, "comp-filter");
  if (top == nullptr || top->Attribute("name") != "VCALENDAR") {
    return InvalidFilter("the filter must start with a VCALENDAR comp-filter");
  }
  if (top->Child(kCalDavNs, "is-not-defined") != nullptr) {
    out.component_not_defined = true;
    return out;
  }
  const XmlElement* comp = top->Child(kCalDavNs, "comp-filter");
  if (comp == nullptr) {
    return out;
  }
  auto name = comp->Attribute("name");
  if (!name || name->empty()) {
    return InvalidFilter("comp-filter needs a name");
  }
  out.component = std::string(*name);
  if (comp->Child(kCalDavNs, "is-not-defined") != nullptr) {
    out.component_not_defined = true;
    return out;
  }
  if (const XmlElement* tr = comp->Child(kCalDavNs, "time-range")) {
    RUCHE_ASSIGN_OR_RETURN(out.range, ReadTimeRange(*tr));
  }
  for (const auto& c : comp->children) {
    if (!c.Is(kCalDavNs, "prop-filter")) {
      continue;
    }
    if (out.props.size() >= kMaxPropFilters) {
      return InvalidFilter("too many prop-filters");
    }
    PropFilter pf;
    auto pname = c.Attribute("name");
    if (!pname || pname->empty()) {
      return InvalidFilter("prop-filter needs a name");
    }
    pf.name = std::string(*pname);
    pf.is_not_defined = c.Child(kCalDavNs, "is-not-defined") != nullptr;
    if (const XmlElement* tm = c.Child(kCalDavNs, "text-match")) {
      pf.text = tm->text;
      pf.negate = tm->Attribute("negate-condition") == "yes";
    }
    out.props.push_back(std::move(pf));
  }
  return out;
}

bool MatchesProperties(const ICalendar& cal, const std::vector<PropFilter>& props) {
  for (const auto& pf : props) {
    bool has = cal.HasProperty(pf.name);
    if (pf.is_not_defined) {
      if (has) {
        return false;
      }
      continue;
    }
    if (!has) {
      return false;
    }
    if (pf.text && cal.PropertyContains(pf.name, *pf.text) == pf.negate) {
      return false;
    }
  }
  return true;
}

}  // namespace ruche::cal
