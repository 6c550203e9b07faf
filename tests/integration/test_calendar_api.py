"""The web client's calendar API (/_ruche/v1/calendars/...): events in a time zone with a weekly
rule listed as instances across the spring change, invitees e-mailed with iMIP (REQUEST, updated
REQUEST, CANCEL) through a real SMTP server, and the same event visible over CalDAV."""
import base64

from ruche_test import basic_auth, call, new_user, query
from test_booking import Inbox, calendar_part, free_port, mail_settings, smtp  # noqa: F401


def events(server, token, cal, start, end):
    r = call(server, "GET", query(f"/_ruche/v1/calendars/{cal}/events", **{"from": start,
                                                                        "to": end}), token=token)
    assert r.status == 200, r
    return r.json["events"]


def test_weekly_event_with_an_invitee(start_server, smtp):  # noqa: F811
    controller, inbox = smtp
    server = start_server(registration="open", settings=mail_settings(controller))
    user, token = new_user(server)
    cals = call(server, "GET", "/_ruche/v1/calendars", token=token).json["calendars"]
    assert [c["id"] for c in cals] == ["personal"]
    body = {"summary": "Comité", "start": "2027-03-15T08:00:00Z", "end": "2027-03-15T09:00:00Z",
            "timezone": "Europe/Paris", "rrule": "FREQ=WEEKLY;COUNT=4", "location": "Salle 2",
            "attendees": [{"email": "zoe@example.org", "name": "Zoé"}], "language": "fr"}
    created = call(server, "POST", "/_ruche/v1/calendars/personal/events", body, token=token)
    assert created.status == 200, created
    listed = events(server, token, "personal", "2027-03-01T00:00:00Z", "2027-05-01T00:00:00Z")
    # 09:00 Paris every Monday, four times: the UTC hour moves on 28 March.
    assert [e["start"] for e in listed] == ["2027-03-15T08:00:00Z", "2027-03-22T08:00:00Z",
                                            "2027-03-29T07:00:00Z", "2027-04-05T07:00:00Z"]
    assert listed[0]["attendees"][0]["email"] == "zoe@example.org"
    assert listed[0]["rrule"] == "FREQ=WEEKLY;COUNT=4"

    invite = inbox.wait_for(1)[0]
    assert invite[0] == ["zoe@example.org"]
    ics, method = calendar_part(invite[1])
    assert method == "REQUEST" and "RRULE:FREQ=WEEKLY;COUNT=4" in ics
    assert "TZID=" in ics and "BEGIN:VTIMEZONE" in ics
    assert invite[1]["Subject"] == "Invitation : Comité"

    obj = created.json["object"]
    moved = dict(body, summary="Comité (déplacé)", start="2027-03-15T09:00:00Z",
                 end="2027-03-15T10:00:00Z")
    assert call(server, "PUT", f"/_ruche/v1/calendars/personal/events/{obj}", moved,
                token=token).status == 200
    update = inbox.wait_for(2)[1][1]
    ics, method = calendar_part(update)
    assert method == "REQUEST" and "SEQUENCE:1" in ics

    # CalDAV clients see the same object.
    auth = {"Authorization": "Basic " + base64.b64encode(f"{user}:correct horse".encode())
            .decode()}
    got = call(server, "GET", f"/dav/calendars/{user}/personal/{obj}", headers=auth)
    assert got.status == 200 and "Comité (déplacé)" in got.body.decode()

    assert call(server, "DELETE", f"/_ruche/v1/calendars/personal/events/{obj}",
                token=token).status == 200
    cancel = inbox.wait_for(3)[2][1]
    ics, method = calendar_part(cancel)
    assert method == "CANCEL" and "SEQUENCE:2" in ics
    assert events(server, token, "personal", "2027-03-01T00:00:00Z", "2027-05-01T00:00:00Z") == []


def test_bad_events_are_refused(server):
    _, token = new_user(server)
    base = {"summary": "x", "start": "2027-03-15T08:00:00Z", "end": "2027-03-15T09:00:00Z"}
    for bad in [{"rrule": "FREQ=SOMETIMES"}, {"timezone": "Mars/Base"},
                {"end": "2027-03-15T07:00:00Z"}, {"summary": ""},
                {"attendees": [{"email": "not an address"}]},
                {"all_day": True}]:
        r = call(server, "POST", "/_ruche/v1/calendars/personal/events", dict(base, **bad),
                 token=token)
        assert r.status == 400, (bad, r)
    all_day = call(server, "POST", "/_ruche/v1/calendars/personal/events",
                   {"summary": "Férié", "all_day": True, "start": "2027-05-01",
                    "end": "2027-05-02"}, token=token)
    assert all_day.status == 200
    listed = events(server, token, "personal", "2027-05-01T10:00:00Z", "2027-05-01T11:00:00Z")
    assert [(e["summary"], e["all_day"]) for e in listed] == [("Férié", True)]
    assert call(server, "GET", "/_ruche/v1/calendars/nope/events?from=2027-05-01T00:00:00Z&"
                "to=2027-05-02T00:00:00Z", token=token).status == 404
    assert call(server, "GET", "/_ruche/v1/calendars").status == 401


