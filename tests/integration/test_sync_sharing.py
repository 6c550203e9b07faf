"""One message, many members: their syncs of the same window share one read of the new events
(matrix/shared_windows.hpp). What each member gets must be what they would get alone — the
sender's own device its transaction ID, lazy-loaded member events, thread participation —
and /metrics shows the sharing happened."""
import json

from ruche_test import call, client_path, create_room, new_user, parse_metrics, q, send, sync

LAZY = json.dumps({"room": {"state": {"lazy_load_members": True}}})


def shared_stats(server):
    text = call(server, "GET", "/metrics").body.decode()
    values = {name: value for name, labels, value in parse_metrics(text)}
    return (values["ruche_sync_shared_window_hits_total"],
            values["ruche_sync_shared_window_misses_total"])


def room_of(server, count):
    """A room of `count` members besides its creator; presence off so that nothing but the
    test's own events moves the stream."""
    owner_name, owner = new_user(server)
    members = [new_user(server) for _ in range(count)]
    room = create_room(server, owner, invite=[server.mxid(n) for n, _ in members])
    for _, tok in members:
        assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {},
                    token=tok).status == 200
    return (owner_name, owner), members, room


def test_members_of_one_window_share_its_read_and_get_the_same_events(start_server):
    server = start_server(settings={"presence.enabled": "false"})
    (owner_name, owner), members, room = room_of(server, 6)
    # Everyone's token is the same position: the same window after the message.
    tokens = [sync(server, tok, filter=LAZY)["next_batch"] for _, tok in members]
    owner_token = sync(server, owner, filter=LAZY)["next_batch"]
    assert len(set(tokens + [owner_token])) == 1
    hits_before, _ = shared_stats(server)

    event_id = send(server, owner, room, "Bonjour à tous", "txn-shared-1").json["event_id"]
    seen = []
    for (name, tok), since in zip(members, tokens):
        got = sync(server, tok, since=since, filter=LAZY)["rooms"]["join"][room]
        timeline = got["timeline"]["events"]
        assert [e["event_id"] for e in timeline] == [event_id], timeline
        assert "transaction_id" not in timeline[0].get("unsigned", {})
        # Lazy loading: the sender's member event comes with the message.
        assert [e["state_key"] for e in got["state"]["events"]
                if e["type"] == "m.room.member"] == [server.mxid(owner_name)]
        seen.append(json.dumps(timeline[0]["content"], sort_keys=True))
    assert len(set(seen)) == 1
    # The sender's own device gets its transaction ID back (its sync is read on its own).
    mine = sync(server, owner, since=owner_token, filter=LAZY)["rooms"]["join"][room]
    assert mine["timeline"]["events"][0]["unsigned"]["transaction_id"] == "txn-shared-1"
    hits_after, _ = shared_stats(server)
    # The first member read the window; the five others found it read.
    assert hits_after - hits_before >= 5, (hits_before, hits_after)


def test_a_thread_root_in_the_window_is_read_for_each_reader(start_server):
    server = start_server(settings={"presence.enabled": "false"})
    (owner_name, owner), members, room = room_of(server, 3)
    (a_name, a), (b_name, b), (c_name, c) = members
    tokens = {tok: sync(server, tok)["next_batch"] for _, tok in members}
    root = send(server, owner, room, "Sujet", "t-root").json["event_id"]
    reply = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/m.room.message/t-reply"), {
        "msgtype": "m.text", "body": "Réponse",
        "m.relates_to": {"rel_type": "m.thread", "event_id": root}}, token=a)
    assert reply.status == 200, reply
    participated = {}
    for name, tok in members:
        got = sync(server, tok, since=tokens[tok])["rooms"]["join"][room]["timeline"]["events"]
        root_event = next(e for e in got if e["event_id"] == root)
        thread = root_event["unsigned"]["m.relations"]["m.thread"]
        assert thread["count"] == 1
        participated[name] = thread["current_user_participated"]
    # Only the one who replied took part: each reader's own answer, not a shared one.
    assert participated == {a_name: True, b_name: False, c_name: False}


def test_a_member_who_joins_in_the_window_gets_the_full_state(start_server):
    server = start_server(settings={"presence.enabled": "false"})
    (owner_name, owner), members, room = room_of(server, 2)
    newcomer_name, newcomer = new_user(server)
    tokens = [sync(server, tok)["next_batch"] for _, tok in members]
    newcomer_token = sync(server, newcomer)["next_batch"]
    assert call(server, "POST", client_path(f"/rooms/{q(room)}/invite"),
                {"user_id": server.mxid(newcomer_name)}, token=owner).status == 200
    assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {},
                token=newcomer).status == 200
    send(server, owner, room, "Bienvenue", "t-welcome")
    # The members see the join and the message; the newcomer gets the room's whole state.
    for (_, tok), since in zip(members, tokens):
        got = sync(server, tok, since=since)["rooms"]["join"][room]["timeline"]["events"]
        assert [e["type"] for e in got][-2:] == ["m.room.member", "m.room.message"], got
    joined = sync(server, newcomer, since=newcomer_token)["rooms"]["join"][room]
    state_types = {e["type"] for e in joined["state"]["events"]}
    assert {"m.room.create", "m.room.power_levels"} <= state_types, state_types
