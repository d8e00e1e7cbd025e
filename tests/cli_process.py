"""`python -m bot ARGS` as its own process, forked from a server that has already imported seedbot.

Each CLI test runs the real command in a real process: its own pid, working directory,
environment, stdout/stderr and exit code, with `sys.argv[0]` as `python -m bot` sets it. Only the
start-up differs: a fresh interpreter spends about a second importing the package (aiohttp,
pydantic, Pillow, the catalogs) before it parses an argument, and the suite runs hundreds of
commands. multiprocessing's forkserver imports it once, in a process of its own with no threads,
and forks each command from there: about 50 ms instead. Tests that watch a process live (signals,
streamed output, `seedbot run`) still start a new interpreter (tests/botproc.py).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import runpy
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

_FORKS = multiprocessing.get_context("forkserver")
# A forkserver child's exit code is read off its sentinel pipe, once: Process.start() polls every
# other child (multiprocessing's _cleanup), so a start in one thread and a join in another could
# both read one child's pipe, and the loser got EOF, reported as exit code 255 (in_parallel's
# threads hit it). Starts and exit-code reads take turns; the waiting itself does not.
_TURNS = threading.Lock()
# What the commands import (each its own, when it runs); seedbot's modules read no environment
# or directory when imported.
_FORKS.set_forkserver_preload(
    [
        "bot.app.cli",
        "bot.app.cli.admin",
        "bot.app.cli.backup",
        "bot.app.cli.generate",
        "bot.app.cli.run",
        "bot.app.doctor",
    ]
)


def _as_main(cwd: str, env: dict[str, str], args: list[str], out: str, err: str) -> None:
    """In the forked process: become `python -m bot ARGS` run in `cwd` with exactly `env`."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):
        opened = os.open(path, os.O_WRONLY)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = ["-m", *args]  # runpy puts the module's path first, as `python -m` does
    # bot/__main__.py ends in sys.exit(main()): multiprocessing makes that the exit code, and an
    # uncaught exception a traceback on stderr and exit code 1, as the interpreter does.
    runpy.run_module("bot", run_name="__main__", alter_sys=True)


def run_cli(
    cwd: Path, args: list[str], env: dict[str, str], *, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the command to its end; what it wrote, as subprocess.run(..., text=True) returns it."""
    with tempfile.TemporaryDirectory(prefix="seedbot-cli-") as scratch:
        out, err = Path(scratch, "stdout"), Path(scratch, "stderr")
        out.touch()
        err.touch()
        process = _FORKS.Process(target=_as_main, args=(str(cwd), env, args, str(out), str(err)))
        with _TURNS:
            process.start()
        ended = multiprocessing.connection.wait([process.sentinel], timeout)  # only looks
        with _TURNS:
            if not ended:
                process.kill()
                process.join()
                raise subprocess.TimeoutExpired(["python", "-m", "bot", *args], timeout)
            process.join()
            code = process.exitcode  # negative when a signal ended it, as subprocess says
            process.close()
        return subprocess.CompletedProcess(
            ["python", "-m", "bot", *args],
            code,
            out.read_text(encoding="utf-8"),
            err.read_text(encoding="utf-8"),
        )


async def run_cli_async(
    cwd: Path, args: list[str], env: dict[str, str], *, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """run_cli for a test whose emulators serve on this event loop, which must keep running."""
    return await asyncio.to_thread(run_cli, cwd, args, env, timeout=timeout)
