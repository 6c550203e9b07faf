"""Unread notification counts in /sync (`unread_notifications`, `unread_thread_notifications`):
what the user's push rules say notifies, after their read receipt, as Element shows in its room
list badges."""
import json

from ruche_test import call, client_path, create_room, new_user, q, query, send, sync


def setup_room(server, members=3):
    users = [new_user(server) for _ in range(members)]
    owner = users[0][1]
    room = create_room(server, owner, preset="private_chat",
                       invite=[server.mxid(name) for name, _ in users[1:]])
    for _, token in users[1:]:
        assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {},
                    token=token).status == 200
    return users, room


def counts(sync_json, room):
    joined = sync_json["rooms"]["join"].get(room)
    return None if joined is None else joined.get("unread_notifications")


def send_content(server, token, room, content, txn, event_type="m.room.message"):
    resp = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/{event_type}/{txn}"), content,
                token=token)
    assert resp.status == 200, resp
    return resp.json["event_id"]


def receipt(server, token, room, event_id, thread_id=None, receipt_type="m.read"):
    body = {} if thread_id is None else {"thread_id": thread_id}
    resp = call(server, "POST",
                client_path(f"/rooms/{q(room)}/receipt/{receipt_type}/{q(event_id)}"), body,
                token=token)
    assert resp.status == 200, resp


def test_messages_count_mentions_highlight_and_a_receipt_resets(server):
    users, room = setup_room(server)
    (a_name, a), (b_name, b), _ = users
    since = sync(server, b)["next_batch"]
    send(server, a, room, "hello everyone", "t1")
    mention = send(server, a, room, f"{b_name}: can you look?", "t2").json["event_id"]
    last = send(server, a, room, "thanks", "t3").json["event_id"]
    got = sync(server, b, since=since)
    assert counts(got, room) == {"notification_count": 3, "highlight_count": 1}
    # A fresh initial sync (another device) counts the same from storage.
    assert counts(sync(server, b), room) == {"notification_count": 3, "highlight_count": 1}
    # The sender's own counts stay at zero.
    assert counts(sync(server, a), room) == {"notification_count": 0, "highlight_count": 0}

    receipt(server, b, room, mention)
    got = sync(server, b, since=got["next_batch"])
    assert counts(got, room) == {"notification_count": 1, "highlight_count": 0}
    receipt(server, b, room, last, receipt_type="m.read.private")
    got = sync(server, b, since=got["next_batch"])
    assert counts(got, room) == {"notification_count": 0, "highlight_count": 0}

    # Writing reads: b's own message clears what came before it.
    send(server, a, room, "one more", "t4")
    got = sync(server, b, since=got["next_batch"])
    assert counts(got, room)["notification_count"] == 1
    send(server, b, room, "on it", "t5")
    got = sync(server, b, since=got["next_batch"])
    assert counts(got, room) == {"notification_count": 0, "highlight_count": 0}


def test_what_does_not_notify(server):
    users, room = setup_room(server)
    (_, a), (_, b), _ = users
    since = sync(server, b)["next_batch"]
    first = send(server, a, room, "first", "n1").json["event_id"]
    send_content(server, a, room, {"msgtype": "m.notice", "body": "bot says hi"}, "n2")
    send_content(server, a, room, {"m.relates_to": {"rel_type": "m.annotation",
                                                    "event_id": first, "key": "👍"}},
                 "n3", event_type="m.reaction")
    send_content(server, a, room, {"msgtype": "m.text", "body": "* first!",
                                   "m.new_content": {"msgtype": "m.text", "body": "first!"},
                                   "m.relates_to": {"rel_type": "m.replace", "event_id": first}},
                 "n4")
    resp = call(server, "PUT", client_path(f"/rooms/{q(room)}/state/m.room.topic"),
                {"topic": "new topic"}, token=a)
    assert resp.status == 200, resp
    got = sync(server, b, since=since)
    assert counts(got, room) == {"notification_count": 1, "highlight_count": 0}


def test_events_before_joining_do_not_count(server):
    (a_name, a), (c_name, c) = new_user(server), new_user(server)
    room = create_room(server, a, preset="public_chat")
    for i in range(4):
        send(server, a, room, f"history {i}", f"h{i}")
    assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {}, token=c).status == 200
    got = sync(server, c)
    assert counts(got, room) == {"notification_count": 0, "highlight_count": 0}
    send(server, a, room, "welcome", "h9")
    got = sync(server, c, since=got["next_batch"])
    assert counts(got, room) == {"notification_count": 1, "highlight_count": 0}