def test_meeting_with_an_internal_invitee(server):
    organizer, token = new_user(server)
    guest, guest_token = new_user(server)
    body = {"summary": "Point projet", "start": "2027-06-07T08:00:00Z",
            "end": "2027-06-07T09:00:00Z", "timezone": "Europe/Paris", "video_meeting": True,
            "attendees": [{"user_id": server.mxid(guest)}]}
    created = call(server, "POST", "/_ruche/v1/calendars/personal/events", body, token=token)
    assert created.status == 200, created
    join = created.json["join_url"]
    assert "/meet/" in join and "?k=" in join
    meeting_id, key = join.split("/meet/")[1].split("?k=")
    assert call(server, "GET", query(f"/_ruche/v1/meetings/{meeting_id}", k=key)).status == 200
    # The invitee has it in their own calendar, with the join link, waiting for an answer.
    theirs = events(server, guest_token, "personal", "2027-06-07T00:00:00Z", "2027-06-08T00:00:00Z")
    assert [e["summary"] for e in theirs] == ["Point projet"]
    assert theirs[0]["location"] == join
    assert theirs[0]["attendees"] == [{"user_id": server.mxid(guest), "email": "",
                                       "name": guest, "partstat": "NEEDS-ACTION"}]
    # Deleting the organizer's event removes the invitee's copy.
    obj = created.json["object"]
    assert call(server, "DELETE", f"/_ruche/v1/calendars/personal/events/{obj}",
                token=token).status == 200
    assert events(server, guest_token, "personal", "2027-06-07T00:00:00Z",
                  "2027-06-08T00:00:00Z") == []
    bad = call(server, "POST", "/_ruche/v1/calendars/personal/events",
               dict(body, attendees=[{"user_id": "@nobody:elsewhere.example"}]), token=token)
    assert bad.status == 400


def test_an_invitee_removes_only_their_copy_and_tells_nobody(start_server, smtp):  # noqa: F811
    controller, inbox = smtp
    server = start_server(registration="open", settings=mail_settings(controller))
    organizer, token = new_user(server)
    guest, guest_token = new_user(server)
    body = {"summary": "Revue", "start": "2027-06-08T08:00:00Z", "end": "2027-06-08T09:00:00Z",
            "attendees": [{"user_id": server.mxid(guest)},
                          {"email": "ext@example.org", "name": "Ext"}]}
    created = call(server, "POST", "/_ruche/v1/calendars/personal/events", body, token=token)
    assert created.status == 200, created
    assert inbox.wait_for(1)[0][0] == ["ext@example.org"]
    day = ("2027-06-08T00:00:00Z", "2027-06-09T00:00:00Z")
    copy = events(server, guest_token, "personal", *day)[0]["object"]
    # The invitee cannot rewrite the organizer's invitation (it would mail everyone)…
    changed = call(server, "PUT", f"/_ruche/v1/calendars/personal/events/{copy}",
                   dict(body, summary="Hijacked"), token=guest_token)
    assert changed.status == 409 and changed.errcode == "M_INVALID_PARAM", changed
    # …but may remove it from their calendar: only their copy goes, and no one is mailed.
    assert call(server, "DELETE", f"/_ruche/v1/calendars/personal/events/{copy}",
                token=guest_token).status == 200
    assert events(server, guest_token, "personal", *day) == []
    assert [e["summary"] for e in events(server, token, "personal", *day)] == ["Revue"]
    # The organizer's next change mails the external guest again (the second message), which
    # shows that the invitee's delete queued none before it.
    obj = created.json["object"]
    assert call(server, "PUT", f"/_ruche/v1/calendars/personal/events/{obj}",
                dict(body, summary="Revue (2)"), token=token).status == 200
    mails = inbox.wait_for(2)
    assert len(mails) == 2 and calendar_part(mails[1][1])[1] == "REQUEST"
    assert "Revue (2)" in calendar_part(mails[1][1])[0]
    # The organizer's update gives the invitee a copy again.
    assert [e["summary"] for e in events(server, guest_token, "personal", *day)] == ["Revue (2)"]


