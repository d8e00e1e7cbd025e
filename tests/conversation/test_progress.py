"""ProgressRelay: a job's progress shown in one message, throttled, never after stop()."""

from __future__ import annotations

import asyncio

from bot import messages
from bot.conversation.progress import ProgressRelay
from bot.conversation.surface import Progress
from bot.engine.pipeline import ProgressEvent


async def test_progress_relay_throttles_and_stops_last() -> None:
    shown: list[str] = []
    gate = asyncio.Event()

    async def show(progress: Progress) -> None:
        shown.append(progress.text)
        if len(shown) == 1:
            await gate.wait()  # the first edit is slow

    relay = ProgressRelay(show, min_interval=60.0, footer="image 1 = cat.png")
    await relay(ProgressEvent("queued", position=2))
    await asyncio.sleep(0)
    await relay(ProgressEvent("queued", position=1))  # same stage: waits for the interval
    await relay(ProgressEvent("running", elapsed=3, percent=50))  # a new stage: at once
    gate.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert shown == [
        f"{messages.queued(2)}\nimage 1 = cat.png",
        f"{messages.running(3, 50)}\nimage 1 = cat.png",
    ]
    await relay(ProgressEvent("running", elapsed=5, percent=60))  # within the interval
    await relay.stop()
    await relay(ProgressEvent("running", elapsed=9, percent=90))
    await asyncio.sleep(0)
    assert len(shown) == 2  # nothing after stop(): the caller's edit is the last
    assert "█" in shown[1]
