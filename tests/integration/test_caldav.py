"""CalDAV over raw HTTP (RFC 4791, 4918, 6578, 6764): discovery, Basic sign-in with account and
app passwords, calendars and objects with ETags and preconditions, the four REPORTs, and what bad
input gets. Real clients are in tests/interop/test_caldav_client.py."""
import base64
import re
import xml.etree.ElementTree as ET

from ruche_test import call, new_user

DAV = "{DAV:}"
CAL = "{urn:ietf:params:xml:ns:caldav}"
PASSWORD = "correct horse"


def basic(user, password=PASSWORD):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def dav(server, method, path, user, body=None, password=PASSWORD, **headers):
    h = basic(user, password)
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    if body is not None and "Content-Type" not in h:
        h["Content-Type"] = "application/xml; charset=utf-8"
    raw = body.encode() if isinstance(body, str) else body
    return call(server, method, path, raw_body=raw, headers=h)


def event(uid, start="20270104T100000Z", end="20270104T110000Z", extra=""):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
            f"SUMMARY:Event {uid}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n")


def put(server, user, path, text, expect=201, **headers):
    r = dav(server, "PUT", path, user, text, Content_Type="text/calendar; charset=utf-8", **headers)
    assert r.status == expect, r
    return r


def multistatus(resp):
    assert resp.status == 207, resp
    return ET.fromstring(resp.body)


def hrefs(tree):
    return [r.findtext(DAV + "href") for r in tree.findall(DAV + "response")]


def test_discovery_from_the_well_known_url(server):
    user, _ = new_user(server)
    r = call(server, "GET", "/.well-known/caldav")
    assert r.status == 301 and r.header("Location") == "/dav/"
    r = call(server, "PROPFIND", "/.well-known/caldav")
    assert r.status == 307 and r.header("Location") == "/dav/"  # keeps the method and body
    assert call(server, "PROPFIND", "/dav/").status == 401
    assert "Basic" in call(server, "PROPFIND", "/dav/").header("WWW-Authenticate")
    body = ('<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop>'
            '</d:propfind>')
    tree = multistatus(dav(server, "PROPFIND", "/dav/", user, body, Depth="0"))
    principal = tree.find(f".//{DAV}current-user-principal/{DAV}href").text
    assert principal == f"/dav/principals/{user}/"
    body = ('<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>'
            '<c:calendar-home-set/></d:prop></d:propfind>')
    tree = multistatus(dav(server, "PROPFIND", principal, user, body, Depth="0"))
    home = tree.find(f".//{CAL}calendar-home-set/{DAV}href").text
    assert home == f"/dav/calendars/{user}/"
    body = ('<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" '
            'xmlns:cs="http://calendarserver.org/ns/"><d:prop><d:resourcetype/><d:displayname/>'
            '<cs:getctag/><c:supported-calendar-component-set/></d:prop></d:propfind>')
    tree = multistatus(dav(server, "PROPFIND", home, user, body, Depth="1"))
    assert hrefs(tree) == [home, home + "personal/"]
    cal = tree.findall(DAV + "response")[1]
    assert cal.find(f".//{DAV}resourcetype/{CAL}calendar") is not None
    assert cal.findtext(f".//{DAV}displayname") == "Personal"
    comps = [c.get("name") for c in cal.iter(CAL + "comp")]
    assert comps == ["VEVENT", "VTODO"]
    opts = dav(server, "OPTIONS", home, user)
    assert "calendar-access" in opts.header("DAV") and "REPORT" in opts.header("Allow")


def test_objects_etags_and_preconditions(server):
    user, _ = new_user(server)
    path = f"/dav/calendars/{user}/personal/a.ics"
    r = put(server, user, path, event("a"), If_None_Match="*")
    etag = r.header("ETag")
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    got = dav(server, "GET", path, user)
    assert got.status == 200 and got.body.decode() == event("a") and got.header("ETag") == etag
    assert got.header("Content-Type").startswith("text/calendar")
    put(server, user, path, event("a"), expect=412, If_None_Match="*")
    put(server, user, path, event("a", extra="LOCATION:here\r\n"), expect=412,
        If_Match='"00000000000000000000000000000000"')
    r2 = put(server, user, path, event("a", extra="LOCATION:here\r\n"), expect=204, If_Match=etag)
    assert r2.header("ETag") != etag
    assert "LOCATION:here" in dav(server, "GET", path, user).body.decode()
    # Same UID under another name: refused (RFC 4791 §5.3.2.1 no-uid-conflict).
    clash = dav(server, "PUT", f"/dav/calendars/{user}/personal/b.ics", user, event("a"),
                Content_Type="text/calendar")
    assert clash.status == 403 and b"no-uid-conflict" in clash.body
    assert dav(server, "DELETE", path, user, If_Match=etag).status == 412
    assert dav(server, "DELETE", path, user, If_Match=r2.header("ETag")).status == 204
    assert dav(server, "GET", path, user).status == 404


