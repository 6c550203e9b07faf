"""CalDAV over raw HTTP, checked against the contract of issue 8 and the RFCs it rests on:
RFC 6764 (well-known URL), RFC 7617 (Basic), RFC 4918 (WebDAV), RFC 4791 (CalDAV), RFC 6578
(sync-collection), RFC 7232 (preconditions).

test_caldav.py holds the implementer's checks; this file is an independent reading of the same
contract: each assertion says which rule it comes from, and checks that a refused request left
nothing behind (no object, no new sync token, the old object intact). Real clients are in
tests/interop/test_caldav_client.py, test_vdirsyncer.py and test_litmus.py.
"""
from __future__ import annotations

import http.client
import random
import re
import signal
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from ruche_test import (basic_auth, call, http_request_bytes, new_user, raw_exchange,
                        unique_name)

PASSWORD = "correct horse"
D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"
CS = "{http://calendarserver.org/ns/}"
APPLE = "{http://apple.com/ns/ical/}"
NS = ('xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" '
      'xmlns:cs="http://calendarserver.org/ns/" xmlns:a="http://apple.com/ns/ical/"')
CRLF = "\r\n"

# Preconditions a CalDAV server names when it refuses an object (RFC 4791 §5.3.2.1).
CALDAV_PRECONDITIONS = (b"valid-calendar-data", b"valid-calendar-object-resource",
                        b"supported-calendar-data", b"supported-calendar-component")


# -- helpers ------------------------------------------------------------------------------------


def dav(server, method, path, user, body=None, *, password=PASSWORD, headers=None, conn=None):
    """One request with Basic credentials; str bodies are XML unless a Content-Type is given."""
    h = basic_auth(user, password) if user is not None else {}
    h.update(headers or {})
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body is not None:
        h.setdefault("Content-Type", "application/xml; charset=utf-8")
    return call(server, method, path, raw_body=body, headers=h, conn=conn, timeout=30)


def put_ics(server, user, path, text, **headers):
    h = {"Content-Type": "text/calendar; charset=utf-8"}
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    return dav(server, "PUT", path, user, text, headers=h)


def multistatus(resp):
    assert resp.status == 207, resp
    assert resp.header("Content-Type", "").split(";")[0].strip() in ("application/xml",
                                                                       "text/xml"), resp
    root = ET.fromstring(resp.body)
    assert root.tag == D + "multistatus", resp.body[:500]
    return root


def href_path(href: str) -> str:
    """A DAV:href as an unescaped path (servers may answer full URLs or escaped paths)."""
    return urllib.parse.unquote(urllib.parse.urlsplit(href.strip()).path)


def responses(tree):
    """{path: <d:response>} of a multistatus."""
    out = {}
    for r in tree.findall(D + "response"):
        out[href_path(r.findtext(D + "href"))] = r
    return out


def prop_status(response, tag):
    """(status code, element) of property `tag` in one <d:response>, or (None, None)."""
    for ps in response.findall(D + "propstat"):
        el = ps.find(f"{D}prop/{tag}")
        if el is not None:
            return int(ps.findtext(D + "status").split()[1]), el
    return None, None


def prop(response, tag):
    code, el = prop_status(response, tag)
    assert code == 200, (tag, ET.tostring(response)[:800])
    return el


def status_of(response):
    text = response.findtext(D + "status")
    return int(text.split()[1]) if text else None


def propfind(server, user, path, props, depth="0", **kw):
    body = f'<d:propfind {NS}><d:prop>{props}</d:prop></d:propfind>'
    return dav(server, "PROPFIND", path, user, body, headers={"Depth": depth}, **kw)


def unfold(ics: str) -> list[str]:
    """Content lines of an iCalendar text (RFC 5545 §3.1: CRLF + space/tab continues a line)."""
    return [line for line in re.sub(r"\r?\n[ \t]", "", ics).splitlines() if line]


def components(ics: str, name: str) -> list[dict[str, list[str]]]:
    """Every `name` component (not nested deeper than one level) as {PROPNAME: [raw lines]}."""
    out, cur, depth = [], None, 0
    for line in unfold(ics):
        if line == f"BEGIN:{name}":
            cur, depth = {}, 0
            continue
        if cur is None:
            continue
        if line.startswith("BEGIN:"):
            depth += 1
        elif line == f"END:{name}" and depth == 0:
            out.append(cur)
            cur = None
        elif line.startswith("END:"):
            depth -= 1
        elif depth == 0:
            key = re.split(r"[;:]", line, 1)[0].upper()
            cur.setdefault(key, []).append(line)
    return out


def value(line: str) -> str:
    # The value follows the first ':' that is not inside a quoted parameter value.
    m = re.match(r'^(?:[^":]|"[^"]*")*:(.*)$', line)
    return m.group(1) if m else ""


def calendar(*body_lines, tz=False):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Ruche protocol tests//EN"]
    if tz:
        lines += PARIS_VTIMEZONE
    lines += list(body_lines)
    lines.append("END:VCALENDAR")
    return CRLF.join(lines) + CRLF


def vevent(uid, *props, start="20270104T100000Z", end="20270104T110000Z", summary=None):
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20270101T000000Z"]
    if start is not None:
        lines.append(start if ":" in start else f"DTSTART:{start}")
    if end is not None:
        lines.append(end if ":" in end else f"DTEND:{end}")
    lines.append(f"SUMMARY:{summary or 'Event ' + uid}")
    lines += list(props)
    lines.append("END:VEVENT")
    return lines


def event(uid, *props, **kw):
    return calendar(*vevent(uid, *props, **kw))


PARIS_VTIMEZONE = [
    "BEGIN:VTIMEZONE", "TZID:Europe/Paris",
    "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
    "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
    "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
    "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
    "END:VTIMEZONE",
]


def paths(user):
    home = f"/dav/calendars/{user}/"
    return home, home + "personal/"


def listing(server, user, cal):
    """Names of the objects in a calendar (PROPFIND Depth 1)."""
    tree = multistatus(propfind(server, user, cal, "<d:getetag/>", depth="1"))
    return sorted(p[len(cal):] for p in responses(tree) if p != cal)


def sync_report(server, user, cal, token=""):
    body = (f'<d:sync-collection {NS}><d:sync-token>{token}</d:sync-token>'
            '<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>')
    return dav(server, "REPORT", cal, user, body)


def sync_token(server, user, cal):
    tree = multistatus(sync_report(server, user, cal))
    return tree.findtext(D + "sync-token")


def time_range_query(start, end, *, expand=None, comp="VEVENT"):
    data = "<c:calendar-data/>"
    if expand:
        data = (f'<c:calendar-data><c:expand start="{expand[0]}" end="{expand[1]}"/>'
                '</c:calendar-data>')
    return (f'<c:calendar-query {NS}><d:prop><d:getetag/>{data}</d:prop><c:filter>'
            f'<c:comp-filter name="VCALENDAR"><c:comp-filter name="{comp}">'
            f'<c:time-range start="{start}" end="{end}"/></c:comp-filter></c:comp-filter>'
            '</c:filter></c:calendar-query>')


@pytest.fixture
def user(server):
    name, _ = new_user(server, PASSWORD)
    return name


# -- discovery and sign-in ----------------------------------------------------------------------


def test_well_known_url_redirects_to_the_dav_root(server):
    # RFC 6764 §5: the server MUST redirect the well-known URI to the context path; the contract
    # says 301 to /dav/. Clients follow it before they sign in, so no credentials are needed.
    r = call(server, "GET", "/.well-known/caldav")
    assert r.status == 301, r
    assert href_path(r.header("Location")) == "/dav/", r.header("Location")
    r = call(server, "PROPFIND", "/.well-known/caldav", headers={"Depth": "0"})
    # RFC 6764 allows 301, 303 or 307; 307/308 keep PROPFIND and its body (a client following a
    # 301 may switch to GET). The contract asks 301; either is accepted here.
    assert r.status in (301, 307, 308), r
    assert href_path(r.header("Location")) == "/dav/", r.header("Location")


AUTH_PATHS = ["/dav/", "/dav/principals/{u}/", "/dav/calendars/{u}/",
              "/dav/calendars/{u}/personal/", "/dav/calendars/{u}/personal/x.ics"]


def test_everything_under_dav_needs_basic_credentials(server, user):
    # Contract: HTTP Basic on everything under /dav/; otherwise 401 with
    # WWW-Authenticate: Basic realm="Ruche" (RFC 7235 §3.1: a 401 MUST carry the challenge).
    bad_credentials = [
        {},
        basic_auth(user, "wrong password"),
        basic_auth(unique_name("nobody"), PASSWORD),
        basic_auth("", ""),
        {"Authorization": "Basic !!!not-base64!!!"},
        {"Authorization": "Basic " + "QQ=="},  # "A": no colon
        {"Authorization": "Bearer " + "x" * 40},
        {"Authorization": "Digest username=\"" + user + "\""},
    ]
    for template in AUTH_PATHS:
        path = template.format(u=user)
        for method in ("PROPFIND", "GET", "PUT", "REPORT", "DELETE", "PROPPATCH",
                       "MKCALENDAR"):
            for creds in bad_credentials:
                body = event("nope").encode() if method == "PUT" else None
                h = dict(creds)
                if body is not None:
                    h["Content-Type"] = "text/calendar"
                r = call(server, method, path, raw_body=body, headers=h)
                assert r.status == 401, (method, path, creds, r)
                challenge = r.header("WWW-Authenticate") or ""
                assert re.match(r'(?i)^basic\s+realm="Ruche"', challenge), (method, path,
                                                                           challenge)
    # Nothing was written by any of those attempts.
    assert listing(server, user, paths(user)[1]) == []
    # OPTIONS is the exception: it answers without credentials (browsers send CORS preflights
    # without them), so its answer must be the same for every path, or it would tell a stranger
    # which users and objects exist.
    seen = set()
    for path in [t.format(u=user) for t in AUTH_PATHS] + [
            t.format(u=unique_name("nobody")) for t in AUTH_PATHS]:
        r = call(server, "OPTIONS", path)
        assert r.status in (200, 204, 401), (path, r)
        seen.add((r.status, r.header("DAV"), r.header("Allow"), r.body))
    assert len(seen) == 1, seen


