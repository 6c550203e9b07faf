#include "cal/event_routes.hpp"

#include <boost/asio/awaitable.hpp>
#include <map>

#include "cal/booking_messages.hpp"
#include "cal/booking_types.hpp"
#include "cal/calendar_store.hpp"
#include "cal/dav_path.hpp"
#include "cal/icalendar.hpp"
#include "cal/public_url.hpp"
#include "core/crypto.hpp"
#include "mail/mail_message.hpp"
#include "matrix/route_helpers.hpp"
#include "meet/meeting_directory.hpp"

namespace ruche::cal {
namespace {

namespace asio = boost::asio;
namespace json = core::json;
using net::Request;
using net::Response;

constexpr int64_t kMaxEventRange = 400 * 86'400;
constexpr size_t kMaxAttendees = 100;

Error Invalid(std::string message) {
  return Error::BadRequest(std::move(message), "M_INVALID_PARAM");
}

json::object CalendarJson(const Calendar& c) {
  json::object o;
  o["id"] = c.name;
  o["name"] = c.displayname;
  o["color"] = c.color;
  json::array comps;
  std::string_view all(c.components);
  while (!all.empty()) {
    size_t comma = all.find(',');
    comps.push_back(json::string(all.substr(0, comma)));
    all = comma == std::string_view::npos ? std::string_view() : all.substr(comma + 1);
  }
  o["components"] = std::move(comps);
  return o;
}

struct Invitee {
  std::string email;
  std::string message;
};

class EventApiImpl final : public EventApi {
 public:
  explicit EventApiImpl(BookingDeps deps) : deps_(deps), calendars_(deps.store) {}

  void Mount(net::Router& router) {
    router.Add("GET", "/_ruche/v1/calendars",
               [this](Request& req) -> asio::awaitable<Response> { return List(req); });
    router.Add("GET", "/_ruche/v1/calendars/{cal}/events",
               [this](Request& req) -> asio::awaitable<Response> { return Events(req); });
    router.Add("POST", "/_ruche/v1/calendars/{cal}/events",
               [this](Request& req) -> asio::awaitable<Response> { return Write(req, false); });
    router.Add("PUT", "/_ruche/v1/calendars/{cal}/events/{object}",
               [this](Request& req) -> asio::awaitable<Response> { return Write(req, true); });
    router.Add("DELETE", "/_ruche/v1/calendars/{cal}/events/{object}",
               [this](Request& req) -> asio::awaitable<Response> { return Delete(req); });
    router.Add("POST", "/_ruche/v1/calendars/{cal}/events/{object}/reply",
               [this](Request& req) -> asio::awaitable<Response> { return Reply(req); });
  }

 private:
  struct Context {
    auth::Session session;
    Calendar calendar;
  };

  asio::awaitable<Result<Context>> Open(const Request& req) {
    auto session = matrix::Authenticate(deps_.accounts, req);
    if (!session) {
      co_return session.error();
    }
    // A user without any calendar gets the default one; everyone else costs one read, not a
    // write per request.
    auto existing = calendars_.Calendars(session->localpart);
    if (!existing) {
      co_return existing.error();
    }
    if (existing->empty()) {
      auto ensure = CalendarStore::EnsureDefaultCalendar(session->localpart, "Personal");
      auto ensured = co_await matrix::Commit(deps_.store, std::move(ensure));
      if (!ensured) {
        co_return ensured.error();
      }
    }
    std::string cal_name(req.Param("cal"));
    if (cal_name.empty()) {
      co_return Context{std::move(*session), {}};
    }
    auto cal = calendars_.FindCalendar(session->localpart, cal_name);
    if (!cal) {
      co_return cal.error();
    }
    if (!*cal) {
      co_return Error::NotFound("no such calendar");
    }
    co_return Context{std::move(*session), std::move(**cal)};
  }

  asio::awaitable<Response> List(Request& req) {
    auto ctx = co_await Open(req);
    if (!ctx) {
      co_return matrix::Fail(ctx.error());
    }
    auto cals = calendars_.Calendars(ctx->session.localpart);
    if (!cals) {
      co_return matrix::Fail(cals.error());
    }
    json::array a;
    for (const auto& c : *cals) {
      a.push_back(CalendarJson(c));
    }
    json::object out;
    out["calendars"] = std::move(a);
    co_return Response::Json(out);
  }

