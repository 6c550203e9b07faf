#include "cal/booking_routes.hpp"

#include <boost/asio/awaitable.hpp>

#include "cal/booking_messages.hpp"
#include "cal/booking_types.hpp"
#include "cal/calendar_store.hpp"
#include "cal/public_url.hpp"
#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "mail/mail_message.hpp"
#include "matrix/route_helpers.hpp"
#include "meet/meeting_directory.hpp"
#include "net/rate_limiter.hpp"

namespace ruche::cal {
namespace {

namespace asio = boost::asio;
namespace json = core::json;
using net::Request;
using net::Response;

constexpr int64_t kMaxSlotRange = 62 * 86'400;
constexpr size_t kMaxBookingTypesPerUser = 50;

Error Invalid(std::string message) {
  return Error::BadRequest(std::move(message), "M_INVALID_PARAM");
}
Error SlotTaken() {
  return Error(409, "M_SLOT_TAKEN", "this time was just taken: please choose another slot");
}

struct Booking {
  std::string id;
  std::string type_id;
  std::string owner;
  int64_t start = 0;
  int64_t end = 0;
  int64_t block_start = 0;
  int64_t block_end = 0;
  std::string status;  // confirmed, pending, cancelled
  std::string name;
  std::string email;
  json::object details;  // notes, answers, timezone, language
  std::string token_hash;
  std::string meeting_url;
  int64_t sequence = 0;
};

// The owner's view of a booking type, with its public page's path.
json::object TypeWithUrl(const BookingType& t) {
  json::object o = BookingTypeJson(t);
  o["url"] = "/book/" + t.owner + "/" + t.slug;
  return o;
}

Booking BookingFrom(const store::Row& r) {
  Booking b;
  b.id = r.Text(0);
  b.type_id = r.Text(1);
  b.owner = r.Text(2);
  b.start = r.Int(3);
  b.end = r.Int(4);
  b.block_start = r.Int(5);
  b.block_end = r.Int(6);
  b.status = r.Text(7);
  b.name = r.Text(8);
  b.email = r.Text(9);
  if (auto d = core::ParseJsonObject(r.Text(10))) {
    b.details = std::move(*d);
  }
  b.token_hash = r.Text(11);
  b.meeting_url = r.Text(12);
  b.sequence = r.Int(13);
  return b;
}

constexpr const char* kBookingColumns =
    "booking_id, booking_type_id, owner, start_ts, end_ts, block_start_ts, block_end_ts, status, "
    "name, email, details, manage_token_hash, meeting_url, sequence";

std::string DetailString(const json::object& d, std::string_view key) {
  auto it = d.find(key);
  return it != d.end() && it->value().is_string() ? std::string(it->value().get_string()) : "";
}

json::object BookingJson(const Booking& b) {
  json::object o;
  o["id"] = b.id;
  o["booking_type_id"] = b.type_id;
  o["start"] = FormatIsoUtc(b.start);
  o["end"] = FormatIsoUtc(b.end);
  o["status"] = b.status;
  o["name"] = b.name;
  o["email"] = b.email;
  o["notes"] = DetailString(b.details, "notes");
  o["timezone"] = DetailString(b.details, "timezone");
  if (auto it = b.details.find("answers"); it != b.details.end()) {
    o["answers"] = it->value();
  }
  if (!b.meeting_url.empty() && b.status != "cancelled") {
    o["join_url"] = b.meeting_url;
  }
  return o;
}

// Whether [block) is free of the owner's other live bookings, inside the write (the single
// writer makes check-then-insert atomic: two visitors cannot both take the last seat).
Result<void> CheckStillFree(store::Connection& c, const Booking& b, int seats,
                            const std::string& ignore_id) {
  RUCHE_ASSIGN_OR_RETURN(auto rows,
                         c.Query("SELECT booking_id, booking_type_id, start_ts FROM bookings WHERE "
                                 "owner = ? AND status <> 'cancelled' AND block_start_ts < ? AND "
                                 "block_end_ts > ?",
                                 {b.owner, b.block_end, b.block_start}));
  int same_slot = 0;
  for (const auto& r : rows) {
    if (r.Text(0) == ignore_id) {
      continue;
    }
    if (seats > 1 && r.Text(1) == b.type_id && r.Int(2) == b.start) {
      ++same_slot;
    } else {
      return SlotTaken();
    }
  }
  if (same_slot >= seats) {
    return SlotTaken();
  }
  return Ok();
}

class BookingApiImpl final : public BookingApi {
 public:
  explicit BookingApiImpl(BookingDeps deps)
      : deps_(deps),
        calendars_(deps.store),
        visitor_limiter_(deps.config.limits.bookings_per_ip_per_second,
                         deps.config.limits.bookings_per_ip_burst) {}

