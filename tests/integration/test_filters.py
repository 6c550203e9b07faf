"""The spec's filters on /sync and /messages: event types and senders, rooms, each section
(timeline, state, ephemeral, account data, presence), lazy loading on /messages, stored filters,
and clear errors for malformed ones."""
import json

from ruche_test import call, client_path, create_room, new_user, q, query, send, sync


def join(server, token, room):
    assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {},
                token=token).status == 200


def put(server, token, room, event_type, content, txn):
    resp = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/{event_type}/{txn}"), content,
                token=token)
    assert resp.status == 200, resp
    return resp.json["event_id"]


def timeline_types(sync_json, room):
    joined = sync_json["rooms"]["join"].get(room)
    return None if joined is None else [e["type"] for e in joined["timeline"]["events"]]


def f(obj):
    return json.dumps(obj)


def test_timeline_types_senders_and_limit(server):
    (a_name, a), (b_name, b), (c_name, c) = new_user(server), new_user(server), new_user(server)
    room = create_room(server, a, preset="public_chat")
    join(server, b, room)
    join(server, c, room)
    since = sync(server, b)["next_batch"]
    first = send(server, a, room, "one", "t1").json["event_id"]
    put(server, a, room, "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": first, "key": "x"}}, "t2")
    send(server, c, room, "from c", "t3")
    for i in range(3):
        send(server, a, room, f"more {i}", f"t4{i}")
    messages_only = f({"room": {"timeline": {"types": ["m.room.message"],
                                             "not_senders": [server.mxid(c_name)]}}})
    got = sync(server, b, since=since, filter=messages_only)
    joined = got["rooms"]["join"][room]
    bodies = [e["content"]["body"] for e in joined["timeline"]["events"]]
    assert bodies == ["one", "more 0", "more 1", "more 2"]
    # The limit counts the events that pass the filter.
    limited = f({"room": {"timeline": {"types": ["m.room.message"], "limit": 2}}})
    got = sync(server, b, since=since, filter=limited)
    timeline = got["rooms"]["join"][room]["timeline"]
    assert [e["content"]["body"] for e in timeline["events"]] == ["more 1", "more 2"]
    assert timeline["limited"] is True
    # Wildcards.
    got = sync(server, b, since=since, filter=f({"room": {"timeline": {"types": ["m.reac*"]}}}))
    assert timeline_types(got, room) == ["m.reaction"]


def test_rooms_and_not_rooms(server):
    (_, a), (_, b) = new_user(server), new_user(server)
    rooms = [create_room(server, a, preset="public_chat") for _ in range(3)]
    for room in rooms:
        join(server, b, room)
    only = sync(server, b, filter=f({"room": {"rooms": rooms[:2], "not_rooms": [rooms[1]]}}))
    assert set(only["rooms"]["join"]) == {rooms[0]}
    since = only["next_batch"]
    for i, room in enumerate(rooms):
        send(server, a, room, f"hello {i}", f"r{i}")
    got = sync(server, b, since=since, filter=f({"room": {"not_rooms": [rooms[0]]}}))
    assert set(got["rooms"]["join"]) == {rooms[1], rooms[2]}


def test_state_ephemeral_account_data_and_presence_sections(server):
    (a_name, a), (b_name, b) = new_user(server), new_user(server)
    room = create_room(server, a, preset="public_chat", name="Filtered", topic="a topic")
    join(server, b, room)
    # A one-event timeline: the rest of the room's state comes in `state`.
    initial = sync(server, b, filter=f({
        "room": {"state": {"types": ["m.room.name"]}, "timeline": {"limit": 1}},
        "account_data": {"types": []},
        "presence": {"not_types": ["*"]}}))
    state_types = {e["type"] for e in initial["rooms"]["join"][room]["state"]["events"]}
    assert state_types == {"m.room.name"}
    assert initial["account_data"]["events"] == [], "not even the default push rules"
    assert initial["presence"]["events"] == []
    unfiltered = sync(server, b, filter=f({"room": {"timeline": {"limit": 1}}}))
    assert any(e["type"] == "m.push_rules" for e in unfiltered["account_data"]["events"])
    assert {e["type"] for e in unfiltered["rooms"]["join"][room]["state"]["events"]} >= {
        "m.room.name", "m.room.topic", "m.room.create"}

    since = initial["next_batch"]
    resp = call(server, "PUT", client_path(f"/rooms/{q(room)}/typing/{server.mxid(a_name)}"),
                {"typing": True, "timeout": 30000}, token=a)
    assert resp.status == 200
    last = send(server, a, room, "typed", "e1").json["event_id"]
    resp = call(server, "POST", client_path(f"/rooms/{q(room)}/receipt/m.read/{q(last)}"), {},
                token=a)
    assert resp.status == 200
    typing_only = f({"room": {"ephemeral": {"types": ["m.typing"]}}})
    got = sync(server, b, since=since, filter=typing_only)
    ephemeral = {e["type"] for e in got["rooms"]["join"][room]["ephemeral"]["events"]}
    assert ephemeral == {"m.typing"}
    got = sync(server, b, since=since)
    ephemeral = {e["type"] for e in got["rooms"]["join"][room]["ephemeral"]["events"]}
    assert ephemeral == {"m.typing", "m.receipt"}


