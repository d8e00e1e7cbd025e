"""Test providers and small helpers for the engine and restart-recovery tests.

The providers implement the real Provider interface; they stand in for an image service that
fails, blocks until told to go on, or can be resumed after a restart.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import httpx
from PIL import Image

from bot.config import Settings
from bot.conversation.community import Community
from bot.conversation.conversation import Conversation
from bot.engine.pipeline import Delivery, Engine, PlatformHooks, ProgressEvent
from bot.errors import ProviderError, ProviderErrorKind
from bot.ledger import Ledger, SQLiteLedger, open_ledger
from bot.media.fetch import SafeFetcher
from bot.providers.base import Capabilities, Provider, ProviderCall, ProviderOutput
from bot.providers.router import Router
from bot.request.models import GeneratedImage, GenerationRequest, GenerationResult, Job, Requester
from bot.request.validation import MODELS

ALL_MODELS = frozenset(MODELS)


ALICE = Requester(platform="discord", user_id="1", workspace_id="g1", channel_id="c1", display_name="Alice")
BOB = Requester(platform="discord", user_id="2", workspace_id="g1", channel_id="c1", display_name="Bob")
CAROL = Requester(platform="slack", user_id="T1:U3", workspace_id="T1", channel_id="C9", display_name="Carol")


def fox(**kw: object) -> GenerationRequest:
    kw.setdefault("prompt", "a red fox in the snow")
    return GenerationRequest(**kw)  # type: ignore[arg-type]


async def used(ledger: SQLiteLedger, requester: Requester) -> int:
    """Images `requester` used today."""
    return (await ledger.quota(requester.key)).day_used


def small_jpeg(index: int = 0) -> GeneratedImage:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (10 * index % 256, 100, 200)).save(buf, format="JPEG")
    return GeneratedImage(buf.getvalue(), "image/jpeg", 16, 16)


def settings(tmp_path: Any, **overrides: Any) -> Settings:
    overrides.setdefault("database", str(tmp_path / "engine.db"))
    return Settings(_env_file=None, **overrides)


async def until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    """Wait (yielding to the loop) until `condition()` holds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.002)


class TestProvider(Provider):
    """A scripted provider: records its calls, optionally blocks, fails or returns N images."""

    __test__ = False
    name: ClassVar[str] = "scripted"
    capabilities: ClassVar[Capabilities] = Capabilities(models=ALL_MODELS)

    def __init__(
        self,
        settings: Settings,
        *,
        images: int | None = None,
        failed: int = 0,
        error: ProviderError | None = None,
        block: bool = False,
        task_id: str | None = None,
    ) -> None:
        super().__init__(settings, httpx.AsyncClient(), SafeFetcher(httpx.AsyncClient()))
        self.images = images  # None: as many as asked
        self.failed = failed
        self.error = error
        self.block = block
        self.task_id = task_id
        self.calls: list[str] = []  # prompts, in the order generate() was entered
        self.resumed: list[str] = []  # task ids resume() was given
        self.gates: list[asyncio.Event] = []
        self.running = 0
        self.max_running = 0

    def api_key(self) -> str:
        return ""

    async def _images(self, call: ProviderCall) -> ProviderOutput:
        n = call.request.count if self.images is None else self.images
        return ProviderOutput([small_jpeg(i) for i in range(n)], failed=self.failed, usage={"n": n})

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        self.calls.append(call.request.prompt)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            if self.task_id is not None:
                await call.on_task_id(self.task_id)
            await call.on_progress(25.0)
            if self.block:
                gate = asyncio.Event()
                self.gates.append(gate)
                await gate.wait()
            if self.error is not None:
                raise self.error
            return await self._images(call)
        finally:
            self.running -= 1

    def release(self, index: int | None = None) -> None:
        for gate in self.gates if index is None else [self.gates[index]]:
            gate.set()


class ResumableProvider(TestProvider):
    name: ClassVar[str] = "resumable"
    capabilities: ClassVar[Capabilities] = Capabilities(models=ALL_MODELS, resumable=True)

    async def resume(self, task_id: str, call: ProviderCall) -> ProviderOutput:
        self.resumed.append(task_id)
        if self.error is not None:
            raise self.error
        return await self._images(call)


class OtherProvider(TestProvider):
    name: ClassVar[str] = "other"


def provider_error(kind: ProviderErrorKind, provider: str = "scripted") -> ProviderError:
    return ProviderError(provider, kind, status=500, detail="scripted failure")


async def no_sleep(delay: float) -> None:
    return None


@dataclass
class Harness:
    """An engine on a real SQLite file, with what it reported."""

    engine: Engine
    ledger: Ledger  # SQLite unless the settings name a PostgreSQL database

    @cached_property
    def conversation(self) -> Conversation:
        return Conversation(self.engine, self.ledger, SafeFetcher(httpx.AsyncClient()))

    @property
    def community(self) -> Community:
        return self.conversation.community

    async def close(self) -> None:
        await self.engine.wait_background()
        await self.ledger.close()


async def open_engine(config: Settings, *providers: Provider, retries: int = 0) -> Harness:
    ledger = await open_ledger(config)  # SQLite, or PostgreSQL for a postgresql:// database
    router = Router(list(providers), retries=retries, sleep=no_sleep)
    return Harness(Engine(config, ledger, router), ledger)


@dataclass
class Events:
    """A progress callback that keeps every event."""

    seen: list[ProgressEvent] = field(default_factory=list)

    async def __call__(self, event: ProgressEvent) -> None:
        self.seen.append(event)

    def stages(self) -> list[str]:
        return [e.stage for e in self.seen]

    def positions(self) -> list[int | None]:
        return [e.position for e in self.seen if e.stage == "queued"]


@dataclass
class Deliverer:
    """The adapter's deliver callback: keeps results and says how many images were posted."""

    posted: int | None = None  # None: all of them
    fail: Exception | None = None
    message_ids: tuple[str, ...] = ()
    thread_id: str | None = None
    results: list[GenerationResult] = field(default_factory=list)

    async def __call__(self, result: GenerationResult) -> Delivery:
        self.results.append(result)
        if self.fail is not None:
            raise self.fail
        count = len(result.images) if self.posted is None else self.posted
        return Delivery(count, self.message_ids, self.thread_id)


@dataclass
class Hooks:
    """PlatformHooks for restart recovery, recording what the engine asked of the platform."""

    delivered: list[tuple[Job, GenerationResult]] = field(default_factory=list)
    notices: list[tuple[Job, str]] = field(default_factory=list)
    message_ids: tuple[str, ...] = ("resumed-1",)

    async def deliver(self, job: Job, result: GenerationResult) -> Delivery:
        self.delivered.append((job, result))
        return Delivery(len(result.images), self.message_ids)

    async def notify(self, job: Job, text: str) -> None:
        self.notices.append((job, text))

    def platform_hooks(self) -> PlatformHooks:
        return PlatformHooks(deliver=self.deliver, notify=self.notify)