  asio::awaitable<Response> Events(Request& req) {
    auto ctx = co_await Open(req);
    if (!ctx) {
      co_return matrix::Fail(ctx.error());
    }
    auto from = ParseIsoUtc(req.QueryParam("from").value_or(""));
    auto to = ParseIsoUtc(req.QueryParam("to").value_or(""));
    if (!from || !to || *to <= *from || *to - *from > kMaxEventRange) {
      co_return matrix::Fail(Invalid("from and to are UTC times, at most 400 days apart"));
    }
    TimeRange range{*from, *to};
    auto objects = calendars_.Candidates(ctx->calendar.id, "VEVENT", range, true);
    if (!objects) {
      co_return matrix::Fail(objects.error());
    }
    // Which objects are invitations from someone else, and from whom.
    std::map<std::string, json::object> invitations;  // object name -> {user_id, name}
    {
      auto lease = deps_.store.Read();
      auto rows = lease->Query(
          "SELECT name, organizer FROM calendar_invitations WHERE "
          "calendar_id = ? AND organizer <> ?",
          {ctx->calendar.id, ctx->session.localpart});
      if (!rows) {
        co_return matrix::Fail(rows.error());
      }
      std::map<std::string, std::string> names;  // organizer localpart -> display name
      for (const auto& r : *rows) {
        auto [it, fresh] = names.try_emplace(r.Text(1));
        if (fresh) {
          it->second = DisplayName(r.Text(1));
        }
        invitations[r.Text(0)] = json::object{
            {"organizer_user_id", deps_.accounts.UserId(r.Text(1))}, {"organizer", it->second}};
      }
    }
    json::array events;
    for (const auto& o : *objects) {
      auto parsed = ICalendar::Parse(o.data);
      if (!parsed) {
        continue;
      }
      auto invitation = invitations.find(o.name);
      for (const auto& v : parsed->Views(range)) {
        json::object e;
        e["object"] = o.name;
        e["uid"] = v.uid;
        e["start"] = FormatIsoUtc(v.start);
        e["end"] = FormatIsoUtc(v.end);
        e["all_day"] = v.all_day;
        e["recurring"] = v.recurring;
        e["summary"] = v.summary;
        e["location"] = v.location;
        e["description"] = v.description;
        e["rrule"] = v.rrule;
        if (!v.booking_id.empty()) {
          e["booking_id"] = v.booking_id;
        }
        json::array attendees;
        for (const auto& a : v.attendees) {
          json::object ja;
          if (!a.user_id.empty()) {
            ja["user_id"] = a.user_id;
          }
          ja["email"] = a.email;
          ja["name"] = a.name;
          ja["partstat"] = a.partstat;
          attendees.push_back(std::move(ja));
        }
        e["attendees"] = std::move(attendees);
        if (invitation != invitations.end()) {
          e["invitation"] = invitation->second;
        }
        events.push_back(std::move(e));
      }
    }
    json::object out;
    out["events"] = std::move(events);
    co_return Response::Json(out);
  }

  std::string DisplayName(const std::string& localpart) {
    auto lease = deps_.store.Read();
    auto row = lease->QueryOne("SELECT displayname FROM profiles WHERE localpart = ?", {localpart});
    return row && *row && !(*row)->Text(0).empty() ? (*row)->Text(0) : localpart;
  }

