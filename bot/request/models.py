"""The platform-free data the engine works on: requests, requesters, results, jobs.

Adapters build these from interactions and events; the engine and providers never see a
Discord or Slack object.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "GeneratedImage",
    "GenerationRequest",
    "GenerationResult",
    "ImageInput",
    "Job",
    "JobKind",
    "JobStatus",
    "PostTarget",
    "Requester",
    "extension",
    "parse_result_filename",
    "result_filename",
]


@dataclass(frozen=True, slots=True)
class ImageInput:
    """A reference image, already downloaded, sniffed and measured."""

    data: bytes = field(repr=False)
    mime: str
    width: int
    height: int
    name: str = ""
    # A public URL for the same bytes, for providers that only take URLs (Apiframe, Modellix).
    url: str | None = None
    # Where it came from: "upload", or "result:<job id>" for an earlier result of ours.
    source: str = "upload"
    # The key its bytes are kept under in the ledger, when they were read from it (a result or a
    # cast image used again): kept again under it, neither hashed nor stored a second time.
    blob: str | None = field(default=None, compare=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """What the user asked for, before validation fills in sizes."""

    prompt: str
    images: tuple[ImageInput, ...] = ()
    model: str = "5.0-lite"
    # A tier ("2K", "3K", "4K") or None for the model's default tier.
    resolution: str | None = None
    # An explicit size; when set it is validated as is, never adjusted.
    width: int | None = None
    height: int | None = None
    aspect: str | None = None  # "W:H"
    count: int = 1
    output_format: str = "jpeg"
    watermark: bool = False
    optimize: str = "standard"
    provider: str | None = None  # force one provider (CLI --provider)
    style: str | None = None  # the style preset whose words end the prompt (shown in Info)

    @property
    def is_edit(self) -> bool:
        return bool(self.images)


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked, and from where. `key` names the user everywhere (quotas, admins, logs)."""

    platform: str  # "discord", "slack", "cli"
    user_id: str  # discord: "123"; slack: "T123:U456"; cli: "local"
    workspace_id: str | None = None  # guild id / Slack team id
    channel_id: str | None = None
    display_name: str = ""
    # The channel a thread belongs to (for per-server channel allow-lists), when in a thread.
    parent_channel_id: str | None = None
    # The surface says this person manages the server/workspace (Discord: Manage Server).
    manages_workspace: bool = False
    # The bot is not a member where this person asked: they brought it along through their own
    # install. It can answer only through the request itself (no threads, no posts of its own),
    # and the workspace's pool, settings and channel rules do not apply: their own quota does.
    guest: bool = False
    # The person's language as their platform names it ("ja", "pt-BR"; bot/i18n.normalize reads
    # it), for what they alone read; None: English.
    locale: str | None = None
    # The server's or workspace's language, for what everyone there reads (a public result, a
    # status message); None: the person's.
    workspace_locale: str | None = None
    # A one-to-one conversation with the bot (a DM, Slack's side panel): not one of the
    # workspace's channels, so its channel list does not apply (its pool and quotas do).
    direct: bool = False
    # Named by something anyone could have filled in (a Slack workflow run not started by a
    # click), not seen asking: their quota pays, but no admin's powers come with the name.
    named: bool = False

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"

    @property
    def public_locale(self) -> str | None:
        """The language of posts everyone in the conversation reads."""
        return self.workspace_locale or self.locale


@dataclass(frozen=True, slots=True)
class PostTarget:
    """Where a job's result is posted back (platform ids, opaque to the engine)."""

    channel_id: str | None = None
    thread_id: str | None = None
    message_id: str | None = None  # the message that asked (or the progress message)


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    data: bytes = field(repr=False)
    mime: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return extension(self.mime)

    def filename(self, job_id: str, n: int) -> str:
        return result_filename(job_id, n, self.mime)


def extension(mime: str) -> str:
    return {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(mime, "bin")


def result_filename(job_id: str, n: int, mime: str) -> str:
    """The name image `n` (from 1) of a job's result goes by wherever it is posted or saved."""
    return f"seedbot-{job_id}-{n}.{extension(mime)}"


_RESULT_FILENAME = re.compile(r"seedbot-([0-9a-f]+)-([1-9][0-9]*)\.[a-z]+")


def parse_result_filename(name: str) -> tuple[str, int] | None:
    """(job id, n) of a name result_filename gave, for a surface that finds results by file."""
    match = _RESULT_FILENAME.fullmatch(name)
    return (match[1], int(match[2])) if match else None


UNMARKED = "unmarked"  # a GenerationResult.usage key


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """What a job made. `usage`: what the provider reported, and UNMARKED when the watermark
    asked for could not be added (the host that made it has no such field)."""

    job_id: str
    images: tuple[GeneratedImage, ...]
    provider: str
    model: str
    size: str  # "WxH" asked of the provider, or the tier
    requested: int
    elapsed: float  # seconds from start of the provider call to images in hand
    queued: float = 0.0  # seconds spent waiting for a slot
    charged: int = 0  # quota units committed for this job
    demo: bool = False
    usage: dict[str, Any] = field(default_factory=dict)  # what the provider reported
    weight: int = 1  # quota units per image (SEEDBOT_RESOLUTION_WEIGHTS for its tier)
    # Positions in `images` already shown to the user as they arrived (a streaming provider).
    posted: tuple[int, ...] = ()

    @property
    def missing(self) -> int:
        return max(0, self.requested - len(self.images))


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"  # by its requester or an admin (Cancel): refunded, never resumed


class JobKind(enum.StrEnum):
    IMAGINE = "imagine"
    EDIT = "edit"
    REROLL = "reroll"
    VARIATIONS = "variations"
    UPSCALE = "upscale"  # one image of a result re-rendered at 4K (Seedream 4.5)


@dataclass(frozen=True, slots=True)
class Job:
    """One row of the job ledger."""

    id: str
    user_key: str
    platform: str
    status: JobStatus
    kind: str
    prompt: str
    model: str
    request: dict[str, Any]
    workspace_id: str | None = None
    channel_id: str | None = None
    thread_id: str | None = None
    message_id: str | None = None
    provider: str | None = None
    provider_task_id: str | None = None
    reservation_id: int | None = None
    images_requested: int = 0
    images_delivered: int = 0
    parent_id: str | None = None
    error_kind: str | None = None
    error: str | None = None
    created_at: str = ""
    finished_at: str | None = None
    duration_ms: int | None = None
    result_message_ids: tuple[str, ...] = ()
    # The process running the job and until when its lease holds (ISO 8601 UTC); see
    # Ledger.claim_job / renew_leases / take_over_expired.
    owner: str | None = None
    lease_expires_at: str | None = None
    deleted_at: str | None = None  # its result was deleted (its messages are gone)

    @property
    def weight(self) -> int:
        """Quota units one of its images counts for (a 4K image may count as 2), as asked."""
        return int(self.request.get("weight") or 1)

    @property
    def shows_result(self) -> bool:
        """Its images reached the person and are still there (not deleted)."""
        return self.status == JobStatus.SUCCEEDED and self.images_delivered > 0 and self.deleted_at is None
