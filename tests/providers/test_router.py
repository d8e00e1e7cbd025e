"""The four providers under the Router: routing refusals, retries, failover, resume."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from bot.errors import NoProviderAvailable, ProviderError, ProviderErrorKind
from bot.media.fetch import SafeFetcher
from bot.providers.base import ProviderCall
from bot.providers.registry import PROVIDER_CLASSES
from tests.providers.helpers import PROVIDERS, Hooks, Sleeps, fast_router, make_call, route, vreq

# -- routing ---------------------------------------------------------------------------------


def names(router, req) -> list[str]:
    return [p.name for p in router.candidates(req)]


@pytest.fixture
def everyone(make):
    return fast_router([make(name) for name in PROVIDERS])


def test_plain_request_goes_to_everyone(everyone) -> None:
    assert names(everyone, vreq()) == list(PROVIDERS)


def test_segmind_never_gets_references(everyone, reference) -> None:
    assert "segmind" not in names(everyone, vreq("edit", images=(reference(),)))


def test_byte_only_references_skip_url_only_providers(everyone, reference) -> None:
    assert names(everyone, vreq("edit", images=(reference(public=False),))) == ["novita"]
    mixed = (reference(), reference(public=False))
    assert names(everyone, vreq("edit", images=mixed)) == ["novita"]
    assert names(everyone, vreq("edit", images=(reference(),))) == ["novita", "apiframe", "modellix"]


def test_other_refusals(everyone) -> None:
    assert names(everyone, vreq(model="4.5")) == ["novita"]
    assert names(everyone, vreq(count=4)) == ["novita", "segmind", "modellix"]
    assert names(everyone, vreq(width=2560, height=1440)) == ["novita", "modellix"]
    assert names(everyone, vreq(output_format="png")) == ["apiframe", "modellix"]
    assert names(everyone, vreq(aspect="5:4")) == ["novita", "apiframe", "modellix"]
    assert names(everyone, vreq("x" * 700)) == ["novita", "segmind", "apiframe"]


def test_nothing_able_explains_why(make, reference) -> None:
    router = fast_router([make("segmind"), make("apiframe")])
    with pytest.raises(NoProviderAvailable) as info:
        router.candidates(vreq("edit", images=(reference(public=False),)))
    assert "segmind: text-to-image only" in str(info.value)
    assert "apiframe: references must be public URLs" in str(info.value)


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_retry_after_429_then_success(make, emu, provider) -> None:
    emu.state(provider).fail("rate_limited", retry_after=2)
    sleeps = Sleeps()
    chosen, out = await route(fast_router([make(provider)], sleeps), vreq())
    assert chosen.name == provider and len(out.images) == 1
    assert len(sleeps.delays) == 1 and 1.5 <= sleeps.delays[0] <= 2
    assert emu.state(provider).submissions == 2


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_retry_5xx_with_backoff_then_success(make, emu, provider) -> None:
    emu.state(provider).fail("server_error")
    emu.state(provider).fail("unavailable")
    sleeps = Sleeps()
    _, out = await route(fast_router([make(provider)], sleeps), vreq())
    assert len(out.images) == 1 and len(sleeps.delays) == 2
    assert emu.state(provider).submissions == 3


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_no_retry_on_bad_request(make, emu, provider) -> None:
    emu.state(provider).fail("bad_request")
    sleeps = Sleeps()
    with pytest.raises(ProviderError):
        await route(fast_router([make(provider)], sleeps), vreq())
    assert sleeps.delays == [] and emu.state(provider).submissions == 1


async def test_apiframe_retry_reuses_the_idempotency_key(make, emu) -> None:
    emu.apiframe.fail("server_error")
    await route(fast_router([make("apiframe")]), vreq(), job_id="job-idem")
    keys = [r.headers.get("idempotency-key") for r in emu.apiframe.submits]
    assert keys == ["job-idem", "job-idem"]


@pytest.mark.parametrize("provider", ["apiframe", "modellix"])
async def test_flaky_polls_do_not_resubmit(make, emu, provider) -> None:
    state = emu.state(provider)
    state.pending_polls = 2
    state.fail("unavailable", on="poll")
    state.fail("rate_limited", on="poll", retry_after=0)
    state.fail("malformed_json", on="poll")
    _, out = await route(fast_router([make(provider)]), vreq())
    assert len(out.images) == 1
    assert state.submissions == 1


@pytest.mark.parametrize("provider", ["apiframe", "modellix"])
async def test_polls_failing_for_good_give_up(make, emu, provider) -> None:
    state = emu.state(provider)
    state.fail("server_error", times=10, on="poll")
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq()))
    assert info.value.kind is ProviderErrorKind.UNAVAILABLE
    assert state.submissions == 1


@pytest.mark.parametrize("provider", ["apiframe", "modellix"])
async def test_lost_task_is_not_retried(make, emu, provider) -> None:
    emu.state(provider).fail("not_found", on="poll")
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq()))
    assert info.value.kind is ProviderErrorKind.UNAVAILABLE and not info.value.retryable


@pytest.mark.parametrize("provider", ["apiframe", "modellix"])
async def test_polling_deadline(make, emu, provider) -> None:
    emu.state(provider).pending_polls = 10_000
    with pytest.raises(ProviderError) as info:
        await make(provider).generate(make_call(vreq(), deadline=0.3))
    assert info.value.kind is ProviderErrorKind.TIMEOUT
    assert not info.value.retryable and not info.value.failover


# -- failover --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [("novita", "modellix"), ("modellix", "segmind"), ("segmind", "apiframe"), ("apiframe", "novita")],
)
async def test_failover_when_out_of_credits(make, emu, first, second) -> None:
    emu.state(first).fail("no_credits")
    hooks = Hooks()
    sleeps = Sleeps()
    chosen, out = await route(fast_router([make(first), make(second)], sleeps), vreq(), hooks)
    assert chosen.name == second and len(out.images) == 1
    assert hooks.providers == [first, second]
    assert sleeps.delays == []  # no credits: no point retrying the same provider


async def test_failover_after_retries_run_out(make, emu) -> None:
    emu.novita.fail("unavailable", times=4)
    sleeps = Sleeps()
    chosen, _ = await route(fast_router([make("novita"), make("segmind")], sleeps, retries=3), vreq())
    assert chosen.name == "segmind"
    assert emu.novita.submissions == 4 and len(sleeps.delays) == 3


async def test_moderation_does_not_fail_over(make, emu) -> None:
    emu.novita.fail("moderation")
    with pytest.raises(ProviderError) as info:
        await route(fast_router([make("novita"), make("modellix")]), vreq())
    assert info.value.kind is ProviderErrorKind.MODERATION
    assert emu.modellix.submissions == 0


async def test_failover_skips_providers_that_cannot_serve(make, emu, reference) -> None:
    emu.novita.fail("auth")
    req = vreq("edit", images=(reference(),))
    chosen, _ = await route(fast_router([make("novita"), make("segmind"), make("modellix")]), req)
    assert chosen.name == "modellix"
    assert emu.segmind.requests == []


# -- resume after a restart ------------------------------------------------------------------


async def _submit_then_crash(provider, emu_state) -> str:
    """Start a job, wait for its task id, then drop everything (a simulated restart)."""
    emu_state.pending_polls = 10_000
    got: asyncio.Queue[str] = asyncio.Queue()

    async def on_task_id(task_id: str) -> None:
        await got.put(task_id)

    call = ProviderCall(vreq("resume me"), "job-r", 30.0, on_task_id=on_task_id)
    running = asyncio.create_task(provider.generate(call))
    task_id = await asyncio.wait_for(got.get(), 5)
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    # The upstream task finishes after two more polls.
    upstream = emu_state.tasks[task_id]
    upstream.pending = upstream.polls + 2
    return task_id


@pytest.mark.parametrize("provider", ["apiframe", "modellix"])
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
    assert hooks.task_ids == []  # resume never announces a new task


@pytest.mark.parametrize("provider", ["apiframe", "modellix"])
async def test_router_resume(make, emu, settings, provider) -> None:
    state = emu.state(provider)
    task_id = await _submit_then_crash(make(provider), state)
    router = fast_router([make(provider)])
    hooks = Hooks()
    chosen, out = await router.resume(provider, task_id, vreq(), "job-r", on_progress=hooks.on_progress)
    assert chosen.name == provider and len(out.images) == 1
    assert state.submissions == 1


@pytest.mark.parametrize("provider", ["novita", "segmind"])
async def test_sync_providers_are_not_resumable(make, provider) -> None:
    with pytest.raises(ProviderError) as info:
        await fast_router([make(provider)]).resume(
            provider, "t-1", vreq(), "job-r", on_progress=Hooks().on_progress
        )
    assert not info.value.retryable
