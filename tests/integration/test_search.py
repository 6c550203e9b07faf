"""POST /search (room_events): FTS5 over message bodies, names and topics of the rooms the
requester is joined to; newest-first by default, bm25 rank on demand; redactions leave the
index; hostile query strings are words, never FTS5 syntax."""
import urllib.parse

import pytest

from ruche_test import call, client_path, new_user, query


def q(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def create_room(server, token, **body):
    resp = call(server, "POST", client_path("/createRoom"), body, token=token)
    assert resp.status == 200, resp
    return resp.json["room_id"]


_txn = [0]


def send(server, token, room, body, msgtype="m.text", event_type="m.room.message"):
    _txn[0] += 1
    content = {"msgtype": msgtype, "body": body} if event_type == "m.room.message" else body
    resp = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/{event_type}/t{_txn[0]}"),
                content, token=token)
    assert resp.status == 200, resp
    return resp.json["event_id"]


def join(server, token, room):
    resp = call(server, "POST", client_path(f"/join/{q(room)}"), {}, token=token)
    assert resp.status == 200, resp


def search(server, token, term, expect=200, next_batch=None, **criteria):
    path = client_path("/search")
    if next_batch is not None:
        path = query(path, next_batch=next_batch)
    body = {"search_categories": {"room_events": {"search_term": term, **criteria}}}
    resp = call(server, "POST", path, body, token=token)
    assert resp.status == expect, resp
    return resp.json


def ids(result):
    return [r["result"]["event_id"] for r in result["search_categories"]["room_events"]["results"]]


def test_finds_messages_names_and_topics_newest_first(server):
    _, token = new_user(server)
    room = create_room(server, token, name="Zanzibar planning", topic="zanzibar logistics")
    first = send(server, token, room, "Trip to Zanzibar in June")
    send(server, token, room, "unrelated chatter")
    second = send(server, token, room, "ZANZIBAR flights booked")
    res = search(server, token, "zanzibar")
    events = res["search_categories"]["room_events"]
    found = ids(res)
    # Two messages, then the topic and the name (older state events).
    assert found[:2] == [second, first], events
    types = [r["result"]["type"] for r in events["results"]]
    assert types == ["m.room.message", "m.room.message", "m.room.topic", "m.room.name"]
    assert events["count"] == 4
    assert events["highlights"] == ["zanzibar"]
    assert all(isinstance(r["rank"], (int, float)) for r in events["results"])
    only_bodies = search(server, token, "zanzibar", keys=["content.body"])
    assert ids(only_bodies) == [second, first]
    names = search(server, token, "zanzibar", keys=["content.name"])
    assert [r["result"]["type"] for r in
            names["search_categories"]["room_events"]["results"]] == ["m.room.name"]
    bad_key = search(server, token, "zanzibar", expect=400, keys=["content.secret"])
    assert bad_key["errcode"] == "M_INVALID_PARAM"


def test_all_terms_must_match_and_case_and_accents_fold(server):
    _, token = new_user(server)
    room = create_room(server, token)
    both = send(server, token, room, "Le café de Quimperlé est ouvert")
    send(server, token, room, "le cafe seulement")
    assert ids(search(server, token, "CAFE quimperle")) == [both]
    assert ids(search(server, token, "café ouvert")) == [both]


def test_pagination_recent_and_rank(server):
    _, token = new_user(server)
    room = create_room(server, token)
    sent = [send(server, token, room, f"pagination marmalade number {i}") for i in range(7)]
    seen, batch = [], None
    for _ in range(5):
        res = search(server, token, "marmalade", next_batch=batch, filter={"limit": 3})
        seen += ids(res)
        batch = res["search_categories"]["room_events"].get("next_batch")
        if batch is None:
            break
    assert seen == list(reversed(sent))
    ranked, batch = [], None
    for _ in range(5):
        res = search(server, token, "marmalade", next_batch=batch, order_by="rank",
                     filter={"limit": 3})
        ranked += ids(res)
        batch = res["search_categories"]["room_events"].get("next_batch")
        if batch is None:
            break
    assert sorted(ranked) == sorted(sent) and len(ranked) == 7
    # A token of one order is refused by the other.
    first = search(server, token, "marmalade", filter={"limit": 3})
    tok = first["search_categories"]["room_events"]["next_batch"]
    err = search(server, token, "marmalade", expect=400, next_batch=tok, order_by="rank")
    assert err["errcode"] == "M_INVALID_PARAM"
    assert search(server, token, "marmalade", expect=400, next_batch="s-1")["errcode"]