def test_an_invitee_answers_and_the_organizer_sees_it(server):
    organizer, token = new_user(server)
    guest, guest_token = new_user(server)
    other, other_token = new_user(server)
    body = {"summary": "Comité", "start": "2027-06-09T08:00:00Z", "end": "2027-06-09T09:00:00Z",
            "timezone": "Europe/Paris", "rrule": "FREQ=WEEKLY;COUNT=3",
            "attendees": [{"user_id": server.mxid(guest)}, {"user_id": server.mxid(other)}]}
    created = call(server, "POST", "/_ruche/v1/calendars/personal/events", body, token=token)
    assert created.status == 200, created
    weeks = ("2027-06-01T00:00:00Z", "2027-07-01T00:00:00Z")
    theirs = events(server, guest_token, "personal", *weeks)
    assert len(theirs) == 3
    assert theirs[0]["invitation"] == {"organizer_user_id": server.mxid(organizer),
                                       "organizer": organizer}
    assert "invitation" not in events(server, token, "personal", *weeks)[0]
    copy = theirs[0]["object"]
    reply = f"/_ruche/v1/calendars/personal/events/{copy}/reply"

    def partstats(tok, who):
        return {a["partstat"] for e in events(server, tok, "personal", *weeks)
                for a in e["attendees"] if a.get("user_id") == server.mxid(who)}

    for bad in [{}, {"partstat": "accepted"}, {"partstat": "NEEDS-ACTION"}, {"partstat": 1}]:
        r = call(server, "POST", reply, bad, token=guest_token)
        assert r.status == 400, (bad, r)
    assert partstats(guest_token, guest) == {"NEEDS-ACTION"}

    r = call(server, "POST", reply, {"partstat": "ACCEPTED"}, token=guest_token)
    assert r.status == 200 and r.json == {"partstat": "ACCEPTED"}, r
    # Every instance, in the invitee's copy and in the organizer's event; the other invitee's
    # answer is untouched.
    assert partstats(guest_token, guest) == {"ACCEPTED"}
    assert partstats(token, guest) == {"ACCEPTED"}
    assert partstats(token, other) == {"NEEDS-ACTION"}
    assert call(server, "POST", reply, {"partstat": "DECLINED"},
                token=guest_token).status == 200
    assert partstats(token, guest) == {"DECLINED"}
    # The organizer's CalDAV clients see it too.
    obj = created.json["object"]
    dav = call(server, "GET", f"/dav/calendars/{organizer}/personal/{obj}",
               headers=basic_auth(organizer, "correct horse"))
    assert dav.status == 200, dav
    unfolded = dav.body.decode().replace("\r\n ", "")
    assert f"PARTSTAT=DECLINED" in unfolded and "PARTSTAT=NEEDS-ACTION" in unfolded

    # Only an invitation from someone else is answered: the organizer's own event, someone
    # else's calendar or an unknown object are refused.
    own = call(server, "POST", f"/_ruche/v1/calendars/personal/events/{obj}/reply",
               {"partstat": "ACCEPTED"}, token=token)
    assert own.status == 409, own
    assert call(server, "POST", reply, {"partstat": "ACCEPTED"},
                token=other_token).status == 404
    assert call(server, "POST", "/_ruche/v1/calendars/personal/events/nope.ics/reply",
                {"partstat": "ACCEPTED"}, token=guest_token).status == 404
    assert call(server, "POST", reply, {"partstat": "ACCEPTED"}).status == 401
    assert partstats(token, guest) == {"DECLINED"}

    # The organizer's later change keeps the answers while the event stays at its times; moving
    # it asks everyone again.
    assert call(server, "PUT", f"/_ruche/v1/calendars/personal/events/{obj}",
                dict(body, summary="Comité (salle B)"), token=token).status == 200
    assert {e["summary"] for e in events(server, guest_token, "personal", *weeks)} == {
        "Comité (salle B)"}
    assert partstats(token, guest) == {"DECLINED"} and partstats(guest_token, guest) == {
        "DECLINED"}
    assert call(server, "PUT", f"/_ruche/v1/calendars/personal/events/{obj}",
                dict(body, start="2027-06-09T10:00:00Z", end="2027-06-09T11:00:00Z"),
                token=token).status == 200
    assert partstats(token, guest) == {"NEEDS-ACTION"}
    assert partstats(guest_token, guest) == {"NEEDS-ACTION"}
