"""The quiet path of /sync (matrix/sync_quiet_path.cpp): when only room events and typing
happened since a sync's token, its answer is put together from bytes every member shares
instead of the general path's JSON tree. It must answer exactly what the general path would.

The same scenario runs on two servers, one with the quiet path and one without
(`limits.sync_quiet_path=false`); every sync answer of one must equal the other's, once the
identifiers and clocks that differ between two servers are set aside. /metrics shows that the
quiet path did answer most of them, and the general path none."""
import json
import threading

import pytest

from ruche_test import call, client_path, create_room, parse_metrics, q, register, send, sync

RECEIVERS = {
    # name: sync filter (None: no filter)
    "qlazy": json.dumps({"room": {"state": {"lazy_load_members": True}}}),
    "qthreads": json.dumps({"room": {"timeline": {"unread_thread_notifications": True,
                                                  "limit": 5}}}),
    "qplain": None,
    "qnotyping": json.dumps({"room": {"ephemeral": {"not_types": ["m.typing"]}},
                             "presence": {"types": []}}),
}
SENDER = "qsender"


def quiet_syncs(server):
    text = call(server, "GET", "/metrics").body.decode()
    return {name: value for name, labels, value in parse_metrics(text)}["ruche_sync_quiet_total"]


class Ids:
    """Replaces what differs between two servers running the same scenario: room and event
    IDs (by the order the scenario met them), clocks, hashes and signatures. Stream positions
    stay: both servers make the same writes in the same order."""

    DROP = {"origin_server_ts", "age", "hashes", "signatures", "ts", "last_active_ago"}

    def __init__(self):
        self.names = {}

    def name(self, value, prefix):
        return self.names.setdefault(value, f"{prefix}{len(self.names)}")

    def normalise(self, value):
        if isinstance(value, dict):
            # Keys first (room IDs are keys), so that values are met in the same order on both
            # servers whatever their random room IDs.
            items = sorted((self.normalise(k), v) for k, v in value.items() if k not in self.DROP)
            return {k: self.normalise(v) for k, v in items}
        if isinstance(value, list):
            return [self.normalise(v) for v in value]
        if isinstance(value, str) and value[:1] in ("$", "!"):
            return self.name(value, value[0])
        if isinstance(value, str) and value[:1] == "s" and value[1:2].isdigit():
            return value.split("_")[0]  # the typing serial starts from the server's clock
        return value


