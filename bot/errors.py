"""seedbot's exception tree. Every error a user can cause or meet knows its own user text.

    SeedbotError                    base; `.user_text`, `.charged`
    ├── InvalidRequest              bad prompt, size, count, option (nothing charged)
    │   ├── InvalidImage            a reference that is not a usable image
    │   └── FlagError               a flag the text parser could not take
    ├── QuotaExceeded               the user's (or pool's) daily/monthly images are spent
    ├── UserBlocked                 an admin blocked this user
    ├── NotAdmin                    an admin command or action by someone who is not one
    ├── ChannelNotAllowed           the workspace limited seedbot to other channels
    ├── CannotPost                  the surface may not post where the request came from
    ├── NoProviderAvailable         no configured provider can serve this request
    ├── JobCancelled                the person who asked (or an admin) cancelled the job (refunded)
    ├── DownloadError               a URL could not be fetched safely (refused, too big, failed)
    ├── ProviderError               the provider failed; `.kind` says how, `.retryable` whether
    │                               retrying may help
    ├── DeliveryError               the platform would not take the result (refunded)
    ├── LeaseLost                   another process took the job over (its state is theirs)
    ├── LeaseTooShort               no lease renewal left time to deliver (refunded)
    ├── LedgerUnavailable           the database can't be used as configured (missing for a
                                    read-only command, migrated by a newer seedbot, in use)
    ├── PlatformUnavailable         a chat platform could not start: credentials refused,
                                    service unreachable (`seedbot run` prints its one line)
    └── SettingsRefused             settings that parse but can't be used together (the CLI
                                    prints its one line and exits 2, as for any invalid setting)

The conversation catches `SeedbotError` and shows `user_text`; anything else is a bug: log it with
context and show `messages.UNEXPECTED`.
"""

from __future__ import annotations

import enum
import unicodedata
from datetime import datetime

from bot import messages

__all__ = [
    "CannotPost",
    "ChannelNotAllowed",
    "DeliveryError",
    "DownloadError",
    "FlagError",
    "InvalidImage",
    "InvalidRequest",
    "JobCancelled",
    "LeaseLost",
    "LeaseTooShort",
    "LedgerUnavailable",
    "NoProviderAvailable",
    "NotAdmin",
    "PlatformUnavailable",
    "ProviderError",
    "ProviderErrorKind",
    "QuotaExceeded",
    "SeedbotError",
    "SettingsRefused",
    "UserBlocked",
    "one_line",
]


def one_line(text: str) -> str:
    """An error's text as kept with a job: control characters become spaces. A NUL, which
    PostgreSQL's text refuses, failed the refund's write (the user stayed charged); a newline in
    a host's words could start a forged log line."""
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)


class SeedbotError(Exception):
    """Base of every error seedbot raises on purpose."""

    charged: bool = False

    def __init__(self, user_text: str, *, detail: str | None = None) -> None:
        super().__init__(detail or user_text)
        self.user_text = user_text


class InvalidRequest(SeedbotError):
    """The request breaks a model limit or makes no sense. Raised before any charge."""


class InvalidImage(InvalidRequest):
    """A reference image is not an accepted image, or is too big."""


class FlagError(InvalidRequest):
    """A `--flag` in the text could not be understood."""


class QuotaExceeded(SeedbotError):
    """A reservation of `asked` units would pass the user's daily or monthly limit or the
    server's/workspace's pool (`scope` daily, monthly or pool)."""

    def __init__(
        self,
        *,
        scope: str,
        limit: int,
        used: int,
        resets_at: datetime,
        asked: int | None = None,
        images: int | None = None,
    ) -> None:
        super().__init__(messages.quota_exceeded(scope, limit, used, resets_at, asked, images=images))
        self.scope = scope
        self.limit = limit
        self.used = used
        self.resets_at = resets_at
        self.asked = asked
        self.images = images

    def counting(self, images: int) -> QuotaExceeded:
        """The same refusal for a request of `images` images weighing `asked` units in all."""
        return QuotaExceeded(
            scope=self.scope,
            limit=self.limit,
            used=self.used,
            resets_at=self.resets_at,
            asked=self.asked,
            images=images,
        )


class NotAdmin(SeedbotError):
    def __init__(self, text: str | None = None) -> None:
        super().__init__(text or messages.NOT_ADMIN)