  void Mount(net::Router& router) {
    auto add = [&](const char* method, const char* path, auto member) {
      router.Add(method, path, [this, member](Request& req) -> asio::awaitable<Response> {
        return (this->*member)(req);
      });
    };
    add("POST", "/_ruche/v1/booking_types", &BookingApiImpl::CreateType);
    add("GET", "/_ruche/v1/booking_types", &BookingApiImpl::ListTypes);
    add("PUT", "/_ruche/v1/booking_types/{id}", &BookingApiImpl::UpdateType);
    add("DELETE", "/_ruche/v1/booking_types/{id}", &BookingApiImpl::DeleteType);
    add("GET", "/_ruche/v1/bookings", &BookingApiImpl::ListBookings);
    add("POST", "/_ruche/v1/bookings/{id}/confirm", &BookingApiImpl::Confirm);
    add("GET", "/_ruche/v1/book/{user}/{slug}", &BookingApiImpl::PublicType);
    add("GET", "/_ruche/v1/book/{user}/{slug}/slots", &BookingApiImpl::Slots);
    add("POST", "/_ruche/v1/book/{user}/{slug}", &BookingApiImpl::Book);
    add("GET", "/_ruche/v1/bookings/{id}/manage", &BookingApiImpl::Manage);
    add("POST", "/_ruche/v1/bookings/{id}/cancel", &BookingApiImpl::Cancel);
    add("POST", "/_ruche/v1/bookings/{id}/reschedule", &BookingApiImpl::Reschedule);
  }

 private:
  // ---- storage ----
  Result<std::optional<BookingType>> LoadType(std::string_view where, const store::Value& a,
                                              const store::Value& b = std::monostate{}) {
    auto lease = deps_.store.Read();
    std::string sql = "SELECT booking_type_id, owner, settings FROM booking_types WHERE ";
    sql += where;
    RUCHE_ASSIGN_OR_RETURN(auto row, std::holds_alternative<std::monostate>(b)
                                         ? lease->QueryOne(sql, {a})
                                         : lease->QueryOne(sql, {a, b}));
    if (!row) {
      return std::optional<BookingType>();
    }
    return std::optional<BookingType>(TypeFrom(*row));
  }

  static BookingType TypeFrom(const store::Row& row) {
    BookingType t;
    t.id = row.Text(0);
    t.owner = row.Text(1);
    if (auto settings = core::ParseJsonObject(row.Text(2))) {
      (void)ReadBookingType(*settings, t);  // written by us, valid
    }
    return t;
  }

  Result<std::optional<Booking>> LoadBooking(const std::string& id) {
    auto lease = deps_.store.Read();
    RUCHE_ASSIGN_OR_RETURN(auto row, lease->QueryOne(std::string("SELECT ") + kBookingColumns +
                                                         " FROM bookings WHERE booking_id = ?",
                                                     {id}));
    if (!row) {
      return std::optional<Booking>();
    }
    return std::optional<Booking>(BookingFrom(*row));
  }

  // The owner's busy time from their calendars (events Ruche made for bookings excluded: the
  // bookings table accounts for those, buffers included), and their live bookings' blocks.
  Result<void> OwnerTime(const std::string& owner, TimeRange range, std::vector<Interval>& busy,
                         std::vector<Interval>& bookings, const std::string& ignore_id = "") {
    RUCHE_RETURN_IF_ERROR(ForEachBusyOccurrence(calendars_, deps_.instances, owner, range,
                                                /*with_booking_copies=*/false,
                                                [&busy](const ICalendar::Occurrence& oc) {
                                                  busy.push_back({oc.start, oc.end});
                                                }));
    auto lease = deps_.store.Read();
    RUCHE_ASSIGN_OR_RETURN(
        auto rows, lease->Query("SELECT booking_id, block_start_ts, block_end_ts FROM bookings "
                                "WHERE owner = ? AND status <> 'cancelled' AND block_start_ts < ? "
                                "AND block_end_ts > ?",
                                {owner, range.end, range.start}));
    for (const auto& r : rows) {
      if (r.Text(0) != ignore_id) {
        bookings.push_back({r.Int(1), r.Int(2)});
      }
    }
    return Ok();
  }