def test_make_calendar_proppatch_and_delete(server):
    user, _ = new_user(server)
    path = f"/dav/calendars/{user}/work/"
    body = ('<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>'
            '<d:displayname>Work</d:displayname><c:supported-calendar-component-set>'
            '<c:comp name="VTODO"/></c:supported-calendar-component-set></d:prop></d:set>'
            '</c:mkcalendar>')
    assert dav(server, "MKCALENDAR", path, user, body).status == 201
    assert dav(server, "MKCALENDAR", path, user, body).status == 405
    # A VTODO-only calendar refuses events.
    r = dav(server, "PUT", path + "e.ics", user, event("e"), Content_Type="text/calendar")
    assert r.status == 403 and b"supported-calendar-component" in r.body
    patch = ('<d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/" '
             'xmlns:x="urn:example"><d:set><d:prop><d:displayname>Projects</d:displayname>'
             '<a:calendar-color>#FF8800FF</a:calendar-color><x:note lang="fr">à garder</x:note>'
             '</d:prop></d:set></d:propertyupdate>')
    tree = multistatus(dav(server, "PROPPATCH", path, user, patch))
    assert all(s.text == "HTTP/1.1 200 OK" for s in tree.iter(DAV + "status"))
    body = ('<d:propfind xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/" '
            'xmlns:x="urn:example"><d:prop><d:displayname/><a:calendar-color/><x:note/></d:prop>'
            '</d:propfind>')
    tree = multistatus(dav(server, "PROPFIND", path, user, body, Depth="0"))
    assert tree.findtext(f".//{DAV}displayname") == "Projects"
    assert tree.findtext(".//{http://apple.com/ns/ical/}calendar-color") == "#FF8800FF"
    note = tree.find(".//{urn:example}note")
    assert note.text == "à garder" and note.get("lang") == "fr"
    # A protected property fails the whole PROPPATCH: nothing changes.
    bad = ('<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>Nope</d:displayname>'
           '<d:getetag>"x"</d:getetag></d:prop></d:set></d:propertyupdate>')
    tree = multistatus(dav(server, "PROPPATCH", path, user, bad))
    statuses = sorted(s.text for s in tree.iter(DAV + "status"))
    assert statuses == ["HTTP/1.1 403 Forbidden", "HTTP/1.1 424 Failed Dependency"]
    tree = multistatus(dav(server, "PROPFIND", path, user, body, Depth="0"))
    assert tree.findtext(f".//{DAV}displayname") == "Projects"
    assert dav(server, "DELETE", path, user).status == 204
    assert dav(server, "PROPFIND", path, user, body, Depth="0").status == 404


def calendar_query(start, end, expand=False):
    data = (f'<c:calendar-data><c:expand start="{start}" end="{end}"/></c:calendar-data>'
            if expand else "<c:calendar-data/>")
    return ('<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>'
            f'<d:getetag/>{data}</d:prop><c:filter><c:comp-filter name="VCALENDAR">'
            f'<c:comp-filter name="VEVENT"><c:time-range start="{start}" end="{end}"/>'
            '</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>')


