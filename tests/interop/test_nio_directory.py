"""matrix-nio 0.20 against Ruche's aliases, room directory and search: room_create(alias=...),
room_resolve_alias, join by alias, room_put_alias/room_delete_alias; /search,
/user_directory/search and /hierarchy through nio's raw `send` (nio has no methods for them)."""
import asyncio
import json
import urllib.parse

from nio import (AsyncClient, AsyncClientConfig, JoinResponse, RoomCreateResponse,
                 RoomDeleteAliasResponse, RoomPutAliasResponse, RoomResolveAliasError,
                 RoomResolveAliasResponse, RoomSendResponse, RoomVisibility)

from ruche_test import unique_name

CONFIG = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, request_timeout=20)


async def _user(server):
    name = unique_name("nio")
    client = AsyncClient(server.url, name, config=CONFIG)
    reg = await client.register(name, "nio password", device_name="nio directory")
    assert reg.user_id == server.mxid(name), reg
    client.access_token, client.user_id, client.device_id = (reg.access_token, reg.user_id,
                                                             reg.device_id)
    return client


async def _raw(client, method, path, body=None):
    headers = {"Authorization": f"Bearer {client.access_token}",
               "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body)
    resp = await client.send(method, path, data, headers)
    return resp.status, await resp.json()


async def _scenario(server):
    alice, bob = await _user(server), await _user(server)
    try:
        local = unique_name("nio-room")
        alias = f"#{local}:{server.server_name}"
        created = await alice.room_create(alias=local, name="nio directory room",
                                          visibility=RoomVisibility.public)
        assert isinstance(created, RoomCreateResponse), created
        room_id = created.room_id

        resolved = await bob.room_resolve_alias(alias)
        assert isinstance(resolved, RoomResolveAliasResponse), resolved
        assert resolved.room_id == room_id and resolved.servers == [server.server_name]
        missing = await bob.room_resolve_alias(f"#nope-{local}:{server.server_name}")
        assert isinstance(missing, RoomResolveAliasError), missing

        joined = await bob.join(alias)
        assert isinstance(joined, JoinResponse), joined
        assert joined.room_id == room_id

        extra = f"#{local}-extra:{server.server_name}"
        put = await bob.room_put_alias(extra, room_id)
        assert isinstance(put, RoomPutAliasResponse), put
        again = await alice.room_put_alias(extra, room_id)
        # nio 0.20 builds a RoomPutAliasResponse whatever the status: check the HTTP answer.
        assert again.transport_response.status == 409, again
        deleted = await bob.room_delete_alias(extra)
        assert isinstance(deleted, RoomDeleteAliasResponse), deleted

        sent = await alice.room_send(room_id, "m.room.message",
                                     {"msgtype": "m.text", "body": "the hedgehog protocol"})
        assert isinstance(sent, RoomSendResponse), sent
        status, body = await _raw(bob, "POST", "/_matrix/client/r0/search", {
            "search_categories": {"room_events": {"search_term": "hedgehog"}}})
        assert status == 200, body
        results = body["search_categories"]["room_events"]["results"]
        assert [r["result"]["event_id"] for r in results] == [sent.event_id]

        status, body = await _raw(bob, "POST", "/_matrix/client/v3/publicRooms",
                                  {"filter": {"generic_search_term": local}})
        assert status == 200, body
        assert [r["room_id"] for r in body["chunk"]] == [room_id]

        status, body = await _raw(bob, "POST", "/_matrix/client/r0/user_directory/search",
                                  {"search_term": alice.user_id})
        assert status == 200, body
        assert [r["user_id"] for r in body["results"]] == [alice.user_id]

        space = await alice.room_create(space=True, name="nio space",
                                        visibility=RoomVisibility.public)
        assert isinstance(space, RoomCreateResponse), space
        state = await alice.room_put_state(space.room_id, "m.space.child",
                                           {"via": [server.server_name]}, state_key=room_id)
        assert state.__class__.__name__ == "RoomPutStateResponse", state
        path = "/_matrix/client/v1/rooms/" + urllib.parse.quote(space.room_id) + "/hierarchy"
        status, body = await _raw(bob, "GET", path)
        assert status == 200, body
        assert [r["room_id"] for r in body["rooms"]] == [space.room_id, room_id]
    finally:
        await alice.close()
        await bob.close()


def test_aliases_directory_and_search(server):
    asyncio.run(_scenario(server))