  Result<std::vector<Slot>> FreeSlots(const BookingType& t, TimeRange range,
                                      const std::string& ignore_id = "") {
    auto zone = TimeZone::Find(t.timezone);
    if (!zone) {
      return Error::Internal("booking type time zone vanished");
    }
    std::vector<Interval> busy;
    std::vector<Interval> bookings;
    int64_t margin = 86'400 * 2;
    TimeRange wide{range.start - margin, range.end + margin};
    RUCHE_RETURN_IF_ERROR(OwnerTime(t.owner, wide, busy, bookings, ignore_id));
    return ComputeSlots(t.rules, t.availability, *zone, busy, bookings, core::NowMs() / 1000,
                        range);
  }

  std::string BaseUrl(const Request& req) const { return PublicBaseUrl(deps_.config, req); }

  // The owner's display name (their profile), else their user name.
  std::string OwnerName(const std::string& localpart) {
    auto lease = deps_.store.Read();
    auto row = lease->QueryOne("SELECT displayname FROM profiles WHERE localpart = ?", {localpart});
    return row && *row && !(*row)->Text(0).empty() ? (*row)->Text(0) : localpart;
  }

  // ---- owner ----
  asio::awaitable<Response> CreateType(Request& req) {
    auto session = matrix::Authenticate(deps_.accounts, req);
    if (!session) {
      co_return matrix::Fail(session.error());
    }
    auto body = core::ParseJsonObject(req.body);
    if (!body) {
      co_return matrix::Fail(body.error());
    }
    BookingType t;
    t.owner = session->localpart;
    t.id = core::RandomToken(9);
    if (auto r = ReadBookingType(*body, t); !r) {
      co_return matrix::Fail(r.error());
    }
    std::string settings = json::serialize(BookingTypeJson(t));
    store::WriteFn write = [t, settings](store::Connection& c) -> Result<void> {
      RUCHE_ASSIGN_OR_RETURN(auto taken,
                             c.QueryOne("SELECT 1 FROM booking_types WHERE owner = ? AND slug = ?",
                                        {t.owner, t.slug}));
      if (taken) {
        return Error(409, "M_IN_USE", "you already have a booking type with this slug");
      }
      RUCHE_ASSIGN_OR_RETURN(
          auto count, c.QueryOne("SELECT COUNT(*) FROM booking_types WHERE owner = ?", {t.owner}));
      if (count && count->Int(0) >= static_cast<int64_t>(kMaxBookingTypesPerUser)) {
        return Error(400, "M_RESOURCE_LIMIT_EXCEEDED", "too many booking types");
      }
      RUCHE_RETURN_IF_ERROR(c.Execute(
          "INSERT INTO booking_types (booking_type_id, owner, slug, settings, created_ts) "
          "VALUES (?, ?, ?, ?, ?)",
          {t.id, t.owner, t.slug, settings, core::NowMs()}));
      return Ok();
    };
    auto committed = co_await matrix::Commit(deps_.store, std::move(write));
    if (!committed) {
      co_return matrix::Fail(committed.error());
    }
    co_return Response::Json(TypeWithUrl(t));
  }

  asio::awaitable<Response> ListTypes(Request& req) {
    auto session = matrix::Authenticate(deps_.accounts, req);
    if (!session) {
      co_return matrix::Fail(session.error());
    }
    auto lease = deps_.store.Read();
    auto rows = lease->Query(
        "SELECT booking_type_id, owner, settings FROM booking_types WHERE owner = ? ORDER BY "
        "created_ts",
        {session->localpart});
    if (!rows) {
      co_return matrix::Fail(rows.error());
    }
    json::array a;
    for (const auto& r : *rows) {
      a.push_back(TypeWithUrl(TypeFrom(r)));
    }
    json::object out;
    out["booking_types"] = std::move(a);
    co_return Response::Json(out);
  }