def test_localpart_signs_in(server, user):
    tree = multistatus(propfind(server, user, "/dav/", "<d:current-user-principal/>"))
    el = prop(tree.find(D + "response"), D + "current-user-principal")
    assert href_path(el.findtext(D + "href")) == f"/dav/principals/{user}/"


def test_full_matrix_id_signs_in_with_account_or_app_password(server):
    # Contract: the user name is the localpart or the full Matrix ID. A Matrix ID holds a colon
    # (@alice:example.org) and RFC 7617 §2 splits user-pass at the first colon, so the server has
    # to recognise "@alice:<its server name>:" itself; clients just join user ":" password.
    user, token = new_user(server, PASSWORD)
    app = call(server, "POST", "/_ruche/v1/app_passwords", {"name": "mxid"}, token=token).json
    for password in (PASSWORD, app["password"]):
        r = propfind(server, server.mxid(user), "/dav/", "<d:current-user-principal/>",
                     password=password)
        tree = multistatus(r)
        el = prop(tree.find(D + "response"), D + "current-user-principal")
        assert href_path(el.findtext(D + "href")) == f"/dav/principals/{user}/"


def test_wrong_passwords_are_throttled_per_user(start_server):
    # Basic credentials come with every request, so guessing them must be rationed like logins:
    # after a few failures the account answers 429 with Retry-After, even to the right password
    # (which would otherwise tell the guesser it found it), and other accounts are unaffected.
    srv = start_server(relaxed_limits=False)
    user, _ = new_user(srv, PASSWORD)
    other, _ = new_user(srv, PASSWORD)
    cal = paths(user)[1]
    statuses = [propfind(srv, user, cal, "<d:displayname/>", password=f"guess {i}").status
                for i in range(30)]
    assert set(statuses) <= {401, 429} and 429 in statuses, statuses
    assert statuses.index(429) <= 20, statuses
    r = propfind(srv, user, cal, "<d:displayname/>")
    assert r.status == 429 and r.header("Retry-After"), r
    assert propfind(srv, other, paths(other)[1], "<d:displayname/>").status == 207


def test_options_advertises_calendar_access(server, user):
    home, cal = paths(user)
    for path in ("/dav/", home, cal):
        r = dav(server, "OPTIONS", path, user)
        assert r.status in (200, 204), (path, r)
        classes = {c.strip() for c in (r.header("DAV") or "").split(",")}
        # RFC 4918 §10.1 (class 1) and RFC 4791 §5.1 (calendar-access).
        assert {"1", "calendar-access"} <= classes, (path, r.header("DAV"))
        if "2" in classes:  # RFC 4918 §18.2: class 2 means LOCK and UNLOCK are supported.
            assert "LOCK" in (r.header("Allow") or ""), r.header("Allow")
        allow = {m.strip() for m in (r.header("Allow") or "").split(",")}
        assert {"OPTIONS", "PROPFIND"} <= allow, (path, allow)
    allow = dav(server, "OPTIONS", cal, user).header("Allow") or ""
    allow = {m.strip() for m in allow.split(",")}
    assert "REPORT" in allow, allow


# -- PROPFIND -----------------------------------------------------------------------------------


def test_propfind_walks_from_the_root_to_the_default_calendar(server, user):
    home, cal = paths(user)
    tree = multistatus(propfind(server, user, "/dav/", "<d:current-user-principal/>"))
    principal = href_path(prop(tree.find(D + "response"), D + "current-user-principal")
                          .findtext(D + "href"))
    assert principal == f"/dav/principals/{user}/"

    tree = multistatus(propfind(server, user, principal,
                                "<d:resourcetype/><c:calendar-home-set/><d:displayname/>"))
    [resp] = responses(tree).values()
    # RFC 3744 §4: a principal's resourcetype includes DAV:principal.
    assert prop(resp, D + "resourcetype").find(D + "principal") is not None
    assert href_path(prop(resp, C + "calendar-home-set").findtext(D + "href")) == home

    # Depth 0 on the home: the home alone, a collection that is not a calendar.
    tree = multistatus(propfind(server, user, home, "<d:resourcetype/>", depth="0"))
    assert list(responses(tree)) == [home]
    rt = prop(responses(tree)[home], D + "resourcetype")
    assert rt.find(D + "collection") is not None and rt.find(C + "calendar") is None

    # Depth 1: the home and its calendars; "Personal" exists on first DAV access.
    props = ("<d:resourcetype/><d:displayname/><c:supported-calendar-component-set/>"
             "<d:sync-token/><x:not-a-property xmlns:x='urn:ruche:tests'/>")
    tree = multistatus(propfind(server, user, home, props, depth="1"))
    found = responses(tree)
    assert set(found) == {home, cal}, list(found)
    rt = prop(found[cal], D + "resourcetype")
    assert rt.find(D + "collection") is not None and rt.find(C + "calendar") is not None
    assert prop(found[cal], D + "displayname").text == "Personal"
    comps = {c.get("name") for c in prop(found[cal], C + "supported-calendar-component-set")}
    assert "VEVENT" in comps, comps
    # RFC 4918 §9.1: an unknown property is reported in its own propstat with 404.
    code, _ = prop_status(found[cal], "{urn:ruche:tests}not-a-property")
    assert code == 404, ET.tostring(found[cal])[:800]
    # RFC 6578 §4: DAV:sync-token is a property of a collection that supports the report.
    assert prop(found[cal], D + "sync-token").text


def test_propfind_depth_1_on_a_calendar_lists_objects_with_their_etags(server, user):
    _, cal = paths(user)
    etags = {}
    for name in ("one.ics", "two.ics"):
        r = put_ics(server, user, cal + name, event(name[:-4]))
        assert r.status == 201, r
        etags[name] = r.header("ETag")
    tree = multistatus(propfind(server, user, cal, "<d:getetag/><d:getcontenttype/>",
                                depth="1"))
    found = responses(tree)
    assert set(found) == {cal, cal + "one.ics", cal + "two.ics"}, list(found)
    for name, etag in etags.items():
        got = dav(server, "GET", cal + name, user)
        assert got.status == 200
        listed = prop(found[cal + name], D + "getetag").text
        # The ETag of PUT (when given), of GET and of PROPFIND are the same value.
        assert listed == got.header("ETag"), (listed, got.header("ETag"))
        if etag is not None:
            assert etag == listed
        ctype = prop(found[cal + name], D + "getcontenttype").text
        assert ctype.split(";")[0].strip() == "text/calendar", ctype
    # An empty PROPFIND body means allprop (RFC 4918 §9.1).
    r = dav(server, "PROPFIND", cal, user, None, headers={"Depth": "0"})
    assert set(responses(multistatus(r))) == {cal}


# -- objects, ETags and preconditions -----------------------------------------------------------


def test_put_get_delete_with_etag_preconditions(server, user):
    _, cal = paths(user)
    path = cal + "meeting.ics"
    first = event("meeting", summary="First version")

    # RFC 7232 §3.1: If-Match on a resource that does not exist fails with 412.
    r = put_ics(server, user, path, first, If_Match='"does-not-exist"')
    assert r.status == 412, r
    assert dav(server, "GET", path, user).status == 404

    r = put_ics(server, user, path, first, If_None_Match="*")
    assert r.status == 201, r
    etag1 = r.header("ETag")
    assert etag1 and etag1.startswith('"') and etag1.endswith('"'), etag1  # strong ETag
    got = dav(server, "GET", path, user)
    assert got.status == 200 and got.header("ETag") == etag1
    assert got.header("Content-Type").split(";")[0] == "text/calendar"
    [ev] = components(got.body.decode(), "VEVENT")
    assert value(ev["UID"][0]) == "meeting" and value(ev["SUMMARY"][0]) == "First version"

    # RFC 7232 §3.2: If-None-Match: * on an existing resource fails with 412, nothing changes.
    r = put_ics(server, user, path, event("meeting", summary="Overwritten"), If_None_Match="*")
    assert r.status == 412, r
    # RFC 7232 §3.1: If-Match with another ETag fails with 412, nothing changes.
    r = put_ics(server, user, path, event("meeting", summary="Overwritten"),
                If_Match='"0123456789abcdef"')
    assert r.status == 412, r
    assert b"First version" in dav(server, "GET", path, user).body

    r = put_ics(server, user, path, event("meeting", summary="Second version"), If_Match=etag1)
    assert r.status in (200, 204), r  # RFC 7231 §4.3.4: an update is 200 or 204
    got = dav(server, "GET", path, user)
    etag2 = got.header("ETag")
    assert etag2 != etag1 and b"Second version" in got.body
    if r.header("ETag") is not None:
        assert r.header("ETag") == etag2

    # The old ETag is stale now: PUT and DELETE with it fail.
    assert put_ics(server, user, path, first, If_Match=etag1).status == 412
    assert dav(server, "DELETE", path, user, headers={"If-Match": etag1}).status == 412
    assert dav(server, "GET", path, user).header("ETag") == etag2

    r = dav(server, "DELETE", path, user, headers={"If-Match": etag2})
    assert r.status in (200, 204), r
    assert dav(server, "GET", path, user).status == 404
    assert dav(server, "DELETE", path, user).status == 404
    assert listing(server, user, cal) == []


