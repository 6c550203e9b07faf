"""Malformed and oversized JSON bodies, unknown endpoints and wrong methods (docs/api.md)."""
import json

import pytest

from ruche_test import (call, client_path, http_request_bytes, raw_exchange, shared_or_fail,
                        unique_name)

LOGIN = client_path("/login")
REGISTER = client_path("/register")


@pytest.mark.parametrize("body", [
    b"{not json",
    b'{"type": "m.login.password", ',
    b"",
    b"\x00\x01\x02",
    b'{"a": 1} trailing',
], ids=["garbage", "truncated", "empty", "binary", "trailing-bytes"])
@pytest.mark.parametrize("path", [LOGIN, REGISTER])
def test_not_json(server, path, body):
    resp = call(server, "POST", path, raw_body=body, headers={"Content-Type": "application/json"})
    assert resp.status == 400 and resp.json["errcode"] == "M_NOT_JSON", resp


@pytest.mark.parametrize("body", [
    b'{"type": "m.login.password", "user": "\xff\xfe", "password": "x"}',
    b'{"type": "m.login.password", "user": "a\xc3", "password": "x"}',
    b'{"type": "m.login.password", "user": "\xed\xa0\x80", "password": "x"}',  # UTF-16 surrogate
    b'{"type": "m.login.password", "user": "\xc0\xaf", "password": "x"}',      # overlong '/'
], ids=["ff-fe", "truncated-sequence", "surrogate", "overlong"])
def test_invalid_utf8_is_not_json(server, body):
    resp = call(server, "POST", LOGIN, raw_body=body)
    assert resp.status == 400 and resp.json["errcode"] == "M_NOT_JSON", resp


@pytest.mark.parametrize("body", [
    [],
    [{"type": "m.login.password"}],
    "a string",
    42,
    None,
    {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": 5}, "password": "x"},
    {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "a"}, "password": 5},
    {"type": "m.login.password", "identifier": "alice", "password": "x"},
    {"type": "m.login.password", "user": ["alice"], "password": "x"},
    {"type": 7, "user": "alice", "password": "x"},
    {"type": "m.login.password", "user": "alice"},
], ids=["array", "array-of-object", "string", "number", "null", "user-int", "password-int",
        "identifier-string", "user-array", "type-int", "no-password"])
def test_wrong_shape_on_login_is_bad_json(server, body):
    resp = call(server, "POST", LOGIN, raw_body=json.dumps(body).encode())
    assert resp.status == 400 and resp.json["errcode"] == "M_BAD_JSON", resp


@pytest.mark.parametrize("body", [
    [],
    {"username": 5, "password": "long-enough-1", "auth": {"type": "m.login.dummy"}},
    {"username": unique_name(), "password": ["x"], "auth": {"type": "m.login.dummy"}},
    {"username": unique_name(), "password": "long-enough-1", "auth": "m.login.dummy"},
    {"username": unique_name(), "password": "long-enough-1", "inhibit_login": "yes",
     "auth": {"type": "m.login.dummy"}},
], ids=["array", "username-int", "password-array", "auth-string", "inhibit-login-string"])
def test_wrong_shape_on_register_is_bad_json(server, body):
    resp = call(server, "POST", REGISTER, raw_body=json.dumps(body).encode())
    assert resp.status == 400 and resp.json["errcode"] == "M_BAD_JSON", resp


def test_deeply_nested_json_is_rejected_not_crashing(server):
    body = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    resp = call(server, "POST", LOGIN, raw_body=body)
    assert resp.status == 400 and resp.json["errcode"] in ("M_NOT_JSON", "M_BAD_JSON"), resp
    assert call(server, "GET", "/healthz").status == 200


@pytest.fixture
def small_body_server(module_servers):
    with shared_or_fail(module_servers, "small-body",
                        settings={"http.body_limit_bytes": 4096}) as srv:
        yield srv


def _login_body_of_size(size: int) -> bytes:
    head = b'{"type": "m.login.password", "user": "x", "password": "'
    tail = b'"}'
    return head + b"p" * (size - len(head) - len(tail)) + tail


