"""Devices (list, rename, delete behind a password check), password change, room tags and push
rule editing."""
import threading
import urllib.parse

from ruche_test import (call, client_path, create_room, login, new_user, q, query, sync,
                        whoami)

PASSWORD = "correct horse"


def u(user_id: str) -> str:
    return urllib.parse.quote(user_id, safe="")


def password_auth(server, name, session, password=PASSWORD):
    return {"type": "m.login.password", "session": session, "password": password,
            "identifier": {"type": "m.id.user", "user": name}}


def test_devices_are_listed_and_renamed(server):
    name, token = new_user(server)
    second = login(server, name, initial_device_display_name="Laptop").json
    devices = call(server, "GET", client_path("/devices"), token=token)
    assert devices.status == 200, devices
    ids = {d["device_id"] for d in devices.json["devices"]}
    assert second["device_id"] in ids and len(ids) == 2
    laptop = call(server, "GET", client_path(f"/devices/{second['device_id']}"), token=token).json
    assert laptop["display_name"] == "Laptop" and laptop["last_seen_ts"] > 0
    resp = call(server, "PUT", client_path(f"/devices/{second['device_id']}"),
                {"display_name": "Work laptop"}, token=token)
    assert resp.status == 200, resp
    assert call(server, "GET", client_path(f"/devices/{second['device_id']}"),
                token=token).json["display_name"] == "Work laptop"
    assert call(server, "PUT", client_path("/devices/NOPE"), {"display_name": "x"},
                token=token).status == 404
    assert call(server, "PUT", client_path(f"/devices/{second['device_id']}"),
                {"display_name": "x" * 300}, token=token).status == 400
    # Another user's devices do not exist for me.
    _, other = new_user(server)
    assert call(server, "GET", client_path(f"/devices/{second['device_id']}"),
                token=other).status == 404


def test_deleting_a_device_needs_the_password_and_signs_it_out(server):
    name, token = new_user(server)
    second = login(server, name).json
    path = client_path(f"/devices/{second['device_id']}")
    challenge = call(server, "DELETE", path, {}, token=token)
    assert challenge.status == 401, challenge
    assert challenge.json["flows"] == [{"stages": ["m.login.password"]}]
    session = challenge.json["session"]
    wrong = call(server, "DELETE", path,
                 {"auth": password_auth(server, name, session, "wrong password")}, token=token)
    assert wrong.status == 401 and wrong.json["errcode"] == "M_FORBIDDEN", wrong
    assert whoami(server, second["access_token"]).status == 200  # still there
    ok = call(server, "DELETE", path, {"auth": password_auth(server, name, session)}, token=token)
    assert ok.status == 200, ok
    assert whoami(server, second["access_token"]).status == 401
    assert whoami(server, token).status == 200
    # The session was used up.
    again = call(server, "DELETE", path, {"auth": password_auth(server, name, session)},
                 token=token)
    assert again.status == 404  # the device is gone anyway


def test_someone_elses_password_does_not_delete_my_devices(server):
    name, token = new_user(server)
    other_name, _ = new_user(server)
    second = login(server, name).json
    path = client_path("/delete_devices")
    body = {"devices": [second["device_id"]]}
    session = call(server, "POST", path, body, token=token).json["session"]
    body["auth"] = password_auth(server, other_name, session)
    resp = call(server, "POST", path, body, token=token)
    assert resp.status == 401, resp
    assert whoami(server, second["access_token"]).status == 200
    body["auth"] = password_auth(server, name, session)
    assert call(server, "POST", path, body, token=token).status == 200
    assert whoami(server, second["access_token"]).status == 401


def test_password_change_signs_out_other_devices(server):
    name, token = new_user(server)
    other = login(server, name).json["access_token"]
    path = client_path("/account/password")
    session = call(server, "POST", path, {"new_password": "new horse battery"},
                   token=token).json["session"]
    short = call(server, "POST", path, {"new_password": "x",
                                        "auth": password_auth(server, name, session)},
                 token=token)
    assert short.status == 400, short
    session = call(server, "POST", path, {"new_password": "new horse battery"},
                   token=token).json["session"]
    ok = call(server, "POST", path, {"new_password": "new horse battery",
                                     "auth": password_auth(server, name, session)}, token=token)
    assert ok.status == 200, ok
    assert whoami(server, token).status == 200
    assert whoami(server, other).status == 401
    login(server, name, PASSWORD, expect=403)
    login(server, name, "new horse battery")