def test_messages_filter_pages_and_lazy_members(server):
    (a_name, a), (b_name, b) = new_user(server), new_user(server)
    room = create_room(server, a, preset="public_chat")
    join(server, b, room)
    for i in range(150):
        send(server, b if i % 50 == 0 else a, room, f"noise {i}", f"n{i}")
    put(server, a, room, "m.room.message",
        {"msgtype": "m.image", "body": "pic", "url": "mxc://localhost/abc"}, "img")
    # Going back: b's three messages are spread over 150 events; two per page.
    only_b = f({"senders": [server.mxid(b_name)], "types": ["m.room.message"],
                "lazy_load_members": True})
    resp = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                     limit="2", filter=only_b), token=a)
    assert resp.status == 200, resp
    page = resp.json
    assert [e["content"]["body"] for e in page["chunk"]] == ["noise 100", "noise 50"]
    assert [e["state_key"] for e in page["state"]] == [server.mxid(b_name)]
    assert "end" in page
    resp = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                     limit="2", filter=only_b, **{"from": page["end"]}), token=a)
    rest = resp.json
    assert [e["content"]["body"] for e in rest["chunk"]] == ["noise 0"]
    assert "end" not in rest, "the room's start was reached"
    # contains_url finds the one image.
    resp = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                     limit="5", filter=f({"contains_url": True})), token=a)
    assert [e["content"]["body"] for e in resp.json["chunk"]] == ["pic"]


def test_stored_filters_and_bad_filters(server):
    (b_name, b), (_, a) = new_user(server), new_user(server)
    room = create_room(server, a, preset="public_chat")
    join(server, b, room)
    resp = call(server, "POST", client_path(f"/user/{q(server.mxid(b_name))}/filter"),
                {"room": {"timeline": {"types": ["m.room.member"]}}}, token=b)
    assert resp.status == 200, resp
    filter_id = resp.json["filter_id"]
    got = sync(server, b, filter=filter_id)
    assert set(timeline_types(got, room)) == {"m.room.member"}

    for bad in ({"room": {"timeline": {"types": "m.room.message"}}},
                {"room": {"rooms": [1]}}, {"presence": []},
                {"room": {"timeline": {"limit": "ten"}}}):
        resp = call(server, "GET", query(client_path("/sync"), filter=f(bad)), token=b)
        assert resp.status == 400 and resp.errcode == "M_INVALID_PARAM", (bad, resp)
    resp = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"),
                                     filter=f({"types": {}})), token=b)
    assert resp.status == 400 and resp.errcode == "M_INVALID_PARAM", resp


def test_stored_filters_with_the_same_id_are_each_their_owners(server):
    """Parsed filters are kept by /sync (clients send the same one with every sync): two users'
    filters with the same ID must stay apart, and a filter sent twice must give the same."""
    (a_name, a), (b_name, b) = new_user(server), new_user(server)
    room = create_room(server, a, preset="public_chat")
    join(server, b, room)
    ids = {}
    for name, tok, types in ((a_name, a, ["m.room.create"]), (b_name, b, ["m.room.member"])):
        resp = call(server, "POST", client_path(f"/user/{q(server.mxid(name))}/filter"),
                    {"room": {"timeline": {"types": types, "limit": 50}}}, token=tok)
        assert resp.status == 200, resp
        ids[name] = resp.json["filter_id"]
    assert ids[a_name] == ids[b_name]  # each user's first filter
    for _ in range(2):
        assert set(timeline_types(sync(server, a, filter=ids[a_name]), room)) == {
            "m.room.create"}
        assert set(timeline_types(sync(server, b, filter=ids[b_name]), room)) == {
            "m.room.member"}
    # The same inline filter twice, then one byte different.
    inline = f({"room": {"timeline": {"types": ["m.room.create"]}}})
    for _ in range(2):
        assert set(timeline_types(sync(server, b, filter=inline), room)) == {"m.room.create"}
    other = inline.replace("create", "member")
    assert set(timeline_types(sync(server, b, filter=other), room)) == {"m.room.member"}
