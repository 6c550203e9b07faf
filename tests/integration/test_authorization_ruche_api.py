"""The authorization matrix of Ruche's own endpoints (`/_ruche/v1/…` and CalDAV `/dav/…`): every
endpoint family × every kind of actor, with the outcome each actor must get, checks that a denied
write changed nothing, and checks that a denial reveals nothing. test_authorization_matrix.py is
the same for the Matrix API; this file mirrors its structure.

Actors, relative to the module's resource owner (a user with calendars, events, app passwords,
booking types, bookings and meetings):

- owner: the resources' user, with their access token;
- other: another signed-in user;
- admin: a server admin (`ruche admin create-user --admin`): being an admin gives no power over
  another user's calendars, bookings, app passwords or meetings (there is no admin HTTP API);
- signed_out: the owner's own earlier session, ended with /logout: its token must be refused;
- anonymous: no credentials at all.

Some families have their own credential holders, in place of the Matrix matrix's invited, left
and banned (nothing here is shared through rooms, so those states mean nothing):

- meetings, where the join link's key is the credential: guest (no account, the right key) and
  wrong_key (no account, a key of the right form that is not the meeting's); the signed-in
  actors carry the right key, anonymous carries none;
- a booking's manage link, where `t` is the credential: visitor (the right `t`, no account),
  wrong_t (the right one with its first character changed), foreign_t (the valid `t` of another
  booking of the same owner); the bearer actors send no `t`;
- CalDAV (HTTP Basic): owner (account password), owner_app (an app password of the owner),
  revoked_app (an app password the owner revoked), wrong_password (the owner's name, a wrong
  password), thief (the other user's name with the owner's app password: an app password works
  for its owner only), other and admin (their own account passwords), anonymous.

`ROWS` is the table: (family, endpoint, request, {actor: expected outcome}). An outcome is a
status and a code: the errcode of a JSON error, the `code` of a signalling error, and for
CalDAV, whose errors are plain text, that text. Each row × actor is one test, which also checks
that a denial's body carries none of the owner's data (event summaries, places, notes,
attendees' and visitors' names and e-mails, calendar and app password names, the booking
notification address, the owner's display name, meeting titles, keys and tokens), that a
successful answer to anyone but the owner (or, for the manage link, the visitor) carries none of
the private part of it, and, for writes, reads the owner's data back to see that a denied write
changed nothing (and an allowed one did what it said).

Rows with `hidden` also run in `test_another_users_resource_looks_missing` and
`test_error_text_is_the_same_for_a_missing_resource`: for the other user and the admin (and for
the wrong key or token), the answer about the owner's real calendar, event, booking, booking
type, app password, meeting or CalDAV resource must equal the answer about one that does not
exist: status and code, then the error text (IDs replaced by placeholders).

Expected outcomes come from docs/api.md: another user's booking "is 404", another user's DAV
URLs "answer 404", a wrong manage token "is 404", a wrong meeting key and an unknown meeting
"are indistinguishable"; the calendar and booking type APIs address only the caller's own
(`/calendars/<id>` is looked up among the caller's calendars), so another user's is 404 like a
missing one. Assumed where the docs are silent: the manage link's GET and reschedule take no
access token (the owner without `t` gets the same 404 as a stranger); an event Ruche made for a
booking answers 409 to anyone's PUT/DELETE through the calendar API (the name alone decides, so
it reveals nothing).

Invitations: an event naming a user of this server as attendee is copied, under the same UID,
into that user's calendar. Three rows check that this cannot reach into the owner's calendar
from an object of one's own that bears the UID of an event of the owner (an invitee's copy has
it, so does the .ics e-mailed to attendees and visitors, and anyone can write such an object
over CalDAV): re-saving it with the owner as invitee, or deleting it, must leave the owner's
event alone (the server replaces or deletes only the copies it wrote for that organizer, kept
in `calendar_invitations`), and an invitee's own copy is changed by its organizer only (409).

The world is built once per module (one server, three users); rows that use a resource up
(deletes, cancels, confirmations, overwrites) get a fresh one per test. 47 rows, 299 row ×
actor tests and 67 × 2 hidden comparisons; the file runs in ~12 s.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
import shutil
import tempfile
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
import websockets

from ruche_test import (Response, basic_auth, call, client_path, login, query, register,
                        run_admin, unique_name)

PASSWORD = "correct horse"
ADMIN_PASSWORD = "admin password 1"

BEARER = ("owner", "other", "admin", "signed_out", "anonymous")
LINK = ("owner", "other", "admin", "signed_out", "anonymous", "guest", "wrong_key")
MANAGE = ("owner", "other", "admin", "signed_out", "anonymous", "visitor", "wrong_t",
          "foreign_t")
BASIC = ("owner", "owner_app", "revoked_app", "wrong_password", "thief", "other", "admin",
         "anonymous")
KINDS = {"bearer": BEARER, "link": LINK, "manage": MANAGE, "basic": BASIC}
# Who is compared with "a missing one" in the hidden tests, per kind.
HIDDEN_ACTORS = {"bearer": ("other", "admin"), "link": ("wrong_key",),
                 "manage": ("other", "admin", "wrong_t", "foreign_t"),
                 "basic": ("other", "admin")}

# Outcomes: (status or set of statuses, code or None when any code is acceptable).
OK = (200, None)
NO_TOKEN = (401, "M_MISSING_TOKEN")
BAD_TOKEN = (401, "M_UNKNOWN_TOKEN")
NOT_FOUND = (404, "M_NOT_FOUND")
JOINED = ("joined", None)


def refused(code: str):
    return ("refused", code)


# CalDAV errors are text/plain: the code is the text.
DAV_NOT_FOUND = (404, "not found")
DAV_NO_AUTH = (401, "authentication required")
DAV_BAD_AUTH = (401, "wrong user name or password")
MULTISTATUS = (207, None)


def bearer(default, **kw) -> dict:
    """`default` for the signed-in actors, 401 for the signed-out token and no token."""
    out = {a: default for a in ("owner", "other", "admin")}
    out.update(signed_out=BAD_TOKEN, anonymous=NO_TOKEN)
    out.update(kw)
    return out


def owner_only(deny=NOT_FOUND, **kw) -> dict:
    return bearer(deny, owner=OK, **kw)


def link(default, **kw) -> dict:
    """Meetings: `default` for everyone holding the right key (signed in or guest)."""
    out = {a: default for a in ("owner", "other", "admin", "signed_out", "guest")}
    out.update(wrong_key=NOT_FOUND, anonymous=NOT_FOUND)
    out.update(kw)
    return out


def manage(**kw) -> dict:
    """The manage link: 404 unless told otherwise (no `t`, a wrong one, another booking's)."""
    out = {a: NOT_FOUND for a in MANAGE}
    out.update(kw)
    return out


def basic(default, **kw) -> dict:
    """CalDAV: `default` for the valid credentials, 401 for the others."""
    out = {a: default for a in ("owner", "owner_app", "other", "admin")}
    out.update(revoked_app=DAV_BAD_AUTH, wrong_password=DAV_BAD_AUTH, thief=DAV_BAD_AUTH,
               anonymous=DAV_NO_AUTH)
    out.update(kw)
    return out


def dav_owner_only(ok) -> dict:
    return basic(DAV_NOT_FOUND, owner=ok, owner_app=ok)


# -- time ---------------------------------------------------------------------------------------

TODAY = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
EVENT_DAY = TODAY + dt.timedelta(days=200)  # the owner's events: far from the booking slots
FIRST_SLOT = TODAY + dt.timedelta(days=3)  # bookings take every half hour from there on
SLOTS_DAY = TODAY + dt.timedelta(days=30)  # a day no booking reaches


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def ical_time(t: dt.datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%SZ")


WINDOW = {"from": iso(EVENT_DAY - dt.timedelta(days=1)),
          "to": iso(EVENT_DAY + dt.timedelta(days=2))}
ALL_WEEK = {"weekly": {d: [["00:00", "24:00"]]
                       for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}


def vevent(uid: str, summary: str, hour: int = 14) -> bytes:
    start = EVENT_DAY + dt.timedelta(hours=hour)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ruche authz//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{ical_time(start)}\r\n"
            f"DTEND:{ical_time(start + dt.timedelta(hours=1))}\r\nSUMMARY:{summary}\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n").encode()


# -- WebDAV bodies ------------------------------------------------------------------------------

XML = {"Content-Type": "application/xml; charset=utf-8"}
ICS = {"Content-Type": "text/calendar; charset=utf-8"}
PROPFIND_PRINCIPAL = ('<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop>'
                      '</d:propfind>')
PROPFIND_NAMES = ('<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/><d:resourcetype/>'
                  '</d:prop></d:propfind>')
CALENDAR_QUERY = ('<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
                  '<d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter>'
                  '<c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
                  f'<c:time-range start="{ical_time(EVENT_DAY)}" '
                  f'end="{ical_time(EVENT_DAY + dt.timedelta(days=1))}"/></c:comp-filter>'
                  '</c:comp-filter></c:filter></c:calendar-query>')


FREE_BUSY = ('<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav">'
             f'<c:time-range start="{ical_time(EVENT_DAY)}" '
             f'end="{ical_time(EVENT_DAY + dt.timedelta(days=1))}"/></c:free-busy-query>')


def multiget(*hrefs: str) -> str:
    return ('<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
            '<d:prop><d:getetag/><c:calendar-data/></d:prop>'
            + "".join(f"<d:href>{h}</d:href>" for h in hrefs) + "</c:calendar-multiget>")


def mkcalendar(name: str) -> str:
    return ('<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set>'
            f'<d:prop><d:displayname>{name}</d:displayname></d:prop></d:set></c:mkcalendar>')


def proppatch(name: str) -> str:
    return ('<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop>'
            f'<d:displayname>{name}</d:displayname></d:prop></d:set></d:propertyupdate>')


# -- answers ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Answer:
    """One answer, HTTP or signalling, reduced to what the table compares."""
    status: Any              # an HTTP status, or "joined" / "refused" for a WebSocket join
    code: str | None         # errcode, signalling code, DAV precondition or DAV error text
    text: str | None         # the human error text
    body: bytes
    json: Any = None
    headers: Any = None
    closed: bool | None = None   # WebSocket: closed by the server after a refusal

    @property
    def denied(self) -> bool:
        return self.status == "refused" or (isinstance(self.status, int) and self.status >= 400)


def answer_of(resp: Response) -> Answer:
    j = resp.json
    ctype = (resp.header("Content-Type") or "").lower()
    code = text = None
    if isinstance(j, dict) and "errcode" in j:
        code, text = j["errcode"], j.get("error")
    elif resp.status >= 400 and ctype.startswith("text/plain"):
        code = text = resp.body.decode("utf-8", "replace").strip()
    elif resp.status >= 400 and "xml" in ctype:
        text = resp.body.decode("utf-8", "replace")
        m = re.search(r"<D:error[^>]*>\s*<([\w:-]+)", text)
        code = m.group(1) if m else None
    return Answer(resp.status, code, text, resp.body, j, resp.headers)


# -- the world ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Actor:
    localpart: str
    uid: str
    token: str
    password: str = PASSWORD


class World:
    """Everything the rows act on, built once per module."""

    def __init__(self, srv, admin: str):
        self.srv = srv
        self.tag = uuid.uuid4().hex[:10]
        tag = self.tag
        self.slot = 0
        self.owner, self.other = self.new_actor(), self.new_actor()
        got = login(srv, admin, ADMIN_PASSWORD).json
        self.admin = Actor(admin, got["user_id"], got["access_token"], ADMIN_PASSWORD)
        self.nobody = f"nobody-{uuid.uuid4().hex[:10]}"
        # The owner's earlier session, signed out.
        self.stale_token = login(srv, self.owner.localpart).json["access_token"]
        assert call(srv, "POST", client_path("/logout"), {}, token=self.stale_token).status == 200
        self.owner_name = f"Owner Person {tag}"
        self.ok("PUT", client_path(f"/profile/{urllib.parse.quote(self.owner.uid)}/displayname"),
                {"displayname": self.owner_name})

        # App passwords: one in use, one revoked.
        self.app_name = f"Laptop {tag}"
        got = self.ok("POST", "/_ruche/v1/app_passwords", {"name": self.app_name}).json
        self.app_id, self.app_password = got["id"], got["password"]
        self.revoked_name = f"Old phone {tag}"
        got = self.ok("POST", "/_ruche/v1/app_passwords", {"name": self.revoked_name}).json
        self.revoked_password = got["password"]
        self.ok("DELETE", f"/_ruche/v1/app_passwords/{got['id']}")

        # Calendars: the default one with an event (an attendee), a second one by MKCALENDAR
        # with its own event, and an object written over CalDAV.
        self.summary, self.place = f"Dentist {tag}", f"Clinic {tag}"
        self.notes = f"Private notes {tag}"
        self.attendee_email, self.attendee_name = f"attendee-{tag}@example.org", f"Att {tag}"
        got = self.ok("POST", "/_ruche/v1/calendars/personal/events", {
            "summary": self.summary, "location": self.place, "description": self.notes,
            "start": iso(EVENT_DAY + dt.timedelta(hours=9)),
            "end": iso(EVENT_DAY + dt.timedelta(hours=10)),
            "attendees": [{"email": self.attendee_email, "name": self.attendee_name}]}).json
        self.event_obj, self.event_uid = got["object"], got["uid"]
        self.work = f"work-{tag}"
        self.work_name = f"Work calendar {tag}"
        self.dav("MKCALENDAR", f"{self.home(self.owner)}{self.work}/", mkcalendar(self.work_name),
                 expect=201)
        self.work_summary = f"Board review {tag}"
        self.work_obj = self.new_event(self.work, self.work_summary)
        self.dav_summary = f"Dav summary {tag}"
        self.dav_obj = f"dav-{tag}.ics"
        self.dav("PUT", f"{self.home(self.owner)}personal/{self.dav_obj}",
                 vevent(f"dav-{tag}", self.dav_summary), ICS, expect=201)

        # Meetings: one that admits guests, one for signed-in users only.
        self.open_title, self.closed_title = f"Open meeting {tag}", f"Members meeting {tag}"
        self.open_meeting = self.new_meeting(self.open_title, True)
        self.closed_meeting = self.new_meeting(self.closed_title, False)

        # Booking types and bookings.
        self.notify_email = f"notify-{tag}@example.org"
        self.type_title, self.type_description = f"Consultation {tag}", f"Come and see {tag}"
        self.slug = f"consult-{tag}"
        self.type_id = self.new_type(self.slug, title=self.type_title,
                                     description=self.type_description,
                                     notify_email=self.notify_email)
        self.approval_slug = f"approve-{tag}"
        self.new_type(self.approval_slug, requires_confirmation=True)
        self.visitor_name, self.visitor_email = f"Visitor {tag}", f"visitor-{tag}@example.org"
        self.booking_notes = f"Booking notes {tag}"
        self.booking, self.booking_t = self.new_booking()
        self.booking_event = f"ruche-booking-{self.booking}.ics"
        assert self.booking_event in {e["object"] for e in self.events(
            self.owner, "personal", **{"from": iso(FIRST_SLOT), "to": iso(
                FIRST_SLOT + dt.timedelta(days=30))})}, "the booking's event is not named so"
        _, self.foreign_t = self.new_booking()

        # What must never reach anyone but the owner (credentials included) ...
        self.private = [self.summary, self.place, self.notes, self.attendee_email,
                        self.attendee_name, self.work_name, self.work_summary, self.dav_summary,
                        self.app_name, self.revoked_name, self.notify_email, self.visitor_name,
                        self.visitor_email, self.booking_notes, self.app_password,
                        self.booking_t, self.foreign_t, self.open_meeting[1],
                        self.closed_meeting[1], self.stale_token]
        # ... and what is shown on purpose (public booking page, join screen), never in errors.
        self.secrets = self.private + [self.owner_name, self.open_title, self.closed_title,
                                       self.type_title, self.type_description]

    # -- building blocks --

    def new_actor(self) -> Actor:
        name = unique_name("authz")
        got = register(self.srv, name, PASSWORD).json
        return Actor(name, got["user_id"], got["access_token"])

    def ok(self, method: str, path: str, body=None, who: Actor | None = None) -> Response:
        resp = call(self.srv, method, path, body, token=(who or self.owner).token)
        assert resp.status == 200, (method, path, resp)
        return resp

    def home(self, who: Actor) -> str:
        return f"/dav/calendars/{who.localpart}/"

    def dav(self, method: str, path: str, body=None, headers=None, who: Actor | None = None,
            expect: int | None = None) -> Response:
        who = who or self.owner
        hdrs = {**basic_auth(who.localpart, who.password), **(headers or XML)}
        raw = body.encode() if isinstance(body, str) else body
        resp = call(self.srv, method, path, raw_body=raw, headers=hdrs)
        if expect is not None:
            assert resp.status == expect, (method, path, resp)
        return resp

    def new_event(self, cal: str, summary: str) -> str:
        return self.ok("POST", f"/_ruche/v1/calendars/{cal}/events", {
            "summary": summary, "start": iso(EVENT_DAY + dt.timedelta(hours=11)),
            "end": iso(EVENT_DAY + dt.timedelta(hours=12))}).json["object"]

    def events(self, who: Actor, cal: str, **window) -> list[dict]:
        path = query(f"/_ruche/v1/calendars/{cal}/events", **(window or WINDOW))
        return self.ok("GET", path, who=who).json["events"]

    def new_meeting(self, title: str, guests: bool) -> tuple[str, str]:
        got = self.ok("POST", "/_ruche/v1/meetings", {"title": title, "allow_guests": guests})
        url = urllib.parse.urlparse(got.json["url"])
        return got.json["id"], urllib.parse.parse_qs(url.query)["k"][0]

    def new_type(self, slug: str, **fields) -> str:
        body = {"slug": slug, "title": fields.pop("title", f"Type {slug}"), "duration_min": 30,
                "timezone": "UTC", "location": {"kind": "video"}, "availability": ALL_WEEK,
                "min_notice_min": 0, "horizon_days": 730, **fields}
        return self.ok("POST", "/_ruche/v1/booking_types", body).json["id"]

    def next_slot(self) -> str:
        """A slot nobody has used: every half hour from FIRST_SLOT on."""
        self.slot += 1
        return iso(FIRST_SLOT + dt.timedelta(minutes=30 * self.slot))

    def new_booking(self, slug: str | None = None) -> tuple[str, str]:
        resp = call(self.srv, "POST", f"/_ruche/v1/book/{self.owner.localpart}/"
                                      f"{slug or self.slug}",
                    {"start": self.next_slot(), "name": self.visitor_name,
                     "email": self.visitor_email, "notes": self.booking_notes,
                     "consent": True})
        assert resp.status == 200, resp
        manage_url = urllib.parse.urlparse(resp.json["manage_url"])
        return resp.json["id"], urllib.parse.parse_qs(manage_url.query)["t"][0]

    def owners_booking(self, booking: str) -> dict:
        listed = self.ok("GET", "/_ruche/v1/bookings").json["bookings"]
        return next(b for b in listed if b["id"] == booking)

    def app_password_works(self, who: Actor, password: str) -> bool:
        resp = call(self.srv, "PROPFIND", self.home(who), raw_body=PROPFIND_NAMES.encode(),
                    headers={**basic_auth(who.localpart, password), **XML, "Depth": "0"})
        assert resp.status in (207, 401), resp
        return resp.status == 207

    def public_type(self, owner: str, slug: str) -> Response:
        return call(self.srv, "GET", f"/_ruche/v1/book/{owner}/{slug}")

    def actor(self, name: str) -> Actor | None:
        return {"owner": self.owner, "other": self.other, "admin": self.admin}.get(name)


# -- one request --------------------------------------------------------------------------------


def flip(secret: str) -> str:
    """The same secret with its first character changed (the last one may carry only a few
    bits of a base64 value)."""
    return ("B" if secret[0] == "A" else "A") + secret[1:]


class Ctx:
    """What a row's request is built from: the actor and the things it targets (overridable, so
    the same request can be aimed at a resource that does not exist)."""

    def __init__(self, w: World, actor: str):
        self.w, self.actor = w, actor
        self.user = w.owner.localpart            # whose /dav/ and /book/ URLs
        self.cal, self.obj = "personal", w.event_obj
        self.meeting, self.meeting_key = w.open_meeting
        self.booking, self.booking_t = w.booking, w.booking_t
        self.type_id, self.app_id = w.type_id, w.app_id
        self.dav_obj, self.dav_cal = w.dav_obj, "personal"
        self.sent: list[str] = []

    # credentials of each kind of actor
    @property
    def token(self) -> str | None:
        if self.actor == "signed_out":
            return self.w.stale_token
        who = self.w.actor(self.actor)
        return who.token if who else None

    @property
    def key(self) -> str | None:
        if self.actor == "anonymous":
            return None
        wrong = self.actor == "wrong_key" or getattr(self, "everyone_wrong", False)
        return flip(self.meeting_key) if wrong else self.meeting_key

    @property
    def t(self) -> str | None:
        return {"visitor": self.booking_t, "wrong_t": flip(self.booking_t),
                "foreign_t": self.w.foreign_t}.get(self.actor)

    @property
    def basic(self) -> tuple[str, str] | None:
        w = self.w
        return {"owner": (w.owner.localpart, PASSWORD),
                "owner_app": (w.owner.localpart, w.app_password),
                "revoked_app": (w.owner.localpart, w.revoked_password),
                "wrong_password": (w.owner.localpart, "not the password"),
                "thief": (w.other.localpart, w.app_password),
                "other": (w.other.localpart, PASSWORD),
                "admin": (w.admin.localpart, ADMIN_PASSWORD)}.get(self.actor)

    @property
    def dav_self(self) -> str:
        """The user name the actor signs in to CalDAV with (the owner's for anonymous)."""
        return self.basic[0] if self.basic else self.w.owner.localpart

    # requests
    def call(self, method: str, path: str, body=None, **kw) -> Response:
        self.sent.append(urllib.parse.unquote(path) + (json.dumps(body) if body else ""))
        return call(self.w.srv, method, path, body, token=self.token, **kw)

    def with_t(self, path: str) -> str:
        return query(path, t=self.t) if self.t is not None else path

    def dav(self, method: str, path: str, body: str | bytes | None = None,
            headers: dict | None = None) -> Response:
        hdrs = dict(headers or XML)
        if self.basic:
            hdrs.update(basic_auth(*self.basic))
            self.sent.append(self.basic[1])
        raw = body.encode() if isinstance(body, str) else body
        self.sent.append(path + (raw or b"").decode())
        return call(self.w.srv, method, path, raw_body=raw, headers=hdrs)

    def join(self) -> Answer:
        """The first signalling message, and the server's first answer to it."""
        msg: dict = {"type": "join"}
        if self.key is not None:
            msg["key"] = self.key
        if self.token:
            msg["access_token"] = self.token
        else:
            msg["display_name"] = f"Guest {self.actor}"
        self.sent.append(json.dumps(msg))
        return asyncio.run(asyncio.wait_for(ws_join(self.w.srv, self.meeting, msg), 30))


async def ws_join(srv, meeting: str, msg: dict) -> Answer:
    url = f"ws://{srv.host}:{srv.port}/_ruche/v1/meetings/{urllib.parse.quote(meeting)}/ws"
    async with websockets.connect(url, open_timeout=10) as ws:
        await ws.send(json.dumps(msg))
        raw = await asyncio.wait_for(ws.recv(), 10)
        first = json.loads(raw)
        if first["type"] == "joined":
            return Answer("joined", None, None, raw.encode(), first)
        try:
            await asyncio.wait_for(ws.recv(), 10)
            closed = False
        except websockets.ConnectionClosed:
            closed = True
        return Answer("refused" if first["type"] == "error" else first["type"],
                      first.get("code"), first.get("message"), raw.encode(), first,
                      closed=closed)


@dataclasses.dataclass
class Row:
    family: str
    what: str
    request: Callable[[Ctx], Response | Answer]
    expect: dict
    prepare: Callable[[Ctx], None] | None = None              # per-test setup on ctx
    verify: Callable[[Ctx, Answer], None] | None = None       # effects, after the status check
    hidden: dict[str, Callable[[World], dict]] | None = None  # label -> overrides of a missing one
    shows: tuple[str, ...] = ("owner", "owner_app")           # who may see the owner's data
    hidden_actors: tuple[str, ...] = ()   # who runs the hidden tests (default: by kind)
    xfail: dict[str, str] = dataclasses.field(default_factory=dict)   # actor -> server bug

    @property
    def id(self) -> str:
        return f"{self.family}: {self.what}"

    @property
    def kind(self) -> str:
        for kind, actors in KINDS.items():
            if set(self.expect) == set(actors):
                return kind
        raise AssertionError(f"{self.id}: its actors are no known kind: {sorted(self.expect)}")


def run(row: Row, w: World, actor: str, **overrides) -> tuple[Ctx, Answer]:
    c = Ctx(w, actor)
    if row.prepare:
        row.prepare(c)
    for key, value in overrides.items():
        setattr(c, key, value)
    got = row.request(c)
    return c, got if isinstance(got, Answer) else answer_of(got)


def leaked(c: Ctx, ans: Answer, secrets: list[str]) -> list[str]:
    """The secrets found in the answer that the request itself did not carry."""
    body = ans.body.decode("utf-8", "replace")
    sent = "\n".join(c.sent)
    return [s for s in secrets if s in body and s not in sent]


def probe() -> str:
    return f"probe {uuid.uuid4().hex[:12]}"


# -- per-row setup and effect checks -------------------------------------------------------------


def prep_fresh_event(c: Ctx):
    c.fresh_summary = probe()
    c.obj = c.w.new_event("personal", c.fresh_summary)


def prep_fresh_work_event(c: Ctx):
    prep_fresh_event(c)
    c.cal, c.obj = c.w.work, c.w.new_event(c.w.work, c.fresh_summary)


def owner_objects(c: Ctx, cal: str) -> dict[str, str]:
    return {e["object"]: e["summary"] for e in c.w.events(c.w.owner, cal)}


def check_event_kept(c: Ctx, ans: Answer):
    """After a PUT or DELETE of the owner's fresh event: changed only by the owner."""
    objects = owner_objects(c, c.cal)
    if c.actor == "owner" and ans.status == 200:  # a PUT sets new_summary; a DELETE removes it
        assert objects.get(c.obj) == getattr(c, "new_summary", None), (c.actor, objects)
    else:
        assert objects.get(c.obj) == c.fresh_summary, (c.actor, ans, objects)


def check_event_created(cal_of: Callable[[Ctx], str]):
    """After a POST of an event: in the actor's own calendar if allowed, never in the owner's
    unless the actor is the owner."""
    def verify(c: Ctx, ans: Answer):
        cal = cal_of(c)
        in_owners = c.new_summary in owner_objects(c, cal).values()
        assert in_owners == (c.actor == "owner" and ans.status == 200), (c.actor, ans)
        if ans.status == 200 and c.actor != "owner":
            mine = [e["summary"] for e in c.w.events(c.w.actor(c.actor), cal)]
            assert c.new_summary in mine, (c.actor, mine)
    return verify


def post_event(c: Ctx) -> Response:
    c.new_summary = probe()
    return c.call("POST", f"/_ruche/v1/calendars/{c.cal}/events", {
        "summary": c.new_summary, "start": iso(EVENT_DAY + dt.timedelta(hours=15)),
        "end": iso(EVENT_DAY + dt.timedelta(hours=16))})


def put_event(c: Ctx) -> Response:
    c.new_summary = probe()
    return c.call("PUT", f"/_ruche/v1/calendars/{c.cal}/events/{c.obj}", {
        "summary": c.new_summary, "start": iso(EVENT_DAY + dt.timedelta(hours=17)),
        "end": iso(EVENT_DAY + dt.timedelta(hours=18))})


def prep_uid_twin(ics_attendee: bool):
    """A fresh event of the owner, and an object of the actor's own bearing its UID (as an
    invitee's copy does; anyone can write one over CalDAV), naming the owner as an invitee
    (`ics_attendee`: in the stored iCalendar already)."""
    def prepare(c: Ctx):
        prep_fresh_event(c)
        who = c.w.actor(c.actor)
        if c.actor == "owner" or who is None:
            c.my_obj = c.obj
            return
        uid = next(e["uid"] for e in c.w.events(c.w.owner, "personal") if e["object"] == c.obj)
        c.my_obj = f"twin-{uuid.uuid4().hex[:10]}.ics"
        text = vevent(uid, f"twin of {c.fresh_summary}", hour=20)
        if ics_attendee:
            line = f"ATTENDEE:urn:x-ruche:user:{c.w.owner.uid}\r\nEND:VEVENT".encode()
            text = text.replace(b"END:VEVENT", line)
        c.w.dav("PUT", f"{c.w.home(who)}personal/{c.my_obj}", text, ICS, who=who, expect=201)
    return prepare


def prep_invitation_copy(c: Ctx):
    """A fresh event of the owner inviting the actor (the other user when the actor is the
    owner); `my_obj` is the actor's copy of it."""
    who = c.w.actor(c.actor)
    guest = c.w.other if c.actor in ("owner", "signed_out", "anonymous") else who
    c.fresh_summary = probe()
    c.obj = c.w.ok("POST", "/_ruche/v1/calendars/personal/events", {
        "summary": c.fresh_summary, "start": iso(EVENT_DAY + dt.timedelta(hours=11)),
        "end": iso(EVENT_DAY + dt.timedelta(hours=12)),
        "attendees": [{"user_id": guest.uid}]}).json["object"]
    if c.actor == "owner" or who is None:
        c.my_obj = c.obj
        return
    c.my_obj = next(e["object"] for e in c.w.events(who, "personal")
                    if e["summary"] == c.fresh_summary)


def put_own_event_inviting_the_owner(c: Ctx) -> Response:
    c.new_summary = probe()
    return c.call("PUT", f"/_ruche/v1/calendars/personal/events/{c.my_obj}", {
        "summary": c.new_summary, "start": iso(EVENT_DAY + dt.timedelta(hours=19)),
        "end": iso(EVENT_DAY + dt.timedelta(hours=20)),
        "attendees": [{"user_id": c.w.owner.uid}]})


def check_calendars(c: Ctx, ans: Answer):
    if ans.status != 200:
        return
    ids = [cal["id"] for cal in ans.json["calendars"]]
    assert (c.w.work in ids) == (c.actor == "owner"), (c.actor, ids)


def check_events_listed(c: Ctx, ans: Answer):
    if ans.status != 200:
        return
    uids = {e["uid"] for e in ans.json["events"]}
    assert (c.w.event_uid in uids) == (c.actor == "owner"), (c.actor, uids)


def check_work_events(c: Ctx, ans: Answer):
    if ans.status == 200:
        assert c.w.work_summary in [e["summary"] for e in ans.json["events"]], ans


def check_booking_event_kept(c: Ctx, ans: Answer):
    window = {"from": iso(FIRST_SLOT), "to": iso(FIRST_SLOT + dt.timedelta(days=30))}
    objects = {e["object"] for e in c.w.events(c.w.owner, "personal", **window)}
    assert c.w.booking_event in objects, (c.actor, ans)
    assert c.w.owners_booking(c.w.booking)["status"] == "confirmed"


def prep_app_password(c: Ctx):
    got = c.w.ok("POST", "/_ruche/v1/app_passwords", {"name": probe()}).json
    c.app_id, c.app_pw = got["id"], got["password"]


def check_app_password_revoked(c: Ctx, ans: Answer):
    works = c.w.app_password_works(c.w.owner, c.app_pw)
    assert works == (ans.status != 200), (c.actor, ans, works)


def owners_app_ids(w: World) -> set[str]:
    return {p["id"] for p in w.ok("GET", "/_ruche/v1/app_passwords").json["app_passwords"]}


def prep_owners_app_ids(c: Ctx):
    c.before = owners_app_ids(c.w)


def check_app_password_created(c: Ctx, ans: Answer):
    after = owners_app_ids(c.w)
    if ans.status == 200:
        who = c.w.actor(c.actor)
        assert c.w.app_password_works(who, ans.json["password"]), ans
        assert (ans.json["id"] in after) == (c.actor == "owner"), (c.actor, after)
        c.w.ok("DELETE", f"/_ruche/v1/app_passwords/{ans.json['id']}", who=who)
    else:
        assert after == c.before, (c.actor, after, c.before)


def check_app_passwords_listed(c: Ctx, ans: Answer):
    if ans.status == 200:
        ids = {p["id"] for p in ans.json["app_passwords"]}
        assert (c.w.app_id in ids) == (c.actor == "owner"), (c.actor, ids)
        assert all("password" not in p for p in ans.json["app_passwords"]), ans


def prep_type(c: Ctx):
    c.slug = f"tmp-{uuid.uuid4().hex[:10]}"
    c.type_id = c.w.new_type(c.slug, title=probe())
    c.title = c.w.public_type(c.w.owner.localpart, c.slug).json["title"]


def check_type_kept(deleted: bool):
    def verify(c: Ctx, ans: Answer):
        got = c.w.public_type(c.w.owner.localpart, c.slug)
        changed = c.actor == "owner" and ans.status == 200
        if deleted:
            assert got.status == (404 if changed else 200), (c.actor, ans, got)
        else:
            assert got.status == 200 and (got.json["title"] == c.title) != changed, (c.actor, got)
    return verify


def post_type(c: Ctx) -> Response:
    c.new_slug = f"new-{uuid.uuid4().hex[:10]}"
    return c.call("POST", "/_ruche/v1/booking_types", {
        "slug": c.new_slug, "title": probe(), "availability": ALL_WEEK})


def check_type_created(c: Ctx, ans: Answer):
    if ans.status == 200:
        who = c.w.actor(c.actor).localpart
        assert ans.json["url"] == f"/book/{who}/{c.new_slug}", ans
        assert c.w.public_type(who, c.new_slug).status == 200
    got = c.w.public_type(c.w.owner.localpart, c.new_slug)
    assert got.status == (200 if c.actor == "owner" and ans.status == 200 else 404), got


def check_types_listed(c: Ctx, ans: Answer):
    if ans.status == 200:
        ids = {t["id"] for t in ans.json["booking_types"]}
        assert (c.w.type_id in ids) == (c.actor == "owner"), (c.actor, ids)


def check_public_type(c: Ctx, ans: Answer):
    assert ans.json["title"] == c.w.type_title and ans.json["owner_name"] == c.w.owner_name, ans
    assert "notify_email" not in ans.json and "availability" not in ans.json, ans


def check_slots(c: Ctx, ans: Answer):
    assert ans.json["slots"] and ans.json["timezone"] == "UTC", ans


def book(c: Ctx) -> Response:
    return c.call("POST", f"/_ruche/v1/book/{c.user}/{c.w.slug}", {
        "start": c.w.next_slot(), "name": f"Booker {c.actor}", "email": "booker@example.org",
        "consent": True})


def check_booked(c: Ctx, ans: Answer):
    assert c.w.owners_booking(ans.json["id"])["name"] == f"Booker {c.actor}"


def check_bookings_listed(c: Ctx, ans: Answer):
    if ans.status == 200:
        ids = {b["id"] for b in ans.json["bookings"]}
        assert (c.w.booking in ids) == (c.actor == "owner"), (c.actor, ids)


def prep_booking(c: Ctx):
    c.booking, c.booking_t = c.w.new_booking()


def prep_pending_booking(c: Ctx):
    c.booking, c.booking_t = c.w.new_booking(c.w.approval_slug)
    assert c.w.owners_booking(c.booking)["status"] == "pending"


def check_status(allowed: tuple[str, ...], after: str, before: str):
    def verify(c: Ctx, ans: Answer):
        got = c.w.owners_booking(c.booking)["status"]
        want = after if c.actor in allowed and ans.status == 200 else before
        assert got == want, (c.actor, ans, got)
        if ans.status == 200:
            assert ans.json["id"] == c.booking and ans.json["status"] == after, ans
    return verify


def reschedule(c: Ctx) -> Response:
    c.new_start = c.w.next_slot()
    return c.call("POST", c.with_t(f"/_ruche/v1/bookings/{c.booking}/reschedule"),
                  {"start": c.new_start})


def check_rescheduled(c: Ctx, ans: Answer):
    got = c.w.owners_booking(c.booking)["start"]
    moved = c.actor == "visitor" and ans.status == 200
    assert (got == c.new_start) == moved, (c.actor, ans, got)


def check_managed(c: Ctx, ans: Answer):
    if ans.status == 200:
        assert ans.json["id"] == c.booking and ans.json["email"] == c.w.visitor_email, ans
        assert ans.json["booking_type"]["slug"] == c.w.slug, ans


def create_meeting(c: Ctx) -> Response:
    return c.call("POST", "/_ruche/v1/meetings", {"title": probe(), "allow_guests": False})


def check_meeting_created(c: Ctx, ans: Answer):
    if ans.status == 200:
        key = urllib.parse.parse_qs(urllib.parse.urlparse(ans.json["url"]).query)["k"][0]
        got = call(c.w.srv, "GET", query(f"/_ruche/v1/meetings/{ans.json['id']}", k=key))
        assert got.status == 200 and got.json["title"] == ans.json["title"], got


def describe_meeting(c: Ctx) -> Response:
    path = f"/_ruche/v1/meetings/{c.meeting}"
    return c.call("GET", query(path, k=c.key) if c.key is not None else path)


def check_described(c: Ctx, ans: Answer):
    if ans.status == 200:
        assert ans.json["id"] == c.meeting and ans.json["title"] == c.w.open_title, ans


def check_joined(c: Ctx, ans: Answer):
    if ans.status == "joined":
        title = c.w.open_title if c.meeting == c.w.open_meeting[0] else c.w.closed_title
        assert ans.json["title"] == title, ans
    else:
        assert ans.closed, ("the socket stays open after a refused join", c.actor, ans)


def closed_meeting(c: Ctx):
    c.meeting, c.meeting_key = c.w.closed_meeting


def wrong_key_for_everyone(c: Ctx):
    closed_meeting(c)
    c.everyone_wrong = True


# CalDAV


def dav_path(c: Ctx, tail: str = "") -> str:
    return f"/dav/calendars/{c.user}/{tail}"


def obj_path(c: Ctx) -> str:
    return dav_path(c, f"{c.dav_cal}/{c.dav_obj}")


def owner_dav(c: Ctx, method: str, path: str, body=None, **headers) -> Response:
    """The owner reading back their own CalDAV resource."""
    return c.w.dav(method, path, body, {**XML, **headers})


def check_free_busy(c: Ctx, ans: Answer):
    if ans.status == 200:
        busy = ical_time(EVENT_DAY + dt.timedelta(hours=14))  # the owner's CalDAV object
        text = ans.body.decode().replace("\r\n ", "")
        periods = re.findall(r"^FREEBUSY[^:]*:(.*)$", text, re.M)
        spans = [p.split("/") for line in periods for p in line.strip().split(",")]
        assert any(start <= busy < end for start, end in spans), (spans, ans)


def check_principal(c: Ctx, ans: Answer):
    if ans.status == 207:
        assert f"/dav/principals/{c.dav_self}/".encode() in ans.body, (c.actor, ans)


def check_home(c: Ctx, ans: Answer):
    if ans.status == 207:
        assert f"/{c.w.work}/".encode() in ans.body and c.w.work_name.encode() in ans.body, ans


def check_dav_object(c: Ctx, ans: Answer):
    if ans.status in (200, 207):
        assert c.w.dav_summary.encode() in ans.body, ans


def prep_dav_object(c: Ctx):
    c.fresh_summary = probe()
    c.dav_obj = f"fresh-{uuid.uuid4().hex[:10]}.ics"
    c.w.dav("PUT", obj_path(c), vevent(c.dav_obj, c.fresh_summary), ICS, expect=201)


def prep_new_dav_name(c: Ctx):
    c.dav_obj = f"new-{uuid.uuid4().hex[:10]}.ics"


def dav_put(c: Ctx) -> Response:
    c.new_summary = probe()
    return c.dav("PUT", obj_path(c), vevent(c.dav_obj, c.new_summary), ICS)


def check_dav_written(created: bool):
    def verify(c: Ctx, ans: Answer):
        got = owner_dav(c, "GET", obj_path(c))
        allowed = c.actor in ("owner", "owner_app") and ans.status in (201, 204)
        if created and not allowed:
            assert got.status == 404, (c.actor, ans, got)
        else:
            assert got.status == 200, (c.actor, ans, got)
            want = c.new_summary if allowed else c.fresh_summary
            assert f"SUMMARY:{want}".encode() in got.body, (c.actor, ans, got)
    return verify


def check_dav_deleted(c: Ctx, ans: Answer):
    got = owner_dav(c, "GET", obj_path(c))
    allowed = c.actor in ("owner", "owner_app") and ans.status == 204
    assert got.status == (404 if allowed else 200), (c.actor, ans, got)


def prep_dav_calendar(c: Ctx):
    c.dav_cal = f"cal-{uuid.uuid4().hex[:10]}"
    c.cal_name = probe()
    c.w.dav("MKCALENDAR", dav_path(c, c.dav_cal + "/"), mkcalendar(c.cal_name), expect=201)


def prep_new_calendar_name(c: Ctx):
    c.dav_cal = f"cal-{uuid.uuid4().hex[:10]}"


def owners_calendar_name(c: Ctx) -> str | None:
    got = owner_dav(c, "PROPFIND", dav_path(c, c.dav_cal + "/"), PROPFIND_NAMES, Depth="0")
    if got.status == 404:
        return None
    assert got.status == 207, got
    return got.body.decode().split("displayname>", 1)[1].split("<", 1)[0]


def check_calendar_made(c: Ctx, ans: Answer):
    made = c.actor in ("owner", "owner_app") and ans.status == 201
    assert (owners_calendar_name(c) is not None) == made, (c.actor, ans)


def check_calendar_renamed(c: Ctx, ans: Answer):
    renamed = c.actor in ("owner", "owner_app") and ans.status == 207
    assert owners_calendar_name(c) == ("Renamed" if renamed else c.cal_name), (c.actor, ans)


def check_calendar_deleted(c: Ctx, ans: Answer):
    deleted = c.actor in ("owner", "owner_app") and ans.status == 204
    assert (owners_calendar_name(c) is None) == deleted, (c.actor, ans)


def own_home_multiget(c: Ctx) -> Response:
    owners = f"/dav/calendars/{c.w.owner.localpart}/personal/{c.w.dav_obj}"
    return c.dav("REPORT", f"/dav/calendars/{c.dav_self}/", multiget(owners), {**XML, "Depth": "1"})


def check_multiget(c: Ctx, ans: Answer):
    if ans.status != 207:
        return
    if c.actor in ("owner", "owner_app"):
        assert c.w.dav_summary.encode() in ans.body, ans
    else:
        assert b"calendar-data" not in ans.body and b"404 Not Found" in ans.body, (c.actor, ans)


# -- missing resources (for the hidden tests) ----------------------------------------------------


def missing(**fields) -> Callable[[World], dict]:
    return lambda w: {k: (v(w) if callable(v) else v) for k, v in fields.items()}


NOBODY = {"a user who does not exist": missing(user=lambda w: w.nobody)}
MISSING_CALENDAR = {"a calendar that does not exist": missing(cal="nosuch-calendar")}
MISSING_EVENT = {"an event that does not exist": missing(obj="nosuchevent0000.ics")}
MISSING_BOOKING = {"a booking that does not exist": missing(booking="NoSuchBooking0")}
MISSING_TYPE = {"a booking type that does not exist": missing(type_id="NoSuchType00")}
MISSING_APP_PASSWORD = {"an app password that does not exist": missing(app_id="NoSuchAppPw0")}
MISSING_MEETING = {"a meeting that does not exist": missing(meeting="NoSuchMeeting0")}
DAV_MISSING_CAL = {**NOBODY, "a calendar that does not exist": missing(dav_cal="nosuch-cal")}
DAV_MISSING_OBJ = {**DAV_MISSING_CAL,
                   "an object that does not exist": missing(dav_obj="nosuch-object.ics")}


# -- the table ----------------------------------------------------------------------------------


ROWS = [
    # meetings
    Row("meetings", "POST create", create_meeting, bearer(OK), verify=check_meeting_created),
    Row("meetings", "GET describe (?k=, guests admitted)", describe_meeting, link(OK),
        verify=check_described, hidden=MISSING_MEETING),
    Row("meetings", "WebSocket join (guests admitted)", lambda c: c.join(),
        link(JOINED, signed_out=refused("M_UNKNOWN_TOKEN"), wrong_key=refused("M_NOT_FOUND"),
             anonymous=refused("M_BAD_JSON")),
        verify=check_joined, hidden=MISSING_MEETING),
    Row("meetings", "WebSocket join (signed-in users only)", lambda c: c.join(),
        link(JOINED, signed_out=refused("M_UNKNOWN_TOKEN"), guest=refused("M_FORBIDDEN"),
             wrong_key=refused("M_NOT_FOUND"), anonymous=refused("M_BAD_JSON")),
        prepare=closed_meeting, verify=check_joined, hidden=MISSING_MEETING),
    # A wrong key is refused before anything else is looked at: the token (valid or stale)
    # and whether guests are admitted must not tell that the meeting exists.
    Row("meetings", "GET describe with a wrong key (everyone)", describe_meeting,
        link(NOT_FOUND), prepare=wrong_key_for_everyone, hidden=MISSING_MEETING,
        hidden_actors=("other", "signed_out", "guest")),
    Row("meetings", "WebSocket join with a wrong key (everyone, signed-in users only)",
        lambda c: c.join(), link(refused("M_NOT_FOUND"), wrong_key=refused("M_NOT_FOUND"),
                                 anonymous=refused("M_BAD_JSON")),
        prepare=wrong_key_for_everyone, verify=check_joined, hidden=MISSING_MEETING,
        hidden_actors=("other", "signed_out", "guest")),
    # app passwords
    Row("app passwords", "POST create", lambda c: c.call(
        "POST", "/_ruche/v1/app_passwords", {"name": probe()}), bearer(OK),
        prepare=prep_owners_app_ids, verify=check_app_password_created),
    Row("app passwords", "GET list", lambda c: c.call("GET", "/_ruche/v1/app_passwords"),
        bearer(OK), verify=check_app_passwords_listed),
    Row("app passwords", "DELETE the owner's", lambda c: c.call(
        "DELETE", f"/_ruche/v1/app_passwords/{c.app_id}"), owner_only(),
        prepare=prep_app_password, verify=check_app_password_revoked,
        hidden=MISSING_APP_PASSWORD),
    # calendars (web client): each user's own; another's is addressed by a name only the owner has
    Row("calendars", "GET list", lambda c: c.call("GET", "/_ruche/v1/calendars"), bearer(OK),
        verify=check_calendars),
    Row("calendars", "GET events of 'personal' (everyone's own)", lambda c: c.call(
        "GET", query(f"/_ruche/v1/calendars/{c.cal}/events", **WINDOW)), bearer(OK),
        verify=check_events_listed),
    Row("calendars", "GET events of the owner's second calendar", lambda c: c.call(
        "GET", query(f"/_ruche/v1/calendars/{c.cal}/events", **WINDOW)), owner_only(),
        prepare=lambda c: setattr(c, "cal", c.w.work), verify=check_work_events,
        hidden=MISSING_CALENDAR),
    Row("calendars", "POST event to 'personal' (everyone's own)", post_event, bearer(OK),
        verify=check_event_created(lambda c: "personal")),
    Row("calendars", "POST event to the owner's second calendar", post_event, owner_only(),
        prepare=lambda c: setattr(c, "cal", c.w.work),
        verify=check_event_created(lambda c: c.w.work), hidden=MISSING_CALENDAR),
    Row("calendars", "PUT the owner's event", put_event, owner_only(),
        prepare=prep_fresh_event, verify=check_event_kept, hidden=MISSING_EVENT),
    Row("calendars", "DELETE the owner's event", lambda c: c.call(
        "DELETE", f"/_ruche/v1/calendars/{c.cal}/events/{c.obj}"), owner_only(),
        prepare=prep_fresh_event, verify=check_event_kept, hidden=MISSING_EVENT),
    Row("calendars", "PUT an event of the owner's second calendar", put_event, owner_only(),
        prepare=prep_fresh_work_event, verify=check_event_kept,
        hidden={**MISSING_EVENT, **MISSING_CALENDAR}),
    Row("calendars", "DELETE the event of the owner's booking (changed from its link only)",
        lambda c: c.call("DELETE", f"/_ruche/v1/calendars/personal/events/{c.obj}"),
        bearer((409, "M_INVALID_PARAM")), prepare=lambda c: setattr(c, "obj", c.w.booking_event),
        verify=check_booking_event_kept,
        hidden={"a booking event that does not exist": missing(
            obj="ruche-booking-NoSuchBooking0.ics")}),
    # An object of one's own bearing the UID of the owner's event must not reach the owner's.
    Row("calendars", "PUT one's own event bearing the UID of the owner's event, inviting the "
        "owner", put_own_event_inviting_the_owner, bearer(OK), prepare=prep_uid_twin(False),
        verify=check_event_kept),
    Row("calendars", "PUT one's copy of the owner's invitation, inviting the owner",
        put_own_event_inviting_the_owner, bearer((409, "M_INVALID_PARAM"), owner=OK),
        prepare=prep_invitation_copy, verify=check_event_kept),
    # An answer changes only the answerer's PARTSTAT, and only in an invitation they received.
    Row("calendars", "POST reply to one's copy of the owner's invitation", lambda c: c.call(
        "POST", f"/_ruche/v1/calendars/personal/events/{c.my_obj}/reply",
        {"partstat": "DECLINED"}), bearer(OK, owner=(409, "M_INVALID_PARAM")),
        prepare=prep_invitation_copy, verify=check_event_kept),
    Row("calendars", "POST reply to the owner's event itself", lambda c: c.call(
        "POST", f"/_ruche/v1/calendars/{c.cal}/events/{c.obj}/reply", {"partstat": "ACCEPTED"}),
        bearer(NOT_FOUND, owner=(409, "M_INVALID_PARAM")), prepare=prep_fresh_event,
        verify=check_event_kept, hidden=MISSING_EVENT),
    Row("calendars", "POST reply to one's own event bearing the UID of the owner's event",
        lambda c: c.call("POST", f"/_ruche/v1/calendars/personal/events/{c.my_obj}/reply",
                         {"partstat": "ACCEPTED"}), bearer((409, "M_INVALID_PARAM")),
        prepare=prep_uid_twin(True), verify=check_event_kept),
    Row("calendars", "DELETE one's own event bearing the UID of the owner's event and naming "
        "the owner as invitee", lambda c: c.call(
            "DELETE", f"/_ruche/v1/calendars/personal/events/{c.my_obj}"), bearer(OK),
        prepare=prep_uid_twin(True), verify=check_event_kept),
    # booking types (owner's side)
    Row("booking types", "POST create", post_type, bearer(OK), verify=check_type_created),
    Row("booking types", "GET list", lambda c: c.call("GET", "/_ruche/v1/booking_types"),
        bearer(OK), verify=check_types_listed),
    Row("booking types", "PUT the owner's", lambda c: c.call(
        "PUT", f"/_ruche/v1/booking_types/{c.type_id}", {"title": probe()}), owner_only(),
        prepare=prep_type, verify=check_type_kept(deleted=False), hidden=MISSING_TYPE),
    Row("booking types", "DELETE the owner's", lambda c: c.call(
        "DELETE", f"/_ruche/v1/booking_types/{c.type_id}"), owner_only(),
        prepare=prep_type, verify=check_type_kept(deleted=True), hidden=MISSING_TYPE),
    # the public booking page (no account needed: every credential, even a stale one, is fine)
    Row("booking page", "GET /book/<user>/<slug>", lambda c: c.call(
        "GET", f"/_ruche/v1/book/{c.user}/{c.w.slug}"), bearer(OK, signed_out=OK, anonymous=OK),
        verify=check_public_type),
    Row("booking page", "GET /book/<user>/<slug>/slots", lambda c: c.call(
        "GET", query(f"/_ruche/v1/book/{c.user}/{c.w.slug}/slots",
                     **{"from": iso(SLOTS_DAY), "to": iso(SLOTS_DAY + dt.timedelta(days=1))})),
        bearer(OK, signed_out=OK, anonymous=OK), verify=check_slots),
    Row("booking page", "POST /book/<user>/<slug>", book,
        bearer(OK, signed_out=OK, anonymous=OK), verify=check_booked),
    # bookings (owner's list and actions; the visitor's manage link)
    Row("bookings", "GET list", lambda c: c.call("GET", "/_ruche/v1/bookings"), bearer(OK),
        verify=check_bookings_listed),
    Row("bookings", "POST confirm (a pending booking)", lambda c: c.call(
        "POST", c.with_t(f"/_ruche/v1/bookings/{c.booking}/confirm")),
        manage(owner=OK, signed_out=BAD_TOKEN, anonymous=NO_TOKEN, visitor=NO_TOKEN,
               wrong_t=NO_TOKEN, foreign_t=NO_TOKEN),
        prepare=prep_pending_booking, verify=check_status(("owner",), "confirmed", "pending"),
        hidden=MISSING_BOOKING),
    Row("bookings", "POST cancel (access token, or the link's t)", lambda c: c.call(
        "POST", c.with_t(f"/_ruche/v1/bookings/{c.booking}/cancel")),
        manage(owner=OK, signed_out=BAD_TOKEN, anonymous=NO_TOKEN, visitor=OK),
        prepare=prep_booking, verify=check_status(("owner", "visitor"), "cancelled", "confirmed"),
        hidden=MISSING_BOOKING, shows=("owner", "visitor")),
    Row("bookings", "GET manage (the link's t)", lambda c: c.call(
        "GET", c.with_t(f"/_ruche/v1/bookings/{c.booking}/manage")), manage(visitor=OK),
        verify=check_managed, hidden=MISSING_BOOKING, shows=("visitor",)),
    Row("bookings", "POST reschedule (the link's t)", reschedule, manage(visitor=OK),
        prepare=prep_booking, verify=check_rescheduled, hidden=MISSING_BOOKING,
        shows=("visitor",)),
    # CalDAV
    Row("caldav", "PROPFIND /dav/ (one's own principal)", lambda c: c.dav(
        "PROPFIND", "/dav/", PROPFIND_PRINCIPAL, {**XML, "Depth": "0"}),
        basic(MULTISTATUS), verify=check_principal),
    Row("caldav", "PROPFIND the owner's principal", lambda c: c.dav(
        "PROPFIND", f"/dav/principals/{c.user}/", PROPFIND_PRINCIPAL, {**XML, "Depth": "0"}),
        dav_owner_only(MULTISTATUS), hidden=NOBODY),
    Row("caldav", "PROPFIND the owner's calendar home (Depth 1)", lambda c: c.dav(
        "PROPFIND", dav_path(c), PROPFIND_NAMES, {**XML, "Depth": "1"}),
        dav_owner_only(MULTISTATUS), verify=check_home, hidden=NOBODY),
    Row("caldav", "PROPFIND the owner's calendar (Depth 1)", lambda c: c.dav(
        "PROPFIND", dav_path(c, f"{c.dav_cal}/"), PROPFIND_NAMES, {**XML, "Depth": "1"}),
        dav_owner_only(MULTISTATUS), verify=lambda c, a: a.status != 207 or
        c.w.dav_obj.encode() in a.body, hidden=DAV_MISSING_CAL),
    Row("caldav", "GET the owner's object", lambda c: c.dav("GET", obj_path(c)),
        dav_owner_only(OK), verify=check_dav_object, hidden=DAV_MISSING_OBJ),
    Row("caldav", "PUT a new object into the owner's calendar", dav_put,
        dav_owner_only((201, None)), prepare=prep_new_dav_name,
        verify=check_dav_written(created=True), hidden=DAV_MISSING_CAL),
    Row("caldav", "PUT over the owner's object", dav_put, dav_owner_only((204, None)),
        prepare=prep_dav_object, verify=check_dav_written(created=False),
        hidden=DAV_MISSING_OBJ),
    Row("caldav", "DELETE the owner's object", lambda c: c.dav("DELETE", obj_path(c)),
        dav_owner_only((204, None)), prepare=prep_dav_object, verify=check_dav_deleted,
        hidden=DAV_MISSING_OBJ),
    Row("caldav", "REPORT calendar-query on the owner's calendar", lambda c: c.dav(
        "REPORT", dav_path(c, f"{c.dav_cal}/"), CALENDAR_QUERY, {**XML, "Depth": "1"}),
        dav_owner_only(MULTISTATUS), verify=check_dav_object, hidden=DAV_MISSING_CAL),
    Row("caldav", "REPORT free-busy-query on the owner's calendar", lambda c: c.dav(
        "REPORT", dav_path(c, f"{c.dav_cal}/"), FREE_BUSY, {**XML, "Depth": "1"}),
        dav_owner_only(OK), verify=check_free_busy, hidden=DAV_MISSING_CAL),
    Row("caldav", "REPORT calendar-multiget on one's own home naming the owner's object",
        own_home_multiget, basic(MULTISTATUS), verify=check_multiget),
    Row("caldav", "MKCALENDAR in the owner's home", lambda c: c.dav(
        "MKCALENDAR", dav_path(c, f"{c.dav_cal}/"), mkcalendar(probe())),
        dav_owner_only((201, None)), prepare=prep_new_calendar_name, verify=check_calendar_made,
        hidden=NOBODY),
    Row("caldav", "PROPPATCH the owner's calendar", lambda c: c.dav(
        "PROPPATCH", dav_path(c, f"{c.dav_cal}/"), proppatch("Renamed")),
        dav_owner_only(MULTISTATUS), prepare=prep_dav_calendar, verify=check_calendar_renamed,
        hidden=DAV_MISSING_CAL),
    Row("caldav", "DELETE the owner's calendar", lambda c: c.dav(
        "DELETE", dav_path(c, f"{c.dav_cal}/")), dav_owner_only((204, None)),
        prepare=prep_dav_calendar, verify=check_calendar_deleted, hidden=DAV_MISSING_CAL),
]


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_server(module_servers):
    data = Path(tempfile.mkdtemp(prefix="ruche-authz-api-"))
    admin = unique_name("admin")
    res = run_admin("create-user", admin, "--password", ADMIN_PASSWORD, "--admin",
                    data_dir=data)
    assert res.returncode == 0, res
    srv = module_servers.start(
        data_dir=data, registration="open",
        settings={"limits.bookings_per_ip_burst": "1000000",
                  "limits.bookings_per_ip_per_second": "1000",
                  "limits.meetings_per_user_burst": "1000000",
                  "limits.meetings_per_user_per_second": "1000"})
    yield srv, World(srv, admin)
    srv.stop()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def world(world_server):
    srv, w = world_server
    assert srv.alive(), f"ruche is not running\n{srv.describe_output()}"
    yield w
    if not srv.alive():
        pytest.fail(f"ruche exited on its own with code {srv.stop()} during this test\n"
                    f"{srv.describe_output()}", pytrace=False)


# -- the matrix ---------------------------------------------------------------------------------


def describe(expected) -> str:
    status, code = expected
    return f"{status} {code or ''}".strip()


def matches(ans: Answer, expected) -> bool:
    status, code = expected
    statuses = status if isinstance(status, frozenset) else {status}
    return ans.status in statuses and (code is None or ans.code == code)


def marked(row: Row, actor: str):
    reason = row.xfail.get(actor)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


CASES = [pytest.param(row, actor, id=f"{row.id} | {actor}", marks=marked(row, actor))
         for row in ROWS for actor in row.expect]


@pytest.mark.parametrize("row,actor", CASES)
def test_authorization(world, row, actor):
    c, ans = run(row, world, actor)
    assert matches(ans, row.expect[actor]), (
        f"{row.id}, actor {actor}: expected {describe(row.expect[actor])}, got {ans.status} "
        f"{ans.code!r} {ans.body[:300]!r}")
    if ans.denied:
        found = leaked(c, ans, world.secrets)
        assert not found, f"{row.id}, actor {actor}: the denial reveals {found}: {ans.body!r}"
    elif actor not in row.shows:
        found = leaked(c, ans, world.private)
        assert not found, f"{row.id}, actor {actor}: the answer reveals {found}: {ans.body!r}"
    if ans.status == 401 and row.kind == "basic":
        assert "Basic" in (ans.headers.get("WWW-Authenticate") or ""), ans
    if row.verify:
        row.verify(c, ans)


# -- denial reveals nothing ---------------------------------------------------------------------


HIDDEN_CASES = [pytest.param(row, actor, id=f"{row.id} | {actor}")
                for row in ROWS if row.hidden
                for actor in row.hidden_actors or HIDDEN_ACTORS[row.kind]]


def answers_about_real_and_missing(row: Row, w: World, actor: str):
    c, real = run(row, w, actor)
    yield "the owner's", c, real
    for label, overrides in row.hidden.items():
        c, ans = run(row, w, actor, **overrides(w))
        yield label, c, ans


@pytest.mark.parametrize("row,actor", HIDDEN_CASES)
def test_another_users_resource_looks_missing(world, row, actor):
    """Same status and code for the owner's real resource as for one that does not exist."""
    answers = list(answers_about_real_and_missing(row, world, actor))
    _, _, real = answers[0]
    assert real.denied, (f"{row.id}: {actor} is not refused, so there is nothing to hide", real)
    for label, _, ans in answers[1:]:
        assert (ans.status, ans.code) == (real.status, real.code), (
            f"{row.id}: {actor} gets {real.status} {real.body!r} for the owner's but "
            f"{ans.status} {ans.body!r} for {label}")


TARGETS = ("user", "cal", "obj", "meeting", "booking", "type_id", "app_id", "dav_obj", "dav_cal")


def normalised_error(c: Ctx, ans: Answer) -> str | None:
    text = ans.text
    if text is None:
        return None
    for name in TARGETS:
        text = text.replace(getattr(c, name), f"<{name}>")
    return text


@pytest.mark.parametrize("row,actor", HIDDEN_CASES)
def test_error_text_is_the_same_for_a_missing_resource(world, row, actor):
    """The human error text must not tell the two apart either (IDs replaced by placeholders)."""
    answers = list(answers_about_real_and_missing(row, world, actor))
    _, c0, real = answers[0]
    for label, c, ans in answers[1:]:
        assert normalised_error(c, ans) == normalised_error(c0, real), (
            f"{row.id}: error text {real.text!r} for the owner's, {ans.text!r} for {label}")


def test_a_booking_page_does_not_tell_which_users_exist(world):
    """A missing page of an existing user and a page of a user who does not exist answer the
    same, for the page, its slots and a booking."""
    w = world
    for tail, method, body in [("", "GET", None), ("/slots", "GET", None),
                               ("", "POST", {"start": w.next_slot(), "name": "X",
                                             "email": "x@example.org", "consent": True})]:
        got = [answer_of(call(w.srv, method, f"/_ruche/v1/book/{user}/nosuch-page{tail}", body))
               for user in (w.owner.localpart, w.nobody)]
        assert got[0].status == 404 and got[0].code == "M_NOT_FOUND", got[0]
        assert (got[0].status, got[0].code, got[0].text) == \
            (got[1].status, got[1].code, got[1].text), (tail, method, got)


def test_basic_auth_does_not_tell_which_users_exist(world):
    """A wrong password for the owner and any password for a user who does not exist get the same
    answer, so CalDAV's sign-in cannot be used to list accounts."""
    w = world
    got = [answer_of(call(w.srv, "PROPFIND", "/dav/", raw_body=PROPFIND_PRINCIPAL.encode(),
                          headers={**basic_auth(user, "not the password"), **XML}))
           for user in (w.owner.localpart, w.nobody)]
    assert got[0].status == 401, got[0]
    assert (got[0].status, got[0].code, got[0].body) == (got[1].status, got[1].code, got[1].body)


def test_matrix_covers_every_family_and_actor():
    """The table itself: every family has rows, every row has exactly its kind's actors (`kind`
    raises otherwise), every kind is used, and row IDs are unique."""
    families = {row.family for row in ROWS}
    assert families >= {"meetings", "app passwords", "calendars", "booking types",
                        "booking page", "bookings", "caldav"}, families
    assert {row.kind for row in ROWS} == set(KINDS)
    assert len({row.id for row in ROWS}) == len(ROWS)
