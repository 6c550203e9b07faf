"""matrix-nio 0.20 (with python3-olm) end-to-end encryption against Ruche: the server side of
Matrix E2EE (/keys/upload, /keys/query, /keys/claim, /keys/changes, /sendToDevice, and
device_lists / device_one_time_keys_count / to_device in /sync).

The main test is an encrypted conversation driven by nio exactly as an app would: two users with
encryption-enabled clients upload their keys, talk in an m.megolm room, then the second user
adds a device that must be able to read the next message. The smaller tests check the server's
bookkeeping directly over HTTP, with real olm-signed keys: one-time keys are handed out once
(then the fallback key), keys can be queried without sharing a room, to-device messages are
delivered exactly once, and device_lists follow encrypted-room membership.

nio talks r0 paths and passes the access token as a query parameter. Its sync loop
(sync_forever) runs keys_upload / keys_query after each sync when it needs to; `_sync` below
does the same explicitly so each step's failure shows the server's answer."""
import asyncio
import urllib.parse

from nio import (AsyncClient, AsyncClientConfig, ErrorResponse, JoinResponse,
                 KeysQueryResponse, KeysUploadResponse, LoginResponse, MegolmEvent,
                 RegisterResponse, RoomCreateResponse, RoomMessageText, RoomSendResponse,
                 SyncResponse)
from nio.crypto import ENCRYPTION_ENABLED

from olm_keys import MEGOLM, OlmKeys
from ruche_test import (call, client_path, create_room, login, q, query, register, sync,
                        unique_name)

PASSWORD = "nio e2ee password"
ENCRYPTION_STATE = {"type": "m.room.encryption", "state_key": "",
                    "content": {"algorithm": MEGOLM}}
CONFIG = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, request_timeout=20,
                           encryption_enabled=True, store_sync_tokens=True)
SYNC_ROUNDS = 20          # bounded waits: at most this many long-polls ...
SYNC_TIMEOUT_MS = 1000    # ... of this length each


class TracingClient(AsyncClient):
    """An AsyncClient that remembers the requests it made and the errors it got, so a failed
    assertion says which endpoint the server refused and why."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trace: list[tuple[str, str, int]] = []
        self.errors: list[ErrorResponse] = []

    async def send(self, method, path, data=None, headers=None, trace_context=None,
                   timeout=None):
        resp = await super().send(method, path, data, headers, trace_context, timeout)
        self.trace.append((method, urllib.parse.urlsplit(path).path, resp.status))
        return resp

    async def receive_response(self, response):
        if isinstance(response, ErrorResponse):
            self.errors.append(response)
        await super().receive_response(response)

    def story(self) -> str:
        calls = "\n".join(f"  {m} {p} -> {s}" for m, p, s in self.trace[-15:])
        errors = "\n".join(f"  {e}" for e in self.errors[-10:]) or "  (none)"
        return (f"\nlast requests of {self.user_id}/{self.device_id}:\n{calls}"
                f"\nerrors nio got:\n{errors}")


def _expected_otk_count(client) -> int:
    # nio keeps half of olm's capacity published: 50 signed_curve25519 keys with libolm.
    return client.olm.account.max_one_time_keys // 2


async def _upload_keys(client):
    assert client.should_upload_keys, "a fresh nio device must want to upload its keys"
    resp = await client.keys_upload()
    assert isinstance(resp, KeysUploadResponse), f"keys_upload: {resp}{client.story()}"
    assert resp.signed_curve25519_count == _expected_otk_count(client), (resp, client.story())
    assert not client.should_upload_keys, client.story()


async def _maintain(client):
    """What nio's sync_forever does after each sync."""
    if client.should_upload_keys:
        resp = await client.keys_upload()
        assert isinstance(resp, KeysUploadResponse), f"keys_upload: {resp}{client.story()}"
    if client.should_query_keys:
        resp = await client.keys_query()
        assert isinstance(resp, KeysQueryResponse), f"keys_query: {resp}{client.story()}"


async def _sync(client, since=None, timeout=0):
    resp = await client.sync(timeout=timeout, since=since)
    assert isinstance(resp, SyncResponse), f"sync: {resp}{client.story()}"
    await _maintain(client)
    return resp