class ChannelNotAllowed(SeedbotError):
    def __init__(self) -> None:
        super().__init__(messages.CHANNEL_NOT_ALLOWED)


class CannotPost(SeedbotError):
    """Raised by a surface's reply when the platform refuses it the channel (permissions)."""


class UserBlocked(SeedbotError):
    def __init__(self) -> None:
        super().__init__(messages.BLOCKED)


class NoProviderAvailable(SeedbotError):
    def __init__(self, reason: str) -> None:
        super().__init__(messages.no_provider(reason), detail=reason)


class JobCancelled(SeedbotError):
    """The requester or an admin cancelled the job (Cancel): refunded, but for the streamed
    images they had seen (`shown`)."""

    def __init__(self, by_owner: bool = True, shown: int = 0) -> None:
        super().__init__(messages.cancelled(by_owner, shown), detail="cancelled by request")
        self.charged = shown > 0


class DownloadError(SeedbotError):
    """A fetch was refused (unsafe address, too big, not an image) or failed."""


class ProviderErrorKind(enum.StrEnum):
    AUTH = "auth"
    NO_CREDITS = "no_credits"
    RATE_LIMITED = "rate_limited"
    MODERATION = "moderation"
    BAD_REQUEST = "bad_request"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"


# Kinds that are the operator's or the provider's problem, so another provider may succeed.
FAILOVER_KINDS = frozenset(
    {
        ProviderErrorKind.AUTH,
        ProviderErrorKind.NO_CREDITS,
        ProviderErrorKind.RATE_LIMITED,
        ProviderErrorKind.UNAVAILABLE,
        ProviderErrorKind.TIMEOUT,
    }
)


class ProviderError(SeedbotError):
    """A provider call failed. Never carries an API key: build `detail` from status and body."""

    def __init__(
        self,
        provider: str,
        kind: ProviderErrorKind,
        *,
        status: int | None = None,
        detail: str = "",
        retryable: bool | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
        failover: bool | None = None,
    ) -> None:
        detail = one_line(detail)  # the host's words
        super().__init__(
            messages.provider_failed(kind),
            detail=f"{provider}: {kind} (status {status}) {detail}".strip(),
        )
        self.provider = provider
        self.kind = kind
        self.status = status
        self.detail = detail
        self.retryable = (
            retryable
            if retryable is not None
            else kind
            in {ProviderErrorKind.RATE_LIMITED, ProviderErrorKind.UNAVAILABLE, ProviderErrorKind.TIMEOUT}
        )
        self.retry_after = retry_after
        self.request_id = request_id
        self.failover = failover if failover is not None else kind in FAILOVER_KINDS


class DeliveryError(SeedbotError):
    """The platform refused our upload or message; the job is refunded."""

    def __init__(self, detail: str) -> None:
        super().__init__(messages.DELIVERY_FAILED, detail=detail)


class LeaseLost(SeedbotError):
    """Another process took this job over (our lease lapsed): stop without touching its state."""

    def __init__(self, job_id: str) -> None:
        super().__init__(messages.UNEXPECTED, detail=f"job {job_id}: lease taken over by another process")


class LeaseTooShort(SeedbotError):
    """The lease could not be renewed with time to spare before delivering (this process or the
    database too slow): the job is refunded rather than risk a second delivery."""

    def __init__(self, job_id: str) -> None:
        super().__init__(messages.UNEXPECTED, detail=f"job {job_id}: lease renewals too slow to deliver")


class LedgerUnavailable(SeedbotError):
    """The database can't be used as configured. Its text is one line for the operator: what is
    wrong and what to do (the CLI prints it as is)."""


class PlatformUnavailable(SeedbotError):
    """A platform's `start()` failed for a reason the operator fixes: a refused token, an
    unreachable service, a port in use. `user_text` is one line saying what to do; adapters
    raise it from their library's exceptions (logged with the traceback at DEBUG)."""

    def __init__(self, platform: str, what_to_do: str) -> None:
        super().__init__(what_to_do, detail=f"{platform}: {what_to_do}")
        self.platform = platform


class SettingsRefused(SeedbotError):
    """Settings that each parse but can't be used as set (a playground other machines reach with
    no token): a configuration error, found when a platform is created. `user_text` says what to
    change; `seedbot` exits 2 on it, as on a setting that doesn't parse."""
