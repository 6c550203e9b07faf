"""Rooms, sending, state, membership, /sync and /messages: the first slice of the chat core.

Each test creates its own users and rooms on the module's shared server."""
import threading
import urllib.parse

from ruche_test import (bodies, call, client_path, create_room, login, new_user, q, query, send,
                        sync)


def test_create_room_sets_up_state_and_creator_joins(server):
    name, token = new_user(server)
    room = create_room(server, token, name="General", topic="Everything")
    assert room.startswith("!") and room.endswith(":" + server.server_name)
    state = call(server, "GET", client_path(f"/rooms/{q(room)}/state"), token=token)
    assert state.status == 200, state
    types = {(e["type"], e["state_key"]) for e in state.json}
    me = server.mxid(name)
    for expected in [("m.room.create", ""), ("m.room.member", me), ("m.room.power_levels", ""),
                     ("m.room.join_rules", ""), ("m.room.history_visibility", ""),
                     ("m.room.name", ""), ("m.room.topic", "")]:
        assert expected in types, (expected, types)
    pl = call(server, "GET", client_path(f"/rooms/{q(room)}/state/m.room.power_levels/"),
              token=token)
    assert pl.json["users"][me] == 100
    joined = call(server, "GET", client_path("/joined_rooms"), token=token)
    assert room in joined.json["joined_rooms"]


def test_events_form_a_chain_with_spec_event_ids(server):
    _, token = new_user(server)
    room = create_room(server, token)
    first = send(server, token, room, "one", "t1").json["event_id"]
    second = send(server, token, room, "two", "t2").json["event_id"]
    ev1 = call(server, "GET", client_path(f"/rooms/{q(room)}/event/{q(first)}"), token=token).json
    ev2 = call(server, "GET", client_path(f"/rooms/{q(room)}/event/{q(second)}"), token=token).json
    assert ev1["event_id"] == first and first.startswith("$") and len(first) == 44
    assert ev2["prev_events"] == [first]
    assert ev2["depth"] == ev1["depth"] + 1
    assert "sha256" in ev2["hashes"]


def test_send_is_idempotent_per_transaction_id(server):
    _, token = new_user(server)
    room = create_room(server, token)
    a = send(server, token, room, "hello", "same-txn").json["event_id"]
    b = send(server, token, room, "hello again", "same-txn").json["event_id"]
    assert a == b
    history = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                        limit="50"), token=token).json
    assert bodies({"events": history["chunk"]}) == ["hello"]


def test_the_sending_device_gets_its_transaction_id_back(server):
    """Spec: unsigned.transaction_id is given to the client that sent the event, and only to it
    (clients match their local echo with it): in /sync, /messages, /context and /event."""
    name, token = new_user(server)
    other_device = login(server, name).json["access_token"]
    _, bob = new_user(server)
    room = create_room(server, token, preset="public_chat")
    call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {}, token=bob)
    sent = send(server, token, room, "echo me", "txn-echo-1").json["event_id"]
    redaction = call(server, "PUT", client_path(f"/rooms/{q(room)}/redact/{q(sent)}/txn-redact"),
                     {"reason": "typo"}, token=token)
    assert redaction.status == 200, redaction
    redaction_id = redaction.json["event_id"]

    def txn_ids(events):
        return {e["event_id"]: e.get("unsigned", {}).get("transaction_id") for e in events
                if e["event_id"] in (sent, redaction_id)}

    want = {sent: "txn-echo-1", redaction_id: "txn-redact"}
    nobody = {sent: None, redaction_id: None}
    for tok, expected in [(token, want), (other_device, nobody), (bob, nobody)]:
        timeline = sync(server, tok)["rooms"]["join"][room]["timeline"]["events"]
        assert txn_ids(timeline) == expected
        history = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b"),
                       token=tok).json["chunk"]
        assert txn_ids(history) == expected
        ev = call(server, "GET", client_path(f"/rooms/{q(room)}/event/{q(redaction_id)}"),
                  token=tok).json
        assert ev.get("unsigned", {}).get("transaction_id") == expected[redaction_id]
        context = call(server, "GET", client_path(f"/rooms/{q(room)}/context/{q(sent)}"),
                       token=tok).json
        assert context["event"].get("unsigned", {}).get("transaction_id") == expected[sent]


