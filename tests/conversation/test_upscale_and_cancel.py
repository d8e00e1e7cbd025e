"""Upscale and Cancel (issue 20), the same on every surface: through the real discord.py /
slack-bolt stacks and the playground's HTTP API, with fal.ai's emulator as the host (it renders
Seedream 4.5 at 4K and has a cancel call)."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from typing import Any

import pytest

from bot import messages
from bot.request.models import Job, JobKind, JobStatus
from tests.conversation.surfaces import (
    CHATS,
    SURFACES,
    Core,
    DiscordDriver,
    Driver,
    Result,
    open_surface,
)
from tests.reliability.conftest import ProviderRequest, Stack
from tests.web.conftest import OpenPlayground

FAL_KEY = "falkey-" + secrets.token_hex(12)
FAL = {"4.5 edit": "/seedream/v4.5/edit", "cancel": "/cancel"}


async def _on(
    name: str, stack: Stack, open_playground: OpenPlayground, **settings: Any
) -> tuple[Driver, Core]:
    stack.providers.state("fal").api_key = FAL_KEY  # (the reliability stack keys the sync hosts)
    values: dict[str, Any] = {
        "providers": ["fal"],
        "daily_images": 20,
        "fal_api_key": FAL_KEY,
        "fal_base_url": stack.providers.base_url("fal"),
        **settings,
    }
    web = {
        "segmind_api_key": stack.secrets.provider_keys["segmind"],
        "segmind_base_url": stack.providers.base_url("segmind"),
        "allow_private_network": True,
        "poll_interval": 0.05,
        "provider_retries": 0,
    }
    return await open_surface(name, stack, open_playground, values, web)


Start = Callable[..., Any]


@pytest.fixture(params=SURFACES)
def surface(request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground) -> Start:
    async def start(**settings: Any) -> tuple[Driver, Core]:
        return await _on(request.param, stack, open_playground, **settings)

    return start


@pytest.fixture(params=CHATS)
def chat(request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground) -> Start:
    async def start(**settings: Any) -> tuple[Driver, Core]:
        return await _on(request.param, stack, open_playground, **settings)

    return start


def _fal(stack: Stack, ending: str) -> list[ProviderRequest]:
    return [r for r in stack.provider_requests if r.path.startswith("/fal/") and r.path.endswith(ending)]


async def _until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await check()
        if found:
            return found
        if loop.time() > deadline:
            raise TimeoutError("never happened")
        await asyncio.sleep(0.02)


async def _jobs(bot: Core, key: str, count: int, status: JobStatus, *, task: bool = False) -> list[Job]:
    """`key`'s jobs, oldest first, once `count` of them are in `status` (with a host task id)."""

    async def check() -> list[Job] | None:
        jobs = sorted(await bot.jobs(key), key=lambda j: j.created_at)
        found = [j for j in jobs if j.status == status and (j.provider_task_id or not task)]
        return found if len(found) >= count else None

    found: list[Job] = await _until(check)
    return found


# -- Upscale ---------------------------------------------------------------------------------------


