"""The server side of Matrix end-to-end encryption, over HTTP with real olm-signed keys.

- /keys/upload, /keys/query, /keys/claim, /keys/changes: device keys must be self-signed; bad
  uploads are refused with a clear errcode and store nothing at all (atomic); one-time keys are
  handed out once, even to concurrent claimers, then the fallback key.
- Cross-signing (/keys/device_signing/upload, /keys/signatures/upload): the first upload needs
  no password, replacing keys does; signatures are verified; a user-signing signature on someone
  else's master key is shown to its signer only.
- /sendToDevice: idempotent per transaction, delivered in order and exactly once across sync
  tokens (at most 100 per sync), bounded per target device and rate-limited per sender.
- /sync: device_lists, device_one_time_keys_count, device_unused_fallback_key_types; removing a
  device (delete, logout, logout/all, password change) deletes its keys and to-device queue and
  tells its owner's room-mates.
- Key backup (/room_keys/...): per-user versions, never reused; only the current version takes
  keys; the spec's replacement rule; etag and count.
- /search leaves out encrypted rooms.

Keys are made with python3-olm (olm.Account for devices, olm.PkSigning for cross-signing keys),
signed over canonical JSON exactly as clients do.
"""
from __future__ import annotations

import base64
import json
import os
import threading
import time

import olm
import pytest

from olm_keys import MEGOLM, OLM_ALG, OTK_ALG, OlmKeys, canonical, with_signature
from ruche_test import (call, client_path, create_room, login, q, query, register,
                        shared_or_fail, sync, unique_name)

PASSWORD = "correct horse"
BACKUP_ALG = "m.megolm_backup.v1.curve25519-aes-sha2"
ENCRYPTION_STATE = {"type": "m.room.encryption", "state_key": "",
                    "content": {"algorithm": MEGOLM}}
SYNC_ROUNDS = 10        # bounded waits: at most this many syncs ...
SYNC_TIMEOUT_MS = 500   # ... long-polling this long each
POLL_DEADLINE_S = 5.0   # bounded polling for work the server finishes in the background


@pytest.fixture
def server(module_servers):
    """The module's shared server: open registration, and to-device rate limits out of the way
    (the limit tests start their own servers)."""
    with shared_or_fail(module_servers, "e2ee", registration="open",
                        settings={"limits.to_device_per_user_burst": "1000000",
                                  "limits.to_device_per_user_per_second": "100000"}) as srv:
        yield srv


# -- keys as a client makes them ----------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def fake_otks(n: int, prefix: str = "K") -> dict:
    """n one-time keys with distinct IDs (the server does not verify one-time key signatures, so
    random bytes do for tests about counts and limits)."""
    return {f"{OTK_ALG}:{prefix}{i:05d}": {"key": b64(os.urandom(32))} for i in range(n)}


class Device(OlmKeys):
    """One logged-in device of a user, with its own olm account."""

    def __init__(self, server, localpart: str, user_id: str, device_id: str, token: str):
        super().__init__(user_id, device_id)
        self.server, self.localpart, self.token = server, localpart, token

    def upload(self, body: dict, expect: int = 200):
        resp = call(self.server, "POST", client_path("/keys/upload"), body, token=self.token)
        assert resp.status == expect, resp
        return resp

    def otk_count(self) -> int:
        """The stored one-time key count, as /keys/upload reports it (an empty upload)."""
        return self.upload({}).json["one_time_key_counts"].get(OTK_ALG, 0)


class CrossSigning:
    """A user's three cross-signing keys."""

    def __init__(self, user_id: str):
        self.user_id = user_id
        self.signers = {usage: olm.PkSigning(olm.PkSigning.generate_seed())
                        for usage in ("master", "self_signing", "user_signing")}

    def public(self, usage: str) -> str:
        return self.signers[usage].public_key

    def key_id(self, usage: str) -> str:
        return f"ed25519:{self.public(usage)}"

    def sign(self, usage: str, obj: dict) -> dict:
        return with_signature(obj, self.user_id, self.key_id(usage), self.signers[usage].sign)

    def key(self, usage: str) -> dict:
        obj = {"user_id": self.user_id, "usage": [usage],
               "keys": {self.key_id(usage): self.public(usage)}}
        return obj if usage == "master" else self.sign("master", obj)

    def upload_body(self) -> dict:
        return {f"{usage}_key": self.key(usage) for usage in self.signers}


def new_device(server, display_name: str | None = None) -> Device:
    """Registers a fresh user; their first device."""
    name = unique_name("e2ee")
    extra = {"initial_device_display_name": display_name} if display_name else {}
    reg = register(server, name, PASSWORD, **extra).json
    return Device(server, name, reg["user_id"], reg["device_id"], reg["access_token"])


def another_device(dev: Device, display_name: str | None = None,
                   device_id: str | None = None) -> Device:
    extra = {}
    if display_name:
        extra["initial_device_display_name"] = display_name
    if device_id:
        extra["device_id"] = device_id
    got = login(dev.server, dev.localpart, PASSWORD, **extra).json
    return Device(dev.server, dev.localpart, got["user_id"], got["device_id"],
                  got["access_token"])


def password_auth(dev: Device, session: str, password: str = PASSWORD) -> dict:
    return {"type": "m.login.password", "session": session, "password": password,
            "identifier": {"type": "m.id.user", "user": dev.localpart}}


def keys_query(server, token, wanted: dict) -> dict:
    resp = call(server, "POST", client_path("/keys/query"), {"device_keys": wanted}, token=token)
    assert resp.status == 200, resp
    for field in ("device_keys", "master_keys", "self_signing_keys", "user_signing_keys",
                  "failures"):
        assert field in resp.json, resp
    return resp.json


def queried_device(server, token, user_id, device_id):
    """The device's keys as /keys/query returns them, or None."""
    return keys_query(server, token, {user_id: []})["device_keys"].get(user_id, {}).get(device_id)


def without_unsigned(obj):
    return None if obj is None else {k: v for k, v in obj.items() if k != "unsigned"}


def claim(server, token, wanted: dict) -> dict:
    resp = call(server, "POST", client_path("/keys/claim"), {"one_time_keys": wanted},
                token=token)
    assert resp.status == 200, resp
    assert "failures" in resp.json, resp
    return resp.json["one_time_keys"]


def claim_one(server, token, owner: Device) -> dict | None:
    """Claims one key of owner's device; {key_id: key} or None when it has none."""
    got = claim(server, token, {owner.user_id: {owner.device_id: OTK_ALG}})
    return got.get(owner.user_id, {}).get(owner.device_id) or None


def sync_keys_state(dev: Device) -> tuple[int, list]:
    body = sync(dev.server, dev.token)
    return (body["device_one_time_keys_count"].get(OTK_ALG, 0),
            body["device_unused_fallback_key_types"])


def join(dev: Device, room: str):
    resp = call(dev.server, "POST", client_path(f"/rooms/{q(room)}/join"), {}, token=dev.token)
    assert resp.status == 200, resp


def leave(dev: Device, room: str):
    resp = call(dev.server, "POST", client_path(f"/rooms/{q(room)}/leave"), {}, token=dev.token)
    assert resp.status == 200, resp


def shared_room(owner: Device, *members: Device, encrypted: bool = True) -> str:
    state = [ENCRYPTION_STATE] if encrypted else []
    room = create_room(owner.server, owner.token, invite=[m.user_id for m in members],
                       initial_state=state)
    for m in members:
        join(m, room)
    return room


def device_list_changes(dev: Device, since: str, done) -> tuple[set, set, str]:
    """Syncs from `since` (bounded) accumulating device_lists until done(changed, left).
    Returns (changed, left, next_batch); the caller asserts on what was seen."""
    changed: set = set()
    left: set = set()
    for _ in range(SYNC_ROUNDS):
        body = sync(dev.server, dev.token, since, timeout=SYNC_TIMEOUT_MS)
        since = body["next_batch"]
        changed |= set(body["device_lists"]["changed"])
        left |= set(body["device_lists"]["left"])
        if done(changed, left):
            break
    return changed, left, since


def send_to_device(server, token, kind, txn, messages, expect=200, conn=None):
    resp = call(server, "PUT", client_path(f"/sendToDevice/{q(kind)}/{txn}"),
                {"messages": messages}, token=token, conn=conn)
    assert resp.status == expect, resp
    return resp


