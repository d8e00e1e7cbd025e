"""Retry-After and rate-limit reset headers, and the Router's retries (tenacity) around them:
a header the provider got wrong never costs the job; it is retried, or failed over."""

from __future__ import annotations

import email.utils
import logging
import time

import pytest

from bot.config import KNOWN_PROVIDERS
from bot.errors import InvalidRequest, NoProviderAvailable, ProviderError
from bot.providers.base import RETRY_AFTER_MAX, parse_retry_after
from bot.providers.registry import absent_providers
from bot.providers.router import Router
from tests.providers.helpers import PROVIDERS, Sleeps, fast_router, route, vreq

NOW = 1_000_000_000.0


def http_date(stamp: float) -> str:
    return email.utils.formatdate(stamp, usegmt=True)


# -- parse_retry_after -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 0.5 ", 0.5),
        ("0", 0.0),
        (http_date(NOW + 30), 30.0),
        (http_date(NOW - 3600), 0.0),  # already past: go now
        ("Fri, 31 Dec 9999 23:59:59 GMT", RETRY_AFTER_MAX),  # far future: capped
        ("1000000000", RETRY_AFTER_MAX),  # ~31 years of seconds: capped
        ("9" * 400, RETRY_AFTER_MAX),  # float() makes this inf
    ],
)
def test_retry_after_values_taken(value: str, seconds: float) -> None:
    assert parse_retry_after({"retry-after": value}, now=NOW) == seconds


@pytest.mark.parametrize(
    "value",
    ["soon", "", "   ", "-5", "1e9", "inf", "nan", "+3", "3 seconds", "Mon, 99 Foo 2024 25:61:00 GMT"],
)
def test_retry_after_nonsense_is_ignored(value: str) -> None:
    # None: the router falls back to its own backoff. Before, "soon" raised ValueError and
    # "-5" meant "hammer it again at once".
    assert parse_retry_after({"retry-after": value}, now=NOW) is None


def test_reset_at_header_forms() -> None:
    assert parse_retry_after({"x-rate-limit-reset-at-utc": "2001-09-09T01:46:50Z"}, now=NOW) == 10.0
    assert parse_retry_after({"x-rate-limit-reset-at-utc": "1000000010"}, now=NOW) == 10.0
    assert parse_retry_after({"x-ratelimit-reset": "12"}, now=NOW) == 12.0  # small: a delay
    assert parse_retry_after({"x-rate-limit-reset-at-utc": "2001-09-09T01:00:00Z"}, now=NOW) == 0.0
    assert (
        parse_retry_after({"x-rate-limit-reset-at-utc": "9999-12-31T23:59:59Z"}, now=NOW) == RETRY_AFTER_MAX
    )
    for bad in ("tomorrow", "-5", "1e9", "2001-13-45T99:00:00Z"):
        assert parse_retry_after({"x-rate-limit-reset-at-utc": bad}, now=NOW) is None, bad


def test_reset_at_without_offset_is_utc_not_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # UTC+9, no DST
    time.tzset()
    try:
        assert parse_retry_after({"x-rate-limit-reset-at-utc": "2001-09-09T01:46:50"}, now=NOW) == 10.0
    finally:
        monkeypatch.undo()
        time.tzset()


def test_retry_after_wins_over_reset_header() -> None:
    headers = {"retry-after": "4", "x-rate-limit-reset-at-utc": "1000000010"}
    assert parse_retry_after(headers, now=NOW) == 4.0


# -- the Router's retries through the emulator ---------------------------------------------------


async def test_503_with_retry_after_soon_is_retried_and_succeeds(make, emu, caplog) -> None:
    emu.novita.fail("unavailable", headers={"Retry-After": "soon"})
    sleeps = Sleeps()
    caplog.set_level(logging.INFO, logger="bot.providers.router")
    chosen, out = await route(fast_router([make("novita"), make("demo")], sleeps), vreq())
    assert chosen.name == "novita" and len(out.images) == 1
    assert emu.novita.submissions == 2
    # "soon" was ignored: the first step of the router's own backoff (base_delay 0.01).
    assert len(sleeps.delays) == 1 and 0.005 <= sleeps.delays[0] <= 0.01
    assert "provider novita: unavailable (status 503, request None); retry 1 in" in caplog.text


async def test_503_soon_until_retries_run_out_fails_over_to_demo(make, emu) -> None:
    emu.novita.fail("unavailable", times=4, headers={"Retry-After": "soon"})
    sleeps = Sleeps()
    chosen, out = await route(fast_router([make("novita"), make("demo")], sleeps, retries=3), vreq())
    assert chosen.name == "demo" and len(out.images) == 1
    assert emu.novita.submissions == 4 and len(sleeps.delays) == 3


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_far_off_retry_after_waits_max_delay(make, emu, provider) -> None:
    emu.state(provider).fail("unavailable", headers={"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"})
    sleeps = Sleeps()
    _, out = await route(fast_router([make(provider)], sleeps, max_delay=2.5), vreq())
    assert len(out.images) == 1 and sleeps.delays == [2.5]


async def test_backoff_doubles_with_equal_jitter_up_to_max_delay(make, emu) -> None:
    emu.novita.fail("server_error", times=7)
    sleeps = Sleeps()
    router = Router([make("novita")], sleep=sleeps, retries=7, base_delay=1.0, max_delay=20.0)
    await route(router, vreq())
    assert emu.novita.submissions == 8
    for delay, step in zip(sleeps.delays, [1, 2, 4, 8, 16, 20, 20], strict=True):
        assert step / 2 <= delay <= step


async def test_retries_zero_means_one_attempt(make, emu) -> None:
    emu.novita.fail("unavailable")
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as info:
        await route(fast_router([make("novita")], sleeps, retries=0), vreq())
    assert info.value.status == 503 and sleeps.delays == []


# -- a forced provider ----------------------------------------------------------------------------


def test_unknown_forced_provider_lists_the_known_ones(make) -> None:
    with pytest.raises(InvalidRequest) as info:
        fast_router([make("novita")]).candidates(vreq(provider="bogus"))
    assert "choose from " + ", ".join(KNOWN_PROVIDERS) in info.value.user_text
    assert "'bogus'" in info.value.user_text


def test_forced_provider_name_is_case_blind(make) -> None:
    assert [p.name for p in fast_router([make("demo")]).candidates(vreq(provider="Demo"))] == ["demo"]


def test_keyless_forced_provider_says_which_key_to_set(settings, make) -> None:
    keyless = settings.model_copy(update={"segmind_api_key": None, "providers": ["segmind"]})
    router = fast_router([make("novita")], absent=absent_providers(keyless))
    with pytest.raises(NoProviderAvailable) as info:
        router.candidates(vreq(provider="segmind"))
    assert "set SEGMIND_API_KEY" in info.value.user_text
