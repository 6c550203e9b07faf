#include "matrix/event_filter.hpp"

#include <algorithm>

namespace ruche::matrix {

namespace json = core::json;

namespace {

// Bounds on one filter: entries per list and bytes per entry.
constexpr size_t kMaxListEntries = 1000;
constexpr size_t kMaxEntryBytes = 1024;

core::Error Invalid(std::string_view what) {
  return core::Error::BadRequest("Invalid filter: " + std::string(what), "M_INVALID_PARAM");
}

Result<void> ReadList(const json::object& obj, std::string_view key, EventFilter::List& out) {
  const json::value* v = obj.if_contains(key);
  if (!v || v->is_null()) {
    return {};
  }
  if (!v->is_array() || v->get_array().size() > kMaxListEntries) {
    return Invalid(std::string(key) + " must be a list of at most 1000 strings");
  }
  std::vector<std::string> list;
  for (const auto& item : v->get_array()) {
    if (!item.is_string() || item.get_string().size() > kMaxEntryBytes) {
      return Invalid(std::string(key) + " must be a list of strings");
    }
    list.emplace_back(item.get_string());
  }
  out = std::move(list);
  return {};
}

Result<void> ReadBool(const json::object& obj, std::string_view key, bool& out) {
  const json::value* v = obj.if_contains(key);
  if (!v || v->is_null()) {
    return {};
  }
  if (!v->is_bool()) {
    return Invalid(std::string(key) + " must be a boolean");
  }
  out = v->get_bool();
  return {};
}

Result<const json::object*> Section(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (!v || v->is_null()) {
    return nullptr;
  }
  if (!v->is_object()) {
    return Invalid(std::string(key) + " must be an object");
  }
  return &v->get_object();
}

Result<EventFilter> SectionFilter(const json::object& obj, std::string_view key) {
  RUCHE_ASSIGN_OR_RETURN(const json::object* section, Section(obj, key));
  if (!section) {
    return EventFilter{};
  }
  return ParseEventFilter(*section);
}

bool InList(const EventFilter::List& list, std::string_view value, bool patterns) {
  return std::any_of(list->begin(), list->end(), [&](const std::string& p) {
    return patterns ? FilterPatternMatches(p, value) : p == value;
  });
}

}  // namespace

bool FilterPatternMatches(std::string_view pattern, std::string_view text) {
  // Greedy with backtracking to the last '*': linear for one star, O(n·m) at worst, and both
  // are short (an event type, a bounded pattern).
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

bool EventFilter::RestrictsEvents() const {
  return types || not_types || senders || not_senders || contains_url;
}

bool EventFilter::AllowsType(std::string_view type) const {
  if (not_types && InList(not_types, type, true)) {
    return false;
  }
  return !types || InList(types, type, true);
}

bool EventFilter::AllowsSender(std::string_view sender) const {
  if (not_senders && InList(not_senders, sender, false)) {
    return false;
  }
  return !senders || InList(senders, sender, false);
}

bool EventFilter::AllowsRoom(std::string_view room) const {
  if (not_rooms && InList(not_rooms, room, false)) {
    return false;
  }
  return !rooms || InList(rooms, room, false);
}

bool EventFilter::Allows(const json::object& event) const {
  auto field = [&](std::string_view key) {
    const json::value* v = event.if_contains(key);
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
  };
  if (!AllowsType(field("type")) || !AllowsSender(field("sender"))) {
    return false;
  }
  if (contains_url) {
    const json::value* content = event.if_contains("content");
    const json::value* url =
        content && content->is_object() ? content->get_object().if_contains("url") : nullptr;
    if ((url && url->is_string()) != *contains_url) {
      return false;
    }
  }
  return true;
}

bool SyncFilterSpec::AllowsRoom(std::string_view room) const {
  if (not_rooms && InList(not_rooms, room, false)) {
    return false;
  }
  return !rooms || InList(rooms, room, false);
}

Result<EventFilter> ParseEventFilter(const json::object& obj) {
  EventFilter f;
  for (auto [key, list] :
       {std::pair{"types", &f.types}, std::pair{"not_types", &f.not_types},
        std::pair{"senders", &f.senders}, std::pair{"not_senders", &f.not_senders},
        std::pair{"rooms", &f.rooms}, std::pair{"not_rooms", &f.not_rooms}}) {
    RUCHE_RETURN_IF_ERROR(ReadList(obj, key, *list));
  }
  if (const json::value* limit = obj.if_contains("limit"); limit && !limit->is_null()) {
    if (!limit->is_int64() || limit->get_int64() < 0) {
      return Invalid("limit must be a non-negative integer");
    }
    f.limit = limit->get_int64();
  }
  if (const json::value* url = obj.if_contains("contains_url"); url && !url->is_null()) {
    if (!url->is_bool()) {
      return Invalid("contains_url must be a boolean");
    }
    f.contains_url = url->get_bool();
  }
  RUCHE_RETURN_IF_ERROR(ReadBool(obj, "lazy_load_members", f.lazy_load_members));
  RUCHE_RETURN_IF_ERROR(
      ReadBool(obj, "unread_thread_notifications", f.unread_thread_notifications));
  return f;
}

Result<SyncFilterSpec> ParseSyncFilter(const json::object& obj) {
  SyncFilterSpec spec;
  RUCHE_ASSIGN_OR_RETURN(spec.presence, SectionFilter(obj, "presence"));
  RUCHE_ASSIGN_OR_RETURN(spec.account_data, SectionFilter(obj, "account_data"));
  RUCHE_ASSIGN_OR_RETURN(const json::object* room, Section(obj, "room"));
  if (!room) {
    return spec;
  }
  RUCHE_RETURN_IF_ERROR(ReadList(*room, "rooms", spec.rooms));
  RUCHE_RETURN_IF_ERROR(ReadList(*room, "not_rooms", spec.not_rooms));
  RUCHE_ASSIGN_OR_RETURN(spec.timeline, SectionFilter(*room, "timeline"));
  RUCHE_ASSIGN_OR_RETURN(spec.state, SectionFilter(*room, "state"));
  RUCHE_ASSIGN_OR_RETURN(spec.ephemeral, SectionFilter(*room, "ephemeral"));
  RUCHE_ASSIGN_OR_RETURN(spec.room_account_data, SectionFilter(*room, "account_data"));
  return spec;
}

}  // namespace ruche::matrix
