"""500 jobs through the real Engine and the four real providers while the provider emulators
fail at random: timeouts (a slow answer past the client's read timeout), 5xx, 429 with
Retry-After, 504 pages, malformed JSON, bodies cut off mid-way, partial batches and broken
result links. Every job must end delivered (charged exactly the images delivered) or refunded
and told (an error carrying user text); the ledger must balance with no reservation open.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter
from pathlib import Path

import httpx

from bot.config import Settings
from bot.engine.pipeline import Delivery, Engine
from bot.errors import SeedbotError
from bot.ledger import open_ledger
from bot.media.fetch import SafeFetcher
from bot.providers.registry import build_providers
from bot.providers.router import Router
from bot.request.models import GenerationRequest, GenerationResult, JobStatus, Requester
from tests.emulators.providers import ProviderEmulator

JOBS = 500
WAVE = 25
SEED = 20240607
PROVIDERS = ("novita", "segmind", "apiframe", "modellix")
# (fault kind, params): what the emulators answer instead of the normal response.
FAULTS = [
    ("delay", {"seconds": 0.6}),  # past the 0.3 s read timeout: a client-side timeout
    ("server_error", {}),
    ("unavailable", {}),
    ("gateway_timeout", {}),
    ("rate_limited", {"retry_after": 0.01}),
    ("malformed_json", {}),
    ("slow_body", {"seconds": 0.6}),  # the body is cut off by the read timeout
    ("not_found", {}),
]


async def test_500_jobs_under_random_provider_faults(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    async with ProviderEmulator() as emu:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database=str(tmp_path / "faults.db"),
            allow_private_network=True,
            daily_images=100_000,
            monthly_images=100_000,
            max_concurrency=16,
            user_concurrency=4,
            poll_interval=0.01,
            provider_retries=1,
            provider_deadline=5.0,
            **emu.settings_kwargs(),
        )
        timeout = httpx.Timeout(connect=2.0, read=0.3, write=2.0, pool=5.0)
        async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=100)) as http:
            fetcher = SafeFetcher(http, allow_private=True)

            async def fast_sleep(seconds: float) -> None:
                await asyncio.sleep(min(seconds, 0.01))

            router = Router(
                build_providers(settings, http, fetcher),
                retries=settings.provider_retries,
                base_delay=0.001,
                max_delay=0.01,
                deadline=settings.provider_deadline,
                sleep=fast_sleep,
            )
            ledger = await open_ledger(settings)
            engine = Engine(settings, ledger, router, progress_interval=60.0)
            delivered_images: Counter[str] = Counter()
            outcomes: Counter[str] = Counter()
            injected: Counter[str] = Counter()
            told: list[str] = []

            async def one(i: int, count: int) -> None:
                requester = Requester("cli", f"user{i % 20}", channel_id="c")

                async def deliver(result: GenerationResult) -> Delivery:
                    delivered_images[requester.key] += len(result.images)
                    return Delivery(len(result.images), (f"m{i}",))

                try:
                    await engine.generate(
                        GenerationRequest(prompt=f"job {i}", count=count), requester, deliver=deliver
                    )
                    outcomes["delivered"] += 1
                except SeedbotError as exc:
                    assert exc.user_text.strip(), exc
                    told.append(exc.user_text)
                    outcomes["refunded and told"] += 1

            for wave in range(JOBS // WAVE):
                for name in PROVIDERS:
                    state = emu.state(name)
                    state.faults.clear()
                    state.deliver = rng.choice([None, None, None, 0, 1, 2])  # partial batches
                    state.broken = rng.choice([0, 0, 0, 1])  # a result link that 404s
                    for _ in range(rng.randint(0, 6)):
                        kind, params = rng.choice(FAULTS)
                        on = "poll" if name in ("apiframe", "modellix") and rng.random() < 0.4 else "submit"
                        state.fail(kind, on=on, **params)
                        injected[kind] += 1
                    injected["partial batch"] += state.deliver is not None
                    injected["broken result link"] += state.broken
                counts = [rng.randint(1, 4) for _ in range(WAVE)]
                async with asyncio.timeout(30):
                    await asyncio.gather(*(one(wave * WAVE + k, c) for k, c in enumerate(counts)))
            await engine.wait_background()

            assert sum(outcomes.values()) == JOBS, outcomes
            assert await ledger.open_reservations() == 0
            unfinished = await ledger.unfinished_jobs()
            assert unfinished == [], unfinished
            await ledger.close()

    with sqlite3.connect(tmp_path / "faults.db") as db:
        reserved, committed, states = db.execute(
            "SELECT SUM(amount), SUM(used), GROUP_CONCAT(DISTINCT state) FROM reservations"
        ).fetchone()
        jobs = dict(db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall())
        per_user = dict(
            db.execute("SELECT user_key, SUM(used) FROM reservations GROUP BY user_key").fetchall()
        )
        delivered_by_job = db.execute("SELECT SUM(images_delivered) FROM jobs").fetchone()[0]
        wrong = db.execute(
            "SELECT COUNT(*) FROM jobs j JOIN reservations r ON r.id = j.reservation_id "
            "WHERE r.used != j.images_delivered OR (j.status = 'failed' AND r.used != 0)"
        ).fetchone()[0]
    refunded = reserved - committed
    print(
        f"\nfaults: {JOBS} jobs, {sum(injected.values())} faults injected ({dict(injected)}); "
        f"{outcomes['delivered']} delivered, {outcomes['refunded and told']} refunded and told, lost 0; "
        f"ledger: reserved {reserved} = committed {committed} + refunded {refunded}, "
        f"open reservations 0, wrong charges {wrong}; jobs {jobs}"
    )
    assert states == "settled"
    assert reserved == committed + refunded
    assert committed == sum(delivered_images.values()) == delivered_by_job
    assert per_user == {k: v for k, v in delivered_images.items() if v} | {
        k: 0 for k in per_user if not delivered_images.get(k)
    }
    assert wrong == 0
    assert jobs.get(JobStatus.SUCCEEDED.value, 0) + jobs.get(JobStatus.FAILED.value, 0) == JOBS
    assert outcomes["delivered"] > 0 and outcomes["refunded and told"] > 0
