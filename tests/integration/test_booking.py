"""Booking pages against a real server and a real SMTP server on loopback (Debian's
python3-aiosmtpd): slots around the spring daylight-saving change, booking with its e-mail
(.ics parsed) and the owner's calendar event, two visitors racing for the last seat, cancel and
reschedule through the signed link, and mail that waits in the queue across a restart."""
import base64
import email
import re
import socket
import threading
import time
import urllib.parse
from email import policy

import pytest
from aiosmtpd.controller import Controller

from ruche_test import call, new_user, query

PARIS_MONDAYS = {"weekly": {"mon": [["09:00", "11:00"]]}}


class Inbox:
    """Collects every message the SMTP server receives."""

    def __init__(self):
        self.messages = []
        self.cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.cond:
            self.messages.append((envelope.rcpt_tos, msg))
            self.cond.notify_all()
        return "250 OK"

    def wait_for(self, count, timeout=15):
        with self.cond:
            self.cond.wait_for(lambda: len(self.messages) >= count, timeout)
            assert len(self.messages) >= count, f"{len(self.messages)} of {count} mails arrived"
            return list(self.messages)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def mail_settings(controller):
    return {"mail.smtp_host": "127.0.0.1", "mail.smtp_port": str(controller.port),
            "mail.from": "bookings@ruche.test", "limits.bookings_per_ip_burst": "1000",
            "limits.bookings_per_ip_per_second": "1000"}


def create_type(server, token, **fields):
    body = {"slug": "consult", "title": "Consultation", "duration_min": 30,
            "timezone": "Europe/Paris", "horizon_days": 365, "availability": PARIS_MONDAYS,
            "location": {"kind": "video"}}
    body.update(fields)
    r = call(server, "POST", "/_ruche/v1/booking_types", body, token=token)
    assert r.status == 200, r
    return r.json


def slots(server, owner, slug, start, end):
    r = call(server, "GET", query(f"/_ruche/v1/book/{owner}/{slug}/slots", **{"from": start,
                                                                           "to": end}))
    assert r.status == 200, r
    return [s["start"] for s in r.json["slots"]]


def book(server, owner, slug, start, name="Émile Zola", mail="emile@example.org", **extra):
    body = {"start": start, "name": name, "email": mail, "consent": True,
            "timezone": "Europe/Paris", "language": "fr"}
    body.update(extra)
    return call(server, "POST", f"/_ruche/v1/book/{owner}/{slug}", body)


def calendar_part(msg):
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_content(), part.get_param("method")
    raise AssertionError("no text/calendar part")


def text_part(msg):
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            return part.get_content()
    raise AssertionError("no text/plain part")


def test_rules_are_checked(start_server):
    server = start_server(registration="open")
    _, token = new_user(server)
    for bad in [{"timezone": "Mars/Olympus"}, {"slug": "Not A Slug"}, {"duration_min": 0},
                {"availability": {"weekly": {"mon": [["10:00", "09:00"]]}}},
                {"availability": {"weekly": {"someday": []}}},
                {"location": {"kind": "in_person"}}, {"seats": 0}]:
        body = {"slug": "x", "title": "X", **bad}
        r = call(server, "POST", "/_ruche/v1/booking_types", body, token=token)
        assert r.status == 400 and r.errcode == "M_INVALID_PARAM", (bad, r)
    create_type(server, token)
    again = call(server, "POST", "/_ruche/v1/booking_types",
                 {"slug": "consult", "title": "Again"}, token=token)
    assert again.status == 409
    assert call(server, "GET", "/_ruche/v1/book/nobody/consult").status == 404
    assert call(server, "POST", "/_ruche/v1/booking_types", {"slug": "x", "title": "X"}).status \
        == 401


