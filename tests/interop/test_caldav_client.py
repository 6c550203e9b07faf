"""Ruche's CalDAV server driven by Debian's python3-caldav (0.11), the way an application uses it:
discovery from the server's root URL, calendars, events, a weekly event in Europe/Paris across
the spring daylight-saving change searched with expansion, sync tokens, free/busy, app passwords
and another user's calendar.

caldav 0.11's `search(..., expand=True)` sends <C:expand> to the server and, when the answer
still carries RRULE/RDATE/EXDATE, quietly expands on the client instead (objects.py, search()).
So the expansion test records the REPORT answers on the wire and checks that the server did the
expanding itself.
"""
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import caldav
import pytest
from caldav.elements import dav
from dateutil import tz
from lxml import etree

from ruche_test import call, new_user

PASSWORD = "correct horse"
CALDAV_NS = "urn:ietf:params:xml:ns:caldav"

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
UID:standup-paris
DTSTAMP:20270101T000000Z
DTSTART;TZID=Europe/Paris:20270315T090000
DTEND;TZID=Europe/Paris:20270315T093000
RRULE:FREQ=WEEKLY
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


def single(uid, start, end, summary=None):
    return SINGLE.format(uid=uid, start=start, end=end, summary=summary or uid)


def utc(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=timezone.utc)


