"""Thunderbird adds a Ruche calendar from the server's address alone, then syncs both ways.

Debian's Thunderbird runs headless on a fresh profile and is driven through Marionette
(lib/thunderbird.py, lib/marionette.py) with the calendar code its "New Calendar → On the
Network" dialog runs: detection from `http://127.0.0.1:<port>` (no path) must walk
/.well-known/caldav → principal → calendar-home-set → the calendars; *Subscribe* registers them
with the calendar manager (cached, "Offline support" ticked, as the dialog's default); then the
calendar's own sync and item operations, as the calendar views and the event dialog use them.
What Thunderbird sees is checked against what the server holds, read over plain CalDAV.

Thunderbird logs its calendar code's errors on stdout; any from the CalDAV provider, the cache
or the detection during a test fails that test, with the log shown.
"""
from __future__ import annotations

import re
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ruche_test import basic_auth, call, new_user

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
from thunderbird import DetectionFailed, Thunderbird, ThunderbirdMissing  # noqa: E402

PASSWORD = "correct horse"
DAV_NS = "{DAV:}"

PARIS_WEEKLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Ruche tests//EN
BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20270101T000000Z
DTSTART;TZID=Europe/Paris:20270315T090000
DTEND;TZID=Europe/Paris:20270315T093000
RRULE:FREQ=WEEKLY;COUNT=6
SUMMARY:Stand-up
END:VEVENT
END:VCALENDAR
"""

SINGLE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Ruche tests//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20270101T000000Z
DTSTART:{start}
DTEND:{end}
SUMMARY:{summary}
END:VEVENT
END:VCALENDAR
"""

# What Thunderbird's calendar code says when something went wrong: console.error/warn from its
# loggers ("calendar", "CalICSProvider") and uncaught errors in its modules.
CALENDAR_TROUBLE_RE = re.compile(
    r"^(console\.(error|warn): (calendar|CalICSProvider)\b"
    r"|JavaScript (error|warning): "
    r"resource:///modules/(calendar/|CalDav|caldav/|CalCached|CalICS))")


# -- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def thunderbird():
    missing = None
    try:
        tb = Thunderbird()
    except ThunderbirdMissing as e:
        missing = str(e)
    if missing:
        pytest.fail(missing, pytrace=False)  # an interop suite runs all its peers, or fails
    try:
        tb.start()
        yield tb
    finally:
        tb.close()


# Headless GTK complains about the missing screen on every icon lookup: not ours.
NOISE_RE = re.compile(r"Storage: Full SQL|gtk_icon_theme|Gtk-CRITICAL|^\s*$")


@pytest.fixture(autouse=True)
def thunderbird_log(thunderbird):
    """Fails the test when Thunderbird logged calendar errors during it, except those matching
    a regex the test appended to the yielded list; prints the test's part of the log (pytest
    shows it when the test fails)."""
    start = len(thunderbird.log_text())
    expected: list[str] = []
    yield expected
    part = thunderbird.log_text()[start:].splitlines()
    print(f"--- thunderbird {thunderbird.version}: output during the test (SQL and GTK noise left "
          "out) ---")
    print("\n".join(line[:2000] for line in part if not NOISE_RE.search(line))[-30000:])
    trouble = [line[:2000] for line in part if CALENDAR_TROUBLE_RE.match(line)
               and not any(re.search(pattern, line) for pattern in expected)]
    assert trouble == [], "Thunderbird's calendar code logged errors:\n" + "\n".join(trouble)


@pytest.fixture
def account(server):
    user, token = new_user(server, PASSWORD)
    return user, token


# -- CalDAV as the user, over plain HTTP --------------------------------------------------------

def base_url(server) -> str:
    return f"http://{server.host}:{server.port}"


def personal(user: str) -> str:
    return f"/dav/calendars/{user}/personal/"


