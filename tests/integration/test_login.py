"""/login, /logout, /logout/all and /account/whoami (docs/api.md)."""
import pytest

from ruche_test import (call, client_path, login, new_user, query, register, unique_name,
                        whoami)


def test_login_flows(server):
    resp = call(server, "GET", client_path("/login"))
    assert resp.status == 200, resp
    assert {"type": "m.login.password"} in resp.json["flows"], resp.json


@pytest.mark.parametrize("form", ["localpart", "mxid", "legacy-user", "legacy-user-mxid"])
def test_password_login_forms(server, form):
    name, _ = new_user(server, "s3cret-password")
    mxid = server.mxid(name)
    if form == "localpart":
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": name},
                "password": "s3cret-password"}
    elif form == "mxid":
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": mxid},
                "password": "s3cret-password"}
    elif form == "legacy-user":
        body = {"type": "m.login.password", "user": name, "password": "s3cret-password"}
    else:
        body = {"type": "m.login.password", "user": mxid, "password": "s3cret-password"}
    resp = call(server, "POST", client_path("/login"), body)
    assert resp.status == 200, resp
    assert resp.json["user_id"] == mxid
    assert resp.json["home_server"] == server.server_name
    assert resp.json["access_token"] and resp.json["device_id"]
    me = whoami(server, resp.json["access_token"])
    assert me.status == 200, me
    assert me.json == {"user_id": mxid, "device_id": resp.json["device_id"], "is_guest": False}


def test_each_login_is_a_new_device_and_token(server):
    name, reg_token = new_user(server)
    a = login(server, name).json
    b = login(server, name).json
    assert len({reg_token, a["access_token"], b["access_token"]}) == 3
    assert a["device_id"] != b["device_id"]


def test_login_honours_device_id(server):
    name, _ = new_user(server)
    resp = login(server, name, device_id="LAPTOP1", initial_device_display_name="Laptop")
    assert resp.json["device_id"] == "LAPTOP1"
    assert whoami(server, resp.json["access_token"]).json["device_id"] == "LAPTOP1"


def test_login_with_a_full_mxid_of_another_server_fails(server):
    name, _ = new_user(server)
    resp = login(server, f"@{name}:elsewhere.example", expect=None)
    assert resp.status in (400, 403), resp
    assert "access_token" not in (resp.json or {})


def test_wrong_password_and_unknown_user_look_the_same(server):
    name, _ = new_user(server, "right-password")
    wrong = login(server, name, "wrong-password", expect=None)
    assert wrong.status == 403 and wrong.json["errcode"] == "M_FORBIDDEN", wrong
    unknown = login(server, unique_name("ghost"), "wrong-password", expect=None)
    assert unknown.status == 403 and unknown.json["errcode"] == "M_FORBIDDEN", unknown
    # No user enumeration through the message either.
    assert wrong.json.get("error") == unknown.json.get("error"), (wrong.json, unknown.json)


def test_password_is_not_truncated_or_case_folded(server):
    name, _ = new_user(server, "CaseSensitive-Password")
    assert login(server, name, "casesensitive-password", expect=None).status == 403
    assert login(server, name, "CaseSensitive-Passwor", expect=None).status == 403
    assert login(server, name, "CaseSensitive-Password\u0000", expect=None).status == 403
    login(server, name, "CaseSensitive-Password")


def test_whoami_needs_a_token(server):
    resp = whoami(server, None)
    assert resp.status == 401 and resp.json["errcode"] == "M_MISSING_TOKEN", resp


def test_unknown_token(server):
    resp = whoami(server, "syt_not_a_token_at_all")
    assert resp.status == 401 and resp.json["errcode"] == "M_UNKNOWN_TOKEN", resp


def test_access_token_query_parameter(server):
    name, token = new_user(server)
    resp = call(server, "GET", query(client_path("/account/whoami"), access_token=token))
    assert resp.status == 200 and resp.json["user_id"] == server.mxid(name), resp
    bad = call(server, "GET", query(client_path("/account/whoami"), access_token="nope"))
    assert bad.status == 401 and bad.json["errcode"] == "M_UNKNOWN_TOKEN", bad


