"""Fixtures for the HTTP integration tests: each test talks to a real `ruche serve` process.

- `server`: a server shared by the tests of a module, with open registration and relaxed rate
  limits (tests use fresh user names, so they can share it). Other shared configurations:
  `module_servers.shared(key, **kwargs)` (see test_static_files.py).
- `start_server(**kwargs)`: starts a dedicated server for one test (see RucheServer's keyword
  arguments: registration, settings, bootstrap_admin, data_dir, config_file, env, ...). Every
  server is stopped and its temporary directory removed when the test ends; a server that died
  on its own during the test fails the test, since a crash is always a bug.
- `fake_web_root`: a tiny web client in a temp dir (static-file tests always use it).
- `workdir`: a temporary directory removed after the test.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import ruche_test  # noqa: E402
from ruche_test import ServerSet, shared_or_fail  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Keeps each phase's report on the item so fixtures can print server output on failure.
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def pytest_configure(config):
    if not ruche_test.ruche_bin().exists():
        # Not a skip: a missing binary means nothing was tested, and that must not look green.
        raise pytest.UsageError(
            f"ruche binary not found at {ruche_test.ruche_bin()}; build it (make build) or set "
            "RUCHE_BIN")


@pytest.fixture(scope="session")
def _session_tmp():
    path = Path(tempfile.mkdtemp(prefix="ruche-itest-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def fake_web_root(_session_tmp) -> Path:
    return ruche_test.make_fake_web_root(_session_tmp / "web")


@pytest.fixture(scope="session")
def secret_outside_web_root(fake_web_root) -> bytes:
    """Contents of a file next to (outside) the fake web root; must never be served."""
    return (fake_web_root.parent / "secret.txt").read_bytes().strip()


@pytest.fixture(scope="session")
def default_web_root(fake_web_root) -> Path:
    return ruche_test.real_web_root() or fake_web_root


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="ruche-work-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start_server(request, default_web_root):
    servers = ServerSet(default_web_root)
    yield servers.start
    rep = getattr(request.node, "rep_call", None)
    problems = servers.close(show_output=bool(rep and rep.failed))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def module_servers(default_web_root):
    """The ServerSet behind module-wide servers: use `module_servers.shared(key, **kwargs)` in a
    function-scoped fixture (see `server`)."""
    servers = ServerSet(default_web_root)
    yield servers
    problems = servers.close(show_output=False)
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def server(module_servers):
    with shared_or_fail(module_servers, "default", registration="open") as srv:
        yield srv