async def _sync_until(client, since, predicate, what):
    """Long-polls (bounded) until predicate(response) is true; returns (response, next_batch)."""
    for _ in range(SYNC_ROUNDS):
        resp = await _sync(client, since, timeout=SYNC_TIMEOUT_MS)
        since = resp.next_batch
        if predicate(resp):
            return resp, since
    raise AssertionError(f"{what}: never seen through nio's sync{client.story()}")


def _timeline(resp, room_id):
    room = resp.rooms.join.get(room_id)
    return room.timeline.events if room else []


async def _receive_decrypted(client, since, room_id, event_id, what):
    """Syncs until `event_id` arrives; returns (nio's event for it, next_batch). If it arrives
    before its room key (the key comes by to-device), keeps syncing a bounded while and retries
    the decryption, as an app would."""
    resp, since = await _sync_until(
        client, since, lambda r: any(e.event_id == event_id for e in _timeline(r, room_id)),
        f"{what}: event {event_id}")
    event = next(e for e in _timeline(resp, room_id) if e.event_id == event_id)
    for _ in range(SYNC_ROUNDS):
        if not isinstance(event, MegolmEvent):
            break
        resp = await _sync(client, since, timeout=SYNC_TIMEOUT_MS)
        since = resp.next_batch
        try:
            event = client.decrypt_event(event)
        except Exception:  # nio raises EncryptionError while the session is unknown
            pass
    return event, since


def _raw_event(server, client, room_id, event_id):
    resp = call(server, "GET", client_path(f"/rooms/{q(room_id)}/event/{q(event_id)}"),
                token=client.access_token)
    assert resp.status == 200, resp
    return resp


def _assert_stored_encrypted(raw, sender, secret):
    event = raw.json
    assert event["type"] == "m.room.encrypted", event
    content = event["content"]
    assert content["algorithm"] == MEGOLM, content
    assert content["sender_key"] == sender.olm.account.identity_keys["curve25519"], content
    assert content["device_id"] == sender.device_id, content
    assert isinstance(content["ciphertext"], str) and content["ciphertext"], content
    assert secret.encode() not in raw.body, raw
    return content


async def _registered(server, store_dir):
    name = unique_name("e2ee")
    store_dir.mkdir()
    client = TracingClient(server.url, name, store_path=str(store_dir), config=CONFIG)
    reg = await client.register(name, PASSWORD, device_name="nio e2ee")
    assert isinstance(reg, RegisterResponse), reg
    assert client.olm is not None, "nio did not load its olm store after registering"
    return client