def test_thread_counts_apart_when_the_filter_asks(server):
    users, room = setup_room(server)
    (_, a), (_, b), _ = users
    threads_filter = json.dumps({"room": {"timeline": {"unread_thread_notifications": True}}})
    since = sync(server, b, filter=threads_filter)["next_batch"]
    root = send(server, a, room, "thread root", "r0").json["event_id"]
    replies = [send_content(server, a, room,
                            {"msgtype": "m.text", "body": f"reply {i}",
                             "m.relates_to": {"rel_type": "m.thread", "event_id": root}},
                            f"r{i + 1}") for i in range(2)]
    got = sync(server, b, since=since, filter=threads_filter)
    joined = got["rooms"]["join"][room]
    assert joined["unread_notifications"] == {"notification_count": 1, "highlight_count": 0}
    assert joined["unread_thread_notifications"] == {
        root: {"notification_count": 2, "highlight_count": 0}}
    # Without the filter flag, one total.
    assert counts(sync(server, b), room)["notification_count"] == 3

    # A threaded receipt reads the thread only.
    receipt(server, b, room, replies[-1], thread_id=root)
    got = sync(server, b, since=got["next_batch"], filter=threads_filter)
    joined = got["rooms"]["join"][room]
    assert joined["unread_notifications"]["notification_count"] == 1
    assert joined["unread_thread_notifications"] == {}
    # The main timeline's receipt reads the root.
    receipt(server, b, room, root, thread_id="main")
    got = sync(server, b, since=got["next_batch"], filter=threads_filter)
    assert got["rooms"]["join"][room]["unread_notifications"]["notification_count"] == 0


def test_push_rules_decide(server):
    users, room = setup_room(server)
    (_, a), (b_name, b), _ = users
    since = sync(server, b)["next_batch"]
    # A keyword of b's own highlights; then b mutes the room.
    resp = call(server, "PUT", client_path("/pushrules/global/content/deploys"),
                {"pattern": "deploy*", "actions": ["notify", {"set_tweak": "highlight"}]},
                token=b)
    assert resp.status == 200, resp
    got = sync(server, b, since=since)  # carries the changed m.push_rules account data
    send(server, a, room, "deploying at noon", "k1")
    got = sync(server, b, since=got["next_batch"])
    assert counts(got, room) == {"notification_count": 1, "highlight_count": 1}
    resp = call(server, "PUT", client_path(f"/pushrules/global/room/{q(room)}"),
                {"actions": []}, token=b)
    assert resp.status == 200, resp
    got = sync(server, b, since=got["next_batch"])
    send(server, a, room, "lunch?", "k2")
    got = sync(server, b, since=got["next_batch"])
    assert counts(got, room) == {"notification_count": 1, "highlight_count": 1}, \
        "a muted room's new message adds nothing"


def test_every_member_of_a_busy_room_counts_for_itself(server):
    users, room = setup_room(server, members=6)
    (_, a), *others = users
    tokens = [token for _, token in others]
    sinces = [sync(server, t)["next_batch"] for t in tokens]
    for i in range(3):
        send(server, a, room, f"news {i}", f"b{i}")
    # Every member's sync of the same window (shared between them) counts for that member.
    for token, since in zip(tokens, sinces):
        assert counts(sync(server, token, since=since), room)["notification_count"] == 3
    # One member reads; the others' counts do not move.
    first_token = tokens[0]
    last = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                     limit="1"), token=first_token).json["chunk"][0]["event_id"]
    receipt(server, first_token, room, last)
    assert counts(sync(server, first_token), room)["notification_count"] == 0
    assert counts(sync(server, tokens[1]), room)["notification_count"] == 3


def test_counts_see_what_the_timeline_filter_hides(server):
    users, room = setup_room(server)
    (_, a), (_, b), _ = users
    reactions_only = json.dumps({"room": {"timeline": {"types": ["m.reaction"]}}})
    since = sync(server, b, filter=reactions_only)["next_batch"]
    for round_no, expected in ((1, 2), (2, 4)):
        first = send(server, a, room, f"hello {round_no}", f"f{round_no}a").json["event_id"]
        send(server, a, room, f"again {round_no}", f"f{round_no}b")
        send_content(server, a, room, {"m.relates_to": {"rel_type": "m.annotation",
                                                        "event_id": first, "key": "x"}},
                     f"f{round_no}c", event_type="m.reaction")
        got = sync(server, b, since=since, filter=reactions_only)
        since = got["next_batch"]
        joined = got["rooms"]["join"][room]
        assert [e["type"] for e in joined["timeline"]["events"]] == ["m.reaction"]
        assert joined["unread_notifications"] == {"notification_count": expected,
                                                  "highlight_count": 0}
