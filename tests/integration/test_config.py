"""Configuration sources: TOML file, RUCHE_* environment and --set, in that order of precedence.
http.body_limit_bytes is the probe: a 5000-byte /login body is 413 under a 4096 limit."""
import subprocess

from ruche_test import call, child_env, client_path, ruche_bin, unique_name

BODY = b'{"type": "m.login.password", "user": "x", "password": "' + b"p" * 4950 + b'"}'


def _too_large(srv) -> bool:
    resp = call(srv, "POST", client_path("/login"), raw_body=BODY)
    assert resp.status in (403, 413), resp
    return resp.status == 413 and resp.json["errcode"] == "M_TOO_LARGE"


def test_toml_file(start_server, workdir):
    cfg = workdir / "ruche.toml"
    cfg.write_text('registration = "open"\n\n[http]\nbody_limit_bytes = 4096\n')
    srv = start_server(config_file=cfg, registration=None)
    assert _too_large(srv)
    # registration = "open" from the file took effect too.
    resp = call(srv, "POST", client_path("/register"),
                {"username": unique_name(), "password": "password-1",
                 "auth": {"type": "m.login.dummy"}})
    assert resp.status == 200, resp


def test_environment(start_server):
    srv = start_server(env={"RUCHE_HTTP_BODY_LIMIT_BYTES": "4096"})
    assert _too_large(srv)


def test_set_beats_environment_beats_file(start_server, workdir):
    cfg = workdir / "ruche.toml"
    cfg.write_text("[http]\nbody_limit_bytes = 1048576\n")
    env_over_file = start_server(config_file=cfg, env={"RUCHE_HTTP_BODY_LIMIT_BYTES": "4096"})
    assert _too_large(env_over_file)
    set_over_env = start_server(config_file=cfg, env={"RUCHE_HTTP_BODY_LIMIT_BYTES": "4096"},
                                settings={"http.body_limit_bytes": 1048576})
    assert not _too_large(set_over_env)


def test_unknown_set_key_is_refused(workdir):
    res = subprocess.run(
        [str(ruche_bin()), "serve", "--listen", "127.0.0.1:0", "--data", str(workdir),
         "--no-bootstrap-admin", "--set", "http.no_such_key=1"],
        capture_output=True, text=True, timeout=20, env=child_env(), stdin=subprocess.DEVNULL)
    assert res.returncode != 0, res
    assert "no_such_key" in res.stderr, res.stderr
    assert "listening" not in res.stdout
