"""Every provider maps each of its documented failures to the right ProviderError."""

from __future__ import annotations

import httpx
import pytest

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers.modellix import ModellixProvider
from bot.providers.novita import NovitaProvider
from bot.providers.segmind import SegmindProvider
from tests.providers.helpers import PROVIDERS, make_call, offline, vreq

K = ProviderErrorKind

# fault -> (kind, retryable, failover), per provider, as their documents describe them.
COMMON = {
    "rate_limited": (K.RATE_LIMITED, True, True),
    "server_error": (K.UNAVAILABLE, True, True),
    "unavailable": (K.UNAVAILABLE, True, True),
    "gateway_timeout": (K.UNAVAILABLE, True, True),
    "not_found": (K.UNAVAILABLE, False, True),
    "no_credits": (K.NO_CREDITS, False, True),
    "moderation": (K.MODERATION, False, False),
    "auth": (K.AUTH, False, True),
    "bad_request": (K.BAD_REQUEST, False, False),
    # A success answer that can't be read: the work was done and billed (a generation) or
    # started (a task): asked again, here or elsewhere, it was paid two to five times.
    "malformed_json": (K.UNAVAILABLE, False, False),
}
EXTRA = {
    # Apiframe's submit carries an Idempotency-Key: asked again, it is the same job.
    "apiframe": {"malformed_json": (K.UNAVAILABLE, True, True)},
    "segmind": {
        "gone": (K.UNAVAILABLE, False, True),
        "bad_content_type": (K.BAD_REQUEST, False, False),
    },
}
CASES = [
    (provider, fault, *expected)
    for provider in PROVIDERS
    for fault, expected in {**COMMON, **EXTRA.get(provider, {})}.items()
]


@pytest.mark.parametrize(("provider", "fault", "kind", "retryable", "failover"), CASES)
async def test_fault_maps_to_kind(make, emu, provider, fault, kind, retryable, failover) -> None:
    emu.state(provider).fail(fault)
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq()))
    err = info.value
    assert (err.kind, err.retryable, err.failover) == (kind, retryable, failover), str(err)
    assert err.provider == provider
    assert emu.state(provider).api_key not in str(err)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_rate_limit_carries_the_wait(make, emu, provider) -> None:
    emu.state(provider).fail("rate_limited", retry_after=7)
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq()))
    assert info.value.status == 429
    assert info.value.retry_after is not None
    # Segmind gives a reset time (x-rate-limit-reset-at-utc), the others Retry-After seconds.
    assert 5.5 <= info.value.retry_after <= 7


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_wrong_key_is_auth(make, emu, provider) -> None:
    with pytest.raises(ProviderError) as info:
        await make(provider, **{f"{provider}_api_key": "wrong-key-123456"}).generate(make_call(vreq()))
    assert info.value.kind is K.AUTH and not info.value.retryable and info.value.failover
    assert info.value.status in (401, 403)  # the API refused it (not "no key configured")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_missing_key_is_auth_before_any_request(make, emu, provider) -> None:
    with pytest.raises(ProviderError) as info:
        await make(provider, **{f"{provider}_api_key": None}).generate(make_call(vreq()))
    assert info.value.kind is K.AUTH
    assert emu.state(provider).requests == []


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_unreachable_provider_is_unavailable(make, provider) -> None:
    with pytest.raises(ProviderError) as info:
        await make(provider, **{f"{provider}_base_url": "http://127.0.0.1:9"}).generate(make_call(vreq()))
    assert info.value.kind is K.UNAVAILABLE and info.value.retryable


def test_novita_moderation_by_message_alone() -> None:
    provider = offline(NovitaProvider)
    response = httpx.Response(400, json={"code": 400, "reason": "INVALID_REQUEST_BODY", "message": "x"})
    assert provider._error(response, response.json()).kind is K.BAD_REQUEST
    body = {
        "code": 400,
        "reason": "INVALID_REQUEST_BODY",
        "message": "Output image may contain sensitive content",
    }
    assert provider._error(httpx.Response(400, json=body), body).kind is K.MODERATION
    body = {"code": 504, "reason": "", "message": "gateway timeout"}
    assert provider._error(httpx.Response(504, json=body), body).kind is K.UNAVAILABLE


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (406, "Insufficient credits", K.NO_CREDITS),
        (406, "Spend limit reached", K.NO_CREDITS),
        (406, "Invalid content type", K.BAD_REQUEST),
        (403, "Model not permitted for this account", K.AUTH),
        (500, "Internal server error", K.UNAVAILABLE),
    ],
)
def test_segmind_406_and_friends(status, message, kind) -> None:
    provider = offline(SegmindProvider)
    assert provider._error(httpx.Response(status, json={"error": message})).kind is kind


def test_modellix_error_code_inside_a_200() -> None:
    provider = offline(ModellixProvider)
    body = {"code": 429, "message": "Concurrency Limit: 3 tasks per team"}
    err = provider._error(httpx.Response(200, json=body), body)
    assert err.kind is K.RATE_LIMITED and err.retryable
