"""`python -m bench.memory_bot run --slack`: the bot as is, plus a memory probe for bench/memory.py.
Nothing here ships.

With SEEDBOT_BENCH_PROBE_DIR set, a daemon thread watches that directory. For each request
file `K.req` it runs a full `gc.collect()` and writes `K.json`: VmRSS, glibc's `mallinfo2()`
(bytes in use by malloc vs free but kept in its arenas), tracemalloc's traced size, and the
most numerous object types; with tracing on, also a tracemalloc snapshot `K.snap`. A request
whose text is `trim` then calls `malloc_trim(0)` and records VmRSS again. Tracing
(tracemalloc, SEEDBOT_BENCH_TRACE_FRAMES frames, default 8) is on unless
SEEDBOT_BENCH_TRACEMALLOC=0.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bot.app.cli import main

_MALLINFO2 = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost",
)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2]


_libc = ctypes.CDLL(ctypes.util.find_library("c"))
_libc.mallinfo2.restype = _Mallinfo2
_libc.malloc_trim.argtypes = [ctypes.c_size_t]


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _mallinfo() -> dict[str, int]:
    info = _libc.mallinfo2()
    # arena: bytes malloc got by brk/sbrk for the main arena plus the mmapped heaps of the other
    # arenas; hblkhd: bytes in big blocks mmapped one by one (freed at once); uordblks: bytes in
    # use; fordblks: free bytes malloc keeps.
    return {name: int(getattr(info, name)) for name in _MALLINFO2}


def probe(directory: Path, key: str, trim: bool) -> dict[str, Any]:
    gc.collect()
    out: dict[str, Any] = {"rss": _rss(), "malloc": _mallinfo()}
    if tracemalloc.is_tracing():
        out["traced"], out["traced_peak"] = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        tracemalloc.take_snapshot().dump(str(directory / f"{key}.snap"))
    types = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    out["objects"] = dict(types.most_common(40))
    out["objects_total"] = sum(types.values())
    if trim:
        _libc.malloc_trim(0)
        out["rss_after_trim"] = _rss()
        out["malloc_after_trim"] = _mallinfo()
    return out


def _watch(directory: Path) -> None:
    done: set[str] = set()
    while True:
        for req in sorted(directory.glob("*.req")):
            key = req.stem
            if key in done:
                continue
            done.add(key)
            result = probe(directory, key, trim=req.read_text().strip() == "trim")
            tmp = directory / f"{key}.json.tmp"
            tmp.write_text(json.dumps(result))
            tmp.rename(directory / f"{key}.json")
        time.sleep(0.1)


def _install() -> None:
    if os.environ.get("SEEDBOT_BENCH_TRACEMALLOC", "1") != "0":
        tracemalloc.start(int(os.environ.get("SEEDBOT_BENCH_TRACE_FRAMES", "8")))
    directory = os.environ.get("SEEDBOT_BENCH_PROBE_DIR")
    if directory:
        threading.Thread(target=_watch, args=(Path(directory),), daemon=True).start()


if __name__ == "__main__":
    _install()
    sys.exit(main())
