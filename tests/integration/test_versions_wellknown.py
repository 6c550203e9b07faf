"""/_matrix/client/versions, /.well-known/matrix/client and CORS (docs/api.md)."""
from ruche_test import call


def test_versions_lists_spec_versions_with_cors(server):
    resp = call(server, "GET", "/_matrix/client/versions")
    assert resp.status == 200, resp
    assert resp.header("Access-Control-Allow-Origin") == "*", resp.headers
    versions = resp.json["versions"]
    assert isinstance(versions, list) and versions
    assert all(isinstance(v, str) for v in versions)
    # matrix-nio 0.20 and older clients speak r0; v1.x versions announce the v3 paths.
    assert any(v.startswith("v1.") for v in versions), versions


def test_well_known_client_uses_the_request_host(server):
    host = f"127.0.0.1:{server.port}"
    resp = call(server, "GET", "/.well-known/matrix/client", headers={"Host": host})
    assert resp.status == 200, resp
    assert resp.header("Access-Control-Allow-Origin") == "*", resp.headers
    base_url = resp.json["m.homeserver"]["base_url"]
    assert base_url.rstrip("/") == f"http://{host}", base_url


def test_well_known_client_prefers_public_base_url(start_server):
    srv = start_server(settings={"public_base_url": "https://chat.example.org"})
    resp = call(srv, "GET", "/.well-known/matrix/client")
    assert resp.status == 200, resp
    assert resp.json["m.homeserver"]["base_url"].rstrip("/") == "https://chat.example.org"


def test_cors_header_on_matrix_errors_too(server):
    resp = call(server, "GET", "/_matrix/client/v3/account/whoami")
    assert resp.status == 401, resp
    assert resp.header("Access-Control-Allow-Origin") == "*", resp.headers


def test_options_preflight_on_a_matrix_path(server):
    resp = call(server, "OPTIONS", "/_matrix/client/v3/login", headers={
        "Origin": "https://app.example.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert resp.status == 204, resp
    assert resp.header("Access-Control-Allow-Origin") == "*", resp.headers
    methods = {m.strip().upper()
               for m in resp.header("Access-Control-Allow-Methods", "").split(",")}
    assert {"GET", "POST"} <= methods, resp.headers
    allowed = {h.strip().lower()
               for h in resp.header("Access-Control-Allow-Headers", "").split(",")}
    assert {"authorization", "content-type"} <= allowed or "*" in allowed, resp.headers


def test_options_preflight_on_an_authenticated_path_needs_no_token(server):
    resp = call(server, "OPTIONS", "/_matrix/client/v3/account/whoami", headers={
        "Origin": "https://app.example.org",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    })
    assert resp.status == 204, resp
    assert resp.header("Access-Control-Allow-Methods"), resp.headers
