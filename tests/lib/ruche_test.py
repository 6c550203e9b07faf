"""Shared helpers for Ruche's Python test suites (integration and interop).

Standard library only. Each suite's conftest.py puts this folder on sys.path.

- `RucheServer` launches `$RUCHE_BIN serve` on a free port, waits for its listening line and
  stops it with SIGTERM (SIGKILL after a grace period).
- `call` / `register` / `login` speak JSON to the server through http.client.
- `RawConnection` speaks bytes on a plain socket, for tests that must send what a well-behaved
  client never would (malformed request lines, unnormalised paths, slow headers).
"""
from __future__ import annotations

import base64
import contextlib
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
HTTP_TIMEOUT_S = 10.0

LISTENING_RE = re.compile(r"ruche: listening on (http://([^\s:/]+):(\d+))")
BOOTSTRAP_USER_RE = re.compile(r"^\s*user:\s+(\S+)\s+\((@[^)\s]+)\)\s*$")
BOOTSTRAP_PASSWORD_RE = re.compile(r"^\s*password:\s+(\S+)\s*$")

# Rate limits high enough that a test module doing many logins/registrations from 127.0.0.1 is
# never throttled; tests of the limits themselves override the keys they exercise.
RELAXED_LIMITS = {
    "limits.login_per_ip_burst": "1000000",
    "limits.login_per_ip_per_second": "1000",
    "limits.login_failures_per_user_burst": "1000000",
    "limits.login_failures_per_user_per_second": "1000",
    "limits.register_per_ip_burst": "1000000",
    "limits.register_per_ip_per_second": "1000",
    "limits.send_per_user_burst": "1000000",
    "limits.send_per_user_per_second": "1000000",
    "limits.send_per_room_burst": "1000000",
    "limits.send_per_room_per_second": "1000000",
}

FAKE_INDEX_HTML = (
    b'<!doctype html><html><head><title>Ruche</title></head>'
    b'<body><div id="app"></div></body></html>'
)
# Long and repetitive enough that the gzip variant is clearly smaller than the original.
FAKE_APP_JS = b"// ruche fake web client for tests\n" + b"console.log('ruche test asset');\n" * 64


def ruche_bin() -> Path:
    return Path(os.environ.get("RUCHE_BIN") or REPO_ROOT / "build" / "ruche")


def real_web_root() -> Path | None:
    """The built web client (RUCHE_WEB_ROOT or web/dist), or None when it is not built."""
    root = Path(os.environ.get("RUCHE_WEB_ROOT") or REPO_ROOT / "web" / "dist")
    return root if (root / "index.html").is_file() else None


def make_fake_web_root(parent: Path) -> Path:
    """Writes a tiny web client under parent/webroot and returns its path.

    Also writes parent/secret.txt, *outside* the web root, so traversal tests have a file whose
    contents must never be served.
    """
    root = Path(parent) / "webroot"
    (root / "assets").mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_bytes(FAKE_INDEX_HTML)
    (root / "assets" / "app-abc123.js").write_bytes(FAKE_APP_JS)
    (root / "assets" / "app-abc123.js.gz").write_bytes(gzip.compress(FAKE_APP_JS, mtime=0))
    (Path(parent) / "secret.txt").write_text("ruche-secret-" + uuid.uuid4().hex + "\n")
    return root


def unique_name(prefix: str = "u") -> str:
    """A fresh valid Matrix localpart, so tests sharing a server never collide."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a ruche process: ours without RUCHE_* (the server reads RUCHE_<KEY>
    as configuration, e.g. RUCHE_WEB_ROOT), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUCHE_")}
    env.update(extra or {})
    return env


def run_admin(*args: str, data_dir: Path | str, timeout: float = 60.0,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Runs `$RUCHE_BIN admin ARGS... --data DIR` and returns the completed process (text mode)."""
    cmd = [str(ruche_bin()), "admin", *args, "--data", str(data_dir)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=child_env(env), stdin=subprocess.DEVNULL)


