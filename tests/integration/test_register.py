"""POST /register (user-interactive auth), /register/available and registration tokens."""
import pytest

from ruche_test import (call, client_path, login, query, register, run_admin, unique_name,
                        whoami)

V1_VALIDITY = "/_matrix/client/v1/register/m.login.registration_token/validity"


def _stages(uia_body) -> list[list[str]]:
    return [flow["stages"] for flow in uia_body["flows"]]


def test_uia_flow_with_dummy_stage(server):
    name = unique_name()
    first = call(server, "POST", client_path("/register"),
                 {"username": name, "password": "password-1"})
    assert first.status == 401, first
    assert ["m.login.dummy"] in _stages(first.json), first.json
    assert isinstance(first.json["session"], str) and first.json["session"]
    assert isinstance(first.json.get("params"), dict), first.json

    done = call(server, "POST", client_path("/register"), {
        "username": name, "password": "password-1",
        "auth": {"type": "m.login.dummy", "session": first.json["session"]}})
    assert done.status == 200, done
    assert done.json["user_id"] == server.mxid(name)
    assert done.json["access_token"] and done.json["device_id"]
    me = whoami(server, done.json["access_token"])
    assert me.status == 200 and me.json["user_id"] == server.mxid(name), me


def test_single_request_with_dummy_auth_and_no_session(server):
    # What matrix-nio's register() sends.
    name = unique_name()
    resp = call(server, "POST", client_path("/register"), {
        "username": name, "password": "password-1", "auth": {"type": "m.login.dummy"}})
    assert resp.status == 200, resp
    assert resp.json["user_id"] == server.mxid(name)
    login(server, name, "password-1")


def test_unknown_session_is_not_accepted_as_completed(server):
    resp = call(server, "POST", client_path("/register"), {
        "username": unique_name(), "password": "password-1",
        "auth": {"type": "m.login.registration_token", "token": "x", "session": "nope"}})
    assert resp.status in (400, 401), resp
    assert "access_token" not in (resp.json or {})


@pytest.mark.parametrize("version", ["r0", "v3"])
def test_register_and_login_on_r0_and_v3_paths(server, version):
    name = unique_name()
    reg = register(server, name, "password-1", version=version)
    assert reg.json["user_id"] == server.mxid(name)
    log = login(server, name, "password-1", version=version)
    assert whoami(server, log.json["access_token"], version).json["user_id"] == server.mxid(name)


def test_taken_name_is_user_in_use(server):
    name = unique_name()
    register(server, name, "password-1")
    resp = register(server, name, "other-password", expect=None)
    assert resp.status == 400 and resp.json["errcode"] == "M_USER_IN_USE", resp
    login(server, name, "password-1")  # the first registration is untouched
    login(server, name, "other-password", expect=403)


@pytest.mark.parametrize("name", [
    "Alice", "a b", "", "x" * 256, "ren\u00e9e", "\u65e5\u672c", "bad:colon", "@at", "tab\tname",
], ids=["uppercase", "space", "empty", "256-chars", "non-ascii-latin", "non-ascii-cjk", "colon",
        "at-sign", "tab"])
def test_invalid_user_names(server, name):
    resp = call(server, "POST", client_path("/register"), {
        "username": name, "password": "password-1", "auth": {"type": "m.login.dummy"}})
    assert resp.status == 400 and resp.json["errcode"] == "M_INVALID_USERNAME", resp
    # The name did not end up registered in some normalised form either.
    if name:
        assert login(server, name, "password-1", expect=None).status != 200


def test_all_allowed_characters_are_accepted(server):
    name = "a0._=/+-" + unique_name()
    resp = register(server, name, "password-1")
    assert resp.json["user_id"] == server.mxid(name)


def test_guest_registration_is_forbidden(server):
    resp = call(server, "POST", client_path("/register") + "?kind=guest", {})
    assert resp.status == 403 and resp.json["errcode"] == "M_GUEST_ACCESS_FORBIDDEN", resp


def test_inhibit_login_returns_no_token(server):
    name = unique_name()
    resp = register(server, name, "password-1", inhibit_login=True)
    assert resp.json["user_id"] == server.mxid(name)
    assert "access_token" not in resp.json, resp.json
    login(server, name, "password-1")  # the account exists


def test_device_id_and_display_name_are_honoured(server):
    resp = register(server, unique_name(), "password-1", device_id="MYDEVICE",
                    initial_device_display_name="Test phone")
    assert resp.json["device_id"] == "MYDEVICE"
    assert whoami(server, resp.json["access_token"]).json["device_id"] == "MYDEVICE"