def test_logout_ends_the_token(server):
    name, _ = new_user(server)
    first = login(server, name).json["access_token"]
    second = login(server, name).json["access_token"]
    out = call(server, "POST", client_path("/logout"), {}, token=first)
    assert out.status == 200, out
    after = whoami(server, first)
    assert after.status == 401 and after.json["errcode"] == "M_UNKNOWN_TOKEN", after
    assert after.json.get("soft_logout", False) is False, after.json
    # Logging out again with the dead token is also M_UNKNOWN_TOKEN.
    again = call(server, "POST", client_path("/logout"), {}, token=first)
    assert again.status == 401 and again.json["errcode"] == "M_UNKNOWN_TOKEN", again
    assert whoami(server, second).status == 200  # other sessions live on


def test_logout_without_body(server):
    _, token = new_user(server)
    out = call(server, "POST", client_path("/logout"), token=token)
    assert out.status == 200, out
    assert whoami(server, token).status == 401


def test_logout_all_ends_every_token_of_that_user_only(server):
    name, reg_token = new_user(server)
    tokens = [reg_token] + [login(server, name).json["access_token"] for _ in range(2)]
    _, other_token = new_user(server)
    out = call(server, "POST", client_path("/logout/all"), {}, token=tokens[1])
    assert out.status == 200, out
    for t in tokens:
        resp = whoami(server, t)
        assert resp.status == 401 and resp.json["errcode"] == "M_UNKNOWN_TOKEN", resp
    assert whoami(server, other_token).status == 200
    login(server, name)  # the account itself still works


def test_logout_needs_a_token(server):
    resp = call(server, "POST", client_path("/logout"), {})
    assert resp.status == 401 and resp.json["errcode"] == "M_MISSING_TOKEN", resp
    resp = call(server, "POST", client_path("/logout/all"), {})
    assert resp.status == 401 and resp.json["errcode"] == "M_MISSING_TOKEN", resp


def test_r0_logout(server):
    _, token = new_user(server)
    assert call(server, "POST", client_path("/logout", "r0"), {}, token=token).status == 200
    assert whoami(server, token, "r0").status == 401


def _first_429(srv, attempts):
    for i, attempt in enumerate(attempts):
        resp = attempt()
        if resp.status == 429:
            return i, resp
    return None, None


def _assert_limit_exceeded(resp):
    assert resp.json["errcode"] == "M_LIMIT_EXCEEDED", resp
    retry = resp.json["retry_after_ms"]
    assert isinstance(retry, int) and not isinstance(retry, bool) and retry > 0, resp.json
    assert (resp.header("Retry-After") or "").isdigit(), resp.headers


def test_login_rate_limit_per_ip(start_server):
    srv = start_server(settings={"limits.login_per_ip_burst": 3,
                                 "limits.login_per_ip_per_second": 0.001})
    name = unique_name()
    register(srv, name, "password-1")
    index, limited = _first_429(srv, [lambda: login(srv, name, "password-1", expect=None)] * 20)
    assert limited is not None, "20 logins with login_per_ip_burst=3 never got 429"
    assert index >= 1, "the very first login was already rate limited"
    _assert_limit_exceeded(limited)


def test_login_failures_are_limited_per_user(start_server):
    srv = start_server(settings={"limits.login_failures_per_user_burst": 2,
                                 "limits.login_failures_per_user_per_second": 0.001})
    victim, bystander = unique_name(), unique_name()
    register(srv, victim, "password-1")
    register(srv, bystander, "password-1")
    _, limited = _first_429(srv, [lambda: login(srv, victim, "wrong-password", expect=None)] * 20)
    assert limited is not None, "20 wrong passwords with failures burst=2 never got 429"
    _assert_limit_exceeded(limited)
    # The limit is on the user, not on the IP: another user from the same address logs in.
    login(srv, bystander, "password-1")
