"""bot/engine/posting.py: what a surface posted of a result is the person's, however the
delivery ends (an error after some messages, a Cancel, a shutdown, a restart). Each found
charging nothing for images the person kept."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.conversation.batches import post_groups
from bot.engine.pipeline import Delivery
from bot.errors import DeliveryError, JobCancelled
from bot.request.models import GeneratedImage, GenerationResult, JobStatus
from tests.engine.helpers import ALICE, Deliverer, Hooks, TestProvider, fox, open_engine, settings, used
from tests.engine.test_pipeline import _Streaming


class TwoMessages:
    """A surface posting a batch of 12 as a message of 10 and one of 2; the second hangs
    (`hang`) or fails (`fail`), or a last touch after both fails (`fail_after`)."""

    def __init__(
        self,
        *,
        hang: bool = False,
        hang_after: bool = False,
        fail: Exception | None = None,
        fail_after: Exception | None = None,
    ) -> None:
        self.hang, self.hang_after, self.fail, self.fail_after = hang, hang_after, fail, fail_after
        self.first_out, self.all_out = asyncio.Event(), asyncio.Event()
        self.on_screen = 0

    async def __call__(self, result: GenerationResult) -> Delivery:
        async def post(n: int, group: Sequence[int]) -> str:
            if n == 1 and self.hang:
                await asyncio.sleep(3600)
            if n == 1 and self.fail is not None:
                raise self.fail
            self.on_screen += len(group)
            if n == 0:
                self.first_out.set()
            return f"m{n}"

        groups = [range(10), range(10, 12)] if len(result.images) > 10 else [range(len(result.images))]
        posted = await post_groups(groups, post, job_id=result.job_id, ids=lambda sent: [sent])
        self.all_out.set()
        if self.hang_after:  # the buttons' message, a placeholder's removal, rate-limited
            await asyncio.sleep(3600)
        if self.fail_after is not None:  # the header's edit, the buttons' message
            raise self.fail_after
        return Delivery(posted.delivered, tuple(posted.sent))


async def test_an_error_after_every_image_went_out_is_no_failed_delivery(tmp_path: Path) -> None:
    """Slack's placeholder removal or Discord's header edit failing after the last message was
    refunded everything and said nothing was posted; the images were all up."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    surface = TwoMessages(fail_after=ConnectionResetError("the platform hung up"))
    try:
        result, delivery = await h.engine.generate(fox(count=12), ALICE, deliver=surface)
        assert result.charged == surface.on_screen == 12 and delivery.message_ids == ("m0", "m1")
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert (job.status, job.images_delivered, job.result_message_ids) == (
            JobStatus.SUCCEEDED,
            12,
            ("m0", "m1"),
        )
        assert await used(h.ledger, ALICE) == 12
    finally:
        await h.close()


async def test_an_error_after_part_of_a_batch_went_out_charges_that_part_and_says_so(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    surface = TwoMessages(fail=TimeoutError(), fail_after=ConnectionResetError("the platform hung up"))
    try:
        with pytest.raises(DeliveryError) as failed:
            await h.engine.generate(fox(count=12), ALICE, deliver=surface)
        assert failed.value.charged and failed.value.user_text == messages.delivery_cut_short(10)
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 10)
        assert await used(h.ledger, ALICE) == surface.on_screen == 10
    finally:
        await h.close()