def test_entity_tag_lists_weak_tags_and_conditional_get(server, user):
    # RFC 7232 details clients rely on less often, each checked and reported on its own.
    _, cal = paths(user)
    path = cal + "cond.ics"
    assert put_ics(server, user, path, event("cond")).status == 201
    problems = []

    def check(what, got, want):
        if got not in want:
            problems.append(f"{what}: got {got}, RFC 7232 wants {want}")

    etag = dav(server, "GET", path, user).header("ETag")
    # §3.1: If-Match: * is true when the resource exists; false (412) when it does not.
    check("PUT If-Match: * on an existing object",
          put_ics(server, user, path, event("cond"), If_Match="*").status, (200, 204))
    etag = dav(server, "GET", path, user).header("ETag")
    check("PUT If-Match: * on a missing object",
          put_ics(server, user, cal + "nothing.ics", event("nothing"), If_Match="*").status,
          (412,))
    # §3.1: If-Match takes a list; true when any member matches (strong comparison).
    r = put_ics(server, user, path, event("cond"), If_Match=f'"not-it", {etag}')
    check(f'PUT If-Match: "not-it", {etag} (the current ETag is in the list)', r.status,
          (200, 204))
    etag = dav(server, "GET", path, user).header("ETag")
    # §2.3.2: a weak tag never matches in the strong comparison If-Match uses.
    r = put_ics(server, user, path, event("cond"), If_Match="W/" + etag)
    check(f"PUT If-Match: W/{etag} (weak tag)", r.status, (412,))
    etag = dav(server, "GET", path, user).header("ETag")
    # §3.2: If-None-Match with the current ETag: false, so 412 for a PUT, 304 for a GET.
    r = put_ics(server, user, path, event("cond"), If_None_Match=etag)
    check(f"PUT If-None-Match: {etag} (the current ETag)", r.status, (412,))
    etag = dav(server, "GET", path, user).header("ETag")
    r = dav(server, "GET", path, user, headers={"If-None-Match": etag})
    check(f"GET If-None-Match: {etag} (the current ETag)", r.status, (304,))
    assert not problems, "\n".join(problems)


def test_unconditional_put_overwrites_and_a_uid_lives_in_one_object(server, user):
    _, cal = paths(user)
    assert put_ics(server, user, cal + "a.ics", event("same-uid")).status == 201
    r = put_ics(server, user, cal + "a.ics", event("same-uid", summary="Again"))
    assert r.status in (200, 204), r
    # RFC 4791 §4.1 / §5.3.2.1 (CALDAV:no-uid-conflict): one UID per calendar object resource.
    r = put_ics(server, user, cal + "b.ics", event("same-uid"))
    assert r.status in (403, 409), r
    assert b"no-uid-conflict" in r.body, r.body
    assert listing(server, user, cal) == ["a.ics"]


# -- calendars: MKCALENDAR, PROPPATCH, DELETE ---------------------------------------------------


def test_mkcalendar_proppatch_and_delete(server, user):
    home, cal = paths(user)
    work = home + "work/"
    body = (f'<c:mkcalendar {NS}><d:set><d:prop><d:displayname>Work</d:displayname></d:prop>'
            '</d:set></c:mkcalendar>')
    r = dav(server, "MKCALENDAR", work, user, body)
    assert r.status == 201, r
    # RFC 4791 §5.3.1.2 (DAV:resource-must-be-null) / RFC 4918 §9.3.1: not over an existing one.
    assert dav(server, "MKCALENDAR", work, user, body).status in (403, 405)
    # The body is optional (RFC 4791 §5.3.1).
    assert dav(server, "MKCALENDAR", home + "bare/", user).status == 201

    tree = multistatus(propfind(server, user, home, "<d:resourcetype/><d:displayname/>",
                                depth="1"))
    found = responses(tree)
    assert {home, cal, work, home + "bare/"} == set(found), list(found)
    assert prop(found[work], D + "displayname").text == "Work"
    assert prop(found[work], D + "resourcetype").find(C + "calendar") is not None

    patch = (f'<d:propertyupdate {NS}><d:set><d:prop><d:displayname>Travail</d:displayname>'
             '<a:calendar-color>#3A7BD5FF</a:calendar-color></d:prop></d:set>'
             '</d:propertyupdate>')
    tree = multistatus(dav(server, "PROPPATCH", work, user, patch))
    [resp] = responses(tree).values()
    assert prop_status(resp, D + "displayname")[0] == 200
    assert prop_status(resp, APPLE + "calendar-color")[0] == 200
    tree = multistatus(propfind(server, user, work, "<d:displayname/><a:calendar-color/>"))
    [resp] = responses(tree).values()
    assert prop(resp, D + "displayname").text == "Travail"
    assert prop(resp, APPLE + "calendar-color").text == "#3A7BD5FF"

    # RFC 4918 §14.23 remove: afterwards the property is not found.
    patch = (f'<d:propertyupdate {NS}><d:remove><d:prop><a:calendar-color/></d:prop>'
             '</d:remove></d:propertyupdate>')
    tree = multistatus(dav(server, "PROPPATCH", work, user, patch))
    tree = multistatus(propfind(server, user, work, "<a:calendar-color/>"))
    [resp] = responses(tree).values()
    assert prop_status(resp, APPLE + "calendar-color")[0] == 404

    # A calendar holds objects, not collections (RFC 4791 §4.2, §5.3.1.2
    # calendar-collection-location-ok), and nothing is made under a missing parent (409).
    assert dav(server, "MKCALENDAR", work + "inner/", user).status in (403, 405, 409)
    assert dav(server, "MKCOL", work + "inner/", user).status in (403, 405, 409, 415)
    assert dav(server, "MKCALENDAR", home + "missing/child/", user).status in (403, 409)
    tree = multistatus(propfind(server, user, work, "<d:resourcetype/>", depth="1"))
    assert list(responses(tree)) == [work]

    # DELETE removes the calendar and what it holds.
    assert put_ics(server, user, work + "e.ics", event("in-work")).status == 201
    r = dav(server, "DELETE", work, user)
    assert r.status in (200, 204), r
    assert propfind(server, user, work, "<d:displayname/>").status == 404
    assert dav(server, "GET", work + "e.ics", user).status == 404
    # Made again, it is empty and has its default name back.
    assert dav(server, "MKCALENDAR", work, user).status == 201
    assert listing(server, user, work) == []
    # The UID of the deleted object is free again.
    assert put_ics(server, user, work + "e.ics", event("in-work")).status == 201


# -- REPORT calendar-query ----------------------------------------------------------------------

WEEK = ("20270327T000000Z", "20270403T000000Z")  # the week of the 28 March 2027 DST change


def load_query_calendar(server, user, cal):
    objects = {
        # Mondays 09:00 Paris from 15 March 2027, no end: 08:00 UTC, then 07:00 UTC from the
        # 29th (the clocks change on Sunday 28 March).
        "weekly-paris.ics": calendar(*vevent(
            "weekly-paris", "RRULE:FREQ=WEEKLY",
            start="DTSTART;TZID=Europe/Paris:20270315T090000",
            end="DTEND;TZID=Europe/Paris:20270315T093000"), tz=True),
        "inside.ics": event("inside", start="20270330T120000Z", end="20270330T130000Z"),
        "outside.ics": event("outside", start="20270601T120000Z", end="20270601T130000Z"),
        # Recurring, but every instance is before the range.
        "ended-count.ics": event("ended-count", "RRULE:FREQ=DAILY;COUNT=3",
                                 start="20270101T120000Z", end="20270101T130000Z"),
        "ended-until.ics": event("ended-until", "RRULE:FREQ=WEEKLY;UNTIL=20270320T235959Z",
                                 start="20270105T120000Z", end="20270105T130000Z"),
        # Recurring, first instance after the range.
        "later.ics": event("later", "RRULE:FREQ=WEEKLY", start="20270503T120000Z",
                           end="20270503T130000Z"),
        # Tuesdays; the only instance in the range is excluded by EXDATE.
        "excluded.ics": event("excluded", "RRULE:FREQ=WEEKLY", "EXDATE:20270330T150000Z",
                              start="20270105T150000Z", end="20270105T160000Z"),
        # The series ends before the range, but one instance was moved into it
        # (RFC 4791 §9.9: overridden instances are matched where they now are).
        "moved.ics": calendar(
            *vevent("moved", "RRULE:FREQ=WEEKLY;UNTIL=20270325T000000Z",
                    start="20270106T100000Z", end="20270106T110000Z"),
            *vevent("moved", "RECURRENCE-ID:20270324T100000Z", start="20270331T100000Z",
                    end="20270331T110000Z", summary="Moved instance")),
        # An all-day event (DATE values) inside the range, and one with a DURATION.
        "all-day.ics": event("all-day", start="DTSTART;VALUE=DATE:20270330",
                             end="DTEND;VALUE=DATE:20270331"),
        "duration.ics": event("duration", "DURATION:PT2H", start="20270401T080000Z", end=None),
        # A VTODO never matches a VEVENT comp-filter.
        "todo.ics": calendar("BEGIN:VTODO", "UID:todo", "DTSTAMP:20270101T000000Z",
                             "DTSTART:20270330T080000Z", "DUE:20270330T090000Z",
                             "SUMMARY:A task", "END:VTODO"),
    }
    for name, text in objects.items():
        r = put_ics(server, user, cal + name, text)
        assert r.status == 201, (name, r)
    return objects


