"""Helpers shared by the provider tests (fixtures live in conftest.py)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image

from bot.config import Settings
from bot.media.fetch import SafeFetcher
from bot.providers.base import Provider, ProviderCall
from bot.providers.router import Router
from bot.request.models import GenerationRequest
from bot.request.validation import ValidatedRequest, validate

PROVIDERS = ("novita", "segmind", "apiframe", "modellix")
HOSTS = ("ark", "fal", "replicate")  # the further hosts (tests/providers/test_hosts_*.py)
ALL_PROVIDERS = (*PROVIDERS, *HOSTS)  # the default routing order


def png(width: int = 32, height: int = 24, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def vreq(prompt: str = "a red fox in the snow", **kwargs: Any) -> ValidatedRequest:
    return validate(GenerationRequest(prompt=prompt, **kwargs))


@dataclass
class Hooks:
    task_ids: list[str] = field(default_factory=list)
    progress: list[float] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)

    async def on_task_id(self, task_id: str) -> None:
        self.task_ids.append(task_id)

    async def on_progress(self, percent: float) -> None:
        self.progress.append(percent)

    async def on_provider(self, name: str) -> None:
        self.providers.append(name)


def make_call(
    req: ValidatedRequest, hooks: Hooks | None = None, *, job_id: str = "job-1", deadline: float = 20.0
) -> ProviderCall:
    hooks = hooks or Hooks()
    return ProviderCall(req, job_id, deadline, hooks.on_task_id, hooks.on_progress)


@dataclass
class Sleeps:
    delays: list[float] = field(default_factory=list)

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def fast_router(providers: list[Provider], sleeps: Sleeps | None = None, **kwargs: Any) -> Router:
    return Router(providers, sleep=sleeps or Sleeps(), base_delay=0.01, deadline=20.0, **kwargs)


async def route(
    router: Router, req: ValidatedRequest, hooks: Hooks | None = None, job_id: str = "job-1"
) -> Any:
    hooks = hooks or Hooks()
    return await router.generate(
        req,
        job_id,
        on_provider=hooks.on_provider,
        on_task_id=hooks.on_task_id,
        on_progress=hooks.on_progress,
    )


def offline(cls: type[Provider]) -> Provider:
    """A provider instance for pure mapping tests (its client is never used)."""
    client = httpx.AsyncClient()
    return cls(Settings(_env_file=None), client, SafeFetcher(client))  # type: ignore[call-arg]