class ServerStartError(RuntimeError):
    pass


class RucheServer:
    """One `ruche serve` process.

    The data directory is a fresh temporary one unless `data_dir` is given (then the caller owns
    it, e.g. to restart a server on the same data). stdout is read by a thread (so the pipe never
    fills) and kept in `stdout_lines`; stderr goes to a file shown in every error message.
    """

    def __init__(self, *, web_root: Path | str, data_dir: Path | str | None = None,
                 registration: str | None = "open", bootstrap_admin: bool = False,
                 settings: dict[str, object] | None = None, relaxed_limits: bool = True,
                 config_file: Path | str | None = None, extra_args: list[str] | tuple = (),
                 env: dict[str, str] | None = None, server_name: str = "localhost"):
        self._own_tmp = Path(tempfile.mkdtemp(prefix="ruche-server-"))
        self.data_dir = Path(data_dir) if data_dir is not None else self._own_tmp / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.web_root = Path(web_root)
        self.server_name = server_name
        merged: dict[str, object] = dict(RELAXED_LIMITS) if relaxed_limits else {}
        merged.update(settings or {})
        self.args = [str(ruche_bin()), "serve", "--listen", "127.0.0.1:0",
                     "--data", str(self.data_dir), "--server-name", server_name,
                     "--web-root", str(self.web_root),
                     # Any free media port: test servers run side by side.
                     "--rtc-udp-port", "0"]
        if registration is not None:
            self.args += ["--registration", registration]
        if not bootstrap_admin:
            self.args.append("--no-bootstrap-admin")
        if config_file is not None:
            self.args += ["--config", str(config_file)]
        for key, value in merged.items():
            self.args += ["--set", f"{key}={value}"]
        self.args += list(extra_args)
        self.env = child_env(env)
        self.stdout_lines: list[str] = []
        self._cond = threading.Condition()
        self._stdout_done = False
        self.stderr_path = self._own_tmp / "stderr.log"
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.host = ""
        self.port = 0
        self.exit_code: int | None = None
        self.killed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = STARTUP_TIMEOUT_S) -> "RucheServer":
        binary = ruche_bin()
        if not binary.exists():
            raise ServerStartError(f"ruche binary not found at {binary} (set RUCHE_BIN)")
        self._stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self._stderr_file,
                                     stdin=subprocess.DEVNULL, env=self.env,
                                     start_new_session=True)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        match = self.wait_for_stdout(LISTENING_RE, timeout)
        if match is None:
            code = self.proc.poll()
            state = f"exited with code {code}" if code is not None else "still running"
            self.stop(kill_after=2.0)
            raise ServerStartError(
                f"ruche did not print its listening line within {timeout:.0f}s ({state})\n"
                f"command: {' '.join(self.args)}\n{self.describe_output()}")
        self.url, self.host, self.port = match.group(1), match.group(2), int(match.group(3))
        return self

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._cond:
                self.stdout_lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._stdout_done = True
            self._cond.notify_all()

    def wait_for_stdout(self, pattern: re.Pattern, timeout: float) -> re.Match | None:
        """Waits until a stdout line matches; None on timeout or when stdout closes first."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self.stdout_lines[seen:]:
                    m = pattern.search(line)
                    if m:
                        return m
                seen = len(self.stdout_lines)
                left = deadline - time.monotonic()
                if self._stdout_done or left <= 0:
                    return None
                self._cond.wait(left)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        """Waits for the process to exit; its exit code, or None if it is still running."""
        assert self.proc is not None
        try:
            self.exit_code = self.proc.wait(timeout)  # an expected exit, not a crash
        except subprocess.TimeoutExpired:
            return None
        return self.exit_code

    def stop(self, sig: int = signal.SIGTERM, kill_after: float = STOP_TIMEOUT_S) -> int:
        """Sends `sig` and waits; SIGKILLs after `kill_after` seconds. Returns the exit code
        (negative = killed by that signal; `self.killed` says whether we had to)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(kill_after)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        if self.proc.stdout is not None:
            with self._cond:
                self._cond.wait_for(lambda: self._stdout_done, timeout=5)
        if not self._stderr_file.closed:
            self._stderr_file.close()
        return self.exit_code

    def cleanup(self) -> None:
        """Stops the process if needed and removes the temporary directory we created."""
        self.stop()
        shutil.rmtree(self._own_tmp, ignore_errors=True)

    def __enter__(self) -> "RucheServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()

    # -- output ------------------------------------------------------------------------------

    def stdout_text(self) -> str:
        with self._cond:
            return "\n".join(self.stdout_lines)

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def describe_output(self, tail: int = 4000) -> str:
        return (f"--- ruche stdout ---\n{self.stdout_text()[-tail:]}\n"
                f"--- ruche stderr ---\n{self.stderr_text()[-tail:]}")

    def bootstrap_credentials(self) -> tuple[str, str, str] | None:
        """(user, mxid, password) from the bootstrap-admin block printed before the listening
        line, or None if no such block was printed."""
        user = mxid = password = None
        for line in self.stdout_text().splitlines():
            if LISTENING_RE.search(line):
                break
            if m := BOOTSTRAP_USER_RE.match(line):
                user, mxid = m.group(1), m.group(2)
            elif m := BOOTSTRAP_PASSWORD_RE.match(line):
                password = m.group(1)
        if user is None and password is None:
            return None
        return user, mxid, password

    # -- talking to it -----------------------------------------------------------------------

    def connection(self, timeout: float = HTTP_TIMEOUT_S) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def raw(self, timeout: float = HTTP_TIMEOUT_S) -> "RawConnection":
        return RawConnection(self.host, self.port, timeout)

    def mxid(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"


class ServerCrashed(AssertionError):
    """A server exited on its own while a test was using it (a crash is always a bug)."""


class ServerSet:
    """Servers started for one fixture scope; stops them all and reports crashes."""

    def __init__(self, web_root: Path):
        self.web_root = web_root
        self.servers: list[RucheServer] = []
        self.shared_servers: dict[str, RucheServer] = {}

    def start(self, **kwargs) -> RucheServer:
        kwargs.setdefault("web_root", self.web_root)
        srv = RucheServer(**kwargs)
        self.servers.append(srv)  # registered before start so a failed start is cleaned up
        return srv.start()

    @contextlib.contextmanager
    def shared(self, key: str, **kwargs):
        """A server kept across the tests of a module under `key`. If it dies during a test,
        that test fails with the server's output, and the next test gets a fresh server, so
        one crash is reported once instead of as a cascade of refused connections."""
        srv = self.shared_servers.get(key)
        if srv is None or not srv.alive():
            srv = self.shared_servers[key] = self.start(**kwargs)
        yield srv
        if not srv.alive():
            code = srv.stop()  # reaps it; marks it as reported for close()
            raise ServerCrashed(f"ruche exited on its own with code {code} during this test\n"
                                f"{srv.describe_output()}")

    def close(self, show_output: bool) -> list[str]:
        problems = []
        for srv in self.servers:
            crashed = srv.proc is not None and srv.exit_code is None and \
                srv.proc.poll() is not None
            if crashed:
                problems.append(f"ruche exited on its own with code {srv.proc.returncode} during "
                                f"the test\n{srv.describe_output()}")
            elif show_output and srv.proc is not None:
                print(f"\n=== ruche {' '.join(srv.args[1:])}\n{srv.describe_output()}")
            srv.cleanup()
        self.servers.clear()
        return problems


@contextlib.contextmanager
def shared_or_fail(servers: ServerSet, key: str, **kwargs):
    """servers.shared(...) for a pytest fixture: a crash becomes a plain test failure showing
    the server's output."""
    import pytest

    try:
        with servers.shared(key, **kwargs) as srv:
            yield srv
    except ServerCrashed as e:
        pytest.fail(str(e), pytrace=False)


# -- JSON over http.client ---------------------------------------------------------------------


class Response:
    def __init__(self, status: int, reason: str, headers: http.client.HTTPMessage, body: bytes):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self._json = None
        self._json_parsed = False

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    @property
    def json(self):
        """The parsed JSON body, or None when the body is not JSON."""
        if not self._json_parsed:
            self._json_parsed = True
            try:
                self._json = json.loads(self.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self._json = None
        return self._json

    @property
    def errcode(self) -> str | None:
        j = self.json
        return j.get("errcode") if isinstance(j, dict) else None

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.body[:300]!r}>"


def call(server: RucheServer, method: str, path: str, body=None, *, token: str | None = None,
         headers: dict[str, str] | None = None, raw_body: bytes | None = None,
         conn: http.client.HTTPConnection | None = None,
         timeout: float = HTTP_TIMEOUT_S) -> Response:
    """One HTTP request. `body` is JSON-encoded unless None; `raw_body` is sent as is. With
    `conn` the request goes on that (kept-alive) connection, else on a new one that is closed."""
    hdrs = dict(headers or {})
    data = raw_body
    if body is not None:
        data = json.dumps(body).encode("utf-8")
    if data is not None:
        hdrs.setdefault("Content-Type", "application/json")
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    own = conn is None
    c = conn or server.connection(timeout)
    try:
        c.request(method, path, body=data, headers=hdrs)
        r = c.getresponse()
        payload = r.read()
        return Response(r.status, r.reason, r.headers, payload)
    finally:
        if own:
            c.close()


def basic_auth(user: str, password: str) -> dict[str, str]:
    """The Authorization header of HTTP Basic (RFC 7617), as CalDAV clients send it."""
    token = base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def client_path(path: str, version: str = "v3") -> str:
    return f"/_matrix/client/{version}{path}"


def register(server: RucheServer, username: str | None = None, password: str = "correct horse",
             *, version: str = "v3", expect: int | None = 200, **extra) -> Response:
    """Registers through the two-step UIA flow (401 → m.login.dummy). Asserts the final status
    is `expect` unless that is None."""
    username = username if username is not None else unique_name()
    body = {"username": username, "password": password, **extra}
    first = call(server, "POST", client_path("/register", version), body)
    if first.status != 401:
        resp = first
    else:
        session = first.json["session"]
        body["auth"] = {"type": "m.login.dummy", "session": session}
        resp = call(server, "POST", client_path("/register", version), body)
    if expect is not None:
        assert resp.status == expect, f"register {username!r}: {resp!r}"
    return resp


def login(server: RucheServer, user: str, password: str = "correct horse", *,
          version: str = "v3", expect: int | None = 200, **extra) -> Response:
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password, **extra}
    resp = call(server, "POST", client_path("/login", version), body)
    if expect is not None:
        assert resp.status == expect, f"login {user!r}: {resp!r}"
    return resp