def test_calendar_query_time_range_matches_recurrences(server, user):
    _, cal = paths(user)
    objects = load_query_calendar(server, user, cal)
    tree = multistatus(dav(server, "REPORT", cal, user, time_range_query(*WEEK),
                           headers={"Depth": "1"}))
    found = responses(tree)
    expected = {"weekly-paris.ics", "inside.ics", "moved.ics", "all-day.ics", "duration.ics"}
    assert {p[len(cal):] for p in found} == expected, sorted(found)
    for path, resp in found.items():
        # Without <c:expand>, calendar-data is the object as stored (RFC 4791 §9.6).
        data = prop(resp, C + "calendar-data").text
        name = path[len(cal):]
        assert [value(c["UID"][0]) for c in components(data, "VEVENT")][0] == \
            [value(c["UID"][0]) for c in components(objects[name], "VEVENT")][0]
        got = dav(server, "GET", path, user)
        assert prop(resp, D + "getetag").text == got.header("ETag")
    # The same over a range with nothing in it (a Saturday in April; weekly-paris is Monday).
    tree = multistatus(dav(server, "REPORT", cal, user,
                           time_range_query("20270410T000000Z", "20270411T000000Z"),
                           headers={"Depth": "1"}))
    assert responses(tree) == {}
    # VTODO filter: only the task.
    tree = multistatus(dav(server, "REPORT", cal, user,
                           time_range_query(*WEEK, comp="VTODO"), headers={"Depth": "1"}))
    assert [p[len(cal):] for p in responses(tree)] == ["todo.ics"]


def test_calendar_query_expand_returns_utc_instances_across_dst(server, user):
    _, cal = paths(user)
    load_query_calendar(server, user, cal)
    window = ("20270320T000000Z", "20270410T000000Z")
    tree = multistatus(dav(server, "REPORT", cal, user,
                           time_range_query(*window, expand=window), headers={"Depth": "1"}))
    found = responses(tree)
    data = prop(found[cal + "weekly-paris.ics"], C + "calendar-data").text
    instances = components(data, "VEVENT")
    starts = [value(i["DTSTART"][0]) for i in instances]
    # RFC 4791 §9.6.5: one component per instance, in UTC, with RECURRENCE-ID, no RRULE, no
    # VTIMEZONE. 09:00 Paris = 08:00 UTC on 22 March, 07:00 UTC on 29 March and 5 April.
    assert starts == ["20270322T080000Z", "20270329T070000Z", "20270405T070000Z"], data
    for inst in instances:
        assert "RRULE" not in inst and "RECURRENCE-ID" in inst, inst
        assert all(";TZID=" not in line for lines in inst.values() for line in lines), inst
    assert [value(i["DTEND"][0]) for i in instances] == \
        ["20270322T083000Z", "20270329T073000Z", "20270405T073000Z"]
    assert value(instances[1]["RECURRENCE-ID"][0]) == "20270329T070000Z"
    assert "BEGIN:VTIMEZONE" not in data
    # The moved instance comes back where it was moved to, the rest of its series ended.
    moved = components(prop(found[cal + "moved.ics"], C + "calendar-data").text, "VEVENT")
    assert [value(i["DTSTART"][0]) for i in moved] == ["20270331T100000Z"]
    assert value(moved[0]["SUMMARY"][0]) == "Moved instance"
    # Tuesdays at 15:00 UTC except the excluded 30 March.
    excluded = components(prop(found[cal + "excluded.ics"], C + "calendar-data").text,
                          "VEVENT")
    assert [value(i["DTSTART"][0]) for i in excluded] == ["20270323T150000Z",
                                                        "20270406T150000Z"]


def test_time_zones_defined_in_the_object_are_used(server, user):
    # Outlook/Exchange name zones the Windows way ("W. Europe Standard Time") and include their
    # VTIMEZONE; RFC 5545 §3.6.5 lets any TZID be defined that way. Such objects are stored and
    # expanded with the rules they carry (here the same as Paris: 08:00 UTC, then 07:00 UTC).
    _, cal = paths(user)
    for i, tzid in enumerate(("W. Europe Standard Time", "Custom/Nowhere")):
        vtz = [line.replace("Europe/Paris", tzid) for line in PARIS_VTIMEZONE]
        text = CRLF.join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:Microsoft Exchange Server",
                          *vtz, *vevent(f"tz-{i}", "RRULE:FREQ=WEEKLY",
                                        start=f"DTSTART;TZID={tzid}:20270315T090000",
                                        end=f"DTEND;TZID={tzid}:20270315T093000"),
                          "END:VCALENDAR"]) + CRLF
        assert put_ics(server, user, cal + f"tz-{i}.ics", text).status == 201, tzid
    window = ("20270320T000000Z", "20270410T000000Z")
    tree = multistatus(dav(server, "REPORT", cal, user,
                           time_range_query(*window, expand=window), headers={"Depth": "1"}))
    found = responses(tree)
    for i in range(2):
        data = prop(found[cal + f"tz-{i}.ics"], C + "calendar-data").text
        assert [value(v["DTSTART"][0]) for v in components(data, "VEVENT")] == \
            ["20270322T080000Z", "20270329T070000Z", "20270405T070000Z"], data


def test_impossible_and_unbounded_rules_are_answered_quickly(server, user):
    _, cal = paths(user)
    names = {
        # 30 February never happens: an expansion that searches for it must stop.
        "never.ics": event("never", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
                           start="20270101T100000Z", end="20270101T110000Z"),
        "secondly.ics": event("secondly", "RRULE:FREQ=SECONDLY", start="20270101T000000Z",
                              end="20270101T000001Z"),
    }
    stored = []
    for name, text in names.items():
        r = put_ics(server, user, cal + name, text)
        # Refusing such a rule is as good as storing it, as long as it is a clear 4xx.
        assert r.status in (201, 400, 403), (name, r)
        if r.status == 201:
            stored.append(name)
    # The range starts after DTSTART, which is always the first instance (RFC 5545 §3.8.5.3):
    # "never" has no instance there, and finding that out must not take forever.
    t0 = time.monotonic()
    r = dav(server, "REPORT", cal, user,
            time_range_query("20270201T000000Z", "20370101T000000Z"), headers={"Depth": "1"})
    assert r.status in (207, 403, 507), r  # 507: RFC 4918 §11.5, too many results
    assert time.monotonic() - t0 < 10
    if r.status == 207 and "never.ics" in stored:
        assert cal + "never.ics" not in responses(ET.fromstring(r.body))
    # Expanding a secondly rule over ten years would be 315 million instances.
    t0 = time.monotonic()
    window = ("20270101T000000Z", "20370101T000000Z")
    r = dav(server, "REPORT", cal, user, time_range_query(*window, expand=window),
            headers={"Depth": "1"})
    assert r.status in (207, 403, 413, 507), r
    assert time.monotonic() - t0 < 10
    assert len(r.body) < 64 << 20


def test_a_stored_sub_daily_rule_matches_wherever_it_occurs(server, user):
    # RFC 4791 §9.9: a recurring component matches when any instance overlaps the range. A
    # server may bound its expansion work, but then it must refuse the rule at PUT (a 4xx) rather
    # than store it and silently stop matching it some months later.
    _, cal = paths(user)
    # Each occurs every day of 2027 between 09:00 and 10:00 UTC.
    rules = {
        "secondly": ("RRULE:FREQ=SECONDLY", "20270101T000000Z", "20270101T000001Z"),
        "minutely": ("RRULE:FREQ=MINUTELY", "20270101T000000Z", "20270101T000030Z"),
        "minutely-count": ("RRULE:FREQ=MINUTELY;COUNT=1000000", "20270101T000000Z",
                           "20270101T000030Z"),
        "hourly-since-2010": ("RRULE:FREQ=HOURLY", "20100101T000000Z", "20100101T003000Z"),
        "daily-since-1990": ("RRULE:FREQ=DAILY", "19900101T090000Z", "19900101T093000Z"),
        "daily-count": ("RRULE:FREQ=DAILY;COUNT=20000", "19900101T090000Z",
                        "19900101T093000Z"),
    }
    stored = []
    for name, (rule, start, end) in rules.items():
        r = put_ics(server, user, cal + f"{name}.ics", event(name, rule, start=start, end=end))
        assert r.status in (201, 400, 403), (name, r)
        if r.status == 201:
            stored.append(name)
    problems = []
    for day in ("20270201", "20270601", "20270901", "20271201"):
        tree = multistatus(dav(server, "REPORT", cal, user,
                               time_range_query(f"{day}T090000Z", f"{day}T100000Z"),
                               headers={"Depth": "1"}))
        found = {p[len(cal):-4] for p in responses(tree)}
        for name in stored:
            if name not in found:
                problems.append(f"{rules[name][0]} from {rules[name][1]} (PUT 201) does not "
                                f"match {day} 09:00-10:00 UTC")
    assert not problems, "\n".join(problems)


# -- calendar-multiget, sync-collection, free-busy ----------------------------------------------


