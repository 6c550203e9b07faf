"""Aggregations in `unsigned` (threads, edits, references), /threads and /context."""
from ruche_test import call, client_path, create_room, new_user, q, query, send, sync


def setup_room(server):
    a_name, a = new_user(server)
    b_name, b = new_user(server)
    c_name, c = new_user(server)
    room = create_room(server, a, preset="public_chat")
    for tok in (b, c):
        assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {},
                    token=tok).status == 200
    return (a_name, a), (b_name, b), (c_name, c), room


def relate(server, token, room, txn, parent, rel_type, body="reply", **extra):
    content = {"msgtype": "m.text", "body": body,
               "m.relates_to": {"rel_type": rel_type, "event_id": parent, **extra}}
    if rel_type == "m.replace":
        content["m.new_content"] = {"msgtype": "m.text", "body": body}
    resp = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/m.room.message/{txn}"),
                content, token=token)
    assert resp.status == 200, resp
    return resp.json["event_id"]


def get_event(server, token, room, event_id):
    resp = call(server, "GET", client_path(f"/rooms/{q(room)}/event/{q(event_id)}"), token=token)
    assert resp.status == 200, resp
    return resp.json


def test_thread_summary_in_unsigned(server):
    (a_name, a), (b_name, b), (_, c), room = setup_room(server)
    root = send(server, a, room, "root", "r1").json["event_id"]
    relate(server, a, room, "t1", root, "m.thread", "first")
    last = relate(server, b, room, "t2", root, "m.thread", "second")
    thread = get_event(server, a, room, root)["unsigned"]["m.relations"]["m.thread"]
    assert thread["count"] == 2
    assert thread["latest_event"]["event_id"] == last
    assert thread["current_user_participated"] is True
    assert get_event(server, c, room, root)["unsigned"]["m.relations"]["m.thread"][
        "current_user_participated"] is False
    # The same summary in /messages and /sync.
    msgs = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                     limit="10"), token=b).json["chunk"]
    root_in_msgs = next(e for e in msgs if e["event_id"] == root)
    assert root_in_msgs["unsigned"]["m.relations"]["m.thread"]["count"] == 2
    timeline = sync(server, b, filter='{"room":{"timeline":{"limit":50}}}')["rooms"]["join"][
        room]["timeline"]["events"]
    root_in_sync = next(e for e in timeline if e["event_id"] == root)
    assert root_in_sync["unsigned"]["m.relations"]["m.thread"]["latest_event"]["event_id"] == last


def test_redacted_reply_leaves_the_thread(server):
    (_, a), (_, b), _, room = setup_room(server)
    root = send(server, a, room, "root", "r1").json["event_id"]
    relate(server, a, room, "t1", root, "m.thread", "stays")
    gone = relate(server, b, room, "t2", root, "m.thread", "goes")
    resp = call(server, "PUT", client_path(f"/rooms/{q(room)}/redact/{q(gone)}/x1"), {},
                token=b)
    assert resp.status == 200, resp
    thread = get_event(server, a, room, root)["unsigned"]["m.relations"]["m.thread"]
    assert thread["count"] == 1
    rel = call(server, "GET", f"/_matrix/client/v1/rooms/{q(room)}/relations/{q(root)}",
               token=a).json["chunk"]
    assert gone not in [e["event_id"] for e in rel]


def test_latest_edit_by_the_sender_is_aggregated(server):
    (_, a), (_, b), _, room = setup_room(server)
    original = send(server, a, room, "tpyo", "o1").json["event_id"]
    relate(server, a, room, "e1", original, "m.replace", "typo?")
    latest = relate(server, a, room, "e2", original, "m.replace", "typo")
    relate(server, b, room, "e3", original, "m.replace", "hijacked")  # not the sender: ignored
    replace = get_event(server, b, room, original)["unsigned"]["m.relations"]["m.replace"]
    assert replace["event_id"] == latest
    assert replace["content"]["m.new_content"]["body"] == "typo"


def test_threads_list_orders_filters_and_pages(server):
    (_, a), (_, b), (_, c), room = setup_room(server)
    t1 = send(server, a, room, "thread one", "r1").json["event_id"]
    t2 = send(server, a, room, "thread two", "r2").json["event_id"]
    relate(server, b, room, "x1", t1, "m.thread")
    relate(server, c, room, "x2", t2, "m.thread")
    relate(server, c, room, "x3", t1, "m.thread")  # t1 now has the latest activity
    path = f"/_matrix/client/v1/rooms/{q(room)}/threads"
    all_threads = call(server, "GET", path, token=a).json
    assert [e["event_id"] for e in all_threads["chunk"]] == [t1, t2]
    assert all_threads["chunk"][0]["unsigned"]["m.relations"]["m.thread"]["count"] == 2
    mine = call(server, "GET", query(path, include="participated"), token=b).json
    assert [e["event_id"] for e in mine["chunk"]] == [t1]
    first = call(server, "GET", query(path, limit="1"), token=c).json
    assert [e["event_id"] for e in first["chunk"]] == [t1]
    rest = call(server, "GET", query(path, limit="1", **{"from": first["next_batch"]}),
                token=c).json
    assert [e["event_id"] for e in rest["chunk"]] == [t2]
    _, outsider = new_user(server)
    assert call(server, "GET", path, token=outsider).status == 403
    assert call(server, "GET", query(path, include="some"), token=a).status == 400


def test_context_around_an_event(server):
    (_, a), _, _, room = setup_room(server)
    ids = [send(server, a, room, f"m{i}", f"c{i}").json["event_id"] for i in range(9)]
    resp = call(server, "GET", query(client_path(f"/rooms/{q(room)}/context/{q(ids[4])}"),
                                     limit="4"), token=a)
    assert resp.status == 200, resp
    ctx = resp.json
    assert ctx["event"]["event_id"] == ids[4]
    assert [e["event_id"] for e in ctx["events_before"]] == [ids[3], ids[2]]
    assert [e["event_id"] for e in ctx["events_after"]] == [ids[5], ids[6]]
    assert any(e["type"] == "m.room.create" for e in ctx["state"])
    older = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                      limit="2", **{"from": ctx["start"]}), token=a).json
    assert [e["event_id"] for e in older["chunk"]] == [ids[1], ids[0]]
    newer = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="f",
                                      limit="2", **{"from": ctx["end"]}), token=a).json
    assert [e["event_id"] for e in newer["chunk"]] == [ids[7], ids[8]]
    _, outsider = new_user(server)
    denied = call(server, "GET", client_path(f"/rooms/{q(room)}/context/{q(ids[4])}"),
                  token=outsider)
    missing = call(server, "GET", client_path(f"/rooms/{q(room)}/context/$nope"), token=a)
    assert denied.status == missing.status == 404
