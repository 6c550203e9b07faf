#include "cal/dav_path.hpp"

#include <vector>

#include "net/http_types.hpp"

namespace ruche::cal {
namespace {

constexpr std::string_view kPrefix = "/dav/";
constexpr size_t kMaxSegment = 255;

bool ValidSegment(const std::string& s) {
  if (s.empty() || s == "." || s == ".." || s.size() > kMaxSegment) {
    return false;
  }
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || c == '/') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string EncodeSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '@';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string PrincipalHref(std::string_view user) {
  return "/dav/principals/" + EncodeSegment(user) + "/";
}
std::string HomeHref(std::string_view user) {
  return "/dav/calendars/" + EncodeSegment(user) + "/";
}
std::string CalendarHref(std::string_view user, std::string_view calendar) {
  return HomeHref(user) + EncodeSegment(calendar) + "/";
}

std::string DavTarget::Href() const {
  switch (kind) {
    case Kind::kRoot:
      return "/dav/";
    case Kind::kPrincipals:
      return "/dav/principals/";
    case Kind::kPrincipal:
      return PrincipalHref(user);
    case Kind::kCalendars:
      return "/dav/calendars/";
    case Kind::kHome:
      return HomeHref(user);
    case Kind::kCalendar:
      return CalendarHref(user, calendar);
    case Kind::kObject:
      return CalendarHref(user, calendar) + EncodeSegment(object);
  }
  return "/dav/";
}

std::optional<DavTarget> ParseDavPath(std::string_view path) {
  // An absolute URL in an href: keep its path.
  if (size_t scheme = path.find("://"); scheme != std::string_view::npos && scheme < 8) {
    size_t slash = path.find('/', scheme + 3);
    if (slash == std::string_view::npos) {
      return std::nullopt;
    }
    path = path.substr(slash);
  }
  if (size_t q = path.find_first_of("?#"); q != std::string_view::npos) {
    path = path.substr(0, q);
  }
  if (path == "/dav") {
    return DavTarget{};
  }
  if (!path.starts_with(kPrefix)) {
    return std::nullopt;
  }
  path.remove_prefix(kPrefix.size());
  std::vector<std::string> segs;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view raw = path.substr(0, slash);
    std::string decoded;
    if (!net::PercentDecode(raw, decoded) || !ValidSegment(decoded)) {
      return std::nullopt;
    }
    segs.push_back(std::move(decoded));
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  DavTarget t;
  using K = DavTarget::Kind;
  if (segs.empty()) {
    return t;
  }
  if (segs[0] == "principals") {
    if (segs.size() == 1) {
      t.kind = K::kPrincipals;
      return t;
    }
    if (segs.size() == 2) {
      t.kind = K::kPrincipal;
      t.user = segs[1];
      return t;
    }
    return std::nullopt;
  }
  if (segs[0] != "calendars" || segs.size() > 4) {
    return std::nullopt;
  }
  static constexpr K kKinds[] = {K::kCalendars, K::kHome, K::kCalendar, K::kObject};
  t.kind = kKinds[segs.size() - 1];
  if (segs.size() > 1) {
    t.user = segs[1];
  }
  if (segs.size() > 2) {
    t.calendar = segs[2];
  }
  if (segs.size() > 3) {
    t.object = segs[3];
  }
  return t;
}

}  // namespace ruche::cal