def test_rank_puts_the_best_match_first(server):
    _, token = new_user(server)
    room = create_room(server, token)
    best = send(server, token, room, "quokka quokka quokka")
    send(server, token, room, "a long message that mentions the quokka once among many words")
    res = search(server, token, "quokka", order_by="rank")
    assert ids(res)[0] == best
    ranks = [r["rank"] for r in res["search_categories"]["room_events"]["results"]]
    assert ranks == sorted(ranks, reverse=True)


def test_never_finds_messages_of_rooms_the_requester_is_not_in(server):
    _, alice = new_user(server)
    _, bob = new_user(server)
    private = create_room(server, alice)
    public = create_room(server, alice, preset="public_chat")
    send(server, alice, private, "secret wombat plans")
    send(server, alice, public, "public wombat news")
    assert ids(search(server, bob, "wombat")) == []
    assert search(server, bob, "wombat")["search_categories"]["room_events"]["count"] == 0
    # Naming the room in the filter does not widen the search.
    assert ids(search(server, bob, "wombat", filter={"rooms": [private]})) == []
    join(server, bob, public)
    res = search(server, bob, "wombat")
    assert [r["result"]["room_id"] for r in
            res["search_categories"]["room_events"]["results"]] == [public]
    # After leaving, nothing again.
    resp = call(server, "POST", client_path(f"/rooms/{q(public)}/leave"), {}, token=bob)
    assert resp.status == 200
    assert ids(search(server, bob, "wombat")) == []


def test_room_filters(server):
    _, token = new_user(server)
    a = create_room(server, token)
    b = create_room(server, token)
    in_a = send(server, token, a, "filtered narwhal")
    in_b = send(server, token, b, "filtered narwhal")
    assert ids(search(server, token, "narwhal", filter={"rooms": [a]})) == [in_a]
    assert ids(search(server, token, "narwhal", filter={"not_rooms": [b]})) == [in_a]
    assert ids(search(server, token, "narwhal")) == [in_b, in_a]


def test_redacted_message_is_no_longer_found(server):
    _, token = new_user(server)
    room = create_room(server, token)
    gone = send(server, token, room, "confidential axolotl budget")
    kept = send(server, token, room, "axolotl lunch")
    assert ids(search(server, token, "axolotl")) == [kept, gone]
    resp = call(server, "PUT", client_path(f"/rooms/{q(room)}/redact/{q(gone)}/r1"),
                {"reason": "oops"}, token=token)
    assert resp.status == 200, resp
    assert ids(search(server, token, "axolotl")) == [kept]
    assert ids(search(server, token, "budget")) == []
    assert ids(search(server, token, "confidential", order_by="rank")) == []


def test_encrypted_events_are_not_indexed(server):
    _, token = new_user(server)
    room = create_room(server, token)
    send(server, token, room, {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "x",
                               "body": "plaintext pangolin"}, event_type="m.room.encrypted")
    assert ids(search(server, token, "pangolin")) == []


@pytest.mark.parametrize("term", [
    '"foo OR bar*', "NEAR(", "foo AND", "NOT", "*", "(", ")", '"', "a:b", "^x", "{col}: x",
    "foo NEAR/3 bar", "\u0000", "'; DROP TABLE events; --", "é\u0301 😀", "-x +y",
])
def test_hostile_search_strings_never_fail(server, term):
    _, token = new_user(server)
    room = create_room(server, token)
    send(server, token, room, "foo OR bar NEAR some words x y")
    res = search(server, token, term)
    assert isinstance(res["search_categories"]["room_events"]["results"], list)
    res = search(server, token, term, order_by="rank")
    assert isinstance(res["search_categories"]["room_events"]["results"], list)


