"""HTTP/1.1 on the wire: keep-alive, pipelining, malformed requests, header limits and the
timeouts that protect the server from slow or idle clients (http.* config keys)."""
import socket
import time

import pytest

from ruche_test import (ConnectionClosed, call, client_path, http_request_bytes, raw_exchange)

# Upper bound for "the server eventually closes": generous, so a loaded machine does not fail
# the test; the assertion is that the close happens, not how fast.
CLOSE_BOUND_S = 10.0


def _healthy(srv) -> bool:
    return call(srv, "GET", "/healthz").status == 200


def test_two_requests_on_one_http_client_connection(server):
    conn = server.connection()
    try:
        first = call(server, "GET", "/_matrix/client/versions", conn=conn)
        sock = conn.sock
        assert sock is not None, "server closed the connection after the first response"
        second = call(server, "GET", "/healthz", conn=conn)
        assert first.status == 200 and second.status == 200
        assert conn.sock is sock, "http.client had to reconnect: the connection was not kept"
    finally:
        conn.close()


def test_keep_alive_on_a_raw_socket(server):
    with server.raw() as c:
        for path in ("/healthz", "/_matrix/client/versions", "/healthz"):
            c.send(http_request_bytes("GET", path))
            resp = c.read_response()
            assert resp.status == 200, (path, resp)
            assert "close" not in (resp.header("Connection") or "").lower()


def test_pipelined_requests_are_answered_in_order(server):
    with server.raw() as c:
        c.send(http_request_bytes("GET", "/_matrix/client/versions")
               + http_request_bytes("GET", "/_matrix/client/v3/nope")
               + http_request_bytes("GET", "/healthz"))
        first, second, third = c.read_response(), c.read_response(), c.read_response()
    assert first.status == 200 and "versions" in first.json, first
    assert second.status == 404, second
    assert third.status == 200, third


def test_http_1_0_connection_is_closed_after_the_response(server):
    with server.raw() as c:
        c.send(b"GET /healthz HTTP/1.0\r\n\r\n")
        resp = c.read_response()
        assert resp.status == 200, resp
        closed, extra = c.wait_closed(CLOSE_BOUND_S)
        assert closed and extra == b"", extra


def test_connection_close_is_honoured(server):
    with server.raw() as c:
        c.send(http_request_bytes("GET", "/healthz", headers={"Connection": "close"}))
        assert c.read_response().status == 200
        closed, extra = c.wait_closed(CLOSE_BOUND_S)
        assert closed and extra == b""


def test_garbage_request_line_gets_400_and_the_server_keeps_serving(server):
    resp = raw_exchange(server, b"GARBAGE\r\n\r\n")
    assert resp is not None, "server closed without answering"
    assert resp.status == 400, resp
    assert _healthy(server)


@pytest.mark.parametrize("data", [
    # RFC 9112 §6.3: an invalid Content-Length MUST get 400 (then the connection is closed).
    b"POST /_matrix/client/v3/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
    b"POST /_matrix/client/v3/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
    b"Content-Length: 3\r\n\r\n{}",
    # RFC 9112 §5.1: whitespace between field name and colon MUST get 400.
    b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
], ids=["content-length-not-a-number", "conflicting-content-lengths", "space-before-colon"])
def test_requests_the_rfc_says_must_get_400(server, data):
    resp = raw_exchange(server, data)
    assert resp is not None, "server closed without answering"
    assert resp.status == 400, resp
    assert _healthy(server)


@pytest.mark.parametrize("data", [
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
    b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked, bogus\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n",  # TLS hello
], ids=["header-without-colon", "four-part-request-line", "method-only",
        "chunked-not-final", "tls-client-hello"])
def test_other_malformed_requests_get_400_or_a_close(server, data):
    resp = raw_exchange(server, data)
    if resp is not None:
        assert resp.status in (400, 501), resp
    assert _healthy(server)


def test_header_block_under_the_limit_is_served(start_server):
    srv = start_server(settings={"http.header_limit_bytes": 4096})
    req = http_request_bytes("GET", "/healthz", headers={"X-Padding": "a" * 2000})
    resp = raw_exchange(srv, req)
    assert resp is not None and resp.status == 200, resp