async def _conversation(server, tmp_path):
    alice = await _registered(server, tmp_path / "alice")
    bob = await _registered(server, tmp_path / "bob")
    clients = [alice, bob]
    try:
        # 1. Both devices publish their identity keys and 50 signed one-time keys.
        await _upload_keys(alice)
        await _upload_keys(bob)

        # 2. An encrypted room; bob joins; both see it as encrypted.
        created = await alice.room_create(name="nio e2ee", invite=[bob.user_id],
                                          initial_state=[ENCRYPTION_STATE])
        assert isinstance(created, RoomCreateResponse), created
        room = created.room_id
        b_since = (await _sync(bob)).next_batch
        joined = await bob.join(room)
        assert isinstance(joined, JoinResponse), joined
        _, a_since = await _sync_until(
            alice, None, lambda r: room in alice.rooms and bob.user_id in
            alice.rooms[room].users and not alice.rooms[room].users[bob.user_id].invited,
            "bob's join, seen by alice")
        assert alice.rooms[room].encrypted, "nio does not see the room as encrypted"
        _, b_since = await _sync_until(bob, b_since, lambda r: room in bob.rooms,
                                       "the joined room, seen by bob")
        assert bob.rooms[room].encrypted

        # The key query run after alice's sync (nio tracks the members of encrypted rooms)
        # returned bob's device with the identity keys bob uploaded.
        bob_device = alice.device_store[bob.user_id].get(bob.device_id)
        assert bob_device is not None, f"/keys/query did not return bob's device{alice.story()}"
        assert bob_device.curve25519 == bob.olm.account.identity_keys["curve25519"]
        assert bob_device.ed25519 == bob.olm.account.identity_keys["ed25519"]

        # 3. Alice sends: nio claims a one-time key of bob's device (/keys/claim), starts an Olm
        # session, sends the Megolm key to bob by /sendToDevice, then the encrypted event.
        secret1 = "first secret " + unique_name("s")
        sent1 = await alice.room_send(room, "m.room.message",
                                      {"msgtype": "m.text", "body": secret1},
                                      ignore_unverified_devices=True)
        assert isinstance(sent1, RoomSendResponse), f"{sent1}{alice.story()}"
        outbound = alice.olm.outbound_group_sessions.get(room)
        assert outbound is not None and \
            (bob.user_id, bob.device_id) in outbound.users_shared_with, (
                f"the room key never reached bob's device (/keys/claim or /sendToDevice)"
                f"{alice.story()}")
        session1 = outbound.id
        content1 = _assert_stored_encrypted(_raw_event(server, bob, room, sent1.event_id),
                                            alice, secret1)
        assert content1["session_id"] == session1, content1

        # 4. Bob's sync brings the to-device key and the event; nio decrypts it.
        got, b_since = await _receive_decrypted(bob, b_since, room, sent1.event_id,
                                                "first message, bob")
        assert isinstance(got, RoomMessageText), f"bob could not decrypt: {got}{bob.story()}"
        assert got.body == secret1 and got.sender == alice.user_id, got

        # 5. Bob adds a second device, which publishes its own keys.
        a_before = a_since
        (tmp_path / "bob2").mkdir()
        bob2 = TracingClient(server.url, bob.user_id, store_path=str(tmp_path / "bob2"),
                             config=CONFIG)
        clients.append(bob2)
        logged = await bob2.login(PASSWORD, device_name="nio e2ee second device")
        assert isinstance(logged, LoginResponse), logged
        assert bob2.device_id != bob.device_id
        await _upload_keys(bob2)
        b2_first = await _sync(bob2)
        b2_since = b2_first.next_batch
        assert room in bob2.rooms and bob2.rooms[room].encrypted, bob2.story()
        for event in _timeline(b2_first, room):
            if event.event_id == sent1.event_id:  # sent before bob2 existed: no key for it
                assert isinstance(event, MegolmEvent), event

        # Alice's sync reports that bob's devices changed; nio then wants a key query.
        changed, a_since = await _sync_until(
            alice, a_since, lambda r: bob.user_id in r.device_list.changed,
            "bob in alice's device_lists.changed after bob's new device")
        # _sync ran the key query nio asked for; it must have returned the new device.
        assert bob2.device_id in alice.device_store[bob.user_id], (
            f"/keys/query did not return bob's new device{alice.story()}")
        assert alice.device_store[bob.user_id][bob2.device_id].curve25519 == \
            bob2.olm.account.identity_keys["curve25519"]
        # nio drops the room's outbound Megolm session when a member's devices change, so the
        # next room_send shares a fresh one with every device, bob2 included. No explicit step
        # is needed as long as the app runs keys_query after sync, as sync_forever does.
        assert alice.olm.should_share_group_session(room), alice.story()

        # /keys/changes (not used by nio) agrees with the device_lists of that sync.
        resp = call(server, "GET", query(client_path("/keys/changes"), **{"from": a_before,
                                                                            "to": a_since}),
                    token=alice.access_token)
        assert resp.status == 200, resp
        assert bob.user_id in resp.json["changed"], resp

        secret2 = "second secret " + unique_name("s")
        sent2 = await alice.room_send(room, "m.room.message",
                                      {"msgtype": "m.text", "body": secret2},
                                      ignore_unverified_devices=True)
        assert isinstance(sent2, RoomSendResponse), f"{sent2}{alice.story()}"
        outbound = alice.olm.outbound_group_sessions.get(room)
        assert outbound is not None and {(bob.user_id, bob.device_id), (
            bob.user_id, bob2.device_id)} <= outbound.users_shared_with, (
                f"the new room key did not reach both of bob's devices{alice.story()}")
        assert outbound.id != session1
        content2 = _assert_stored_encrypted(_raw_event(server, bob2, room, sent2.event_id),
                                            alice, secret2)
        assert content2["session_id"] == outbound.id, content2

        got2, b2_since = await _receive_decrypted(bob2, b2_since, room, sent2.event_id,
                                                  "second message, bob's new device")
        assert isinstance(got2, RoomMessageText), f"bob2 could not decrypt: {got2}{bob2.story()}"
        assert got2.body == secret2, got2
        got1, b_since = await _receive_decrypted(bob, b_since, room, sent2.event_id,
                                                 "second message, bob's first device")
        assert isinstance(got1, RoomMessageText), f"bob could not decrypt: {got1}{bob.story()}"
        assert got1.body == secret2, got1

        # The room keys were delivered once: the next syncs bring no more to-device events.
        for client, since in ((bob, b_since), (bob2, b2_since)):
            again = await client.sync(timeout=0, since=since)
            assert isinstance(again, SyncResponse), again
            assert again.to_device_events == [], (client.device_id, again.to_device_events)
    finally:
        for client in clients:
            await client.close()


