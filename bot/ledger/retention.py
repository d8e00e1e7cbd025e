"""How long reference and result images are kept: SEEDBOT_IMAGE_RETENTION_DAYS.

Edits, re-rolls and variations need a job's images, so the ledger keeps them; at about 3 MB per
2K result that is 1.5 GB per 500 images. At start and then every hour, the images of finished
jobs older than the retention are removed; the jobs themselves stay, for /history, stats and
lineage. Freeing a blob costs SQLite a read of its whole overflow chain (about 19 ms per 3 MB
image here, under the single write lock), so it goes in small batches with a pause between them
for the jobs' own writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from bot.ledger import Ledger

__all__ = ["ImageRetention"]

log = logging.getLogger(__name__)


class ImageRetention:
    def __init__(
        self, ledger: Ledger, days: int, *, every: float = 3600.0, batch: int = 10, pause: float = 0.05
    ) -> None:
        self.ledger = ledger
        self.days = days  # 0: keep every image for ever
        self.every = every
        self.batch = batch
        self.pause = pause
        self._task: asyncio.Task[None] | None = None

    async def run_once(self, now: datetime | None = None) -> tuple[int, int]:
        """Expire everything past the retention now; returns (jobs, blobs) removed."""
        if self.days <= 0:
            return 0, 0
        before = (now or datetime.now(UTC)) - timedelta(days=self.days)
        jobs = blobs = 0
        while True:
            done, freed = await self.ledger.expire_images(before, self.batch)
            jobs, blobs = jobs + done, blobs + freed
            if done < self.batch:
                break
            await asyncio.sleep(self.pause)  # let the jobs' writes in between batches
        if jobs:
            log.info("image retention: removed the images of %d job(s) older than %d day(s)", jobs, self.days)
        return jobs, blobs

    def start(self) -> None:
        if self.days > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="seedbot-image-retention")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # a failed pass (a database hiccup) is retried at the next one
                log.warning("image retention: pass failed", exc_info=True)
            await asyncio.sleep(self.every)
