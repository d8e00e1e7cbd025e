"""The engine's one road (bot/engine/pipeline.py): validate -> reserve -> job row -> slot ->
provider -> deliver -> settle, and its concurrency caps. Restart recovery: test_recovery.py."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import sqlite3
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import pytest
from PIL import Image

from bot import messages
from bot.config import Settings
from bot.engine.pipeline import FAILURE_KINDS, Delivery, request_from_json, request_to_json
from bot.errors import (
    DeliveryError,
    InvalidRequest,
    NoProviderAvailable,
    ProviderError,
    ProviderErrorKind,
    QuotaExceeded,
    UserBlocked,
)
from bot.ledger.sqlite import SQLiteLedger
from bot.providers.base import Capabilities, ProviderCall, ProviderOutput
from bot.providers.demo import DemoProvider
from bot.request.models import (
    GeneratedImage,
    GenerationRequest,
    GenerationResult,
    ImageInput,
    JobKind,
    JobStatus,
    PostTarget,
)
from tests.engine.helpers import (
    ALICE,
    BOB,
    CAROL,
    Deliverer,
    Events,
    OtherProvider,
    ResumableProvider,
    TestProvider,
    fox,
    open_engine,
    provider_error,
    settings,
    until,
    used,
)

# -- the happy path ------------------------------------------------------------------------------


async def test_full_flow_with_the_demo_provider(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, DemoProvider(config, None, None))  # type: ignore[arg-type]
    try:
        deliver = Deliverer(message_ids=("m1", "m2"), thread_id="t-new")
        events = Events()
        result, delivery = await h.engine.generate(
            fox(count=2, aspect="16:9"),
            ALICE,
            deliver=deliver,
            target=PostTarget(channel_id="c1", message_id="ask-1"),
            progress=events,
        )
        assert h.engine.demo
        assert (result.provider, result.model, result.size, result.requested) == (
            "demo",
            "5.0-lite",
            "2848x1600",
            2,
        )
        assert result.demo and result.charged == 2 and result.missing == 0
        assert delivery == Delivery(2, ("m1", "m2"), "t-new")
        assert deliver.results[0].images == result.images
        for image in result.images:
            with Image.open(io.BytesIO(image.data)) as img:
                img.load()
                assert img.size == (2848, 1600) and img.format == "JPEG"

        # Quota committed = delivered, nothing left reserved.
        assert await used(h.ledger, ALICE) == 2
        assert await h.ledger.open_reservations() == 0
        # The job row: finished, linked to its messages and its new thread, outputs kept.
        job = await h.ledger.get_job(result.job_id)
        assert job is not None
        assert (job.status, job.images_requested, job.images_delivered, job.provider) == (
            JobStatus.SUCCEEDED,
            2,
            2,
            "demo",
        )
        assert (job.user_key, job.workspace_id, job.channel_id, job.message_id, job.thread_id) == (
            "discord:1",
            "g1",
            "c1",
            "ask-1",
            "t-new",
        )
        assert job.kind == "imagine" and job.request["aspect"] == "16:9"
        found = await h.ledger.job_for_message("discord", "m2")
        assert found is not None and found.id == job.id
        assert [o.data for o in await h.ledger.job_outputs(job.id)] == [i.data for i in result.images]
        # Progress: running (with the provider's percent), then done; never queued.
        assert "queued" not in events.stages()
        assert events.stages()[0] == "running" and events.stages()[-1] == "done"
        assert any(e.percent == 50.0 for e in events.seen)
    finally:
        await h.close()


async def test_edits_keep_their_references_and_lineage(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = TestProvider(config)
    h = await open_engine(config, provider)
    try:
        ref = ImageInput(data=b"\x89PNG-ish", mime="image/png", width=1600, height=900, name="cat.png")
        first, _ = await h.engine.generate(fox(), ALICE, deliver=Deliverer())
        result, _ = await h.engine.generate(
            fox(images=(ref,)), ALICE, deliver=Deliverer(), kind=JobKind.EDIT, parent_id=first.job_id
        )
        job = await h.ledger.get_job(result.job_id)
        assert job is not None and job.kind == "edit" and job.parent_id == first.job_id
        assert result.size == "2848x1600"  # the reference's shape
        inputs = await h.ledger.job_inputs(result.job_id)
        assert [(i.data, i.name) for i in inputs] == [(ref.data, "cat.png")]
        # The stored request rebuilds the same request (what recovery relies on).
        assert request_from_json(job.request, inputs) == fox(images=(inputs[0],))
        assert request_to_json(fox(images=(ref,)))["image_count"] == 1
    finally:
        await h.close()


async def test_admins_are_not_limited(tmp_path: Path) -> None:
    config = settings(tmp_path, daily_images=1, admins="discord:1")
    h = await open_engine(config, TestProvider(config))
    try:
        for _ in range(3):
            await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer())
        assert await used(h.ledger, ALICE) == 6
        assert (await h.engine.usage(ALICE)).unlimited
        with pytest.raises(QuotaExceeded):
            await h.engine.generate(fox(count=2), BOB, deliver=Deliverer())
    finally:
        await h.close()


# -- failures refund ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        ProviderErrorKind.MODERATION,
        ProviderErrorKind.BAD_REQUEST,
        ProviderErrorKind.UNAVAILABLE,
        ProviderErrorKind.AUTH,
    ],
)
async def test_provider_error_refunds(tmp_path: Path, kind: ProviderErrorKind) -> None:
    config = settings(tmp_path)
    provider = TestProvider(config, error=provider_error(kind))
    h = await open_engine(config, provider)
    deliver = Deliverer()
    try:
        with pytest.raises(ProviderError) as err:
            await h.engine.generate(fox(count=3), ALICE, deliver=deliver)
        assert err.value.kind == kind and "not charged" in err.value.user_text
        assert deliver.results == []
        assert await used(h.ledger, ALICE) == 0
        assert await h.ledger.open_reservations() == 0
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert (job.status, job.error_kind, job.images_delivered) == (JobStatus.FAILED, str(kind), 0)
        assert job.error and "scripted failure" in job.error
        assert job.provider == "scripted" and job.finished_at
    finally:
        await h.close()


async def test_a_hosts_error_text_is_one_line_and_the_refund_lands(tmp_path: Path, database: str) -> None:
    """The host's words go into the log and the job row: a newline could forge a log line, and a
    NUL, which PostgreSQL's text refuses, failed the refund's write there."""
    config = settings(tmp_path, database=database)
    error = ProviderError(
        "scripted", ProviderErrorKind.BAD_REQUEST, status=400, detail="bad\x00 thing\nINFO forged"
    )
    h = await open_engine(config, TestProvider(config, error=error))
    try:
        with pytest.raises(ProviderError):
            await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer())
        assert await used(h.ledger, ALICE) == 0 and await h.ledger.open_reservations() == 0
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert job.status == JobStatus.FAILED and job.error and job.error.endswith("bad  thing INFO forged")
    finally:
        await h.close()


async def test_retryable_errors_are_retried_then_refunded(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = TestProvider(config, error=provider_error(ProviderErrorKind.RATE_LIMITED))
    h = await open_engine(config, provider, retries=2)
    try:
        with pytest.raises(ProviderError):
            await h.engine.generate(fox(), ALICE, deliver=Deliverer())
        assert len(provider.calls) == 3
        assert await used(h.ledger, ALICE) == 0
    finally:
        await h.close()


async def test_failover_to_the_next_provider(tmp_path: Path) -> None:
    config = settings(tmp_path)
    broke = TestProvider(config, error=provider_error(ProviderErrorKind.NO_CREDITS))
    other = OtherProvider(config)
    h = await open_engine(config, broke, other)
    try:
        result, _ = await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer())
        assert result.provider == "other" and result.charged == 2
        job = await h.ledger.get_job(result.job_id)
        assert job is not None and job.provider == "other" and job.status == JobStatus.SUCCEEDED
        assert len(broke.calls) == 1 and len(other.calls) == 1
    finally:
        await h.close()


async def test_a_batch_with_no_images_is_a_failure(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config, images=0, failed=3))
    deliver = Deliverer()
    try:
        with pytest.raises(ProviderError) as err:
            await h.engine.generate(fox(count=3), ALICE, deliver=deliver)
        assert err.value.kind == ProviderErrorKind.MODERATION
        assert deliver.results == [] and await used(h.ledger, ALICE) == 0
    finally:
        await h.close()


async def test_a_delivery_that_raises_is_refunded(tmp_path: Path, database: str) -> None:
    # A platform's or a library's words, NUL and all, can't stop the refund's write (PostgreSQL
    # refuses a NUL in text: the user stayed charged).
    config = settings(tmp_path, database=database)
    h = await open_engine(config, TestProvider(config))
    try:
        with pytest.raises(DeliveryError) as err:
            await h.engine.generate(
                fox(count=2), ALICE, deliver=Deliverer(fail=RuntimeError("upload\x00 refused"))
            )
        assert err.value.user_text == messages.DELIVERY_FAILED
        assert await used(h.ledger, ALICE) == 0
        assert await h.ledger.open_reservations() == 0
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert (job.status, job.error_kind) == (JobStatus.FAILED, "delivery")
        assert "upload  refused" in (job.error or "")
    finally:
        await h.close()


async def test_a_delivery_error_from_the_adapter_is_refunded(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    try:
        with pytest.raises(DeliveryError):
            await h.engine.generate(
                fox(), ALICE, deliver=Deliverer(fail=DeliveryError("403 from the platform"))
            )
        assert await used(h.ledger, ALICE) == 0
    finally:
        await h.close()


async def test_a_delivery_that_posted_nothing_is_a_failed_delivery(tmp_path: Path) -> None:
    # No image fit the platform's upload limit: the person is told, as when the platform refuses.
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config, images=3))
    try:
        with pytest.raises(DeliveryError) as err:
            await h.engine.generate(fox(count=3), ALICE, deliver=Deliverer(posted=0))
        assert err.value.user_text == messages.DELIVERY_FAILED
        assert await used(h.ledger, ALICE) == 0 and await h.ledger.open_reservations() == 0
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert (job.status, job.error_kind, job.images_delivered) == (JobStatus.FAILED, "delivery", 0)
    finally:
        await h.close()


@pytest.mark.parametrize(("made", "posted", "charged"), [(3, 1, 1), (3, 10, 3), (2, None, 2)])
async def test_only_what_was_delivered_is_charged(
    tmp_path: Path, made: int, posted: int | None, charged: int
) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config, images=made))
    try:
        result, _ = await h.engine.generate(fox(count=3), ALICE, deliver=Deliverer(posted=posted))
        assert result.charged == charged
        assert result.requested == 3 and len(result.images) == made
        assert await used(h.ledger, ALICE) == charged
        assert await h.ledger.open_reservations() == 0
        job = await h.ledger.get_job(result.job_id)
        assert job is not None and job.images_delivered == charged
        assert job.status == (JobStatus.SUCCEEDED if charged else JobStatus.FAILED)
    finally:
        await h.close()


async def test_images_a_batch_asked_before_midnight_lacks_are_not_given_back_today(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its refund goes to the day it was reserved: the caption showed more left than the limit."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    try:
        left = (await h.engine.usage(ALICE)).left
        assert left is not None
        noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)

        class AtNoon(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> AtNoon:  # type: ignore[override]
                return cls.fromtimestamp(noon.timestamp(), tz)

        monkeypatch.setattr("bot.engine.pipeline.datetime", AtNoon)  # run at any hour, midnight too
        since_midnight = 12 * 3600.0
        one_of_two = GenerationResult(
            job_id="j1",
            images=(GeneratedImage(data=b"x", mime="image/png", width=8, height=8),),
            provider="scripted",
            model="5.0-lite",
            size="2048x2048",
            requested=2,
            elapsed=1.0,
        )
        assert await h.engine.left_after(ALICE, one_of_two) == left + 1
        yesterday = dataclasses.replace(one_of_two, elapsed=since_midnight + 60)
        assert await h.engine.left_after(ALICE, yesterday) == left
    finally:
        await h.close()


async def test_extra_images_from_a_provider_are_not_charged(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config, images=5))
    try:
        result, _ = await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer())
        assert len(result.images) == 2 and result.charged == 2
        assert await used(h.ledger, ALICE) == 2
    finally:
        await h.close()


async def test_a_failing_progress_callback_does_not_fail_the_job(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))

    async def broken(event: object) -> None:
        raise RuntimeError("message edit failed")

    try:
        result, _ = await h.engine.generate(fox(), ALICE, deliver=Deliverer(), progress=broken)
        assert result.charged == 1
    finally:
        await h.close()


async def test_cancelling_a_running_job_refunds_it(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = TestProvider(config, block=True)
    h = await open_engine(config, provider)
    try:
        task = asyncio.create_task(h.engine.generate(fox(count=2), ALICE, deliver=Deliverer()))
        await until(lambda: len(provider.gates) == 1)
        assert await used(h.ledger, ALICE) == 2  # held while running
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await used(h.ledger, ALICE) == 0
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert (job.status, job.error_kind) == (JobStatus.FAILED, "cancelled")
        assert h.engine.gate.running == 0
    finally:
        await h.close()


# -- nothing invalid costs anything ------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        fox(count=16),
        fox(count=0),
        fox(prompt="  \u200b "),
        fox(resolution="4K"),
        fox(model="4.5", output_format="png"),
        fox(aspect="20:1"),
        fox(width=100, height=100),
    ],
)
async def test_invalid_requests_reserve_nothing_and_make_no_job(
    tmp_path: Path, request_: GenerationRequest
) -> None:
    config = settings(tmp_path)
    provider = TestProvider(config)
    h = await open_engine(config, provider)
    try:
        with pytest.raises(InvalidRequest):
            await h.engine.generate(request_, ALICE, deliver=Deliverer())
        assert provider.calls == []
        assert await used(h.ledger, ALICE) == 0
        assert await h.ledger.open_reservations() == 0
        assert await h.ledger.jobs_for_user(ALICE.key) == []
    finally:
        await h.close()


async def test_no_capable_provider_reserves_nothing(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    try:
        with pytest.raises(NoProviderAvailable):
            await h.engine.generate(fox(provider="novita"), ALICE, deliver=Deliverer())
        assert await h.ledger.open_reservations() == 0
        assert await h.ledger.jobs_for_user(ALICE.key) == []
    finally:
        await h.close()


async def test_quota_exceeded_before_any_provider_call(tmp_path: Path) -> None:
    config = settings(tmp_path, daily_images=3)
    provider = TestProvider(config)
    h = await open_engine(config, provider)
    try:
        await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer())
        with pytest.raises(QuotaExceeded) as err:
            await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer())
        assert err.value.scope == "daily" and "only 1 is left" in err.value.user_text
        assert len(provider.calls) == 1
        assert len(await h.ledger.jobs_for_user(ALICE.key)) == 1
        assert await used(h.ledger, ALICE) == 2
    finally:
        await h.close()


async def test_blocked_users_never_reach_a_provider(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = TestProvider(config)
    h = await open_engine(config, provider)
    try:
        await h.ledger.set_blocked(ALICE.key, True)
        with pytest.raises(UserBlocked):
            await h.engine.generate(fox(), ALICE, deliver=Deliverer())
        assert provider.calls == [] and await h.ledger.jobs_for_user(ALICE.key) == []
    finally:
        await h.close()


# -- concurrency caps -----------------------------------------------------------------------------


async def test_per_user_cap_queues_the_second_job(tmp_path: Path) -> None:
    config = settings(tmp_path, user_concurrency=1, max_concurrency=8)
    provider = TestProvider(config, block=True)
    h = await open_engine(config, provider)
    try:
        first_events, second_events, bob_events = Events(), Events(), Events()
        first = asyncio.create_task(
            h.engine.generate(fox(prompt="one"), ALICE, deliver=Deliverer(), progress=first_events)
        )
        await until(lambda: provider.calls == ["one"])
        second = asyncio.create_task(
            h.engine.generate(fox(prompt="two"), ALICE, deliver=Deliverer(), progress=second_events)
        )
        await until(lambda: second_events.positions() == [1])
        assert second_events.seen[0].text() == messages.queued(1)

        # Queued, not dropped: its row exists and its units are held, but no provider call yet.
        jobs = {j.prompt: j for j in await h.ledger.jobs_for_user(ALICE.key)}
        assert jobs["two"].status == JobStatus.QUEUED
        assert await used(h.ledger, ALICE) == 2

        # Another user is not held up by Alice's cap.
        bob = asyncio.create_task(
            h.engine.generate(fox(prompt="bob"), BOB, deliver=Deliverer(), progress=bob_events)
        )
        await until(lambda: provider.calls == ["one", "bob"])
        assert "queued" not in bob_events.stages()

        provider.release(0)
        await first
        await until(lambda: provider.calls == ["one", "bob", "two"])
        assert provider.max_running == 2
        provider.release()
        (second_result, _), _ = await asyncio.gather(second, bob)
        assert second_result.queued > 0
        assert second_events.stages()[-1] == "done"
        assert await used(h.ledger, ALICE) == 2 and await used(h.ledger, BOB) == 1
    finally:
        provider.release()
        await h.close()


async def test_global_cap_queues_in_order_and_updates_positions(tmp_path: Path) -> None:
    config = settings(tmp_path, user_concurrency=5, max_concurrency=1)
    provider = TestProvider(config, block=True)
    h = await open_engine(config, provider)
    try:
        a = asyncio.create_task(h.engine.generate(fox(prompt="alice"), ALICE, deliver=Deliverer()))
        await until(lambda: provider.calls == ["alice"])
        bob_events, carol_events = Events(), Events()
        b = asyncio.create_task(
            h.engine.generate(fox(prompt="bob"), BOB, deliver=Deliverer(), progress=bob_events)
        )
        await until(lambda: bob_events.positions() == [1])
        c = asyncio.create_task(
            h.engine.generate(fox(prompt="carol"), CAROL, deliver=Deliverer(), progress=carol_events)
        )
        await until(lambda: carol_events.positions() == [2])
        assert h.engine.gate.queued == 2

        provider.release(0)
        await a
        await until(lambda: provider.calls == ["alice", "bob"])
        await until(lambda: carol_events.positions() == [2, 1])
        assert bob_events.positions() == [1]
        provider.release(1)
        await b
        await until(lambda: provider.calls == ["alice", "bob", "carol"])
        provider.release(2)
        await c
        assert provider.max_running == 1
    finally:
        provider.release()
        await h.close()


async def test_generation_result_reports_missing_images() -> None:
    result = GenerationResult(
        job_id="j", images=(), provider="p", model="5.0-lite", size="2K", requested=3, elapsed=0.0
    )
    assert result.missing == 3


class _Broken(TestProvider):
    """A provider with a bug: an exception seedbot does not expect."""

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        raise ValueError("1")


async def test_an_unexpected_error_is_logged_and_counted_under_a_documented_kind(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, _Broken(config))
    try:
        with pytest.raises(ValueError):
            await h.engine.generate(fox(), ALICE, deliver=Deliverer())
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert job.error_kind == "unavailable" and job.error_kind in FAILURE_KINDS
        assert await used(h.ledger, ALICE) == 0
        assert any(r.exc_info and "failed unexpectedly" in r.getMessage() for r in caplog.records)
        stats = await h.community.stats(None)
        assert "ValueError" not in stats and "unavailable" in stats
    finally:
        await h.close()


class _Streaming(TestProvider):
    """Streams each image through call.on_image; blocks after `stall_after` images if set."""

    capabilities = Capabilities(models=frozenset({"5.0-lite", "4.5"}), streaming=True)

    def __init__(self, config: Settings, *, stall_after: int | None = None) -> None:
        super().__init__(config)
        self.stall_after = stall_after
        self.stalled = asyncio.Event()

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        output = await self._images(call)
        for index, image in enumerate(output.images):
            if self.stall_after is not None and index == self.stall_after:
                self.stalled.set()
                await asyncio.Event().wait()  # until cancelled
            if call.on_image is not None:
                await call.on_image(index, image)
        return output


async def test_streamed_images_are_shown_as_they_come_and_the_rest_at_the_end(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, _Streaming(config))
    shown: list[int] = []

    async def stream(job_id: str, index: int, image: GeneratedImage) -> bool:
        shown.append(index)
        return index != 1  # the second one could not be shown: it comes with the result

    try:
        deliver = Deliverer()
        admitted = await h.engine.admit(fox(count=3), ALICE)
        await h.engine.run(admitted, ALICE, deliver=deliver, stream=stream)
        assert shown == [0, 1, 2]
        [handed] = deliver.results
        assert handed.posted == (0, 2) and len(handed.images) == 3
        assert await used(h.ledger, ALICE) == 3
    finally:
        await h.close()


async def test_a_shutdown_mid_stream_charges_only_what_reached_the_user(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = _Streaming(config, stall_after=2)
    h = await open_engine(config, provider)

    async def stream(job_id: str, index: int, image: GeneratedImage) -> bool:
        return True

    try:
        admitted = await h.engine.admit(fox(count=4), ALICE)
        task = asyncio.create_task(h.engine.run(admitted, ALICE, deliver=Deliverer(), stream=stream))
        await provider.stalled.wait()
        await h.engine.shutdown(grace=0.0)
        with pytest.raises(asyncio.CancelledError):
            await task
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert job.images_delivered == 2 and job.status == JobStatus.SUCCEEDED
        assert await used(h.ledger, ALICE) == 2  # the two shown; the other two refunded
        assert await h.ledger.open_reservations() == 0
    finally:
        await h.close()


class _FailsMidStream(_Streaming):
    """Streams two images, then the host gives up."""

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        output = await self._images(call)
        for index, image in enumerate(output.images[:2]):
            if call.on_image is not None:
                await call.on_image(index, image)
        raise ProviderError("scripted", ProviderErrorKind.TIMEOUT, retryable=False, failover=False)


async def test_a_stream_cut_off_keeps_what_was_shown_charged_and_says_so(tmp_path: Path) -> None:
    """It charged the two images shown and said "You were not charged"."""
    config = settings(tmp_path)
    h = await open_engine(config, _FailsMidStream(config))

    async def stream(job_id: str, index: int, image: GeneratedImage) -> bool:
        return True

    try:
        admitted = await h.engine.admit(fox(count=4), ALICE)
        with pytest.raises(ProviderError) as err:
            await h.engine.run(admitted, ALICE, deliver=Deliverer(), stream=stream)
        assert err.value.charged and err.value.user_text == messages.provider_failed("timeout", charged=True)
        assert await used(h.ledger, ALICE) == 2 and await h.ledger.open_reservations() == 0
    finally:
        await h.close()


@pytest.mark.parametrize("step", ["link_messages", "update_job", "save_outputs", "settle_job"])
async def test_a_shutdown_after_the_delivery_keeps_it_charged(tmp_path: Path, step: str) -> None:
    """Cut short between the posting and the close (shutdown past its grace, at any of the
    ledger writes in between), the job was refunded whole: the person kept two images, free."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    real = getattr(h.ledger, step)
    delivered = asyncio.Event()
    stuck = asyncio.Event()

    async def hangs_after_delivery(*args: object, **kwargs: object) -> object:
        if delivered.is_set() and not stuck.is_set():
            stuck.set()
            await asyncio.Event().wait()  # until cancelled
        return await real(*args, **kwargs)

    class Posts(Deliverer):
        async def __call__(self, result: GenerationResult) -> Delivery:
            posted = await super().__call__(result)
            delivered.set()
            return posted

    setattr(h.ledger, step, hangs_after_delivery)
    try:
        deliver = Posts(message_ids=("m1",), thread_id="t-new")
        task = asyncio.create_task(h.engine.generate(fox(count=2), ALICE, deliver=deliver))
        await asyncio.wait_for(stuck.wait(), 5)
        job_id = deliver.results[0].job_id
        assert h.engine.delivering(job_id)  # Cancel: too late, the person has the images
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await h.engine.wait_background()
        job = await h.ledger.get_job(job_id)
        assert job is not None and (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 2)
        assert await used(h.ledger, ALICE) == 2 and await h.ledger.open_reservations() == 0
        assert not h.engine.delivering(job_id)
    finally:
        await h.close()