def to_device(body, kind):
    return [e for e in body["to_device"]["events"] if e["type"] == kind]


def poll(attempt, done):
    """Calls attempt() until done(result) or POLL_DEADLINE_S passed; returns the last result
    (the caller asserts on it)."""
    deadline = time.monotonic() + POLL_DEADLINE_S
    while True:
        result = attempt()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


# -- /keys/upload, /keys/query ------------------------------------------------------------------


def test_device_keys_are_uploaded_and_queried_with_display_name(server):
    dev = new_device(server, "Phone")
    device_keys = dev.device_keys()
    otks = dev.one_time_keys(5)
    fallback = dev.fallback_key()
    resp = dev.upload({"device_keys": device_keys, "one_time_keys": otks,
                       "fallback_keys": fallback})
    assert resp.json["one_time_key_counts"].get(OTK_ALG) == 5, resp
    assert sync_keys_state(dev) == (5, [OTK_ALG])

    asker = new_device(server)
    for wanted in ([], [dev.device_id]):  # all devices, then that one by ID
        got = keys_query(server, asker.token, {dev.user_id: wanted})
        assert list(got["device_keys"][dev.user_id]) == [dev.device_id], got
        returned = got["device_keys"][dev.user_id][dev.device_id]
        assert returned["unsigned"] == {"device_display_name": "Phone"}, returned
        assert without_unsigned(returned) == device_keys, returned
    # An unknown device ID, an unknown user and another server's user: no keys, no error.
    ghost = f"@{unique_name('ghost')}:{server.server_name}"
    got = keys_query(server, asker.token, {dev.user_id: ["NOSUCHDEVICE"], ghost: [],
                                           "@someone:elsewhere.example": []})
    assert got["device_keys"].get(dev.user_id, {}) == {}, got
    assert got["device_keys"].get(ghost, {}) == {}, got
    assert got["device_keys"].get("@someone:elsewhere.example", {}) == {}, got

    # Uploading the same device keys again is harmless and changes nothing.
    dev.upload({"device_keys": device_keys})
    assert without_unsigned(queried_device(server, asker.token, dev.user_id,
                                           dev.device_id)) == device_keys


def test_device_keys_can_be_replaced_by_the_device_itself(server):
    dev = new_device(server)
    dev.upload({"device_keys": dev.device_keys()})
    newer = dev.device_keys(algorithms=[OLM_ALG, MEGOLM, "org.example.new"])
    dev.upload({"device_keys": newer})
    assert without_unsigned(queried_device(server, dev.token, dev.user_id,
                                           dev.device_id)) == newer


def _other_user_keys(dev: Device, other: Device) -> dict:
    keys = dev.device_keys()
    keys = {k: v for k, v in keys.items() if k != "signatures"}
    keys["user_id"] = other.user_id
    return with_signature(keys, other.user_id, f"ed25519:{dev.device_id}", dev.account.sign)


def _other_device_keys(dev: Device) -> dict:
    ids = dev.account.identity_keys
    obj = {"user_id": dev.user_id, "device_id": "OTHERDEVICE", "algorithms": [OLM_ALG, MEGOLM],
           "keys": {"curve25519:OTHERDEVICE": ids["curve25519"],
                    "ed25519:OTHERDEVICE": ids["ed25519"]}}
    return with_signature(obj, dev.user_id, "ed25519:OTHERDEVICE", dev.account.sign)


def _signed_by_another_account(dev: Device) -> dict:
    keys = dev.device_keys()
    intruder = olm.Account()
    keys["signatures"] = {dev.user_id: {f"ed25519:{dev.device_id}": intruder.sign(
        canonical(keys))}}
    return keys


def _tampered(dev: Device) -> dict:
    keys = dev.device_keys()
    keys["algorithms"] = [MEGOLM]  # changed after signing
    return keys


def _unsigned_keys(dev: Device) -> dict:
    keys = dev.device_keys()
    del keys["signatures"]
    return keys


def _with_signatures(dev: Device, signatures) -> dict:
    keys = dev.device_keys()
    keys["signatures"] = signatures
    return keys


MALFORMED = {"M_BAD_JSON", "M_INVALID_PARAM", "M_MISSING_PARAM"}

# (case, function of (device, other user's device, baseline one-time keys) -> the bad part of the
# upload, expected status, acceptable errcodes)
BAD_UPLOADS = [
    ("device_keys_for_another_user",
     lambda d, o, base: {"device_keys": _other_user_keys(d, o)}, 400, {"M_INVALID_PARAM"}),
    ("device_keys_for_another_device",
     lambda d, o, base: {"device_keys": _other_device_keys(d)}, 400, {"M_INVALID_PARAM"}),
    ("self_signature_by_another_key",
     lambda d, o, base: {"device_keys": _signed_by_another_account(d)}, 400,
     {"M_INVALID_SIGNATURE"}),
    ("device_keys_changed_after_signing",
     lambda d, o, base: {"device_keys": _tampered(d)}, 400, {"M_INVALID_SIGNATURE"}),
    ("device_keys_not_signed",
     lambda d, o, base: {"device_keys": _unsigned_keys(d)}, 400, MALFORMED),
    ("signatures_not_an_object",
     lambda d, o, base: {"device_keys": _with_signatures(d, "nope")}, 400, MALFORMED),
    ("signatures_user_not_an_object",
     lambda d, o, base: {"device_keys": _with_signatures(d, {d.user_id: ["x"]})}, 400,
     MALFORMED),
    ("signature_not_a_string",
     lambda d, o, base: {"device_keys": _with_signatures(
         d, {d.user_id: {f"ed25519:{d.device_id}": 42}})}, 400, MALFORMED),
    ("signature_key_id_without_algorithm",
     lambda d, o, base: {"device_keys": _with_signatures(
         d, {d.user_id: {d.device_id: "c2lnbmF0dXJl"}})}, 400, MALFORMED),
    ("one_time_key_with_malformed_signatures",
     lambda d, o, base: {"one_time_keys": {f"{OTK_ALG}:BADSIG": {
         "key": b64(os.urandom(32)), "signatures": {d.user_id: "x"}}}}, 400, MALFORMED),
    ("one_time_key_name_without_algorithm",
     lambda d, o, base: {"one_time_keys": {"NOCOLON": {"key": b64(os.urandom(32))}}}, 400,
     {"M_INVALID_PARAM"}),
    ("one_time_key_object_without_key",
     lambda d, o, base: {"one_time_keys": {f"{OTK_ALG}:NOKEY": {"value": "x"}}}, 400,
     {"M_INVALID_PARAM"}),
    ("more_than_200_keys_in_one_upload",
     lambda d, o, base: {"one_time_keys": fake_otks(201, "MANY")}, 400, {"M_INVALID_PARAM"}),
    ("one_time_key_over_16_KiB",
     lambda d, o, base: {"one_time_keys": {f"{OTK_ALG}:HUGE": {
         "key": b64(os.urandom(32)), "padding": "x" * 17000}}}, 413, {"M_TOO_LARGE"}),
    ("device_keys_over_16_KiB",
     lambda d, o, base: {"device_keys": d.device_keys(padding="x" * 17000)}, 413,
     {"M_TOO_LARGE"}),
    ("two_fallback_keys_for_one_algorithm",
     lambda d, o, base: {"fallback_keys": {**fake_otks(1, "FA"), **fake_otks(1, "FB")}}, 400,
     {"M_INVALID_PARAM"}),
    ("one_time_key_id_reused_with_another_value",
     lambda d, o, base: {"one_time_keys": {next(iter(base)): {"key": b64(os.urandom(32))}}},
     400, {"M_INVALID_PARAM"}),
]


@pytest.mark.parametrize("case,bad,status,errcodes", BAD_UPLOADS,
                         ids=[c[0] for c in BAD_UPLOADS])
