#include "cal/booking_types.hpp"

#include <cstdio>

#include "mail/mail_message.hpp"

namespace ruche::cal {
namespace {

namespace json = core::json;

constexpr const char* kDays[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

Error Invalid(std::string message) {
  return Error::BadRequest(std::move(message), "M_INVALID_PARAM");
}

// "09:30" -> 570; "24:00" allowed as the end of a day.
std::optional<int> ParseHhMm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') {
    return std::nullopt;
  }
  for (size_t i : {0u, 1u, 3u, 4u}) {
    if (s[i] < '0' || s[i] > '9') {
      return std::nullopt;
    }
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) {
    return std::nullopt;
  }
  return h * 60 + m;
}

std::string FormatHhMm(int minutes) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}

Result<std::vector<DayWindow>> ReadWindows(const json::value& v, const std::string& where) {
  const json::array* a = v.if_array();
  if (a == nullptr) {
    return Invalid(where + ": expected a list of [\"HH:MM\", \"HH:MM\"]");
  }
  std::vector<DayWindow> out;
  for (const auto& w : *a) {
    const json::array* pair = w.if_array();
    if (pair == nullptr || pair->size() != 2 || !pair->at(0).is_string() ||
        !pair->at(1).is_string()) {
      return Invalid(where + ": expected a list of [\"HH:MM\", \"HH:MM\"]");
    }
    auto s = ParseHhMm(pair->at(0).get_string());
    auto e = ParseHhMm(pair->at(1).get_string());
    if (!s || !e) {
      return Invalid(where + ": times are HH:MM");
    }
    out.push_back({*s, *e});
  }
  return out;
}

json::array WindowsJson(const std::vector<DayWindow>& windows) {
  json::array a;
  for (const auto& w : windows) {
    a.push_back(json::array{json::string(FormatHhMm(w.start)), json::string(FormatHhMm(w.end))});
  }
  return a;
}

Result<std::optional<int64_t>> OptInt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) {
    return std::optional<int64_t>();
  }
  if (!it->value().is_int64()) {
    return Invalid(std::string(key) + " must be an integer");
  }
  return std::optional<int64_t>(it->value().as_int64());
}

Result<void> ReadInt(const json::object& o, std::string_view key, int& out) {
  RUCHE_ASSIGN_OR_RETURN(auto v, OptInt(o, key));
  if (v) {
    if (*v < -1'000'000 || *v > 1'000'000) {
      return Invalid(std::string(key) + " is out of range");
    }
    out = static_cast<int>(*v);
  }
  return Ok();
}

Result<void> ReadString(const json::object& o, std::string_view key, std::string& out, size_t max) {
  RUCHE_ASSIGN_OR_RETURN(auto v, core::OptString(o, key));
  if (v) {
    if (v->size() > max) {
      return Invalid(std::string(key) + " is too long");
    }
    out = std::string(*v);
  }
  return Ok();
}

}  // namespace

Result<void> ReadBookingType(const json::object& body, BookingType& t) {
  RUCHE_RETURN_IF_ERROR(ReadString(body, "slug", t.slug, 64));
  if (t.slug.empty()) {
    return Invalid("slug is required");
  }
  for (char c : t.slug) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
      return Invalid("slug: lower-case letters, digits, '-' and '_' only");
    }
  }
  RUCHE_RETURN_IF_ERROR(ReadString(body, "title", t.title, 200));
  if (t.title.empty()) {
    return Invalid("title is required");
  }
  RUCHE_RETURN_IF_ERROR(ReadString(body, "description", t.description, 5000));
  RUCHE_RETURN_IF_ERROR(ReadString(body, "timezone", t.timezone, 64));
  if (!TimeZone::Find(t.timezone)) {
    return Invalid("timezone: unknown time zone " + t.timezone);
  }
  RUCHE_RETURN_IF_ERROR(ReadString(body, "notify_email", t.notify_email, 254));
  if (!t.notify_email.empty() && !mail::IsPlausibleAddress(t.notify_email)) {
    return Invalid("notify_email is not an e-mail address");
  }
  RUCHE_ASSIGN_OR_RETURN(auto confirm, core::OptBool(body, "requires_confirmation"));
  t.requires_confirmation = confirm.value_or(t.requires_confirmation);
  RUCHE_ASSIGN_OR_RETURN(const json::object* location, core::OptObject(body, "location"));
  if (location != nullptr) {
    RUCHE_ASSIGN_OR_RETURN(auto kind, core::RequireString(*location, "kind"));
    if (kind == "video") {
      t.video = true;
      t.address.clear();
    } else if (kind == "in_person") {
      t.video = false;
      RUCHE_RETURN_IF_ERROR(ReadString(*location, "address", t.address, 500));
      if (t.address.empty()) {
        return Invalid("location.address is required in person");
      }
    } else {
      return Invalid("location.kind must be video or in_person");
    }
  }
  RUCHE_RETURN_IF_ERROR(ReadInt(body, "duration_min", t.rules.duration_min));
  RUCHE_RETURN_IF_ERROR(ReadInt(body, "slot_interval_min", t.rules.interval_min));
  RUCHE_RETURN_IF_ERROR(ReadInt(body, "buffer_before_min", t.rules.buffer_before_min));
  RUCHE_RETURN_IF_ERROR(ReadInt(body, "buffer_after_min", t.rules.buffer_after_min));
  RUCHE_RETURN_IF_ERROR(ReadInt(body, "min_notice_min", t.rules.min_notice_min));
  RUCHE_RETURN_IF_ERROR(ReadInt(body, "horizon_days", t.rules.horizon_days));
  RUCHE_RETURN_IF_ERROR(ReadInt(body, "max_per_day", t.rules.max_per_day));
  RUCHE_RETURN_IF_ERROR(ReadInt(body, "seats", t.rules.seats));
  RUCHE_RETURN_IF_ERROR(ValidateRules(t.rules));
  RUCHE_ASSIGN_OR_RETURN(const json::object* avail, core::OptObject(body, "availability"));
  if (avail != nullptr) {
    Availability a;
    if (auto it = avail->find("weekly"); it != avail->end()) {
      const json::object* weekly = it->value().if_object();
      if (weekly == nullptr) {
        return Invalid("availability.weekly must be an object of days");
      }
      for (const auto& [day, windows] : *weekly) {
        auto d = std::find(std::begin(kDays), std::end(kDays), std::string_view(day));
        if (d == std::end(kDays)) {
          return Invalid("availability.weekly: days are mon, tue, wed, thu, fri, sat, sun");
        }
        RUCHE_ASSIGN_OR_RETURN(a.weekly[d - std::begin(kDays)],
                               ReadWindows(windows, "availability.weekly." + std::string(day)));
      }
    }
    if (auto it = avail->find("overrides"); it != avail->end()) {
      const json::object* overrides = it->value().if_object();
      if (overrides == nullptr) {
        return Invalid("availability.overrides must be an object of dates");
      }
      for (const auto& [date, windows] : *overrides) {
        auto d = ParseLocalDate(date);
        if (!d) {
          return Invalid("availability.overrides: dates are YYYY-MM-DD");
        }
        RUCHE_ASSIGN_OR_RETURN(a.overrides[*d],
                               ReadWindows(windows, "availability.overrides." + std::string(date)));
      }
    }
    RUCHE_RETURN_IF_ERROR(ValidateAvailability(a));
    t.availability = std::move(a);
  }
  if (auto it = body.find("questions"); it != body.end()) {
    const json::array* qs = it->value().if_array();
    if (qs == nullptr || qs->size() > 20) {
      return Invalid("questions must be a list of at most 20");
    }
    t.questions.clear();
    for (const auto& q : *qs) {
      const json::object* o = q.if_object();
      if (o == nullptr) {
        return Invalid("each question is an object {id, label, required}");
      }
      BookingQuestion bq;
      RUCHE_RETURN_IF_ERROR(ReadString(*o, "id", bq.id, 64));
      RUCHE_RETURN_IF_ERROR(ReadString(*o, "label", bq.label, 500));
      RUCHE_ASSIGN_OR_RETURN(auto req, core::OptBool(*o, "required"));
      bq.required = req.value_or(false);
      if (bq.id.empty() || bq.label.empty()) {
        return Invalid("each question needs an id and a label");
      }
      t.questions.push_back(std::move(bq));
    }
  }
  return Ok();
}

