"""Ark, fal and Replicate under the same checks as the seed hosts: each documented failure maps
to the right ProviderError, the Router retries and fails over, the key never leaks, polling
hosts ride out flaky polls and resume after a restart without a second submission."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
import pytest

from bot.errors import ProviderError, ProviderErrorKind
from bot.media.fetch import SafeFetcher
from bot.providers.base import ProviderCall
from bot.providers.registry import PROVIDER_CLASSES
from bot.request.models import UNMARKED
from tests.providers.helpers import ALL_PROVIDERS, HOSTS, Hooks, Sleeps, fast_router, make_call, route, vreq

K = ProviderErrorKind
POLLING = ("fal", "replicate")
SECRET = "sk-LEAKCHECK-0123456789abcdef"

# fault -> (kind, retryable, failover), as the hosts' documents describe them.
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
    # A success answer that can't be read: the generation was made, or the task started, and
    # billed; asked again it was paid again. (An unreadable poll is only asked again, below.)
    "malformed_json": (K.UNAVAILABLE, False, False),
}
CASES = [(host, fault, *expected) for host in HOSTS for fault, expected in COMMON.items()]


# -- error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "fault", "kind", "retryable", "failover"), CASES)
async def test_fault_maps_to_kind(make, emu, provider, fault, kind, retryable, failover) -> None:
    emu.state(provider).fail(fault)
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq()))
    err = info.value
    assert (err.kind, err.retryable, err.failover) == (kind, retryable, failover), str(err)
    assert err.provider == provider
    assert emu.state(provider).api_key not in str(err)


@pytest.mark.parametrize("provider", HOSTS)
async def test_rate_limit_carries_the_wait(make, emu, provider) -> None:
    emu.state(provider).fail("rate_limited", retry_after=7)
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq()))
    assert info.value.status == 429 and info.value.retry_after == 7


@pytest.mark.parametrize("provider", HOSTS)
async def test_wrong_key_is_auth(make, emu, provider) -> None:
    with pytest.raises(ProviderError) as info:
        await make(provider, **{f"{provider}_api_key": "wrong-key-123456"}).generate(make_call(vreq()))
    assert info.value.kind is K.AUTH and not info.value.retryable and info.value.failover
    assert info.value.status == 401


@pytest.mark.parametrize("provider", HOSTS)
async def test_missing_key_is_auth_before_any_request(make, emu, provider) -> None:
    with pytest.raises(ProviderError) as info:
        await make(provider, **{f"{provider}_api_key": None}).generate(make_call(vreq()))
    assert info.value.kind is K.AUTH
    assert emu.state(provider).requests == []


@pytest.mark.parametrize("provider", HOSTS)
async def test_unreachable_host_is_unavailable(make, provider) -> None:
    with pytest.raises(ProviderError) as info:
        await make(provider, **{f"{provider}_base_url": "http://127.0.0.1:9"}).generate(make_call(vreq()))
    assert info.value.kind is K.UNAVAILABLE and info.value.retryable


async def test_unreachable_ark_while_streaming_is_retryable(make) -> None:
    call = make_call(vreq())

    async def on_image(index, image) -> None:
        return None

    call.on_image = on_image
    with pytest.raises(ProviderError) as info:
        await make("ark", ark_base_url="http://127.0.0.1:9").generate(call)
    assert info.value.kind is K.UNAVAILABLE and info.value.retryable


# -- routing, retries, failover --------------------------------------------------------------


def test_default_order_puts_the_new_hosts_last(make) -> None:
    router = fast_router([make(name) for name in ALL_PROVIDERS])
    assert [p.name for p in router.candidates(vreq())] == list(ALL_PROVIDERS)
    assert [p.name for p in router.candidates(vreq(model="4.5"))] == ["novita", *HOSTS]
    assert [p.name for p in router.candidates(vreq(count=8))] == [
        "novita",
        "segmind",
        "modellix",
        "ark",
        "replicate",
    ]


@pytest.mark.parametrize("provider", HOSTS)
async def test_retry_after_429_then_success(make, emu, provider) -> None:
    emu.state(provider).fail("rate_limited", retry_after=2)
    sleeps = Sleeps()
    chosen, out = await route(fast_router([make(provider)], sleeps), vreq())
    assert chosen.name == provider and len(out.images) == 1
    assert sleeps.delays == [2.0]
    assert emu.state(provider).submissions == 2


@pytest.mark.parametrize("provider", HOSTS)
async def test_retry_5xx_with_backoff_then_success(make, emu, provider) -> None:
    emu.state(provider).fail("server_error")
    emu.state(provider).fail("unavailable")
    sleeps = Sleeps()
    _, out = await route(fast_router([make(provider)], sleeps), vreq())
    assert len(out.images) == 1 and len(sleeps.delays) == 2
    assert emu.state(provider).submissions == 3


@pytest.mark.parametrize("provider", HOSTS)
async def test_no_retry_on_bad_request(make, emu, provider) -> None:
    emu.state(provider).fail("bad_request")
    sleeps = Sleeps()
    with pytest.raises(ProviderError):
        await route(fast_router([make(provider)], sleeps), vreq())
    assert sleeps.delays == [] and emu.state(provider).submissions == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [("ark", "fal"), ("fal", "replicate"), ("replicate", "ark"), ("novita", "ark"), ("modellix", "fal")],
)
async def test_failover_when_out_of_credits(make, emu, first, second) -> None:
    emu.state(first).fail("no_credits")
    hooks = Hooks()
    sleeps = Sleeps()
    chosen, out = await route(fast_router([make(first), make(second)], sleeps), vreq(), hooks)
    assert chosen.name == second and len(out.images) == 1
    assert hooks.providers == [first, second]
    assert sleeps.delays == []


@pytest.mark.parametrize("provider", HOSTS)
async def test_failover_after_retries_run_out(make, emu, provider) -> None:
    emu.state(provider).fail("unavailable", times=4)
    sleeps = Sleeps()
    chosen, _ = await route(fast_router([make(provider), make("novita")], sleeps, retries=3), vreq())
    assert chosen.name == "novita"
    assert emu.state(provider).submissions == 4 and len(sleeps.delays) == 3


@pytest.mark.parametrize("provider", HOSTS)
async def test_moderation_does_not_fail_over(make, emu, provider) -> None:
    emu.state(provider).fail("moderation")
    with pytest.raises(ProviderError) as info:
        await route(fast_router([make(provider), make("novita")]), vreq())
    assert info.value.kind is K.MODERATION
    assert emu.novita.submissions == 0


# -- key hygiene -----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", HOSTS)
async def test_rejected_key_echoed_by_the_api_is_redacted(make, emu, provider, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ProviderError) as info:
        await make(provider, **{f"{provider}_api_key": SECRET}).generate(make_call(vreq()))
    err = info.value
    for text in (str(err), repr(err), err.detail, err.user_text, str(err.args)):
        assert SECRET not in text
    assert "[redacted]" in err.detail
    assert SECRET not in caplog.text


FAULTS = ["rate_limited", "server_error", "no_credits", "moderation", "auth", "bad_request", "malformed_json"]


@pytest.mark.parametrize("provider", HOSTS)
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


@pytest.mark.parametrize("provider", POLLING)
async def test_no_key_in_poll_failures(make, emu, provider, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    key = emu.state(provider).api_key
    emu.state(provider).job_error = f"upstream said the key {key} is fine but it crashed"
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq()))
    assert key not in str(info.value)
    assert key not in caplog.text


async def test_each_key_goes_only_to_its_own_host(make, emu, reference) -> None:
    # One request through every host (with failover), then look at every request each saw.
    for name in ALL_PROVIDERS:
        emu.state(name).fail("no_credits")
    emu.replicate.faults.clear()
    chosen, _ = await route(fast_router([make(n) for n in ALL_PROVIDERS]), vreq())
    assert chosen.name == "replicate"
    for name in ALL_PROVIDERS:
        own = emu.state(name).api_key
        others = [emu.state(n).api_key for n in ALL_PROVIDERS if n != name]
        assert emu.state(name).requests, name
        for rec in emu.state(name).requests:
            headers = " ".join(rec.headers.values())
            assert own in headers
            seen = headers + rec.body.decode(errors="replace") + rec.path
            assert not any(key in seen for key in others), (name, rec.path)


# -- polling hosts: flaky polls, deadlines, resume -------------------------------------------


@pytest.mark.parametrize("provider", POLLING)
async def test_flaky_polls_do_not_resubmit(make, emu, provider) -> None:
    state = emu.state(provider)
    state.pending_polls = 2
    state.fail("unavailable", on="poll")
    state.fail("rate_limited", on="poll", retry_after=0)
    state.fail("malformed_json", on="poll")
    _, out = await route(fast_router([make(provider)]), vreq())
    assert len(out.images) == 1
    assert state.submissions == 1


@pytest.mark.parametrize("provider", POLLING)
async def test_polls_failing_for_good_give_up(make, emu, provider) -> None:
    state = emu.state(provider)
    state.fail("server_error", times=10, on="poll")
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq()))
    assert info.value.kind is K.UNAVAILABLE
    assert state.submissions == 1


@pytest.mark.parametrize("provider", POLLING)
async def test_lost_task_is_not_retried(make, emu, provider) -> None:
    emu.state(provider).fail("not_found", on="poll")
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq()))
    assert info.value.kind is K.UNAVAILABLE and not info.value.retryable


@pytest.mark.parametrize("provider", POLLING)
async def test_polling_deadline(make, emu, provider) -> None:
    emu.state(provider).pending_polls = 10_000
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq(), deadline=0.3))
    assert info.value.kind is K.TIMEOUT
    assert not info.value.retryable and not info.value.failover


async def _submit_then_crash(provider, emu_state) -> str:
    """Start a job, wait for its task id, then drop everything (a simulated restart)."""
    emu_state.pending_polls = 10_000
    got: asyncio.Queue[str] = asyncio.Queue()

    async def on_task_id(task_id: str) -> None:
        await got.put(task_id)

    running = asyncio.create_task(
        provider.generate(ProviderCall(vreq("resume me"), "job-r", 30.0, on_task_id=on_task_id))
    )
    task_id = await asyncio.wait_for(got.get(), 5)
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    upstream = emu_state.tasks[task_id]
    upstream.pending = upstream.polls + 2
    return task_id


@pytest.mark.parametrize("provider", POLLING)
async def test_task_id_is_stored_before_polling(make, emu, provider) -> None:
    emu.state(provider).pending_polls = 10_000
    seen_polls: list[int] = []

    async def on_task_id(task_id: str) -> None:
        seen_polls.append(emu.state(provider).polls)

    running = asyncio.create_task(
        make(provider).generate(ProviderCall(vreq(), "job-s", 30.0, on_task_id=on_task_id))
    )
    for _ in range(100):
        if seen_polls:
            break
        await asyncio.sleep(0.01)
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    assert seen_polls == [0]


@pytest.mark.parametrize("provider", POLLING)
async def test_resume_on_a_fresh_instance_does_not_resubmit(make, emu, settings, provider) -> None:
    state = emu.state(provider)
    task_id = await _submit_then_crash(make(provider), state)

    async with httpx.AsyncClient() as fresh_client:
        fresh = PROVIDER_CLASSES[provider](
            settings, fresh_client, SafeFetcher(fresh_client, allow_private=True)
        )
        hooks = Hooks()
        out = await fresh.resume(task_id, make_call(vreq("resume me"), hooks))

    assert len(out.images) == 1
    assert state.submissions == 1
    assert hooks.task_ids == []


@pytest.mark.parametrize("provider", POLLING)
async def test_router_resume(make, emu, provider) -> None:
    state = emu.state(provider)
    task_id = await _submit_then_crash(make(provider), state)
    hooks = Hooks()
    chosen, out = await fast_router([make(provider)]).resume(
        provider, task_id, vreq(), "job-r", on_progress=hooks.on_progress
    )
    assert chosen.name == provider and len(out.images) == 1
    assert state.submissions == 1


async def test_ark_is_not_resumable(make) -> None:
    with pytest.raises(ProviderError) as info:
        await fast_router([make("ark")]).resume(
            "ark", "t-1", vreq(), "job-r", on_progress=Hooks().on_progress
        )
    assert not info.value.retryable


async def test_hosts_without_a_cancel_call_say_so(make) -> None:
    for name in ("ark", "novita", "apiframe"):
        assert await make(name).cancel("t-1") is False


@pytest.mark.parametrize("provider", [p for p in ALL_PROVIDERS if p != "apiframe"])
async def test_a_success_answer_that_cant_be_read_is_paid_once(make, emu, provider) -> None:
    """Asked again (retries) and then elsewhere (failover), one request paid its host two to
    four times and the next host once more. (Apiframe's submit is idempotent: asked again, it
    is the same job.)"""
    other = "ark" if provider != "ark" else "novita"
    emu.state(provider).fail("malformed_json", times=5)
    with pytest.raises(ProviderError) as info:
        await route(fast_router([make(provider), make(other)], Sleeps(), retries=3), vreq())
    assert (info.value.provider, info.value.retryable, info.value.failover) == (provider, False, False)
    assert len(emu.state(provider).requests) == 1
    assert emu.state(other).requests == []


async def test_a_watermark_a_host_cant_add_is_said_not_refused(make, emu) -> None:
    """The hosts whose body has no watermark field dropped it without a word; refusing it
    instead would refuse every request of a workspace with `watermark on` on a bot of them."""
    able = {name for name, p in PROVIDER_CLASSES.items() if p.capabilities.watermark}
    assert able == {"novita", "segmind", "ark", "demo"}
    _, marked = await route(fast_router([make("fal"), make("ark")], Sleeps()), vreq(watermark=True))
    assert UNMARKED not in marked.usage and emu.state("fal").requests == []  # ark first: it can
    _, unmarked = await route(fast_router([make("fal")], Sleeps()), vreq(watermark=True))
    assert unmarked.usage[UNMARKED] is True
    _, plain = await route(fast_router([make("fal")], Sleeps()), vreq())
    assert UNMARKED not in plain.usage