def test_bad_key_uploads_are_refused_and_store_nothing(server, case, bad, status, errcodes):
    dev = new_device(server)
    other = new_device(server)
    baseline_keys = dev.device_keys()
    baseline_otks = dev.one_time_keys(1)
    dev.upload({"device_keys": baseline_keys, "one_time_keys": baseline_otks})

    # A request that would change everything (new device keys, a new one-time key, a fallback
    # key) if it were not for its one bad part.
    body = {"device_keys": dev.device_keys(algorithms=[OLM_ALG, MEGOLM, "org.example.changed"]),
            "one_time_keys": dev.one_time_keys(1),
            "fallback_keys": dev.fallback_key()}
    for field, value in bad(dev, other, baseline_otks).items():
        if field == "one_time_keys":
            body[field] = {**body[field], **value}
        else:
            body[field] = value
    resp = dev.upload(body, expect=status)
    assert resp.errcode in errcodes, resp

    # Nothing of it was stored.
    assert dev.otk_count() == 1
    assert sync_keys_state(dev) == (1, [])
    stored = queried_device(server, other.token, dev.user_id, dev.device_id)
    assert without_unsigned(stored) == baseline_keys, stored
    assert claim_one(server, other.token, dev) == baseline_otks


def test_retried_one_time_key_upload_is_idempotent(server):
    dev = new_device(server)
    claimer = new_device(server)
    otks = dev.one_time_keys(3)
    assert dev.upload({"one_time_keys": otks}).json["one_time_key_counts"][OTK_ALG] == 3
    again = dev.upload({"one_time_keys": otks})  # the same keys: a retried request
    assert again.json["one_time_key_counts"][OTK_ALG] == 3, again
    handed_out = [claim_one(server, claimer.token, dev) for _ in range(4)]
    assert sorted(next(iter(k)) for k in handed_out[:3]) == sorted(otks)
    assert handed_out[3] is None, handed_out


def test_a_device_holds_at_most_1000_one_time_keys(server):
    dev = new_device(server)
    baseline_keys = dev.device_keys()
    dev.upload({"device_keys": baseline_keys})
    for batch in range(5):
        dev.upload({"one_time_keys": fake_otks(200, f"B{batch}")})
    assert dev.otk_count() == 1000

    resp = dev.upload({"device_keys": dev.device_keys(algorithms=[MEGOLM]),
                       "one_time_keys": fake_otks(1, "EXTRA"),
                       "fallback_keys": dev.fallback_key()}, expect=400)
    assert resp.errcode == "M_INVALID_PARAM", resp
    assert dev.otk_count() == 1000
    assert sync_keys_state(dev) == (1000, [])
    assert without_unsigned(queried_device(server, dev.token, dev.user_id,
                                           dev.device_id)) == baseline_keys
    # Another algorithm has its own allowance.
    other_alg = {f"org.example.alg:X{i}": {"key": b64(os.urandom(32))} for i in range(3)}
    counts = dev.upload({"one_time_keys": other_alg}).json["one_time_key_counts"]
    assert counts.get("org.example.alg") == 3 and counts.get(OTK_ALG) == 1000, counts


# -- /keys/claim --------------------------------------------------------------------------------


def test_claims_hand_out_one_time_keys_once_then_the_fallback_key(server):
    dev = new_device(server)
    claimer = new_device(server)
    otks = dev.one_time_keys(2)
    fallback = dev.fallback_key()
    dev.upload({"device_keys": dev.device_keys(), "one_time_keys": otks,
                "fallback_keys": fallback})
    first, second = claim_one(server, claimer.token, dev), claim_one(server, claimer.token, dev)
    assert first != second and {**first, **second} == otks, (first, second)
    assert sync_keys_state(dev) == (0, [OTK_ALG])
    for _ in range(2):  # the fallback key is kept and handed out again
        assert claim_one(server, claimer.token, dev) == fallback
    assert sync_keys_state(dev) == (0, [])  # used: the client should make a new one
    newer = dev.fallback_key()
    dev.upload({"fallback_keys": newer})
    assert sync_keys_state(dev) == (0, [OTK_ALG])
    assert claim_one(server, claimer.token, dev) == newer

    # Unknown users and devices, other servers' users, unknown algorithms: simply absent.
    ghost = f"@{unique_name('ghost')}:{server.server_name}"
    got = claim(server, claimer.token, {ghost: {"DEV": OTK_ALG},
                                        dev.user_id: {"NOSUCHDEVICE": OTK_ALG},
                                        "@someone:elsewhere.example": {"DEV": OTK_ALG}})
    assert got == {}, got
    got = claim(server, claimer.token, {dev.user_id: {dev.device_id: "org.example.unknown"}})
    assert got == {}, got


@pytest.mark.parametrize("with_fallback", [True, False], ids=["with_fallback", "no_fallback"])
def test_concurrent_claims_hand_out_each_one_time_key_once(server, with_fallback):
    dev = new_device(server)
    otks = dev.one_time_keys(10)
    body = {"device_keys": dev.device_keys(), "one_time_keys": otks}
    fallback = dev.fallback_key()
    if with_fallback:
        body["fallback_keys"] = fallback
    dev.upload(body)
    claimers = [new_device(server) for _ in range(4)]

    results: list = [None] * 20
    errors: list = []
    barrier = threading.Barrier(20)

    def worker(i):
        try:
            barrier.wait(timeout=10)
            results[i] = ("ok", claim_one(server, claimers[i % 4].token, dev))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert all(r is not None for r in results), results
    got = [r[1] for r in results]
    one_time = [k for k in got if k is not None and next(iter(k)) in otks]
    others = [k for k in got if k is None or next(iter(k)) not in otks]
    claimed_ids = [next(iter(k)) for k in one_time]
    assert sorted(claimed_ids) == sorted(otks), "each one-time key exactly once: " + \
        repr(claimed_ids)
    assert all(otks[next(iter(k))] == next(iter(k.values())) for k in one_time)
    assert len(others) == 10
    assert others == ([fallback] * 10 if with_fallback else [None] * 10), others
    assert dev.otk_count() == 0


# -- /keys/changes and device_lists ---------------------------------------------------------------


def test_key_changes_reach_room_mates_only(server):
    alice = new_device(server)
    bob = new_device(server)
    carol = new_device(server)  # shares no room with alice
    shared_room(alice, bob)
    since = sync(server, alice.token)["next_batch"]

    carol.upload({"device_keys": carol.device_keys()})
    bob.upload({"device_keys": bob.device_keys()})
    changed, left, mid = device_list_changes(alice, since, lambda c, l: bob.user_id in c)
    assert bob.user_id in changed and carol.user_id not in changed, changed
    assert left == set(), left

    resp = call(server, "GET", query(client_path("/keys/changes"), **{"from": since, "to": mid}),
                token=alice.token)
    assert resp.status == 200, resp
    assert bob.user_id in resp.json["changed"], resp
    assert carol.user_id not in resp.json["changed"], resp
    assert resp.json["left"] == [], resp

    # Uploading only one-time keys is not a device list change ...
    bob.upload({"one_time_keys": bob.one_time_keys(2)})
    body = sync(server, alice.token, mid)
    assert bob.user_id not in body["device_lists"]["changed"], body["device_lists"]
    # ... a new device that publishes its keys is.
    bob2 = another_device(bob)
    bob2.upload({"device_keys": bob2.device_keys()})
    changed, _, end = device_list_changes(alice, body["next_batch"],
                                          lambda c, l: bob.user_id in c)
    assert bob.user_id in changed, changed
    # And /keys/changes over a window without any change is empty.
    quiet = sync(server, alice.token, end)["next_batch"]
    resp = call(server, "GET", query(client_path("/keys/changes"), **{"from": quiet,
                                                                       "to": quiet}),
                token=alice.token)
    assert resp.status == 200 and resp.json == {"changed": [], "left": []}, resp
    for bad in ({"from": since}, {"from": "garbage", "to": mid}):
        resp = call(server, "GET", query(client_path("/keys/changes"), **bad), token=alice.token)
        assert resp.status == 400, resp


def test_device_lists_follow_shared_rooms(server):
    alice = new_device(server)
    bob = new_device(server)
    bob.upload({"device_keys": bob.device_keys()})
    first = shared_room(alice, bob)
    second = create_room(server, alice.token, invite=[bob.user_id])
    since = sync(server, alice.token)["next_batch"]

    join(bob, second)
    changed, _, since = device_list_changes(alice, since, lambda c, l: bob.user_id in c)
    assert bob.user_id in changed, "a join must be in device_lists.changed"

    leave(bob, first)  # still shares the second room: not "left"
    _, left, since = device_list_changes(alice, since, lambda c, l: True)
    assert bob.user_id not in left, left
    before_leave = since
    leave(bob, second)
    _, left, since = device_list_changes(alice, since, lambda c, l: bob.user_id in l)
    assert bob.user_id in left, "no shared room left: device_lists.left"
    resp = call(server, "GET", query(client_path("/keys/changes"),
                                     **{"from": before_leave, "to": since}), token=alice.token)
    assert resp.status == 200 and bob.user_id in resp.json["left"], resp


