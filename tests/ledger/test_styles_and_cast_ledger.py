"""Style presets and the saved cast in the ledger, on both backends: stored per workspace and
owner, the cast's cap held atomically, and cast images kept past the retention until removed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.ledger.base import StyleRow
from bot.ledger.retention import ImageRetention
from bot.request.models import GeneratedImage, JobStatus
from tests.ledger.conftest import MakeLedger
from tests.ledger.helpers import image, make_job

WS = "discord:900"


async def test_styles_are_kept_per_workspace(ledger: Any) -> None:
    await ledger.put_style(WS, StyleRow("noir", "black and white", aspect="3:2", model="4.5"))
    await ledger.put_style(WS, StyleRow("watercolor", hidden=True))
    await ledger.put_style("slack:T1", StyleRow("noir", "sepia"))
    assert await ledger.styles(WS) == [
        StyleRow("noir", "black and white", "3:2", None, "4.5", False),
        StyleRow("watercolor", "", None, None, None, True),
    ]
    await ledger.put_style(WS, StyleRow("noir", "charcoal", resolution="4K"))  # a change replaces it
    assert (await ledger.styles(WS))[0] == StyleRow("noir", "charcoal", None, "4K", None, False)
    assert await ledger.delete_style(WS, "noir") and not await ledger.delete_style(WS, "noir")
    assert [s.name for s in await ledger.styles(WS)] == ["watercolor"]
    assert [s.suffix for s in await ledger.styles("slack:T1")] == ["sepia"]


async def test_the_cast_keeps_names_per_owner_up_to_the_cap(ledger: Any) -> None:
    assert await ledger.save_cast("discord:1", "mia", image(1, "mia.png"), 2)
    assert await ledger.save_cast("discord:1", "hat", image(2, "hat.png"), 2)
    assert not await ledger.save_cast("discord:1", "tom", image(3), 2)  # full
    assert await ledger.save_cast("discord:1", "mia", image(4, "mia2.png"), 2)  # a new image for a name
    entries = await ledger.cast("discord:1")
    assert [(e.name, e.image.data, e.image.name) for e in entries] == [
        ("hat", image(2).data, "hat.png"),
        ("mia", image(4).data, "mia2.png"),
    ]
    assert await ledger.cast("discord:2") == []
    found = await ledger.cast_entry("discord:1", "hat")
    assert found is not None and (found.image.width, found.image.mime) == (12, "image/png")
    assert await ledger.cast_entry("discord:1", "tom") is None
    assert await ledger.remove_cast("discord:1", "hat") and not await ledger.remove_cast("discord:1", "hat")
    assert [e.name for e in await ledger.cast("discord:1")] == ["mia"]


async def test_two_processes_cannot_both_pass_the_cap(make_ledger: MakeLedger) -> None:
    first, second = await make_ledger(), await make_ledger()
    saved = await asyncio.gather(
        *(store.save_cast("discord:1", f"n{i}", image(i), 3) for i, store in enumerate([first, second] * 5))
    )
    assert saved.count(True) == 3 and len(await first.cast("discord:1")) == 3


async def test_retention_keeps_images_pinned_by_the_cast(ledger: Any) -> None:
    now = datetime.now(UTC)
    old = (now - timedelta(days=40)).isoformat()
    result = GeneratedImage(bytes([9]) * 400, "image/png", 30, 20)
    await ledger.create_job(make_job("old", created_at=old), (image(1, "cat.png"),))
    await ledger.save_outputs("old", [result])
    await ledger.finish_job("old", JobStatus.SUCCEEDED, delivered=1)
    kept = (await ledger.job_outputs("old"))[0]
    await ledger.save_cast("discord:42", "mia", kept, 30)

    jobs, blobs = await ImageRetention(ledger, 30).run_once(now)
    assert (jobs, blobs) == (1, 1)  # the job's images are forgotten; only the upload's blob goes
    assert await ledger.job_outputs("old") == []
    entry = await ledger.cast_entry("discord:42", "mia")
    assert entry is not None and entry.image.data == result.data  # pinned by the cast
    # Removed from the cast, nothing else uses it: the image goes with the entry.
    assert await ledger.remove_cast("discord:42", "mia")
    assert not await ledger.save_cast("discord:42", "x", kept, 0)  # a cap of 0 keeps nothing
    assert await ledger.cast("discord:42") == []