async def test_messages_not_linked_leave_the_result_charged_and_closed(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))

    async def locked(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    h.ledger.link_messages = locked  # type: ignore[method-assign]
    try:
        result, _ = await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer(message_ids=("m1",)))
        assert result.charged == 2 and await used(h.ledger, ALICE) == 2
        job = await h.ledger.get_job(result.job_id)
        assert job is not None and job.status == JobStatus.SUCCEEDED
    finally:
        await h.close()


# -- keeping the images beside the delivery (issue 17) --------------------------------------------


async def test_the_delivery_does_not_wait_for_the_images_to_be_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, DemoProvider(config, None, None))  # type: ignore[arg-type]
    try:
        release = asyncio.Event()
        save = h.ledger.save_outputs
        kept_when_delivered: list[bool] = []

        async def slow_save(job_id: str, images: list[GeneratedImage]) -> None:
            await release.wait()
            await save(job_id, images)

        async def deliver(result: GenerationResult) -> Delivery:
            kept_when_delivered.append(bool(await h.ledger.job_outputs(result.job_id)))
            release.set()  # the save may finish now: the job must wait for it before settling
            return Delivery(len(result.images), ("m1",))

        monkeypatch.setattr(h.ledger, "save_outputs", slow_save)
        result, _ = await asyncio.wait_for(h.engine.generate(fox(), ALICE, deliver=deliver), 10)
        assert kept_when_delivered == [False]
        # Settled only once kept: whoever finds the job by its message finds its images.
        job = await h.ledger.job_for_message("discord", "m1")
        assert job is not None and job.status == JobStatus.SUCCEEDED
        assert [i.data for i in await h.ledger.job_outputs(result.job_id)] == [result.images[0].data]
    finally:
        await h.close()