def test_time_range_query_expands_recurrence_across_daylight_saving(server):
    user, _ = new_user(server)
    base = f"/dav/calendars/{user}/personal/"
    weekly = event("weekly", "", "", "RRULE:FREQ=WEEKLY;COUNT=10\r\n").replace(
        "DTSTART:\r\nDTEND:\r\n",
        "DTSTART;TZID=Europe/Paris:20270315T090000\r\nDTEND;TZID=Europe/Paris:20270315T100000\r\n")
    put(server, user, base + "weekly.ics", weekly)
    put(server, user, base + "inside.ics", event("inside", "20270330T120000Z", "20270330T130000Z"))
    put(server, user, base + "outside.ics", event("outside", "20270501T120000Z",
                                                  "20270501T130000Z"))
    put(server, user, base + "ended.ics", event("ended", "20270101T120000Z", "20270101T130000Z",
                                                "RRULE:FREQ=DAILY;COUNT=3\r\n"))
    tree = multistatus(dav(server, "REPORT", base, user,
                           calendar_query("20270327T000000Z", "20270403T000000Z"), Depth="1"))
    assert sorted(hrefs(tree)) == [base + "inside.ics", base + "weekly.ics"]
    tree = multistatus(dav(server, "REPORT", base, user,
                           calendar_query("20270320T000000Z", "20270410T000000Z", expand=True),
                           Depth="1"))
    data = [r.findtext(f".//{CAL}calendar-data") for r in tree.findall(DAV + "response")
            if r.findtext(DAV + "href").endswith("weekly.ics")][0]
    starts = re.findall(r"DTSTART:(\d{8}T\d{6}Z)", data)
    # 09:00 in Paris: 08:00 UTC before the last Sunday of March, 07:00 UTC after.
    assert starts == ["20270322T080000Z", "20270329T070000Z", "20270405T070000Z"]
    assert "RRULE" not in data and "RECURRENCE-ID:20270329T070000Z" in data


def test_multiget_sync_collection_and_free_busy(server):
    user, _ = new_user(server)
    base = f"/dav/calendars/{user}/personal/"
    put(server, user, base + "one.ics", event("one"))
    put(server, user, base + "two.ics", event("two", "20270105T100000Z", "20270105T113000Z"))
    body = ('<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>'
            f'<d:getetag/><c:calendar-data/></d:prop><d:href>{base}two.ics</d:href>'
            f'<d:href>{base}missing.ics</d:href></c:calendar-multiget>')
    tree = multistatus(dav(server, "REPORT", base, user, body))
    responses = tree.findall(DAV + "response")
    # Byte for byte, CRLF included (the server escapes CR as &#13; so XML keeps it).
    assert responses[0].findtext(f".//{CAL}calendar-data") == \
        event("two", "20270105T100000Z", "20270105T113000Z")
    assert responses[1].findtext(DAV + "status") == "HTTP/1.1 404 Not Found"

    def sync(token):
        body = ('<d:sync-collection xmlns:d="DAV:"><d:sync-token>' + token +
                '</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop>'
                '</d:sync-collection>')
        tree = multistatus(dav(server, "REPORT", base, user, body))
        return tree.findtext(DAV + "sync-token"), tree.findall(DAV + "response")

    token1, first = sync("")
    assert sorted(r.findtext(DAV + "href") for r in first) == [base + "one.ics", base + "two.ics"]
    token2, none = sync(token1)
    assert token2 == token1 and none == []
    assert dav(server, "DELETE", base + "one.ics", user).status == 204
    put(server, user, base + "three.ics", event("three"))
    token3, changes = sync(token1)
    assert token3 != token1
    by_href = {r.findtext(DAV + "href"): r for r in changes}
    assert set(by_href) == {base + "one.ics", base + "three.ics"}
    assert by_href[base + "one.ics"].findtext(DAV + "status") == "HTTP/1.1 404 Not Found"
    bad = dav(server, "REPORT", base, user,
              '<d:sync-collection xmlns:d="DAV:"><d:sync-token>https://ruche.invalid/ns/sync/'
              '999-1</d:sync-token><d:prop/></d:sync-collection>')
    assert bad.status == 403 and b"valid-sync-token" in bad.body

    fb = dav(server, "REPORT", base, user,
             '<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range '
             'start="20270101T000000Z" end="20270201T000000Z"/></c:free-busy-query>')
    assert fb.status == 200 and fb.header("Content-Type").startswith("text/calendar")
    text = fb.body.decode()
    assert "FREEBUSY;FBTYPE=BUSY:20270104T100000Z/20270104T110000Z" in text
    assert "FREEBUSY;FBTYPE=BUSY:20270105T100000Z/20270105T113000Z" in text


