"""`seedbot run` with no chat platform, as a subprocess: the playground exactly as `make run`
starts it. Synchronous (the browser tests drive Playwright's sync API): its stdout and stderr
are collected line by line on threads; `wait` blocks until a line matches.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.botproc import SETTING_PREFIXES

REPO = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"web: listening on (http://\S+)$")


def web_env(database: Path, **values: str) -> dict[str, str]:
    """This process's environment without any seedbot, platform or provider setting; a free port;
    `values` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    env.update(
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(REPO),
        SEEDBOT_DATABASE=str(database),
        SEEDBOT_LOG_LEVEL="INFO",
        SEEDBOT_WEB_PORT="0",
    )
    env.update(values)
    return env


class WebProcess:
    def __init__(self, env: dict[str, str], cwd: Path, args: tuple[str, ...] = ("run",)) -> None:
        self.env = env
        self.cwd = cwd
        self.args = args
        self.out: list[str] = []
        self.err: list[str] = []
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def start(self) -> WebProcess:
        self.proc = subprocess.Popen(  # noqa: S603 - this interpreter, the tests' own arguments
            [sys.executable, "-m", "bot", *self.args],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, lines), daemon=True).start()
        return self

    def _read(self, stream: object, lines: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._lock:
                lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        with self._lock:
            return "\n".join(["--- stdout", *self.out, "--- stderr", *self.err])

    def wait(self, pattern: str, *, stdout: bool = False, timeout: float = 30.0) -> str:
        """The first line (of stderr, or stdout) matching `pattern`; fails if the process ends."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [line for line in (self.out if stdout else self.err) if rx.search(line)]
            if found:
                return found[0]
            assert self.proc is not None
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the readers catch the last lines
                raise AssertionError(
                    f"seedbot exited ({self.proc.returncode}) before {pattern!r}:\n{self.log}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not seen within {timeout}s:\n{self.log}")
            time.sleep(0.05)

    def ready(self, timeout: float = 30.0) -> str:
        line = self.wait(_LISTENING.pattern, timeout=timeout)
        match = _LISTENING.search(line)
        assert match
        self.url = match.group(1)
        return self.url

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"seedbot did not stop on {sig.name}:\n{self.log}") from None

    def finish(self, timeout: float = 30.0) -> int:
        """The exit code of a process that ends by itself."""
        assert self.proc is not None
        code = self.proc.wait(timeout)
        time.sleep(0.2)
        return code


def fetch(url: str, *, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET without following redirects: (status, headers, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - a loopback test URL
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
