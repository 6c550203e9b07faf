"""Typing notifications and presence: what other members see through /sync, and the rules on who
may set and read them."""
import threading
import time

from ruche_test import call, client_path, create_room, new_user, q, query, send, sync


def join_pair(server):
    a_name, a = new_user(server)
    b_name, b = new_user(server)
    room = create_room(server, a, invite=[server.mxid(b_name)])
    assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {}, token=b).status == 200
    return (a_name, a), (b_name, b), room


def set_typing(server, token, room, user_id, typing, timeout=None, expect=200):
    body = {"typing": typing}
    if timeout is not None:
        body["timeout"] = timeout
    resp = call(server, "PUT", client_path(f"/rooms/{q(room)}/typing/{user_id}"), body,
                token=token)
    assert resp.status == expect, resp
    return resp


def typing_in(sync_json, room):
    joined = sync_json["rooms"]["join"].get(room)
    if not joined:
        return None
    for ev in joined["ephemeral"]["events"]:
        if ev["type"] == "m.typing":
            return ev["content"]["user_ids"]
    return None


def sync_until(server, token, since, predicate, deadline_s=20):
    """Long-polls until `predicate(sync)` holds; returns (sync, next_batch)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        got = sync(server, token, since=since, timeout=2000)
        since = got["next_batch"]
        if predicate(got):
            return got, since
    raise AssertionError("condition not reached through /sync")


def test_typing_reaches_the_other_member_and_stops(server):
    (a_name, a), (_, b), room = join_pair(server)
    since = sync(server, b)["next_batch"]
    set_typing(server, a, room, server.mxid(a_name), True, timeout=30000)
    got = sync(server, b, since=since)
    assert typing_in(got, room) == [server.mxid(a_name)]
    since = got["next_batch"]
    # Nothing changed: the next sync says nothing about typing in that room.
    assert typing_in(sync(server, b, since=since), room) is None
    set_typing(server, a, room, server.mxid(a_name), False)
    assert typing_in(sync(server, b, since=since), room) == []


def test_typing_wakes_a_waiting_sync(server):
    (a_name, a), (_, b), room = join_pair(server)
    since = sync(server, b)["next_batch"]
    got = {}

    def poll():
        # 60 s long-poll; the HTTP timeout below is shorter, so only a wake-up can answer it.
        got["sync"] = sync(server, b, since=since, timeout=60000)

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)
    set_typing(server, a, room, server.mxid(a_name), True)
    t.join(30)
    assert not t.is_alive()
    assert typing_in(got["sync"], room) == [server.mxid(a_name)]


def test_typing_expires_after_its_timeout(server):
    (a_name, a), (_, b), room = join_pair(server)
    since = sync(server, b)["next_batch"]
    set_typing(server, a, room, server.mxid(a_name), True, timeout=500)
    got, _ = sync_until(server, b, since, lambda s: typing_in(s, room) == [])
    assert typing_in(got, room) == []


def test_initial_sync_shows_current_typers(server):
    (a_name, a), (_, b), room = join_pair(server)
    set_typing(server, a, room, server.mxid(a_name), True)
    assert typing_in(sync(server, b), room) == [server.mxid(a_name)]


def test_typing_rules(server):
    (a_name, a), (b_name, b), room = join_pair(server)
    _, outsider = new_user(server)
    outsider_id = call(server, "GET", client_path("/account/whoami"), token=outsider).json[
        "user_id"]
    # Only for oneself, only in rooms one is in, only a boolean.
    set_typing(server, b, room, server.mxid(a_name), True, expect=403)
    set_typing(server, outsider, room, outsider_id, True, expect=403)
    resp = call(server, "PUT", client_path(f"/rooms/{q(room)}/typing/{server.mxid(b_name)}"),
                {"typing": "yes"}, token=b)
    assert resp.status == 400 and resp.json["errcode"] == "M_BAD_JSON", resp
    resp = call(server, "PUT", client_path(f"/rooms/{q(room)}/typing/{server.mxid(b_name)}"),
                {"typing": True, "timeout": -5}, token=b)
    assert resp.status == 400, resp


def test_sync_tokens_carry_typing_and_still_page_history(server):
    _, a = new_user(server)
    room = create_room(server, a)
    send(server, a, room, "hello", "t1")
    token = sync(server, a)["next_batch"]
    assert token.startswith("s") and "_" in token
    # The next_batch of /sync is a valid /messages `from`.
    resp = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                     **{"from": token}), token=a)
    assert resp.status == 200, resp
    assert "hello" in [e["content"].get("body") for e in resp.json["chunk"]]
    # Old-style tokens (before typing) are still accepted; nonsense is refused.
    assert sync(server, a, since=token.split("_")[0])["next_batch"]
    for bad in ["s1_", "s1_x", "s-1", "x5", "s1_2_3"]:
        resp = call(server, "GET", query(client_path("/sync"), since=bad), token=a)
        assert resp.status == 400 and resp.json["errcode"] == "M_INVALID_PARAM", (bad, resp)


def presence_of(sync_json, user_id):
    found = None
    for ev in sync_json["presence"]["events"]:
        if ev["sender"] == user_id:
            found = ev["content"]
    return found


def test_syncing_user_is_online_for_room_members(server):
    (a_name, a), (_, b), room = join_pair(server)
    sync(server, a)
    got = presence_of(sync(server, b), server.mxid(a_name))
    assert got is not None and got["presence"] == "online", got
    status = call(server, "GET", client_path(f"/presence/{server.mxid(a_name)}/status"), token=b)
    assert status.status == 200, status
    assert status.json["presence"] == "online"
    assert status.json["last_active_ago"] >= 0
    assert status.json["currently_active"] is True


def test_explicit_presence_and_status_message_reach_members(server):
    (a_name, a), (_, b), room = join_pair(server)
    since = sync(server, b)["next_batch"]
    resp = call(server, "PUT", client_path(f"/presence/{server.mxid(a_name)}/status"),
                {"presence": "unavailable", "status_msg": "En réunion"}, token=a)
    assert resp.status == 200, resp
    got, _ = sync_until(server, b, since,
                        lambda s: presence_of(s, server.mxid(a_name)) is not None)
    content = presence_of(got, server.mxid(a_name))
    assert content["presence"] == "unavailable" and content["status_msg"] == "En réunion"
    # An explicit state survives the user's own syncs.
    sync(server, a)
    status = call(server, "GET", client_path(f"/presence/{server.mxid(a_name)}/status"), token=a)
    assert status.json["presence"] == "unavailable"


def test_presence_rules(server):
    (a_name, a), (b_name, b), _ = join_pair(server)
    _, outsider = new_user(server)
    # Strangers learn nothing, not even whether the account exists.
    for target in [server.mxid(a_name), "@nobody-here:" + server.server_name]:
        resp = call(server, "GET", client_path(f"/presence/{target}/status"), token=outsider)
        assert resp.status == 403, resp
    resp = call(server, "PUT", client_path(f"/presence/{server.mxid(a_name)}/status"),
                {"presence": "online"}, token=b)
    assert resp.status == 403, resp
    for body in [{"presence": "busy"}, {}, {"presence": "online", "status_msg": 5},
                 {"presence": "online", "status_msg": "x" * 2000}]:
        resp = call(server, "PUT", client_path(f"/presence/{server.mxid(b_name)}/status"), body,
                    token=b)
        assert resp.status == 400, (body, resp)
    resp = call(server, "GET", query(client_path("/sync"), set_presence="away"), token=b)
    assert resp.status == 400, resp
    # Presence is not shown to users who do not share a room.
    assert presence_of(sync(server, outsider), server.mxid(a_name)) is None


def test_idle_then_offline_then_back(start_server):
    srv = start_server(settings={"presence.idle_after_ms": "1500",
                                 "presence.offline_after_ms": "1500"})
    (a_name, a), (_, b), room = join_pair(srv)
    me = srv.mxid(a_name)
    sync(srv, a)
    since = sync(srv, b)["next_batch"]

    def state_is(expected):
        return lambda s: (presence_of(s, me) or {}).get("presence") == expected

    # A keeps a sync open without doing anything: idle, but still connected.
    stop = threading.Event()

    def keep_syncing():
        token = None
        while not stop.is_set():
            token = sync(srv, a, since=token, timeout=1000)["next_batch"]

    t = threading.Thread(target=keep_syncing)
    t.start()
    try:
        _, since = sync_until(srv, b, since, state_is("unavailable"))
        send(srv, a, room, "back", "back1")  # activity brings A back online
        _, since = sync_until(srv, b, since, state_is("online"))
    finally:
        stop.set()
        t.join(10)
    # No more syncs: offline after the timeout.
    sync_until(srv, b, since, state_is("offline"))


def test_presence_survives_a_restart(start_server, workdir):
    data = workdir / "data"
    srv = start_server(data_dir=data)
    (a_name, a), (_, b), _ = join_pair(srv)
    resp = call(srv, "PUT", client_path(f"/presence/{srv.mxid(a_name)}/status"),
                {"presence": "unavailable", "status_msg": "Congés"}, token=a)
    assert resp.status == 200, resp
    srv.stop()
    srv2 = start_server(data_dir=data)
    status = call(srv2, "GET", client_path(f"/presence/{srv2.mxid(a_name)}/status"), token=b)
    assert status.status == 200, status
    assert status.json["presence"] == "unavailable" and status.json["status_msg"] == "Congés"


def test_presence_can_be_disabled(start_server):
    srv = start_server(settings={"presence.enabled": "false"})
    (a_name, a), (_, b), _ = join_pair(srv)
    sync(srv, a)
    assert sync(srv, b)["presence"]["events"] == []
    status = call(srv, "GET", client_path(f"/presence/{srv.mxid(a_name)}/status"), token=b)
    assert status.status == 200 and status.json["presence"] == "offline", status