class RecordingClient(caldav.DAVClient):
    """A DAVClient that keeps (method, url, request body, DAVResponse) of every request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = []

    def request(self, url, method="GET", body="", headers={}):  # noqa: B006 (caldav's API)
        response = super().request(url, method, body, headers)
        self.log.append((method, str(url), body, response))
        return response


def base_url(server):
    return f"http://{server.host}:{server.port}"


def client_for(server, user, password=PASSWORD, path="/.well-known/caldav"):
    return RecordingClient(url=base_url(server) + path, username=user, password=password)


def path_of(url):
    return urlsplit(str(url)).path


@pytest.fixture
def account(server):
    return new_user(server, PASSWORD)


def test_discovery_from_the_well_known_url_and_the_dav_root(server, account):
    user, _ = account
    for start in ("/.well-known/caldav", "/dav/"):
        principal = client_for(server, user, path=start).principal()
        assert path_of(principal.url) == f"/dav/principals/{user}/", start
        assert path_of(principal.calendar_home_set.url) == f"/dav/calendars/{user}/", start
        calendars = principal.calendars()
        assert [(c.name, path_of(c.url)) for c in calendars] == \
            [("Personal", f"/dav/calendars/{user}/personal/")], start
        assert "VEVENT" in calendars[0].get_supported_components()


def test_full_matrix_id_as_user_name(server, account):
    # Contract: the localpart or the full Matrix ID (see test_caldav_protocol.py for why this
    # needs the server to recognise "@user:server:" before the password).
    user, _ = account
    principal = client_for(server, server.mxid(user)).principal()
    assert path_of(principal.url) == f"/dav/principals/{user}/"


def test_calendars_created_renamed_and_deleted(server, account):
    user, _ = account
    principal = client_for(server, user).principal()
    work = principal.make_calendar(name="Travail", cal_id="travail")
    assert path_of(work.url) == f"/dav/calendars/{user}/travail/"
    assert sorted(c.name for c in principal.calendars()) == ["Personal", "Travail"]

    work.set_properties([dav.DisplayName("Projets")])
    assert work.get_display_name() == "Projets"
    assert sorted(c.get_display_name() for c in principal.calendars()) == ["Personal",
                                                                          "Projets"]
    work.save_event(single("in-work", "20270104T100000Z", "20270104T110000Z"))
    work.delete()
    assert [c.name for c in principal.calendars()] == ["Personal"]
    # Made again under the same id, it is empty.
    again = principal.make_calendar(name="Travail", cal_id="travail")
    assert again.events() == []


def test_events_created_updated_and_deleted(server, account):
    user, _ = account
    personal = client_for(server, user).principal().calendars()[0]
    created = personal.save_event(single("lunch", "20270104T110000Z", "20270104T120000Z",
                                         "Lunch"))
    etag_before = created.props.get(dav.GetEtag.tag)
    assert [e.vobject_instance.vevent.summary.value for e in personal.events()] == ["Lunch"]

    event = personal.event_by_uid("lunch")
    event.vobject_instance.vevent.summary.value = "Lunch with Bob"
    # vobject serialises dateutil's UTC, not datetime.timezone.utc.
    event.vobject_instance.vevent.dtstart.value = datetime(2027, 1, 4, 12, tzinfo=tz.UTC)
    event.vobject_instance.vevent.dtend.value = datetime(2027, 1, 4, 13, tzinfo=tz.UTC)
    event.save()
    reloaded = personal.event_by_uid("lunch")
    assert reloaded.vobject_instance.vevent.summary.value == "Lunch with Bob"
    assert reloaded.vobject_instance.vevent.dtstart.value == utc(2027, 1, 4, 12)
    assert path_of(reloaded.url) == path_of(created.url)  # updated in place, not duplicated
    assert len(personal.events()) == 1
    if etag_before is not None:
        assert reloaded.props.get(dav.GetEtag.tag) != etag_before

    reloaded.delete()
    with pytest.raises(caldav.error.NotFoundError):
        personal.event_by_uid("lunch")
    assert personal.events() == []


def expanded_on_the_server(client, uid):
    """The VEVENTs of `uid` as the server sent them in the last REPORT asking for <C:expand>."""
    for method, _url, body, response in reversed(client.log):
        if method == "REPORT" and b"expand" in (body if isinstance(body, bytes)
                                                else str(body).encode()):
            break
    else:
        raise AssertionError("caldav did not send a REPORT with <C:expand>")
    assert response.status == 207, response.status
    blocks = []
    for data in response.tree.iter(f"{{{CALDAV_NS}}}calendar-data"):
        text = data.text or ""
        if f"UID:{uid}" in text:
            blocks.append(text)
    assert len(blocks) == 1, [etree.tostring(response.tree)[:2000]]
    return blocks[0]


def test_weekly_event_in_paris_searched_across_the_dst_change(server, account):
    user, _ = account
    client = client_for(server, user)
    work = client.principal().make_calendar(name="Travail", cal_id="travail")
    work.save_event(PARIS_WEEKLY)
    work.save_event(single("inside", "20270330T120000Z", "20270330T130000Z"))
    work.save_event(single("outside", "20270601T120000Z", "20270601T130000Z"))
    work.save_event(single("before", "20270301T120000Z", "20270301T130000Z"))

    start, end = utc(2027, 3, 20), utc(2027, 4, 6)
    found = work.search(event=True, start=start, end=end, expand=True)
    starts = sorted((e.vobject_instance.vevent.dtstart.value.astimezone(timezone.utc),
                     e.vobject_instance.vevent.uid.value) for e in found)
    # Mondays 09:00 in Paris: 08:00 UTC before Sunday 28 March 2027, 07:00 UTC after.
    assert starts == [(utc(2027, 3, 22, 8), "standup-paris"),
                      (utc(2027, 3, 29, 7), "standup-paris"),
                      (utc(2027, 3, 30, 12), "inside"),
                      (utc(2027, 4, 5, 7), "standup-paris")]
    for e in found:
        ev = e.vobject_instance.vevent
        assert ev.dtend.value - ev.dtstart.value == (timedelta(minutes=30)
                                                     if ev.uid.value == "standup-paris"
                                                     else timedelta(hours=1))

    # The server expanded (RFC 4791 §9.6.5): instances in UTC with RECURRENCE-ID, no RRULE,
    # no VTIMEZONE. Otherwise caldav would have expanded on the client and hidden it.
    text = expanded_on_the_server(client, "standup-paris")
    assert "RRULE" not in text and "BEGIN:VTIMEZONE" not in text, text
    assert text.count("BEGIN:VEVENT") == 3, text
    for stamp in ("20270322T080000Z", "20270329T070000Z", "20270405T070000Z"):
        assert f"DTSTART:{stamp}" in text and f"RECURRENCE-ID:{stamp}" in text, text

    # date_search (deprecated in 0.11, still what many scripts call) gives the same instances,
    # one object per event.
    by_date = work.date_search(start, end, expand=True)
    assert sorted(e.vobject_instance.vevent.uid.value for e in by_date) == ["inside",
                                                                           "standup-paris"]
    # Without expansion the weekly event comes back once, as stored, with its rule.
    plain = work.search(event=True, start=start, end=end)
    assert sorted(e.vobject_instance.vevent.uid.value for e in plain) == ["inside",
                                                                         "standup-paris"]
    master = [e for e in plain if e.vobject_instance.vevent.uid.value == "standup-paris"][0]
    assert "RRULE:FREQ=WEEKLY" in master.data
    # A range holding only the DST Sunday: nothing (Mondays only).
    assert work.search(event=True, start=utc(2027, 3, 28), end=utc(2027, 3, 29),
                       expand=True) == []


def test_sync_tokens_follow_changes(server, account):
    user, _ = account
    work = client_for(server, user).principal().make_calendar(name="Sync", cal_id="sync")
    work.save_event(single("kept", "20270104T100000Z", "20270104T110000Z"))
    changed = work.save_event(single("changed", "20270105T100000Z", "20270105T110000Z"))
    gone = work.save_event(single("gone", "20270106T100000Z", "20270106T110000Z"))

    sync = work.objects_by_sync_token(load_objects=True)
    assert sorted(o.vobject_instance.vevent.uid.value for o in sync) == ["changed", "gone",
                                                                         "kept"]
    token1 = sync.sync_token
    assert token1

    updated, deleted = sync.sync()
    assert (list(updated), list(deleted)) == ([], [])

    added = work.save_event(single("added", "20270107T100000Z", "20270107T110000Z"))
    updated, deleted = sync.sync()
    token2 = sync.sync_token
    assert token2 != token1
    assert [path_of(o.url) for o in updated] == [path_of(added.url)] and list(deleted) == []

    changed.vobject_instance.vevent.summary.value = "Changed"
    changed.save()
    gone.delete()
    updated, deleted = sync.sync()
    assert sync.sync_token not in (token1, token2)
    assert [path_of(o.url) for o in updated] == [path_of(changed.url)]
    assert [path_of(o.url) for o in deleted] == [path_of(gone.url)]
    assert sorted(o.vobject_instance.vevent.summary.value for o in sync) == ["Changed", "added",
                                                                            "kept"]
    # A fresh client starting from the first token sees the same changes.
    later = work.objects_by_sync_token(sync_token=token1, load_objects=False)
    assert {path_of(o.url) for o in later} == {path_of(added.url), path_of(changed.url),
                                               path_of(gone.url)}


def test_free_busy_request(server, account):
    user, _ = account
    personal = client_for(server, user).principal().calendars()[0]
    personal.save_event(single("busy", "20270104T100000Z", "20270104T110000Z"))
    personal.save_event(PARIS_WEEKLY)
    fb = personal.freebusy_request(utc(2027, 3, 27), utc(2027, 4, 3))
    periods = [p for f in fb.vobject_instance.vfreebusy.contents.get("freebusy", [])
               for p in f.value]
    starts = sorted(p[0].astimezone(timezone.utc) for p in periods)
    assert starts == [utc(2027, 3, 29, 7)], periods


def test_app_password_works_until_revoked(server, account):
    user, token = account
    created = call(server, "POST", "/_ruche/v1/app_passwords", {"name": "caldav tests"},
                   token=token)
    assert created.status == 200, created
    principal = client_for(server, user, created.json["password"]).principal()
    personal = principal.calendars()[0]
    personal.save_event(single("via-app", "20270104T100000Z", "20270104T110000Z"))

    revoked = call(server, "DELETE", f"/_ruche/v1/app_passwords/{created.json['id']}",
                   token=token)
    assert revoked.status == 200, revoked
    with pytest.raises(caldav.error.AuthorizationError):
        client_for(server, user, created.json["password"]).principal()
    # The account password still works and the event made with the app password is there.
    assert [e.vobject_instance.vevent.uid.value for e in
            client_for(server, user).principal().calendars()[0].events()] == ["via-app"]


def test_another_user_cannot_read_the_calendar(server, account):
    alice, _ = account
    personal = client_for(server, alice).principal().calendars()[0]
    personal.save_event(single("private", "20270104T100000Z", "20270104T110000Z",
                               "Alice private appointment"))

    bob, _ = new_user(server, PASSWORD)
    bob_client = client_for(server, bob)
    bob_principal = bob_client.principal()
    assert [path_of(c.url) for c in bob_principal.calendars()] == \
        [f"/dav/calendars/{bob}/personal/"]
    stolen = caldav.Calendar(client=bob_client, url=personal.url)
    for attempt in (lambda: stolen.event_by_uid("private"), stolen.events,
                    lambda: stolen.search(event=True, start=utc(2027, 1, 1),
                                          end=utc(2027, 2, 1), expand=True),
                    lambda: stolen.objects_by_sync_token(load_objects=True),
                    lambda: caldav.Event(client=bob_client,
                                         url=str(personal.url) + "x.ics").load()):
        try:
            result = attempt()
        except caldav.error.DAVError:
            continue
        assert not list(result), result  # no exception: then nothing may come back
    for _method, _url, _body, response in bob_client.log:
        raw = response.raw if isinstance(response.raw, bytes) else str(response.raw).encode()
        assert b"Alice private appointment" not in raw
    with pytest.raises(caldav.error.DAVError):
        stolen.save_event(single("planted", "20270104T100000Z", "20270104T110000Z"))
    assert [e.vobject_instance.vevent.uid.value for e in personal.events()] == ["private"]