def test_bad_input_gets_a_clear_error_and_stores_nothing(server):
    user, _ = new_user(server)
    base = f"/dav/calendars/{user}/personal/"
    cases = [
        ("not icalendar", 400),
        (event("x").replace("END:VEVENT", "GARBAGE\r\nEND:VEVENT"), 400),
        (event("tz").replace("DTSTART:20270104T100000Z", "DTSTART;TZID=Mars/Base:20270104T100000"),
         403),
        (event("m").replace("PRODID:-//test//EN", "PRODID:-//test//EN\r\nMETHOD:REQUEST"), 400),
    ]
    for text, status in cases:
        r = dav(server, "PUT", base + "bad.ics", user, text, Content_Type="text/calendar")
        assert r.status == status, (text, r)
        assert b"valid-calendar-data" in r.body
    r = dav(server, "PUT", base + "html.ics", user, event("h"), Content_Type="text/html")
    assert r.status == 415
    # Over the 1 MiB object limit: refused from its Content-Length, before the body is read.
    auth = basic(user)["Authorization"]
    with server.raw() as raw:
        raw.send(f"PUT {base}big.ics HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                 f"Content-Type: text/calendar\r\nContent-Length: {2 << 20}\r\n\r\n".encode())
        assert raw.read_response().status == 413
    for xml in ['<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                '<d:propfind xmlns:d="DAV:">&e;</d:propfind>',
                "<a>" * 1000 + "</a>" * 1000, "<d:propfind xmlns:d='DAV:'>"]:
        r = dav(server, "PROPFIND", base, user, xml, Depth="0")
        assert r.status == 400, r
        assert b"root:" not in r.body
    bad_range = calendar_query("2027-01-01", "20270201T000000Z")
    assert dav(server, "REPORT", base, user, bad_range).status == 400
    tree = multistatus(dav(server, "PROPFIND", base, user, None, Depth="1"))
    assert hrefs(tree) == [base]  # nothing was stored


def test_users_cannot_see_each_other(server):
    alice, _ = new_user(server)
    bob, _ = new_user(server)
    put(server, alice, f"/dav/calendars/{alice}/personal/secret.ics", event("secret"))
    for method, path in [("GET", f"/dav/calendars/{alice}/personal/secret.ics"),
                         ("PROPFIND", f"/dav/calendars/{alice}/personal/"),
                         ("PROPFIND", f"/dav/calendars/{alice}/"),
                         ("DELETE", f"/dav/calendars/{alice}/personal/secret.ics"),
                         ("PUT", f"/dav/calendars/{alice}/personal/planted.ics")]:
        r = dav(server, method, path, bob, event("p") if method == "PUT" else None,
                Content_Type="text/calendar")
        assert r.status == 404, (method, path, r)
        assert b"secret" not in r.body
    body = ('<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>'
            f'<c:calendar-data/></d:prop><d:href>/dav/calendars/{alice}/personal/secret.ics'
            '</d:href></c:calendar-multiget>')
    tree = multistatus(dav(server, "REPORT", f"/dav/calendars/{bob}/personal/", bob, body))
    assert tree.find(f".//{CAL}calendar-data") is None
    assert dav(server, "GET", f"/dav/calendars/{alice}/personal/secret.ics", alice).status == 200


def test_app_passwords_work_until_revoked(server):
    user, token = new_user(server)
    assert call(server, "POST", "/_ruche/v1/app_passwords", {"name": "Thunderbird"}).status == 401
    assert call(server, "POST", "/_ruche/v1/app_passwords", {"name": ""},
                token=token).status == 400
    created = call(server, "POST", "/_ruche/v1/app_passwords", {"name": "Thunderbird"},
                   token=token)
    assert created.status == 200, created
    app_pw = created.json["password"]
    assert len(app_pw) >= 20
    listed = call(server, "GET", "/_ruche/v1/app_passwords", token=token).json["app_passwords"]
    assert [p["name"] for p in listed] == ["Thunderbird"] and "password" not in listed[0]
    home = f"/dav/calendars/{user}/"
    assert dav(server, "PROPFIND", home, user, None, password=app_pw, Depth="0").status == 207
    other, _ = new_user(server)
    assert dav(server, "PROPFIND", f"/dav/calendars/{other}/", other, None, password=app_pw,
               Depth="0").status == 401  # an app password only works for its owner
    assert dav(server, "PROPFIND", home, user, None, password="wrong password",
               Depth="0").status == 401
    revoked = call(server, "DELETE", f"/_ruche/v1/app_passwords/{created.json['id']}",
                   token=token)
    assert revoked.status == 200
    assert dav(server, "PROPFIND", home, user, None, password=app_pw, Depth="0").status == 401
    assert call(server, "DELETE", f"/_ruche/v1/app_passwords/{created.json['id']}",
                token=token).status == 404
