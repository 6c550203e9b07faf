"""Durability under kill -9: several clients send as fast as they can, the server is killed at a
random moment, restarted on the same data folder — 20 times. Every message answered 200 must
still be there (by ID and in /messages), sync positions never go backwards, and SQLite's
integrity check passes. This is what "durable before visible" (docs/architecture.md) promises."""
import random
import signal
import sqlite3
import threading
import time

from ruche_test import call, client_path, create_room, login, q, query, register, sync

ROUNDS = 20
SENDERS = 3


def test_acknowledged_messages_survive_kill_9(start_server, workdir):
    data = workdir / "data"
    rng = random.Random(20261128)
    srv = start_server(data_dir=data)
    name = "crashtest"
    register(srv, name)
    tokens = [login(srv, name).json["access_token"] for _ in range(SENDERS)]
    room = create_room(srv, tokens[0])
    acked = {}  # event_id -> body
    last_position = 0

    def position(token):
        return int(token[1:].split("_")[0])

    for round_no in range(ROUNDS):
        stop = threading.Event()
        lock = threading.Lock()

        def sender(i, token):
            n = 0
            while not stop.is_set():
                body = f"r{round_no}-s{i}-m{n}"
                try:
                    resp = call(srv, "PUT", client_path(
                        f"/rooms/{q(room)}/send/m.room.message/{body}"),
                        {"msgtype": "m.text", "body": body}, token=token, timeout=5)
                except Exception:
                    return  # the server died under us: this message was never acknowledged
                if resp.status == 200:
                    with lock:
                        acked[resp.json["event_id"]] = body
                n += 1

        threads = [threading.Thread(target=sender, args=(i, t)) for i, t in enumerate(tokens)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 0.6))
        now = position(sync(srv, tokens[0])["next_batch"])
        assert now >= last_position, (round_no, now, last_position)
        last_position = now
        srv.stop(signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(10)
        srv = start_server(data_dir=data)
        # Everything acknowledged so far is still there, with its text.
        for event_id, body in list(acked.items())[-200:]:
            ev = call(srv, "GET", client_path(f"/rooms/{q(room)}/event/{q(event_id)}"),
                      token=tokens[0])
            assert ev.status == 200, (round_no, event_id, ev)
            assert ev.json["content"]["body"] == body
        after = position(sync(srv, tokens[0])["next_batch"])
        assert after >= last_position, ("sync position went back after restart", after,
                                        last_position)
        last_position = after

    print(f"{len(acked)} acknowledged messages over {ROUNDS} kills")
    assert len(acked) > ROUNDS, "the senders got few answers: the test proves little"
    # The whole history, read back page by page, holds every acknowledged message.
    seen = set()
    token = None
    while True:
        params = {"dir": "b", "limit": "1000"}
        if token:
            params["from"] = token
        page = call(srv, "GET", query(client_path(f"/rooms/{q(room)}/messages"), **params),
                    token=tokens[0]).json
        seen.update(e["event_id"] for e in page["chunk"])
        token = page.get("end")
        if not token:
            break
    missing = set(acked) - seen
    assert not missing, f"{len(missing)} acknowledged messages missing from /messages"
    srv.stop()
    db = sqlite3.connect(data / "ruche.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