def test_operators_are_plain_words(server):
    _, token = new_user(server)
    room = create_room(server, token)
    plain = send(server, token, room, "tapir")
    with_or = send(server, token, room, "tapir or okapi")
    # "OR" is a word to find, not the FTS5 operator: only the message containing it matches.
    assert ids(search(server, token, "tapir OR okapi")) == [with_or]
    assert plain not in ids(search(server, token, '"tapir OR'))


def test_bounds_and_bad_requests(server):
    _, token = new_user(server)
    too_long = search(server, token, "x" * 600, expect=400)
    assert too_long["errcode"] == "M_INVALID_PARAM"
    resp = call(server, "POST", client_path("/search"), {"search_categories": {
        "room_events": {}}}, token=token)
    assert resp.status == 400
    resp = call(server, "POST", client_path("/search"), {}, token=token)
    assert resp.status == 400
    resp = call(server, "POST", client_path("/search"), {"search_categories": {}}, token=token)
    assert resp.status == 200 and resp.json == {"search_categories": {}}
    assert search(server, token, "x", expect=400, order_by="oldest")["errcode"]
    assert call(server, "POST", client_path("/search"), {"search_categories": {}}).status == 401
    # limit is bounded, not refused.
    room = create_room(server, token)
    for i in range(3):
        send(server, token, room, f"bounded ibex {i}")
    res = search(server, token, "ibex", filter={"limit": 100000})
    assert len(ids(res)) == 3


def test_event_context_state_and_groupings(server):
    name, token = new_user(server)
    room = create_room(server, token, name="Context room")
    before = send(server, token, room, "before the match")
    hit = send(server, token, room, "the capybara match")
    after = send(server, token, room, "after the match")
    res = search(server, token, "capybara",
                 event_context={"before_limit": 1, "after_limit": 50, "include_profile": True},
                 include_state=True, groupings={"group_by": [{"key": "room_id"},
                                                             {"key": "sender"}]})
    events = res["search_categories"]["room_events"]
    ctx = events["results"][0]["context"]
    assert [e["event_id"] for e in ctx["events_before"]] == [before]
    assert [e["event_id"] for e in ctx["events_after"]] == [after]
    assert ctx["start"].startswith("s") and ctx["end"].startswith("s")
    assert server.mxid(name) in ctx["profile_info"]
    # start/end are /messages tokens: going back from start gives what precedes the context.
    older = call(server, "GET", query(client_path(f"/rooms/{q(room)}/messages"), dir="b",
                                      **{"from": ctx["start"], "limit": "1"}), token=token)
    assert older.status == 200 and older.json["chunk"][0]["event_id"] not in (before, hit)
    state_types = {e["type"] for e in events["state"][room]}
    assert {"m.room.create", "m.room.name"} <= state_types
    assert events["groups"]["room_id"][room]["results"] == [hit]
    assert events["groups"]["sender"][server.mxid(name)]["order"] == 1


def _purge_owed(server):
    import sqlite3
    db = sqlite3.connect(f"file:{server.data_dir / 'ruche.db'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM search_purge").fetchone()[0]
    finally:
        db.close()


def test_redacted_words_leave_the_index_file_in_batches(start_server):
    import time
    srv = start_server(settings={"search.purge_delay_ms": "300"})
    _, token = new_user(srv)
    room = create_room(srv, token)
    secret = send(srv, token, room, "zebracorn password")
    deadline = time.monotonic() + 20
    while _purge_owed(srv) and time.monotonic() < deadline:  # the start-up purge
        time.sleep(0.1)
    resp = call(srv, "PUT", client_path(f"/rooms/{q(room)}/redact/{q(secret)}/z2"), {},
                token=token)
    assert resp.status == 200, resp
    assert _purge_owed(srv) == 1, "a redaction records that the index owes a merge"
    deadline = time.monotonic() + 20
    while _purge_owed(srv) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _purge_owed(srv) == 0, "the merge ran once the delay had passed"
    srv.stop()
    data = srv.data_dir / "ruche.db"
    everything = data.read_bytes()
    wal = srv.data_dir / "ruche.db-wal"
    everything += wal.read_bytes() if wal.exists() else b""
    assert b"zebracorn" not in everything
