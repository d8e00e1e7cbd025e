"""The idle trimmer: it finds glibc's malloc_trim here (Linux/glibc), runs at once when it
may, and otherwise once its interval is over, only if still idle."""

from __future__ import annotations

import asyncio

from bot.engine.memory import IdleTrimmer


async def test_trims_at_once_then_defers_within_the_interval() -> None:
    idle = True
    trimmer = IdleTrimmer(lambda: idle, min_interval=0.2)
    assert trimmer.available
    trimmer.request()
    assert trimmer.trims == 1
    trimmer.request()
    trimmer.request()  # one deferred trim, not two
    assert trimmer.trims == 1
    await asyncio.sleep(0.35)
    assert trimmer.trims == 2


async def test_a_deferred_trim_is_skipped_when_work_started() -> None:
    idle = True
    trimmer = IdleTrimmer(lambda: idle, min_interval=0.2)
    trimmer.request()
    trimmer.request()
    idle = False
    await asyncio.sleep(0.35)
    assert trimmer.trims == 1
    trimmer.cancel()
