"""matrix-nio 0.20 registers, logs in, asks whoami and logs out against Ruche."""
import asyncio

from nio import (AsyncClient, AsyncClientConfig, LoginError, LoginResponse, LogoutResponse,
                 RegisterResponse)
from nio.responses import (DiscoveryInfoResponse, LoginInfoResponse, RegisterErrorResponse,
                           WhoamiError, WhoamiResponse)

from ruche_test import unique_name

# No automatic retries: a 429 or a timeout must surface as a result, not as a hang.
CONFIG = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, request_timeout=20)


def _client(server, user=""):
    return AsyncClient(server.url, user, config=CONFIG)


async def _full_flow(server):
    name = unique_name("nio")
    mxid = server.mxid(name)
    client = _client(server)
    try:
        reg = await client.register(name, "nio password", device_name="nio test")
        assert isinstance(reg, RegisterResponse), reg
        assert reg.user_id == mxid
    finally:
        await client.close()

    client = _client(server, name)
    try:
        resp = await client.login("nio password", device_name="nio test")
        assert isinstance(resp, LoginResponse), resp
        assert resp.user_id == mxid and resp.access_token and resp.device_id
        assert client.logged_in

        me = await client.whoami()
        assert isinstance(me, WhoamiResponse), me
        assert me.user_id == mxid

        old_token = client.access_token
        out = await client.logout()
        assert isinstance(out, LogoutResponse), out

        client.access_token = old_token  # nio forgets it on logout; reuse it on purpose
        after = await client.whoami()
        assert isinstance(after, WhoamiError), after
        assert after.status_code == "M_UNKNOWN_TOKEN", after
    finally:
        await client.close()


def test_register_login_whoami_logout(server):
    asyncio.run(_full_flow(server))


async def _wrong_password(server):
    name = unique_name("nio")
    client = _client(server)
    try:
        assert isinstance(await client.register(name, "right-password"), RegisterResponse)
    finally:
        await client.close()
    client = _client(server, name)
    try:
        resp = await client.login("wrong-password")
        assert isinstance(resp, LoginError), resp
        assert resp.status_code == "M_FORBIDDEN", resp
        assert not client.logged_in
    finally:
        await client.close()


def test_wrong_password_is_a_login_error(server):
    asyncio.run(_wrong_password(server))


async def _taken_name(server):
    name = unique_name("nio")
    client = _client(server)
    try:
        assert isinstance(await client.register(name, "password-1"), RegisterResponse)
        again = await client.register(name, "password-1")
        assert isinstance(again, RegisterErrorResponse), again
        assert again.status_code == "M_USER_IN_USE", again
    finally:
        await client.close()


def test_registering_a_taken_name_fails(server):
    asyncio.run(_taken_name(server))


async def _discovery(server):
    client = _client(server)
    try:
        info = await client.login_info()
        assert isinstance(info, LoginInfoResponse), info
        assert "m.login.password" in info.flows
        disc = await client.discovery_info()
        assert isinstance(disc, DiscoveryInfoResponse), disc
        assert disc.homeserver_url.rstrip("/") == server.url
    finally:
        await client.close()


def test_login_info_and_discovery(server):
    asyncio.run(_discovery(server))


async def _logout_all(server):
    name = unique_name("nio")
    first, second = _client(server, name), _client(server, name)
    try:
        assert isinstance(await first.register(name, "password-1"), RegisterResponse)
        assert isinstance(await first.login("password-1"), LoginResponse)
        assert isinstance(await second.login("password-1"), LoginResponse)
        second_token = second.access_token
        assert isinstance(await first.logout(all_devices=True), LogoutResponse)
        after = await second.whoami()
        assert isinstance(after, WhoamiError) and after.status_code == "M_UNKNOWN_TOKEN", after
        assert second.access_token == second_token
    finally:
        await first.close()
        await second.close()


def test_logout_all_devices(server):
    asyncio.run(_logout_all(server))