def test_slots_follow_daylight_saving_and_booking_sends_an_invitation(start_server, smtp):
    controller, inbox = smtp
    server = start_server(registration="open", settings=mail_settings(controller))
    owner, token = new_user(server)
    create_type(server, token, notify_email="owner@example.org",
                questions=[{"id": "reason", "label": "Motif", "required": True}])
    before = slots(server, owner, "consult", "2027-03-22T00:00:00Z", "2027-03-23T00:00:00Z")
    after = slots(server, owner, "consult", "2027-03-29T00:00:00Z", "2027-03-30T00:00:00Z")
    # 09:00-11:00 in Paris: one hour further from UTC after the last Sunday of March.
    assert before == ["2027-03-22T08:00:00Z", "2027-03-22T08:30:00Z", "2027-03-22T09:00:00Z",
                      "2027-03-22T09:30:00Z"]
    assert after == ["2027-03-29T07:00:00Z", "2027-03-29T07:30:00Z", "2027-03-29T08:00:00Z",
                     "2027-03-29T08:30:00Z"]
    public = call(server, "GET", f"/_ruche/v1/book/{owner}/consult").json
    assert public["title"] == "Consultation" and "notify_email" not in public

    missing_answer = book(server, owner, "consult", after[0])
    assert missing_answer.status == 400 and "Motif" in missing_answer.json["error"]
    assert book(server, owner, "consult", "2027-03-29T07:10:00Z",
                answers={"reason": "x"}).status == 409  # not a slot
    r = book(server, owner, "consult", after[0], answers={"reason": "bilan"},
             notes="Première visite")
    assert r.status == 200, r
    booking = r.json
    assert booking["status"] == "confirmed"
    assert after[0] not in slots(server, owner, "consult", "2027-03-29T00:00:00Z",
                                 "2027-03-30T00:00:00Z")

    mails = inbox.wait_for(2)
    by_rcpt = {rcpt[0]: msg for rcpt, msg in mails}
    visitor = by_rcpt["emile@example.org"]
    assert visitor["Subject"] == "Rendez-vous confirmé : Consultation"
    body = text_part(visitor)
    assert "lundi 29 mars 2027 à 09:00 (Europe/Paris)" in body
    assert booking["join_url"] in body and booking["manage_url"] in body
    ics, method = calendar_part(visitor)
    assert method == "REQUEST" and "METHOD:REQUEST" in ics
    assert "DTSTART:20270329T070000Z" in ics and "DTEND:20270329T073000Z" in ics
    assert re.search(r"ATTENDEE;.*mailto:emile@example.org", ics.replace("\r\n ", ""))
    owner_mail = by_rcpt["owner@example.org"]
    assert "Émile Zola" in text_part(owner_mail)

    # The join link opens the meeting that was created with the booking.
    join = urllib.parse.urlparse(booking["join_url"])
    meeting_id = join.path.rsplit("/", 1)[1]
    key = urllib.parse.parse_qs(join.query)["k"][0]
    assert call(server, "GET", query(f"/_ruche/v1/meetings/{meeting_id}", k=key)).status == 200

    # The owner sees it in their calendar (CalDAV) and in the bookings list.
    listed = call(server, "GET", "/_ruche/v1/bookings", token=token).json["bookings"]
    assert [b["id"] for b in listed] == [booking["id"]]
    auth = {"Authorization": "Basic " + base64.b64encode(f"{owner}:correct horse".encode())
            .decode(), "Depth": "1"}
    report = call(server, "REPORT", f"/dav/calendars/{owner}/personal/", headers=auth,
                  raw_body=(b'<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:'
                            b'caldav"><d:prop><c:calendar-data/></d:prop><c:filter><c:comp-filter'
                            b' name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start='
                            b'"20270329T000000Z" end="20270330T000000Z"/></c:comp-filter>'
                            b'</c:comp-filter></c:filter></c:calendar-query>'))
    assert report.status == 207
    assert b"Consultation" in report.body and b"Zola" in report.body


