"""`python -m bench.counts_bot run --slack` (or --discord, --web): the bot as it is, with counters
for bench/counts.py (issue 17: where the time goes per job). Nothing here ships.

Counted from inside the process, by wrapping library entry points (nothing in bot/ or adapters/
knows): database statements by kind and aiosqlite round trips, with the CPU each took on
aiosqlite's thread (not sqlite3's trace callback: Python hands it the statement with every
parameter expanded, a 3 MB blob as 6 MB of hex, which costs more than the insert itself), log
records by logger and level, outgoing HTTP calls (aiohttp and httpx) by method, host and path
shape, sockets opened and name lookups, thread hops (`run_in_executor`, which `to_thread` uses)
by function, tasks created; and the CPU seconds of the process (`time.process_time`) and of
each live thread (/proc/self/task/TID/stat).

With SEEDBOT_BENCH_PROBE_DIR set, a daemon thread watches that directory: for each request
file `K.req` it writes `K.json`, a snapshot of every counter (the driver diffs two of them).
With SEEDBOT_BENCH_PROFILE set, SIGUSR1 and SIGUSR2 start and stop a CPU-time cProfile of the
event loop (bench/pairs.py's `probe` sends them around the measured run).
"""

from __future__ import annotations

import asyncio
import collections
import cProfile
import json
import logging
import os
import re
import resource
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import aiosqlite
import httpx

from bot.app.cli import main

COUNTERS: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
TIMES: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
_LOCK = threading.Lock()
_ID = re.compile(r"^(?=.*\d)[\w.-]{6,}$")  # a path segment that is an id (digits, hex, ts)
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def count(kind: str, key: str) -> None:
    with _LOCK:
        COUNTERS[kind][key] += 1


def path_shape(url: object) -> str:
    parts = urlsplit(str(url))
    segments = ["{id}" if _ID.match(s) else s for s in parts.path.split("/")]
    return f"{parts.hostname}:{parts.port} {'/'.join(segments)}"


# -- database ---------------------------------------------------------------------------------

_db_execute = aiosqlite.Connection._execute


def add(kind: str, key: str, amount: float) -> None:
    with _LOCK:
        TIMES[kind][key] += amount