  Result<UserEvent> ReadEvent(const json::object& body) {
    UserEvent e;
    RUCHE_ASSIGN_OR_RETURN(auto summary, core::RequireString(body, "summary"));
    if (summary.empty() || summary.size() > 500) {
      return Invalid("summary must be 1 to 500 characters");
    }
    e.summary = std::string(summary);
    RUCHE_ASSIGN_OR_RETURN(auto all_day, core::OptBool(body, "all_day"));
    e.all_day = all_day.value_or(false);
    RUCHE_ASSIGN_OR_RETURN(auto start, core::RequireString(body, "start"));
    RUCHE_ASSIGN_OR_RETURN(auto end, core::RequireString(body, "end"));
    if (e.all_day) {
      auto s = ParseLocalDate(start);
      auto en = ParseLocalDate(end);
      auto utc = TimeZone::Find("UTC");
      if (!s || !en) {
        return Invalid("all-day events take dates: 2027-03-29 (end exclusive)");
      }
      e.start = *utc->ToUtc(*s, 0);
      e.end = *utc->ToUtc(*en, 0);
    } else {
      RUCHE_ASSIGN_OR_RETURN(e.start, ParseIsoUtc(start));
      RUCHE_ASSIGN_OR_RETURN(e.end, ParseIsoUtc(end));
    }
    if (e.end <= e.start || e.end - e.start > 366 * 86'400) {
      return Invalid("end must follow start, within a year");
    }
    RUCHE_ASSIGN_OR_RETURN(auto tz, core::OptString(body, "timezone"));
    e.timezone = std::string(tz.value_or("UTC"));
    if (!TimeZone::Find(e.timezone)) {
      return Invalid("unknown time zone: " + e.timezone);
    }
    RUCHE_ASSIGN_OR_RETURN(auto rrule, core::OptString(body, "rrule"));
    e.rrule = std::string(rrule.value_or(""));
    RUCHE_ASSIGN_OR_RETURN(auto location, core::OptString(body, "location"));
    e.location = std::string(location.value_or("")).substr(0, 1000);
    RUCHE_ASSIGN_OR_RETURN(auto description, core::OptString(body, "description"));
    e.description = std::string(description.value_or("")).substr(0, 10'000);
    if (auto it = body.find("attendees"); it != body.end()) {
      const json::array* a = it->value().if_array();
      if (a == nullptr || a->size() > kMaxAttendees) {
        return Invalid("attendees: a list of at most 100 {email, name}");
      }
      for (const auto& v : *a) {
        const json::object* o = v.if_object();
        if (o == nullptr) {
          return Invalid("attendees: a list of at most 100 {email, name}");
        }
        if (o->contains("user_id")) {
          continue;  // an account of this server: see InternalInvitees
        }
        RUCHE_ASSIGN_OR_RETURN(auto email, core::RequireString(*o, "email"));
        if (!mail::IsPlausibleAddress(email)) {
          return Invalid("not an e-mail address: " + std::string(email));
        }
        RUCHE_ASSIGN_OR_RETURN(auto name, core::OptString(*o, "name"));
        e.attendees.emplace_back(std::string(email), std::string(name.value_or("")).substr(0, 200));
      }
    }
    return e;
  }

  // One iMIP message per attendee.
  std::vector<Invitee> Invitations(const UserEvent& e, MailKind kind, std::string_view language,
                                   const std::string& organizer) {
    std::vector<Invitee> out;
    if (e.attendees.empty()) {
      return out;
    }
    const char* method = kind == MailKind::kInvitationCancelled ? "CANCEL" : "REQUEST";
    auto ics = UserEventCalendar(e, method);
    if (!ics) {
      return out;
    }
    auto zone = TimeZone::Find(e.all_day ? "UTC" : e.timezone);
    BookingMailFacts facts;
    facts.language = std::string(language);
    facts.title = e.summary;
    facts.visitor_name = organizer;
    facts.start = e.start;
    facts.zone = zone ? &*zone : nullptr;
    facts.where = e.location;
    facts.notes = e.description;
    BookingMailText text = ComposeBookingMail(kind, facts);
    mail::Mailbox from{organizer, deps_.mail.sender()};
    for (const auto& [email, name] : e.attendees) {
      mail::MailContent content{from, {name, email}, text.subject, text.body, *ics, method};
      out.push_back({email, mail::ComposeMessage(content, deps_.config.server_name)});
    }
    return out;
  }

  static store::WriteFn Compose(store::WriteFn first, std::vector<Invitee> mails) {
    return
        [first = std::move(first), mails = std::move(mails)](store::Connection& c) -> Result<void> {
          RUCHE_RETURN_IF_ERROR(first(c));
          for (const auto& m : mails) {
            RUCHE_RETURN_IF_ERROR(mail::MailQueue::Enqueue(m.email, m.message)(c));
          }
          return Ok();
        };
  }

  asio::awaitable<Response> Write(Request& req, bool update) {
    auto ctx = co_await Open(req);
    if (!ctx) {
      co_return matrix::Fail(ctx.error());
    }
    auto body = core::ParseJsonObject(req.body);
    if (!body) {
      co_return matrix::Fail(body.error());
    }
    auto event = ReadEvent(*body);
    if (!event) {
      co_return matrix::Fail(event.error());
    }
    auto language = core::OptString(*body, "language");
    std::string lang(language && *language ? **language : "en");
    std::string name;
    std::string existing_text;
    Preconditions pre;
    if (update) {
      name = std::string(req.Param("object"));
      if (name.starts_with("ruche-booking-")) {
        co_return matrix::Fail(
            Error(409, "M_INVALID_PARAM", "a booking is changed from its booking page, not here"));
      }
      auto existing = calendars_.FindObject(ctx->calendar.id, name, true);
      if (!existing) {
        co_return matrix::Fail(existing.error());
      }
      if (!*existing) {
        co_return matrix::Fail(Error::NotFound("no such event"));
      }
      auto copy = IsInvitationCopy(ctx->calendar.id, name, ctx->session.localpart);
      if (!copy) {
        co_return matrix::Fail(copy.error());
      }
      if (*copy) {
        co_return matrix::Fail(
            Error(409, "M_INVALID_PARAM", "an invitation is changed by its organizer, not here"));
      }
      existing_text = (*existing)->data;
      event->uid = (*existing)->uid;
      event->sequence = SequenceOf((*existing)->data) + 1;
      pre.if_match = (*existing)->etag;  // a concurrent change fails instead of being lost
    } else {
      event->uid = core::RandomToken(12) + "@" + deps_.config.server_name;
      name = core::RandomToken(12) + ".ics";
      pre.if_none_match_any = true;
    }
    event->organizer_name = DisplayName(ctx->session.localpart);
    event->organizer_email = deps_.mail.sender();
    // A Ruche meeting for the event: its join link goes into the event (and the invitations).
    store::WriteFn meeting_write;
    auto video = core::OptBool(*body, "video_meeting");
    if (!video) {
      co_return matrix::Fail(video.error());
    }
    if (video->value_or(false) && !update) {
      auto m = meet::MeetingDirectory::Prepare(event->summary, ctx->session.user_id, true);
      if (!m) {
        co_return matrix::Fail(m.error());
      }
      std::string join = PublicBaseUrl(deps_.config, req) + "/meet/" + m->created.meeting.id +
                         "?k=" + m->created.key;
      event->url = join;
      if (event->location.empty()) {
        event->location = join;
      }
      meeting_write = std::move(m->write);
    } else if (update) {
      event->url = UrlOf(existing_text);
    }
    auto internal = InternalInvitees(*body, *event);
    if (!internal) {
      co_return matrix::Fail(internal.error());
    }
    auto text = UserEventCalendar(*event);
    if (!text) {
      co_return matrix::Fail(text.error());
    }
    auto parsed = ICalendar::Parse(*text);
    if (!parsed) {
      co_return matrix::Fail(parsed.error());
    }
    auto summary = parsed->Validate();
    if (!summary) {
      co_return matrix::Fail(summary.error());
    }
    // Answers stand while the event keeps its times (a new title or room asks nobody again);
    // moved, it starts over with NEEDS-ACTION, as invitees must look again.
    if (update && !existing_text.empty() && RuleOf(existing_text) == RuleOf(*text)) {
      auto before = ICalendar::Parse(existing_text);
      auto before_summary = before ? before->Validate() : Result<ObjectSummary>(before.error());
      if (before_summary && before_summary->first_start == summary->first_start &&
          before_summary->last_end == summary->last_end) {
        for (const auto& [address, answer] : before->Partstats()) {
          parsed->SetPartstat(address, answer);
        }
        *text = parsed->Text();
      }
    }
    bool created = false;
    std::string etag;
    auto put = CalendarStore::PutObject(ctx->calendar.id, name, std::move(*summary), *text, pre,
                                        &created, &etag);
    auto mails = Invitations(*event, update ? MailKind::kInvitationUpdated : MailKind::kInvitation,
                             lang, event->organizer_name);
    // Invitees with an account get the event in their own calendar (PARTSTAT NEEDS-ACTION).
    auto copies = InviteeCopies(std::move(*internal), *text, event->uid, ctx->session.localpart);
    store::WriteFn all = [put = Compose(std::move(put), std::move(mails)),
                          meeting_write = std::move(meeting_write),
                          copies = std::move(copies)](store::Connection& c) -> Result<void> {
      if (meeting_write) {
        RUCHE_RETURN_IF_ERROR(meeting_write(c));
      }
      RUCHE_RETURN_IF_ERROR(put(c));
      return copies(c);
    };
    auto committed = co_await matrix::Commit(deps_.store, std::move(all));
    if (!committed) {
      co_return matrix::Fail(committed.error());
    }
    deps_.mail.Wake();
    json::object out;
    out["object"] = name;
    out["uid"] = event->uid;
    out["etag"] = etag;
    if (!event->url.empty()) {
      out["join_url"] = event->url;
    }
    co_return Response::Json(out);
  }

  // Attendees given as {"user_id": "@bob:server"}: checked, and added to the event with a
  // calendar-user address of this server (Ruche knows no e-mail address of its users).
  Result<std::vector<std::string>> InternalInvitees(const json::object& body, UserEvent& e) {
    std::vector<std::string> out;
    auto it = body.find("attendees");
    if (it == body.end() || !it->value().is_array()) {
      return out;
    }
    for (const auto& v : it->value().as_array()) {
      const json::object* o = v.if_object();
      if (o == nullptr || !o->contains("user_id")) {
        continue;
      }
      RUCHE_ASSIGN_OR_RETURN(auto user_id, core::RequireString(*o, "user_id"));
      auto localpart = deps_.accounts.LocalpartFrom(user_id);
      if (!localpart) {
        return Invalid("not a user of this server: " + std::string(user_id));
      }
      RUCHE_ASSIGN_OR_RETURN(auto user, deps_.accounts.FindUser(*localpart));
      if (!user || user->deactivated) {
        return Invalid("no such user: " + std::string(user_id));
      }
      out.push_back(*localpart);
      e.internal_attendees.emplace_back(deps_.accounts.UserId(*localpart), DisplayName(*localpart));
    }
    return out;
  }

  // Writes (or replaces) the event in each invitee's first calendar, under the same UID. Only
  // a copy this organizer wrote before is replaced: an object of the invitee's own with that
  // UID (or another organizer's copy) is left alone, and then the invitee gets no copy.
  static store::WriteFn InviteeCopies(std::vector<std::string> invitees, std::string text,
                                      std::string uid, std::string organizer) {
    return [invitees = std::move(invitees), text = std::move(text), uid = std::move(uid),
            organizer = std::move(organizer)](store::Connection& c) -> Result<void> {
      for (const auto& who : invitees) {
        if (who == organizer) {
          continue;
        }
        RUCHE_RETURN_IF_ERROR(CalendarStore::EnsureDefaultCalendar(who, "Personal")(c));
        RUCHE_ASSIGN_OR_RETURN(
            auto cal, c.QueryOne("SELECT calendar_id FROM calendars WHERE owner = ? ORDER BY "
                                 "created_ts, calendar_id LIMIT 1",
                                 {who}));
        if (!cal) {
          continue;
        }
        int64_t calendar_id = cal->Int(0);
        RUCHE_ASSIGN_OR_RETURN(
            auto existing,
            c.QueryOne("SELECT o.name, i.organizer FROM calendar_objects o LEFT JOIN "
                       "calendar_invitations i ON i.calendar_id = o.calendar_id AND i.name = "
                       "o.name WHERE o.calendar_id = ? AND o.uid = ?",
                       {calendar_id, uid}));
        if (existing && (existing->IsNull(1) || existing->Text(1) != organizer)) {
          continue;  // not ours to replace
        }
        std::string name =
            existing ? existing->Text(0) : "invite-" + core::RandomToken(12) + ".ics";
        if (!existing) {
          RUCHE_RETURN_IF_ERROR(c.Execute(
              "INSERT INTO calendar_invitations (calendar_id, name, organizer) VALUES (?, ?, ?) "
              "ON CONFLICT (calendar_id, name) DO UPDATE SET organizer = excluded.organizer",
              {calendar_id, name, organizer}));
        }
        auto parsed = ICalendar::Parse(text);
        if (!parsed) {
          return parsed.error();
        }
        RUCHE_ASSIGN_OR_RETURN(auto summary, parsed->Validate());
        bool created = false;
        std::string etag;
        RUCHE_RETURN_IF_ERROR(CalendarStore::PutObject(calendar_id, name, std::move(summary), text,
                                                       {}, &created, &etag)(c));
      }
      return Ok();
    };
  }

  // Whether `name` in `calendar_id` is a copy another user's invitation put there.
  Result<bool> IsInvitationCopy(int64_t calendar_id, const std::string& name,
                                const std::string& owner) {
    RUCHE_ASSIGN_OR_RETURN(auto organizer, InvitationOrganizer(calendar_id, name));
    return !organizer.empty() && organizer != owner;
  }

  // The URL property of stored text (a meeting's join link), "" when none.
  static std::string UrlOf(const std::string& data) {
    size_t pos = data.find("\nURL:");
    if (pos == std::string::npos) {
      return "";
    }
    size_t end = data.find_first_of("\r\n", pos + 5);
    return data.substr(pos + 5, end == std::string::npos ? std::string::npos : end - pos - 5);
  }

  // The RRULE line of stored text, "" when none.
  static std::string RuleOf(const std::string& data) {
    size_t pos = data.find("\nRRULE:");
    if (pos == std::string::npos) {
      return "";
    }
    return data.substr(pos + 7, data.find_first_of("\r\n", pos + 7) - (pos + 7));
  }

  static int64_t SequenceOf(const std::string& data) {
    size_t pos = data.find("\nSEQUENCE:");
    if (pos == std::string::npos) {
      return 0;
    }
    return std::strtoll(data.c_str() + pos + 10, nullptr, 10);
  }

  // An invitee answers an invitation in their calendar (accept, maybe, decline): PARTSTAT is
  // set in their copy and in the organizer's event, where the organizer's apps see it — an
  // iTIP REPLY applied by the server, as both are its users.
  asio::awaitable<Response> Reply(Request& req) {
    auto ctx = co_await Open(req);
    if (!ctx) {
      co_return matrix::Fail(ctx.error());
    }
    auto body = core::ParseJsonObject(req.body);
    if (!body) {
      co_return matrix::Fail(body.error());
    }
    auto partstat = core::RequireString(*body, "partstat");
    if (!partstat) {
      co_return matrix::Fail(partstat.error());
    }
    if (*partstat != "ACCEPTED" && *partstat != "TENTATIVE" && *partstat != "DECLINED") {
      co_return matrix::Fail(Invalid("partstat must be ACCEPTED, TENTATIVE or DECLINED"));
    }
    std::string name(req.Param("object"));
    auto copy = calendars_.FindObject(ctx->calendar.id, name, true);
    if (!copy) {
      co_return matrix::Fail(copy.error());
    }
    if (!*copy) {
      co_return matrix::Fail(Error::NotFound("no such event"));
    }
    auto organizer = InvitationOrganizer(ctx->calendar.id, name);
    if (!organizer) {
      co_return matrix::Fail(organizer.error());
    }
    if (organizer->empty() || *organizer == ctx->session.localpart) {
      co_return matrix::Fail(
          Error(409, "M_INVALID_PARAM", "only an invitation from someone else is answered"));
    }
    const std::string address = "urn:x-ruche:user:" + ctx->session.user_id;
    auto mine = ICalendar::Parse((*copy)->data);
    if (!mine) {
      co_return matrix::Fail(mine.error());
    }
    if (mine->SetPartstat(address, *partstat) == 0) {
      co_return matrix::Fail(
          Error(409, "M_INVALID_PARAM", "you are not among this event's attendees"));
    }
    auto answer = AnswerWrite(ctx->calendar.id, name, (*copy)->etag, *mine);
    if (!answer) {
      co_return matrix::Fail(answer.error());
    }
    std::vector<store::WriteFn> writes{std::move(*answer)};
    // The organizer's own event with that UID (not a copy of someone else's), if it still is.
    auto original = OrganizerObject(*organizer, (*copy)->uid);
    if (!original) {
      co_return matrix::Fail(original.error());
    }
    if (*original) {
      auto theirs = ICalendar::Parse((*original)->data);
      if (theirs && theirs->SetPartstat(address, *partstat) > 0) {
        auto w =
            AnswerWrite((*original)->calendar_id, (*original)->name, (*original)->etag, *theirs);
        if (!w) {
          co_return matrix::Fail(w.error());
        }
        writes.push_back(std::move(*w));
      }
    }
    store::WriteFn all = [writes = std::move(writes)](store::Connection& c) -> Result<void> {
      for (const auto& w : writes) {
        RUCHE_RETURN_IF_ERROR(w(c));
      }
      return Ok();
    };
    auto committed = co_await matrix::Commit(deps_.store, std::move(all));
    if (!committed) {
      if (committed.error().http_status == 412) {
        co_return matrix::Fail(Error(409, "M_INVALID_PARAM",
                                     "the event changed meanwhile: reload it and answer again"));
      }
      co_return matrix::Fail(committed.error());
    }
    json::object out;
    out["partstat"] = std::string(*partstat);
    co_return Response::Json(out);
  }

  // Stores `event` over the object `name` if it still has `etag` (412 otherwise).
  static Result<store::WriteFn> AnswerWrite(int64_t calendar_id, std::string name, std::string etag,
                                            const ICalendar& event) {
    std::string text = event.Text();
    RUCHE_ASSIGN_OR_RETURN(auto summary, event.Validate());
    Preconditions pre;
    pre.if_match = std::move(etag);
    return store::WriteFn([calendar_id, name = std::move(name), summary = std::move(summary),
                           text = std::move(text),
                           pre = std::move(pre)](store::Connection& c) -> Result<void> {
      bool created = false;
      std::string new_etag;
      return CalendarStore::PutObject(calendar_id, name, summary, text, pre, &created,
                                      &new_etag)(c);
    });
  }

  // Who put the invitation `name` in `calendar_id` ("" when it is no invitation copy).
  Result<std::string> InvitationOrganizer(int64_t calendar_id, const std::string& name) {
    auto lease = deps_.store.Read();
    RUCHE_ASSIGN_OR_RETURN(auto row,
                           lease.conn().QueryOne("SELECT organizer FROM calendar_invitations WHERE "
                                                 "calendar_id = ? AND name = ?",
                                                 {calendar_id, name}));
    return row ? row->Text(0) : std::string();
  }

  struct OwnObject {
    int64_t calendar_id = 0;
    std::string name, etag, data;
  };
  // `owner`'s own object with `uid` in any of their calendars (copies of invitations excluded).
  Result<std::optional<OwnObject>> OrganizerObject(const std::string& owner,
                                                   const std::string& uid) {
    auto lease = deps_.store.Read();
    RUCHE_ASSIGN_OR_RETURN(
        auto row,
        lease.conn().QueryOne(
            "SELECT o.calendar_id, o.name, o.etag, o.data FROM calendar_objects o JOIN calendars "
            "c ON c.calendar_id = o.calendar_id LEFT JOIN calendar_invitations i ON "
            "i.calendar_id = o.calendar_id AND i.name = o.name WHERE c.owner = ? AND o.uid = ? "
            "AND i.name IS NULL LIMIT 1",
            {owner, uid}));
    if (!row) {
      return std::optional<OwnObject>();
    }
    return std::optional<OwnObject>(
        OwnObject{row->Int(0), row->Text(1), row->Text(2), row->Text(3)});
  }

  asio::awaitable<Response> Delete(Request& req) {
    auto ctx = co_await Open(req);
    if (!ctx) {
      co_return matrix::Fail(ctx.error());
    }
    std::string name(req.Param("object"));
    if (name.starts_with("ruche-booking-")) {
      co_return matrix::Fail(
          Error(409, "M_INVALID_PARAM", "a booking is cancelled from its booking page, not here"));
    }
    auto existing = calendars_.FindObject(ctx->calendar.id, name, true);
    if (!existing) {
      co_return matrix::Fail(existing.error());
    }
    if (!*existing) {
      co_return matrix::Fail(Error::NotFound("no such event"));
    }
    std::vector<Invitee> mails;
    std::vector<std::string> internal;  // invitees with an account: their copies go too
    std::string uid = (*existing)->uid;
    // An invitee removing the copy of someone else's event removes only that copy: no
    // cancellation goes to the organizer's guests.
    auto copy = IsInvitationCopy(ctx->calendar.id, name, ctx->session.localpart);
    if (!copy) {
      co_return matrix::Fail(copy.error());
    }
    auto parsed = ICalendar::Parse((*existing)->data);
    if (parsed && !*copy) {
      auto views = parsed->Views(
          {std::numeric_limits<int64_t>::min() / 2, std::numeric_limits<int64_t>::max() / 2}, 1);
      if (!views.empty()) {
        UserEvent e;
        e.uid = views[0].uid;
        e.sequence = SequenceOf((*existing)->data) + 1;
        e.summary = views[0].summary;
        e.start = views[0].start;
        e.end = views[0].end;
        e.rrule = views[0].rrule;
        e.organizer_name = DisplayName(ctx->session.localpart);
        e.organizer_email = deps_.mail.sender();
        for (const auto& a : views[0].attendees) {
          if (!a.user_id.empty()) {
            if (auto lp = deps_.accounts.LocalpartFrom(a.user_id)) {
              internal.push_back(*lp);
            }
          } else if (mail::IsPlausibleAddress(a.email)) {
            e.attendees.emplace_back(a.email, a.name);
          }
        }
        mails = Invitations(e, MailKind::kInvitationCancelled, "en", e.organizer_name);
      }
    }
    Preconditions pre;
    pre.if_match = (*existing)->etag;
    auto del = CalendarStore::DeleteObject(
        ctx->calendar.id, name,
        CalendarHref(ctx->session.localpart, ctx->calendar.name) + EncodeSegment(name), pre);
    // The invitees' copies go too — only those this organizer wrote (calendar_invitations).
    store::WriteFn all = [del = Compose(std::move(del), std::move(mails)),
                          internal = std::move(internal), uid, organizer = ctx->session.localpart,
                          calendar_id = ctx->calendar.id,
                          name](store::Connection& c) -> Result<void> {
      RUCHE_RETURN_IF_ERROR(del(c));
      RUCHE_RETURN_IF_ERROR(
          c.Execute("DELETE FROM calendar_invitations WHERE calendar_id = ? AND name = ?",
                    {calendar_id, name}));
      for (const auto& who : internal) {
        RUCHE_ASSIGN_OR_RETURN(
            auto copy,
            c.QueryOne("SELECT o.calendar_id, o.name FROM calendar_objects o JOIN calendars k ON "
                       "k.calendar_id = o.calendar_id JOIN calendar_invitations i ON "
                       "i.calendar_id = o.calendar_id AND i.name = o.name WHERE k.owner = ? AND "
                       "o.uid = ? AND i.organizer = ?",
                       {who, uid, organizer}));
        if (copy) {
          auto gone = CalendarStore::DeleteObject(copy->Int(0), copy->Text(1), "", {})(c);
          if (!gone && gone.error().http_status != 404) {
            return gone.error();
          }
          RUCHE_RETURN_IF_ERROR(
              c.Execute("DELETE FROM calendar_invitations WHERE calendar_id = ? AND name = ?",
                        {copy->Int(0), copy->Text(1)}));
        }
      }
      return Ok();
    };
    auto committed = co_await matrix::Commit(deps_.store, std::move(all));
    if (!committed) {
      co_return matrix::Fail(committed.error());
    }
    deps_.mail.Wake();
    co_return Response::Json(json::object{});
  }

  BookingDeps deps_;
  CalendarStore calendars_;
};

}  // namespace

std::unique_ptr<EventApi> MountEventApi(net::Router& router, BookingDeps deps) {
  auto api = std::make_unique<EventApiImpl>(deps);
  api->Mount(router);
  return api;
}

}  // namespace ruche::cal
