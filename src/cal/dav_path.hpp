#pragma once
// The URL space under /dav/ (docs/api.md, "CalDAV"):
//   /dav/                                   root: where clients start discovery
//   /dav/principals/<user>/                 a user's principal
//   /dav/calendars/<user>/                  the user's calendar home
//   /dav/calendars/<user>/<calendar>/       a calendar collection
//   /dav/calendars/<user>/<calendar>/<obj>  a calendar object resource (an .ics)
#include <optional>
#include <string>
#include <string_view>

namespace ruche::cal {

struct DavTarget {
  enum class Kind { kRoot, kPrincipals, kPrincipal, kCalendars, kHome, kCalendar, kObject };
  Kind kind = Kind::kRoot;
  std::string user;      // decoded
  std::string calendar;  // decoded
  std::string object;    // decoded

  bool IsCollection() const { return kind != Kind::kObject; }
  // The canonical href, percent-encoded, collections ending in '/'.
  std::string Href() const;
};

// Parses a request path (still percent-encoded, e.g. "/dav/calendars/alice/personal/"), or the
// path of an href a client sent (also "http://host/dav/…"). nullopt outside the URL space or for
// a malformed segment (empty, "." or "..", a NUL or control byte, longer than 255 bytes).
std::optional<DavTarget> ParseDavPath(std::string_view path);

// Percent-encodes one path segment (RFC 3986 unreserved characters and "@" kept).
std::string EncodeSegment(std::string_view segment);

std::string PrincipalHref(std::string_view user);
std::string HomeHref(std::string_view user);
std::string CalendarHref(std::string_view user, std::string_view calendar);

}  // namespace ruche::cal
