"""Graceful shutdown: SIGTERM/SIGINT stop accepting, finish what is in flight, exit 0."""
import json
import signal
import socket
import time

import pytest

from ruche_test import ConnectionClosed, call, client_path, run_admin, unique_name

GRACE_MS = 3000
# How long we wait for the exit before calling it a hang: the grace period plus a wide margin.
EXIT_BOUND_S = GRACE_MS / 1000 + 10


def _wait_until_refused(srv, bound_s: float = 10.0) -> bool:
    """Polls new connections until the listener refuses them (True) or `bound_s` passes."""
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            s = socket.create_connection((srv.host, srv.port), timeout=1)
        except OSError:
            return True
        s.close()
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_with_an_idle_keep_alive_connection(start_server, sig):
    srv = start_server(settings={"http.shutdown_grace_ms": GRACE_MS})
    conn = srv.raw()
    try:
        conn.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert conn.read_response().status == 200
        srv.send_signal(sig)
        code = srv.wait(EXIT_BOUND_S)
        assert code is not None, f"ruche still running {EXIT_BOUND_S:.0f}s after {sig.name}"
        assert code == 0, f"exit code {code}\n{srv.describe_output()}"
        closed, _ = conn.wait_closed(5)
        assert closed, "the idle connection was left open after the process exited"
    finally:
        conn.close()


def test_in_flight_request_is_answered_during_shutdown(start_server, workdir):
    name = unique_name()
    data = workdir / "data"
    data.mkdir()
    created = run_admin("create-user", name, "--password", "password-1", data_dir=data)
    assert created.returncode == 0, created
    # A long grace period, so the answer cannot be lost to it while we poll the listener.
    grace_ms = 15000
    srv = start_server(data_dir=data, settings={"http.shutdown_grace_ms": grace_ms,
                                                "http.body_timeout_ms": 60000})
    body = json.dumps({"type": "m.login.password",
                       "identifier": {"type": "m.id.user", "user": name},
                       "password": "password-1"}).encode()
    half = len(body) // 2
    conn = srv.raw(timeout=10)
    try:
        # A first exchange makes sure the connection is accepted and being served.
        conn.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert conn.read_response().status == 200
        conn.send(b"POST " + client_path("/login").encode() + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:half])
        # Let the server read the headers, so the request is in flight when the signal lands.
        # (Not an assertion: if the server is slower, the test only gets weaker, not flaky.)
        time.sleep(0.3)
        srv.send_signal(signal.SIGTERM)
        # Once new connections are refused the server has acted on SIGTERM; only then does the
        # rest of the body go out, so the request truly spans the shutdown.
        refused = _wait_until_refused(srv, bound_s=5)
        conn.send(body[half:])
        try:
            resp = conn.read_response()
        except (ConnectionClosed, socket.timeout) as e:
            pytest.fail(f"in-flight request lost during shutdown: {e!r}\n{srv.describe_output()}")
        assert resp.status == 200, resp
        assert resp.json["user_id"] == srv.mxid(name)
        assert resp.json["access_token"]
        code = srv.wait(grace_ms / 1000 + 10)
        assert code == 0, f"exit code {code}\n{srv.describe_output()}"
        assert refused, "the listener kept accepting connections after SIGTERM"
    finally:
        conn.close()


def test_grace_period_bounds_the_wait_for_stuck_clients(start_server):
    # A client that never finishes its request cannot hold the shutdown hostage.
    srv = start_server(settings={"http.shutdown_grace_ms": 500,
                                 "http.header_timeout_ms": 600000,
                                 "http.body_timeout_ms": 600000})
    stuck = srv.raw()
    try:
        stuck.send(b"POST /_matrix/client/v3/login HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Length: 100\r\n\r\n{")
        assert call(srv, "GET", "/healthz").status == 200  # the server is up and serving
        srv.send_signal(signal.SIGTERM)
        code = srv.wait(10)
        assert code is not None, "a stuck client kept ruche running 10 s after SIGTERM"
        assert code == 0, f"exit code {code}\n{srv.describe_output()}"
    finally:
        stuck.close()