def test_register_available(server):
    name = unique_name()
    free = call(server, "GET", query(client_path("/register/available"), username=name))
    assert free.status == 200 and free.json == {"available": True}, free
    register(server, name)
    taken = call(server, "GET", query(client_path("/register/available"), username=name))
    assert taken.status == 400 and taken.json["errcode"] == "M_USER_IN_USE", taken
    bad = call(server, "GET", query(client_path("/register/available"), username="Not Valid"))
    assert bad.status == 400 and bad.json["errcode"] == "M_INVALID_USERNAME", bad
    r0 = call(server, "GET", query(client_path("/register/available", "r0"), username=name))
    assert r0.status == 400 and r0.json["errcode"] == "M_USER_IN_USE", r0


@pytest.mark.parametrize("mode", ["closed", None], ids=["closed", "default-is-closed"])
def test_closed_registration_is_forbidden(start_server, mode):
    srv = start_server(registration=mode)
    for body in ({"username": unique_name(), "password": "password-1"},
                 {"username": unique_name(), "password": "password-1",
                  "auth": {"type": "m.login.dummy"}}):
        resp = call(srv, "POST", client_path("/register"), body)
        assert resp.status == 403 and resp.json["errcode"] == "M_FORBIDDEN", resp


def test_register_rate_limit(start_server):
    srv = start_server(settings={"limits.register_per_ip_burst": 2,
                                 "limits.register_per_ip_per_second": 0.001})
    limited = None
    for _ in range(20):
        resp = call(srv, "POST", client_path("/register"), {
            "username": unique_name(), "password": "password-1", "auth": {"type": "m.login.dummy"}})
        if resp.status == 429:
            limited = resp
            break
        assert resp.status == 200, resp
    assert limited is not None, "20 registrations with register_per_ip_burst=2 never got 429"
    assert limited.json["errcode"] == "M_LIMIT_EXCEEDED", limited
    retry = limited.json["retry_after_ms"]
    assert isinstance(retry, int) and not isinstance(retry, bool) and retry > 0, limited.json
    assert (limited.header("Retry-After") or "").isdigit(), limited.headers


# -- registration tokens -----------------------------------------------------------------------


def _token_register(srv, token, name=None):
    name = name or unique_name()
    first = call(srv, "POST", client_path("/register"),
                 {"username": name, "password": "password-1"})
    assert first.status == 401, first
    resp = call(srv, "POST", client_path("/register"), {
        "username": name, "password": "password-1",
        "auth": {"type": "m.login.registration_token", "token": token,
                 "session": first.json["session"]}})
    return name, resp


def _create_token(data_dir, *extra):
    res = run_admin("create-registration-token", *extra, data_dir=data_dir)
    assert res.returncode == 0, res
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected the token alone on stdout, got {res.stdout!r}"
    token = lines[0].strip()
    assert token and " " not in token
    return token


def _validity(srv, token):
    resp = call(srv, "GET", query(V1_VALIDITY, token=token))
    assert resp.status == 200, resp
    return resp.json["valid"]


def test_token_registration(start_server, workdir):
    data = workdir / "data"
    data.mkdir()
    reusable = _create_token(data)
    single = _create_token(data, "--uses", "1")
    assert reusable != single
    srv = start_server(registration="token", data_dir=data)

    first = call(srv, "POST", client_path("/register"),
                 {"username": unique_name(), "password": "password-1"})
    assert first.status == 401, first
    assert ["m.login.registration_token"] in _stages(first.json), first.json
    assert ["m.login.dummy"] not in _stages(first.json), first.json

    # The dummy stage does not get around the token.
    dummy = call(srv, "POST", client_path("/register"), {
        "username": unique_name(), "password": "password-1",
        "auth": {"type": "m.login.dummy", "session": first.json["session"]}})
    assert dummy.status in (400, 401, 403) and "access_token" not in (dummy.json or {}), dummy

    name, wrong = _token_register(srv, "not-a-real-token")
    assert wrong.status == 401 and "errcode" in wrong.json, wrong
    assert "access_token" not in wrong.json
    assert login(srv, name, "password-1", expect=None).status == 403

    assert _validity(srv, single) is True
    assert _validity(srv, "not-a-real-token") is False

    name, ok = _token_register(srv, single)
    assert ok.status == 200, ok
    assert ok.json["user_id"] == srv.mxid(name)
    login(srv, name, "password-1")

    assert _validity(srv, single) is False
    name2, again = _token_register(srv, single)
    assert again.status in (401, 403) and "errcode" in again.json, again
    assert "access_token" not in again.json
    assert login(srv, name2, "password-1", expect=None).status == 403

    for _ in range(2):
        _, many = _token_register(srv, reusable)
        assert many.status == 200, many
    assert _validity(srv, reusable) is True


def test_short_password_is_weak(server):
    name = unique_name()
    resp = call(server, "POST", client_path("/register"), {
        "username": name, "password": "short", "auth": {"type": "m.login.dummy"}})
    assert resp.status == 400 and resp.json["errcode"] == "M_WEAK_PASSWORD", resp
    free = call(server, "GET", query(client_path("/register/available"), username=name))
    assert free.status == 200, free