def test_body_over_limit_is_too_large(small_body_server):
    resp = call(small_body_server, "POST", LOGIN, raw_body=_login_body_of_size(5000))
    assert resp.status == 413 and resp.json["errcode"] == "M_TOO_LARGE", resp


def test_body_at_limit_is_processed(small_body_server):
    resp = call(small_body_server, "POST", LOGIN, raw_body=_login_body_of_size(4096))
    assert resp.status == 403 and resp.json["errcode"] == "M_FORBIDDEN", resp


def test_declared_length_over_limit_is_rejected_before_the_body(small_body_server):
    # Content-Length says 10 MB but nothing follows: the server answers from the header alone.
    req = http_request_bytes("POST", LOGIN, headers={"Content-Length": str(10 * 1024 * 1024),
                                                     "Content-Type": "application/json"})
    resp = raw_exchange(small_body_server, req)
    assert resp is not None, "connection closed without a response"
    assert resp.status == 413 and resp.json["errcode"] == "M_TOO_LARGE", resp


def test_body_over_the_default_limit_is_too_large(server):
    # Default http.body_limit_bytes is 1 MiB; a 1.5 MiB JSON body must get the JSON 413.
    req = http_request_bytes("POST", LOGIN, headers={"Content-Type": "application/json"},
                             body=_login_body_of_size(1536 * 1024))
    resp = raw_exchange(server, req)
    assert resp is not None, "connection closed (or reset) without a readable response"
    assert resp.status == 413 and resp.json["errcode"] == "M_TOO_LARGE", resp


def test_chunked_body_over_limit_is_too_large(small_body_server):
    body = _login_body_of_size(8000)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 1000]), body[i:i + 1000])
                      for i in range(0, len(body), 1000)) + b"0\r\n\r\n"
    req = http_request_bytes("POST", LOGIN, headers={"Transfer-Encoding": "chunked",
                                                     "Content-Type": "application/json"},
                             body=chunks)
    resp = raw_exchange(small_body_server, req)
    assert resp is not None, "connection closed without a response"
    assert resp.status == 413 and resp.json["errcode"] == "M_TOO_LARGE", resp


def test_chunked_body_under_limit_is_processed(small_body_server):
    body = _login_body_of_size(1500)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 500]), body[i:i + 500])
                      for i in range(0, len(body), 500)) + b"0\r\n\r\n"
    req = http_request_bytes("POST", LOGIN, headers={"Transfer-Encoding": "chunked",
                                                     "Content-Type": "application/json"},
                             body=chunks)
    resp = raw_exchange(small_body_server, req)
    assert resp is not None and resp.status == 403, resp


@pytest.mark.parametrize("path", [
    "/_matrix/client/v3/does_not_exist",
    "/_matrix/client/r0/does/not/exist",
    "/_matrix/federation/v1/version_nope",
    "/_ruche/v1/nothing_here",
])
def test_unknown_endpoint(server, path):
    resp = call(server, "GET", path)
    assert resp.status == 404 and resp.json["errcode"] == "M_UNRECOGNIZED", resp


@pytest.mark.parametrize("method,path", [
    ("DELETE", LOGIN),
    ("PUT", client_path("/account/whoami")),
    ("GET", client_path("/logout")),
    ("GET", client_path("/register")),
    ("POST", "/_matrix/client/versions"),
])
def test_wrong_method_on_known_path(server, method, path):
    resp = call(server, method, path, raw_body=b"{}" if method in ("PUT", "POST") else None)
    assert resp.status == 405 and resp.json["errcode"] == "M_UNRECOGNIZED", resp


def test_method_not_allowed_lists_allowed_methods(server):
    # RFC 9110 §15.5.6: a 405 response MUST carry an Allow header.
    resp = call(server, "DELETE", LOGIN)
    assert resp.status == 405, resp
    allowed = {m.strip().upper() for m in (resp.header("Allow") or "").split(",")}
    assert {"GET", "POST"} <= allowed, resp.headers
