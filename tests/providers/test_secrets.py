"""The API key never shows in an exception's text or in the logs, whatever goes wrong."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.config import Settings
from bot.errors import ProviderError
from bot.media.fetch import SafeFetcher
from bot.providers.registry import PROVIDER_CLASSES
from tests.providers.helpers import PROVIDERS, Sleeps, fast_router, make_call, route, vreq

SECRET = "sk-LEAKCHECK-0123456789abcdef"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_rejected_key_echoed_by_the_api_is_redacted(make, emu, provider, caplog) -> None:
    # The emulators echo a wrong key in their error text, as some real APIs do.
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ProviderError) as info:
        await make(provider, **{f"{provider}_api_key": SECRET}).generate(make_call(vreq()))
    err = info.value
    for text in (str(err), repr(err), err.detail, err.user_text, str(err.args)):
        assert SECRET not in text
    assert "[redacted]" in err.detail
    assert SECRET not in caplog.text


FAULTS = ["rate_limited", "server_error", "no_credits", "moderation", "auth", "bad_request", "malformed_json"]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", FAULTS)
async def test_no_key_in_any_failure(make, emu, provider, fault, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    key = emu.state(provider).api_key
    emu.state(provider).fail(fault, times=5)
    with pytest.raises(ProviderError) as info:
        await route(fast_router([make(provider)], Sleeps(), retries=1), vreq())
    chain: BaseException | None = info.value
    while chain is not None:
        assert key not in str(chain) and key not in repr(chain)
        chain = chain.__cause__ or chain.__context__
    assert key not in caplog.text


@pytest.mark.parametrize("provider", ["apiframe", "modellix"])
async def test_no_key_in_poll_failures(make, emu, provider, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    key = emu.state(provider).api_key
    emu.state(provider).job_error = f"upstream said the key {key} is fine but it crashed"
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq()))
    assert key not in str(info.value)
    assert key not in caplog.text


KEY = "sk_live_0123456789abcdefghijklmnopqrstuvwxyzABCDEF"


@pytest.mark.parametrize(
    ("provider", "answer"),
    [
        # JSON joined and cut at 300 characters, the key across the cut
        (
            "novita",
            httpx.Response(
                403,
                json={
                    "code": 403,
                    "reason": "INVALID_API_KEY",
                    "message": "x" * 258 + " key " + KEY + " is not valid",
                },
            ),
        ),
        # plain text cut at 160
        (
            "segmind",
            httpx.Response(
                401, text="Unauthorized: the x-api-key header " + KEY + " was not recognised" + "." * 200
            ),
        ),
    ],
)
async def test_a_key_echoed_across_the_cut_of_an_error_text_is_redacted_too(
    provider: str, answer: httpx.Response
) -> None:
    """The key was taken out after the text was shortened: one straddling the cut no longer
    matched, and its first characters reached the error and the log."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda request: answer)) as client:
        settings = Settings(_env_file=None, **{f"{provider}_api_key": KEY})
        host = PROVIDER_CLASSES[provider](settings, client, SafeFetcher(client))
        with pytest.raises(ProviderError) as info:
            await host.generate(make_call(vreq()))
    assert KEY[:8] not in str(info.value) and KEY[:8] not in info.value.user_text