def test_encrypted_conversation_with_a_second_device(server, tmp_path):
    assert ENCRYPTION_ENABLED, "python3-olm is required for nio's encryption support"
    asyncio.run(_conversation(server, tmp_path))


# -- the server's key and to-device bookkeeping, over HTTP with real olm keys -------------------


def _user_with_device(server):
    """Registers a user; returns (mxid, device_id, access_token)."""
    name = unique_name("keys")
    reg = register(server, name, PASSWORD).json
    return reg["user_id"], reg["device_id"], reg["access_token"]


def _upload(server, token, body):
    resp = call(server, "POST", client_path("/keys/upload"), body, token=token)
    assert resp.status == 200, resp
    return resp.json


def _claim(server, token, user_id, device_id):
    resp = call(server, "POST", client_path("/keys/claim"),
                {"one_time_keys": {user_id: {device_id: "signed_curve25519"}}}, token=token)
    assert resp.status == 200, resp
    assert "failures" in resp.json, resp  # nio rejects a claim answer without it
    return resp.json["one_time_keys"]


def test_one_time_keys_are_claimed_once_then_the_fallback_key(server):
    owner, device, owner_token = _user_with_device(server)
    _, _, claimer_token = _user_with_device(server)
    keys = OlmKeys(owner, device)
    otks = keys.one_time_keys(2)
    fallback = keys.fallback_key()
    uploaded = _upload(server, owner_token, {"device_keys": keys.device_keys(),
                                             "one_time_keys": otks, "fallback_keys": fallback})
    assert uploaded["one_time_key_counts"].get("signed_curve25519") == 2, uploaded
    counts = sync(server, owner_token)["device_one_time_keys_count"]
    assert counts.get("signed_curve25519") == 2, counts

    claimed = []
    for _ in range(2):
        got = _claim(server, claimer_token, owner, device)[owner][device]
        assert len(got) == 1, got
        (key_id, key_object), = got.items()
        assert key_id in otks and key_object == otks[key_id], (key_id, key_object)
        claimed.append(key_id)
    assert claimed[0] != claimed[1], "the same one-time key was handed out twice"
    counts = sync(server, owner_token)["device_one_time_keys_count"]
    assert counts.get("signed_curve25519", 0) == 0, counts

    # One-time keys exhausted: the fallback key, exactly as signed (nio and others verify the
    # signature over the object including "fallback": true), and again on the next claim.
    for _ in range(2):
        got = _claim(server, claimer_token, owner, device)[owner][device]
        assert got == fallback, got


def test_one_time_keys_exhausted_without_fallback(server):
    owner, device, owner_token = _user_with_device(server)
    _, _, claimer_token = _user_with_device(server)
    keys = OlmKeys(owner, device)
    otks = keys.one_time_keys(1)
    _upload(server, owner_token, {"device_keys": keys.device_keys(), "one_time_keys": otks})
    first = _claim(server, claimer_token, owner, device)
    assert first[owner][device] == otks, first
    second = _claim(server, claimer_token, owner, device)
    assert second.get(owner, {}).get(device) in (None, {}), second


def test_keys_query_without_a_shared_room(server):
    stranger, device, stranger_token = _user_with_device(server)
    keys = OlmKeys(stranger, device)
    device_keys = keys.device_keys()
    _upload(server, stranger_token, {"device_keys": device_keys})
    _, _, asker_token = _user_with_device(server)

    for wanted in ([], [device]):  # all devices, then that device by id
        resp = call(server, "POST", client_path("/keys/query"),
                    {"device_keys": {stranger: wanted}}, token=asker_token)
        assert resp.status == 200, resp
        assert "failures" in resp.json, resp  # nio rejects a query answer without it
        got = resp.json["device_keys"][stranger]
        assert list(got) == [device], got
        returned = dict(got[device])
        returned.pop("unsigned", None)  # the server may add the device's display name there
        assert returned == device_keys, returned

    # The r0 path nio uses answers the same way.
    resp = call(server, "POST", client_path("/keys/query", "r0"),
                {"device_keys": {stranger: []}}, token=asker_token)
    assert resp.status == 200 and device in resp.json["device_keys"][stranger], resp