async def test_upscale_of_image_2_is_a_4k_render_of_that_image_charged_at_the_4k_weight(
    surface: Start, stack: Stack
) -> None:
    driver, bot = await surface(resolution_weights={"4K": 4})
    first = await driver.ask("a red fox in snow --n 2")
    assert first.result is not None and first.result.images == 2, first.text
    await bot.wait_closed(driver.key(0), 1)
    upscaled = await driver.upscale(first.result, 2)
    assert upscaled.result is not None, upscaled.text
    # Shown as what it is; the words the model was sent (below) are not the person's prompt.
    assert (
        messages.shown_prompt(messages.UPSCALE_PROMPT) in upscaled.text and "Reproduce" not in upscaled.text
    ), upscaled.text
    ledger = bot.runtime.ledger
    job = await ledger.get_job(upscaled.result.job_id)
    assert job is not None and (job.kind, job.parent_id) == (JobKind.UPSCALE, first.result.job_id)
    assert (job.model, job.request["tier"], job.request["pick"]) == ("4.5", "4K", 2)
    outputs = await ledger.job_outputs(first.result.job_id)
    assert [i.data for i in await ledger.job_inputs(job.id)] == [outputs[1].data]  # #2, only it
    # What reached the host: its Seedream 4.5 edit endpoint, at 4K, with that one reference.
    [sent] = _fal(stack, FAL["4.5 edit"])
    body = json.loads(sent.body)
    assert len(body["image_urls"]) == 1
    size = body["image_size"]
    assert size["width"] * size["height"] > 3072 * 3072, size  # the 4K tier, not 2K
    assert body["prompt"] == messages.UPSCALE_PROMPT
    await bot.wait_closed(driver.key(0), 2)
    assert (await bot.usage(driver.key(0))).day_used == 2 + 4  # the batch, then one 4K image
    info = await driver.press(upscaled.result, "info", person=0)
    assert messages.upscale_of(2, first.result.job_id) in info.text, info.text


async def test_variations_of_an_upscale_vary_its_image_not_its_4k_copy(surface: Start, stack: Stack) -> None:
    """Variations reused the upscale's own request ("reproduce image 1 exactly", 4.5, 4K): four
    copies of the image at 4K, each charged at the 4K weight. They vary the image it made."""
    driver, bot = await surface(resolution_weights={"4K": 4}, daily_images=40)
    first = await driver.ask("a red fox in snow")
    assert first.result is not None, first.text
    await bot.wait_closed(driver.key(0), 1)
    upscaled = await driver.upscale(first.result, 1)
    assert upscaled.result is not None, upscaled.text
    await bot.wait_closed(driver.key(0), 2)
    varied = await driver.press(upscaled.result, "variations", person=0)
    assert varied.result is not None, varied.text
    ledger = bot.runtime.ledger
    job = await ledger.get_job(varied.result.job_id)
    assert job is not None and job.prompt == messages.VARIATIONS_PROMPT and job.request["tier"] != "4K"
    outputs = await ledger.job_outputs(upscaled.result.job_id)
    assert [i.data for i in await ledger.job_inputs(job.id)] == [outputs[0].data]
    # Too many asked is refused with the range, as "20 more" is (it was cut to 15 unsaid).
    many = await driver.reply(first.result, "20 more like this")
    assert many.result is None and messages.NOT_CHARGED in many.text, many.text


async def test_a_reply_upscale_2_is_the_same_action(chat: Start, stack: Stack) -> None:
    driver, bot = await chat()
    first = await driver.ask("a lighthouse --n 2")
    assert first.result is not None
    await bot.wait_closed(driver.key(0), 1)
    upscaled = await driver.reply(first.result, "upscale #2")
    assert upscaled.result is not None, upscaled.text
    job = await bot.runtime.ledger.get_job(upscaled.result.job_id)
    assert job is not None and job.kind == JobKind.UPSCALE and job.request["pick"] == 2
    assert len(_fal(stack, FAL["4.5 edit"])) == 1
    await bot.wait_closed(driver.key(0), 2)
    # What people say for it ("in 4k" was an edit whose prompt was the words).
    said = await driver.reply(upscaled.result, "in 4k please")
    assert said.result is not None, said.text
    job = await bot.runtime.ledger.get_job(said.result.job_id)
    assert job is not None and job.kind == JobKind.UPSCALE and job.parent_id == upscaled.result.job_id


async def test_cancel_or_upscale_typed_alone_says_how_and_draws_nothing(surface: Start, stack: Stack) -> None:
    """Not a reply, so no job is named: it was a request for an image of the word."""
    driver, bot = await surface()
    said = (await driver.ask("cancel")).text
    assert said == messages.CANCEL_HOW and messages.NOT_CHARGED not in said  # a note, not a refusal
    assert (await driver.ask("Upscale #2")).text == messages.UPSCALE_HOW
    assert (await driver.ask("cancel all")).text == messages.CANCEL_HOW
    assert await bot.jobs(driver.key(0)) == []
    assert (await bot.usage(driver.key(0))).day_used == 0


