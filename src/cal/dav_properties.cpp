#include "cal/dav_properties.hpp"

#include <ctime>

namespace ruche::cal {
namespace {

constexpr std::string_view kSyncPrefix = "https://ruche.invalid/ns/sync/";

std::string HttpDate(int64_t ms) {
  time_t t = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

void Privileges(XmlWriter& w, bool owner) {
  w.Open(kDavNs, "current-user-privilege-set");
  auto priv = [&w](std::string_view ns, std::string_view name) {
    w.Open(kDavNs, "privilege").Empty(ns, name).Close();
  };
  priv(kDavNs, "read");
  priv(kDavNs, "read-current-user-privilege-set");
  priv(kCalDavNs, "read-free-busy");
  if (owner) {
    priv(kDavNs, "all");
    priv(kDavNs, "write");
    priv(kDavNs, "write-properties");
    priv(kDavNs, "write-content");
    priv(kDavNs, "bind");
    priv(kDavNs, "unbind");
  }
  w.Close();
}

}  // namespace

Result<PropRequest> ReadPropRequest(const XmlElement* parent) {
  PropRequest out;
  if (parent == nullptr) {
    return out;
  }
  for (const auto& c : parent->children) {
    if (c.Is(kDavNs, "allprop")) {
      out.mode = PropRequest::Mode::kAllProp;
    } else if (c.Is(kDavNs, "propname")) {
      out.mode = PropRequest::Mode::kPropName;
    } else if (c.Is(kDavNs, "prop")) {
      out.mode = PropRequest::Mode::kProps;
      for (const auto& p : c.children) {
        if (p.Is(kCalDavNs, "calendar-data")) {
          out.calendar_data = true;
          if (const XmlElement* ex = p.Child(kCalDavNs, "expand")) {
            auto s = ex->Attribute("start");
            auto e = ex->Attribute("end");
            if (!s || !e) {
              return Error::BadRequest("expand needs start and end", "C:valid-filter");
            }
            TimeRange r;
            RUCHE_ASSIGN_OR_RETURN(r.start, ParseUtcDateTime(*s));
            RUCHE_ASSIGN_OR_RETURN(r.end, ParseUtcDateTime(*e));
            if (r.end <= r.start) {
              return Error::BadRequest("expand end must follow its start", "C:valid-filter");
            }
            out.expand = r;
          }
        }
        out.props.emplace_back(p.ns, p.name);
      }
    }
  }
  return out;
}

bool IsProtected(std::string_view ns, std::string_view name) {
  static constexpr std::string_view kDav[] = {"resourcetype",
                                              "getetag",
                                              "getcontenttype",
                                              "getcontentlength",
                                              "getlastmodified",
                                              "creationdate",
                                              "current-user-principal",
                                              "principal-URL",
                                              "principal-collection-set",
                                              "owner",
                                              "current-user-privilege-set",
                                              "supported-report-set",
                                              "sync-token",
                                              "lockdiscovery",
                                              "supportedlock"};
  static constexpr std::string_view kCal[] = {
      "calendar-home-set",       "calendar-user-address-set", "supported-calendar-component-set",
      "supported-calendar-data", "max-resource-size",         "calendar-data"};
  if (ns == kDavNs) {
    return std::find(std::begin(kDav), std::end(kDav), name) != std::end(kDav);
  }
  if (ns == kCalDavNs) {
    return std::find(std::begin(kCal), std::end(kCal), name) != std::end(kCal);
  }
  return ns == kCalServerNs && name == "getctag";
}

std::string SyncToken(const Calendar& calendar, int64_t seq) {
  return std::string(kSyncPrefix) + std::to_string(calendar.id) + "." +
         std::to_string(calendar.created_ts) + "-" + std::to_string(seq);
}

std::optional<int64_t> ParseSyncToken(std::string_view token, const Calendar& calendar) {
  if (!token.starts_with(kSyncPrefix)) {
    return std::nullopt;
  }
  token.remove_prefix(kSyncPrefix.size());
  std::string want = std::to_string(calendar.id) + "." + std::to_string(calendar.created_ts) + "-";
  if (!token.starts_with(want)) {
    return std::nullopt;
  }
  token.remove_prefix(want.size());
  if (token.empty() || token.size() > 18) {
    return std::nullopt;
  }
  int64_t seq = 0;
  for (char c : token) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    seq = seq * 10 + (c - '0');
  }
  return seq;
}

bool PropertyWriter::Live(XmlWriter& w, const DavResource& r, std::string_view ns,
                          std::string_view name, const std::string* calendar_data) const {
  using K = DavTarget::Kind;
  const K kind = r.target.kind;
  const Calendar* cal = r.calendar;
  const StoredObject* obj = r.object;
  if (ns == kDavNs) {
    if (name == "resourcetype") {
      w.Open(kDavNs, "resourcetype");
      if (r.target.IsCollection()) {
        w.Empty(kDavNs, "collection");
      }
      if (kind == K::kPrincipal) {
        w.Empty(kDavNs, "principal");
      }
      if (kind == K::kCalendar) {
        w.Empty(kCalDavNs, "calendar");
      }
      w.Close();
      return true;
    }
    if (name == "displayname") {
      if (kind == K::kPrincipal) {
        w.Element(kDavNs, "displayname", r.principal_displayname);
        return true;
      }
      if (kind == K::kCalendar && cal != nullptr) {
        w.Element(kDavNs, "displayname", cal->displayname);
        return true;
      }
      return false;
    }
    if (name == "getetag" && obj != nullptr) {
      w.Element(kDavNs, "getetag", obj->etag);
      return true;
    }
    if (name == "getcontenttype" && obj != nullptr) {
      w.Element(kDavNs, "getcontenttype",
                "text/calendar; charset=utf-8; component=" + Lower(obj->component));
      return true;
    }
    if (name == "getcontentlength" && obj != nullptr) {
      w.Element(kDavNs, "getcontentlength", std::to_string(obj->size));
      return true;
    }
    if (name == "getlastmodified" && obj != nullptr) {
      w.Element(kDavNs, "getlastmodified", HttpDate(obj->modified_ts));
      return true;
    }
    if (name == "current-user-principal") {
      w.Open(kDavNs, "current-user-principal").Element(kDavNs, "href", principal_).Close();
      return true;
    }
    if (name == "principal-URL" && kind == K::kPrincipal) {
      w.Open(kDavNs, "principal-URL").Element(kDavNs, "href", r.href).Close();
      return true;
    }
    if (name == "principal-collection-set") {
      w.Open(kDavNs, "principal-collection-set")
          .Element(kDavNs, "href", "/dav/principals/")
          .Close();
      return true;
    }
    if (name == "owner" && (kind == K::kHome || kind == K::kCalendar || kind == K::kObject)) {
      w.Open(kDavNs, "owner").Element(kDavNs, "href", PrincipalHref(r.target.user)).Close();
      return true;
    }
    if (name == "current-user-privilege-set") {
      bool owner = kind == K::kHome || kind == K::kCalendar || kind == K::kObject;
      Privileges(w, owner);
      return true;
    }
    if (name == "supported-report-set" && (kind == K::kCalendar || kind == K::kHome)) {
      w.Open(kDavNs, "supported-report-set");
      auto report = [&w](std::string_view rns, std::string_view rname) {
        w.Open(kDavNs, "supported-report").Open(kDavNs, "report").Empty(rns, rname).Close().Close();
      };
      report(kCalDavNs, "calendar-multiget");
      if (kind == K::kCalendar) {
        report(kCalDavNs, "calendar-query");
        report(kCalDavNs, "free-busy-query");
        report(kDavNs, "sync-collection");
      }
      w.Close();
      return true;
    }
    if (name == "sync-token" && cal != nullptr && kind == K::kCalendar) {
      w.Element(kDavNs, "sync-token", SyncToken(*cal, cal->sync_seq));
      return true;
    }
    return false;
  }
  if (ns == kCalDavNs) {
    if (name == "calendar-home-set" && kind == K::kPrincipal) {
      w.Open(kCalDavNs, "calendar-home-set")
          .Element(kDavNs, "href", HomeHref(r.target.user))
          .Close();
      return true;
    }
    if (name == "calendar-user-address-set" && kind == K::kPrincipal) {
      w.Open(kCalDavNs, "calendar-user-address-set").Element(kDavNs, "href", r.href).Close();
      return true;
    }
    if (kind == K::kCalendar && cal != nullptr) {
      if (name == "calendar-description") {
        w.Element(kCalDavNs, "calendar-description", cal->description);
        return true;
      }
      if (name == "calendar-timezone" && !cal->timezone.empty()) {
        w.Element(kCalDavNs, "calendar-timezone", cal->timezone);
        return true;
      }
      if (name == "supported-calendar-component-set") {
        w.Open(kCalDavNs, "supported-calendar-component-set");
        std::string_view all(cal->components);
        while (!all.empty()) {
          size_t comma = all.find(',');
          w.EmptyWithAttribute(kCalDavNs, "comp", "name", all.substr(0, comma));
          all = comma == std::string_view::npos ? std::string_view() : all.substr(comma + 1);
        }
        w.Close();
        return true;
      }
      if (name == "supported-calendar-data") {
        w.Open(kCalDavNs, "supported-calendar-data")
            .Raw("<c:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>")
            .Close();
        return true;
      }
      if (name == "max-resource-size") {
        w.Element(kCalDavNs, "max-resource-size", std::to_string(kMaxObjectBytes));
        return true;
      }
    }
    if (name == "calendar-data" && obj != nullptr && calendar_data != nullptr) {
      w.Element(kCalDavNs, "calendar-data", *calendar_data);
      return true;
    }
    return false;
  }
  if (ns == kCalServerNs && name == "getctag" && cal != nullptr && kind == K::kCalendar) {
    w.Element(kCalServerNs, "getctag", std::to_string(cal->sync_seq));
    return true;
  }
  if (ns == kAppleIcalNs && name == "calendar-color" && cal != nullptr && kind == K::kCalendar &&
      !cal->color.empty()) {
    w.Element(kAppleIcalNs, "calendar-color", cal->color);
    return true;
  }
  return false;
}

std::vector<PropName> PropertyWriter::LiveNames(const DavResource& r, bool all) const {
  using K = DavTarget::Kind;
  // current-user-principal is in every answer, allprop too: clients that lost their PROPFIND
  // body on a redirect still find the principal.
  std::vector<PropName> out = {{std::string(kDavNs), "resourcetype"},
                               {std::string(kDavNs), "current-user-principal"}};
  auto dav = [&out](const char* n) { out.emplace_back(std::string(kDavNs), n); };
  auto cal = [&out](const char* n) { out.emplace_back(std::string(kCalDavNs), n); };
  switch (r.target.kind) {
    case K::kObject:
      dav("getetag");
      dav("getcontenttype");
      dav("getcontentlength");
      dav("getlastmodified");
      break;
    case K::kPrincipal:
      dav("displayname");
      dav("principal-URL");
      cal("calendar-home-set");
      cal("calendar-user-address-set");
      break;
    case K::kCalendar:
      dav("displayname");
      dav("sync-token");
      cal("calendar-description");
      cal("supported-calendar-component-set");
      out.emplace_back(std::string(kCalServerNs), "getctag");
      if (r.calendar != nullptr && !r.calendar->color.empty()) {
        out.emplace_back(std::string(kAppleIcalNs), "calendar-color");
      }
      break;
    default:
      break;
  }
  if (!all) {  // propname lists every property; allprop leaves out the costly or verbose ones
    dav("current-user-privilege-set");
    if (r.target.kind == K::kCalendar || r.target.kind == K::kHome) {
      dav("supported-report-set");
    }
    if (r.target.kind == K::kCalendar) {
      cal("supported-calendar-data");
      cal("max-resource-size");
    }
  }
  return out;
}

void PropertyWriter::Response(XmlWriter& w, const DavResource& r, const PropRequest& req,
                              const std::string* calendar_data) const {
  w.Open(kDavNs, "response");
  w.Element(kDavNs, "href", r.href);
  if (req.mode == PropRequest::Mode::kPropName) {
    w.Open(kDavNs, "propstat").Open(kDavNs, "prop");
    for (const auto& [ns, name] : LiveNames(r, false)) {
      w.Empty(ns, name);
    }
    for (const auto& d : r.dead) {
      w.Empty(d.ns, d.name);
    }
    w.Close().Element(kDavNs, "status", "HTTP/1.1 200 OK").Close().Close();
    return;
  }
  std::vector<PropName> names =
      req.mode == PropRequest::Mode::kAllProp ? LiveNames(r, true) : req.props;
  XmlWriter found(false);
  std::vector<const PropName*> missing;
  for (const auto& pn : names) {
    auto dead = std::find_if(r.dead.begin(), r.dead.end(), [&pn](const DeadProperty& d) {
      return d.ns == pn.first && d.name == pn.second;
    });
    if (dead != r.dead.end()) {
      found.Raw(dead->value);
    } else if (!Live(found, r, pn.first, pn.second, calendar_data)) {
      missing.push_back(&pn);
    }
  }
  if (req.mode == PropRequest::Mode::kAllProp) {
    for (const auto& d : r.dead) {
      found.Raw(d.value);
    }
  }
  if (!found.empty_body()) {
    w.Open(kDavNs, "propstat").Open(kDavNs, "prop").Raw(found.Finish()).Close();
    w.Element(kDavNs, "status", "HTTP/1.1 200 OK").Close();
  }
  if (!missing.empty()) {
    w.Open(kDavNs, "propstat").Open(kDavNs, "prop");
    for (const PropName* pn : missing) {
      w.Empty(pn->first, pn->second);
    }
    w.Close().Element(kDavNs, "status", "HTTP/1.1 404 Not Found").Close();
  }
  w.Close();
}

}  // namespace ruche::cal