async def _counted_db_execute(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
    name = getattr(fn, "__name__", type(fn).__name__)
    count("db_round_trips", name)
    what = f"{name} {args[0][:70]}" if args and isinstance(args[0], str) else name
    if args and isinstance(args[0], str):  # one statement, or one per row for executemany
        kind = args[0].split(None, 1)[0].upper() if args[0].strip() else "?"
        rows = len(args[1]) if name == "executemany" and len(args) > 1 else 1
        for _ in range(rows):
            count("sql", kind)
            count("sql_text", " ".join(args[0].split())[:110])

    def timed(*a: Any, **kw: Any) -> Any:  # runs on aiosqlite's thread: its CPU per statement
        started = resource.getrusage(resource.RUSAGE_THREAD)
        try:
            return fn(*a, **kw)
        finally:
            ended = resource.getrusage(resource.RUSAGE_THREAD)
            key = " ".join(what.split())
            add("db_thread_cpu_s", key, ended.ru_utime - started.ru_utime + ended.ru_stime - started.ru_stime)
            add("db_thread_sys_s", key, ended.ru_stime - started.ru_stime)
            add("db_thread_page_faults", key, ended.ru_minflt - started.ru_minflt)

    return await _db_execute(self, timed, *args, **kwargs)


aiosqlite.Connection._execute = _counted_db_execute  # type: ignore[method-assign]

# -- logging ----------------------------------------------------------------------------------

_call_handlers = logging.Logger.callHandlers


def _counted_call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
    count("log", f"{record.levelname} {record.name}")
    _call_handlers(self, record)


logging.Logger.callHandlers = _counted_call_handlers  # type: ignore[method-assign]

# -- outgoing HTTP ----------------------------------------------------------------------------

_aiohttp_request = aiohttp.ClientSession._request


async def _counted_aiohttp(self: aiohttp.ClientSession, method: str, url: Any, *a: Any, **kw: Any) -> Any:
    count("http", f"{method} {path_shape(url)}")
    return await _aiohttp_request(self, method, url, *a, **kw)


aiohttp.ClientSession._request = _counted_aiohttp  # type: ignore[method-assign]
_httpx_send = httpx.AsyncClient.send


async def _counted_httpx(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> httpx.Response:
    count("http", f"{request.method} {path_shape(request.url)}")
    return await _httpx_send(self, request, **kw)


httpx.AsyncClient.send = _counted_httpx  # type: ignore[method-assign]

# -- sockets, name lookups, thread hops, tasks ------------------------------------------------

_socket_init = socket.socket.__init__


def _counted_socket(self: socket.socket, *args: Any, **kwargs: Any) -> None:
    count("sockets", "opened (connect or accept)")
    _socket_init(self, *args, **kwargs)


socket.socket.__init__ = _counted_socket  # type: ignore[method-assign]
_create_connection = asyncio.BaseEventLoop.create_connection


async def _counted_connection(
    self: asyncio.BaseEventLoop, factory: Any, host: Any = None, port: Any = None, **kw: Any
) -> Any:
    count("connections", f"to {host}:{port}")
    return await _create_connection(self, factory, host, port, **kw)


asyncio.BaseEventLoop.create_connection = _counted_connection  # type: ignore[method-assign]
_getaddrinfo = socket.getaddrinfo


def _counted_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    count("name_lookups", str(host))
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _counted_getaddrinfo
_run_in_executor = asyncio.BaseEventLoop.run_in_executor


def _counted_executor(self: asyncio.BaseEventLoop, executor: Any, func: Any, *args: Any) -> Any:
    inner = func.args[0] if func.__class__.__name__ == "partial" and func.args else func
    inner = getattr(inner, "func", inner)  # a partial inside the partial
    count("thread_hops", getattr(inner, "__qualname__", type(inner).__name__))
    return _run_in_executor(self, executor, func, *args)


asyncio.BaseEventLoop.run_in_executor = _counted_executor  # type: ignore[method-assign]
_create_task = asyncio.BaseEventLoop.create_task


def _counted_task(self: asyncio.BaseEventLoop, coro: Any, *args: Any, **kwargs: Any) -> Any:
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    count("tasks", getattr(code, "co_qualname", "?"))
    return _create_task(self, coro, *args, **kwargs)


asyncio.BaseEventLoop.create_task = _counted_task  # type: ignore[method-assign]

# -- snapshots --------------------------------------------------------------------------------


def _thread_cpu() -> dict[str, float]:
    out: dict[str, float] = collections.defaultdict(float)
    for thread in threading.enumerate():
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # Pool workers are named after their pool and number: group them.
        name = re.sub(r"_\d+$", "", thread.name)
        out[name] += (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime
    return dict(out)


def snapshot() -> dict[str, Any]:
    with _LOCK:
        counters = {kind: dict(c) for kind, c in COUNTERS.items()}
        times = {kind: dict(c) for kind, c in TIMES.items()}
    return {
        "cpu_s": time.process_time(),
        "thread_cpu_s": _thread_cpu(),
        "counters": counters,
        "times": times,
    }


def _watch(directory: Path) -> None:
    done: set[str] = set()
    while True:
        for req in sorted(directory.glob("*.req")):
            if req.stem in done:
                continue
            done.add(req.stem)
            tmp = directory / f"{req.stem}.json.tmp"
            tmp.write_text(json.dumps(snapshot()))
            tmp.rename(directory / f"{req.stem}.json")
        time.sleep(0.02)


class _Profiler:
    """SIGUSR1: start a fresh cProfile of the event loop's thread, timed by that thread's CPU
    clock (waiting in epoll costs nothing, time taken by other threads does not count);
    SIGUSR2: stop it and write its stats to SEEDBOT_BENCH_PROFILE. The handlers run on the main
    thread, which is the one the profile follows."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.profile: cProfile.Profile | None = None
        signal.signal(signal.SIGUSR1, self.start)
        signal.signal(signal.SIGUSR2, self.stop)

    def start(self, *_: object) -> None:
        self.profile = cProfile.Profile(time.thread_time)
        self.profile.enable()

    def stop(self, *_: object) -> None:
        if self.profile is not None:
            self.profile.disable()
            self.profile.dump_stats(self.path)
            self.profile = None


if __name__ == "__main__":
    if os.environ.get("SEEDBOT_BENCH_PROFILE"):
        _Profiler(os.environ["SEEDBOT_BENCH_PROFILE"])
    probe_dir = os.environ.get("SEEDBOT_BENCH_PROBE_DIR")
    if probe_dir:
        threading.Thread(target=_watch, args=(Path(probe_dir),), name="bench-probe", daemon=True).start()
    sys.exit(main())