json::object PublicBookingTypeJson(const BookingType& t) {
  json::object o;
  o["id"] = t.id;
  o["owner"] = t.owner;
  o["slug"] = t.slug;
  o["title"] = t.title;
  o["description"] = t.description;
  json::object location;
  location["kind"] = t.video ? "video" : "in_person";
  if (!t.video) {
    location["address"] = t.address;
  }
  o["location"] = std::move(location);
  o["timezone"] = t.timezone;
  o["duration_min"] = t.rules.duration_min;
  o["min_notice_min"] = t.rules.min_notice_min;  // what a visitor's page may offer
  o["horizon_days"] = t.rules.horizon_days;
  o["seats"] = t.rules.seats;
  o["requires_confirmation"] = t.requires_confirmation;
  json::array qs;
  for (const auto& q : t.questions) {
    json::object jq;
    jq["id"] = q.id;
    jq["label"] = q.label;
    jq["required"] = q.required;
    qs.push_back(std::move(jq));
  }
  o["questions"] = std::move(qs);
  return o;
}

json::object BookingTypeJson(const BookingType& t) {
  json::object o = PublicBookingTypeJson(t);
  o["slot_interval_min"] = t.rules.interval_min;
  o["buffer_before_min"] = t.rules.buffer_before_min;
  o["buffer_after_min"] = t.rules.buffer_after_min;
  o["max_per_day"] = t.rules.max_per_day;
  o["notify_email"] = t.notify_email;
  json::object weekly;
  for (int d = 0; d < 7; ++d) {
    if (!t.availability.weekly[d].empty()) {
      weekly[kDays[d]] = WindowsJson(t.availability.weekly[d]);
    }
  }
  json::object overrides;
  for (const auto& [date, windows] : t.availability.overrides) {
    overrides[date.ToString()] = WindowsJson(windows);
  }
  json::object avail;
  avail["weekly"] = std::move(weekly);
  avail["overrides"] = std::move(overrides);
  o["availability"] = std::move(avail);
  return o;
}

Result<int64_t> ParseIsoUtc(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SSZ
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z') {
    return Invalid("times are UTC, like 2027-03-29T07:00:00Z");
  }
  std::string compact;
  for (char c : text) {
    if (c != '-' && c != ':') {
      compact += c;
    }
  }
  auto v = ParseUtcDateTime(compact);
  if (!v) {
    return Invalid("times are UTC, like 2027-03-29T07:00:00Z");
  }
  return *v;
}

std::string FormatIsoUtc(int64_t seconds) {
  std::string c = FormatUtcDateTime(seconds);  // 20270329T070000Z
  if (c.size() != 16) {
    return c;
  }
  return c.substr(0, 4) + "-" + c.substr(4, 2) + "-" + c.substr(6, 2) + "T" + c.substr(9, 2) + ":" +
         c.substr(11, 2) + ":" + c.substr(13, 2) + "Z";
}

}  // namespace ruche::cal
