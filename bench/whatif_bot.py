"""`python -m bench.whatif_bot run --slack`: the bot with one candidate fix applied in memory,
to measure it before proposing it (bench/whatif.py). Nothing here ships.

The fix: a provider's result image is measured (a full decode, ~30 ms for a 3 MB 2K JPEG) on a
worker thread instead of on the event loop, where it holds up every other job and every ack.
"""

from __future__ import annotations

import asyncio
import sys

from bot.app.cli import main
from bot.providers import base
from bot.request.models import GeneratedImage


async def _download_one(self: base.Provider, url: str) -> GeneratedImage:
    fetched = await self.fetcher.fetch(url, max_bytes=base.RESULT_MAX_BYTES, timeout=60.0, name="result")
    return await asyncio.to_thread(base.image_from_bytes, fetched.data)


base.Provider._download_one = _download_one  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
