"""Ruche's CalDAV server with Debian's python3-caldav (0.11): discovery from the well-known URL,
calendars, events with a weekly rule in Europe/Paris across the spring daylight-saving change,
time-range searches expanded by the server, sync tokens, app passwords."""
from datetime import datetime, timezone

import caldav
import pytest

from ruche_test import call, new_user

PASSWORD = "correct horse"

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


def utc(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=timezone.utc)


@pytest.fixture
def account(server):
    user, token = new_user(server)
    return user, token


def client_for(server, user, password=PASSWORD):
    base = f"http://{server.host}:{server.port}"
    return caldav.DAVClient(url=base + "/.well-known/caldav", username=user, password=password)


def test_discover_create_search_and_sync(server, account):
    user, _ = account
    principal = client_for(server, user).principal()
    calendars = principal.calendars()
    assert [c.name for c in calendars] == ["Personal"]
    work = principal.make_calendar(name="Travail", cal_id="travail")
    assert sorted(c.name for c in principal.calendars()) == ["Personal", "Travail"]

    work.save_event(PARIS_WEEKLY)
    work.save_event(SINGLE.format(uid="inside", start="20270330T120000Z", end="20270330T130000Z",
                                  summary="Inside"))
    outside = work.save_event(SINGLE.format(uid="outside", start="20270601T120000Z",
                                            end="20270601T130000Z", summary="Outside"))

    found = work.search(event=True, start=utc(2027, 3, 20), end=utc(2027, 4, 6), expand=True)
    starts = sorted(e.vobject_instance.vevent.dtstart.value.astimezone(timezone.utc)
                    for e in found)
    # 09:00 in Paris each Monday: 08:00 UTC before 28 March 2027, 07:00 UTC after.
    assert starts == [utc(2027, 3, 22, 8), utc(2027, 3, 29, 7), utc(2027, 3, 30, 12),
                      utc(2027, 4, 5, 7)]
    assert all(e.vobject_instance.vevent.uid.value != "outside" for e in found)

    sync = work.objects_by_sync_token(load_objects=False)
    assert len(list(sync)) == 3
    token = sync.sync_token
    event = work.event_by_uid("inside")
    event.vobject_instance.vevent.summary.value = "Inside, moved"
    event.save()
    outside.delete()
    updated, deleted = sync.sync()
    assert sync.sync_token != token
    assert [o.url.path.rsplit("/", 1)[1] for o in updated] == [event.url.path.rsplit("/", 1)[1]]
    assert len(deleted) == 1
    assert work.event_by_uid("inside").vobject_instance.vevent.summary.value == "Inside, moved"
    with pytest.raises(caldav.error.NotFoundError):
        work.event_by_uid("outside")


def test_app_password_and_isolation(server, account):
    user, token = account
    created = call(server, "POST", "/_ruche/v1/app_passwords", {"name": "caldav tests"},
                   token=token)
    assert created.status == 200, created
    principal = client_for(server, user, created.json["password"]).principal()
    personal = principal.calendars()[0]
    personal.save_event(SINGLE.format(uid="private", start="20270104T100000Z",
                                      end="20270104T110000Z", summary="Private"))

    intruder, _ = new_user(server)
    other = client_for(server, intruder).principal()
    assert [c.name for c in other.calendars()] == ["Personal"]
    stolen = caldav.Calendar(client=other.client, url=personal.url)
    with pytest.raises(caldav.error.DAVError):
        stolen.event_by_uid("private")

    call(server, "DELETE", f"/_ruche/v1/app_passwords/{created.json['id']}", token=token)
    with pytest.raises(caldav.error.AuthorizationError):
        client_for(server, user, created.json["password"]).principal()