async def test_images_that_cannot_be_kept_do_not_undo_a_delivery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, DemoProvider(config, None, None))  # type: ignore[arg-type]
    try:

        async def broken_save(job_id: str, images: list[GeneratedImage]) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(h.ledger, "save_outputs", broken_save)
        deliver = Deliverer(message_ids=("m1",))
        result, delivery = await h.engine.generate(fox(), ALICE, deliver=deliver)
        assert delivery.delivered == 1 and result.charged == 1
        assert await used(h.ledger, ALICE) == 1
        job = await h.ledger.get_job(result.job_id)
        assert job is not None and job.status == JobStatus.SUCCEEDED
        assert await h.ledger.job_outputs(result.job_id) == []
        assert f"job {result.job_id}: its images could not be kept for edits" in caplog.text
    finally:
        await h.close()


async def test_a_reader_right_after_the_result_waits_for_its_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply or button that comes while the images are still being kept (the result is on
    screen already) waits for them through images_kept instead of finding none."""
    config = settings(tmp_path)
    h = await open_engine(config, DemoProvider(config, None, None))  # type: ignore[arg-type]
    try:
        release = asyncio.Event()
        save = h.ledger.save_outputs
        found: list[int] = []

        async def slow_save(job_id: str, images: list[GeneratedImage]) -> None:
            await release.wait()
            await save(job_id, images)

        async def reader(job_id: str) -> None:
            await h.engine.images_kept(job_id)
            found.append(len(await h.ledger.job_outputs(job_id)))

        async def deliver(result: GenerationResult) -> Delivery:
            waiting = asyncio.create_task(reader(result.job_id))
            await asyncio.sleep(0.05)
            assert not waiting.done()  # the save is held: the reader waits
            release.set()
            await waiting
            return Delivery(len(result.images), ("m1",))

        monkeypatch.setattr(h.ledger, "save_outputs", slow_save)
        result, _ = await asyncio.wait_for(h.engine.generate(fox(), ALICE, deliver=deliver), 10)
        assert found == [1]
        await asyncio.wait_for(h.engine.images_kept(result.job_id), 1)  # nothing kept now: at once
        assert h.engine._keeping == {}
    finally:
        await h.close()


# -- what another model would do -----------------------------------------------------------------


class LiteOnly(TestProvider):
    """A host of Seedream 5.0 lite alone (as Segmind is)."""

    __test__ = False
    capabilities = Capabilities(models=frozenset({"5.0-lite"}))


@pytest.mark.parametrize(
    ("asked", "other"),
    [
        ({"resolution": "4K"}, "4.5"),  # 5.0 lite's tiers are 2K and 3K
        ({"width": 4096, "height": 4096}, "4.5"),  # past 5.0 lite's pixels
        ({"model": "4.5", "output_format": "png"}, "5.0-lite"),  # 4.5 returns JPEG only
        ({"model": "4.5", "resolution": "3K"}, "5.0-lite"),
    ],
)
async def test_a_refusal_names_the_model_that_would_make_it(
    tmp_path: Path, asked: dict[str, object], other: str
) -> None:
    """`--res 4K` on the default model was a dead end: it said only what 5.0 lite offers."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    try:
        with pytest.raises(InvalidRequest) as refused:
            h.engine.check(GenerationRequest(prompt="a fox", **asked))  # type: ignore[arg-type]
        name = {"4.5": "Seedream 4.5", "5.0-lite": "Seedream 5.0 lite"}[other]
        assert refused.value.user_text.endswith(f"{name} can make it: add `--model {other}`."), refused.value
    finally:
        await h.close()