  asio::awaitable<Response> UpdateType(Request& req) {
    auto session = matrix::Authenticate(deps_.accounts, req);
    if (!session) {
      co_return matrix::Fail(session.error());
    }
    std::string id(req.Param("id"));
    auto existing = LoadType("booking_type_id = ? AND owner = ?", id, session->localpart);
    if (!existing) {
      co_return matrix::Fail(existing.error());
    }
    if (!*existing) {
      co_return matrix::Fail(Error::NotFound("no such booking type"));
    }
    auto body = core::ParseJsonObject(req.body);
    if (!body) {
      co_return matrix::Fail(body.error());
    }
    BookingType t = std::move(**existing);
    if (!body->contains("slug")) {
      (*body)["slug"] = t.slug;
    }
    if (!body->contains("title")) {
      (*body)["title"] = t.title;
    }
    if (auto r = ReadBookingType(*body, t); !r) {
      co_return matrix::Fail(r.error());
    }
    std::string settings = json::serialize(BookingTypeJson(t));
    store::WriteFn write = [t, settings](store::Connection& c) -> Result<void> {
      RUCHE_ASSIGN_OR_RETURN(
          auto taken, c.QueryOne("SELECT 1 FROM booking_types WHERE owner = ? AND slug = ? AND "
                                 "booking_type_id <> ?",
                                 {t.owner, t.slug, t.id}));
      if (taken) {
        return Error(409, "M_IN_USE", "you already have a booking type with this slug");
      }
      RUCHE_RETURN_IF_ERROR(
          c.Execute("UPDATE booking_types SET slug = ?, settings = ? WHERE booking_type_id = ?",
                    {t.slug, settings, t.id}));
      return Ok();
    };
    auto committed = co_await matrix::Commit(deps_.store, std::move(write));
    if (!committed) {
      co_return matrix::Fail(committed.error());
    }
    co_return Response::Json(TypeWithUrl(t));
  }

  asio::awaitable<Response> DeleteType(Request& req) {
    auto session = matrix::Authenticate(deps_.accounts, req);
    if (!session) {
      co_return matrix::Fail(session.error());
    }
    std::string id(req.Param("id"));
    std::string owner = session->localpart;
    store::WriteFn write = [id, owner](store::Connection& c) -> Result<void> {
      RUCHE_ASSIGN_OR_RETURN(
          int64_t n, c.Execute("DELETE FROM booking_types WHERE booking_type_id = ? AND owner = ?",
                               {id, owner}));
      if (n == 0) {
        return Error::NotFound("no such booking type");
      }
      return Ok();
    };
    auto committed = co_await matrix::Commit(deps_.store, std::move(write));
    if (!committed) {
      co_return matrix::Fail(committed.error());
    }
    co_return Response::Json(json::object{});
  }

