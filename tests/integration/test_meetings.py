"""Meetings: the REST endpoints and the signalling WebSocket (join rules, participant events,
errors), against a real server. Media itself is tested with aiortc in
tests/interop/test_aiortc_meeting.py and with Chromium in tests/e2e/meeting.test.mjs."""
import asyncio
import re
import json
import socket
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import websockets

from ruche_test import call, new_user, query

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from meeting_client import JoinRefused, MeetingClient, ws_url  # noqa: E402


def create_meeting(server, token, title="Weekly sync", allow_guests=True, expect=200):
    resp = call(server, "POST", "/_ruche/v1/meetings", {"title": title, "allow_guests": allow_guests},
                token=token)
    assert resp.status == expect, resp
    if expect != 200:
        return resp
    url = urlparse(resp.json["url"])
    assert url.path == "/meet/" + resp.json["id"]
    return resp.json["id"], parse_qs(url.query)["k"][0]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_create_needs_a_token_and_a_title(server):
    _, token = new_user(server)
    assert call(server, "POST", "/_ruche/v1/meetings", {"title": "x"}).status == 401
    assert create_meeting(server, token, title="", expect=400).errcode == "M_INVALID_PARAM"
    assert create_meeting(server, token, title="x" * 1000, expect=400).errcode == "M_INVALID_PARAM"
    resp = call(server, "POST", "/_ruche/v1/meetings", {"allow_guests": True}, token=token)
    assert resp.status == 400 and resp.errcode == "M_BAD_JSON"
    resp = call(server, "POST", "/_ruche/v1/meetings", {"title": 5}, token=token)
    assert resp.status == 400


def test_describe_needs_the_key_and_reveals_nothing_without_it(server):
    _, token = new_user(server)
    meeting_id, key = create_meeting(server, token, title="Réunion d'équipe", allow_guests=False)
    resp = call(server, "GET", query(f"/_ruche/v1/meetings/{meeting_id}", k=key))
    assert resp.status == 200
    assert resp.json == {"id": meeting_id, "title": "Réunion d'équipe", "allow_guests": False,
                         "participants": 0}
    other = "B" if key[0] == "A" else "A"  # another key; not the last char: it holds only 2 bits
    wrong = call(server, "GET", query(f"/_ruche/v1/meetings/{meeting_id}", k=other + key[1:]))
    unknown = call(server, "GET", query("/_ruche/v1/meetings/nosuchmeeting", k=key))
    no_key = call(server, "GET", f"/_ruche/v1/meetings/{meeting_id}")
    for r in (wrong, unknown, no_key):
        assert r.status == 404 and r.errcode == "M_NOT_FOUND"
    assert wrong.json == unknown.json  # a wrong key and a missing meeting look the same


def test_meetings_survive_a_restart(start_server):
    srv = start_server()
    _, token = new_user(srv)
    meeting_id, key = create_meeting(srv, token)
    srv.stop()
    srv2 = start_server(data_dir=srv.data_dir)
    assert call(srv2, "GET", query(f"/_ruche/v1/meetings/{meeting_id}", k=key)).status == 200


def test_join_is_refused_with_a_wrong_key_for_guests_or_without_a_join(server):
    _, token = new_user(server)
    open_id, open_key = create_meeting(server, token, allow_guests=True)
    closed_id, closed_key = create_meeting(server, token, allow_guests=False)

    async def refused(meeting_id, first):
        async with websockets.connect(ws_url(server, meeting_id)) as ws:
            await ws.send(json.dumps(first))
            msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
            try:
                await asyncio.wait_for(ws.recv(), 10)
                closed = False
            except websockets.ConnectionClosed:
                closed = True
            return msg, closed

    async def scenario():
        msg, closed = await refused(open_id, {"type": "join", "key": "wrong",
                                              "display_name": "Eve"})
        assert (msg["type"], msg["code"], closed) == ("error", "M_NOT_FOUND", True)
        msg, _ = await refused(closed_id, {"type": "join", "key": closed_key,
                                           "display_name": "Eve"})
        assert msg["code"] == "M_FORBIDDEN"
        msg, _ = await refused(open_id, {"type": "publish", "sdp": "v=0"})
        assert msg["code"] == "M_INVALID_PARAM"
        msg, _ = await refused(open_id, {"type": "join", "key": open_key})
        assert msg["code"] == "M_INVALID_PARAM"  # neither a token nor a name
        msg, _ = await refused(open_id, {"type": "join", "key": open_key,
                                         "display_name": "\u0007bell"})
        assert msg["code"] == "M_INVALID_PARAM"
        msg, _ = await refused(open_id, {"type": "join", "key": open_key,
                                         "access_token": "not-a-token"})
        assert msg["code"] == "M_UNKNOWN_TOKEN"
        # A signed-in member joins a meeting that refuses guests.
        async with MeetingClient(server, closed_id, closed_key, access_token=token) as member:
            assert member.joined["participants"] == []

    run(scenario())


