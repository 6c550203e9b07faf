"""matrix-nio 0.20 uses rooms against Ruche: create with an invite, sync the invite, join, send,
receive through sync, read history with room_messages, leave."""
import asyncio

from nio import (AsyncClient, AsyncClientConfig, InviteMemberEvent, JoinResponse,
                 RoomCreateResponse, RoomMessagesResponse, RoomMessageText, RoomSendResponse,
                 SyncResponse)

from ruche_test import unique_name

CONFIG = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, request_timeout=20)


async def _user(server):
    name = unique_name("nio")
    client = AsyncClient(server.url, name, config=CONFIG)
    reg = await client.register(name, "nio password", device_name="nio rooms")
    assert reg.user_id == server.mxid(name), reg
    client.access_token, client.user_id, client.device_id = (reg.access_token, reg.user_id,
                                                             reg.device_id)
    return client


async def _exchange(server):
    alice, bob = await _user(server), await _user(server)
    try:
        created = await alice.room_create(name="nio room", invite=[bob.user_id])
        assert isinstance(created, RoomCreateResponse), created
        room_id = created.room_id

        first = await bob.sync(timeout=0)
        assert isinstance(first, SyncResponse), first
        assert room_id in first.rooms.invite, first.rooms.invite
        invite_events = first.rooms.invite[room_id].invite_state
        assert any(isinstance(e, InviteMemberEvent) and e.state_key == bob.user_id
                   for e in invite_events), invite_events

        joined = await bob.join(room_id)
        assert isinstance(joined, JoinResponse), joined
        after_join = await bob.sync(timeout=0, since=first.next_batch)
        assert room_id in after_join.rooms.join

        sent = await alice.room_send(room_id, "m.room.message",
                                     {"msgtype": "m.text", "body": "bonjour bob"})
        assert isinstance(sent, RoomSendResponse), sent

        got = await bob.sync(timeout=10000, since=after_join.next_batch)
        events = got.rooms.join[room_id].timeline.events
        texts = [e for e in events if isinstance(e, RoomMessageText)]
        assert [e.body for e in texts] == ["bonjour bob"], events
        assert texts[0].event_id == sent.event_id
        assert texts[0].sender == alice.user_id

        history = await bob.room_messages(room_id, start=got.next_batch, limit=50)
        assert isinstance(history, RoomMessagesResponse), history
        assert "bonjour bob" in [e.body for e in history.chunk if isinstance(e, RoomMessageText)]

        left = await bob.room_leave(room_id)
        assert left.__class__.__name__ == "RoomLeaveResponse", left
    finally:
        await alice.close()
        await bob.close()


def test_create_invite_join_send_receive_history(server):
    asyncio.run(_exchange(server))