  asio::awaitable<Response> ListBookings(Request& req) {
    auto session = matrix::Authenticate(deps_.accounts, req);
    if (!session) {
      co_return matrix::Fail(session.error());
    }
    auto lease = deps_.store.Read();
    auto rows = lease->Query(std::string("SELECT ") + kBookingColumns +
                                 " FROM bookings WHERE owner = ? AND end_ts > ? ORDER BY start_ts "
                                 "LIMIT 1000",
                             {session->localpart, core::NowMs() / 1000 - 30 * 86'400});
    if (!rows) {
      co_return matrix::Fail(rows.error());
    }
    json::array a;
    for (const auto& r : *rows) {
      a.push_back(BookingJson(BookingFrom(r)));
    }
    json::object out;
    out["bookings"] = std::move(a);
    co_return Response::Json(out);
  }

  // ---- public ----
  Result<BookingType> PublicTypeOf(const Request& req) {
    RUCHE_ASSIGN_OR_RETURN(auto t,
                           LoadType("owner = ? AND slug = ?", std::string(req.Param("user")),
                                    std::string(req.Param("slug"))));
    if (!t) {
      return Error::NotFound("no such booking page");
    }
    return std::move(*t);
  }

  asio::awaitable<Response> PublicType(Request& req) {
    auto t = PublicTypeOf(req);
    if (!t) {
      co_return matrix::Fail(t.error());
    }
    json::object out = PublicBookingTypeJson(*t);
    out["owner_name"] = OwnerName(t->owner);
    co_return Response::Json(out);
  }

  asio::awaitable<Response> Slots(Request& req) {
    auto t = PublicTypeOf(req);
    if (!t) {
      co_return matrix::Fail(t.error());
    }
    auto from = ParseIsoUtc(req.QueryParam("from").value_or(""));
    auto to = ParseIsoUtc(req.QueryParam("to").value_or(""));
    if (!from || !to || *to <= *from || *to - *from > kMaxSlotRange) {
      co_return matrix::Fail(
          Invalid("from and to are UTC times (2027-03-29T00:00:00Z), at most 62 days apart"));
    }
    auto slots = FreeSlots(*t, {*from, *to});
    if (!slots) {
      co_return matrix::Fail(slots.error());
    }
    json::array a;
    for (const auto& s : *slots) {
      json::object o;
      o["start"] = FormatIsoUtc(s.start);
      o["end"] = FormatIsoUtc(s.end);
      o["seats_left"] = s.seats_left;
      a.push_back(std::move(o));
    }
    json::object out;
    out["slots"] = std::move(a);
    out["timezone"] = t->timezone;
    co_return Response::Json(out);
  }

  struct Mail {
    std::string to;
    std::string message;
  };

  // The owner's calendar event, the visitor's and the owner's e-mails for booking `b`.
  store::WriteFn Effects(const BookingType& t, const Booking& b, MailKind visitor_kind,
                         const std::string& manage_url) {
    std::string owner_name = OwnerName(t.owner);
    std::string server = deps_.config.server_name;
    EventFields e;
    e.uid = b.id + "@" + server;
    e.start = b.start;
    e.end = b.end;
    e.sequence = b.sequence;
    e.summary = t.title + " — " + b.name;
    e.location = t.video ? b.meeting_url : t.address;
    e.url = b.meeting_url;
    e.description = DetailString(b.details, "notes");
    if (auto it = b.details.find("answers"); it != b.details.end() && it->value().is_object()) {
      for (const auto& q : t.questions) {
        if (auto a = it->value().as_object().find(q.id);
            a != it->value().as_object().end() && a->value().is_string()) {
          e.description += "\n" + q.label + ": " + std::string(a->value().get_string());
        }
      }
    }
    e.organizer_name = owner_name;
    e.organizer_email = t.notify_email.empty() ? deps_.mail.sender() : t.notify_email;
    e.attendee_name = b.name;
    e.attendee_email = b.email;
    e.booking_id = b.id;
    bool cancelled = b.status == "cancelled";
    e.status = cancelled ? "CANCELLED" : b.status == "pending" ? "TENTATIVE" : "CONFIRMED";
    e.partstat = b.status == "confirmed" ? "ACCEPTED" : "NEEDS-ACTION";
    std::string object_text = EventCalendar(e);
    std::string imip = EventCalendar(e, cancelled ? "CANCEL" : "REQUEST");

    std::vector<Mail> mails;
    mail::Mailbox from{deps_.mail.sender_name(), deps_.mail.sender()};
    auto visitor_zone = TimeZone::Find(DetailString(b.details, "timezone"));
    auto owner_zone = TimeZone::Find(t.timezone);
    BookingMailFacts facts;
    facts.language = DetailString(b.details, "language");
    facts.title = t.title;
    facts.visitor_name = b.name;
    facts.start = b.start;
    facts.zone = visitor_zone ? &*visitor_zone : &*owner_zone;
    facts.where = t.video ? b.meeting_url : t.address;
    facts.manage_url = manage_url;
    facts.notes = DetailString(b.details, "notes");
    {
      BookingMailText text = ComposeBookingMail(visitor_kind, facts);
      mail::MailContent content{
          from, {b.name, b.email}, text.subject, text.body, imip, cancelled ? "CANCEL" : "REQUEST"};
      mails.push_back({b.email, mail::ComposeMessage(content, server)});
    }
    if (!t.notify_email.empty()) {
      facts.language = "en";
      facts.zone = &*owner_zone;
      facts.manage_url.clear();
      BookingMailText text =
          ComposeBookingMail(cancelled ? MailKind::kOwnerCancelled : MailKind::kOwnerNew, facts);
      mail::MailContent content{from, {t.owner, t.notify_email},       text.subject, text.body,
                                imip, cancelled ? "CANCEL" : "REQUEST"};
      mails.push_back({t.notify_email, mail::ComposeMessage(content, server)});
    }

    std::string object_name = std::string(kBookingObjectPrefix) + b.id + ".ics";
    std::string owner = t.owner;
    return [owner, object_name, object_text, cancelled,
            mails = std::move(mails)](store::Connection& c) -> Result<void> {
      RUCHE_RETURN_IF_ERROR(CalendarStore::EnsureDefaultCalendar(owner, "Personal")(c));
      RUCHE_ASSIGN_OR_RETURN(
          auto cal, c.QueryOne("SELECT calendar_id FROM calendars WHERE owner = ? ORDER BY "
                               "created_ts, calendar_id LIMIT 1",
                               {owner}));
      if (cal) {
        int64_t calendar_id = cal->Int(0);
        if (cancelled) {
          auto del = CalendarStore::DeleteObject(calendar_id, object_name, "", {})(c);
          if (!del && del.error().http_status != 404) {
            return del.error();
          }
        } else {
          auto parsed = ICalendar::Parse(object_text);
          if (!parsed) {
            return parsed.error();
          }
          RUCHE_ASSIGN_OR_RETURN(auto summary, parsed->Validate());
          bool created = false;
          std::string etag;
          RUCHE_RETURN_IF_ERROR(CalendarStore::PutObject(
              calendar_id, object_name, std::move(summary), object_text, {}, &created, &etag)(c));
        }
      }
      for (const auto& m : mails) {
        RUCHE_RETURN_IF_ERROR(mail::MailQueue::Enqueue(m.to, m.message)(c));
      }
      return Ok();
    };
  }

  asio::awaitable<Response> Book(Request& req) {
    if (int64_t wait = visitor_limiter_.Take(req.remote_ip, core::NowMs()); wait > 0) {
      co_return matrix::Fail(Error::LimitExceeded(wait));
    }
    auto t = PublicTypeOf(req);
    if (!t) {
      co_return matrix::Fail(t.error());
    }
    auto body = core::ParseJsonObject(req.body);
    if (!body) {
      co_return matrix::Fail(body.error());
    }
    auto parsed = ReadBookingRequest(*body, *t);
    if (!parsed) {
      co_return matrix::Fail(parsed.error());
    }
    Booking b = std::move(*parsed);
    // The slot must be one the page offers now (rules, calendar); the write re-checks bookings.
    auto free = FreeSlots(*t, {b.start, b.start + 1});
    if (!free) {
      co_return matrix::Fail(free.error());
    }
    if (free->empty() || free->front().start != b.start) {
      co_return matrix::Fail(SlotTaken());
    }
    std::string token = core::RandomToken(18);
    b.token_hash = core::Sha256Hex(token);
    b.id = core::RandomToken(12);
    b.owner = t->owner;
    b.type_id = t->id;
    b.status = t->requires_confirmation ? "pending" : "confirmed";
    std::optional<meet::MeetingDirectory::NewMeeting> meeting;
    if (t->video) {
      auto m = meet::MeetingDirectory::Prepare(t->title, deps_.accounts.UserId(t->owner), true);
      if (!m) {
        co_return matrix::Fail(m.error());
      }
      b.meeting_url = BaseUrl(req) + "/meet/" + m->created.meeting.id + "?k=" + m->created.key;
      meeting.emplace(std::move(*m));
    }
    std::string manage_url = BaseUrl(req) + "/book/manage/" + b.id + "?t=" + token;
    auto effects = Effects(
        *t, b, t->requires_confirmation ? MailKind::kPending : MailKind::kConfirmed, manage_url);
    int seats = t->rules.seats;
    store::WriteFn meeting_write = meeting ? std::move(meeting->write) : store::WriteFn();
    store::WriteFn write = [b, seats, effects = std::move(effects),
                            meeting_write =
                                std::move(meeting_write)](store::Connection& c) -> Result<void> {
      RUCHE_RETURN_IF_ERROR(CheckStillFree(c, b, seats, ""));
      RUCHE_RETURN_IF_ERROR(c.Execute(
          "INSERT INTO bookings (booking_id, booking_type_id, owner, start_ts, end_ts, "
          "block_start_ts, block_end_ts, status, name, email, details, manage_token_hash, "
          "meeting_url, sequence, created_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
          {b.id, b.type_id, b.owner, b.start, b.end, b.block_start, b.block_end, b.status, b.name,
           b.email, json::serialize(b.details), b.token_hash, b.meeting_url, core::NowMs()}));
      if (meeting_write) {
        RUCHE_RETURN_IF_ERROR(meeting_write(c));
      }
      return effects(c);
    };
    auto committed = co_await matrix::Commit(deps_.store, std::move(write));
    if (!committed) {
      co_return matrix::Fail(committed.error());
    }
    deps_.mail.Wake();
    json::object out = BookingJson(b);
    out["manage_url"] = manage_url;
    co_return Response::Json(out);
  }

  // The visitor's form: start, name, e-mail, notes, answers, their time zone and language,
  // consent. The booking's times and blocks are set from the type's rules.
  Result<Booking> ReadBookingRequest(const json::object& body, const BookingType& t) {
    Booking b;
    RUCHE_ASSIGN_OR_RETURN(auto start, core::RequireString(body, "start"));
    RUCHE_ASSIGN_OR_RETURN(b.start, ParseIsoUtc(start));
    b.end = b.start + int64_t{t.rules.duration_min} * 60;
    b.block_start = b.start - int64_t{t.rules.buffer_before_min} * 60;
    b.block_end = b.end + int64_t{t.rules.buffer_after_min} * 60;
    RUCHE_ASSIGN_OR_RETURN(auto name, core::RequireString(body, "name"));
    RUCHE_ASSIGN_OR_RETURN(auto email, core::RequireString(body, "email"));
    if (name.empty() || name.size() > 200) {
      return Invalid("name must be 1 to 200 characters");
    }
    if (!mail::IsPlausibleAddress(email)) {
      return Invalid("email is not an e-mail address");
    }
    b.name = std::string(name);
    b.email = std::string(email);
    RUCHE_ASSIGN_OR_RETURN(auto consent, core::OptBool(body, "consent"));
    if (!consent.value_or(false)) {
      return Invalid("consent is required to book");
    }
    RUCHE_ASSIGN_OR_RETURN(auto notes, core::OptString(body, "notes"));
    if (notes && notes->size() > 5000) {
      return Invalid("notes are limited to 5000 characters");
    }
    b.details["notes"] = std::string(notes.value_or(""));
    RUCHE_ASSIGN_OR_RETURN(auto tz, core::OptString(body, "timezone"));
    b.details["timezone"] =
        tz && TimeZone::Find(*tz) ? std::string(*tz) : t.timezone;  // unknown: the owner's
    RUCHE_ASSIGN_OR_RETURN(auto lang, core::OptString(body, "language"));
    b.details["language"] = std::string(lang.value_or("en")).substr(0, 5);
    json::object answers;
    const json::object* given = nullptr;
    if (auto it = body.find("answers"); it != body.end()) {
      given = it->value().if_object();
      if (given == nullptr) {
        return Invalid("answers must be an object");
      }
    }
    for (const auto& q : t.questions) {
      std::string answer;
      if (given != nullptr) {
        if (auto a = given->find(q.id); a != given->end()) {
          if (!a->value().is_string() || a->value().get_string().size() > 2000) {
            return Invalid("answer to " + q.id + " must be text of at most 2000 characters");
          }
          answer = a->value().get_string();
        }
      }
      if (q.required && answer.empty()) {
        return Invalid("please answer: " + q.label);
      }
      answers[q.id] = answer;
    }
    b.details["answers"] = std::move(answers);
    return b;
  }

  // The booking behind a manage link, or 404 (a wrong token reveals nothing).
  Result<Booking> Managed(const Request& req) {
    std::string token = req.QueryParam("t").value_or("");
    RUCHE_ASSIGN_OR_RETURN(auto b, LoadBooking(std::string(req.Param("id"))));
    if (!b || token.empty() || !core::ConstantTimeEquals(core::Sha256Hex(token), b->token_hash)) {
      return Error::NotFound("no such booking");
    }
    return std::move(*b);
  }

  asio::awaitable<Response> Manage(Request& req) {
    auto b = Managed(req);
    if (!b) {
      co_return matrix::Fail(b.error());
    }
    auto t = LoadType("booking_type_id = ?", b->type_id);
    json::object out = BookingJson(*b);
    if (t && *t) {
      out["booking_type"] = PublicBookingTypeJson(**t);
    }
    co_return Response::Json(out);
  }

  // The visitor cancels with the manage link's token; the owner, signed in, from their list.
  asio::awaitable<Response> Cancel(Request& req) {
    auto b = req.QueryParam("t") ? Managed(req) : Owned(req);
    if (!b) {
      co_return matrix::Fail(b.error());
    }
    co_return co_await Change(req, *b, std::nullopt);
  }

  asio::awaitable<Response> Reschedule(Request& req) {
    auto b = Managed(req);
    if (!b) {
      co_return matrix::Fail(b.error());
    }
    auto body = core::ParseJsonObject(req.body);
    if (!body) {
      co_return matrix::Fail(body.error());
    }
    auto start = core::RequireString(*body, "start");
    if (!start) {
      co_return matrix::Fail(start.error());
    }
    auto when = ParseIsoUtc(*start);
    if (!when) {
      co_return matrix::Fail(when.error());
    }
    co_return co_await Change(req, *b, *when);
  }

  // The booking `{id}` of the signed-in owner, or 404 (another user's reveals nothing).
  Result<Booking> Owned(const Request& req) {
    RUCHE_ASSIGN_OR_RETURN(auto session, matrix::Authenticate(deps_.accounts, req));
    RUCHE_ASSIGN_OR_RETURN(auto b, LoadBooking(std::string(req.Param("id"))));
    if (!b || b->owner != session.localpart) {
      return Error::NotFound("no such booking");
    }
    return std::move(*b);
  }

  asio::awaitable<Response> Confirm(Request& req) {
    auto b = Owned(req);
    if (!b) {
      co_return matrix::Fail(b.error());
    }
    if (b->status != "pending") {
      co_return matrix::Fail(Error(409, "M_INVALID_PARAM", "only a pending booking is confirmed"));
    }
    co_return co_await Change(req, *b, b->start, true);
  }

  // Cancels (`new_start` empty), reschedules or confirms a booking, with its calendar event and
  // e-mails, in one write.
  asio::awaitable<Response> Change(const Request& req, Booking b, std::optional<int64_t> new_start,
                                   bool confirm = false) {
    if (b.status == "cancelled") {
      co_return matrix::Fail(Error(409, "M_BOOKING_CANCELLED", "this booking is cancelled"));
    }
    auto t = LoadType("booking_type_id = ?", b.type_id);
    if (!t) {
      co_return matrix::Fail(t.error());
    }
    if (!*t) {
      co_return matrix::Fail(Error::NotFound("this booking page no longer exists"));
    }
    MailKind kind = MailKind::kCancelled;
    if (!new_start) {
      b.status = "cancelled";
    } else if (confirm) {
      b.status = "confirmed";
      kind = MailKind::kConfirmed;
    } else {
      auto free = FreeSlots(**t, {*new_start, *new_start + 1}, b.id);
      if (!free) {
        co_return matrix::Fail(free.error());
      }
      if (free->empty() || free->front().start != *new_start) {
        co_return matrix::Fail(SlotTaken());
      }
      int64_t length = b.end - b.start;
      b.block_start += *new_start - b.start;
      b.block_end += *new_start - b.start;
      b.start = *new_start;
      b.end = b.start + length;
      kind = MailKind::kRescheduled;
    }
    b.sequence += 1;
    std::string manage_url;
    if (kind != MailKind::kCancelled) {
      // The visitor's link stays the same: rebuild it from the request that carried it, or none
      // for the owner's confirmation (the first mail has it).
      if (auto token = req.QueryParam("t")) {
        manage_url = BaseUrl(req) + "/book/manage/" + b.id + "?t=" + *token;
      }
    }
    auto effects = Effects(**t, b, kind, manage_url);
    int seats = (*t)->rules.seats;
    store::WriteFn write = [b, seats, effects = std::move(effects),
                            check = new_start && !confirm](store::Connection& c) -> Result<void> {
      if (check) {
        RUCHE_RETURN_IF_ERROR(CheckStillFree(c, b, seats, b.id));
      }
      RUCHE_RETURN_IF_ERROR(
          c.Execute("UPDATE bookings SET status = ?, start_ts = ?, end_ts = ?, block_start_ts = ?, "
                    "block_end_ts = ?, sequence = ? WHERE booking_id = ?",
                    {b.status, b.start, b.end, b.block_start, b.block_end, b.sequence, b.id}));
      return effects(c);
    };
    auto committed = co_await matrix::Commit(deps_.store, std::move(write));
    if (!committed) {
      co_return matrix::Fail(committed.error());
    }
    deps_.mail.Wake();
    co_return Response::Json(BookingJson(b));
  }

  BookingDeps deps_;
  CalendarStore calendars_;
  net::RateLimiter visitor_limiter_;
};

}  // namespace

std::unique_ptr<BookingApi> MountBookingApi(net::Router& router, BookingDeps deps) {
  auto api = std::make_unique<BookingApiImpl>(deps);
  api->Mount(router);
  return api;
}

}  // namespace ruche::cal