def new_user(server: RucheServer, password: str = "correct horse") -> tuple[str, str]:
    """Registers a fresh user; returns (localpart, access_token)."""
    name = unique_name()
    resp = register(server, name, password)
    return name, resp.json["access_token"]


def whoami(server: RucheServer, token: str | None, version: str = "v3") -> Response:
    return call(server, "GET", client_path("/account/whoami", version), token=token)


def query(path: str, **params) -> str:
    return path + "?" + urllib.parse.urlencode(params)


# -- raw sockets -------------------------------------------------------------------------------


class ConnectionClosed(Exception):
    """The peer closed (EOF or reset) before a complete response arrived."""


class RawResponse:
    def __init__(self, status: int, reason: str, headers: dict[str, str], body: bytes,
                 raw_head: bytes):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-cased names
        self.body = body
        self.raw_head = raw_head

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    @property
    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def __repr__(self) -> str:
        return f"<RawResponse {self.status} {self.body[:300]!r}>"


class RawConnection:
    """A plain TCP socket with just enough HTTP/1.1 response parsing for tests."""

    def __init__(self, host: str, port: int, timeout: float = HTTP_TIMEOUT_S):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RawConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _fill(self) -> None:
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError) as e:
            raise ConnectionClosed(str(e)) from e
        if not chunk:
            raise ConnectionClosed("EOF")
        self.buf += chunk

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, head_request: bool = False) -> RawResponse:
        """Reads one response. Raises ConnectionClosed if the peer closes first, socket.timeout
        if nothing complete arrives within the socket's timeout."""
        while True:
            head = self._read_until(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            status = int(parts[1])
            reason = parts[2] if len(parts) > 2 else ""
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                key = name.strip().lower()
                value = value.strip()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            if 100 <= status < 200:
                continue  # interim response (100 Continue)
            break
        if head_request or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0].strip(), 16)
                if size == 0:
                    self._read_until(b"\r\n")  # no trailers expected
                    break
                body += self._read_exact(size)
                self._read_exact(2)
        elif "content-length" in headers:
            body = self._read_exact(int(headers["content-length"]))
        else:
            body = self.read_until_closed()
        return RawResponse(status, reason, headers, body, head)

    def read_until_closed(self) -> bytes:
        while True:
            try:
                self._fill()
            except ConnectionClosed:
                out, self.buf = self.buf, b""
                return out

    def wait_closed(self, timeout: float) -> tuple[bool, bytes]:
        """Waits up to `timeout` seconds for the peer to close. Returns (closed, bytes received
        meanwhile); bytes such as a 408 response are allowed before the close."""
        deadline = time.monotonic() + timeout
        received = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, received
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return True, received
            except (socket.timeout, TimeoutError):
                return False, received
            if not chunk:
                return True, received
            received += chunk


