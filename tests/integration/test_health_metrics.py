"""/healthz and /metrics (docs/api.md, "Operations")."""
import time
import uuid

from ruche_test import call, parse_metrics


def _requests_total(server, route_part: str, method: str = "GET", status: str = "200") -> float:
    resp = call(server, "GET", "/metrics")
    assert resp.status == 200, resp
    total = 0.0
    for name, labels, value in parse_metrics(resp.body.decode()):
        if name == "ruche_http_requests_total" and route_part in labels.get("route", "") \
                and labels.get("method") == method and labels.get("status") == status:
            total += value
    return total


def test_healthz_answers_200(server):
    resp = call(server, "GET", "/healthz")
    assert resp.status == 200, resp


def test_metrics_is_prometheus_text_with_the_documented_families(server):
    for _ in range(3):
        assert call(server, "GET", "/_matrix/client/versions").status == 200
    resp = call(server, "GET", "/metrics")
    assert resp.status == 200, resp
    assert resp.header("Content-Type", "").startswith("text/plain"), resp.headers
    text = resp.body.decode("utf-8")
    assert "# TYPE ruche_http_requests_total counter" in text
    samples = parse_metrics(text)  # raises on a line that is not a sample
    names = {name for name, _, _ in samples}
    for family in ("ruche_http_open_connections", "process_resident_memory_bytes"):
        assert family in names, f"{family} missing from /metrics:\n{text[:3000]}"
    routed = [labels for name, labels, _ in samples
              if name == "ruche_http_requests_total" and "versions" in labels.get("route", "")]
    assert routed, f"no ruche_http_requests_total sample with a versions route:\n{text[:3000]}"
    assert {"route", "method", "status"} <= set(routed[0]), routed[0]
    rss = [v for name, _, v in samples if name == "process_resident_memory_bytes"]
    assert rss and rss[0] > 0


def test_request_counter_counts_requests(server):
    before = _requests_total(server, "versions")
    for _ in range(4):
        assert call(server, "GET", "/_matrix/client/versions").status == 200
    # A request may be counted just after its response is written, so poll (bounded) rather
    # than expect the very next scrape to include the last one.
    deadline = time.monotonic() + 10
    after = _requests_total(server, "versions")
    while after - before < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
        after = _requests_total(server, "versions")
    assert after - before >= 4, (before, after)


def test_open_connections_gauge_counts_a_held_connection(server):
    conn = server.connection()
    try:
        # This connection stays open while /metrics is read on it, so the gauge is at least 1.
        resp = call(server, "GET", "/metrics", conn=conn)
        values = [v for name, _, v in parse_metrics(resp.body.decode())
                  if name == "ruche_http_open_connections"]
        assert values and values[0] >= 1, values
    finally:
        conn.close()


def test_unknown_paths_do_not_become_route_labels(server):
    # A label per request path would let any client grow the metrics without bound.
    marker = "nosuch" + uuid.uuid4().hex
    assert call(server, "GET", f"/_matrix/client/v3/{marker}").status == 404
    assert call(server, "GET", f"/assets/{marker}.js").status == 404
    text = call(server, "GET", "/metrics").body.decode()
    assert marker not in text
