"""The shared helpers in providers/base.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.config import Settings
from bot.errors import ProviderError, ProviderErrorKind
from bot.media.fetch import SafeFetcher
from bot.providers.base import parse_retry_after
from bot.providers.fal import FalProvider
from bot.providers.replicate import ReplicateProvider
from tests.providers.helpers import ALL_PROVIDERS, fast_router, make_call, route, vreq


async def test_send_caps_a_chunked_body(make, emu) -> None:
    emu.novita.fail("oversized_body", size=3_000_000)
    provider = make("novita")
    provider.response_max_bytes = 1_000_000
    with pytest.raises(ProviderError) as info:
        await provider.generate(make_call(vreq()))
    assert info.value.kind is ProviderErrorKind.UNAVAILABLE and not info.value.retryable
    assert "larger than allowed" in info.value.detail


async def test_send_total_timeout_beats_a_dribbling_body(make, emu) -> None:
    emu.segmind.fail("slow_body", seconds=5)
    with pytest.raises(ProviderError) as info:
        await make("segmind").generate(make_call(vreq(), deadline=0.4))
    assert info.value.kind is ProviderErrorKind.TIMEOUT


async def test_slow_but_in_time_body_is_fine(make, emu) -> None:
    emu.segmind.fail("slow_body", seconds=0.2)
    emu.novita.fail("delay", seconds=0.2)
    emu.novita.latency = 0.1
    assert len((await make("segmind").generate(make_call(vreq()))).images) == 1
    assert len((await make("novita").generate(make_call(vreq()))).images) == 1


async def test_oversized_result_download_counts_as_failed(make, emu, monkeypatch) -> None:
    monkeypatch.setattr("bot.providers.base.RESULT_MAX_BYTES", 200)
    with pytest.raises(ProviderError) as info:
        await make("novita").generate(make_call(vreq()))
    assert "no usable image" in info.value.detail


async def test_send_passes_auth_and_redirect_options(make, emu) -> None:
    provider = make("novita")
    response = await provider.send("GET", "/v3/nothing-here", follow_redirects=False, auth=None)
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("http://127.0.0.1:1", "Connection refused"),
        ("https://api.novita.invalid", "Name or service not known"),
        ("tls to plain", "SSL: WRONG_VERSION_NUMBER"),
    ],
)
async def test_a_connection_that_fails_says_why_in_the_log(make, emu, where: str, reason: str) -> None:
    """All three read "ConnectError" alone: the operator could not tell a refused port from a
    name that doesn't resolve or https:// to a plain HTTP port. The cause's short reason is
    added, never an address; the person still reads only that the provider is unavailable."""
    base = emu.base_url("novita").replace("http://", "https://") if where == "tls to plain" else where
    with pytest.raises(ProviderError) as info:
        await make("novita", novita_base_url=base).generate(make_call(vreq()))
    err = info.value
    assert err.kind is ProviderErrorKind.UNAVAILABLE
    assert err.detail.endswith(f": ConnectError ({reason})"), err.detail
    assert "127.0.0.1" not in err.detail and "novita.invalid" not in err.detail
    assert reason not in err.user_text


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"x-rate-limit-reset-at-utc": "1000000010"}, now=1_000_000_000) == 10.0
    assert parse_retry_after({"x-rate-limit-reset-at-utc": "2001-09-09T01:46:50Z"}, now=1_000_000_000) == 10.0


@pytest.fixture
async def moved() -> AsyncIterator[str]:
    """A base URL that moved: every request answered 301 to https://."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(location="https://example.invalid" + request.path + "?sig=secret")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("name", ALL_PROVIDERS)
async def test_a_redirect_is_the_base_urls_not_the_requests(make, emu, moved: str, name: str) -> None:
    """Novita and Modellix called a moved base URL a bad request (the person told their request
    was wrong, no other host tried); the others retried it for nothing."""
    with pytest.raises(ProviderError) as info:
        await make(name, **{f"{name}_base_url": moved}).generate(make_call(vreq()))
    err = info.value
    assert (err.kind, err.retryable, err.failover) == (ProviderErrorKind.UNAVAILABLE, False, True)
    assert f"{name.upper()}_BASE_URL" in err.detail and "https://example.invalid/" in err.detail
    assert "secret" not in err.detail


async def test_a_redirect_on_a_poll_of_paid_work_is_not_taken_elsewhere() -> None:
    """The task was submitted (and paid); its status answered 307: another host was asked for
    the same images and paid again."""
    asked: list[tuple[str, str]] = []

    def host(request: httpx.Request) -> httpx.Response:
        asked.append((request.url.host, request.method))
        if request.url.host == "fal.example" and request.method == "POST":
            return httpx.Response(200, json={"request_id": "req-1"})
        if request.url.host == "fal.example":
            return httpx.Response(307, headers={"location": "https://elsewhere.example/status"})
        return httpx.Response(500)  # the next host: never to be asked

    settings = Settings(
        _env_file=None,
        fal_api_key=SecretStr("fal-key-0123456789"),
        fal_base_url="https://fal.example",
        replicate_api_key=SecretStr("r8_key-0123456789"),
        replicate_base_url="https://replicate.example",
        poll_interval=0.01,
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(host)) as client:
        fetcher = SafeFetcher(client, allow_private=True)
        router = fast_router(
            [FalProvider(settings, client, fetcher), ReplicateProvider(settings, client, fetcher)]
        )
        with pytest.raises(ProviderError) as info:
            await route(router, vreq())
    assert (info.value.provider, info.value.failover) == ("fal", False)
    assert "FAL_BASE_URL" in info.value.detail
    assert {host for host, _ in asked} == {"fal.example"}