def test_tags_are_stored_and_synced(server):
    name, token = new_user(server)
    me = server.mxid(name)
    room = create_room(server, token)
    since = sync(server, token)["next_batch"]
    base = client_path(f"/user/{u(me)}/rooms/{q(room)}/tags")
    assert call(server, "GET", base, token=token).json == {"tags": {}}
    assert call(server, "PUT", base + "/m.favourite", {"order": 0.25}, token=token).status == 200
    assert call(server, "PUT", base + "/u.work", {}, token=token).status == 200
    assert call(server, "GET", base, token=token).json == {
        "tags": {"m.favourite": {"order": 0.25}, "u.work": {}}}
    got = sync(server, token, since=since)
    events = got["rooms"]["join"][room]["account_data"]["events"]
    assert {"type": "m.tag", "content": {"tags": {"m.favourite": {"order": 0.25},
                                                  "u.work": {}}}} in events
    assert call(server, "DELETE", base + "/u.work", token=token).status == 200
    assert call(server, "GET", base, token=token).json == {"tags": {"m.favourite": {"order": 0.25}}}
    assert call(server, "PUT", base + "/bad", {"order": "high"}, token=token).status == 400
    _, other = new_user(server)
    assert call(server, "PUT", base + "/x", {}, token=other).status == 403


def test_concurrent_tag_edits_are_not_lost(server):
    name, token = new_user(server)
    room = create_room(server, token)
    base = client_path(f"/user/{u(server.mxid(name))}/rooms/{q(room)}/tags")
    threads = [threading.Thread(target=lambda i=i: call(server, "PUT", base + f"/u.t{i}", {},
                                                        token=token)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(call(server, "GET", base, token=token).json["tags"]) == {f"u.t{i}"
                                                                        for i in range(10)}


def rule_ids(rules, kind):
    return [r["rule_id"] for r in rules["global"][kind]]


def test_push_rules_defaults_and_edits(server):
    name, token = new_user(server)
    initial = sync(server, token)
    pushrules = [e for e in initial["account_data"]["events"] if e["type"] == "m.push_rules"]
    assert pushrules and ".m.rule.master" in rule_ids(pushrules[0]["content"], "override")
    since = initial["next_batch"]
    base = client_path("/pushrules/global")
    resp = call(server, "PUT", base + "/content/cake",
                {"pattern": "cake*", "actions": ["notify"]}, token=token)
    assert resp.status == 200, resp
    resp = call(server, "PUT", query(base + "/content/pie", before="cake"),
                {"pattern": "pie", "actions": ["notify"]}, token=token)
    assert resp.status == 200, resp
    rules = call(server, "GET", client_path("/pushrules/"), token=token).json
    assert rule_ids(rules, "content")[:2] == ["pie", "cake"]
    assert call(server, "GET", base + "/content/cake", token=token).json["pattern"] == "cake*"
    # Server-default rules: enable/disable and actions only.
    assert call(server, "PUT", base + "/override/.m.rule.master/enabled", {"enabled": True},
                token=token).status == 200
    assert call(server, "GET", base + "/override/.m.rule.master/enabled",
                token=token).json == {"enabled": True}
    assert call(server, "DELETE", base + "/override/.m.rule.master", token=token).status == 400
    assert call(server, "PUT", base + "/override/.m.rule.mine", {"actions": []},
                token=token).status == 400
    assert call(server, "PUT", base + "/content/nopattern", {"actions": []},
                token=token).status == 400
    assert call(server, "PUT", base + "/bogus/x", {"actions": []}, token=token).status == 400
    assert call(server, "DELETE", base + "/content/cake", token=token).status == 200
    assert call(server, "GET", base + "/content/cake", token=token).status == 404
    # The edits reached /sync as account data.
    got = sync(server, token, since=since)
    latest = [e for e in got["account_data"]["events"] if e["type"] == "m.push_rules"][-1]
    assert "pie" in rule_ids(latest["content"], "content")
    assert "cake" not in rule_ids(latest["content"], "content")
    # Push rules are per user.
    _, other = new_user(server)
    assert call(server, "GET", base + "/content/pie", token=other).status == 404
