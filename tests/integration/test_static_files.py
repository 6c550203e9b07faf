"""The web client's static files, always from the fake web root (conftest.fake_web_root), so
these tests do not depend on the real web build."""
import gzip
from pathlib import Path

import pytest

from ruche_test import (FAKE_APP_JS, FAKE_INDEX_HTML, call, http_request_bytes, raw_exchange,
                        shared_or_fail)

APP_JS = "/assets/app-abc123.js"


@pytest.fixture
def static_server(module_servers, fake_web_root):
    with shared_or_fail(module_servers, "static", web_root=fake_web_root) as srv:
        yield srv


def _media_type(resp) -> str:
    return (resp.header("Content-Type") or "").split(";")[0].strip().lower()


def test_index_is_served_with_security_headers(static_server):
    resp = call(static_server, "GET", "/")
    assert resp.status == 200, resp
    assert resp.body == FAKE_INDEX_HTML
    assert _media_type(resp) == "text/html", resp.headers
    assert "default-src 'self'" in (resp.header("Content-Security-Policy") or ""), resp.headers
    assert resp.header("X-Content-Type-Options") == "nosniff", resp.headers
    assert resp.header("Referrer-Policy"), resp.headers
    assert resp.header("X-Frame-Options") == "DENY", resp.headers
    assert "no-cache" in (resp.header("Cache-Control") or ""), resp.headers


def test_index_html_by_name(static_server):
    resp = call(static_server, "GET", "/index.html")
    assert resp.status == 200 and resp.body == FAKE_INDEX_HTML, resp
    assert "no-cache" in (resp.header("Cache-Control") or ""), resp.headers


def test_hashed_asset_is_immutable(static_server):
    resp = call(static_server, "GET", APP_JS)
    assert resp.status == 200, resp
    assert resp.body == FAKE_APP_JS
    assert _media_type(resp) == "text/javascript", resp.headers
    assert "immutable" in (resp.header("Cache-Control") or ""), resp.headers
    assert resp.header("X-Content-Type-Options") == "nosniff", resp.headers
    assert resp.header("ETag"), resp.headers
    assert resp.header("Content-Encoding") is None, resp.headers


def test_if_none_match_gives_304(static_server):
    etag = call(static_server, "GET", APP_JS).header("ETag")
    assert etag
    cached = call(static_server, "GET", APP_JS, headers={"If-None-Match": etag})
    assert cached.status == 304, cached
    assert cached.body == b""
    assert cached.header("ETag") == etag, cached.headers
    # A different validator is not a match.
    stale = call(static_server, "GET", APP_JS, headers={"If-None-Match": '"something-else"'})
    assert stale.status == 200 and stale.body == FAKE_APP_JS, stale


@pytest.mark.parametrize("form", ["list", "weak", "star"])
def test_if_none_match_other_forms(static_server, form):
    # RFC 9110 §13.1.2: If-None-Match is a list, compared weakly, and "*" matches any current
    # representation; a GET that matches is answered 304.
    etag = call(static_server, "GET", APP_JS).header("ETag")
    value = {"list": f'"other", {etag}', "weak": f"W/{etag}", "star": "*"}[form]
    resp = call(static_server, "GET", APP_JS, headers={"If-None-Match": value})
    assert resp.status == 304, (value, resp)


def test_gzip_variant_is_served_when_accepted(static_server):
    resp = call(static_server, "GET", APP_JS, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert resp.status == 200, resp
    assert resp.header("Content-Encoding") == "gzip", resp.headers
    assert "accept-encoding" in (resp.header("Vary") or "").lower(), resp.headers
    assert _media_type(resp) == "text/javascript", resp.headers
    assert gzip.decompress(resp.body) == FAKE_APP_JS
    # The identity and gzip bodies differ, so their validators must too (RFC 9110 §8.8.3).
    plain = call(static_server, "GET", APP_JS)
    if resp.header("ETag") and plain.header("ETag"):
        assert resp.header("ETag") != plain.header("ETag")


def test_identity_variant_also_says_vary(static_server):
    # RFC 9110 §12.5.5: the selection depends on Accept-Encoding for every variant, so a shared
    # cache must not hand the identity body to every later client without checking.
    plain = call(static_server, "GET", APP_JS)
    assert plain.status == 200
    assert "accept-encoding" in (plain.header("Vary") or "").lower(), plain.headers


def test_gzip_refused_by_q0_is_not_served(static_server):
    resp = call(static_server, "GET", APP_JS, headers={"Accept-Encoding": "gzip;q=0"})
    assert resp.status == 200, resp
    assert resp.header("Content-Encoding") is None, resp.headers
    assert resp.body == FAKE_APP_JS


def test_head_request(static_server):
    resp = call(static_server, "HEAD", APP_JS)
    assert resp.status == 200, resp
    assert resp.body == b""
    assert int(resp.header("Content-Length")) == len(FAKE_APP_JS), resp.headers


@pytest.mark.parametrize("path", ["/some/client/route", "/rooms/!abc:localhost", "/settings"])
def test_spa_fallback_serves_index(static_server, path):
    resp = call(static_server, "GET", path, headers={"Accept": "text/html"})
    assert resp.status == 200, resp
    assert resp.body == FAKE_INDEX_HTML
    assert "default-src 'self'" in (resp.header("Content-Security-Policy") or ""), resp.headers


def test_missing_asset_is_404_not_index(static_server):
    resp = call(static_server, "GET", "/assets/nope.js")
    assert resp.status == 404, resp
    assert resp.body != FAKE_INDEX_HTML


def test_api_prefixes_do_not_fall_back_to_index(static_server):
    for path in ("/_matrix/client/v3/nope", "/_ruche/v1/nope"):
        resp = call(static_server, "GET", path)
        assert resp.status == 404 and resp.json["errcode"] == "M_UNRECOGNIZED", resp


def _passwd_first_line() -> bytes:
    try:
        return Path("/etc/passwd").read_bytes().splitlines()[0]
    except (OSError, IndexError):
        return b"root:x:0:0:"


@pytest.mark.parametrize("target", [
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "//etc/passwd",
    "/assets/../../../../etc/passwd",
    "/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/assets/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/..\\..\\..\\..\\etc\\passwd",
    "/%2fetc%2fpasswd",
    "/assets/%252e%252e/%252e%252e/etc/passwd",
])
def test_traversal_never_reaches_etc_passwd(static_server, target):
    resp = raw_exchange(static_server, http_request_bytes("GET", target))
    if resp is not None:
        assert _passwd_first_line() not in resp.body, (target, resp)
        assert b"root:" not in resp.body, (target, resp)


@pytest.mark.parametrize("target", [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/assets/../../secret.txt",
    "/assets/%2e%2e/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/assets/..%2f..%2fsecret.txt",
    "/.%2e/secret.txt",
    "/assets/%2e%2e%5c%2e%2e%5csecret.txt",
])
def test_traversal_never_reaches_a_file_next_to_the_web_root(static_server,
                                                            secret_outside_web_root, target):
    resp = raw_exchange(static_server, http_request_bytes("GET", target))
    if resp is not None:
        assert secret_outside_web_root not in resp.body, (target, resp)
    assert call(static_server, "GET", "/healthz").status == 200


def test_absolute_form_target_does_not_escape(static_server, secret_outside_web_root):
    resp = raw_exchange(static_server,
                        http_request_bytes("GET", "http://localhost/../../etc/passwd"))
    if resp is not None:
        assert b"root:" not in resp.body, resp
