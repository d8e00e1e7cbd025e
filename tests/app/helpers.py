"""Small stand-ins for the operating tests: scripted providers, an engine on a real SQLite file."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx
from PIL import Image

from bot.config import Settings
from bot.engine.pipeline import Delivery, Engine
from bot.ledger import SQLiteLedger
from bot.media.fetch import SafeFetcher
from bot.providers.base import Capabilities, Provider, ProviderCall, ProviderOutput
from bot.providers.router import Router
from bot.request.models import GeneratedImage, GenerationRequest, GenerationResult, Job, Requester
from bot.request.validation import MODELS
from tests.botproc import SETTING_PREFIXES

REPO = Path(__file__).resolve().parents[2]
ALICE = Requester(platform="discord", user_id="1", channel_id="c1")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def cli_args(*args: str) -> list[str]:
    """`seedbot ARGS` reading no .env file (the test's environment is the whole configuration)."""
    return ["--env-file", os.devnull, *args]  # an empty file: a missing one is refused


def bot_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *cli_args(*args)]


def jpeg(index: int = 0) -> GeneratedImage:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (20 * index % 256, 90, 200)).save(buf, format="JPEG")
    return GeneratedImage(buf.getvalue(), "image/jpeg", 16, 16)


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    overrides.setdefault("database", str(tmp_path / "bot.db"))
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


def fox(**kw: Any) -> GenerationRequest:
    kw.setdefault("model", "5.0-lite")
    return GenerationRequest(prompt="a red fox", **kw)


class SlowProvider(Provider):
    """Blocks in generate() until released (or forever); reports a task id when given one."""

    __test__ = False
    name: ClassVar[str] = "slow"
    capabilities: ClassVar[Capabilities] = Capabilities(models=frozenset(MODELS))

    def __init__(
        self, config: Settings, *, task_id: str | None = None, error: Exception | None = None
    ) -> None:
        super().__init__(config, httpx.AsyncClient(), SafeFetcher(httpx.AsyncClient()))
        self.task_id = task_id
        self.error = error
        self.go = asyncio.Event()
        self.started = 0
        self.resumed: list[str] = []

    def api_key(self) -> str:
        return ""

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        self.started += 1
        if self.task_id is not None:
            await call.on_task_id(self.task_id)
        await self.go.wait()
        if self.error is not None:
            raise self.error
        return ProviderOutput([jpeg(i) for i in range(call.request.count)])


class ResumableSlowProvider(SlowProvider):
    name: ClassVar[str] = "resumable"
    capabilities: ClassVar[Capabilities] = Capabilities(models=frozenset(MODELS), resumable=True)

    async def resume(self, task_id: str, call: ProviderCall) -> ProviderOutput:
        self.resumed.append(task_id)
        return ProviderOutput([jpeg(i) for i in range(call.request.count)])


@dataclass
class Harness:
    engine: Engine
    ledger: SQLiteLedger

    async def close(self) -> None:
        await self.engine.wait_background()
        await self.ledger.close()

    async def row(self, sql: str, *params: Any) -> Any:
        rows = list(await self.ledger.db.execute_fetchall(sql, params))
        return rows[0][0] if rows else None


async def open_engine(config: Settings, *providers: Provider) -> Harness:
    ledger = SQLiteLedger(
        config.database, daily_limit=config.daily_images, monthly_limit=config.monthly_images
    )
    await ledger.open()

    async def no_sleep(delay: float) -> None:
        return None

    return Harness(Engine(config, ledger, Router(list(providers), retries=0, sleep=no_sleep)), ledger)


async def deliver_all(result: GenerationResult) -> Delivery:
    return Delivery(len(result.images), ("m1",))


@dataclass
class Hooks:
    delivered: list[tuple[Job, GenerationResult]] = field(default_factory=list)
    notices: list[tuple[Job, str]] = field(default_factory=list)

    async def deliver(self, job: Job, result: GenerationResult) -> Delivery:
        self.delivered.append((job, result))
        return Delivery(len(result.images), ("resumed",))

    async def notify(self, job: Job, text: str) -> None:
        self.notices.append((job, text))


async def until(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)
