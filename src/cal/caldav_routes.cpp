#include "cal/caldav_routes.hpp"

#include <boost/asio/thread_pool.hpp>
#include <mutex>
#include <unordered_set>

#include "auth/app_passwords.hpp"
#include "cal/basic_auth.hpp"
#include "cal/calendar_query.hpp"
#include "cal/calendar_store.hpp"
#include "cal/dav_path.hpp"
#include "cal/dav_properties.hpp"
#include "cal/dav_xml.hpp"
#include "cal/icalendar.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "matrix/route_helpers.hpp"
#include "net/async.hpp"

namespace ruche::cal {
namespace {

namespace asio = boost::asio;
namespace json = core::json;
using net::Request;
using net::Response;
using K = DavTarget::Kind;

constexpr int64_t kMaxXmlBody = 1 << 20;
constexpr size_t kMaxMultigetHrefs = 10'000;
constexpr size_t kMaxDeadValue = 64 * 1024;
constexpr size_t kMaxDeadPerResource = 100;
constexpr const char* kDavClasses = "1, 3, calendar-access, extended-mkcol";
constexpr const char* kAllowed =
    "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCALENDAR, MKCOL, REPORT";
constexpr const char* kXmlType = "application/xml; charset=utf-8";

// An error as a DAV client expects it: preconditions ("C:…", "D:…") as an XML <D:error> body
// (RFC 4918 §16), other errors as text. 401s carry the Basic challenge.
Response DavFail(const Error& e) {
  Response r;
  r.status = e.http_status;
  bool precondition =
      e.errcode.size() > 2 && (e.errcode.starts_with("C:") || e.errcode.starts_with("D:"));
  if (precondition) {
    std::string_view ns = e.errcode[0] == 'C' ? kCalDavNs : kDavNs;
    XmlWriter w;
    w.Root(kDavNs, "error").Empty(ns, e.errcode.substr(2));
    w.Element(kDavNs, "responsedescription", e.message);
    r.content_type = kXmlType;
    r.body = w.Finish();
  } else {
    r.content_type = "text/plain; charset=utf-8";
    r.body = e.message + "\n";
  }
  if (r.status == 401) {
    r.Header("WWW-Authenticate", "Basic realm=\"Ruche\", charset=\"UTF-8\"");
  }
  if (e.retry_after_ms > 0) {
    r.Header("Retry-After", std::to_string((e.retry_after_ms + 999) / 1000));
  }
  return r;
}

Response Multistatus(std::string body) {
  Response r;
  r.status = 207;
  r.content_type = kXmlType;
  r.body = std::move(body);
  return r;
}

Response Empty(int status) {
  Response r;
  r.status = status;
  r.content_type = "text/plain";
  return r;
}

Response Redirect(std::string location) {
  Response r = Empty(301);
  r.Header("Location", std::move(location));
  return r;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

Error NotFound() { return Error(404, "M_NOT_FOUND", "not found"); }

// The body as XML when there is one (nullopt for an empty body).
Result<std::optional<XmlElement>> ParseBody(const Request& req) {
  if (Trim(req.body).empty()) {
    return std::optional<XmlElement>();
  }
  XmlLimits limits;
  limits.max_bytes = kMaxXmlBody;
  RUCHE_ASSIGN_OR_RETURN(auto root, ParseXml(req.body, limits));
  return std::optional<XmlElement>(std::move(root));
}

// Conditions from If-Match / If-None-Match (RFC 9110 §13.1), compared in the write.
Preconditions ReadPreconditions(const Request& req) {
  Preconditions pre;
  if (auto m = req.Header("If-Match")) {
    pre.if_match = std::string(Trim(*m));
  }
  if (auto n = req.Header("If-None-Match")) {
    if (Trim(*n) == "*") {
      pre.if_none_match_any = true;
    } else {
      pre.if_none_match = std::string(Trim(*n));
    }
  }
  return pre;
}

// Properties a calendar stores in its own columns: set by MKCALENDAR and PROPPATCH.
bool SetCalendarProperty(const XmlElement& p, CalendarStore::CalendarPatch& patch) {
  if (p.Is(kDavNs, "displayname")) {
    patch.displayname = std::string(Trim(p.text));
  } else if (p.Is(kCalDavNs, "calendar-description")) {
    patch.description = p.text;
  } else if (p.Is(kAppleIcalNs, "calendar-color")) {
    patch.color = std::string(Trim(p.text));
  } else if (p.Is(kCalDavNs, "calendar-timezone")) {
    patch.timezone = p.text;
  } else {
    return false;
  }
  return true;
}

bool RemoveCalendarProperty(const XmlElement& p, CalendarStore::CalendarPatch& patch) {
  XmlElement blank;
  blank.ns = p.ns;
  blank.name = p.name;
  return SetCalendarProperty(blank, patch);
}

// An object of calendar `cal` as a PROPFIND/REPORT answer describes it.
DavResource ObjectResource(const DavTarget& calendar_target, const Calendar& cal,
                           const StoredObject& o) {
  DavResource r;
  r.target = calendar_target;
  r.target.kind = K::kObject;
  r.target.object = o.name;
  r.href = r.target.Href();
  r.calendar = &cal;
  r.object = &o;
  return r;
}

class CalApiImpl final : public CalApi {
 public:
  explicit CalApiImpl(CalDeps deps)
      : deps_(deps),
        calendars_(deps.store),
        basic_(deps.config, deps.store, deps.accounts, deps.blocking),
        app_passwords_(deps.store) {}

  void Mount(net::Router& router) {
    net::RouteOptions xml_limit{kMaxXmlBody};
    net::RouteOptions object_limit{static_cast<int64_t>(kMaxObjectBytes)};
    auto h = [this](Request& req) -> asio::awaitable<Response> { return Handle(req); };
    for (const char* m :
         {"OPTIONS", "GET", "DELETE", "PROPFIND", "PROPPATCH", "MKCALENDAR", "MKCOL", "REPORT"}) {
      router.Add(m, "/dav/{path...}", h, xml_limit);
    }
    router.Add("PUT", "/dav/{path...}", h, object_limit);
    // RFC 6764 §5: 301 for GET; 307 for PROPFIND and OPTIONS, which keeps the method and the
    // body (clients such as python-caldav/requests drop the body on a 301).
    auto to_dav = [](Request& req) -> asio::awaitable<Response> {
      Response r = Redirect("/dav/");
      if (req.method != "GET" && req.method != "HEAD") {
        r.status = 307;
      }
      co_return r;
    };
    for (const char* m : {"GET", "PROPFIND", "OPTIONS"}) {
      router.Add(m, "/dav", to_dav, xml_limit);
      router.Add(m, "/.well-known/caldav", to_dav, xml_limit);
    }
    router.Add(
        "POST", "/_ruche/v1/app_passwords",
        [this](Request& req) -> asio::awaitable<Response> { return CreateAppPassword(req); });
    router.Add("GET", "/_ruche/v1/app_passwords",
               [this](Request& req) -> asio::awaitable<Response> { return ListAppPasswords(req); });
    router.Add(
        "DELETE", "/_ruche/v1/app_passwords/{id}",
        [this](Request& req) -> asio::awaitable<Response> { return RevokeAppPassword(req); });
  }

 private:
  // ---- app passwords (Bearer-authenticated JSON) ----
  asio::awaitable<Response> CreateAppPassword(Request& req) {
    auto session = matrix::Authenticate(deps_.accounts, req);
    if (!session) {
      co_return matrix::Fail(session.error());
    }
    auto body = core::ParseJsonObject(req.body);
    if (!body) {
      co_return matrix::Fail(body.error());
    }
    auto name = core::RequireString(*body, "name");
    if (!name) {
      co_return matrix::Fail(name.error());
    }
    auto issued = auth::AppPasswords::Issue(std::string(*name));
    if (!issued) {
      co_return matrix::Fail(issued.error());
    }
    json::object out;
    out["id"] = issued->info.id;
    out["name"] = issued->info.name;
    out["password"] = issued->password;
    out["created_ts"] = issued->info.created_ts;
    auto write = auth::AppPasswords::Create(session->localpart, std::move(*issued));
    auto committed = co_await matrix::Commit(deps_.store, std::move(write));
    if (!committed) {
      co_return matrix::Fail(committed.error());
    }
    co_return Response::Json(out);
  }

  asio::awaitable<Response> ListAppPasswords(Request& req) {
    auto session = matrix::Authenticate(deps_.accounts, req);
    if (!session) {
      co_return matrix::Fail(session.error());
    }
    auto list = app_passwords_.List(session->localpart);
    if (!list) {
      co_return matrix::Fail(list.error());
    }
    json::array a;
    for (const auto& p : *list) {
      json::object o;
      o["id"] = p.id;
      o["name"] = p.name;
      o["created_ts"] = p.created_ts;
      o["last_used_ts"] = p.last_used_ts;
      a.push_back(std::move(o));
    }
    json::object out;
    out["app_passwords"] = std::move(a);
    co_return Response::Json(out);
  }

  asio::awaitable<Response> RevokeAppPassword(Request& req) {
    auto session = matrix::Authenticate(deps_.accounts, req);
    if (!session) {
      co_return matrix::Fail(session.error());
    }
    auto write = auth::AppPasswords::Revoke(session->localpart, std::string(req.Param("id")));
    auto committed = co_await matrix::Commit(deps_.store, std::move(write));
    if (!committed) {
      co_return matrix::Fail(committed.error());
    }
    co_return Response::Json(json::object{});
  }

  // ---- DAV ----
  asio::awaitable<Response> Handle(Request& req) {
    if (req.method == "OPTIONS") {
      Response r = Empty(200);
      r.Header("DAV", kDavClasses);
      r.Header("Allow", kAllowed);
      co_return r;
    }
    auto target = ParseDavPath(req.path);
    if (!target) {
      // Creating below a collection that cannot exist: RFC 4918 §9.3.1 and §9.7.1 say 409.
      if (req.method == "MKCOL" || req.method == "MKCALENDAR" || req.method == "PUT") {
        co_return DavFail(Error(409, "M_NOT_FOUND", "no such parent collection"));
      }
      co_return DavFail(NotFound());
    }
    auto who = co_await basic_.Authenticate(req);
    if (!who) {
      co_return DavFail(who.error());
    }
    const std::string& me = who->localpart;
    if (!target->user.empty() && target->user != me) {
      co_return DavFail(NotFound());  // another user's calendars do not exist for you
    }
    if (auto ensured = co_await EnsureDefaultCalendar(me); !ensured) {
      co_return DavFail(ensured.error());
    }
    std::string method(req.method);
    Result<Response> r = Error::Internal("unhandled");
    if (method == "GET" || method == "HEAD") {
      r = Get(req, *target);
    } else if (method == "PUT") {
      r = co_await Put(req, *target);
    } else if (method == "DELETE") {
      r = co_await Delete(req, *target);
    } else if (method == "PROPFIND") {
      auto run = [this, &req, &target, &me] { return Propfind(req, *target, me); };
      r = co_await net::Offload<Result<Response>>(deps_.blocking, run);
    } else if (method == "PROPPATCH") {
      r = co_await Proppatch(req, *target);
    } else if (method == "MKCALENDAR" || method == "MKCOL") {
      r = co_await MakeCalendar(req, *target, method == "MKCALENDAR");
    } else if (method == "REPORT") {
      auto run = [this, &req, &target, &me] { return Report(req, *target, me); };
      r = co_await net::Offload<Result<Response>>(deps_.blocking, run);
    }
    if (!r) {
      co_return DavFail(r.error());
    }
    co_return std::move(*r);
  }

  // Every user has a calendar to start with (created on their first DAV request).
  asio::awaitable<Result<void>> EnsureDefaultCalendar(const std::string& me) {
    {
      std::lock_guard lock(ensured_mu_);
      if (ensured_.contains(me)) {
        co_return Ok();
      }
    }
    auto write = CalendarStore::EnsureDefaultCalendar(me, "Personal");
    auto committed = co_await matrix::Commit(deps_.store, std::move(write));
    if (!committed) {
      co_return committed.error();
    }
    std::lock_guard lock(ensured_mu_);
    ensured_.insert(me);
    co_return Ok();
  }

  Result<Calendar> LoadCalendar(const DavTarget& t) {
    RUCHE_ASSIGN_OR_RETURN(auto cal, calendars_.FindCalendar(t.user, t.calendar));
    if (!cal) {
      return NotFound();
    }
    return std::move(*cal);
  }

  Result<Response> Get(const Request& req, const DavTarget& t) {
    if (t.kind != K::kObject) {
      Response r = Empty(405);
      r.Header("Allow", "OPTIONS, PROPFIND, PROPPATCH, REPORT, DELETE");
      r.body = "a collection: read it with a CalDAV client\n";
      return r;
    }
    RUCHE_ASSIGN_OR_RETURN(Calendar cal, LoadCalendar(t));
    RUCHE_ASSIGN_OR_RETURN(auto obj, calendars_.FindObject(cal.id, t.object, true));
    if (!obj) {
      return NotFound();
    }
    if (auto inm = req.Header("If-None-Match");
        inm && Preconditions::ListHas(Trim(*inm), obj->etag, false)) {
      Response not_modified = Empty(304);  // RFC 9110 §13.1.2: the client has this version
      not_modified.Header("ETag", obj->etag);
      return not_modified;
    }
    Response r;
    r.content_type = "text/calendar; charset=utf-8";
    r.body = std::move(obj->data);
    r.Header("ETag", obj->etag);
    return r;
  }

  asio::awaitable<Result<Response>> Put(Request& req, const DavTarget& t) {
    if (t.kind != K::kObject) {
      co_return Error(405, "M_UNRECOGNIZED",
                      "PUT creates calendar objects: /dav/calendars/<user>/<calendar>/<name>.ics");
    }
    auto cal = LoadCalendar(t);
    if (!cal) {
      co_return Error(409, "M_NOT_FOUND", "no such calendar: create it first (MKCALENDAR)");
    }
    if (auto type = req.Header("Content-Type")) {
      std::string lower(Trim(*type));
      for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (!lower.starts_with("text/calendar")) {
        co_return Error(415, "C:supported-calendar-data", "calendar objects are text/calendar");
      }
    }
    auto parsed = ICalendar::Parse(req.body);
    if (!parsed) {
      co_return parsed.error();
    }
    auto summary = parsed->Validate();
    if (!summary) {
      co_return summary.error();
    }
    if (!cal->Accepts(summary->component)) {
      co_return Error(403, "C:supported-calendar-component",
                      "this calendar does not hold " + summary->component);
    }
    bool created = false;
    std::string etag;
    auto write =
        CalendarStore::PutObject(cal->id, t.object, std::move(*summary), std::move(req.body),
                                 ReadPreconditions(req), &created, &etag);
    auto committed = co_await matrix::Commit(deps_.store, std::move(write));
    if (!committed) {
      co_return committed.error();
    }
    Response r = Empty(created ? 201 : 204);
    r.Header("ETag", etag);
    co_return r;
  }

  asio::awaitable<Result<Response>> Delete(Request& req, const DavTarget& t) {
    store::WriteFn write;
    if (t.kind == K::kObject) {
      auto cal = LoadCalendar(t);
      if (!cal) {
        co_return cal.error();
      }
      write = CalendarStore::DeleteObject(cal->id, t.object, t.Href(), ReadPreconditions(req));
    } else if (t.kind == K::kCalendar) {
      auto cal = LoadCalendar(t);
      if (!cal) {
        co_return cal.error();
      }
      write = CalendarStore::DeleteCalendar(cal->id, t.Href());
    } else {
      co_return Error(403, "M_FORBIDDEN", "this collection cannot be deleted");
    }
    auto committed = co_await matrix::Commit(deps_.store, std::move(write));
    if (!committed) {
      co_return committed.error();
    }
    co_return Empty(204);
  }

  // ---- PROPFIND ----
  Result<Response> Propfind(const Request& req, const DavTarget& t, const std::string& me) {
    int depth = 1;  // "infinity" (and no header, which means it) is answered as depth 1
    if (auto d = req.Header("Depth"); d && Trim(*d) == "0") {
      depth = 0;
    }
    RUCHE_ASSIGN_OR_RETURN(auto body, ParseBody(req));
    PropRequest props;
    if (body) {
      if (!body->Is(kDavNs, "propfind")) {
        return Error::BadRequest("PROPFIND body must be a DAV:propfind", "M_NOT_XML");
      }
      RUCHE_ASSIGN_OR_RETURN(props, ReadPropRequest(&*body));
    }
    PropertyWriter writer(PrincipalHref(me));
    XmlWriter w;
    w.Root(kDavNs, "multistatus");
    RUCHE_ASSIGN_OR_RETURN(auto dead, calendars_.DeadPropertiesUnder(t.Href()));
    auto emit = [&](DavResource& r, const std::string* data) {
      if (auto it = dead.find(r.href); it != dead.end()) {
        r.dead = it->second;
      }
      writer.Response(w, r, props, data);
    };
    auto simple = [&](K kind) {
      DavResource r;
      r.target = t;
      r.target.kind = kind;
      r.target.user = me;
      r.href = r.target.Href();
      if (kind == K::kPrincipal) {
        r.principal_displayname = me;
      }
      emit(r, nullptr);
    };
    switch (t.kind) {
      case K::kRoot:
        simple(K::kRoot);
        if (depth > 0) {
          simple(K::kPrincipal);
          simple(K::kHome);
        }
        break;
      case K::kPrincipals:
      case K::kCalendars:
        simple(t.kind);
        if (depth > 0) {
          simple(t.kind == K::kPrincipals ? K::kPrincipal : K::kHome);
        }
        break;
      case K::kPrincipal:
        simple(K::kPrincipal);
        break;
      case K::kHome: {
        simple(K::kHome);
        if (depth > 0) {
          RUCHE_ASSIGN_OR_RETURN(auto cals, calendars_.Calendars(me));
          for (const auto& c : cals) {
            DavResource r;
            r.target = t;
            r.target.kind = K::kCalendar;
            r.target.calendar = c.name;
            r.href = r.target.Href();
            r.calendar = &c;
            emit(r, nullptr);
          }
        }
        break;
      }
      case K::kCalendar: {
        RUCHE_ASSIGN_OR_RETURN(Calendar cal, LoadCalendar(t));
        DavResource r;
        r.target = t;
        r.href = t.Href();
        r.calendar = &cal;
        emit(r, nullptr);
        if (depth > 0) {
          RUCHE_ASSIGN_OR_RETURN(auto objects, calendars_.Objects(cal.id, props.calendar_data));
          for (const auto& o : objects) {
            DavResource child = ObjectResource(t, cal, o);
            emit(child, &o.data);
          }
        }
        break;
      }
      case K::kObject: {
        RUCHE_ASSIGN_OR_RETURN(Calendar cal, LoadCalendar(t));
        RUCHE_ASSIGN_OR_RETURN(auto obj,
                               calendars_.FindObject(cal.id, t.object, props.calendar_data));
        if (!obj) {
          return NotFound();
        }
        DavResource r;
        r.target = t;
        r.href = t.Href();
        r.calendar = &cal;
        r.object = &*obj;
        emit(r, &obj->data);
        break;
      }
    }
    return Multistatus(w.Finish());
  }

  // ---- PROPPATCH ----
  asio::awaitable<Result<Response>> Proppatch(Request& req, const DavTarget& t) {
    auto body = ParseBody(req);
    if (!body) {
      co_return body.error();
    }
    if (!*body || !(*body)->Is(kDavNs, "propertyupdate")) {
      co_return Error::BadRequest("PROPPATCH body must be a DAV:propertyupdate", "M_NOT_XML");
    }
    std::optional<Calendar> cal;
    if (t.kind == K::kCalendar || t.kind == K::kObject) {
      auto c = LoadCalendar(t);
      if (!c) {
        co_return c.error();
      }
      cal = std::move(*c);
      if (t.kind == K::kObject) {
        auto obj = calendars_.FindObject(cal->id, t.object, false);
        if (!obj) {
          co_return obj.error();
        }
        if (!*obj) {
          co_return NotFound();
        }
      }
    }
    bool writable = t.kind == K::kHome || t.kind == K::kCalendar || t.kind == K::kObject;
    // Every instruction in document order; all apply or none (RFC 4918 §9.2).
    CalendarStore::CalendarPatch patch;
    std::vector<std::pair<const XmlElement*, int>> outcome;  // property, status
    bool failed = false;
    size_t dead_count = 0;
    for (const auto& op : (*body)->children) {
      bool set = op.Is(kDavNs, "set");
      if (!set && !op.Is(kDavNs, "remove")) {
        continue;
      }
      const XmlElement* prop = op.Child(kDavNs, "prop");
      if (prop == nullptr) {
        continue;
      }
      for (const auto& p : prop->children) {
        int status = 200;
        if (!writable || IsProtected(p.ns, p.name)) {
          status = 403;
        } else if (t.kind == K::kCalendar &&
                   (set ? SetCalendarProperty(p, patch) : RemoveCalendarProperty(p, patch))) {
          status = 200;
        } else if (set) {
          std::string value = SerializeFragment(p);
          if (value.size() > kMaxDeadValue || ++dead_count > kMaxDeadPerResource) {
            status = 507;
          } else {
            patch.set_dead.push_back({p.ns, p.name, std::move(value)});
          }
        } else {
          patch.remove_dead.emplace_back(p.ns, p.name);
        }
        failed = failed || status != 200;
        outcome.emplace_back(&p, status);
      }
    }
    if (!failed && !outcome.empty()) {
      store::WriteFn write;
      if (t.kind == K::kCalendar) {
        write = CalendarStore::PatchCalendar(cal->id, t.Href(), std::move(patch));
      } else {
        write = CalendarStore::PatchDead(t.Href(), std::move(patch.set_dead),
                                         std::move(patch.remove_dead));
      }
      auto committed = co_await matrix::Commit(deps_.store, std::move(write));
      if (!committed) {
        co_return committed.error();
      }
    }
    XmlWriter w;
    w.Root(kDavNs, "multistatus").Open(kDavNs, "response").Element(kDavNs, "href", t.Href());
    for (const auto& [p, status] : outcome) {
      int shown = failed && status == 200 ? 424 : status;  // 424: not applied because of others
      const char* text = shown == 200   ? "HTTP/1.1 200 OK"
                         : shown == 403 ? "HTTP/1.1 403 Forbidden"
                         : shown == 424 ? "HTTP/1.1 424 Failed Dependency"
                                        : "HTTP/1.1 507 Insufficient Storage";
      w.Open(kDavNs, "propstat").Open(kDavNs, "prop").Empty(p->ns, p->name).Close();
      w.Element(kDavNs, "status", text).Close();
    }
    co_return Multistatus(w.Finish());
  }

  // ---- MKCALENDAR / MKCOL (RFC 4791 §5.3.1, RFC 5689) ----
  asio::awaitable<Result<Response>> MakeCalendar(Request& req, const DavTarget& t,
                                                 bool mkcalendar) {
    // RFC 5689 §3 / RFC 4918 §9.3: a body the server does not understand is 415, wherever.
    auto body = ParseBody(req);
    if (!body) {
      co_return Error(415, "M_UNRECOGNIZED", "unsupported request body: " + body.error().message);
    }
    if (t.kind == K::kObject) {
      if (!LoadCalendar(t)) {
        co_return Error(409, "M_NOT_FOUND", "no such parent collection");
      }
      co_return Error(403, "C:calendar-collection-location-ok",
                      "calendars cannot hold collections");
    }
    if (t.kind != K::kCalendar) {
      co_return Error(405, "D:resource-must-be-null", "this collection exists");
    }
    Calendar cal;
    cal.owner = t.user;
    cal.name = t.calendar;
    cal.displayname = t.calendar;
    cal.components = "VEVENT,VTODO";
    CalendarStore::CalendarPatch patch;
    if (*body) {
      const XmlElement& root = **body;
      bool ok_root = mkcalendar ? root.Is(kCalDavNs, "mkcalendar") : root.Is(kDavNs, "mkcol");
      if (!ok_root) {
        co_return Error(415, "M_UNRECOGNIZED", "unexpected request body");
      }
      for (const auto& set : root.children) {
        const XmlElement* prop = set.Is(kDavNs, "set") ? set.Child(kDavNs, "prop") : nullptr;
        if (prop == nullptr) {
          continue;
        }
        for (const auto& p : prop->children) {
          if (p.Is(kCalDavNs, "supported-calendar-component-set")) {
            std::string comps;
            for (const auto& c : p.children) {
              auto name = c.Attribute("name");
              if (c.Is(kCalDavNs, "comp") && name &&
                  (*name == "VEVENT" || *name == "VTODO" || *name == "VJOURNAL")) {
                comps += comps.empty() ? "" : ",";
                comps += *name;
              }
            }
            if (comps.empty()) {
              co_return Error(403, "C:supported-calendar-component",
                              "a calendar holds VEVENT, VTODO or VJOURNAL");
            }
            cal.components = comps;
          } else if (p.Is(kDavNs, "resourcetype")) {
            if (!mkcalendar && p.Child(kCalDavNs, "calendar") == nullptr) {
              co_return Error(403, "D:valid-resourcetype",
                              "only calendar collections can be made here");
            }
          } else if (!SetCalendarProperty(p, patch)) {
            if (IsProtected(p.ns, p.name)) {
              co_return Error(403, "D:cannot-modify-protected-property",
                              "protected property: " + p.name);
            }
            patch.set_dead.push_back({p.ns, p.name, SerializeFragment(p)});
          }
        }
      }
    }
    if (patch.displayname) {
      cal.displayname = *patch.displayname;
    }
    cal.description = patch.description.value_or("");
    cal.color = patch.color.value_or("");
    cal.timezone = patch.timezone.value_or("");
    auto create = CalendarStore::CreateCalendar(std::move(cal));
    auto dead = CalendarStore::PatchDead(t.Href(), std::move(patch.set_dead), {});
    store::WriteFn both = [create = std::move(create),
                           dead = std::move(dead)](store::Connection& c) -> Result<void> {
      RUCHE_RETURN_IF_ERROR(create(c));
      return dead(c);
    };
    auto committed = co_await matrix::Commit(deps_.store, std::move(both));
    if (!committed) {
      co_return committed.error();
    }
    co_return Empty(201);
  }

  // ---- REPORT ----
  Result<Response> Report(const Request& req, const DavTarget& t, const std::string& me) {
    RUCHE_ASSIGN_OR_RETURN(auto body, ParseBody(req));
    if (!body) {
      return Error::BadRequest("REPORT needs a body", "M_NOT_XML");
    }
    const XmlElement& root = *body;
    if (root.Is(kCalDavNs, "calendar-multiget")) {
      return Multiget(root, t, me);
    }
    if (t.kind != K::kCalendar) {
      return Error(403, "D:supported-report", "this report runs on a calendar collection");
    }
    RUCHE_ASSIGN_OR_RETURN(Calendar cal, LoadCalendar(t));
    if (root.Is(kCalDavNs, "calendar-query")) {
      return CalendarQuery(root, t, cal, me);
    }
    if (root.Is(kDavNs, "sync-collection")) {
      return SyncCollection(root, t, cal, me);
    }
    if (root.Is(kCalDavNs, "free-busy-query")) {
      return FreeBusy(root, cal);
    }
    return Error(403, "D:supported-report", "unsupported report: " + root.name);
  }

  // The calendar-data to send for `o`: as stored, or expanded.
  static std::optional<std::string> DataFor(const StoredObject& o, const PropRequest& props,
                                            const ICalendar* parsed) {
    if (!props.calendar_data) {
      return std::nullopt;
    }
    if (props.expand) {
      if (parsed != nullptr) {
        return parsed->Expanded(*props.expand);
      }
      if (auto p = ICalendar::Parse(o.data)) {
        return p->Expanded(*props.expand);
      }
    }
    return o.data;
  }

  Result<Response> CalendarQuery(const XmlElement& root, const DavTarget& t, const Calendar& cal,
                                 const std::string& me) {
    RUCHE_ASSIGN_OR_RETURN(PropRequest props, ReadPropRequest(&root));
    RUCHE_ASSIGN_OR_RETURN(CalendarFilter filter,
                           ReadCalendarFilter(root.Child(kCalDavNs, "filter")));
    PropertyWriter writer(PrincipalHref(me));
    XmlWriter w;
    w.Root(kDavNs, "multistatus");
    if (filter.component_not_defined) {
      return Multistatus(w.Finish());
    }
    std::vector<StoredObject> objects;
    if (filter.range && filter.component) {
      RUCHE_ASSIGN_OR_RETURN(objects,
                             calendars_.Candidates(cal.id, *filter.component, *filter.range, true));
    } else {
      RUCHE_ASSIGN_OR_RETURN(objects, calendars_.Objects(cal.id, true));
    }
    for (const auto& o : objects) {
      if (filter.component && o.component != *filter.component) {
        continue;
      }
      // A recurring event's instances come from the cache when the range is inside its window.
      bool checked = false;
      if (filter.range && o.recurring && o.component == "VEVENT" && filter.props.empty()) {
        auto occurrences = deps_.instances.Get(cal.id, o, *filter.range, [] {
          return std::optional<std::string>();  // the data is loaded already
        });
        if (occurrences) {
          if (!occurrences->AnyOverlaps(*filter.range)) {
            continue;
          }
          checked = true;
        }
      }
      bool need_parse = (filter.range && o.recurring && !checked) || !filter.props.empty() ||
                        (props.calendar_data && props.expand);
      std::optional<ICalendar> parsed;
      if (need_parse) {
        auto p = ICalendar::Parse(o.data);
        if (!p) {
          RUCHE_LOG_WARN("caldav: stored object {} of calendar {} no longer parses", o.name,
                         cal.id);
          continue;
        }
        parsed.emplace(std::move(*p));
        if (filter.range && o.recurring && !checked && !parsed->Overlaps(*filter.range)) {
          continue;
        }
        if (!MatchesProperties(*parsed, filter.props)) {
          continue;
        }
      }
      DavResource r = ObjectResource(t, cal, o);
      auto data = DataFor(o, props, parsed ? &*parsed : nullptr);
      writer.Response(w, r, props, data ? &*data : nullptr);
    }
    return Multistatus(w.Finish());
  }

  Result<Response> Multiget(const XmlElement& root, const DavTarget& t, const std::string& me) {
    if (t.kind != K::kCalendar && t.kind != K::kHome) {
      return Error(403, "D:supported-report", "calendar-multiget runs on a calendar or the home");
    }
    RUCHE_ASSIGN_OR_RETURN(PropRequest props, ReadPropRequest(&root));
    std::vector<std::pair<std::string, std::optional<DavTarget>>> hrefs;
    for (const auto& c : root.children) {
      if (!c.Is(kDavNs, "href")) {
        continue;
      }
      if (hrefs.size() >= kMaxMultigetHrefs) {
        return Error::BadRequest("too many hrefs in one calendar-multiget", "M_TOO_LARGE");
      }
      std::string href(Trim(c.text));
      auto parsed = ParseDavPath(href);
      if (parsed && (parsed->kind != K::kObject || parsed->user != me ||
                     (t.kind == K::kCalendar && parsed->calendar != t.calendar))) {
        parsed.reset();
      }
      hrefs.emplace_back(std::move(href), std::move(parsed));
    }
    // One query per calendar named.
    std::unordered_map<std::string, std::optional<Calendar>> cals;
    std::unordered_map<std::string, std::vector<std::string>> names;
    for (const auto& [href, target] : hrefs) {
      if (target) {
        names[target->calendar].push_back(target->object);
      }
    }
    std::unordered_map<std::string, StoredObject> found;  // by canonical href
    for (auto& [cal_name, objs] : names) {
      RUCHE_ASSIGN_OR_RETURN(auto cal, calendars_.FindCalendar(me, cal_name));
      cals[cal_name] = cal;
      if (!cal) {
        continue;
      }
      RUCHE_ASSIGN_OR_RETURN(auto rows, calendars_.ObjectsNamed(cal->id, objs, true));
      for (auto& o : rows) {
        found.emplace(CalendarHref(me, cal_name) + EncodeSegment(o.name), std::move(o));
      }
    }
    PropertyWriter writer(PrincipalHref(me));
    XmlWriter w;
    w.Root(kDavNs, "multistatus");
    for (const auto& [href, target] : hrefs) {
      auto it = target ? found.find(target->Href()) : found.end();
      if (it == found.end()) {
        w.Open(kDavNs, "response").Element(kDavNs, "href", href);
        w.Element(kDavNs, "status", "HTTP/1.1 404 Not Found").Close();
        continue;
      }
      DavResource r;
      r.target = *target;
      r.href = target->Href();
      r.calendar = &*cals[target->calendar];
      r.object = &it->second;
      auto data = DataFor(it->second, props, nullptr);
      writer.Response(w, r, props, data ? &*data : nullptr);
    }
    return Multistatus(w.Finish());
  }

  Result<Response> SyncCollection(const XmlElement& root, const DavTarget& t, const Calendar& cal,
                                  const std::string& me) {
    RUCHE_ASSIGN_OR_RETURN(PropRequest props, ReadPropRequest(&root));
    std::string_view token;
    if (const XmlElement* st = root.Child(kDavNs, "sync-token")) {
      token = Trim(st->text);
    }
    CalendarStore::Changes changes;
    if (token.empty()) {
      RUCHE_ASSIGN_OR_RETURN(changes.changed, calendars_.Objects(cal.id, props.calendar_data));
    } else {
      auto seq = ParseSyncToken(token, cal);
      if (!seq || *seq > cal.sync_seq) {
        return Error(403, "D:valid-sync-token", "unknown sync-token: start again without one");
      }
      RUCHE_ASSIGN_OR_RETURN(changes, calendars_.ChangesSince(cal.id, *seq, props.calendar_data));
    }
    // RFC 6578 §3.7: a client's DAV:limit is honoured by refusing what does not fit (the
    // client asks again without a limit or with a larger one).
    if (const XmlElement* limit = root.Child(kDavNs, "limit")) {
      const XmlElement* n = limit->Child(kDavNs, "nresults");
      char* end = nullptr;
      long long max =
          n != nullptr ? std::strtoll(std::string(Trim(n->text)).c_str(), &end, 10) : -1;
      if (max < 0 || changes.changed.size() + changes.deleted.size() > static_cast<size_t>(max)) {
        return Error(403, "D:number-of-matches-within-limits",
                     "more changes than DAV:limit allows: ask again without a limit");
      }
    }
    PropertyWriter writer(PrincipalHref(me));
    XmlWriter w;
    w.Root(kDavNs, "multistatus");
    for (const auto& o : changes.changed) {
      DavResource r = ObjectResource(t, cal, o);
      auto data = DataFor(o, props, nullptr);
      writer.Response(w, r, props, data ? &*data : nullptr);
    }
    for (const auto& name : changes.deleted) {
      DavTarget gone = t;
      gone.kind = K::kObject;
      gone.object = name;
      w.Open(kDavNs, "response").Element(kDavNs, "href", gone.Href());
      w.Element(kDavNs, "status", "HTTP/1.1 404 Not Found").Close();
    }
    w.Element(kDavNs, "sync-token", SyncToken(cal, cal.sync_seq));
    return Multistatus(w.Finish());
  }

  Result<Response> FreeBusy(const XmlElement& root, const Calendar& cal) {
    const XmlElement* tr = root.Child(kCalDavNs, "time-range");
    if (tr == nullptr) {
      return Error::BadRequest("free-busy-query needs a time-range", "C:valid-filter");
    }
    RUCHE_ASSIGN_OR_RETURN(TimeRange range, ReadTimeRange(*tr));
    if (range.start == std::numeric_limits<int64_t>::min() ||
        range.end == std::numeric_limits<int64_t>::max()) {
      return Error::BadRequest("free-busy-query needs both start and end", "C:valid-filter");
    }
    RUCHE_ASSIGN_OR_RETURN(auto objects, calendars_.Candidates(cal.id, "VEVENT", range, true));
    std::vector<ICalendar::Busy> busy;
    for (const auto& o : objects) {
      if (auto p = ICalendar::Parse(o.data)) {
        auto b = p->BusyIn(range);
        busy.insert(busy.end(), b.begin(), b.end());
      }
    }
    Response r;
    r.content_type = "text/calendar; charset=utf-8";
    r.body = FreeBusyCalendar(range, std::move(busy));
    return r;
  }

  CalDeps deps_;
  CalendarStore calendars_;
  BasicAuthenticator basic_;
  auth::AppPasswords app_passwords_;
  std::mutex ensured_mu_;
  std::unordered_set<std::string> ensured_;  // GUARDED_BY(ensured_mu_)
};

}  // namespace

std::unique_ptr<CalApi> MountCalApi(net::Router& router, CalDeps deps) {
  auto api = std::make_unique<CalApiImpl>(deps);
  api->Mount(router);
  return api;
}

}  // namespace ruche::cal