def dav(server, user, password, method, path, body: str | None = None, **headers):
    hdrs = {**basic_auth(user, password), **headers}
    raw = body.encode("utf-8") if body is not None else None
    if raw is not None:
        hdrs.setdefault("Content-Type", "text/calendar; charset=utf-8")
    return call(server, method, path, raw_body=raw, headers=hdrs)


def put_event(server, user, password, name, ics, **headers):
    resp = dav(server, user, password, "PUT", personal(user) + name, ics, **headers)
    assert resp.status in (201, 204), resp
    return resp.header("ETag")


def server_objects(server, user, password=PASSWORD) -> dict[str, str]:
    """{href: etag} of the objects in the user's Personal calendar (PROPFIND Depth 1)."""
    resp = dav(server, user, password, "PROPFIND", personal(user),
               '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>',
               Depth="1", **{"Content-Type": "application/xml"})
    assert resp.status == 207, resp
    objects = {}
    for response in ET.fromstring(resp.body).iter(DAV_NS + "response"):
        href = response.findtext(DAV_NS + "href")
        etag = response.findtext(f".//{DAV_NS}getetag")
        if href != personal(user) and etag:
            objects[href] = etag
    return objects


def server_object_with_uid(server, user, uid, password=PASSWORD) -> tuple[str, str, str] | None:
    """(href, etag, iCalendar text) of the object whose UID is `uid`, or None."""
    for href, etag in server_objects(server, user, password).items():
        resp = dav(server, user, password, "GET", href)
        assert resp.status == 200, resp
        text = resp.body.decode("utf-8")
        if re.search(rf"^UID:{re.escape(uid)}\r?$", text, re.M):
            return href, resp.header("ETag"), text
    return None


def unfolded(ics: str) -> str:
    return re.sub(r"\r?\n[ \t]", "", ics).replace("\r\n", "\n")


def add_calendar(thunderbird, server, user, password) -> str:
    """The dialog from start to end with the server's address alone; returns the calendar id."""
    found = thunderbird.detect(user, password, base_url(server))
    assert [(c["provider"], c["name"], c["uri"], c["read_only"]) for c in found] == \
        [("caldav", "Personal", base_url(server) + personal(user), False)]
    cal_id = thunderbird.subscribe(found[0]["uri"])
    thunderbird.sync(cal_id)
    assert thunderbird.errors(cal_id) == []
    return cal_id


# -- tests --------------------------------------------------------------------------------------

def test_calendar_found_from_the_server_address_alone(thunderbird, server, account):
    user, _ = account
    cal_id = add_calendar(thunderbird, server, user, PASSWORD)
    info = thunderbird.calendar_info(cal_id)
    assert info["type"] == "caldav" and info["cached"] is True
    assert info["username"] == user and info["disabled"] is False
    # The password went where the calendar's later syncs look for it: the password manager,
    # under the realm of the server's Basic challenge.
    assert {"username": user, "realm": "Ruche"} in thunderbird.saved_logins(base_url(server))


def test_no_or_a_wrong_password_is_an_authentication_failure(thunderbird, server, account,
                                                             thunderbird_log):
    user, _ = account
    thunderbird_log.append(r"Could not detect calendar using method wellKnown.*AuthFailedError")
    # *Find Calendars* first tries without a password; AuthFailedError is what makes the dialog
    # ask for one (onDetectionError → findCalendarsWithPassword).
    with pytest.raises(DetectionFailed) as failure:
        thunderbird.detect(user, None, base_url(server))
    assert failure.value.name == "AuthFailedError"
    # With a wrong one, the dialog says "the username or password is wrong".
    with pytest.raises(DetectionFailed) as failure:
        thunderbird.detect(user, "not the password", base_url(server))
    assert failure.value.name == "AuthFailedError"