def test_device_lists_see_rooms_a_filter_leaves_out(server):
    # A room filter shapes what the client is shown, not whose keys it must fetch again: a join
    # in a room the filter leaves out still puts the member in device_lists.changed.
    alice = new_device(server)
    bob = new_device(server)
    bob.upload({"device_keys": bob.device_keys()})
    shown = create_room(server, alice.token)
    hidden = create_room(server, alice.token, invite=[bob.user_id])
    only_shown = json.dumps({"room": {"rooms": [shown]}})
    since = sync(server, alice.token, filter=only_shown)["next_batch"]
    join(bob, hidden)
    changed: set = set()
    for _ in range(SYNC_ROUNDS):
        body = sync(server, alice.token, since, timeout=SYNC_TIMEOUT_MS, filter=only_shown)
        assert hidden not in body.get("rooms", {}).get("join", {}), "the filter is honoured"
        since = body["next_batch"]
        changed |= set(body["device_lists"]["changed"])
        if bob.user_id in changed:
            break
    assert bob.user_id in changed, "a join in a filtered-out room must reach device_lists"

    # The syncing user's own join: everyone already in the room is news to them.
    carol = new_device(server)
    room = create_room(server, carol.token, invite=[alice.user_id])
    join(alice, room)
    changed, _, _ = device_list_changes(alice, since, lambda c, l: carol.user_id in c)
    assert carol.user_id in changed, changed


def test_full_state_sync_still_reports_device_list_changes(server):
    # full_state only asks for the rooms' full state; the token still advances past the key
    # change, so a response that leaves it out loses it for good.
    alice = new_device(server)
    bob = new_device(server)
    shared_room(alice, bob)
    since = sync(server, alice.token)["next_batch"]
    bob.upload({"device_keys": bob.device_keys()})
    full = sync(server, alice.token, since, full_state="true")
    after = sync(server, alice.token, full["next_batch"])
    seen = set(full["device_lists"]["changed"]) | set(after["device_lists"]["changed"])
    assert bob.user_id in seen, (full["device_lists"], after["device_lists"])


def _remove_device(how: str, main: Device, victim: Device):
    """Removes `victim` (a device of main's user) the way `how` says."""
    server = main.server
    if how in ("delete_device", "delete_devices"):
        if how == "delete_device":
            method, path, body = "DELETE", client_path(f"/devices/{victim.device_id}"), {}
        else:
            method, path, body = ("POST", client_path("/delete_devices"),
                                  {"devices": [victim.device_id]})
        challenge = call(server, method, path, body, token=main.token)
        assert challenge.status == 401, challenge
        assert {"stages": ["m.login.password"]} in challenge.json["flows"], challenge
        body["auth"] = password_auth(main, challenge.json["session"])
        resp = call(server, method, path, body, token=main.token)
    elif how == "logout":
        resp = call(server, "POST", client_path("/logout"), {}, token=victim.token)
    elif how == "logout_all":
        resp = call(server, "POST", client_path("/logout/all"), {}, token=victim.token)
    else:
        path = client_path("/account/password")
        first = call(server, "POST", path, {"new_password": PASSWORD}, token=main.token)
        assert first.status == 401, first
        resp = call(server, "POST", path, {"new_password": PASSWORD,
                                           "auth": password_auth(main, first.json["session"])},
                    token=main.token)
    assert resp.status == 200, resp


@pytest.mark.parametrize("how", ["delete_device", "delete_devices", "logout", "logout_all",
                                 "password_change"])
def test_removing_a_device_deletes_its_keys_and_queue_and_is_announced(server, how):
    alice = new_device(server)
    bob = new_device(server)
    victim = another_device(bob)
    for dev in (bob, victim):
        dev.upload({"device_keys": dev.device_keys(), "one_time_keys": dev.one_time_keys(3),
                    "fallback_keys": dev.fallback_key()})
    shared_room(alice, bob)
    kind = "org.ruche.test.removed"
    send_to_device(server, alice.token, kind, "before-removal",
                   {bob.user_id: {victim.device_id: {"secret": "for the old device"}}})
    since = sync(server, alice.token)["next_batch"]

    _remove_device(how, bob, victim)

    changed, _, _ = device_list_changes(alice, since, lambda c, l: bob.user_id in c)
    assert bob.user_id in changed, f"{how}: room-mates must refetch the user's devices"
    assert queried_device(server, alice.token, bob.user_id, victim.device_id) is None
    assert claim_one(server, alice.token, victim) is None, "keys of a removed device claimed"
    if how != "logout_all":
        assert queried_device(server, alice.token, bob.user_id, bob.device_id) is not None

    # A device created again under the same ID starts empty: no old keys, no old messages.
    reborn = another_device(bob, device_id=victim.device_id)
    assert reborn.device_id == victim.device_id
    body = sync(server, reborn.token)
    assert to_device(body, kind) == [], body["to_device"]
    assert body["device_one_time_keys_count"].get(OTK_ALG, 0) == 0, body
    assert body["device_unused_fallback_key_types"] == [], body
    assert queried_device(server, alice.token, bob.user_id, reborn.device_id) is None


def test_logging_in_again_to_an_existing_device_keeps_its_keys_and_queue(server):
    dev = new_device(server)
    other = new_device(server)
    keys = dev.device_keys()
    dev.upload({"device_keys": keys, "one_time_keys": dev.one_time_keys(2),
                "fallback_keys": dev.fallback_key()})
    send_to_device(server, other.token, "org.ruche.test.relogin", "r1",
                   {dev.user_id: {dev.device_id: {"kept": True}}})
    again = another_device(dev, device_id=dev.device_id)
    assert again.device_id == dev.device_id
    assert without_unsigned(queried_device(server, other.token, dev.user_id,
                                           dev.device_id)) == keys
    body = sync(server, again.token)
    assert [e["content"] for e in to_device(body, "org.ruche.test.relogin")] == [{"kept": True}]
    assert body["device_one_time_keys_count"].get(OTK_ALG) == 2, body
    assert body["device_unused_fallback_key_types"] == [OTK_ALG], body


# -- cross-signing ------------------------------------------------------------------------------


def upload_cross_signing(dev: Device, body: dict, expect: int = 200):
    resp = call(dev.server, "POST", client_path("/keys/device_signing/upload"), body,
                token=dev.token)
    assert resp.status == expect, resp
    return resp


def test_cross_signing_keys_need_a_password_only_to_be_replaced(server):
    alice = new_device(server)
    bob = new_device(server)
    shared_room(alice, bob)
    cs = CrossSigning(alice.user_id)
    since = sync(server, bob.token)["next_batch"]
    upload_cross_signing(alice, cs.upload_body())  # first upload: no password

    mine = keys_query(server, alice.token, {alice.user_id: []})
    assert mine["master_keys"][alice.user_id] == cs.key("master"), mine
    assert mine["self_signing_keys"][alice.user_id] == cs.key("self_signing"), mine
    assert mine["user_signing_keys"][alice.user_id] == cs.key("user_signing"), mine
    theirs = keys_query(server, bob.token, {alice.user_id: []})
    assert theirs["master_keys"][alice.user_id] == cs.key("master"), theirs
    assert theirs["self_signing_keys"][alice.user_id] == cs.key("self_signing"), theirs
    assert alice.user_id not in theirs["user_signing_keys"], "only the owner sees it"
    changed, _, _ = device_list_changes(bob, since, lambda c, l: alice.user_id in c)
    assert alice.user_id in changed, "new cross-signing keys are a device list change"

    upload_cross_signing(alice, cs.upload_body())  # the same keys again: no password

    fresh = CrossSigning(alice.user_id)
    challenge = upload_cross_signing(alice, fresh.upload_body(), expect=401)
    assert {"stages": ["m.login.password"]} in challenge.json["flows"], challenge
    session = challenge.json["session"]
    assert keys_query(server, bob.token, {alice.user_id: []})["master_keys"][alice.user_id] == \
        cs.key("master")
    wrong = upload_cross_signing(alice, {**fresh.upload_body(),
                                         "auth": password_auth(alice, session, "wrong")},
                                 expect=401)
    assert wrong.errcode == "M_FORBIDDEN", wrong
    assert keys_query(server, bob.token, {alice.user_id: []})["master_keys"][alice.user_id] == \
        cs.key("master")
    upload_cross_signing(alice, {**fresh.upload_body(), "auth": password_auth(alice, session)})
    now = keys_query(server, alice.token, {alice.user_id: []})
    assert now["master_keys"][alice.user_id] == fresh.key("master"), now
    assert now["self_signing_keys"][alice.user_id] == fresh.key("self_signing"), now
    assert now["user_signing_keys"][alice.user_id] == fresh.key("user_signing"), now

    # Replacing only the self-signing key is a replacement too.
    newer = CrossSigning(alice.user_id)
    newer.signers["master"] = fresh.signers["master"]
    challenge = upload_cross_signing(alice, {"self_signing_key": newer.key("self_signing")},
                                     expect=401)
    assert keys_query(server, alice.token, {alice.user_id: []})["self_signing_keys"][
        alice.user_id] == fresh.key("self_signing")