def run_scenario(server, presence):
    """Returns [(step, receiver, normalised /sync answer)]."""
    ids = Ids()
    tokens = {}
    users = {}
    for name in [SENDER, *RECEIVERS, "qelsewhere"]:
        users[name] = register(server, name).json["access_token"]
    # Someone who shares no room with the receivers: their presence is none of their syncs'.
    ids.name(create_room(server, users["qelsewhere"], name="Ailleurs"), "!")
    sync(server, users["qelsewhere"])
    sender = users[SENDER]
    room = create_room(server, sender, name="Quiet", preset="public_chat")
    other = create_room(server, sender, name="Other", preset="public_chat")
    ids.name(room, "!")
    ids.name(other, "!")
    for name in RECEIVERS:
        assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {},
                    token=users[name]).status == 200
    # Only two of them in the second room: the others' syncs must not see it.
    for name in ("qlazy", "qplain"):
        assert call(server, "POST", client_path(f"/rooms/{q(other)}/join"), {},
                    token=users[name]).status == 200

    def sync_of(name):
        extra = {"filter": RECEIVERS[name]} if RECEIVERS.get(name) else {}
        return sync(server, users[name], since=tokens.get(name), **extra)

    sync(server, sender)  # online (with presence on) before the receivers' tokens
    for name in RECEIVERS:
        sync_of(name)
    for name in RECEIVERS:  # after everyone came online
        tokens[name] = sync_of(name)["next_batch"]

    answers = []
    quiet_by_step = {}

    def step(label):
        before = quiet_syncs(server)
        for name in RECEIVERS:
            got = sync_of(name)
            tokens[name] = got["next_batch"]
            answers.append((label, name, ids.normalise(got)))
        quiet_by_step[label] = quiet_syncs(server) - before

    step("nothing happened")
    first = send(server, sender, room, "Bonjour", "t1").json["event_id"]
    ids.name(first, "$")
    step("a message")
    send(server, sender, room, "Deux", "t2")
    send(server, sender, other, "Ailleurs", "t3")
    step("two rooms")
    send(server, sender, room, "Un mot pour qlazy", "t4")
    step("a mention by name (highlight)")
    if presence:
        assert call(server, "PUT", client_path(f"/presence/{server.mxid('qelsewhere')}/status"),
                    {"presence": "unavailable", "status_msg": "ailleurs"},
                    token=users["qelsewhere"]).status == 200
        send(server, sender, room, "Pendant ce temps", "t4b")
        step("a stranger's presence")
    reaction = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/m.reaction/t5"), {
        "m.relates_to": {"rel_type": "m.annotation", "event_id": first, "key": "👍"}},
        token=sender)
    assert reaction.status == 200, reaction
    edit = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/m.room.message/t6"), {
        "msgtype": "m.text", "body": "* Bonjour !",
        "m.new_content": {"msgtype": "m.text", "body": "Bonjour !"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": first}}, token=sender)
    assert edit.status == 200, edit
    step("a reaction and an edit")
    assert call(server, "PUT", client_path(f"/rooms/{q(room)}/typing/{server.mxid(SENDER)}"),
                {"typing": True, "timeout": 30000}, token=sender).status == 200
    step("typing starts")
    send(server, sender, room, "Fini", "t7")
    assert call(server, "PUT", client_path(f"/rooms/{q(room)}/typing/{server.mxid(SENDER)}"),
                {"typing": False}, token=sender).status == 200
    step("a message and typing stops")
    send(server, users["qplain"], room, "Moi aussi", "t8")
    step("one of the receivers speaks")
    reply = call(server, "PUT", client_path(f"/rooms/{q(room)}/send/m.room.message/t9"), {
        "msgtype": "m.text", "body": "En fil",
        "m.relates_to": {"rel_type": "m.thread", "event_id": first}}, token=sender)
    assert reply.status == 200, reply
    step("a thread reply")
    send(server, sender, room, "Après le fil", "t10")
    step("after the thread")
    many = [send(server, sender, room, f"Rafale {i}", f"burst{i}") for i in range(7)]
    assert len(many) == 7
    step("more than one filter's limit")
    assert call(server, "PUT", client_path(f"/profile/{server.mxid(SENDER)}/displayname"),
                {"displayname": "Expéditeur"}, token=sender).status == 200
    send(server, sender, room, "Nouveau nom", "t11")
    step("a membership event (profile)")
    send(server, sender, room, "Encore", "t12")
    step("quiet again")
    return answers, quiet_by_step


@pytest.mark.parametrize("presence", ["false", "true"])
def test_quiet_answers_are_the_general_paths(start_server, presence):
    quiet = start_server(settings={"presence.enabled": presence})
    general = start_server(settings={"presence.enabled": presence,
                                     "limits.sync_quiet_path": "false"})
    got, quiet_steps = run_scenario(quiet, presence == "true")
    want, general_steps = run_scenario(general, presence == "true")
    assert [(s, n) for s, n, _ in got] == [(s, n) for s, n, _ in want]
    for (step, name, answer), (_, _, expected) in zip(got, want):
        assert answer == expected, f"{step}, {name}"
    assert set(general_steps.values()) == {0}
    everyone = len(RECEIVERS)
    # Which syncs the quiet path answers: all four when only messages and typing happened (a
    # stranger's presence included), all but the speaker's own, none after a membership event.
    expected = {"a message": everyone, "two rooms": everyone,
                "a reaction and an edit": everyone, "typing starts": everyone,
                "one of the receivers speaks": everyone - 1,
                # the reply is no thread root: nothing in it is the reader's own
                "a thread reply": everyone,
                "a membership event (profile)": 0, "quiet again": everyone}
    if presence == "true":
        expected["a stranger's presence"] = everyone
    assert {k: quiet_steps[k] for k in expected} == expected, quiet_steps


def test_a_long_poll_woken_by_a_message_is_answered_quietly(start_server):
    server = start_server()
    sender = register(server, "lpsender").json["access_token"]
    reader = register(server, "lpreader").json["access_token"]
    room = create_room(server, sender, invite=[server.mxid("lpreader")])
    assert call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {},
                token=reader).status == 200
    # Both come online, and the sender's first message marks them active: presence writes
    # that the next syncs carry (general path). Then nothing but messages happens.
    sync(server, sender)
    token = sync(server, reader)["next_batch"]
    send(server, sender, room, "Premier", "first")
    token = sync(server, reader, since=token)["next_batch"]
    before = quiet_syncs(server)
    result = {}
    poll = threading.Thread(target=lambda: result.update(
        sync(server, reader, since=token, timeout=20000)))
    poll.start()
    # The poll is waiting when the message comes (or the message is there when it starts: the
    # answer is the same either way).
    event_id = send(server, sender, room, "Réveil", "wake").json["event_id"]
    poll.join(30)
    timeline = result["rooms"]["join"][room]["timeline"]["events"]
    assert [e["event_id"] for e in timeline] == [event_id]
    assert result["rooms"]["join"][room]["unread_notifications"] == {
        "notification_count": 2, "highlight_count": 0}
    assert quiet_syncs(server) == before + 1


def test_counts_read_while_waiting_after_a_restart(start_server, workdir):
    """After a restart nothing per user is in memory: a long-poll reads its unread counts while
    it waits (SyncRoutes::PrepareForWake), as of its token. The wake-up then adds only the new
    message, and the count must still take in what was unread before the restart, and nothing
    that the reader's own message read."""
    data = workdir / "data"
    data.mkdir()
    first = start_server(data_dir=data, settings={"presence.enabled": "false"})
    sender = register(first, "rssender").json["access_token"]
    reader = register(first, "rsreader").json["access_token"]
    room = create_room(first, sender, invite=[first.mxid("rsreader")])
    assert call(first, "POST", client_path(f"/rooms/{q(room)}/join"), {},
                token=reader).status == 200
    send(first, sender, room, "Un", "r1")
    send(first, sender, room, "Deux, rsreader", "r2")  # the reader's name: a highlight
    send(first, reader, room, "Lu jusqu'ici ? non", "r3")  # reading what came before
    send(first, sender, room, "Trois", "r4")
    token = sync(first, reader)["next_batch"]
    assert first.stop() == 0

    second = start_server(data_dir=data, settings={"presence.enabled": "false"})
    result = {}
    poll = threading.Thread(target=lambda: result.update(
        sync(second, reader, since=token, timeout=20000)))
    poll.start()
    for _ in range(200):  # until the poll is waiting (and has read its counts)
        text = call(second, "GET", "/metrics").body.decode()
        if any(n == "ruche_http_open_connections" and v >= 2
               for n, _, v in parse_metrics(text)):
            break
    send(second, sender, room, "Quatre, rsreader", "r5")
    poll.join(30)
    joined = result["rooms"]["join"][room]
    assert [e["content"]["body"] for e in joined["timeline"]["events"]] == ["Quatre, rsreader"]
    # "Trois" and "Quatre" are after the reader's own message; "Quatre" names them.
    assert joined["unread_notifications"] == {"notification_count": 2, "highlight_count": 1}