def test_a_calendar_found_from_its_own_url(thunderbird, server, account, thunderbird_log):
    user, _ = account
    # Here the ICS and CalDAV providers both get the 401 of the calendar's URL at the same time,
    # and both save the password without waiting (their detection sessions' promptAuth): the
    # second save can find the first one's login and log this. Thunderbird's race; the login is
    # saved.
    thunderbird_log.append(r'"Saving password FAILED".*This login already exists')
    url = base_url(server) + personal(user)
    found = thunderbird.detect(user, PASSWORD, url)
    # Thunderbird's ICS provider recognises a CalDAV collection too; the dialog then offers both
    # and selects CalDAV.
    assert ("caldav", "Personal", url) in [(c["provider"], c["name"], c["uri"]) for c in found]
    assert {c["uri"] for c in found} == {url}
    cal_id = thunderbird.subscribe(url, "caldav")
    put_event(server, user, PASSWORD, "one.ics",
              SINGLE.format(uid="one", start="20270701T080000Z", end="20270701T090000Z",
                            summary="By URL"))
    thunderbird.sync(cal_id)
    assert [(e["id"], e["title"]) for e in
            thunderbird.events(cal_id, "20270701T000000Z", "20270702T000000Z")] == \
        [("one", "By URL")]


def test_events_put_by_caldav_show_in_thunderbird(thunderbird, server, account):
    user, _ = account
    put_event(server, user, PASSWORD, "standup.ics", PARIS_WEEKLY.format(uid="standup-paris"))
    put_event(server, user, PASSWORD, "review.ics",
              SINGLE.format(uid="review", start="20270324T130000Z", end="20270324T140000Z",
                            summary="Design review"))
    cal_id = add_calendar(thunderbird, server, user, PASSWORD)

    events = thunderbird.events(cal_id, "20270314T000000Z", "20270410T000000Z")
    standups = [e for e in events if e["id"] == "standup-paris"]
    # Weekly at 09:00 in Paris: 08:00 UTC in winter, 07:00 UTC from 28 March 2027 (CEST).
    assert [(e["title"], e["start_paris"], e["start_utc"], e["start_tz"]) for e in standups] == [
        ("Stand-up", "20270315T090000", "20270315T080000Z", "Europe/Paris"),
        ("Stand-up", "20270322T090000", "20270322T080000Z", "Europe/Paris"),
        ("Stand-up", "20270329T090000", "20270329T070000Z", "Europe/Paris"),
        ("Stand-up", "20270405T090000", "20270405T070000Z", "Europe/Paris"),
    ]
    assert all(e["recurring"] for e in standups)
    assert [(e["title"], e["start_utc"], e["end_utc"]) for e in events
            if e["id"] == "review"] == [("Design review", "20270324T130000Z",
                                         "20270324T140000Z")]
    # COUNT=6 ends on 19 April: the range query does not invent instances after it.
    later = thunderbird.events(cal_id, "20270418T000000Z", "20270501T000000Z")
    assert [e["start_utc"] for e in later if e["id"] == "standup-paris"] == ["20270419T070000Z"]


def test_server_changes_reach_thunderbird_on_sync(thunderbird, server, account):
    user, _ = account
    cal_id = add_calendar(thunderbird, server, user, PASSWORD)
    window = ("20270501T000000Z", "20270601T000000Z")
    assert thunderbird.events(cal_id, *window) == []

    etag = put_event(server, user, PASSWORD, "later.ics",
                     SINGLE.format(uid="later", start="20270503T100000Z",
                                   end="20270503T110000Z", summary="Added on the server"))
    thunderbird.sync(cal_id)
    assert [(e["id"], e["title"]) for e in thunderbird.events(cal_id, *window)] == \
        [("later", "Added on the server")]

    put_event(server, user, PASSWORD, "later.ics",
              SINGLE.format(uid="later", start="20270503T100000Z", end="20270503T110000Z",
                            summary="Renamed on the server"), **{"If-Match": etag})
    thunderbird.sync(cal_id)
    assert [(e["id"], e["title"]) for e in thunderbird.events(cal_id, *window)] == \
        [("later", "Renamed on the server")]

    resp = dav(server, user, PASSWORD, "DELETE", personal(user) + "later.ics")
    assert resp.status == 204, resp
    thunderbird.sync(cal_id)
    assert thunderbird.events(cal_id, *window) == []
    assert thunderbird.errors(cal_id) == []


