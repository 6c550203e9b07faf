"""Durability of media uploads under kill -9 (the companion of test_crash_safety.py).

Several clients upload as fast as they can (random bytes: mostly tens of KB, some a few MB, some
identical payloads to exercise deduplication, two clients sending the same bytes at once); the
server is killed at a random moment and restarted on the same data folder — 20 times. Then:

- every upload answered 200 is still served, byte for byte (SHA-256), by the legacy
  /_matrix/media/v3/download and the authenticated /_matrix/client/v1/media/download;
- nothing partial is ever visible: every blob file at its content address hashes to its name,
  and every media row (acknowledged or not: a row may commit and the kill eat the answer) is
  served with exactly the bytes of the digest and size it records, which are bytes a client sent;
- temp files of uploads killed mid-way are swept at restart (none accumulate), and so are blobs
  stored but never committed (the kill fell between the blob's rename and the row's commit):
  after the last restart every blob on disk is referenced by a media row or a thumbnail;
- SQLite's integrity check passes.

kill -9 kills the process, not the machine: it checks the order "blob renamed into place before
the row commits" and the atomicity of the rename, not the fsyncs (the page cache survives)."""
import hashlib
import random
import signal
import sqlite3
import threading
import time
from pathlib import Path

from ruche_test import call, login, query, register

