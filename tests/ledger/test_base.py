"""What a refused reservation tells the user: which limit (daily, monthly, the server's or the
workspace's pool), what the request counts, what is left, when it resets, that nothing was
charged; a limit used up reads differently from a request bigger than what is left."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot import i18n
from bot.errors import QuotaExceeded
from bot.ledger.base import Pool, QuotaStatus, refusal

DAY_RESETS = datetime(2026, 3, 15, tzinfo=UTC)
MONTH_RESETS = datetime(2026, 4, 1, tzinfo=UTC)
NOT_CHARGED = "You were not charged."


def status(day_used: int = 0, month_used: int = 0, *, daily: int = 20, monthly: int = 300) -> QuotaStatus:
    return QuotaStatus(
        user_key="discord:1",
        unlimited=False,
        blocked=False,
        day_used=day_used,
        day_limit=daily,
        month_used=month_used,
        month_limit=monthly,
        day_resets=DAY_RESETS,
        month_resets=MONTH_RESETS,
    )


def refused(quota: QuotaStatus, amount: int, pool: Pool | None = None, pool_used: int = 0) -> QuotaExceeded:
    error = refusal(quota, amount, pool, pool_used)
    assert isinstance(error, QuotaExceeded)
    return error


def on_a_server(make: Callable[[], QuotaExceeded]) -> Callable[[], QuotaExceeded]:
    """`make` where the surface calls the community a server (Discord); elsewhere a workspace."""

    def made() -> QuotaExceeded:
        with i18n.use_place("server"):
            return make()

    return made


CASES = [
    # (name, refusal, scope, text)
    (
        "daily used up",
        lambda: refused(status(day_used=2, daily=2), 1),
        "daily",
        "Your daily limit (2 images) is used up; it resets at 2026-03-15 00:00 UTC.",
    ),
    (
        "daily too many",
        lambda: refused(status(day_used=7), 14),
        "daily",
        "You asked for 14 images, but only 13 are left of your daily limit (20 images). "
        "Ask for at most 13, or wait: it resets at 2026-03-15 00:00 UTC.",
    ),
    (
        "daily too many, none used yet",  # the old text said "You've used ... (0 of 2)"
        lambda: refused(status(daily=2), 3),
        "daily",
        "You asked for 3 images, but only 2 are left of your daily limit (2 images). "
        "Ask for at most 2, or wait: it resets at 2026-03-15 00:00 UTC.",
    ),
    (
        "monthly used up",
        lambda: refused(status(month_used=300), 1),
        "monthly",
        "Your monthly limit (300 images) is used up; it resets at 2026-04-01 00:00 UTC.",
    ),
    (
        "monthly too many",
        lambda: refused(status(month_used=299), 2),
        "monthly",
        "You asked for 2 images, but only 1 is left of your monthly limit (300 images). "
        "Ask for at most 1, or wait: it resets at 2026-04-01 00:00 UTC.",
    ),
    (
        "server pool used up",
        on_a_server(lambda: refused(status(), 1, Pool("pool:discord:g1", 50), 50)),
        "pool",
        "This server's shared pool for today (50 images) is used up; it resets at 2026-03-15 00:00 UTC.",
    ),
    (
        "workspace pool too many",
        lambda: refused(status(), 3, Pool("pool:slack:T1", 50), 48),
        "pool",
        "You asked for 3 images, but only 2 are left of this workspace's shared pool for today "
        "(50 images). Ask for at most 2, or wait: it resets at 2026-03-15 00:00 UTC.",
    ),
    (
        "weighted, one fits",
        lambda: refused(status(day_used=2, daily=5), 4).counting(2),
        "daily",
        "This request counts as 4 images (2 images at a resolution that counts 2 each), but only 3 "
        "are left of your daily limit (5 images). Ask for at most 1 at this resolution or a smaller "
        "one, or wait: it resets at 2026-03-15 00:00 UTC.",
    ),
    (
        "weighted, none fits",
        on_a_server(lambda: refused(status(), 8, Pool("pool:discord:g1", 50), 47).counting(2)),
        "pool",
        "This request counts as 8 images (2 images at a resolution that counts 4 each), but only 3 "
        "are left of this server's shared pool for today (50 images). Ask for a smaller resolution, "
        "or wait: it resets at 2026-03-15 00:00 UTC.",
    ),
    (
        "weighted, used up",
        lambda: refused(status(day_used=20), 4).counting(1),
        "daily",
        "Your daily limit (20 images) is used up; it resets at 2026-03-15 00:00 UTC.",
    ),
]


@pytest.mark.parametrize(("name", "make", "scope", "text"), CASES, ids=[c[0] for c in CASES])
def test_refusal_says_which_limit_what_was_asked_what_is_left_and_when(
    name: str, make: object, scope: str, text: str
) -> None:
    assert callable(make)
    error = make()
    assert error.scope == scope
    assert error.user_text == f"{text} {NOT_CHARGED}"
    assert "You've used" not in error.user_text


def test_the_users_own_limit_is_named_before_the_pool() -> None:
    error = refused(status(day_used=20), 1, Pool("pool:discord:g1", 50), 50)
    assert error.scope == "daily" and error.user_text.startswith("Your daily limit")