def _to_device_events(body, kind):
    return [e for e in body.get("to_device", {}).get("events", []) if e["type"] == kind]


def _sync_until_to_device(server, token, since, kind, count):
    """Long-polls (bounded) until `count` to-device events of `kind` arrived in one response."""
    for _ in range(SYNC_ROUNDS):
        body = sync(server, token, since, timeout=SYNC_TIMEOUT_MS)
        events = _to_device_events(body, kind)
        if events:
            assert len(events) == count, events
            return body, events
        since = body["next_batch"]
    raise AssertionError(f"no {kind} to-device event arrived")


def test_to_device_messages_are_delivered_exactly_once(server):
    sender, _, sender_token = _user_with_device(server)
    recipient, device, token = _user_with_device(server)
    kind = "org.ruche.test." + unique_name("td")
    s0 = sync(server, token)["next_batch"]

    def put(txn, messages):
        resp = call(server, "PUT", client_path(f"/sendToDevice/{q(kind)}/{txn}"),
                    {"messages": messages}, token=sender_token)
        assert resp.status == 200, resp

    put("t1", {recipient: {device: {"n": 1}}})
    put("t2", {recipient: {device: {"n": 2}}})
    put("t1", {recipient: {device: {"n": 1}}})  # a retried transaction is not a new message

    body, events = _sync_until_to_device(server, token, s0, kind, 2)
    assert [e["content"] for e in events] == [{"n": 1}, {"n": 2}], events  # in order of arrival
    assert all(e["sender"] == sender for e in events), events
    s1 = body["next_batch"]

    # Not acknowledged yet (the client may have lost that response): a retry with the same
    # token gets them again. Acknowledged by syncing from the next token: never again.
    retry = sync(server, token, s0)
    assert [e["content"] for e in _to_device_events(retry, kind)] == [{"n": 1}, {"n": 2}], retry
    after = sync(server, token, s1)
    assert _to_device_events(after, kind) == [], after
    later = sync(server, token, after["next_batch"])
    assert _to_device_events(later, kind) == [], later

    # "*" reaches every device of the user, once each.
    other = login(server, recipient.split(":")[0][1:], PASSWORD).json
    o0 = sync(server, other["access_token"])["next_batch"]
    s2 = later["next_batch"]
    put("t3", {recipient: {"*": {"n": 3}}})
    for tok, since in ((token, s2), (other["access_token"], o0)):
        body, events = _sync_until_to_device(server, tok, since, kind, 1)
        assert events[0]["content"] == {"n": 3}, events
        assert _to_device_events(sync(server, tok, body["next_batch"]), kind) == []


def test_device_lists_follow_encrypted_room_membership(server):
    owner, _, owner_token = _user_with_device(server)
    member, member_device, member_token = _user_with_device(server)
    keys = OlmKeys(member, member_device)
    _upload(server, member_token, {"device_keys": keys.device_keys()})
    room = create_room(server, owner_token, invite=[member], initial_state=[ENCRYPTION_STATE])
    since = sync(server, owner_token)["next_batch"]

    resp = call(server, "POST", client_path(f"/rooms/{q(room)}/join"), {}, token=member_token)
    assert resp.status == 200, resp
    for _ in range(SYNC_ROUNDS):
        body = sync(server, owner_token, since, timeout=SYNC_TIMEOUT_MS)
        since = body["next_batch"]
        if member in body.get("device_lists", {}).get("changed", []):
            break
    else:
        raise AssertionError("a user joining an encrypted room is not in device_lists.changed")

    resp = call(server, "POST", client_path(f"/rooms/{q(room)}/leave"), {}, token=member_token)
    assert resp.status == 200, resp
    for _ in range(SYNC_ROUNDS):
        body = sync(server, owner_token, since, timeout=SYNC_TIMEOUT_MS)
        since = body["next_batch"]
        if member in body.get("device_lists", {}).get("left", []):
            break
    else:
        raise AssertionError("a user leaving the only shared encrypted room is not in "
                             "device_lists.left")