def test_concurrent_retries_of_one_transaction_create_one_event(server):
    _, token = new_user(server)
    room = create_room(server, token)
    results = []

    def worker():
        results.append(send(server, token, room, "race", "race-txn").json["event_id"])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1, results


def test_invite_join_and_messages_reach_the_other_users_sync(server):
    alice, a_tok = new_user(server)
    bob, b_tok = new_user(server)
    room = create_room(server, a_tok, invite=[server.mxid(bob)])
    first = sync(server, b_tok)
    assert room in first["rooms"]["invite"], first["rooms"]
    invite_state = first["rooms"]["invite"][room]["invite_state"]["events"]
    assert any(e["type"] == "m.room.member" and e["state_key"] == server.mxid(bob)
               for e in invite_state)
    assert room not in first["rooms"]["join"]
    joined = call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {}, token=b_tok)
    assert joined.status == 200 and joined.json["room_id"] == room, joined
    after_join = sync(server, b_tok, since=first["next_batch"])
    assert room in after_join["rooms"]["join"]
    state_types = {e["type"] for e in after_join["rooms"]["join"][room]["state"]["events"]}
    timeline_types = {e["type"] for e in after_join["rooms"]["join"][room]["timeline"]["events"]}
    assert "m.room.create" in state_types | timeline_types
    send(server, a_tok, room, "hi bob", "m1")
    incremental = sync(server, b_tok, since=after_join["next_batch"])
    assert bodies(incremental["rooms"]["join"][room]["timeline"]) == ["hi bob"]
    # Nothing new: the room is absent and the token does not move.
    quiet = sync(server, b_tok, since=incremental["next_batch"])
    assert room not in quiet["rooms"]["join"]


def test_long_poll_wakes_when_a_message_is_committed(server):
    _, a_tok = new_user(server)
    bob, b_tok = new_user(server)
    room = create_room(server, a_tok, preset="public_chat")
    assert call(server, "POST", client_path(f"/join/{q(room)}"), {}, token=b_tok).status == 200
    since = sync(server, b_tok)["next_batch"]
    got = {}

    def poll():
        got["sync"] = sync(server, b_tok, since=since, timeout=20000)

    t = threading.Thread(target=poll)
    t.start()
    send(server, a_tok, room, "wake up", "w1")
    t.join(25)
    assert not t.is_alive()
    assert bodies(got["sync"]["rooms"]["join"][room]["timeline"]) == ["wake up"]


def test_timeline_is_limited_with_a_prev_batch_that_paginates(server):
    _, token = new_user(server)
    room = create_room(server, token)
    for i in range(15):
        send(server, token, room, f"m{i}", f"p{i}")
    first = sync(server, token)
    timeline = first["rooms"]["join"][room]["timeline"]
    assert timeline["limited"] is True
    assert bodies(timeline) == [f"m{i}" for i in range(5, 15)]
    older = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                      limit="3", **{"from": timeline["prev_batch"]}),
                 token=token).json
    assert bodies({"events": older["chunk"]}) == ["m4", "m3", "m2"]
    rest = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                     limit="100", **{"from": older["end"]}), token=token).json
    assert bodies({"events": rest["chunk"]}) == ["m1", "m0"]
    assert "end" not in rest  # nothing older
    forward = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="f",
                                        limit="2", **{"from": older["end"]}), token=token).json
    assert bodies({"events": forward["chunk"]}) == ["m2", "m3"]


def test_outsiders_see_nothing_and_learn_nothing(server):
    _, owner = new_user(server)
    _, outsider = new_user(server)
    room = create_room(server, owner)
    event_id = send(server, owner, room, "secret", "s1").json["event_id"]
    missing = "!doesnotexist:" + server.server_name
    for rid in (room, missing):
        assert send(server, outsider, rid, "x", "o1", expect=403).errcode == "M_FORBIDDEN"
        hist = call(server, "GET", query(client_path(f"/rooms/{q(rid)}/messages"), dir="b"),
                    token=outsider)
        assert hist.status == 403
        state = call(server, "GET", client_path(f"/rooms/{q(rid)}/state"), token=outsider)
        assert state.status == 403
    # Joining a private room and a missing room answer exactly alike.
    a = call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {}, token=outsider)
    b = call(server, "POST", client_path(f"/rooms/{q(missing)}/join"), {}, token=outsider)
    assert (a.status, a.json) == (b.status, b.json) and a.status == 403
    ev = call(server, "GET", client_path(f"/rooms/{q(room)}/event/{q(event_id)}"), token=outsider)
    assert ev.status == 404
    assert room not in sync(server, outsider)["rooms"]["join"]