async def test_cancel_in_reply_to_a_finished_result_says_it_is_finished(surface: Start, stack: Stack) -> None:
    """In a thread (Slack, the playground) it found no job at work and said the message was no
    result of seedbot's."""
    driver, bot = await surface()
    first = await driver.ask("a kite")
    assert first.result is not None, first.text
    await bot.wait_closed(driver.key(0), 1)
    said = await driver.reply(first.result, "cancel")
    assert said.result is None and said.text == messages.CANCEL_FINISHED, said.text  # as pressed
    assert (await bot.usage(driver.key(0))).day_used == 1


async def test_upscale_without_a_4k_host_is_refused_for_free(surface: Start, stack: Stack) -> None:
    driver, bot = await surface(providers=["segmind"])  # Seedream 5.0 lite only: 2K and 3K
    first = await driver.ask("a paper boat --n 2")
    assert first.result is not None, first.text
    await bot.wait_closed(driver.key(0), 1)
    refused = await driver.upscale(first.result, 2)
    assert refused.result is None and refused.text.startswith(messages.UPSCALE_NO_4K), refused.text
    assert (await bot.usage(driver.key(0))).day_used == 2
    assert len(await bot.jobs(driver.key(0))) == 1


# -- Cancel ----------------------------------------------------------------------------------------


async def test_cancel_of_a_queued_job_refunds_it_and_moves_the_line_up(surface: Start, stack: Stack) -> None:
    stack.providers.state("fal").pending_polls = 100_000  # the first job keeps running
    driver, bot = await surface(max_concurrency=1, user_concurrency=3)
    key = driver.key(0)
    for n, prompt in enumerate(("a fox", "a hare", "an owl"), start=1):
        await driver.start(prompt)
        await _until(lambda n=n: _count(bot, key, n))  # one at a time: a known order
    running = (await _jobs(bot, key, 1, JobStatus.RUNNING, task=True))[0]
    second, third = await _jobs(bot, key, 2, JobStatus.QUEUED)
    await _until(lambda: _says(driver, third, messages.queued(2)))
    assert (await bot.usage(key)).day_used == 3  # all three reserved

    answer = await driver.cancel(second)
    assert _cancelled(answer.text, second), answer.text
    cancelled = await bot.runtime.ledger.get_job(second.id)
    assert cancelled is not None and cancelled.status == JobStatus.CANCELLED
    assert (await bot.usage(key)).day_used == 2  # refunded at once
    await _until(lambda: _says(driver, third, messages.queued(1)))  # the line moved up
    assert _fal(stack, FAL["cancel"]) == []  # a queued job never reached the host

    await driver.cancel(running)  # the rest, so nothing is left at the host
    await driver.cancel(third)

    # Each Cancel answers twice on Slack (the job's own "you cancelled" and the press's answer),
    # so the second press may return on the first's late answer, before its own refund lands.
    async def all_refunded() -> bool:
        return (await bot.usage(key)).day_used == 0

    await _until(all_refunded)


def _cancelled(text: str, job: Job) -> bool:
    """What the person who cancelled reads first: the Cancel's answer, or (on a surface that
    answers both in one place) the job's own "you cancelled this request"; both say it is free."""
    return text in (messages.cancel_done(job.id), messages.cancelled(True))


async def _count(bot: Core, key: str, n: int) -> bool:
    return len(await bot.jobs(key)) >= n


async def _says(driver: Driver, job: Job, text: str) -> bool:
    return text in await driver.status_text(job)