def _cs_case(mutate):
    def build(cs: CrossSigning, other: CrossSigning) -> dict:
        body = cs.upload_body()
        mutate(body, cs, other)
        return body
    return build


def _set(field, value_fn):
    def mutate(body, cs, other):
        body[field] = value_fn(cs, other)
    return mutate


def _only(*fields):
    def mutate(body, cs, other):
        for f in list(body):
            if f not in fields:
                del body[f]
    return mutate


def _master_with(**changes):
    def value(cs, other):
        key = cs.key("master")
        key.update(changes)
        return key
    return value


BAD_CROSS_SIGNING = [
    ("self_signing_not_signed_by_master",
     _set("self_signing_key", lambda cs, o: {k: v for k, v in cs.key("self_signing").items()
                                              if k != "signatures"}),
     400, {"M_INVALID_SIGNATURE"}),
    ("user_signing_signed_by_another_master",
     _set("user_signing_key", lambda cs, o: with_signature(
         {k: v for k, v in cs.key("user_signing").items() if k != "signatures"}, cs.user_id,
         cs.key_id("master"), o.signers["master"].sign)),
     400, {"M_INVALID_SIGNATURE"}),
    ("master_key_of_another_user",
     _set("master_key", lambda cs, o: {**cs.key("master"), "user_id": o.user_id}), 400,
     {"M_INVALID_PARAM"}),
    ("wrong_usage", _set("master_key", _master_with(usage=["self_signing"])), 400,
     {"M_INVALID_PARAM"}),
    ("two_public_keys",
     _set("master_key", lambda cs, o: {**cs.key("master"), "keys": {
         cs.key_id("master"): cs.public("master"), o.key_id("master"): o.public("master")}}),
     400, {"M_INVALID_PARAM"}),
    ("key_id_does_not_match_the_key",
     _set("master_key", lambda cs, o: {**cs.key("master"), "keys": {
         cs.key_id("master"): o.public("master")}}), 400, {"M_INVALID_PARAM"}),
    ("not_an_ed25519_key",
     _set("master_key", lambda cs, o: {**cs.key("master"), "keys": {
         "ed25519:c2hvcnQ": "c2hvcnQ"}}), 400, {"M_INVALID_PARAM"}),
    ("self_signing_without_any_master", _only("self_signing_key"), 400, MALFORMED),
    ("no_key_at_all", _only(), 400, MALFORMED),
]


@pytest.mark.parametrize("case,mutate,status,errcodes", BAD_CROSS_SIGNING,
                         ids=[c[0] for c in BAD_CROSS_SIGNING])
def test_bad_cross_signing_uploads_store_nothing(server, case, mutate, status, errcodes):
    dev = new_device(server)
    cs = CrossSigning(dev.user_id)
    other = CrossSigning(f"@{unique_name('other')}:{server.server_name}")
    resp = upload_cross_signing(dev, _cs_case(mutate)(cs, other), expect=status)
    assert resp.errcode in errcodes, resp
    got = keys_query(server, dev.token, {dev.user_id: []})
    for field in ("master_keys", "self_signing_keys", "user_signing_keys"):
        assert dev.user_id not in got[field], got
    # The user can still set up cross-signing without a password afterwards.
    upload_cross_signing(dev, cs.upload_body())


def upload_signatures(dev: Device, body: dict, expect: int = 200):
    resp = call(dev.server, "POST", client_path("/keys/signatures/upload"), body,
                token=dev.token)
    assert resp.status == expect, resp
    return resp


def test_signatures_are_verified_and_user_signing_ones_shown_to_their_signer_only(server):
    alice, bob, carol = new_device(server), new_device(server), new_device(server)
    a_cs, b_cs = CrossSigning(alice.user_id), CrossSigning(bob.user_id)
    a_keys = alice.device_keys()
    alice.upload({"device_keys": a_keys})
    bob.upload({"device_keys": bob.device_keys()})
    upload_cross_signing(alice, a_cs.upload_body())
    upload_cross_signing(bob, b_cs.upload_body())

    # Alice's self-signing key signs her device; her device signs her master key.
    device_sig = a_cs.sign("self_signing", a_keys)
    master_by_device = alice.signed(a_cs.key("master"))
    resp = upload_signatures(alice, {alice.user_id: {
        alice.device_id: device_sig, a_cs.public("master"): master_by_device}})
    assert resp.json["failures"] == {}, resp
    seen = keys_query(server, carol.token, {alice.user_id: []})
    sigs = seen["device_keys"][alice.user_id][alice.device_id]["signatures"][alice.user_id]
    assert sigs.get(a_cs.key_id("self_signing")) == \
        device_sig["signatures"][alice.user_id][a_cs.key_id("self_signing")], sigs
    msigs = seen["master_keys"][alice.user_id]["signatures"][alice.user_id]
    assert f"ed25519:{alice.device_id}" in msigs, msigs

    # Alice's user-signing key signs Bob's master key: visible to Alice only.
    b_master_signed = a_cs.sign("user_signing", b_cs.key("master"))
    resp = upload_signatures(alice, {bob.user_id: {b_cs.public("master"): b_master_signed}})
    assert resp.json["failures"] == {}, resp
    a_view = keys_query(server, alice.token, {bob.user_id: []})["master_keys"][bob.user_id]
    assert a_view["signatures"].get(alice.user_id) == {
        a_cs.key_id("user_signing"):
            b_master_signed["signatures"][alice.user_id][a_cs.key_id("user_signing")]}, a_view
    for viewer in (carol, bob):
        view = keys_query(server, viewer.token, {bob.user_id: []})["master_keys"][bob.user_id]
        assert alice.user_id not in view.get("signatures", {}), (viewer.user_id, view)

    # Refused signatures, each reported in failures and not stored.
    bob_device = queried_device(server, alice.token, bob.user_id, bob.device_id)
    tampered = a_cs.sign("user_signing", b_cs.key("master"))
    tampered["signatures"][alice.user_id][a_cs.key_id("user_signing")] = \
        a_cs.signers["user_signing"].sign("something else")
    changed_object = a_cs.sign("user_signing", {**b_cs.key("master"), "usage": ["master", "x"]})
    resp = upload_signatures(alice, {
        bob.user_id: {
            b_cs.public("self_signing"): a_cs.sign("user_signing", b_cs.key("self_signing")),
            "NOSUCHKEY": a_cs.sign("user_signing", b_cs.key("master")),
            bob.device_id: a_cs.sign("user_signing", without_unsigned(bob_device)),
        },
        alice.user_id: {"NOSUCHDEVICE": a_cs.sign("self_signing", a_keys)},
    })
    failures = resp.json["failures"]
    assert failures[bob.user_id][b_cs.public("self_signing")]["errcode"] == "M_NOT_FOUND", resp
    assert failures[bob.user_id]["NOSUCHKEY"]["errcode"] == "M_NOT_FOUND", resp
    assert failures[bob.user_id][bob.device_id]["errcode"] == "M_NOT_FOUND", resp
    assert failures[alice.user_id]["NOSUCHDEVICE"]["errcode"] == "M_NOT_FOUND", resp

    dave = new_device(server)
    d_cs = CrossSigning(dave.user_id)
    upload_cross_signing(dave, d_cs.upload_body())
    cases = {
        "bad signature bytes": tampered,
        "object differs from the stored key": changed_object,
        "signed with the self-signing key, not the user-signing key":
            a_cs.sign("self_signing", b_cs.key("master")),
    }
    for what, signed in cases.items():
        resp = upload_signatures(alice, {bob.user_id: {b_cs.public("master"): signed}})
        err = resp.json["failures"].get(bob.user_id, {}).get(b_cs.public("master"), {})
        assert err.get("errcode") == "M_INVALID_SIGNATURE", (what, resp)
    # Signing Dave's master key with his own...: Alice cannot sign with keys that are not hers.
    forged = d_cs.sign("user_signing", b_cs.key("master"))
    forged["signatures"][alice.user_id] = forged["signatures"].pop(dave.user_id)
    resp = upload_signatures(alice, {bob.user_id: {b_cs.public("master"): forged}})
    assert resp.json["failures"][bob.user_id][b_cs.public("master")]["errcode"] == \
        "M_INVALID_SIGNATURE", resp
    a_view = keys_query(server, alice.token, {bob.user_id: []})["master_keys"][bob.user_id]
    assert set(a_view["signatures"][alice.user_id]) == {a_cs.key_id("user_signing")}, a_view
    assert a_view["signatures"][alice.user_id][a_cs.key_id("user_signing")] == \
        b_master_signed["signatures"][alice.user_id][a_cs.key_id("user_signing")], a_view

    # A malformed request is refused as a whole.
    resp = upload_signatures(alice, {bob.user_id: {b_cs.public("master"): {
        **b_cs.key("master"), "signatures": {alice.user_id: "x"}}}}, expect=400)
    assert resp.errcode in MALFORMED, resp


