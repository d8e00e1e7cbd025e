"""The values a job passes around: what was admitted, progress events, what was delivered,
the hooks a surface gives for jobs resumed after a restart, and the job's stored request."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot import messages
from bot.errors import ProviderErrorKind
from bot.request.models import GeneratedImage, GenerationRequest, GenerationResult, ImageInput, Job
from bot.request.validation import ValidatedRequest
from bot.request.workspace import WorkspacePolicy

__all__ = [
    "Admitted",
    "Deliver",
    "Delivery",
    "PlatformHooks",
    "Progress",
    "ProgressEvent",
    "Stream",
    "all_failed_kind",
    "now_iso",
    "quiet",
    "request_from_json",
    "request_to_json",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    stage: str  # "queued", "running", "done"
    position: int | None = None
    elapsed: float = 0.0
    percent: float | None = None
    provider: str | None = None

    def text(self) -> str:
        if self.stage == "queued":
            return messages.queued(self.position or 1)
        if self.stage == "running":
            return messages.running(self.elapsed, self.percent)
        # "done": surfaces show the result instead (it was an English "Done." none showed)
        return messages.running(self.elapsed, 100.0)


Progress = Callable[[ProgressEvent], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Admitted:
    """A request that passed validation and the workspace's rules, with its price."""

    request: GenerationRequest
    validated: ValidatedRequest
    policy: WorkspacePolicy
    weight: int  # quota units per image

    @property
    def cost(self) -> int:
        return self.weight * self.validated.count


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the adapter posted: how many images reached the user, and the messages holding them."""

    delivered: int
    message_ids: tuple[str, ...] = ()
    thread_id: str | None = None


Deliver = Callable[[GenerationResult], Awaitable[Delivery]]

# One image of a streamed batch (job id, index in the batch, image): True when it reached the user.
Stream = Callable[[str, int, GeneratedImage], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class PlatformHooks:
    """How the engine reaches a platform for jobs it resumes after a restart."""

    deliver: Callable[[Job, GenerationResult], Awaitable[Delivery]]
    notify: Callable[[Job, str], Awaitable[None]]  # tell the user in plain words


def request_to_json(request: GenerationRequest) -> dict[str, Any]:
    data = dataclasses.asdict(dataclasses.replace(request, images=()))  # the images are kept apart
    data.pop("images")
    data["image_count"] = len(request.images)
    return data


def request_from_json(data: dict[str, Any], images: list[ImageInput]) -> GenerationRequest:
    fields = {f.name for f in dataclasses.fields(GenerationRequest)} - {"images"}
    return GenerationRequest(images=tuple(images), **{k: v for k, v in data.items() if k in fields})


async def quiet(progress: Progress | None, event: ProgressEvent) -> None:
    """Progress is best effort: a failed status edit must never fail the job."""
    if progress is None:
        return
    try:
        await progress(event)
    except Exception:
        log.warning("progress callback failed", exc_info=True)


def all_failed_kind(failed: int) -> ProviderErrorKind:
    # Every image refused one by one is almost always the content filter.
    return ProviderErrorKind.MODERATION if failed else ProviderErrorKind.UNAVAILABLE


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
