"""Fixtures for the interop suite: a third-party Matrix client (Debian's matrix-nio 0.20, which
speaks the r0 paths) against a real `ruche serve`. Tests are plain sync functions that drive
nio with asyncio.run, so no pytest-asyncio is needed."""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import ruche_test  # noqa: E402
from ruche_test import ServerSet, shared_or_fail  # noqa: E402


def pytest_configure(config):
    if not ruche_test.ruche_bin().exists():
        raise pytest.UsageError(
            f"ruche binary not found at {ruche_test.ruche_bin()}; build it (make build) or set "
            "RUCHE_BIN")


@pytest.fixture(scope="session")
def _web_root():
    real = ruche_test.real_web_root()
    if real is not None:
        yield real
        return
    tmp = Path(tempfile.mkdtemp(prefix="ruche-interop-"))
    try:
        yield ruche_test.make_fake_web_root(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def _servers(_web_root):
    servers = ServerSet(_web_root)
    yield servers
    problems = servers.close(show_output=False)
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def server(_servers):
    """One server with open registration (and rate limits out of the way) per test module."""
    with shared_or_fail(_servers, "default", registration="open") as srv:
        yield srv