# -- /sendToDevice --------------------------------------------------------------------------------


def test_to_device_messages_arrive_in_order_exactly_once_across_pages(server):
    sender = new_device(server)
    recipient = new_device(server)
    kind = "org.ruche.test.order"
    s0 = sync(server, recipient.token)["next_batch"]
    conn = server.connection()
    try:
        for i in range(150):
            send_to_device(server, sender.token, kind, f"t{i}",
                           {recipient.user_id: {recipient.device_id: {"n": i}}}, conn=conn)
        # Retried transactions, unknown devices and unknown users: nothing new is queued.
        send_to_device(server, sender.token, kind, "t0",
                       {recipient.user_id: {recipient.device_id: {"n": "retry"}}}, conn=conn)
        send_to_device(server, sender.token, kind, "unknown",
                       {recipient.user_id: {"NOSUCHDEVICE": {"n": "lost"}},
                        f"@{unique_name('ghost')}:{server.server_name}": {"*": {"n": "lost"}}},
                       conn=conn)
    finally:
        conn.close()

    def numbers(body):
        return [e["content"]["n"] for e in to_device(body, kind)]

    page1 = sync(server, recipient.token, s0)
    assert numbers(page1) == list(range(100)), numbers(page1)
    assert all(e["sender"] == sender.user_id for e in to_device(page1, kind))
    s1 = page1["next_batch"]
    # Not acknowledged yet (the response may have been lost): the same page again.
    assert numbers(sync(server, recipient.token, s0)) == list(range(100))
    page2 = sync(server, recipient.token, s1)  # acknowledges the first page
    assert numbers(page2) == list(range(100, 150)), numbers(page2)
    s2 = page2["next_batch"]

    # The first page is deleted once acknowledged: a stale token no longer brings it back.
    stale = poll(lambda: numbers(sync(server, recipient.token, s0)),
                 lambda got: got == list(range(100, 150)))
    assert stale == list(range(100, 150)), stale
    page3 = sync(server, recipient.token, s2)
    assert numbers(page3) == [], numbers(page3)
    assert numbers(sync(server, recipient.token, page3["next_batch"])) == []


def test_to_device_exactly_once_with_concurrent_senders_and_a_syncing_recipient(server):
    recipient = new_device(server)
    senders = [new_device(server) for _ in range(3)]
    talker = new_device(server)  # room traffic moves the stream while messages are queued
    room = create_room(server, talker.token)
    kind = "org.ruche.test.concurrent"
    per_sender = 40
    since = sync(server, recipient.token)["next_batch"]
    received: list = []
    errors: list = []
    stop = threading.Event()

    def sync_loop():
        nonlocal since
        try:
            while not stop.is_set():
                body = sync(server, recipient.token, since, timeout=200)
                received.extend((e["sender"], e["content"]["i"]) for e in to_device(body, kind))
                since = body["next_batch"]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    def send_all(dev):
        conn = server.connection()
        try:
            for i in range(per_sender):
                send_to_device(server, dev.token, kind, f"c{i}",
                               {recipient.user_id: {recipient.device_id: {"i": i}}}, conn=conn)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        finally:
            conn.close()

    def talk():
        try:
            for i in range(per_sender):
                send_text(talker, room, f"noise {i}", f"n{i}")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    syncer = threading.Thread(target=sync_loop)
    syncer.start()
    workers = [threading.Thread(target=send_all, args=(d,)) for d in senders]
    workers.append(threading.Thread(target=talk))
    for t in workers:
        t.start()
    for t in workers:
        t.join(30)
    poll(lambda: len(received), lambda n: n >= 3 * per_sender)
    stop.set()
    syncer.join(10)
    assert not errors, errors
    # One more sync from the last token: nothing left over, nothing repeated.
    received.extend((e["sender"], e["content"]["i"])
                    for e in to_device(sync(server, recipient.token, since), kind))
    for dev in senders:
        mine = [i for sender, i in received if sender == dev.user_id]
        assert mine == list(range(per_sender)), (dev.user_id, mine)
    assert len(received) == 3 * per_sender


def test_to_device_pending_limit_refuses_the_whole_request(start_server):
    srv = start_server(settings={"limits.to_device_pending_per_device": "3",
                                 "limits.to_device_per_user_burst": "1000000",
                                 "limits.to_device_per_user_per_second": "100000"})
    sender = new_device(srv)
    full = new_device(srv)
    empty = another_device(full)
    kind = "org.ruche.test.flood"
    s_full = sync(srv, full.token)["next_batch"]
    s_empty = sync(srv, empty.token)["next_batch"]
    for i in range(3):
        send_to_device(srv, sender.token, kind, f"fill{i}",
                       {full.user_id: {full.device_id: {"n": i}}})
    over = send_to_device(srv, sender.token, kind, "over",
                          {full.user_id: {full.device_id: {"n": "over"}}}, expect=429)
    assert over.errcode == "M_LIMIT_EXCEEDED", over
    # The empty device comes first in the request: it must get nothing either.
    mixed = {full.user_id: {empty.device_id: {"n": "mixed"}, full.device_id: {"n": "mixed"}}}
    resp = send_to_device(srv, sender.token, kind, "mixed", mixed, expect=429)
    assert resp.errcode == "M_LIMIT_EXCEEDED", resp
    star = send_to_device(srv, sender.token, kind, "star", {full.user_id: {"*": {"n": "star"}}},
                          expect=429)
    assert star.errcode == "M_LIMIT_EXCEEDED", star
    assert to_device(sync(srv, empty.token, s_empty), kind) == []
    page = sync(srv, full.token, s_full)
    assert [e["content"]["n"] for e in to_device(page, kind)] == [0, 1, 2]

    # Once the full device has acknowledged its messages, the refused transaction can be
    # retried and is delivered (it was not recorded as done).
    sync(srv, full.token, page["next_batch"])
    # (the acknowledged messages are deleted in the background)
    resp = poll(lambda: call(srv, "PUT", client_path(f"/sendToDevice/{q(kind)}/mixed"),
                             {"messages": mixed}, token=sender.token),
                lambda r: r.status != 429)
    assert resp.status == 200, resp
    assert [e["content"] for e in to_device(sync(srv, empty.token, s_empty), kind)] == \
        [{"n": "mixed"}]
    assert [e["content"] for e in to_device(sync(srv, full.token, page["next_batch"]),
                                            kind)] == [{"n": "mixed"}]