def test_participants_see_each_other_join_mute_and_leave(server):
    name, token = new_user(server)
    meeting_id, key = create_meeting(server, token)

    async def scenario():
        async with MeetingClient(server, meeting_id, key, access_token=token) as host:
            assert host.joined["display_name"] == name  # no profile name: the localpart
            assert host.joined["title"] == "Weekly sync"
            async with MeetingClient(server, meeting_id, key, display_name="  Ana  ") as ana:
                others = ana.joined["participants"]
                assert [(p["display_name"], p["guest"], p["user_id"]) for p in others] == [
                    (name, False, server.mxid(name))]
                seen = await host.expect("participant_joined")
                assert seen["participant"]["display_name"] == "Ana"
                assert seen["participant"]["guest"] is True
                assert "user_id" not in seen["participant"]
                resp = call(server, "GET", query(f"/_ruche/v1/meetings/{meeting_id}", k=key))
                assert resp.json["participants"] == 2

                await ana.send({"type": "mute", "audio": True, "video": False})
                for c in (host, ana):
                    upd = await c.expect("participant_updated")
                    assert upd["participant"]["participant_id"] == ana.joined["participant_id"]
                    assert (upd["participant"]["audio_muted"],
                            upd["participant"]["video_muted"]) == (True, False)
                ana_id = ana.joined["participant_id"]
                await ana.send({"type": "leave"})
                left = await host.expect("participant_left")
                assert left["participant_id"] == ana_id
        resp = call(server, "GET", query(f"/_ruche/v1/meetings/{meeting_id}", k=key))
        assert resp.json["participants"] == 0

    run(scenario())


def test_bad_messages_get_errors_and_the_socket_stays_usable(server):
    _, token = new_user(server)
    meeting_id, key = create_meeting(server, token)

    async def scenario():
        async with MeetingClient(server, meeting_id, key, display_name="Bob") as bob:
            cases = [
                ("not json", "M_NOT_JSON"),
                (json.dumps({"type": "dance"}), "M_UNRECOGNIZED"),
                (json.dumps({"type": "publish", "sdp": "v=0\r\n"}), "M_INVALID_PARAM"),
                (json.dumps({"type": "publish", "sdp": 5}), "M_BAD_JSON"),
                (json.dumps({"type": "subscribe", "producer_ids": "x"}), "M_BAD_JSON"),
                (json.dumps({"type": "subscribe_answer", "sdp": "v=0\r\n"}), "M_BAD_JSON"),
                (json.dumps({"type": "preferred_layer", "producer_id": "p",
                             "spatial_layer": 7}), "M_INVALID_PARAM"),
                (json.dumps({"type": "join", "key": key, "display_name": "again"}),
                 "M_INVALID_PARAM"),
            ]
            for text, code in cases:
                await bob.ws.send(text)
                err = await bob.expect("error")
                assert err["code"] == code, (text, err)
            # Subscribing to producers that do not exist changes nothing and offers nothing.
            await bob.subscribe(["nope"])
            await bob.send({"type": "mute", "audio": False, "video": True})
            upd = await bob.expect("participant_updated")
            assert upd["participant"]["video_muted"] is True
            assert not [m for m in bob.seen if m["type"] == "subscribe_offer"]

    run(scenario())


def test_signalling_is_rate_limited(start_server):
    srv = start_server(settings={"limits.signalling_per_connection_per_second": 1,
                                 "limits.signalling_per_connection_burst": 3})
    _, token = new_user(srv)
    meeting_id, key = create_meeting(srv, token)

    async def scenario():
        async with MeetingClient(srv, meeting_id, key, display_name="Flood") as c:
            for _ in range(10):
                await c.send({"type": "mute", "audio": True, "video": True})
            err = await c.expect("error", lambda m: m["code"] == "M_LIMIT_EXCEEDED")
            assert err["code"] == "M_LIMIT_EXCEEDED"
            updates = [m for m in c.seen if m["type"] == "participant_updated"]
            assert len(updates) <= 3

    run(scenario())