async def test_no_model_is_named_that_no_host_serves_or_that_would_refuse_too(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, LiteOnly(config))
    try:
        with pytest.raises(InvalidRequest) as refused:
            h.engine.check(GenerationRequest(prompt="a fox", resolution="4K"))
        assert "--model" not in refused.value.user_text  # 4.5 would, but nothing here serves it
        for asked in ({"width": 512, "height": 512}, {"prompt": "x" * 2001}, {"model": "9"}):
            with pytest.raises(InvalidRequest) as refused:
                h.engine.check(GenerationRequest(**{"prompt": "a fox", **asked}))  # type: ignore[arg-type]
            assert "--model 4.5" not in refused.value.user_text, asked
    finally:
        await h.close()


async def test_a_turn_cancelled_while_its_reservation_is_written_is_not_charged(tmp_path: Path) -> None:
    """A shutdown cancels the turns left; one cancelled while SQLite's thread was busy (a burst's
    image writes) still had its reservation written, with no job to settle it: the person
    stayed charged for the day and the month."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    try:
        assert isinstance(h.ledger, SQLiteLedger)
        busy = asyncio.ensure_future(
            h.ledger.db.execute(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
                "SELECT count(*) FROM c"
            )
        )
        admitted = await h.engine.admit(fox(count=4), ALICE)
        turn = asyncio.ensure_future(h.engine.run(admitted, ALICE, deliver=Deliverer()))
        await asyncio.sleep(0.01)
        turn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await turn
        await busy
        await until(lambda: not h.engine._background)
        await asyncio.sleep(0.05)
        assert await used(h.ledger, ALICE) == 0
        assert await h.ledger.open_reservations() == 0
    finally:
        await h.close()


async def test_a_host_failed_over_to_starts_without_the_last_hosts_task(tmp_path: Path) -> None:
    """The job kept host A's task id under host B: a restart resumed A's task at B, and Cancel
    sent B's cancel call A's id."""
    config = settings(tmp_path)
    first = ResumableProvider(
        config, task_id="A-task-111", error=ProviderError("resumable", ProviderErrorKind.NO_CREDITS)
    )
    second = OtherProvider(config, block=True)
    h = await open_engine(config, first, second)
    try:
        turn = asyncio.create_task(h.engine.generate(fox(), ALICE, deliver=Deliverer()))
        await until(lambda: len(second.gates) == 1)
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert (job.provider, job.provider_task_id) == ("other", None)
        second.release()
        await turn
    finally:
        await h.close()