def test_power_levels_guard_state_and_kicks(server):
    _, owner = new_user(server)
    member_name, member = new_user(server)
    room = create_room(server, owner, preset="public_chat")
    assert call(server, "POST", client_path(f"/join/{q(room)}"), {}, token=member).status == 200
    rename = call(server, "PUT", client_path(f"/rooms/{q(room)}/state/m.room.name"),
                  {"name": "hijacked"}, token=member)
    assert rename.status == 403 and rename.errcode == "M_FORBIDDEN", rename
    ok = call(server, "PUT", client_path(f"/rooms/{q(room)}/state/m.room.name"),
              {"name": "Renamed"}, token=owner)
    assert ok.status == 200, ok
    kick = call(server, "POST", client_path(f"/rooms/{q(room)}/kick"),
                {"user_id": server.mxid(member_name)}, token=owner)
    assert kick.status == 200, kick
    assert send(server, member, room, "still here?", "k1", expect=403).errcode == "M_FORBIDDEN"


def test_banned_user_cannot_rejoin_and_leave_stops_history(server):
    _, owner = new_user(server)
    name, user = new_user(server)
    room = create_room(server, owner, preset="public_chat")
    assert call(server, "POST", client_path(f"/join/{q(room)}"), {}, token=user).status == 200
    since = sync(server, user)["next_batch"]
    assert call(server, "POST", client_path(f"/rooms/{q(room)}/ban"),
                {"user_id": server.mxid(name), "reason": "spam"}, token=owner).status == 200
    send(server, owner, room, "after the ban", "b1")
    after = sync(server, user, since=since)
    assert room in after["rooms"]["leave"]
    assert "after the ban" not in bodies(after["rooms"]["leave"][room]["timeline"])
    rejoin = call(server, "POST", client_path(f"/join/{q(room)}"), {}, token=user)
    assert rejoin.status == 403


def test_bad_input_is_rejected_cleanly(server):
    _, token = new_user(server)
    room = create_room(server, token)
    bad_json = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/m.room.message/x1"),
                    raw_body=b"{nope", token=token)
    assert bad_json.status == 400 and bad_json.errcode == "M_NOT_JSON"
    huge = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/m.room.message/x2"),
                {"body": "x" * 70000, "msgtype": "m.text"}, token=token)
    assert huge.status == 413 and huge.errcode == "M_TOO_LARGE", huge
    floats = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/m.room.message/x3"),
                  {"body": "f", "n": 1.5}, token=token)
    assert floats.status == 400 and floats.errcode == "M_BAD_JSON", floats
    version = call(server, "POST", client_path("/createRoom"), {"room_version": "1"}, token=token)
    assert version.errcode == "M_UNSUPPORTED_ROOM_VERSION"
    token_err = call(server, "GET", query(client_path("/sync"), since="garbage"), token=token)
    assert token_err.status == 400