async def test_a_dropped_connection_on_the_second_message_keeps_the_first_charged(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    surface = TwoMessages(fail=TimeoutError())
    try:
        result, _ = await h.engine.generate(fox(count=12), ALICE, deliver=surface)
        assert result.charged == surface.on_screen == 10
        assert await used(h.ledger, ALICE) == 10
    finally:
        await h.close()


async def test_a_shutdown_cuts_a_posting_job_last_and_charges_what_went_out(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    surface = TwoMessages(hang=True)
    try:
        turn = asyncio.create_task(h.engine.generate(fox(count=12), ALICE, deliver=surface))
        await surface.first_out.wait()
        await h.engine.shutdown(grace=0.05, settle_timeout=0.2)
        with pytest.raises(asyncio.CancelledError):
            await turn
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 10)
        assert await used(h.ledger, ALICE) == 10
        assert await h.ledger.open_reservations() == 0
    finally:
        await h.close()


async def test_a_shutdown_lets_a_posting_job_finish_within_the_settle_time(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    posting = asyncio.Event()

    async def slow(result: GenerationResult) -> Delivery:
        posting.set()
        await asyncio.sleep(0.3)  # a big upload
        return Delivery(len(result.images))

    try:
        turn = asyncio.create_task(h.engine.generate(fox(count=2), ALICE, deliver=slow))
        await posting.wait()
        await h.engine.shutdown(grace=0.0, settle_timeout=5.0)
        result, _ = await turn
        assert result.charged == 2
    finally:
        await h.close()


@pytest.mark.parametrize(("count", "hang_after"), [(12, False), (12, True), (2, True)])
async def test_a_restart_while_a_result_was_posted_charges_what_is_up(
    tmp_path: Path, count: int, hang_after: bool
) -> None:
    """Killed while the rest of a batch uploads, or after its last message (the buttons, the
    placeholder, the images' save still to come): a one-message result went entirely free."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    surface = TwoMessages(hang=not hang_after, hang_after=hang_after)
    turn = asyncio.create_task(h.engine.generate(fox(count=count), ALICE, deliver=surface))
    await surface.first_out.wait()
    if hang_after:
        await surface.all_out.wait()
    for _ in range(200):  # the count goes to the ledger behind whatever it is writing (not waited for)
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        if job.images_delivered == surface.on_screen:
            break
        await asyncio.sleep(0.01)
    h.engine._active.clear()  # the process dies: nothing of it runs from here (kill -9)
    await h.ledger.close()
    turn.cancel()
    await asyncio.gather(turn, return_exceptions=True)

    again = await open_engine(config, TestProvider(config))
    hooks = Hooks()
    again.engine.register_platform("discord", hooks.platform_hooks())
    try:
        await again.engine.recover()
        (job,) = await again.ledger.jobs_for_user(ALICE.key)
        assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, surface.on_screen)
        assert await used(again.ledger, ALICE) == surface.on_screen
        [(_, said)] = hooks.notices
        assert said == messages.restarted_partial(surface.on_screen, count)
    finally:
        await again.close()


async def test_a_cancelled_streamed_batch_charges_the_images_shown(tmp_path: Path) -> None:
    """Cancel at the 14th of 15 streamed images made all 14 free, as often as one liked."""
    config = settings(tmp_path)
    provider = _Streaming(config, stall_after=14)
    h = await open_engine(config, provider)

    async def stream(job_id: str, index: int, image: GeneratedImage) -> bool:
        return True

    try:
        admitted = await h.engine.admit(fox(count=15), ALICE)
        turn = asyncio.create_task(h.engine.run(admitted, ALICE, deliver=TwoMessages(), stream=stream))
        await provider.stalled.wait()
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert await h.engine.cancel(job, by_owner=True)
        with pytest.raises(JobCancelled) as cancelled:
            await turn
        assert cancelled.value.user_text == messages.cancelled(True, 14) and cancelled.value.charged
        job = await h.ledger.get_job(job.id)
        assert job is not None and (job.status, job.images_delivered) == (JobStatus.CANCELLED, 14)
        assert await used(h.ledger, ALICE) == 14
        assert await h.ledger.open_reservations() == 0
    finally:
        await h.close()


async def test_a_cancel_with_no_task_here_charges_the_images_it_showed(tmp_path: Path) -> None:
    """A restart left a streamed batch after three images were shown; Cancel closes it in the
    ledger (as for a job another process runs)."""
    config = settings(tmp_path)
    provider = _Streaming(config, stall_after=3)
    h = await open_engine(config, provider)

    async def stream(job_id: str, index: int, image: GeneratedImage) -> bool:
        return True

    admitted = await h.engine.admit(fox(count=4), ALICE)
    turn = asyncio.create_task(h.engine.run(admitted, ALICE, deliver=TwoMessages(), stream=stream))
    await provider.stalled.wait()
    for _ in range(300):  # each shown image is written as it is shown
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        if job.images_delivered == 3:
            break
        await asyncio.sleep(0.01)
    h.engine._active.clear()  # the process dies
    await h.ledger.close()
    turn.cancel()
    await asyncio.gather(turn, return_exceptions=True)

    again = await open_engine(config, TestProvider(config))
    try:
        (left,) = await again.ledger.jobs_for_user(ALICE.key)
        assert left.status == JobStatus.RUNNING and left.images_delivered == 3
        assert await again.engine.cancel(left, by_owner=False)
        closed = await again.ledger.get_job(left.id)
        assert closed is not None and (closed.status, closed.images_delivered) == (JobStatus.CANCELLED, 3)
        assert await used(again.ledger, ALICE) == 3
        assert await again.ledger.open_reservations() == 0
    finally:
        await again.close()


class _Down:
    """The database refusing the job's close `times` times (a PostgreSQL restart, a full disk)."""

    def __init__(self, method: Any, times: int) -> None:
        self.method, self.times, self.tries = method, times, 0

    async def __call__(self, *args: Any, **kw: Any) -> Any:
        self.tries += 1
        if self.tries <= self.times:
            raise ConnectionRefusedError(111, "Connect call failed")
        return await self.method(*args, **kw)


async def test_a_close_the_database_refused_is_recorded_once_it_answers(tmp_path: Path) -> None:
    """The result was up, yet the person read "something went wrong… not charged", and the
    reservation stayed held until a restart refunded the images they had."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    down = _Down(h.ledger.settle_job, times=2)
    h.ledger.settle_job = down  # type: ignore[method-assign]
    try:
        result, _ = await h.engine.generate(fox(count=2), ALICE, deliver=TwoMessages())
        assert result.charged == 2  # a result, not an error
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert job.status == JobStatus.RUNNING and await h.ledger.open_reservations() == 1
        await h.engine.wait_background(timeout=10)
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert (job.status, job.images_delivered, down.tries) == (JobStatus.SUCCEEDED, 2, 3)
        assert await used(h.ledger, ALICE) == 2 and await h.ledger.open_reservations() == 0
    finally:
        await h.close()


async def test_a_refund_the_database_refused_is_recorded_once_it_answers(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    down = _Down(h.ledger.settle_job, times=1)
    h.ledger.settle_job = down  # type: ignore[method-assign]
    try:
        with pytest.raises(DeliveryError):
            await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer(fail=OSError("refused")))
        assert await h.ledger.open_reservations() == 1  # held until the database answers
        await h.engine.wait_background(timeout=10)
        assert down.tries == 2
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert job.status == JobStatus.FAILED and await used(h.ledger, ALICE) == 0
        assert await h.ledger.open_reservations() == 0
    finally:
        await h.close()


async def test_a_close_the_database_keeps_refusing_gives_up_once_the_engine_closes(tmp_path: Path) -> None:
    """`seedbot generate` printed its image, then never exited: the retry waited for a drain
    that closing never starts."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    down = _Down(h.ledger.settle_job, times=10**6)
    h.ledger.settle_job = down  # type: ignore[method-assign]
    try:
        await h.engine.generate(fox(), ALICE, deliver=TwoMessages())
        await h.engine.close()
        await asyncio.wait_for(h.engine.wait_background(), 5)
        assert down.tries == 2  # the close, and once more as it closed
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert job.status == JobStatus.RUNNING  # for the next start's recovery
    finally:
        await h.ledger.close()


async def test_a_refund_the_database_refused_says_what_it_will_charge(tmp_path: Path) -> None:
    """The person read "could not be posted… not charged", then the retry charged the ten
    images they had."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    h.ledger.settle_job = _Down(h.ledger.settle_job, times=1)  # type: ignore[method-assign]
    surface = TwoMessages(fail=TimeoutError(), fail_after=ConnectionResetError("hung up"))
    try:
        with pytest.raises(DeliveryError) as failed:
            await h.engine.generate(fox(count=12), ALICE, deliver=surface)
        assert failed.value.charged and failed.value.user_text == messages.delivery_cut_short(10)
        await h.engine.wait_background(timeout=10)
        assert await used(h.ledger, ALICE) == surface.on_screen == 10
    finally:
        await h.close()


async def test_the_counts_posted_are_in_before_a_failed_deliverys_close(tmp_path: Path) -> None:
    """Not waited for by the delivery, a count could land after the refund's close and rewrite
    the finished job's number (PostgreSQL's pool runs them on connections of their own)."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    order: list[str] = []
    update, settle = h.ledger.update_job, h.ledger.settle_job

    async def slow_count(job_id: str, **fields: Any) -> None:
        if "images_delivered" in fields:
            await asyncio.sleep(0.3)
            order.append(f"count {fields['images_delivered']}")
        await update(job_id, **fields)

    async def settling(*args: Any, **kw: Any) -> bool:
        order.append("close")
        return await settle(*args, **kw)

    h.ledger.update_job = slow_count  # type: ignore[method-assign]
    h.ledger.settle_job = settling  # type: ignore[method-assign]
    surface = TwoMessages(fail=TimeoutError(), fail_after=ConnectionResetError("hung up"))
    try:
        with pytest.raises(DeliveryError):
            await h.engine.generate(fox(count=12), ALICE, deliver=surface)
        assert order == ["count 10", "close"]
    finally:
        await h.close()