def test_calendar_multiget(server, user):
    _, cal = paths(user)
    for uid in ("m1", "m2", "m3"):
        assert put_ics(server, user, cal + f"{uid}.ics", event(uid)).status == 201
    body = (f'<c:calendar-multiget {NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>'
            f'<d:href>{cal}m1.ics</d:href><d:href>{cal}m3.ics</d:href>'
            f'<d:href>{cal}absent.ics</d:href></c:calendar-multiget>')
    tree = multistatus(dav(server, "REPORT", cal, user, body, headers={"Depth": "1"}))
    found = responses(tree)
    assert set(found) == {cal + "m1.ics", cal + "m3.ics", cal + "absent.ics"}
    for name in ("m1.ics", "m3.ics"):
        got = dav(server, "GET", cal + name, user)
        assert prop(found[cal + name], D + "getetag").text == got.header("ETag")
        data = prop(found[cal + name], C + "calendar-data").text
        assert unfold(data) == unfold(got.body.decode())
    # RFC 4791 §7.9: a missing href gets a response with 404.
    assert status_of(found[cal + "absent.ics"]) == 404


def test_sync_collection_reports_additions_changes_and_deletions(server, user):
    _, cal = paths(user)
    assert put_ics(server, user, cal + "kept.ics", event("kept")).status == 201
    assert put_ics(server, user, cal + "changed.ics", event("changed")).status == 201
    assert put_ics(server, user, cal + "gone.ics", event("gone")).status == 201

    # RFC 6578 §3.8: an empty token is the initial sync: every member, and a token.
    tree = multistatus(sync_report(server, user, cal))
    token1 = tree.findtext(D + "sync-token")
    assert token1
    found = responses(tree)
    assert set(found) == {cal + "kept.ics", cal + "changed.ics", cal + "gone.ics"}
    for resp in found.values():
        assert prop(resp, D + "getetag").text
    # The token is also the collection's DAV:sync-token property (RFC 6578 §4).
    tree = multistatus(propfind(server, user, cal, "<d:sync-token/>"))
    assert prop(tree.find(D + "response"), D + "sync-token").text == token1

    # Nothing changed: no member reported.
    tree = multistatus(sync_report(server, user, cal, token1))
    assert responses(tree) == {}
    assert tree.findtext(D + "sync-token")

    # An addition.
    assert put_ics(server, user, cal + "new.ics", event("new")).status == 201
    tree = multistatus(sync_report(server, user, cal, token1))
    token2 = tree.findtext(D + "sync-token")
    assert token2 and token2 != token1
    assert set(responses(tree)) == {cal + "new.ics"}

    # A change and a deletion.
    assert put_ics(server, user, cal + "changed.ics",
                   event("changed", summary="Changed")).status in (200, 204)
    assert dav(server, "DELETE", cal + "gone.ics", user).status in (200, 204)
    tree = multistatus(sync_report(server, user, cal, token2))
    token3 = tree.findtext(D + "sync-token")
    assert token3 and token3 not in (token1, token2)
    found = responses(tree)
    assert set(found) == {cal + "changed.ics", cal + "gone.ics"}, list(found)
    assert prop(found[cal + "changed.ics"], D + "getetag").text == \
        dav(server, "GET", cal + "changed.ics", user).header("ETag")
    # RFC 6578 §3.5.2: a removed member is a response with a 404 status and no propstat.
    assert status_of(found[cal + "gone.ics"]) == 404
    assert found[cal + "gone.ics"].find(D + "propstat") is None

    # From the first token the server reports all three changes.
    tree = multistatus(sync_report(server, user, cal, token1))
    assert set(responses(tree)) == {cal + "new.ics", cal + "changed.ics", cal + "gone.ics"}

    # RFC 6578 §3.2: a token the server never gave is refused with DAV:valid-sync-token.
    for bogus in ("http://example.com/not-a-token", token1 + "0", "garbage"):
        r = sync_report(server, user, cal, bogus)
        assert r.status in (403, 409), (bogus, r)
        assert b"valid-sync-token" in r.body, r.body

    # A token of another calendar is not valid here either ... unless tokens are global.
    home, _ = paths(user)
    assert dav(server, "MKCALENDAR", home + "other/", user).status == 201
    other = sync_token(server, user, home + "other/")
    r = sync_report(server, user, cal, other)
    if r.status == 207:
        # Then it must not drop the changes made here since that point (RFC 6578 §3.2).
        assert set(responses(ET.fromstring(r.body))) <= {cal + n for n in
                                                         ("kept.ics", "changed.ics",
                                                          "gone.ics", "new.ics")}
    else:
        assert r.status in (403, 409) and b"valid-sync-token" in r.body, r


def test_sync_collection_honours_a_client_limit(server, user):
    # RFC 6578 §3.7: with DAV:limit/DAV:nresults the server either truncates at or below the
    # number (§3.6: a 507 response for the Request-URI, and a token for the part returned, from
    # which the client asks again) or fails the request (DAV:number-of-matches-within-limits).
    _, cal = paths(user)
    for i in range(5):
        assert put_ics(server, user, cal + f"l{i}.ics", event(f"l{i}")).status == 201
    seen, token = set(), ""
    for _ in range(10):
        body = (f'<d:sync-collection {NS}><d:sync-token>{token}</d:sync-token>'
                '<d:sync-level>1</d:sync-level><d:limit><d:nresults>2</d:nresults></d:limit>'
                '<d:prop><d:getetag/></d:prop></d:sync-collection>')
        r = dav(server, "REPORT", cal, user, body)
        if r.status != 207:
            assert r.status in (403, 507) and b"number-of-matches-within-limits" in r.body, r
            return
        tree = ET.fromstring(r.body)
        found = responses(tree)
        truncated = cal in found and status_of(found[cal]) == 507
        members = {p for p in found if p != cal}
        assert len(members) <= 2, f"nresults 2, got {len(members)} members: {sorted(members)}"
        seen |= members
        token = tree.findtext(D + "sync-token")
        if not truncated:
            break
    assert seen == {cal + f"l{i}.ics" for i in range(5)}, sorted(seen)


def freebusy_periods(ics: str) -> list[tuple[str, str, str]]:
    """(fbtype, start, end-or-duration) for each FREEBUSY period of each VFREEBUSY."""
    out = []
    for fb in components(ics, "VFREEBUSY"):
        for line in fb.get("FREEBUSY", []):
            params = line.split(":", 1)[0]
            m = re.search(r";FBTYPE=([A-Z-]+)", params, re.I)
            fbtype = m.group(1).upper() if m else "BUSY"  # RFC 5545 §3.2.9 default
            for period in value(line).split(","):
                start, _, end = period.partition("/")
                out.append((fbtype, start, end))
    return out


def test_free_busy_query(server, user):
    _, cal = paths(user)
    texts = {
        "busy.ics": event("busy", start="20270104T100000Z", end="20270104T110000Z"),
        "paris.ics": calendar(*vevent("paris", "RRULE:FREQ=WEEKLY;COUNT=3",
                                      start="DTSTART;TZID=Europe/Paris:20270315T090000",
                                      end="DTEND;TZID=Europe/Paris:20270315T100000"), tz=True),
        # RFC 4791 §7.10: transparent and cancelled events are not busy time.
        "transparent.ics": event("transparent", "TRANSP:TRANSPARENT",
                                 start="20270105T100000Z", end="20270105T110000Z"),
        "cancelled.ics": event("cancelled", "STATUS:CANCELLED", start="20270106T100000Z",
                               end="20270106T110000Z"),
        "tentative.ics": event("tentative", "STATUS:TENTATIVE", start="20270107T100000Z",
                               end="20270107T110000Z"),
        "outside.ics": event("outside", start="20270601T100000Z", end="20270601T110000Z"),
    }
    for name, text in texts.items():
        assert put_ics(server, user, cal + name, text).status == 201, name
    body = (f'<c:free-busy-query {NS}><c:time-range start="20270101T000000Z" '
            'end="20270401T000000Z"/></c:free-busy-query>')
    r = dav(server, "REPORT", cal, user, body, headers={"Depth": "1"})
    # RFC 4791 §7.10: 200 with a text/calendar body holding one VFREEBUSY.
    assert r.status == 200, r
    assert r.header("Content-Type").split(";")[0].strip() == "text/calendar"
    text = r.body.decode()
    assert len(components(text, "VFREEBUSY")) == 1, text
    periods = freebusy_periods(text)

    def busy(fbtype, start, end, duration):
        return (fbtype, start, end) in periods or (fbtype, start, duration) in periods

    assert busy("BUSY", "20270104T100000Z", "20270104T110000Z", "PT1H"), periods
    # 09:00-10:00 Paris: 08:00 UTC before the DST change, 07:00 UTC after.
    assert busy("BUSY", "20270315T080000Z", "20270315T090000Z", "PT1H"), periods
    assert busy("BUSY", "20270322T080000Z", "20270322T090000Z", "PT1H"), periods
    assert busy("BUSY", "20270329T070000Z", "20270329T080000Z", "PT1H"), periods
    assert busy("BUSY-TENTATIVE", "20270107T100000Z", "20270107T110000Z", "PT1H"), periods
    starts = {p[1] for p in periods}
    assert "20270105T100000Z" not in starts and "20270106T100000Z" not in starts, periods
    assert not any(s.startswith("202706") for s in starts), periods
    # No other data leaks into free-busy (RFC 4791 §7.10: only busy time).
    assert "SUMMARY" not in text and "Event busy" not in text


# -- names, concurrency, recreated calendars ----------------------------------------------------


