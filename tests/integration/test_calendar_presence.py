"""Calendars feed presence: during a busy event a connected user's presence says so
("org.ruche.availability": "busy" until the event's end), unless they set a state themselves;
removing the event ends it."""
import time
from datetime import datetime, timedelta, timezone

from ruche_test import call, client_path, new_user


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def presence(server, token, user):
    r = call(server, "GET", client_path(f"/presence/{server.mxid(user)}/status"), token=token)
    assert r.status == 200, r
    return r.json


def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def test_busy_during_an_event(start_server):
    server = start_server(registration="open",
                          settings={"presence.calendar_check_ms": "200"})
    user, token = new_user(server)
    assert call(server, "GET", client_path("/sync?timeout=0"), token=token).status == 200
    assert presence(server, token, user)["presence"] == "online"
    assert "org.ruche.availability" not in presence(server, token, user)

    now = datetime.now(timezone.utc).replace(microsecond=0)
    end = now + timedelta(minutes=50)
    meeting = call(server, "POST", "/_ruche/v1/calendars/personal/events",
                   {"summary": "Comité", "start": iso(now - timedelta(minutes=10)),
                    "end": iso(end)}, token=token)
    assert meeting.status == 200
    busy = wait_for(lambda: presence(server, token, user).get("org.ruche.availability"))
    assert busy == "busy"
    content = presence(server, token, user)
    assert content["presence"] == "online"
    assert content["org.ruche.busy_until"] == int(end.timestamp() * 1000)

    # A state the user sets wins over the calendar ("online" hands control back to the
    # automatic states, the calendar included).
    put = call(server, "PUT", client_path(f"/presence/{server.mxid(user)}/status"),
               {"presence": "unavailable", "status_msg": "Ne pas déranger"}, token=token)
    assert put.status == 200
    content = presence(server, token, user)
    assert "org.ruche.availability" not in content
    assert content["status_msg"] == "Ne pas déranger"
    put = call(server, "PUT", client_path(f"/presence/{server.mxid(user)}/status"),
               {"presence": "online"}, token=token)
    assert presence(server, token, user).get("org.ruche.availability") == "busy"


def test_event_removed_ends_busy(start_server):
    server = start_server(registration="open",
                          settings={"presence.calendar_check_ms": "200"})
    user, token = new_user(server)
    assert call(server, "GET", client_path("/sync?timeout=0"), token=token).status == 200
    now = datetime.now(timezone.utc).replace(microsecond=0)
    created = call(server, "POST", "/_ruche/v1/calendars/personal/events",
                   {"summary": "Revue", "start": iso(now - timedelta(minutes=1)),
                    "end": iso(now + timedelta(hours=1))}, token=token)
    assert created.status == 200
    assert wait_for(lambda: presence(server, token, user).get("org.ruche.availability")) == "busy"
    obj = created.json["object"]
    assert call(server, "DELETE", f"/_ruche/v1/calendars/personal/events/{obj}",
                token=token).status == 200
    assert wait_for(lambda: "org.ruche.availability" not in presence(server, token, user))
