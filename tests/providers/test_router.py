"""The four providers under the Router: routing refusals, retries, failover, resume."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest

from bot.config import Settings
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
    # A watermark asked for goes first where the body can ask for it (it was dropped without a
    # word on the hosts that have no such field); never refused (a workspace's `watermark on`
    # would refuse every request on a bot of other hosts).
    assert names(everyone, vreq(watermark=True)) == ["novita", "segmind", "apiframe", "modellix"]
    assert names(everyone, vreq(watermark=True, output_format="png")) == ["apiframe", "modellix"]


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


async def test_only_a_next_provider_is_announced(make, emu, caplog: pytest.LogCaptureFixture) -> None:
    """The last provider's failure said "trying the next one" when there was none."""
    emu.novita.fail("no_credits")
    emu.segmind.fail("no_credits")
    with caplog.at_level("WARNING", logger="bot.providers.router"), pytest.raises(ProviderError) as info:
        await route(fast_router([make("novita"), make("segmind")]), vreq())
    assert info.value.provider == "segmind" and info.value.kind is ProviderErrorKind.NO_CREDITS
    assert [r.getMessage() for r in caplog.records if r.name == "bot.providers.router"] == [
        "provider novita failed (no_credits), trying the next one"
    ]


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


# -- paid work is never paid for twice ---------------------------------------------------------

POLLED = ["modellix", "replicate", "fal", "apiframe"]


@pytest.mark.parametrize("provider", POLLED)
async def test_status_polls_failing_for_good_never_submit_the_task_again(make, emu, provider) -> None:
    """The given-up poll's error was still retryable: the router submitted the task again, three
    more times, each one paid and left running, then failed over to pay another host."""
    state = emu.state(provider)
    state.pending_polls = 100
    state.fail("server_error", times=30, on="poll")
    with pytest.raises(ProviderError) as info:
        await route(fast_router([make(provider)], retries=3), vreq())
    assert not info.value.retryable and not info.value.failover
    assert state.submissions == 1


@pytest.mark.parametrize("provider", ["fal", "replicate"])
async def test_a_task_given_up_on_is_cancelled_at_the_host(make, emu, provider) -> None:
    """Refunded here, a request still queued at the host ran later and was billed."""
    state = emu.state(provider)
    state.pending_polls = 10_000
    router = fast_router([make(provider)])
    router.deadline = 1.0
    with pytest.raises(ProviderError) as info:
        await route(router, vreq())
    assert info.value.kind is ProviderErrorKind.TIMEOUT
    assert [r for r in state.requests if "cancel" in r.path], "no cancel call"


@contextlib.asynccontextmanager
async def _dropping_host() -> Any:
    """A host that takes a POST, works a moment (as Seedream does, ~25 s an image), then drops
    the connection without an answer; yields its base URL and the POSTs it took."""
    posts: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        posts.append(1)
        await asyncio.sleep(0.2)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", posts
    finally:
        server.close()


@pytest.mark.parametrize(
    ("provider", "streamed"),
    [
        ("novita", False),
        ("segmind", False),
        ("ark", False),
        ("ark", True),
        ("modellix", False),
        ("fal", False),
        ("replicate", False),
    ],
)
async def test_a_connection_dropped_after_the_request_went_out_is_not_sent_again(
    client, provider: str, streamed: bool
) -> None:
    """Any transport error was retried as if nothing had been sent: a reset mid-generation paid
    for four generations (Ark's stream counted no answer yet as safe, but its first answer comes
    only once the first image is made)."""
    async with _dropping_host() as (base, posts):
        settings = Settings(
            _env_file=None,
            allow_private_network=True,
            **{f"{provider}_api_key": "k", f"{provider}_base_url": base},
        )
        host = PROVIDER_CLASSES[provider](settings, client, SafeFetcher(client, allow_private=True))

        async def shown(index: int, image: object) -> None:
            return None

        hooks = Hooks()
        with pytest.raises(ProviderError) as info:
            await fast_router([host], retries=3).generate(
                vreq(),
                "job-1",
                on_provider=hooks.on_provider,
                on_task_id=hooks.on_task_id,
                on_progress=hooks.on_progress,
                on_image=shown if streamed else None,
            )
    assert not info.value.retryable and info.value.failover  # another host may still make it
    assert len(posts) == 1


async def test_a_connection_never_made_is_tried_again(make, client) -> None:
    settings = Settings(_env_file=None, novita_api_key="k", novita_base_url="http://127.0.0.1:9")
    host = PROVIDER_CLASSES["novita"](settings, client, SafeFetcher(client, allow_private=True))
    with pytest.raises(ProviderError) as info:
        await host.generate(make_call(vreq()))
    assert info.value.retryable  # refused before anything was sent: nothing can be paid for


@pytest.mark.parametrize("provider", ["novita", "segmind", "ark"])
async def test_a_synchronous_batch_may_take_longer_than_the_clients_read_timeout(
    emu, settings, provider
) -> None:
    """A host answers only once the whole batch is made; the shared client's 180 s per read cut
    a batch of six or more, which the host had made and billed. (Scaled down: 1 s reads.)"""
    emu.state(provider).latency = 1.5
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=1.0)) as short:
        host = PROVIDER_CLASSES[provider](settings, short, SafeFetcher(short, allow_private=True))
        output = await host.generate(make_call(vreq(count=2, aspect="16:9"), deadline=20.0))
    assert len(output.images) == 2