@pytest.mark.parametrize("shape", ["one-big-header", "many-headers", "long-target"])
def test_header_block_over_the_limit(start_server, shape):
    srv = start_server(settings={"http.header_limit_bytes": 4096})
    if shape == "one-big-header":
        req = http_request_bytes("GET", "/healthz", headers={"X-Padding": "a" * 8000})
    elif shape == "many-headers":
        req = http_request_bytes("GET", "/healthz",
                                 headers={f"X-H{i}": "b" * 40 for i in range(200)})
    else:
        req = http_request_bytes("GET", "/healthz?q=" + "c" * 8000)
    resp = raw_exchange(srv, req)
    # The server may answer 431 or just close; whatever arrives must be the 431.
    if resp is not None:
        assert resp.status == 431, resp
    assert _healthy(srv)


def test_default_header_limit_applies(server):
    req = http_request_bytes("GET", "/healthz", headers={"X-Padding": "a" * 40000})
    resp = raw_exchange(server, req)
    if resp is not None:
        assert resp.status == 431, resp
    assert _healthy(server)


def _trickle_until_closed(conn, first: bytes, trickle: bytes, bound_s: float) -> bool:
    """Sends `first`, then one byte of `trickle` every 200 ms until the server closes the
    connection (True) or `bound_s` passes (False)."""
    conn.send(first)
    deadline = time.monotonic() + bound_s
    i = 0
    while time.monotonic() < deadline:
        closed, _ = conn.wait_closed(0.2)
        if closed:
            return True
        try:
            conn.send(trickle[i % len(trickle):i % len(trickle) + 1])
        except (BrokenPipeError, ConnectionResetError):
            return True
        i += 1
    return False


def test_slowloris_headers_are_cut_off(start_server):
    # Bytes keep arriving every 200 ms, so only a deadline on the whole header block (500 ms)
    # can close this connection; the idle timeout is set far away so it cannot be the cause.
    srv = start_server(settings={"http.header_timeout_ms": 500, "http.idle_timeout_ms": 600000})
    with srv.raw() as c:
        closed = _trickle_until_closed(c, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ",
                                       b"abcdefghij", CLOSE_BOUND_S)
    assert closed, "a header block trickling in for 10 s was never cut off (header_timeout 500 ms)"
    assert _healthy(srv)


def test_slow_request_line_is_cut_off(start_server):
    srv = start_server(settings={"http.header_timeout_ms": 500, "http.idle_timeout_ms": 600000})
    with srv.raw() as c:
        closed = _trickle_until_closed(c, b"G", b"ET /" + b"a" * 200, CLOSE_BOUND_S)
    assert closed, "a request line trickling in for 10 s was never cut off"


def test_stalled_body_is_cut_off(start_server):
    srv = start_server(settings={"http.body_timeout_ms": 500, "http.idle_timeout_ms": 600000,
                                 "http.header_timeout_ms": 600000})
    with srv.raw() as c:
        c.send(http_request_bytes("POST", client_path("/login"),
                                  headers={"Content-Length": "1000",
                                           "Content-Type": "application/json"}) + b'{"type"')
        closed, _ = c.wait_closed(CLOSE_BOUND_S)
    assert closed, "a body that stopped arriving was never cut off (body_timeout 500 ms)"


def test_idle_keep_alive_connection_is_closed(start_server):
    # The header timeout is far away: only the idle timeout (300 ms) can close the connection.
    srv = start_server(settings={"http.idle_timeout_ms": 300, "http.header_timeout_ms": 600000})
    with srv.raw() as c:
        c.send(http_request_bytes("GET", "/healthz"))
        resp = c.read_response()
        assert resp.status == 200
        assert "close" not in (resp.header("Connection") or "").lower()
        closed, extra = c.wait_closed(CLOSE_BOUND_S)
    assert closed, "an idle kept-alive connection stayed open (idle_timeout 300 ms)"
    assert extra == b"", f"unexpected bytes on an idle connection: {extra[:200]!r}"


def test_partial_request_does_not_block_others(start_server):
    srv = start_server(settings={"http.header_timeout_ms": 600000})
    with srv.raw() as stuck:
        stuck.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for _ in range(3):
            assert _healthy(srv)
        stuck.send(b"\r\n")
        try:
            assert stuck.read_response().status == 200
        except (ConnectionClosed, socket.timeout) as e:
            pytest.fail(f"the completed request got no answer: {e!r}")