def test_a_meeting_holds_at_most_the_configured_participants(start_server):
    srv = start_server(settings={"limits.meeting_participants": 2})
    _, token = new_user(srv)
    meeting_id, key = create_meeting(srv, token)

    async def scenario():
        async with MeetingClient(srv, meeting_id, key, display_name="One"):
            async with MeetingClient(srv, meeting_id, key, display_name="Two"):
                third = MeetingClient(srv, meeting_id, key, display_name="Three")
                try:
                    await third.connect()
                    raise AssertionError("a third participant was admitted")
                except JoinRefused as refused:
                    assert refused.message["code"] == "M_RESOURCE_LIMIT_EXCEEDED"
                finally:
                    await third.close()

    run(scenario())


def test_garbage_on_the_media_port_is_dropped(server):
    """Hostile datagrams on the UDP media port: nothing answers them but STUN errors, and the
    server keeps serving."""
    _, token = new_user(server)
    meeting_id, key = create_meeting(server, token)

    async def media_port():
        async with MeetingClient(server, meeting_id, key, display_name="P") as p:
            from meeting_client import loopback_only_ice
            loopback_only_ice()
            answer = await p.publish(audio=True, video=False)
            line = next(l for l in answer["sdp"].splitlines() if l.startswith("a=candidate:"))
            return int(line.split()[5])

    port = run(media_port())
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.5)
    try:
        payloads = [b"", b"\x00", b"\x00\x01\x00\x00\x21\x12\xa4\x42" + b"\x00" * 12,
                    b"\x16\xfe\xfd" + b"\xff" * 100, b"\x80\x60" + b"\x00" * 30,
                    b"\x80\xc8" + b"\xff" * 60, bytes(range(256)) * 5]
        for p in payloads * 20:
            sock.sendto(p, ("127.0.0.1", port))
        # A binding request with an unknown ufrag is not answered (nothing to authenticate).
        try:
            sock.recv(2048)
            answered = True
        except socket.timeout:
            answered = False
        assert not answered
    finally:
        sock.close()
    assert call(server, "GET", "/healthz").status == 200


def test_a_flood_of_checks_from_one_address_is_rationed(server):
    """Binding requests for a real ufrag but with a wrong MESSAGE-INTEGRITY are answered 401 —
    but only within a per-address budget (400 at once, 200/s), so one host cannot make the
    server compute and send without limit."""
    import hashlib
    import hmac
    import os
    import struct
    import zlib

    _, token = new_user(server)
    meeting_id, key = create_meeting(server, token)

    def check(ufrag):
        username = f"{ufrag}:evil".encode()
        attr = struct.pack(">HH", 0x0006, len(username)) + username
        attr += b"\0" * (-len(username) % 4)
        body = attr + struct.pack(">HH", 0x0008, 20) + hmac.new(b"wrong", b"x", hashlib.sha1).digest()
        header = struct.pack(">HHI", 0x0001, len(body) + 8, 0x2112A442) + os.urandom(12)
        msg = header + body
        fingerprint = zlib.crc32(msg) ^ 0x5354554E
        return msg + struct.pack(">HHI", 0x8028, 4, fingerprint)

    def flood(port, ufrag):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        answers = 0
        try:
            for _ in range(sent):
                sock.sendto(check(ufrag), ("127.0.0.1", port))
            sock.settimeout(1.0)
            try:
                while True:
                    reply = sock.recv(2048)
                    assert reply[:2] == b"\x01\x11"  # binding error response (401)
                    answers += 1
            except socket.timeout:
                pass
        finally:
            sock.close()
        return answers

    async def scenario():
        # The publisher stays in the meeting (its transport, and ufrag, alive) during the flood.
        async with MeetingClient(server, meeting_id, key, display_name="P") as p:
            from meeting_client import loopback_only_ice
            loopback_only_ice()
            answer = await p.publish(audio=True, video=False)
            lines = answer["sdp"].splitlines()
            port = int(next(l for l in lines if l.startswith("a=candidate:")).split()[5])
            ufrag = next(l for l in lines if l.startswith("a=ice-ufrag:")).split(":", 1)[1]
            return flood(port, ufrag)

    sent = 2000
    answers = run(scenario())
    assert 0 < answers < 700, answers  # some answered (it is a real ufrag), most not
    metrics = call(server, "GET", "/metrics").body.decode()
    dropped = int(re.search(r"^ruche_rtc_dropped_rate_limited_total (\d+)", metrics, re.M).group(1))
    assert dropped >= sent - 700