def test_to_device_senders_are_rate_limited(start_server):
    srv = start_server(settings={"limits.to_device_per_user_burst": "3",
                                 "limits.to_device_per_user_per_second": "0.01"})
    sender = new_device(srv)
    other_sender = new_device(srv)
    recipient = new_device(srv)
    kind = "org.ruche.test.rate"
    since = sync(srv, recipient.token)["next_batch"]
    target = {recipient.user_id: {recipient.device_id: {"from": "sender"}}}
    for i in range(3):
        send_to_device(srv, sender.token, kind, f"r{i}", target)
    limited = send_to_device(srv, sender.token, kind, "r3", target, expect=429)
    assert limited.errcode == "M_LIMIT_EXCEEDED", limited
    assert isinstance(limited.json.get("retry_after_ms"), int) and \
        limited.json["retry_after_ms"] > 0, limited
    # Per sender: someone else is not held back.
    send_to_device(srv, other_sender.token, kind, "r0",
                   {recipient.user_id: {recipient.device_id: {"from": "other"}}})
    got = [e["content"]["from"] for e in to_device(sync(srv, recipient.token, since), kind)]
    assert got == ["sender"] * 3 + ["other"], got


# -- key backup -----------------------------------------------------------------------------------


def session_key(fmi=0, fc=0, verified=False, tag="a"):
    return {"first_message_index": fmi, "forwarded_count": fc, "is_verified": verified,
            "session_data": {"ephemeral": tag, "ciphertext": tag, "mac": tag}}


def backup_call(dev, method, path, body=None, version=None, expect=200):
    if version is not None:
        path = query(path, version=version)
    resp = call(dev.server, method, client_path(path), body, token=dev.token)
    assert resp.status == expect, resp
    return resp


def new_backup_version(dev, auth_data=None) -> str:
    resp = backup_call(dev, "POST", "/room_keys/version",
                       {"algorithm": BACKUP_ALG, "auth_data": auth_data or {"public_key": "pk"}})
    assert isinstance(resp.json["version"], str), resp
    return resp.json["version"]


def keys_path(room=None, session=None):
    path = "/room_keys/keys"
    if room is not None:
        path += f"/{q(room)}"
    if session is not None:
        path += f"/{q(session)}"
    return path


def test_key_backup_versions_and_keys(server):
    dev = new_device(server)
    missing = backup_call(dev, "GET", "/room_keys/version", expect=404)
    assert missing.errcode == "M_NOT_FOUND", missing
    assert new_backup_version(dev, {"public_key": "pk1"}) == "1"
    info = backup_call(dev, "GET", "/room_keys/version").json
    assert info["version"] == "1" and info["algorithm"] == BACKUP_ALG, info
    assert info["auth_data"] == {"public_key": "pk1"} and info["count"] == 0, info
    assert isinstance(info["etag"], str), info
    assert backup_call(dev, "GET", "/room_keys/version/1").json == info
    etags = [info["etag"]]

    r1, r2 = "!one:example.org", "!two:example.org"
    resp = backup_call(dev, "PUT", keys_path(), {"rooms": {
        r1: {"sessions": {"s1": session_key(tag="1"), "s2": session_key(tag="2")}},
        r2: {"sessions": {"s3": session_key(tag="3")}}}}, version="1").json
    assert resp["count"] == 3 and resp["etag"] not in etags, resp
    etags.append(resp["etag"])
    resp = backup_call(dev, "PUT", keys_path(r2), {"sessions": {"s4": session_key(tag="4")}},
                       version="1").json
    assert resp["count"] == 4 and resp["etag"] not in etags, resp
    etags.append(resp["etag"])
    resp = backup_call(dev, "PUT", keys_path(r2, "s5"), session_key(tag="5"), version="1").json
    assert resp["count"] == 5 and resp["etag"] not in etags, resp
    etags.append(resp["etag"])

    info = backup_call(dev, "GET", "/room_keys/version").json
    assert info["count"] == 5 and info["etag"] == etags[-1], info
    everything = backup_call(dev, "GET", keys_path(), version="1").json
    assert {room: set(v["sessions"]) for room, v in everything["rooms"].items()} == {
        r1: {"s1", "s2"}, r2: {"s3", "s4", "s5"}}, everything
    assert everything["rooms"][r1]["sessions"]["s2"] == session_key(tag="2")
    assert set(backup_call(dev, "GET", keys_path(r1), version="1").json["sessions"]) == \
        {"s1", "s2"}
    assert backup_call(dev, "GET", keys_path(r2, "s4"), version="1").json == session_key(tag="4")
    gone = backup_call(dev, "GET", keys_path(r2, "nope"), version="1", expect=404)
    assert gone.errcode == "M_NOT_FOUND", gone
    assert backup_call(dev, "GET", keys_path("!none:example.org"), version="1").json == \
        {"sessions": {}}

    resp = backup_call(dev, "DELETE", keys_path(r2, "s5"), version="1").json
    assert resp["count"] == 4 and resp["etag"] not in etags, resp
    etags.append(resp["etag"])
    resp = backup_call(dev, "DELETE", keys_path(r2), version="1").json
    assert resp["count"] == 2 and resp["etag"] not in etags, resp
    etags.append(resp["etag"])
    assert set(backup_call(dev, "GET", keys_path(), version="1").json["rooms"]) == {r1}
    resp = backup_call(dev, "DELETE", keys_path(), version="1").json
    assert resp["count"] == 0, resp
    assert backup_call(dev, "GET", keys_path(), version="1").json == {"rooms": {}}

    # Versions: the newest is current; numbers are never given twice.
    assert new_backup_version(dev) == "2"
    assert backup_call(dev, "GET", "/room_keys/version").json["version"] == "2"
    backup_call(dev, "DELETE", "/room_keys/version/2")
    assert backup_call(dev, "GET", "/room_keys/version/2", expect=404).errcode == "M_NOT_FOUND"
    assert backup_call(dev, "GET", keys_path(), version="2", expect=404).errcode == "M_NOT_FOUND"
    assert backup_call(dev, "DELETE", "/room_keys/version/2", expect=404).errcode == \
        "M_NOT_FOUND"
    assert backup_call(dev, "GET", "/room_keys/version").json["version"] == "1"
    assert new_backup_version(dev) == "3"
    backup_call(dev, "DELETE", "/room_keys/version/1")
    backup_call(dev, "DELETE", "/room_keys/version/3")
    assert backup_call(dev, "GET", "/room_keys/version", expect=404).errcode == "M_NOT_FOUND"
    assert new_backup_version(dev) == "4"


def test_key_backup_keys_go_to_the_current_version_only(server):
    dev = new_device(server)
    new_backup_version(dev)
    room = "!room:example.org"
    backup_call(dev, "PUT", keys_path(room, "s1"), session_key(tag="v1"), version="1")
    new_backup_version(dev)
    before = backup_call(dev, "GET", "/room_keys/version/1").json

    for path, body in ((keys_path(room, "s2"), session_key(tag="late")),
                       (keys_path(room), {"sessions": {"s2": session_key(tag="late")}}),
                       (keys_path(), {"rooms": {room: {"sessions": {
                           "s2": session_key(tag="late")}}}})):
        wrong = backup_call(dev, "PUT", path, body, version="1", expect=403)
        assert wrong.errcode == "M_WRONG_ROOM_KEYS_VERSION", wrong
        assert wrong.json.get("current_version") == "2", wrong
        unknown = backup_call(dev, "PUT", path, body, version="99", expect=404)
        assert unknown.errcode == "M_NOT_FOUND", unknown
        assert backup_call(dev, "PUT", path, body, version="abc", expect=404).errcode == \
            "M_NOT_FOUND"
        missing = backup_call(dev, "PUT", path, body, expect=400)
        assert missing.errcode == "M_MISSING_PARAM", missing
    # The old version is still readable and unchanged.
    assert backup_call(dev, "GET", keys_path(), version="1").json == {
        "rooms": {room: {"sessions": {"s1": session_key(tag="v1")}}}}
    assert backup_call(dev, "GET", "/room_keys/version/1").json == before
    assert backup_call(dev, "GET", keys_path(), version="2").json == {"rooms": {}}
    assert backup_call(dev, "GET", keys_path(), version="99", expect=404).errcode == \
        "M_NOT_FOUND"


