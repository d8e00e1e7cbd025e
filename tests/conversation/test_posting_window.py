"""The moments a result is up but its job not yet closed (its messages being linked, the rest of
a batch uploading, a status message going away): what a person does then acts on what they
see. Each test is a race a review reproduced."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from bot import messages
from bot.conversation.turns import Ask, Cancel, Delete, ResultRef, Turn
from bot.request.models import JobStatus
from tests.conversation.replies import RecordingReply
from tests.conversation.surfaces import Answer, DiscordDriver, SlackDriver, _poll
from tests.emulators.discord.constants import TEXT_CHANNEL_ID
from tests.emulators.discord.models import Fault
from tests.emulators.slack.events import as_sent
from tests.engine.helpers import ALICE, TestProvider, open_engine, settings, until, used
from tests.reliability.conftest import Stack


async def test_delete_of_a_result_still_being_linked_says_so_and_deletes_nothing(tmp_path: Path) -> None:
    """It said "Deleted." and marked the job deleted while the result stayed up."""
    config = settings(tmp_path, daily_images=10)
    h = await open_engine(config, TestProvider(config))
    linking = asyncio.Event()
    link = h.ledger.link_messages

    async def slow_link(*args: Any, **kw: Any) -> None:  # the ledger's writer busy (a burst)
        await linking.wait()
        await link(*args, **kw)

    h.ledger.link_messages = slow_link  # type: ignore[method-assign]
    reply = RecordingReply()
    turn = asyncio.create_task(h.conversation.handle(Turn(ALICE, Ask("a red fox"), "mention"), reply))
    try:
        await until(lambda: bool(reply.posted))  # the result and its buttons are up
        assert reply.job_id is not None
        press = RecordingReply()
        await h.conversation.handle(Turn(ALICE, Delete(reply.job_id), "delete"), press)
        assert press.said() == [messages.with_charge_note(messages.STILL_POSTING)]
        assert press.deleted == []
        linking.set()
        await asyncio.wait_for(turn, 5)
        job = await h.ledger.get_job(reply.job_id)
        assert job is not None and job.deleted_at is None and job.result_message_ids == reply.posted
        again = RecordingReply()  # once it is all there, Delete does
        await h.conversation.handle(Turn(ALICE, Delete(reply.job_id), "delete"), again)
        assert again.deleted == list(reply.posted) and again.said() == [messages.DELETED]
    finally:
        linking.set()
        await h.close()


async def test_cancel_pressed_twice_cancels_once(tmp_path: Path) -> None:
    config = settings(tmp_path, daily_images=10)
    provider = TestProvider(config, block=True)
    h = await open_engine(config, provider)
    reply = RecordingReply()
    turn = asyncio.create_task(h.conversation.handle(Turn(ALICE, Ask("a red fox --n 2"), "mention"), reply))
    try:
        await until(lambda: bool(provider.gates))
        assert reply.job_id is not None
        presses = RecordingReply(), RecordingReply()
        cancel = Turn(ALICE, Cancel(ResultRef(job_id=reply.job_id)), "cancel")
        await asyncio.gather(*(h.conversation.handle(cancel, press) for press in presses))
        await asyncio.wait_for(turn, 5)
        said = sorted(text for press in presses for text in press.said())
        assert said == sorted([messages.cancel_done(reply.job_id), messages.CANCELLED_ALREADY])
        job = await h.ledger.get_job(reply.job_id)
        assert job is not None and job.status == JobStatus.CANCELLED and await used(h.ledger, ALICE) == 0
    finally:
        provider.release()
        await h.close()


class _SecondThreadPost:
    """The second message posted into a thread (the rest of a batch of 11)."""

    def __init__(self) -> None:
        self.seen = 0

    def search(self, path: str) -> bool | None:
        if re.search(r"/channels/\d+/messages$", path) and TEXT_CHANNEL_ID not in path:
            self.seen += 1
            return self.seen == 2 or None
        return None


async def test_a_reply_to_the_first_message_of_a_batch_still_uploading_edits_it(stack: Stack) -> None:
    """Discord: ten images and their buttons up, the eleventh rate-limited for 2 s. The reply
    was refused as "not a seedbot result"."""
    bot = await stack.start_bot(providers=["demo"], daily_images=30)
    driver = DiscordDriver(stack.discord)
    emu = stack.discord
    body = {"message": "You are being rate limited.", "retry_after": 2.0, "global": False, "code": 0}
    headers = {"Via": "1.1 google", "Retry-After": "2", "X-RateLimit-Scope": "user"}
    emu.faults.append(Fault("POST", _SecondThreadPost(), 429, body, headers, 1))  # type: ignore[arg-type]
    before = driver._bot_messages()
    await driver.start("a lighthouse at dusk --n 11")
    first = await _poll(lambda: driver._result_since(before))
    assert first.result is not None
    message = first.result.handle
    await emu.send_message(
        "make it darker",
        reply_to=message["id"],
        channel_id=message["channel_id"],
        mentions=[emu.bot_user_id],
        author_id=driver.people[0],
    )
    for _ in range(300):
        jobs = await bot.runtime.ledger.jobs_for_user(driver.key(0), 10)
        darker = [j for j in jobs if j.prompt == "make it darker"]
        if darker:
            break
        await asyncio.sleep(0.05)
    assert darker and darker[0].parent_id == first.result.job_id


async def test_a_thread_reply_right_after_a_new_result_acts_on_it(stack: Stack) -> None:
    """Slack: B, an edit of A, up in A's thread while its placeholder's removal is rate-limited.
    "cast save mia" saved A's image and "make it darker" edited A."""
    bot = await stack.start_bot(providers=["demo"], daily_images=20)
    driver = SlackDriver(stack.slack, lambda: bot.slack_url)
    emu, ledger, key = stack.slack, bot.runtime.ledger, driver.key(0)
    a = await driver.ask("a red fox")
    assert a.result is not None, a.text
    for _ in range(300):
        if (job := await ledger.get_job(a.result.job_id)) and job.status == JobStatus.SUCCEEDED:
            break
        await asyncio.sleep(0.02)
    thread = a.result.handle["thread"]
    emu.fail_next("chat.delete", retry_after=2)
    controls = len(driver._controls())
    await emu.post_event(bot.slack_url, emu.message_event(as_sent("make it night"), thread_ts=thread))
    await _poll(lambda: Answer() if len(driver._controls()) > controls else None)
    b = (await ledger.jobs_for_user(key, 10))[0]
    assert b.parent_id == a.result.job_id and b.status == JobStatus.RUNNING  # up, not yet closed
    await emu.post_event(bot.slack_url, emu.message_event(as_sent("cast save mia"), thread_ts=thread))
    await emu.post_event(bot.slack_url, emu.message_event(as_sent("make it darker"), thread_ts=thread))
    for _ in range(300):
        jobs = await ledger.jobs_for_user(key, 10)
        darker = [j for j in jobs if "darker" in j.prompt]
        saved = await ledger.cast_entry(key, "mia")
        if darker and saved is not None:
            break
        await asyncio.sleep(0.05)
    assert darker and darker[0].parent_id == b.id
    [image] = (await ledger.job_outputs(b.id))[:1]
    assert saved is not None and saved.image.data == image.data