def test_redaction_erases_content_from_storage_and_history(start_server):
    server = start_server(registration="open")  # its own: it is stopped to read the file
    owner_name, owner = new_user(server)
    member_name, member = new_user(server)
    room = create_room(server, owner, preset="public_chat")
    assert call(server, "POST", client_path(f"/join/{q(room)}"), {}, token=member).status == 200
    secret = send(server, member, room, "my password is hunter2", "r1").json["event_id"]
    mine = send(server, owner, room, "owner's own", "r2").json["event_id"]
    # A member may not redact someone else's message; the owner (level 100) may.
    denied = call(server, "PUT", client_path(f"/rooms/{q(room)}/redact/{q(mine)}/x1"), {},
                  token=member)
    assert denied.status == 403, denied
    # The same check when the redaction is sent as a plain event through /send.
    sneaky = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/m.room.redaction/x0"),
                  {"redacts": mine}, token=member)
    assert sneaky.status == 403, sneaky
    red = call(server, "PUT", client_path(f"/rooms/{q(room)}/redact/{q(secret)}/x2"),
               {"reason": "leaked"}, token=owner)
    assert red.status == 200, red
    again = call(server, "PUT", client_path(f"/rooms/{q(room)}/redact/{q(secret)}/x2"),
                 {"reason": "leaked"}, token=owner)
    assert again.json["event_id"] == red.json["event_id"]  # same transaction, same event
    ev = call(server, "GET", client_path(f"/rooms/{q(room)}/event/{q(secret)}"), token=member)
    assert ev.status == 200 and ev.json["content"] == {}, ev
    assert ev.json["unsigned"]["redacted_because"]["event_id"] == red.json["event_id"]
    history = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                        limit="50"), token=member).json
    assert "hunter2" not in str(history)
    # A redaction sent through /send erases its target too.
    own = send(server, member, room, "second secret swordfish", "r3").json["event_id"]
    via_send = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/m.room.redaction/x3"),
                    {"redacts": own}, token=member)
    assert via_send.status == 200, via_send
    gone = call(server, "GET", client_path(f"/rooms/{q(room)}/event/{q(own)}"), token=member)
    assert gone.json["content"] == {}, gone
    # Really gone from the database file, not only hidden from the API.
    server.stop()
    db = (server.data_dir / "ruche.db").read_bytes()
    wal = server.data_dir / "ruche.db-wal"
    everything = db + (wal.read_bytes() if wal.exists() else b"")
    assert b"hunter2" not in everything and b"swordfish" not in everything


def test_members_and_joined_members(server):
    owner_name, owner = new_user(server)
    guest_name, guest = new_user(server)
    room = create_room(server, owner, invite=[server.mxid(guest_name)])
    members = call(server, "GET", client_path(f"/rooms/{q(room)}/members"), token=owner).json
    by_user = {e["state_key"]: e["content"]["membership"] for e in members["chunk"]}
    assert by_user == {server.mxid(owner_name): "join", server.mxid(guest_name): "invite"}
    joined = call(server, "GET", client_path(f"/rooms/{q(room)}/joined_members"),
                  token=owner).json
    assert list(joined["joined"]) == [server.mxid(owner_name)]
    assert call(server, "GET", client_path(f"/rooms/{q(room)}/members"),
                token=guest).status == 403


def test_read_receipts_reach_the_room_and_private_ones_stay_private(server):
    alice_name, alice = new_user(server)
    bob_name, bob = new_user(server)
    room = create_room(server, alice, preset="public_chat")
    assert call(server, "POST", client_path(f"/join/{q(room)}"), {}, token=bob).status == 200
    event_id = send(server, alice, room, "read me", "rr1").json["event_id"]
    since = sync(server, alice)["next_batch"]
    ok = call(server, "POST", client_path(f"/rooms/{q(room)}/receipt/m.read/{q(event_id)}"), {},
              token=bob)
    assert ok.status == 200, ok
    private = call(server, "POST",
                   client_path(f"/rooms/{q(room)}/receipt/m.read.private/{q(event_id)}"), {},
                   token=bob)
    assert private.status == 200, private
    seen = sync(server, alice, since=since)["rooms"]["join"][room]["ephemeral"]["events"]
    receipts = [e["content"] for e in seen if e["type"] == "m.receipt"]
    assert receipts, seen
    by_type = receipts[0][event_id]
    assert server.mxid(bob_name) in by_type["m.read"]
    assert "m.read.private" not in by_type  # Alice never sees Bob's private receipt
    own = sync(server, bob)["rooms"]["join"][room]["ephemeral"]["events"]
    own_types = {t for e in own if e["type"] == "m.receipt"
                 for ev in e["content"].values() for t in ev}
    assert "m.read.private" in own_types
    markers = call(server, "POST", client_path(f"/rooms/{q(room)}/read_markers"),
                   {"m.fully_read": event_id}, token=bob)
    assert markers.status == 200, markers
    room_data = sync(server, bob)["rooms"]["join"][room]["account_data"]["events"]
    assert {"type": "m.fully_read", "content": {"event_id": event_id}} in room_data
    bad = call(server, "POST", client_path(f"/rooms/{q(room)}/receipt/m.read/%24nope"), {},
               token=bob)
    assert bad.status == 404
    _, outsider = new_user(server)
    denied = call(server, "POST", client_path(f"/rooms/{q(room)}/receipt/m.read/{q(event_id)}"),
                  {}, token=outsider)
    assert denied.status == 403