async def test_cancel_of_a_running_job_cancels_it_at_the_host_once(surface: Start, stack: Stack) -> None:
    stack.providers.state("fal").pending_polls = 100_000
    driver, bot = await surface()
    await driver.start("a slow glacier")
    [job] = await _jobs(bot, driver.key(0), 1, JobStatus.RUNNING, task=True)
    answer = await driver.cancel(job)
    assert _cancelled(answer.text, job), answer.text
    [closed] = await _jobs(bot, driver.key(0), 1, JobStatus.CANCELLED)
    assert closed.images_delivered == 0
    assert (await bot.usage(driver.key(0))).day_used == 0
    cancels = _fal(stack, FAL["cancel"])
    assert [r.method for r in cancels] == ["PUT"] and job.provider_task_id in cancels[0].path
    await asyncio.sleep(0.3)  # no retry, no failover: the job is over
    assert len(_fal(stack, FAL["cancel"])) == 1
    assert (await bot.runtime.ledger.get_job(job.id)).status == JobStatus.CANCELLED  # type: ignore[union-attr]


async def test_someone_else_may_not_cancel_but_an_admin_may(chat: Start, stack: Stack) -> None:
    stack.providers.state("fal").pending_polls = 100_000
    driver, bot = await chat()
    await driver.start("a long winter")
    [job] = await _jobs(bot, driver.key(0), 1, JobStatus.RUNNING, task=True)
    refused = await driver.cancel(job, person=1)
    assert refused.text == messages.CANCEL_NOT_OWNER, refused.text
    still = await bot.runtime.ledger.get_job(job.id)
    assert still is not None and still.status == JobStatus.RUNNING
    assert _fal(stack, FAL["cancel"]) == []
    bot.runtime.settings.admins.append(driver.key(1))  # an admin may
    done = await driver.cancel(job, person=1)
    assert done.text == messages.cancel_done(job.id), done.text
    closed = await bot.runtime.ledger.get_job(job.id)
    assert closed is not None and closed.status == JobStatus.CANCELLED
    assert (await bot.usage(driver.key(0))).day_used == 0


async def test_a_reply_cancel_to_the_status_message_cancels(chat: Start, stack: Stack) -> None:
    stack.providers.state("fal").pending_polls = 100_000
    driver, bot = await chat()
    await driver.start("a frozen lake")
    [job] = await _jobs(bot, driver.key(0), 1, JobStatus.RUNNING, task=True)
    if isinstance(driver, DiscordDriver):  # a reply to the status message
        handle = stack.discord.messages[job.message_id or ""]
    else:  # a reply in the request's thread
        handle = {"thread": job.thread_id}
    answer = await driver.reply(Result(job.id, 0, handle), "stop!")  # or "cancel", "abort"
    assert _cancelled(answer.text, job), answer.text
    [closed] = await _jobs(bot, driver.key(0), 1, JobStatus.CANCELLED)
    assert closed.id == job.id and (await bot.usage(driver.key(0))).day_used == 0
    assert len(_fal(stack, FAL["cancel"])) == 1


async def test_is_it_done_yet_lists_what_is_being_made_and_costs_nothing(
    surface: Start, stack: Stack
) -> None:
    """'is it done yet?' or 'status' while an image was being made became a new image of the
    words (charged, and in line behind the one awaited). It says what is being made."""
    driver, bot = await surface()
    key = driver.key(0)
    assert (await driver.ask("status")).text == messages.NOTHING_WORKING
    stack.providers.state("fal").pending_polls = 100_000
    await driver.start("a slow glacier")
    [job] = await _jobs(bot, key, 1, JobStatus.RUNNING, task=True)
    said = (await driver.ask("is it done yet?")).text
    lines = said.splitlines()
    assert lines[0] == messages.working(["x"]).splitlines()[0], said
    assert lines[1].startswith(f"• a slow glacier · {messages.job_status('running')} · "), said
    assert len(lines) == 2 and (await driver.ask("Where is my image?")).text.splitlines()[1:] != []
    assert [j.id for j in await bot.jobs(key)] == [job.id]  # nothing drawn, nothing charged
    assert (await bot.usage(key)).day_used == 1
    await driver.cancel(job)