def test_events_made_changed_and_deleted_in_thunderbird_reach_the_server(thunderbird, server,
                                                                         account):
    user, _ = account
    cal_id = add_calendar(thunderbird, server, user, PASSWORD)
    uid = f"tb-{uuid.uuid4().hex}"
    made = thunderbird.add_event(cal_id, uid, "Lunch with Zoé", "20270510T123000",
                                 "20270510T133000", "Europe/Paris")
    assert made["start_utc"] == "20270510T103000Z"

    on_server = server_object_with_uid(server, user, uid)
    assert on_server is not None, f"{uid} not on the server: {server_objects(server, user)}"
    href, etag, ics = on_server
    assert href.startswith(personal(user))
    text = unfolded(ics)
    assert "SUMMARY:Lunch with Zoé\n" in text
    assert "DTSTART;TZID=Europe/Paris:20270510T123000\n" in text
    assert "DTEND;TZID=Europe/Paris:20270510T133000\n" in text
    # The server answers the web client with the same instant, in UTC.
    _, token = account
    resp = call(server, "GET", "/_ruche/v1/calendars/personal/events"
                "?from=2027-05-10T00:00:00Z&to=2027-05-11T00:00:00Z", token=token)
    assert resp.status == 200, resp
    assert [(e["uid"], e["summary"], e["start"]) for e in resp.json["events"]] == \
        [(uid, "Lunch with Zoé", "2027-05-10T10:30:00Z")]

    thunderbird.modify_event(cal_id, uid, title="Lunch with Zoé and Ana")
    changed = server_object_with_uid(server, user, uid)
    assert changed is not None
    assert changed[0] == href
    assert changed[1] != etag
    assert "SUMMARY:Lunch with Zoé and Ana\n" in unfolded(changed[2])

    thunderbird.delete_event(cal_id, uid)
    assert dav(server, user, PASSWORD, "GET", href).status == 404
    assert server_object_with_uid(server, user, uid) is None
    assert thunderbird.events(cal_id, "20270510T000000Z", "20270511T000000Z") == []
    assert thunderbird.errors(cal_id) == []


def test_an_app_password_works_in_place_of_the_account_password(thunderbird, server, account):
    user, token = account
    resp = call(server, "POST", "/_ruche/v1/app_passwords", {"name": "Thunderbird"},
                token=token)
    assert resp.status == 200, resp
    app_password = resp.json["password"]
    assert app_password != PASSWORD
    put_event(server, user, PASSWORD, "call.ics",
              SINGLE.format(uid="call", start="20270607T080000Z", end="20270607T083000Z",
                            summary="Call"))

    unused = call(server, "GET", "/_ruche/v1/app_passwords", token=token)
    assert [p["last_used_ts"] for p in unused.json["app_passwords"]] == [0]  # never used

    cal_id = add_calendar(thunderbird, server, user, app_password)
    assert [(e["id"], e["title"]) for e in
            thunderbird.events(cal_id, "20270607T000000Z", "20270608T000000Z")] == \
        [("call", "Call")]
    uid = f"tb-{uuid.uuid4().hex}"
    thunderbird.add_event(cal_id, uid, "Made with an app password", "20270608T090000",
                          "20270608T100000", "Europe/Paris")
    on_server = server_object_with_uid(server, user, uid)
    assert on_server is not None
    assert "SUMMARY:Made with an app password\n" in unfolded(on_server[2])
    # Ruche saw the app password being used.
    listed = call(server, "GET", "/_ruche/v1/app_passwords", token=token)
    assert listed.status == 200, listed
    assert [p["last_used_ts"] > 0 for p in listed.json["app_passwords"]] == [True]
