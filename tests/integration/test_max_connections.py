"""http.max_connections: connections past the limit are refused or closed, and the admitted
ones keep working."""
import socket
import time

from ruche_test import ConnectionClosed, RawConnection, http_request_bytes

LIMIT = 5


def _request_ok(conn: RawConnection) -> bool:
    conn.send(http_request_bytes("GET", "/healthz"))
    return conn.read_response().status == 200


def _extra_connection_outcome(srv) -> str:
    """What happens to one connection past the limit: 'refused' (connect failed, reset, closed,
    or 503), 'served' (200) or 'hung' (no answer and no close within 10 s)."""
    try:
        conn = srv.raw(timeout=10)
    except OSError:
        return "refused"
    try:
        try:
            conn.send(http_request_bytes("GET", "/healthz"))
            resp = conn.read_response()
        except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
            return "refused"
        except socket.timeout:
            return "hung"
        if resp.status == 503:
            return "refused"
        return "served" if resp.status == 200 else f"status {resp.status}"
    finally:
        conn.close()


def test_connections_past_the_limit_are_turned_away(start_server):
    srv = start_server(settings={"http.max_connections": LIMIT,
                                 "http.idle_timeout_ms": 600000,
                                 "http.header_timeout_ms": 600000})
    admitted = []
    try:
        for _ in range(LIMIT):
            conn = srv.raw()
            admitted.append(conn)
            assert _request_ok(conn)
        for extra in range(2):
            outcome = _extra_connection_outcome(srv)
            assert outcome == "refused", f"connection {LIMIT + 1 + extra} past the limit: {outcome}"
        for i, conn in enumerate(admitted):
            assert _request_ok(conn), f"admitted connection {i} stopped working"

        # Freeing a slot lets a new client in (the server may need a moment to see the close).
        admitted.pop().close()
        deadline = time.monotonic() + 10
        outcome = None
        while time.monotonic() < deadline:
            outcome = _extra_connection_outcome(srv)
            if outcome == "served":
                break
            time.sleep(0.1)
        assert outcome == "served", f"after closing one of {LIMIT}, a new connection: {outcome}"
    finally:
        for conn in admitted:
            conn.close()