def test_object_names_and_display_names_survive_escaping(server, user):
    # RFC 4918 §8.3: hrefs are URI references, escaped; a name with '&', a space or UTF-8 comes
    # back as an href that decodes to the same name, inside well-formed XML.
    home, cal = paths(user)
    names = ["a b.ics", "café.ics", "a&b.ics", "x+y.ics", "日本.ics"]
    for i, name in enumerate(names):
        path = cal + urllib.parse.quote(name)
        r = put_ics(server, user, path, event(f"name-{i}"))
        assert r.status == 201, (name, r)
        got = dav(server, "GET", path, user)
        assert got.status == 200 and f"UID:name-{i}".encode() in got.body, (name, got)
    tree = multistatus(propfind(server, user, cal, "<d:getetag/>", depth="1"))
    assert sorted(p[len(cal):] for p in responses(tree) if p != cal) == sorted(names)
    for href in tree.iterfind(f"{D}response/{D}href"):
        # The href as sent must itself be usable as a request path.
        assert dav(server, "GET" if href.text.endswith(".ics") else "PROPFIND",
                   urllib.parse.urlsplit(href.text).path, user).status in (200, 207), href.text
    label = "Agenda d'équipe <R&D> 日本"
    patch = (f'<d:propertyupdate {NS}><d:set><d:prop><d:displayname>'
             f'{label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}'
             '</d:displayname></d:prop></d:set></d:propertyupdate>')
    multistatus(dav(server, "PROPPATCH", cal, user, patch))
    tree = multistatus(propfind(server, user, home, "<d:displayname/>", depth="1"))
    assert prop(responses(tree)[cal], D + "displayname").text == label


def test_head_returns_the_etag_without_a_body(server, user):
    _, cal = paths(user)
    r = put_ics(server, user, cal + "h.ics", event("h"))
    got = dav(server, "GET", cal + "h.ics", user)
    head = dav(server, "HEAD", cal + "h.ics", user)
    assert head.status == 200 and head.body == b"", head
    assert head.header("ETag") == got.header("ETag")
    if r.header("ETag"):
        assert r.header("ETag") == got.header("ETag")


def test_getctag_changes_with_the_calendar(server, user):
    # Not in the RFCs, but Thunderbird and many clients poll CalendarServer's getctag to decide
    # whether to sync: when it is offered, it must change on every change of a member.
    _, cal = paths(user)

    def ctag():
        tree = multistatus(propfind(server, user, cal, "<cs:getctag/>"))
        code, el = prop_status(tree.find(D + "response"), CS + "getctag")
        return el.text if code == 200 else None

    first = ctag()
    if first is None:
        pytest.skip("no getctag offered")
    assert put_ics(server, user, cal + "c.ics", event("c")).status == 201
    second = ctag()
    assert put_ics(server, user, cal + "c.ics", event("c", summary="new")).status in (200, 204)
    third = ctag()
    assert dav(server, "DELETE", cal + "c.ics", user).status in (200, 204)
    fourth = ctag()
    assert len({first, second, third, fourth}) == 4, (first, second, third, fourth)


def test_propfind_depth_infinity_is_bounded(server, user):
    # RFC 4918 §9.1: a server may refuse Depth: infinity (403 with DAV:propfind-finite-depth);
    # if it answers, it answers quickly.
    home, _ = paths(user)
    t0 = time.monotonic()
    r = dav(server, "PROPFIND", home, user, None, headers={"Depth": "infinity"})
    assert time.monotonic() - t0 < 5
    assert r.status in (207, 403), r
    if r.status == 403:
        assert b"propfind-finite-depth" in r.body, r.body


def test_concurrent_creates_store_exactly_one(server, user):
    _, cal = paths(user)
    barrier = threading.Barrier(8)
    statuses = []

    def create(i, path, uid):
        barrier.wait()
        r = put_ics(server, user, path, event(uid, summary=f"writer {i}"), If_None_Match="*")
        statuses.append(r.status)

    # Eight writers, one new name, If-None-Match: *: one 201, seven 412 (RFC 7232 §3.2).
    threads = [threading.Thread(target=create, args=(i, cal + "race.ics", "race"))
               for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(statuses) == [201] + [412] * 7, statuses
    # Eight writers, one UID, eight names: one object (RFC 4791 §5.3.2.1 no-uid-conflict).
    statuses.clear()
    barrier.reset()
    threads = [threading.Thread(target=create, args=(i, cal + f"uid-{i}.ics", "same-uid"))
               for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(statuses) == [201] + [403] * 7 or sorted(statuses) == [201] + [409] * 7, \
        statuses
    assert len([n for n in listing(server, user, cal) if n.startswith("uid-")]) == 1


def test_a_token_of_a_deleted_calendar_does_not_hide_the_new_one(server, user):
    # A calendar deleted and made again under the same URL is a new collection: a client's old
    # token must either be refused (DAV:valid-sync-token) or report the new members. Anything
    # else leaves the client believing it is up to date with objects it has never seen.
    home, _ = paths(user)
    cal = home + "reborn/"
    assert dav(server, "MKCALENDAR", cal, user).status == 201
    assert put_ics(server, user, cal + "old.ics", event("old")).status == 201
    old_token = sync_token(server, user, cal)
    assert dav(server, "DELETE", cal, user).status in (200, 204)
    assert dav(server, "MKCALENDAR", cal, user).status == 201
    for i in range(3):
        assert put_ics(server, user, cal + f"new{i}.ics", event(f"new{i}")).status == 201
    r = sync_report(server, user, cal, old_token)
    if r.status == 207:
        found = responses(ET.fromstring(r.body))
        missing = {cal + f"new{i}.ics" for i in range(3)} - set(found)
        assert not missing, f"token {old_token} of the deleted calendar accepted; not reported: " \
            f"{sorted(missing)}\n{r.body.decode()}"
        # The client also has to learn that old.ics is gone (RFC 6578 §3.5.2: 404 response).
        assert cal + "old.ics" in found and status_of(found[cal + "old.ics"]) == 404, \
            f"token {old_token} accepted; the deletion of old.ics is not reported\n" \
            f"{r.body.decode()}"
    else:
        assert r.status in (403, 409) and b"valid-sync-token" in r.body, r


def test_acknowledged_writes_and_sync_tokens_survive_kill_9(start_server, workdir):
    # What a 201/204 acknowledged is on disk: after kill -9 and a restart on the same folder,
    # every acknowledged PUT is there with its text, every acknowledged DELETE stays deleted, and
    # a token handed out before the kill still reports what changed after it (tokens neither
    # repeat nor go back).
    data = workdir / "data"
    srv = start_server(data_dir=data)
    user, _ = new_user(srv, PASSWORD)
    cal = paths(user)[1]
    rng = random.Random(4791)
    created, deleted, deleting = {}, set(), set()
    for round_no in range(4):
        stop = threading.Event()
        lock = threading.Lock()

        def writer(w):
            n = 0
            while not stop.is_set():
                name = f"r{round_no}-w{w}-{n}.ics"
                try:
                    r = put_ics(srv, user, cal + name, event(name[:-4]))
                except (OSError, http.client.HTTPException):
                    return  # killed under us: never acknowledged
                if r.status == 201:
                    with lock:
                        created[name] = name[:-4]
                    if n % 3 == 2:
                        victim = f"r{round_no}-w{w}-{n - 1}.ics"
                        with lock:
                            deleting.add(victim)  # may be applied even if never answered
                        try:
                            d = dav(srv, "DELETE", cal + victim, user)
                        except (OSError, http.client.HTTPException):
                            return
                        if d.status in (200, 204):
                            with lock:
                                deleted.add(victim)
                n += 1

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
        [t.start() for t in threads]
        time.sleep(rng.uniform(0.2, 0.8))
        token = sync_token(srv, user, cal)
        time.sleep(rng.uniform(0.05, 0.3))
        srv.stop(signal.SIGKILL)
        stop.set()
        [t.join(10) for t in threads]
        srv = start_server(data_dir=data)
        present = set(listing(srv, user, cal))
        missing = set(created) - deleting - present
        assert not missing, (round_no, sorted(missing)[:10])
        assert not (deleted & present), (round_no, sorted(deleted & present)[:10])
        for name in sorted(set(created) - deleting)[-20:]:
            got = dav(srv, "GET", cal + name, user)
            assert f"UID:{created[name]}".encode() in got.body, (round_no, name, got)
        assert put_ics(srv, user, cal + f"after-{round_no}.ics",
                       event(f"after-{round_no}")).status == 201
        r = sync_report(srv, user, cal, token)
        assert r.status == 207, (round_no, token, r)
        assert cal + f"after-{round_no}.ics" in responses(ET.fromstring(r.body)), \
            (round_no, token, r.body[-500:])
        assert ET.fromstring(r.body).findtext(D + "sync-token") != token
    assert len(created) > 20, "the writers got few answers: the test proves little"


# -- bad input ----------------------------------------------------------------------------------


def assert_calendar_unchanged(server, user, cal, token, names):
    assert listing(server, user, cal) == sorted(names)
    assert sync_token(server, user, cal) == token


def assert_refused_object(r, what):
    # Contract: malformed iCalendar is 400, or 403/415 naming a CalDAV precondition.
    assert r.status in (400, 403, 415), (what, r)
    if r.status in (403, 415):
        assert any(p in r.body for p in CALDAV_PRECONDITIONS), (what, r.body)


MALFORMED_OBJECTS = {
    "not iCalendar": "this is not a calendar",
    "empty body": "",
    "no END:VCALENDAR": calendar(*vevent("open"))[:-len("END:VCALENDAR\r\n")],
    "unbalanced END": event("unbalanced").replace("END:VEVENT", "END:VTODO"),
    "line without colon": event("nocolon").replace("SUMMARY:", "SUMMARY"),
    "impossible date": event("baddate", start="20271345T250000Z"),
    "DTEND before DTSTART": event("backwards", start="20270104T110000Z",
                                  end="20270104T100000Z"),
    "no UID": event("x").replace("UID:x\r\n", ""),
    "METHOD in a stored object": event("method").replace("VERSION:2.0",
                                                         "VERSION:2.0\r\nMETHOD:REQUEST"),
    "two UIDs in one object": calendar(*vevent("first"), *vevent("second")),
    "VEVENT and VTODO together": calendar(*vevent("mixed"), "BEGIN:VTODO", "UID:mixed",
                                          "DTSTAMP:20270101T000000Z", "END:VTODO"),
    "no component": calendar(),
    "unknown TZID without VTIMEZONE": event(
        "mars", start="DTSTART;TZID=Mars/Olympus_Mons:20270104T100000",
        end="DTEND;TZID=Mars/Olympus_Mons:20270104T110000"),
    "invalid UTF-8": "BINARY",  # replaced below
    "NUL bytes": event("nul").replace("SUMMARY:", "SUMMARY:\x00\x00"),
    "a VCARD": "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alice\r\nEND:VCARD\r\n",
}


def test_malformed_icalendar_is_refused_and_nothing_is_stored(server, user):
    _, cal = paths(user)
    # One good object, so "nothing stored" also means "the good one is intact".
    r = put_ics(server, user, cal + "good.ics", event("good", summary="Good one"))
    assert r.status == 201
    good_etag = dav(server, "GET", cal + "good.ics", user).header("ETag")
    token = sync_token(server, user, cal)
    problems = []
    for what, text in MALFORMED_OBJECTS.items():
        body = text.encode("utf-8")
        if what == "invalid UTF-8":
            body = event("utf8").replace("SUMMARY:Event utf8", "SUMMARY:\udcff").encode(
                "utf-8", "surrogateescape")
        try:
            r = put_ics(server, user, cal + "bad.ics", body)
            assert_refused_object(r, what)
            # Over an existing object: refused, and the old version stays.
            r = put_ics(server, user, cal + "good.ics", body)
            assert_refused_object(r, what + " (over an existing object)")
        except AssertionError as e:
            problems.append(str(e))
            dav(server, "DELETE", cal + "bad.ics", user)  # so the next case starts clean
            put_ics(server, user, cal + "good.ics", event("good", summary="Good one"))
            good_etag = dav(server, "GET", cal + "good.ics", user).header("ETag")
            token = sync_token(server, user, cal)
            continue
        got = dav(server, "GET", cal + "good.ics", user)
        assert got.header("ETag") == good_etag and b"Good one" in got.body, what
        assert dav(server, "GET", cal + "bad.ics", user).status == 404, what
    assert not problems, "accepted malformed objects:\n" + "\n".join(problems)
    assert_calendar_unchanged(server, user, cal, token, ["good.ics"])
    # A body that is not text/calendar (RFC 4791 §5.3.2.1 supported-calendar-data).
    r = dav(server, "PUT", cal + "bad.ics", user, event("typed"),
            headers={"Content-Type": "application/json"})
    assert r.status in (400, 403, 415), r
    assert_calendar_unchanged(server, user, cal, token, ["good.ics"])


def test_reports_stay_well_formed_xml_whatever_was_put(server, user):
    # XML 1.0 (§2.2 Char) cannot carry C0 controls other than tab/LF/CR, U+FFFE/U+FFFF or
    # invalid UTF-8, even as character references; RFC 5545 §3.3.11 forbids the controls in TEXT
    # too. An object holding them must be refused at PUT: stored, it would turn every REPORT
    # that includes its calendar-data into ill-formed XML, and the whole calendar stops syncing.
    home, _ = paths(user)
    summaries = {"U+0001": "a\x01b", "ESC": "a\x1bb", "form feed": "a\x0cb",
                 "U+FFFE": "a\ufffeb", "invalid UTF-8": None}
    problems = []
    for what, summary in summaries.items():
        cal = f"{home}c{abs(hash(what)) % 10**8}/"
        assert dav(server, "MKCALENDAR", cal, user).status == 201
        if summary is None:
            body = event("x").replace("SUMMARY:Event x", "SUMMARY:a\udcffb").encode(
                "utf-8", "surrogateescape")
        else:
            body = event("x", summary=summary).encode("utf-8")
        r = put_ics(server, user, cal + "x.ics", body)
        if r.status not in (200, 201, 204):
            assert_refused_object(r, what)
            continue
        for report in (time_range_query("20270101T000000Z", "20280101T000000Z"),
                       f'<c:calendar-multiget {NS}><d:prop><c:calendar-data/></d:prop>'
                       f'<d:href>{cal}x.ics</d:href></c:calendar-multiget>'):
            r = dav(server, "REPORT", cal, user, report, headers={"Depth": "1"})
            try:
                ET.fromstring(r.body)
            except ET.ParseError as e:
                problems.append(f"{what} in SUMMARY: PUT 201, then REPORT "
                                f"{report[3:25]}... gives ill-formed XML ({e})")
    assert not problems, "\n".join(problems)


XXE = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
       '<d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&e;</d:displayname></d:prop>'
       '</d:propfind>')
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                    for i in range(9))
          + ']><d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&j;</d:displayname>'
          '</d:prop></d:propfind>')