ROUNDS = 20
UPLOADERS = 4
# Payloads several uploaders send again and again (deduplication under concurrency).
SHARED_SIZES = (40 * 1024, 1536 * 1024)
SETTINGS = {
    "media.uploads_per_user_per_second": "100000",
    "media.uploads_per_user_burst": "1000000",
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_files(media: Path) -> dict[str, Path]:
    """Every file at a content address <media>/ab/cd/<sha256>, by name."""
    out = {}
    for path in media.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
        if path.is_file():
            out[path.name] = path
    return out


def temp_files(media: Path) -> list[Path]:
    tmp = media / "tmp"
    return sorted(tmp.iterdir()) if tmp.is_dir() else []


def fetch(srv, uri: str, token: str):
    """(legacy v3 response, authenticated v1 response) for an mxc:// URI."""
    server_name, media_id = uri[len("mxc://"):].split("/")
    v3 = call(srv, "GET", f"/_matrix/media/v3/download/{server_name}/{media_id}", timeout=20)
    v1 = call(srv, "GET", f"/_matrix/client/v1/media/download/{server_name}/{media_id}",
              token=token, timeout=20)
    return v3, v1


def check_served(srv, uri: str, want_sha: str, want_size: int, token: str, why: str) -> None:
    for name, resp in zip(("v3", "v1"), fetch(srv, uri, token)):
        assert resp.status == 200, (why, name, uri, resp)
        got = sha(resp.body)
        assert len(resp.body) == want_size and got == want_sha, (
            f"{why}: {name} download of {uri} returned {len(resp.body)} bytes sha256 {got}, "
            f"expected {want_size} bytes sha256 {want_sha}")


def test_acknowledged_uploads_survive_kill_9(start_server, workdir):
    data = workdir / "data"
    media = data / "media"
    rng = random.Random(20261129)
    shared = [rng.randbytes(n) for n in SHARED_SIZES]
    srv = start_server(data_dir=data, settings=SETTINGS)
    name = "mediacrash"
    register(srv, name)
    tokens = [login(srv, name).json["access_token"] for _ in range(UPLOADERS)]
    sent = {sha(b): len(b) for b in shared}  # sha256 -> size of every payload ever sent
    acked = {}  # content_uri -> (sha256, size, round)
    unexpected = []  # answers other than 200 (the server refused a valid upload)
    verified_blobs = set()  # blob files already hashed
    tmp_after_kill = []  # temp files found in media/tmp after each kill, before the restart
    in_flight_at_kill = []
    started = time.monotonic()

    for round_no in range(ROUNDS):
        stop = threading.Event()
        lock = threading.Lock()
        in_flight = [0]

        def uploader(i, token, seed):
            r = random.Random(seed)
            conn = None
            while not stop.is_set():
                roll = r.random()
                if roll < 0.2:
                    body = shared[r.randrange(len(shared))]
                elif roll < 0.35:
                    body = r.randbytes(r.randint(1024 * 1024, 3 * 1024 * 1024))
                else:
                    body = r.randbytes(r.randint(10 * 1024, 90 * 1024))
                digest = sha(body)
                with lock:
                    sent[digest] = len(body)
                    in_flight[0] += 1
                try:
                    conn = conn or srv.connection(timeout=10)
                    resp = call(srv, "POST",
                                query("/_matrix/media/v3/upload", filename=f"f{digest[:8]}.bin"),
                                raw_body=body, token=token, conn=conn,
                                headers={"Content-Type": "application/octet-stream"})
                except Exception:
                    return  # the server died under us: this upload was never acknowledged
                with lock:
                    in_flight[0] -= 1
                    if resp.status == 200:
                        acked[resp.json["content_uri"]] = (digest, len(body), round_no)
                    else:
                        unexpected.append((round_no, resp.status, resp.body[:200]))

        threads = [threading.Thread(target=uploader, args=(i, t, rng.random()), daemon=True)
                   for i, t in enumerate(tokens)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 0.5))
        srv.stop(signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(15)
        assert not any(t.is_alive() for t in threads), "an uploader hung after the kill"
        in_flight_at_kill.append(in_flight[0])

        # The data folder as the crash left it: no file at a content address is partial.
        tmp_after_kill.append(len(temp_files(media)))
        for digest, path in blob_files(media).items():
            if digest in verified_blobs:
                continue
            content = path.read_bytes()
            assert sha(content) == digest, (
                f"round {round_no}: {path} holds {len(content)} bytes hashing to {sha(content)}:"
                " a partial or corrupt file at a content address")
            assert digest in sent, f"round {round_no}: {path} holds bytes no client sent"
            verified_blobs.add(digest)

        srv = start_server(data_dir=data, settings=SETTINGS)
        leftover = temp_files(media)
        assert not leftover, (f"round {round_no}: {len(leftover)} temp files of killed uploads "
                              f"still in {media / 'tmp'} after the restart: {leftover[:5]}")
        # This round's acknowledged uploads came back whole.
        for uri, (digest, size, r) in list(acked.items()):
            if r == round_no:
                check_served(srv, uri, digest, size, tokens[0], f"round {round_no}")

    rounds_done = time.monotonic() - started
    assert not unexpected, f"the server refused valid uploads: {unexpected[:5]}"
    dedup_hits = sum(1 for d, _, _ in acked.values() if d in {sha(b) for b in shared})
    assert len(acked) >= 5 * ROUNDS, f"only {len(acked)} acknowledged uploads: this proves little"
    assert dedup_hits >= ROUNDS, f"only {dedup_hits} deduplicated uploads acknowledged"
    assert sum(1 for _, s, _ in acked.values() if s >= 1024 * 1024) >= ROUNDS, \
        "few large uploads were acknowledged"

    # After the last restart, every acknowledged upload, from every round, by both routes.
    for uri, (digest, size, r) in acked.items():
        check_served(srv, uri, digest, size, tokens[0], f"after all kills (acked in round {r})")

    # Every media row, acknowledged or not, is served whole with the digest and size it records,
    # and those are bytes a client sent.
    db = sqlite3.connect(f"file:{data / 'ruche.db'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT media_id, sha256, size FROM media").fetchall()
        thumb_shas = {r[0] for r in db.execute("SELECT sha256 FROM media_thumbnails")}
    finally:
        db.close()
    acked_ids = {uri.rsplit("/", 1)[1] for uri in acked}
    unacked_rows = [r for r in rows if r[0] not in acked_ids]
    for media_id, digest, size in unacked_rows:
        assert sent.get(digest) == size, (media_id, digest, size, "a row for bytes never sent")
        check_served(srv, f"mxc://{srv.server_name}/{media_id}", digest, size, tokens[0],
                     "unacknowledged but committed upload")
    assert acked_ids <= {r[0] for r in rows}

    srv.stop()
    db = sqlite3.connect(data / "ruche.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()

    # Blobs stored but never committed were removed by the sweep at the last restart (and the
    # checks above prove it removed nothing a row refers to).
    referenced = {r[1] for r in rows if r[1]} | thumb_shas
    blobs = blob_files(media)
    orphans = set(blobs) - referenced
    assert not orphans, f"{len(orphans)} unreferenced blobs after the restart's sweep"
    assert referenced <= set(blobs), "a referenced blob is missing"
    orphan_bytes = sum(blobs[d].stat().st_size for d in orphans)
    print(f"\n{len(acked)} acknowledged uploads ({dedup_hits} deduplicated, "
          f"{len(unacked_rows)} committed but unacknowledged) over {ROUNDS} kills in "
          f"{rounds_done:.1f}s; in flight at the kills: {sum(in_flight_at_kill)}; temp files "
          f"after the kills: {sum(tmp_after_kill)} (max {max(tmp_after_kill)}, all swept at "
          f"restart); {len(blobs)} blobs on disk, {len(orphans)} unreferenced "
          f"({orphan_bytes} bytes)")