def test_key_backup_version_updates(server):
    dev = new_device(server)
    new_backup_version(dev, {"public_key": "old"})
    backup_call(dev, "PUT", "/room_keys/version/1",
                {"algorithm": BACKUP_ALG, "auth_data": {"public_key": "new"}, "version": "1"})
    info = backup_call(dev, "GET", "/room_keys/version/1").json
    assert info["auth_data"] == {"public_key": "new"}, info
    refused = [
        ("/room_keys/version/1", {"algorithm": "org.example.other", "auth_data": {}}, 400),
        ("/room_keys/version/1", {"algorithm": BACKUP_ALG, "auth_data": {}, "version": "2"}, 400),
        ("/room_keys/version/1", {"algorithm": BACKUP_ALG, "auth_data": "x"}, 400),
        ("/room_keys/version/1", {"auth_data": {}}, 400),
        ("/room_keys/version/7", {"algorithm": BACKUP_ALG, "auth_data": {}}, 404),
    ]
    for path, body, status in refused:
        backup_call(dev, "PUT", path, body, expect=status)
    assert backup_call(dev, "GET", "/room_keys/version/1").json == info
    for body in ({"auth_data": {}}, {"algorithm": BACKUP_ALG}, {"algorithm": 5, "auth_data": {}}):
        backup_call(dev, "POST", "/room_keys/version", body, expect=400)
    assert backup_call(dev, "GET", "/room_keys/version").json["version"] == "1"


# (stored, uploaded, replaced?)
REPLACEMENT_RULE = [
    ("verified_beats_unverified", session_key(5, 0, False), session_key(10, 3, True), True),
    ("unverified_never_beats_verified", session_key(5, 3, True), session_key(0, 0, False), False),
    ("lower_first_message_index_wins", session_key(5, 0), session_key(3, 9), True),
    ("higher_first_message_index_loses", session_key(3, 0), session_key(5, 0), False),
    ("lower_forwarded_count_wins", session_key(3, 2), session_key(3, 1), True),
    ("higher_forwarded_count_loses", session_key(3, 1), session_key(3, 2), False),
    ("verified_lower_index_wins", session_key(5, 0, True), session_key(2, 0, True), True),
    ("identical_metadata_keeps_the_stored_copy", session_key(3, 1), session_key(3, 1), False),
]


@pytest.mark.parametrize("case,stored,uploaded,replaced", REPLACEMENT_RULE,
                         ids=[c[0] for c in REPLACEMENT_RULE])
def test_key_backup_replacement_rule(server, case, stored, uploaded, replaced):
    dev = new_device(server)
    version = new_backup_version(dev)
    room = "!rule:example.org"
    stored = {**stored, "session_data": {"ciphertext": "stored"}}
    uploaded = {**uploaded, "session_data": {"ciphertext": "uploaded"}}
    first = backup_call(dev, "PUT", keys_path(room, "s"), stored, version=version).json
    second = backup_call(dev, "PUT", keys_path(room), {"sessions": {"s": uploaded}},
                         version=version).json
    assert second["count"] == 1, second
    got = backup_call(dev, "GET", keys_path(room, "s"), version=version).json
    assert got == (uploaded if replaced else stored), got
    assert (second["etag"] != first["etag"]) == replaced, (first, second)
    assert backup_call(dev, "GET", "/room_keys/version").json["etag"] == second["etag"]


BAD_SESSION_KEYS = [
    ("missing_is_verified", {k: v for k, v in session_key().items() if k != "is_verified"}, 400),
    ("negative_first_message_index", {**session_key(), "first_message_index": -1}, 400),
    ("forwarded_count_not_a_number", {**session_key(), "forwarded_count": "1"}, 400),
    ("is_verified_not_a_bool", {**session_key(), "is_verified": 1}, 400),
    ("session_data_not_an_object", {**session_key(), "session_data": "x"}, 400),
    ("session_data_over_16_KiB", {**session_key(), "session_data": {"c": "x" * 17000}}, 413),
    ("not_an_object", ["x"], 400),
]


@pytest.mark.parametrize("case,bad,status", BAD_SESSION_KEYS,
                         ids=[c[0] for c in BAD_SESSION_KEYS])
def test_bad_backup_keys_store_nothing(server, case, bad, status):
    dev = new_device(server)
    version = new_backup_version(dev)
    before = backup_call(dev, "GET", "/room_keys/version").json
    room = "!bad:example.org"
    body = {"rooms": {room: {"sessions": {"good": session_key(), "bad": bad}}}}
    resp = backup_call(dev, "PUT", keys_path(), body, version=version, expect=status)
    assert resp.errcode is not None, resp
    assert backup_call(dev, "GET", keys_path(), version=version).json == {"rooms": {}}
    assert backup_call(dev, "GET", "/room_keys/version").json == before
    if isinstance(bad, dict):
        backup_call(dev, "PUT", keys_path(room, "bad"), bad, version=version, expect=status)
        assert backup_call(dev, "GET", keys_path(), version=version).json == {"rooms": {}}


def test_key_backups_are_private_to_their_user(server):
    alice, bob = new_device(server), new_device(server)
    new_backup_version(alice, {"public_key": "alice"})
    room = "!shared:example.org"
    backup_call(alice, "PUT", keys_path(room, "s"), session_key(tag="alice"), version="1")
    alice_info = backup_call(alice, "GET", "/room_keys/version").json

    # Bob has no backup, and Alice's version 1 does not exist for him.
    assert backup_call(bob, "GET", "/room_keys/version", expect=404).errcode == "M_NOT_FOUND"
    attempts = [
        ("GET", "/room_keys/version/1", None, None),
        ("PUT", "/room_keys/version/1", {"algorithm": BACKUP_ALG, "auth_data": {}}, None),
        ("DELETE", "/room_keys/version/1", None, None),
        ("GET", keys_path(), None, "1"),
        ("GET", keys_path(room), None, "1"),
        ("GET", keys_path(room, "s"), None, "1"),
        ("PUT", keys_path(room, "s"), session_key(0, 0, True, "bob"), "1"),
        ("DELETE", keys_path(), None, "1"),
        ("DELETE", keys_path(room, "s"), None, "1"),
    ]
    for method, path, body, version in attempts:
        resp = backup_call(bob, method, path, body, version=version, expect=404)
        assert resp.errcode == "M_NOT_FOUND", (method, path, resp)
    assert backup_call(alice, "GET", "/room_keys/version").json == alice_info
    assert backup_call(alice, "GET", keys_path(room, "s"), version="1").json == \
        session_key(tag="alice")

    # Bob's own backup: numbered for him, holding only his keys.
    assert new_backup_version(bob, {"public_key": "bob"}) == "1"
    backup_call(bob, "PUT", keys_path(room, "s"), session_key(0, 0, True, "bob"), version="1")
    assert backup_call(bob, "GET", "/room_keys/version").json["auth_data"] == \
        {"public_key": "bob"}
    assert backup_call(bob, "GET", keys_path(room, "s"), version="1").json == \
        session_key(0, 0, True, "bob")
    assert backup_call(alice, "GET", keys_path(room, "s"), version="1").json == \
        session_key(tag="alice")
    assert backup_call(alice, "GET", "/room_keys/version").json == alice_info
    backup_call(bob, "DELETE", "/room_keys/version/1")
    assert backup_call(alice, "GET", "/room_keys/version").json == alice_info


# -- search ---------------------------------------------------------------------------------------


def search_ids(dev, term):
    resp = call(dev.server, "POST", client_path("/search"),
                {"search_categories": {"room_events": {"search_term": term}}}, token=dev.token)
    assert resp.status == 200, resp
    return [r["result"]["event_id"]
            for r in resp.json["search_categories"]["room_events"]["results"]]


def send_text(dev, room, body, txn):
    resp = call(dev.server, "PUT", client_path(f"/rooms/{q(room)}/send/m.room.message/{txn}"),
                {"msgtype": "m.text", "body": body}, token=dev.token)
    assert resp.status == 200, resp
    return resp.json["event_id"]


def test_search_leaves_out_encrypted_rooms(server):
    dev = new_device(server)
    word = "zephyr" + unique_name("w").replace("-", "")
    plain = create_room(server, dev.token)
    encrypted = create_room(server, dev.token, initial_state=[ENCRYPTION_STATE])
    later = create_room(server, dev.token)
    in_plain = send_text(dev, plain, f"{word} in the clear", "p1")
    send_text(dev, encrypted, f"{word} sent in clear in an encrypted room", "e1")
    in_later = send_text(dev, later, f"{word} before encryption", "l1")
    assert set(search_ids(dev, word)) == {in_plain, in_later}

    resp = call(server, "PUT", client_path(f"/rooms/{q(later)}/state/m.room.encryption/"),
                {"algorithm": MEGOLM}, token=dev.token)
    assert resp.status == 200, resp
    send_text(dev, later, f"{word} after encryption", "l2")
    assert search_ids(dev, word) == [in_plain]
