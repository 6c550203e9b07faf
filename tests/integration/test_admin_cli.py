"""The offline admin commands and the bootstrap admin printed on first start."""
import re

from ruche_test import login, run_admin, unique_name, whoami


def test_create_user_offline_then_login(start_server, workdir):
    data = workdir / "data"
    data.mkdir()
    name = unique_name("cli")
    res = run_admin("create-user", name, "--password", "from the cli", data_dir=data)
    assert res.returncode == 0, res
    admin_res = run_admin("create-user", "boss-" + name, "--password", "password-2", "--admin",
                          data_dir=data)
    assert admin_res.returncode == 0, admin_res

    srv = start_server(data_dir=data, registration="closed")
    resp = login(srv, name, "from the cli")
    assert resp.json["user_id"] == srv.mxid(name)
    assert whoami(srv, resp.json["access_token"]).json["user_id"] == srv.mxid(name)
    login(srv, "boss-" + name, "password-2")
    assert login(srv, name, "wrong-password", expect=None).status == 403


def test_create_existing_user_fails(workdir):
    data = workdir / "data"
    data.mkdir()
    first = run_admin("create-user", "dup", "--password", "password-a", data_dir=data)
    assert first.returncode == 0, first
    again = run_admin("create-user", "dup", "--password", "password-b", data_dir=data)
    assert again.returncode != 0, again
    assert again.stderr.strip(), "no message on stderr for an existing user"


def test_create_user_rejects_an_invalid_name(workdir):
    data = workdir / "data"
    data.mkdir()
    res = run_admin("create-user", "Not Valid", "--password", "password-a", data_dir=data)
    assert res.returncode != 0, res
    assert res.stderr.strip()


def test_registration_token_is_printed_alone(workdir):
    data = workdir / "data"
    data.mkdir()
    tokens = []
    for extra in ((), ("--uses", "3")):
        res = run_admin("create-registration-token", *extra, data_dir=data)
        assert res.returncode == 0, res
        assert re.fullmatch(r"[A-Za-z0-9._~-]{8,}\n?", res.stdout), repr(res.stdout)
        tokens.append(res.stdout.strip())
    assert tokens[0] != tokens[1]


def test_bootstrap_admin_is_created_once(start_server, workdir):
    data = workdir / "data"
    data.mkdir()
    first = start_server(data_dir=data, bootstrap_admin=True)
    creds = first.bootstrap_credentials()
    assert creds is not None, f"no bootstrap block before the listening line\n{first.stdout_text()}"
    user, mxid, password = creds
    assert (user, mxid) == ("admin", "@admin:localhost"), creds
    assert password and len(password) >= 12, "bootstrap password missing or short"
    resp = login(first, "admin", password)
    assert resp.json["user_id"] == "@admin:localhost"
    login(first, "@admin:localhost", password)
    assert first.stop() == 0

    second = start_server(data_dir=data, bootstrap_admin=True)
    out = second.stdout_text()
    assert "password:" not in out, f"second start printed a password again:\n{out}"
    assert password not in out and password not in second.stderr_text()
    login(second, "admin", password)  # the first password still works


def test_bootstrap_passwords_differ_between_installations(start_server, workdir):
    passwords = []
    for i in range(2):
        data = workdir / f"data{i}"
        data.mkdir()
        srv = start_server(data_dir=data, bootstrap_admin=True)
        creds = srv.bootstrap_credentials()
        assert creds is not None and creds[2], srv.stdout_text()
        passwords.append(creds[2])
    assert passwords[0] != passwords[1]


def test_no_bootstrap_admin(start_server, workdir):
    data = workdir / "data"
    data.mkdir()
    srv = start_server(data_dir=data, bootstrap_admin=False)
    assert srv.bootstrap_credentials() is None, srv.stdout_text()
    assert "password:" not in srv.stdout_text()
    assert login(srv, "admin", "anything-at-all", expect=None).status == 403
