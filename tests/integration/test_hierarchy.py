"""GET /_matrix/client/v1/rooms/{roomId}/hierarchy: walking a space's m.space.child events."""
import urllib.parse

from ruche_test import call, new_user, query, client_path


def q(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def create_room(server, token, **body):
    resp = call(server, "POST", client_path("/createRoom"), body, token=token)
    assert resp.status == 200, resp
    return resp.json["room_id"]


def space(server, token, **body):
    return create_room(server, token, creation_content={"type": "m.space"}, **body)


def add_child(server, token, parent, child, **content):
    body = {"via": [server.server_name], **content}
    resp = call(server, "PUT", client_path(f"/rooms/{q(parent)}/state/m.space.child/{q(child)}"),
                body, token=token)
    assert resp.status == 200, resp


def hierarchy(server, token, room, expect=200, **params):
    path = f"/_matrix/client/v1/rooms/{q(room)}/hierarchy"
    if params:
        path = query(path, **params)
    resp = call(server, "GET", path, token=token)
    assert resp.status == expect, resp
    return resp.json


def walk(server, token, room, **params):
    rooms, token_from = [], None
    for _ in range(50):
        p = dict(params)
        if token_from:
            p["from"] = token_from
        page = hierarchy(server, token, room, **p)
        rooms += page["rooms"]
        token_from = page.get("next_batch")
        if not token_from:
            return rooms
    raise AssertionError("pagination did not end")


def test_space_tree_in_order_with_children_state(server):
    _, alice = new_user(server)
    root = space(server, alice, name="Company", preset="public_chat")
    general = create_room(server, alice, name="General", preset="public_chat")
    team = space(server, alice, name="Team", preset="public_chat")
    team_chat = create_room(server, alice, name="Team chat")
    add_child(server, alice, root, team, order="b")
    add_child(server, alice, root, general, order="a", suggested=True)
    add_child(server, alice, team, team_chat)
    rooms = walk(server, alice, root)
    assert [r["room_id"] for r in rooms] == [root, general, team, team_chat]
    top = rooms[0]
    assert top["room_type"] == "m.space" and top["name"] == "Company"
    assert top["num_joined_members"] == 1 and top["join_rule"] == "public"
    kids = top["children_state"]
    assert [k["state_key"] for k in kids] == [general, team]
    assert all(k["type"] == "m.space.child" and "origin_server_ts" in k and "sender" in k and
               k["content"]["via"] == [server.server_name] for k in kids)
    assert rooms[1]["children_state"] == []
    # max_depth=0: the root alone; suggested_only: only suggested children.
    assert [r["room_id"] for r in walk(server, alice, root, max_depth="0")] == [root]
    assert [r["room_id"] for r in walk(server, alice, root, suggested_only="true")] == \
        [root, general]


def test_pagination_and_token_checks(server):
    _, alice = new_user(server)
    root = space(server, alice, preset="public_chat")
    children = [create_room(server, alice, preset="public_chat") for _ in range(5)]
    for i, c in enumerate(children):
        add_child(server, alice, root, c, order=f"{i:02d}")
    page = hierarchy(server, alice, root, limit="2")
    assert len(page["rooms"]) == 2 and "next_batch" in page
    assert [r["room_id"] for r in walk(server, alice, root, limit="2")] == [root] + children
    bad = hierarchy(server, alice, root, expect=400, limit="2", max_depth="1",
                    **{"from": page["next_batch"]})
    assert bad["errcode"] == "M_INVALID_PARAM"
    assert hierarchy(server, alice, root, expect=400, **{"from": "garbage"})["errcode"]


def test_children_without_via_are_not_children(server):
    _, alice = new_user(server)
    root = space(server, alice)
    removed = create_room(server, alice)
    resp = call(server, "PUT", client_path(f"/rooms/{q(root)}/state/m.space.child/{q(removed)}"),
                {}, token=alice)
    assert resp.status == 200
    rooms = walk(server, alice, root)
    assert [r["room_id"] for r in rooms] == [root]
    assert rooms[0]["children_state"] == []


def test_private_rooms_are_skipped_for_outsiders(server):
    _, alice = new_user(server)
    _, bob = new_user(server)
    root = space(server, alice, preset="public_chat", name="Open space")
    secret = create_room(server, alice, name="Secret room")
    secret_space = space(server, alice, name="Secret space")
    hidden_grandchild = create_room(server, alice, preset="public_chat")
    public = create_room(server, alice, preset="public_chat", name="Lobby")
    readable = create_room(server, alice, name="Readable",
                           initial_state=[{"type": "m.room.history_visibility",
                                           "content": {"history_visibility": "world_readable"}}])
    for child in (secret, secret_space, public, readable):
        add_child(server, alice, root, child)
    add_child(server, alice, secret_space, hidden_grandchild)
    seen = walk(server, bob, root)
    ids = [r["room_id"] for r in seen]
    assert secret not in ids and secret_space not in ids
    assert hidden_grandchild not in ids  # not reached through a room bob cannot see
    assert public in ids and readable in ids
    text = str(seen)
    assert "Secret room" not in text and "Secret space" not in text
    # alice sees everything.
    assert {secret, secret_space, hidden_grandchild} <= {r["room_id"] for r in
                                                         walk(server, alice, root)}
    # A private root: the same 403 as a room that does not exist.
    resp = hierarchy(server, bob, secret_space, expect=403)
    assert resp["errcode"] == "M_FORBIDDEN"
    missing = hierarchy(server, bob, "!missing:" + server.server_name, expect=403)
    assert missing == resp


def test_loops_are_walked_once(server):
    _, alice = new_user(server)
    a = space(server, alice)
    b = space(server, alice)
    add_child(server, alice, a, b)
    add_child(server, alice, b, a)
    add_child(server, alice, a, a)
    rooms = walk(server, alice, a)
    assert [r["room_id"] for r in rooms] == [a, b]
    assert {k["state_key"] for k in rooms[1]["children_state"]} == {a}