def test_relations_list_edits_reactions_and_thread_replies(server):
    _, token = new_user(server)
    room = create_room(server, token)
    root = send(server, token, room, "root", "rel0").json["event_id"]

    def relate(txn, event_type, content):
        resp = call(server, "PUT",
                    client_path(f"/rooms/{q(room)}/send/{event_type}/{txn}"), content,
                    token=token)
        assert resp.status == 200, resp
        return resp.json["event_id"]

    edit = relate("rel1", "m.room.message", {
        "msgtype": "m.text", "body": "* root!", "m.new_content": {"msgtype": "m.text",
                                                                  "body": "root!"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": root}})
    reaction = relate("rel2", "m.reaction", {
        "m.relates_to": {"rel_type": "m.annotation", "event_id": root, "key": "👍"}})
    replies = [relate(f"rel3{i}", "m.room.message", {
        "msgtype": "m.text", "body": f"t{i}",
        "m.relates_to": {"rel_type": "m.thread", "event_id": root}}) for i in range(3)]

    def relations(path="", **params):
        resp = call(server, "GET", query(
            f"/_matrix/client/v1/rooms/{q(room)}/relations/{q(root)}{path}", **params),
            token=token)
        assert resp.status == 200, resp
        return resp.json

    everything = [e["event_id"] for e in relations()["chunk"]]
    assert everything == list(reversed([edit, reaction] + replies))  # newest first
    assert [e["event_id"] for e in relations("/m.annotation")["chunk"]] == [reaction]
    assert [e["event_id"] for e in relations("/m.replace/m.room.message")["chunk"]] == [edit]
    page = relations("/m.thread", limit="2")
    assert [e["event_id"] for e in page["chunk"]] == [replies[2], replies[1]]
    rest = relations("/m.thread", limit="2", **{"from": page["next_batch"]})
    assert [e["event_id"] for e in rest["chunk"]] == [replies[0]]
    _, outsider = new_user(server)
    denied = call(server, "GET", f"/_matrix/client/v1/rooms/{q(room)}/relations/{q(root)}",
                  token=outsider)
    # Spec: "not found or no permission" is one answer.
    assert (denied.status, denied.json["errcode"]) == (404, "M_NOT_FOUND")


def test_lazy_loading_members_sends_only_the_senders_and_a_summary(server):
    owner_name, owner = new_user(server)
    room = create_room(server, owner, preset="public_chat", name="Big room")
    members = []
    for _ in range(6):
        name, tok = new_user(server)
        assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {},
                    token=tok).status == 200
        members.append((name, tok))
    talker_name, talker = members[2]
    for i in range(3):
        send(server, talker, room, f"hi {i}", f"ll{i}")
    lazy = '{"room":{"state":{"lazy_load_members":true},"timeline":{"limit":3}}}'
    got = sync(server, owner, filter=lazy)["rooms"]["join"][room]
    member_keys = {e["state_key"] for e in got["state"]["events"] if e["type"] == "m.room.member"}
    assert member_keys == {server.mxid(talker_name), server.mxid(owner_name)}
    assert got["summary"]["m.joined_member_count"] == 7
    assert got["summary"]["m.invited_member_count"] == 0
    assert len(got["summary"]["m.heroes"]) == 5
    assert server.mxid(owner_name) not in got["summary"]["m.heroes"]
    # Without the filter every member is in the state.
    full = sync(server, owner)["rooms"]["join"][room]
    assert len([e for e in full["state"]["events"] if e["type"] == "m.room.member"]) + len(
        [e for e in full["timeline"]["events"] if e["type"] == "m.room.member"]) >= 7
    # Incrementally, a new sender's member event comes with their message.
    since = sync(server, owner, filter=lazy)["next_batch"]
    quiet_name, quiet = members[4]
    send(server, quiet, room, "first words", "ll-quiet")
    inc = sync(server, owner, since=since, filter=lazy)["rooms"]["join"][room]
    assert server.mxid(quiet_name) in {e["state_key"] for e in inc["state"]["events"]
                                        if e["type"] == "m.room.member"}


def test_member_events_carry_the_profile_and_invitations_name_the_inviter(server):
    alice_name, alice = new_user(server)
    bob_name, bob = new_user(server)
    alice_id, bob_id = server.mxid(alice_name), server.mxid(bob_name)
    for who, tok, name in ((alice_id, alice, "Alice A."), (bob_id, bob, "Bob B.")):
        assert call(server, "PUT", client_path(f"/profile/{q(who)}/displayname"),
                    {"displayname": name}, token=tok).status == 200
    room = create_room(server, alice, invite=[bob_id], is_direct=True)

    def member(tok, user):
        return call(server, "GET", client_path(f"/rooms/{q(room)}/state/m.room.member/{q(user)}"),
                    token=tok).json

    assert member(alice, alice_id) == {"membership": "join", "displayname": "Alice A."}
    assert member(alice, bob_id) == {"membership": "invite", "is_direct": True,
                                     "displayname": "Bob B."}
    invite_state = sync(server, bob)["rooms"]["invite"][room]["invite_state"]["events"]
    members = {e["state_key"]: e["content"] for e in invite_state if e["type"] == "m.room.member"}
    assert members == {alice_id: {"membership": "join", "displayname": "Alice A."},
                       bob_id: {"membership": "invite", "is_direct": True,
                                "displayname": "Bob B."}}
    assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {}, token=bob).status == 200
    assert member(bob, bob_id) == {"membership": "join", "displayname": "Bob B."}


def test_a_profile_change_is_announced_in_every_joined_room(server):
    alice_name, alice = new_user(server)
    bob_name, bob = new_user(server)
    alice_id, bob_id = server.mxid(alice_name), server.mxid(bob_name)
    rooms = [create_room(server, alice, invite=[bob_id]) for _ in range(2)]
    for room in rooms:
        assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {},
                    token=bob).status == 200
    left = create_room(server, alice, invite=[bob_id])
    assert call(server, "POST", client_path(f"/rooms/{q(left)}/join"), {},
                token=bob).status == 200
    assert call(server, "POST", client_path(f"/rooms/{q(left)}/leave"), {},
                token=alice).status == 200
    since = sync(server, bob)["next_batch"]

    def member(room):
        return call(server, "GET", client_path(f"/rooms/{q(room)}/state/m.room.member/{q(alice_id)}"),
                    token=bob).json

    profile = client_path(f"/profile/{q(alice_id)}")
    assert call(server, "PUT", profile + "/displayname", {"displayname": "Alice Martin"},
                token=alice).status == 200
    assert call(server, "PUT", profile + "/avatar_url", {"avatar_url": "mxc://x/pic"},
                token=alice).status == 200
    for room in rooms:
        assert member(room) == {"membership": "join", "displayname": "Alice Martin",
                                "avatar_url": "mxc://x/pic"}
    # Bob's sync hears of both changes in both rooms, as member events in the timeline.
    got = sync(server, bob, since=since)["rooms"]["join"]
    for room in rooms:
        changes = [e["content"] for e in got[room]["timeline"]["events"]
                   if e["type"] == "m.room.member" and e["state_key"] == alice_id]
        assert changes[-1] == {"membership": "join", "displayname": "Alice Martin",
                               "avatar_url": "mxc://x/pic"}, changes
    # The same value again announces nothing; "" clears the picture (as null does).
    before = sync(server, bob)["next_batch"]
    assert call(server, "PUT", profile + "/displayname", {"displayname": "Alice Martin"},
                token=alice).status == 200
    assert call(server, "PUT", profile + "/avatar_url", {"avatar_url": ""},
                token=alice).status == 200
    assert member(rooms[0]) == {"membership": "join", "displayname": "Alice Martin"}
    after = sync(server, bob, since=before)["rooms"]["join"][rooms[0]]["timeline"]["events"]
    assert len([e for e in after if e["type"] == "m.room.member"]) == 1
    assert "avatar_url" not in call(server, "GET", profile, token=bob).json
    # A room she left gets nothing.
    assert member(left) == {"membership": "leave"}