DOCTYPE_ONLY = ('<?xml version="1.0"?><!DOCTYPE propfind SYSTEM "http://127.0.0.1:9/x.dtd">'
                '<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop></d:propfind>')


def test_xml_with_a_doctype_or_entities_is_refused(server, user):
    home, cal = paths(user)
    assert put_ics(server, user, cal + "kept.ics", event("kept")).status == 201
    token = sync_token(server, user, cal)
    for name, xml in (("external entity", XXE), ("billion laughs", LAUGHS),
                      ("external DTD", DOCTYPE_ONLY)):
        t0 = time.monotonic()
        r = dav(server, "PROPFIND", cal, user, xml, headers={"Depth": "0"})
        assert r.status == 400, (name, r)
        assert b"root:" not in r.body and b"aaaaaaaaaaaaaaaaaaaa" not in r.body
        assert time.monotonic() - t0 < 5, name
        # The same DOCTYPE in the bodies that change things: nothing changes.
        patch = xml.replace("d:propfind", "d:propertyupdate").replace(
            "<d:prop>", "<d:set><d:prop>").replace("</d:prop>", "</d:prop></d:set>")
        assert dav(server, "PROPPATCH", cal, user, patch).status == 400, name
        mk = xml.replace("d:propfind", "c:mkcalendar").replace(
            'xmlns:d="DAV:"', 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"').replace(
            "<d:prop>", "<d:set><d:prop>").replace("</d:prop>", "</d:prop></d:set>")
        # 415 is also fair here: RFC 4918 §9.3 lets MKCOL refuse a body it does not support.
        assert dav(server, "MKCALENDAR", home + "xxe/", user, mk).status in (400, 415), name
        query = xml.replace("d:propfind", "c:calendar-query").replace(
            'xmlns:d="DAV:"', 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"')
        assert dav(server, "REPORT", cal, user, query, headers={"Depth": "1"}).status == 400
    tree = multistatus(propfind(server, user, cal, "<d:displayname/>"))
    assert prop(tree.find(D + "response"), D + "displayname").text == "Personal"
    assert propfind(server, user, home + "xxe/", "<d:displayname/>").status == 404
    assert_calendar_unchanged(server, user, cal, token, ["kept.ics"])


def test_deep_or_broken_xml_is_a_400(server, user):
    _, cal = paths(user)
    auth = basic_auth(user, PASSWORD)
    for depth in (1_000, 100_000):
        deep = ('<d:propfind xmlns:d="DAV:">' + "<d:prop>" * depth + "</d:prop>" * depth
                + "</d:propfind>")
        r = raw_exchange(server, http_request_bytes("PROPFIND", cal, headers=dict(
            auth, **{"Content-Type": "application/xml", "Depth": "0"}), body=deep.encode()))
        assert r is not None and r.status in (400, 413), (depth, r)
    bodies = {
        "unclosed": '<d:propfind xmlns:d="DAV:"><d:prop>',
        "not XML": "propfind please",
        "wrong root": '<d:propertyupdate xmlns:d="DAV:"/>',
        "undeclared prefix": "<x:propfind><x:prop/></x:propfind>",
    }
    for name, xml in bodies.items():
        r = dav(server, "PROPFIND", cal, user, xml, headers={"Depth": "0"})
        assert r.status in (400, 413, 422), (name, r)  # RFC 4918 §8.2 / §9.1: 400 for bad XML
        r = dav(server, "REPORT", cal, user, xml, headers={"Depth": "1"})
        assert 400 <= r.status < 500, (name, r)
    # Time ranges must be UTC date-times (RFC 4791 §9.9).
    for start, end in (("2027-01-01", "20270201T000000Z"), ("20270101T000000", "x"),
                       ("20270201T000000Z", "20270101T000000Z")):
        r = dav(server, "REPORT", cal, user, time_range_query(start, end),
                headers={"Depth": "1"})
        if start < end or "x" in end or "-" in start:
            assert r.status in (400, 403), (start, end, r)
        else:
            assert r.status in (207, 400, 403), (start, end, r)  # an empty or refused range


def test_bodies_over_10_mib_are_413_and_nothing_is_stored(server, user):
    _, cal = paths(user)
    token = sync_token(server, user, cal)
    auth = basic_auth(user, PASSWORD)
    big_text = calendar(*vevent("big", "DESCRIPTION:" + "x" * (11 << 20)))
    big_xml = ('<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop><!-- '
               + "x" * (11 << 20) + " --></d:propfind>")
    for method, path, body, ctype in (("PUT", cal + "big.ics", big_text, "text/calendar"),
                                      ("PROPFIND", cal, big_xml, "application/xml"),
                                      ("REPORT", cal, big_xml, "application/xml")):
        data = http_request_bytes(method, path, headers=dict(
            auth, **{"Content-Type": ctype, "Depth": "0"}), body=body.encode())
        r = raw_exchange(server, data, timeout=30)
        # The server may answer 413 early and close; it must answer, not just drop us.
        assert r is not None, method
        assert r.status == 413, (method, r)
    # Chunked, so no Content-Length announces the size.
    chunk = b"x" * (1 << 20)
    head = (f"PUT {cal}chunked.ics HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {auth['Authorization']}\r\nContent-Type: text/calendar\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    body = calendar(*vevent("chunked", "DESCRIPTION:")).encode()
    payload = head + f"{len(body):x}\r\n".encode() + body + b"\r\n"
    payload += (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") * 11 + b"0\r\n\r\n"
    r = raw_exchange(server, payload, timeout=30)
    assert r is None or r.status in (400, 411, 413), r
    assert_calendar_unchanged(server, user, cal, token, [])


# -- isolation ----------------------------------------------------------------------------------


def test_a_user_cannot_see_or_touch_another_users_calendars(server):
    alice, _ = new_user(server, PASSWORD)
    bob, _ = new_user(server, PASSWORD)
    a_home, a_cal = paths(alice)
    b_home, b_cal = paths(bob)
    secret = event("secret-uid", summary="Alice secret meeting")
    assert put_ics(server, alice, a_cal + "secret.ics", secret).status == 201
    etag = dav(server, "GET", a_cal + "secret.ics", alice).header("ETag")
    a_token = sync_token(server, alice, a_cal)
    assert listing(server, bob, b_cal) == []  # bob's own home exists

    def leaks(body):
        return b"secret-uid" in body or b"Alice secret meeting" in body

    def refused(r, what):
        assert r.status in (403, 404), (what, r)
        assert not leaks(r.body), (what, r.body)

    q = time_range_query("20270101T000000Z", "20270201T000000Z")
    sync = ('<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level>'
            '<d:prop><d:getetag/></d:prop></d:sync-collection>')
    fb = (f'<c:free-busy-query {NS}><c:time-range start="20270101T000000Z" '
          'end="20270201T000000Z"/></c:free-busy-query>')
    patch = (f'<d:propertyupdate {NS}><d:set><d:prop><d:displayname>Bob was here'
             '</d:displayname></d:prop></d:set></d:propertyupdate>')
    attempts = [
        ("GET", a_cal + "secret.ics", None, {}),
        ("PROPFIND", a_cal + "secret.ics", None, {"Depth": "0"}),
        ("PROPFIND", a_cal, None, {"Depth": "1"}),
        ("PROPFIND", a_home, None, {"Depth": "1"}),
        ("REPORT", a_cal, q, {"Depth": "1"}),
        ("REPORT", a_cal, sync, {}),
        ("REPORT", a_cal, fb, {"Depth": "1"}),
        ("PROPPATCH", a_cal, patch, {}),
        ("PUT", a_cal + "secret.ics", event("secret-uid", summary="Bob"),
         {"Content-Type": "text/calendar"}),
        ("PUT", a_cal + "planted.ics", event("planted"), {"Content-Type": "text/calendar"}),
        ("DELETE", a_cal + "secret.ics", None, {}),
        ("DELETE", a_cal, None, {}),
        ("MKCALENDAR", a_home + "bobs/", None, {}),
    ]
    for method, path, body, headers in attempts:
        refused(dav(server, method, path, bob, body, headers=headers), (method, path))
    # Alice's hrefs asked through bob's own calendar: no data (RFC 4791 §7.9: 404 per href).
    mg = (f'<c:calendar-multiget {NS}><d:prop><c:calendar-data/></d:prop>'
          f'<d:href>{a_cal}secret.ics</d:href></c:calendar-multiget>')
    r = dav(server, "REPORT", b_cal, bob, mg, headers={"Depth": "1"})
    assert r.status in (207, 400, 403), r
    assert not leaks(r.body) and b"calendar-data>" not in r.body, r.body
    # Alice's name with bob's password is no way in either.
    assert dav(server, "GET", a_cal + "secret.ics", alice, password="wrong").status == 401
    # Unnormalised or escaped paths do not reach alice's data (sent byte for byte).
    auth = basic_auth(bob, PASSWORD)
    escaped = "%" + format(ord(alice[0]), "02X") + alice[1:]
    for raw_path in (f"/dav/calendars/{bob}/../{alice}/personal/secret.ics",
                     f"/dav/calendars/{bob}/personal/../../{alice}/personal/secret.ics",
                     f"/dav/calendars/{bob}/%2e%2e/{alice}/personal/secret.ics",
                     f"/dav/calendars/{escaped}/personal/secret.ics",
                     f"/dav/calendars//{alice}/personal/secret.ics"):
        r = raw_exchange(server, http_request_bytes("GET", raw_path, headers=auth))
        assert r is None or r.status in (400, 403, 404), (raw_path, r)
        assert r is None or not leaks(r.body), (raw_path, r.body)
    # No listing names other users, and alice's principal looks like a user that does not exist.
    for path in ("/dav/", "/dav/principals/", "/dav/calendars/"):
        r = propfind(server, bob, path, "<d:displayname/><d:resourcetype/>", depth="1")
        assert r.status in (207, 403, 404), (path, r)
        assert alice.encode() not in r.body, (path, r.body)
    ghost = unique_name("ghost")
    for template in ("/dav/principals/{}/", "/dav/calendars/{}/"):
        a = propfind(server, bob, template.format(alice), "<d:displayname/>")
        g = propfind(server, bob, template.format(ghost), "<d:displayname/>")
        assert (a.status, a.body.replace(alice.encode(), b"X")) == \
            (g.status, g.body.replace(ghost.encode(), b"X")), (template, a, g)
    # Alice's calendar is exactly as she left it.
    got = dav(server, "GET", a_cal + "secret.ics", alice)
    assert got.status == 200 and got.header("ETag") == etag
    assert listing(server, alice, a_cal) == ["secret.ics"]
    assert sync_token(server, alice, a_cal) == a_token
    tree = multistatus(propfind(server, alice, a_home, "<d:displayname/>", depth="1"))
    assert set(responses(tree)) == {a_home, a_cal}
    assert prop(responses(tree)[a_cal], D + "displayname").text == "Personal"


# -- app passwords ------------------------------------------------------------------------------


def test_app_passwords_sign_in_until_revoked(server):
    name, token = new_user(server, PASSWORD)
    _, cal = paths(name)
    path = "/_ruche/v1/app_passwords"
    assert call(server, "POST", path, {"name": "Thunderbird"}).status == 401
    assert call(server, "GET", path).status == 401

    created = call(server, "POST", path, {"name": "Thunderbird"}, token=token)
    assert created.status == 200, created
    app = created.json
    assert {"id", "name", "password", "created_ts"} <= set(app), app
    assert app["name"] == "Thunderbird" and isinstance(app["created_ts"], int)
    second = call(server, "POST", path, {"name": "DAVx5"}, token=token).json
    assert second["password"] != app["password"] and second["id"] != app["id"]

    listed = call(server, "GET", path, token=token)
    assert listed.status == 200, listed
    entries = {e["id"]: e for e in listed.json["app_passwords"]}
    assert set(entries) == {app["id"], second["id"]}
    for e in entries.values():
        assert {"id", "name", "created_ts", "last_used_ts"} <= set(e), e
        assert "password" not in e
    # The list never shows a secret, in any field.
    assert app["password"].encode() not in listed.body
    assert second["password"].encode() not in listed.body

    # Signs in to DAV (with the full Matrix ID too: see the test above).
    r = propfind(server, name, cal, "<d:displayname/>", password=app["password"])
    assert r.status == 207, r
    entries = {e["id"]: e for e in call(server, "GET", path, token=token).json["app_passwords"]}
    used = entries[app["id"]]["last_used_ts"]
    assert isinstance(used, int) and used >= app["created_ts"], entries[app["id"]]

    # Another user cannot list or revoke it, nor use it under their own name.
    other, other_token = new_user(server, PASSWORD)
    assert app["id"] not in {e["id"] for e in call(server, "GET", path, token=other_token)
                              .json["app_passwords"]}
    r = call(server, "DELETE", f"{path}/{app['id']}", token=other_token)
    assert r.status in (403, 404), r
    assert propfind(server, other, paths(other)[1], "<d:displayname/>",
                    password=app["password"]).status == 401

    revoked = call(server, "DELETE", f"{path}/{app['id']}", token=token)
    assert revoked.status == 200 and revoked.json == {}, revoked
    r = propfind(server, name, cal, "<d:displayname/>", password=app["password"])
    assert r.status == 401, r
    assert app["id"] not in {e["id"] for e in call(server, "GET", path, token=token)
                              .json["app_passwords"]}
    # The other app password and the account password still work.
    assert propfind(server, name, cal, "<d:displayname/>",
                    password=second["password"]).status == 207
    assert propfind(server, name, cal, "<d:displayname/>").status == 207
