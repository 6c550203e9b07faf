"""Room events are rate limited per sender (limits.send_per_user_*) and per room
(limits.send_per_room_*): 429 M_LIMIT_EXCEEDED with retry_after_ms, nothing stored for the refused
event, and a room's budget is charged only for events that are allowed in it, so an outsider can
neither drain it nor learn that the room exists."""
from ruche_test import call, client_path, create_room, new_user, q, query


def send(server, token, room, body, txn):
    return call(server, "PUT", client_path(f"/rooms/{q(room)}/send/m.room.message/{txn}"),
                {"msgtype": "m.text", "body": body}, token=token)


def history(server, token, room):
    chunk = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                      limit="100"), token=token).json["chunk"]
    return [e["content"]["body"] for e in chunk if e["type"] == "m.room.message"]


def assert_limited(resp):
    assert resp.status == 429, resp
    assert resp.errcode == "M_LIMIT_EXCEEDED"
    assert resp.json["retry_after_ms"] > 0
    assert resp.header("Retry-After") is not None


def test_a_sender_past_their_budget_gets_429_and_nothing_is_stored(start_server):
    # createRoom is not charged; each send and state change is.
    srv = start_server(settings={"limits.send_per_user_burst": 3,
                                 "limits.send_per_user_per_second": 0.001})
    _, alice = new_user(srv)
    room = create_room(srv, alice)
    for i in range(3):
        assert send(srv, alice, room, f"m{i}", f"t{i}").status == 200
    assert_limited(send(srv, alice, room, "too many", "t3"))
    state = call(srv, "PUT", client_path(f"/rooms/{q(room)}/state/m.room.topic"),
                 {"topic": "flood"}, token=alice)
    assert_limited(state)
    assert history(srv, alice, room) == ["m2", "m1", "m0"]
    topic = call(srv, "GET", client_path(f"/rooms/{q(room)}/state/m.room.topic"), token=alice)
    assert topic.status == 404
    # Another user has a budget of their own.
    _, bob = new_user(srv)
    assert call(srv, "POST", client_path(f"/rooms/{q(room)}/join"), {}, token=bob).status in \
        (200, 403)  # private by default: the join itself may be refused, it is not charged
    own = create_room(srv, bob)
    assert send(srv, bob, own, "hello", "b0").status == 200


def test_a_room_has_a_budget_shared_by_its_members(start_server):
    srv = start_server(settings={"limits.send_per_room_burst": 3,
                                 "limits.send_per_room_per_second": 0.001})
    _, alice = new_user(srv)
    bob_name, bob = new_user(srv)
    room = create_room(srv, alice, preset="public_chat")
    assert call(srv, "POST", client_path(f"/rooms/{q(room)}/join"), {}, token=bob).status == 200
    assert send(srv, alice, room, "a1", "a1").status == 200
    assert send(srv, bob, room, "b1", "b1").status == 200
    assert send(srv, alice, room, "a2", "a2").status == 200
    assert_limited(send(srv, bob, room, "b2", "b2"))
    assert history(srv, alice, room) == ["a2", "b1", "a1"]
    # A retry of a refused transaction is a new attempt, not a replay of a stored event.
    assert_limited(send(srv, bob, room, "b2", "b2"))
    # Other rooms are not affected.
    other = create_room(srv, bob)
    assert send(srv, bob, other, "elsewhere", "b3").status == 200


def test_outsiders_neither_drain_a_room_nor_learn_of_it(start_server):
    srv = start_server(settings={"limits.send_per_room_burst": 3,
                                 "limits.send_per_room_per_second": 0.001})
    _, alice = new_user(srv)
    _, mallory = new_user(srv)
    room = create_room(srv, alice)  # private
    missing = "!doesnotexist:" + srv.server_name
    for i in range(6):
        refused = send(srv, mallory, room, "spam", f"m{i}")
        unknown = send(srv, mallory, missing, "spam", f"x{i}")
        # The same answer as for a room that does not exist: never a 429.
        assert refused.status == unknown.status == 403, (refused, unknown)
        assert refused.errcode == unknown.errcode
    for i in range(3):
        assert send(srv, alice, room, f"mine {i}", f"a{i}").status == 200
    assert_limited(send(srv, alice, room, "one more", "a3"))
