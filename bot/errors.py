"""seedbot's exception tree. Every error a user can cause or meet knows its own user text.

    SeedbotError                    base; `.user_text`, `.charged`
    ├── InvalidRequest              bad prompt, size, count, option (nothing charged)
    │   ├── InvalidImage            a reference that is not a usable image
    │   └── FlagError               a flag the text parser could not take
    ├── QuotaExceeded               the user's (or pool's) daily/monthly images are spent
    ├── UserBlocked                 an admin blocked this user
    ├── NoProviderAvailable         no configured provider can serve this request
    ├── DownloadError               a URL could not be fetched safely (refused, too big, failed)
    ├── ProviderError               the provider failed; `.kind` says how, `.retryable` whether
    │                               retrying may help
    ├── DeliveryError               the platform would not take the result (refunded)
    └── PlatformUnavailable         a chat platform could not start: credentials refused,
                                    service unreachable (`seedbot run` prints its one line)

Adapters catch `SeedbotError` and show `user_text`; anything else is a bug: log it with
context and show `messages.UNEXPECTED`.
"""

from __future__ import annotations

import enum
from datetime import datetime

from bot import messages

__all__ = [
    "DeliveryError",
    "DownloadError",
    "FlagError",
    "InvalidImage",
    "InvalidRequest",
    "NoProviderAvailable",
    "PlatformUnavailable",
    "ProviderError",
    "ProviderErrorKind",
    "QuotaExceeded",
    "SeedbotError",
    "UserBlocked",
]


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
    def __init__(
        self, *, scope: str, limit: int, used: int, resets_at: datetime, needed: int | None = None
    ) -> None:
        super().__init__(messages.quota_exceeded(scope, limit, used, resets_at, needed))
        self.needed = needed
        self.scope = scope
        self.limit = limit
        self.used = used
        self.resets_at = resets_at


class UserBlocked(SeedbotError):
    def __init__(self) -> None:
        super().__init__(messages.BLOCKED)


class NoProviderAvailable(SeedbotError):
    def __init__(self, reason: str) -> None:
        super().__init__(messages.no_provider(reason), detail=reason)


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


class PlatformUnavailable(SeedbotError):
    """A platform's `start()` failed for a reason the operator fixes: a refused token, an
    unreachable service, a port in use. `user_text` is one line saying what to do; adapters
    raise it from their library's exceptions (logged with the traceback at DEBUG)."""

    def __init__(self, platform: str, what_to_do: str) -> None:
        super().__init__(what_to_do, detail=f"{platform}: {what_to_do}")
        self.platform = platform