def http_request_bytes(method: str, path: str, *, host: str = "localhost",
                       headers: dict[str, str] | None = None, body: bytes = b"",
                       version: str = "HTTP/1.1") -> bytes:
    """Serialises a request exactly as given (no path normalisation)."""
    lines = [f"{method} {path} {version}", f"Host: {host}"]
    hdrs = dict(headers or {})
    if body and "Content-Length" not in hdrs and "Transfer-Encoding" not in hdrs:
        hdrs["Content-Length"] = str(len(body))
    lines += [f"{k}: {v}" for k, v in hdrs.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def raw_exchange(server: RucheServer, data: bytes, timeout: float = HTTP_TIMEOUT_S
                 ) -> RawResponse | None:
    """Sends `data` on a new connection and reads one response; None if the server closed the
    connection without answering."""
    with server.raw(timeout) as c:
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may have answered early (e.g. 413) and closed: read that answer
        try:
            return c.read_response(head_request=data.startswith(b"HEAD "))
        except ConnectionClosed:
            return None


# -- Prometheus text ---------------------------------------------------------------------------

_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) for every sample line of a Prometheus text exposition."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE_RE.match(line)
        if not m:
            raise ValueError(f"not a Prometheus sample line: {line!r}")
        labels = dict(_LABEL_RE.findall(m.group(2) or ""))
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


# --- Matrix helpers shared by the room, sync and ephemeral tests ---

def q(room_id: str) -> str:
    return urllib.parse.quote(room_id, safe="")


def create_room(server, token, **body):
    resp = call(server, "POST", client_path("/createRoom"), body, token=token)
    assert resp.status == 200, resp
    return resp.json["room_id"]


def send(server, token, room_id, body, txn, expect=200):
    resp = call(server, "PUT", client_path(f"/rooms/{q(room_id)}/send/m.room.message/{txn}"),
                {"msgtype": "m.text", "body": body}, token=token)
    assert resp.status == expect, resp
    return resp


def sync(server, token, since=None, timeout=0, **extra):
    params = {"timeout": str(timeout), **extra}
    if since:
        params["since"] = since
    resp = call(server, "GET", query(client_path("/sync"), **params), token=token,
                timeout=timeout / 1000 + 10)
    assert resp.status == 200, resp
    return resp.json


def bodies(timeline):
    return [e["content"].get("body") for e in timeline["events"] if e["type"] == "m.room.message"]
