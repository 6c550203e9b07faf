"""A minimal Marionette client: enough to run privileged JavaScript inside Thunderbird.

Marionette is the remote protocol built into Gecko applications (Firefox, Thunderbird), switched
on by `--marionette`. It speaks JSON over TCP: each message is `<byte length>:<JSON>`. On
connect the application sends a greeting (`{"applicationType": "gecko", "marionetteProtocol":
3}`); then every command is `[0, id, name, params]` and its answer `[1, id, error, result]`,
where `error` is null or `{"error", "message", "stacktrace"}`.

Only the commands the Thunderbird test needs are wrapped: a session, the chrome context (the
application's own privileged code, where `Services`, `ChromeUtils` and the calendar modules
are), script timeouts and script execution. A script's value is `return`ed; a script that
returns a Promise is awaited by Marionette (WebDriver "execute script" semantics).
"""
from __future__ import annotations

import json
import socket
import time


class MarionetteError(RuntimeError):
    """An error answer from the application (JavaScript exception, timeout, bad command)."""

    def __init__(self, command: str, error: dict):
        self.error = error.get("error", "")
        self.message = error.get("message", "")
        self.stacktrace = error.get("stacktrace", "")
        super().__init__(f"{command}: {self.error}: {self.message}\n{self.stacktrace}".rstrip())


class Marionette:
    """One connection to a Marionette server. Every socket operation is bounded by `timeout`
    seconds, plus the script timeout for script commands."""

    def __init__(self, host: str, port: int, timeout: float = 30.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._buf = b""
        self._next_id = 1
        self.script_timeout_s = 30.0
        self.greeting = self._read_message()
        if self.greeting.get("marionetteProtocol") != 3:
            raise RuntimeError(f"unexpected Marionette greeting: {self.greeting!r}")

    @classmethod
    def connect(cls, host: str, port: int, deadline_s: float = 30.0) -> "Marionette":
        """Connects, retrying while the server is not listening yet (it starts with the app)."""
        deadline = time.monotonic() + deadline_s
        while True:
            try:
                return cls(host, port)
            except (ConnectionRefusedError, ConnectionResetError, socket.timeout):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- wire ----------------------------------------------------------------------------------

    def _read_message(self, timeout: float | None = None):
        self.sock.settimeout(timeout or self.timeout)
        while b":" not in self._buf:
            self._recv()
        length_text, rest = self._buf.split(b":", 1)
        length = int(length_text)
        self._buf = rest
        while len(self._buf) < length:
            self._recv()
        body, self._buf = self._buf[:length], self._buf[length:]
        return json.loads(body)

    def _recv(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("Marionette closed the connection")
        self._buf += chunk

    def command(self, name: str, params: dict | None = None, timeout: float | None = None):
        """Sends one command and returns its result (the `value` field when there is one)."""
        msg_id = self._next_id
        self._next_id += 1
        body = json.dumps([0, msg_id, name, params or {}]).encode("utf-8")
        self.sock.sendall(str(len(body)).encode("ascii") + b":" + body)
        while True:
            answer = self._read_message(timeout)
            if isinstance(answer, list) and len(answer) == 4 and answer[0] == 1 \
                    and answer[1] == msg_id:
                break  # anything else would be a stale answer to an abandoned command
        _, _, error, result = answer
        if error:
            raise MarionetteError(name, error)
        if isinstance(result, dict) and set(result) == {"value"}:
            return result["value"]
        return result

    # -- WebDriver commands --------------------------------------------------------------------

    def new_session(self) -> dict:
        return self.command("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {}}})

    def set_context(self, context: str) -> None:
        """"chrome" (the application's privileged code) or "content" (web pages)."""
        self.command("Marionette:SetContext", {"value": context})

    def set_script_timeout(self, seconds: float) -> None:
        self.script_timeout_s = seconds
        self.command("WebDriver:SetTimeouts", {"script": int(seconds * 1000)})

    def execute(self, script: str, args: list | None = None, timeout: float | None = None):
        """Runs `script` (a function body: `arguments[i]` are `args`, `return` gives the value;
        a returned Promise is awaited) and returns its value converted to JSON."""
        wait = timeout if timeout is not None else self.script_timeout_s + self.timeout
        return self.command("WebDriver:ExecuteScript",
                            {"script": script, "args": args or [], "newSandbox": False},
                            timeout=wait)

    def run(self, body: str, args: list | None = None, timeout: float | None = None):
        """Like `execute`, but `body` is the body of an async function, so it may `await`."""
        script = ("const outer = arguments;\n"
                  "return (async function () {\n" + body + "\n}).apply(null, outer);")
        return self.execute(script, args, timeout)

    def delete_session(self) -> None:
        self.command("WebDriver:DeleteSession")

    def quit(self) -> None:
        """Asks the application to quit (it then closes the connection)."""
        try:
            self.command("Marionette:Quit", {"flags": ["eForceQuit"]}, timeout=15)
        except (ConnectionError, OSError):
            pass
