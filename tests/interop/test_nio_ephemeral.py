"""matrix-nio 0.20 against Ruche beyond plain messages: typing and receipts seen by the other
user, unread notification counts, presence, an edit, a reaction, a redaction, a state change and a kick — each observed
through nio's own sync parsing."""
import asyncio

from nio import (PresenceEvent, PresenceGetResponse, ReceiptEvent, RedactedEvent, RedactionEvent,
                 RoomCreateResponse, RoomKickResponse, RoomNameEvent, RoomPutStateResponse,
                 RoomRedactResponse, RoomSendResponse, RoomTypingResponse, SyncResponse,
                 TypingNoticeEvent)

from test_nio_rooms import _user


async def _sync_until(client, since, predicate, rounds=10):
    """Long-polls until predicate(sync_response) is true; returns (response, next_batch)."""
    for _ in range(rounds):
        resp = await client.sync(timeout=3000, since=since)
        assert isinstance(resp, SyncResponse), resp
        since = resp.next_batch
        if predicate(resp):
            return resp, since
    raise AssertionError("condition never seen through nio's sync")


def _ephemeral(resp, room_id, kind):
    room = resp.rooms.join.get(room_id)
    return [e for e in (room.ephemeral if room else []) if isinstance(e, kind)]


def _timeline(resp, room_id):
    room = resp.rooms.join.get(room_id)
    return room.timeline.events if room else []


async def _scenario(server):
    alice, bob = await _user(server), await _user(server)
    try:
        created = await alice.room_create(name="nio ephemeral", invite=[bob.user_id])
        assert isinstance(created, RoomCreateResponse), created
        room = created.room_id
        assert (await bob.join(room)).room_id == room
        a_since = (await alice.sync(timeout=0)).next_batch
        b_since = (await bob.sync(timeout=0)).next_batch

        # Typing: alice types, bob sees it; alice stops, bob sees nobody typing.
        typing = await alice.room_typing(room, True, timeout=20000)
        assert isinstance(typing, RoomTypingResponse), typing
        resp, b_since = await _sync_until(bob, b_since, lambda r: any(
            alice.user_id in e.users for e in _ephemeral(r, room, TypingNoticeEvent)))
        await alice.room_typing(room, False)
        resp, b_since = await _sync_until(bob, b_since, lambda r: any(
            e.users == [] for e in _ephemeral(r, room, TypingNoticeEvent)))

        # Two messages, the second naming bob: nio reads two unread notifications, one
        # highlighted, from bob's sync.
        sent = await alice.room_send(room, "m.room.message", {"msgtype": "m.text", "body": "hi"})
        assert isinstance(sent, RoomSendResponse), sent
        bob_local = bob.user_id.split(":")[0][1:]
        named = await alice.room_send(room, "m.room.message",
                                      {"msgtype": "m.text", "body": f"{bob_local}: see above"})
        assert isinstance(named, RoomSendResponse), named
        resp, b_since = await _sync_until(
            bob, b_since, lambda r: bob.rooms[room].unread_notifications == 2)
        assert bob.rooms[room].unread_highlights == 1

        # Bob's read receipt reaches alice, and clears bob's counts.
        await bob.update_receipt_marker(room, named.event_id)
        resp, a_since = await _sync_until(alice, a_since, lambda r: any(
            rc.user_id == bob.user_id and rc.event_id == named.event_id
            for e in _ephemeral(r, room, ReceiptEvent) for rc in e.receipts))
        resp, b_since = await _sync_until(
            bob, b_since, lambda r: bob.rooms[room].unread_notifications == 0)
        assert bob.rooms[room].unread_highlights == 0

        # Presence: bob syncs, so alice can read him as online.
        presence = await alice.get_presence(bob.user_id)
        assert isinstance(presence, PresenceGetResponse), presence
        assert presence.presence == "online"
        await bob.set_presence("unavailable", "lunch")
        resp, a_since = await _sync_until(alice, a_since, lambda r: any(
            isinstance(e, PresenceEvent) and e.user_id == bob.user_id and
            e.presence == "unavailable" and e.status_msg == "lunch" for e in r.presence_events))

        # An edit and a reaction from alice, a redaction of the reaction, a state change.
        edit = await alice.room_send(room, "m.room.message", {
            "msgtype": "m.text", "body": "* hello", "m.new_content": {"msgtype": "m.text",
                                                                     "body": "hello"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": sent.event_id}})
        assert isinstance(edit, RoomSendResponse), edit
        reaction = await bob.room_send(room, "m.reaction", {"m.relates_to": {
            "rel_type": "m.annotation", "event_id": sent.event_id, "key": "👍"}})
        assert isinstance(reaction, RoomSendResponse), reaction
        redacted = await bob.room_redact(room, reaction.event_id, reason="oops")
        assert isinstance(redacted, RoomRedactResponse), redacted
        renamed = await alice.room_put_state(room, "m.room.name", {"name": "renamed"})
        assert isinstance(renamed, RoomPutStateResponse), renamed
        resp, b_since = await _sync_until(bob, b_since, lambda r: any(
            isinstance(e, RoomNameEvent) and e.name == "renamed" for e in _timeline(r, room)))
        events = (await bob.room_messages(room, start=b_since, limit=20)).chunk
        by_id = {e.event_id: e for e in events}
        assert isinstance(by_id[redacted.event_id], RedactionEvent)
        assert by_id[edit.event_id].source["content"]["m.relates_to"]["rel_type"] == "m.replace"
        gone = by_id[reaction.event_id]
        assert isinstance(gone, RedactedEvent), gone  # nio sees the reaction as redacted
        assert gone.redacter == bob.user_id and gone.reason == "oops"
        assert gone.source["content"] == {}
        original = by_id[sent.event_id].source
        assert original["unsigned"]["m.relations"]["m.replace"]["event_id"] == edit.event_id

        # Alice kicks bob: the room moves to bob's leave section.
        kicked = await alice.room_kick(room, bob.user_id, reason="bye")
        assert isinstance(kicked, RoomKickResponse), kicked
        resp, b_since = await _sync_until(bob, b_since, lambda r: room in r.rooms.leave)
    finally:
        await alice.close()
        await bob.close()


def test_typing_receipts_presence_edit_react_redact_state_kick(server):
    asyncio.run(_scenario(server))