def test_two_visitors_racing_for_the_last_seat(start_server, smtp):
    controller, _ = smtp
    server = start_server(registration="open", settings=mail_settings(controller))
    owner, token = new_user(server)
    create_type(server, token, slug="group", seats=2)
    start = "2027-03-29T07:00:00Z"
    assert book(server, owner, "group", start, name="First", mail="first@example.org").status \
        == 200
    for round_ in range(4):
        # Each round: a fresh slot with one seat left, two visitors at the same instant.
        slot = f"2027-03-29T0{7 + round_ // 2}:{'00' if round_ % 2 == 0 else '30'}:00Z"
        if round_ > 0:
            assert book(server, owner, "group", slot, name="Early").status == 200
        results = []
        barrier = threading.Barrier(2)

        def visit(i):
            barrier.wait()
            results.append(book(server, owner, "group", slot, name=f"V{i}",
                                mail=f"v{i}@example.org"))

        threads = [threading.Thread(target=visit, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status for r in results)
        assert statuses == [200, 409], (slot, results)
        loser = [r for r in results if r.status == 409][0]
        assert loser.errcode == "M_SLOT_TAKEN" and "another slot" in loser.json["error"]
        assert slot not in slots(server, owner, "group", "2027-03-29T00:00:00Z",
                                 "2027-03-30T00:00:00Z")


def test_cancel_and_reschedule_through_the_signed_link(start_server, smtp):
    controller, inbox = smtp
    server = start_server(registration="open", settings=mail_settings(controller))
    owner, token = new_user(server)
    create_type(server, token, buffer_after_min=30)
    r = book(server, owner, "consult", "2027-03-29T07:00:00Z")
    assert r.status == 200
    manage = urllib.parse.urlparse(r.json["manage_url"])
    booking_id = manage.path.rsplit("/", 1)[1]
    good = urllib.parse.parse_qs(manage.query)["t"][0]
    # The owner's own event blocks a slot, and moving it frees the slot again (what the server
    # computed for the old version of the event is not reused).
    auth = {"Authorization": "Basic " + base64.b64encode(f"{owner}:correct horse".encode())
            .decode(), "Content-Type": "text/calendar"}
    weekly = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:w\r\n"
              "DTSTAMP:20270101T000000Z\r\nDTSTART:20270301T{h}0000Z\r\nDURATION:PT30M\r\n"
              "RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    path = f"/dav/calendars/{owner}/personal/weekly.ics"
    assert call(server, "PUT", path, raw_body=weekly.format(h="08").encode(),
                headers=auth).status == 201
    assert "2027-03-29T08:00:00Z" not in slots(server, owner, "consult", "2027-03-29T00:00:00Z",
                                               "2027-03-30T00:00:00Z")
    assert call(server, "PUT", path, raw_body=weekly.format(h="12").encode(),
                headers=auth).status == 204
    # The 30-minute buffer after 07:00-07:30 blocks 07:30.
    assert slots(server, owner, "consult", "2027-03-29T00:00:00Z", "2027-03-30T00:00:00Z") == \
        ["2027-03-29T08:00:00Z", "2027-03-29T08:30:00Z"]
    wrong = call(server, "POST", query(f"/_ruche/v1/bookings/{booking_id}/cancel", t="x" + good))
    assert wrong.status == 404
    seen = call(server, "GET", query(f"/_ruche/v1/bookings/{booking_id}/manage", t=good))
    assert seen.status == 200 and seen.json["start"] == "2027-03-29T07:00:00Z"
    moved = call(server, "POST", query(f"/_ruche/v1/bookings/{booking_id}/reschedule", t=good),
                 {"start": "2027-03-29T08:30:00Z"})
    assert moved.status == 200, moved
    assert moved.json["start"] == "2027-03-29T08:30:00Z"
    assert slots(server, owner, "consult", "2027-03-29T00:00:00Z", "2027-03-30T00:00:00Z") == \
        ["2027-03-29T07:00:00Z", "2027-03-29T07:30:00Z"]
    cancelled = call(server, "POST", query(f"/_ruche/v1/bookings/{booking_id}/cancel", t=good))
    assert cancelled.status == 200 and cancelled.json["status"] == "cancelled"
    assert len(slots(server, owner, "consult", "2027-03-29T00:00:00Z",
                     "2027-03-30T00:00:00Z")) == 4
    mails = inbox.wait_for(3)
    subjects = [m["Subject"] for _, m in mails]
    assert subjects == ["Rendez-vous confirmé : Consultation",
                        "Rendez-vous déplacé : Consultation", "Rendez-vous annulé : Consultation"]
    ics, method = calendar_part(mails[2][1])
    assert method == "CANCEL" and "STATUS:CANCELLED" in ics and "SEQUENCE:2" in ics
    again = call(server, "POST", query(f"/_ruche/v1/bookings/{booking_id}/cancel", t=good))
    assert again.status == 409


def test_queued_mail_survives_a_restart(start_server, smtp, workdir):
    controller, inbox = smtp
    data = workdir / "data"
    # No relay configured yet: the confirmation waits in the store.
    first = start_server(registration="open", data_dir=data)
    owner, token = new_user(first)
    create_type(first, token)
    assert book(first, owner, "consult", "2027-03-29T07:00:00Z").status == 200
    first.stop()
    second = start_server(registration="open", data_dir=data, settings=mail_settings(controller))
    mails = inbox.wait_for(1)
    assert mails[0][0] == ["emile@example.org"]
    assert "DTSTART:20270329T070000Z" in calendar_part(mails[0][1])[0]
    assert second.alive()


def test_the_owner_cancels_from_their_list(start_server, smtp):
    controller, inbox = smtp
    server = start_server(registration="open", settings=mail_settings(controller))
    owner, token = new_user(server)
    _, stranger = new_user(server)
    create_type(server, token)
    r = book(server, owner, "consult", "2027-03-29T07:00:00Z")
    assert r.status == 200
    booking_id = r.json["id"]
    path = f"/_ruche/v1/bookings/{booking_id}/cancel"
    # Neither anonymous nor another user can; the other user learns nothing (404, not 403).
    assert call(server, "POST", path).status == 401
    denied = call(server, "POST", path, token=stranger)
    assert denied.status == 404
    assert call(server, "POST", "/_ruche/v1/bookings/nope/cancel", token=stranger).json == \
        denied.json
    listed = call(server, "GET", "/_ruche/v1/bookings", token=token).json["bookings"]
    assert [b["status"] for b in listed] == ["confirmed"]

    cancelled = call(server, "POST", path, token=token)
    assert cancelled.status == 200 and cancelled.json["status"] == "cancelled"
    listed = call(server, "GET", "/_ruche/v1/bookings", token=token).json["bookings"]
    assert [b["status"] for b in listed] == ["cancelled"]
    # The slot is free again, the owner's calendar event is gone, the visitor is told.
    assert "2027-03-29T07:00:00Z" in slots(server, owner, "consult", "2027-03-29T00:00:00Z",
                                           "2027-03-30T00:00:00Z")
    events = call(server, "GET", query("/_ruche/v1/calendars/personal/events",
                                       **{"from": "2027-03-29T00:00:00Z",
                                          "to": "2027-03-30T00:00:00Z"}), token=token)
    assert events.status == 200 and events.json["events"] == []
    mails = inbox.wait_for(2)
    assert mails[1][0] == ["emile@example.org"]
    assert calendar_part(mails[1][1])[1] == "CANCEL"
    assert call(server, "POST", path, token=token).status == 409
