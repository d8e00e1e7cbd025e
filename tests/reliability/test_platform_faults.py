"""Platform faults in the middle of a job: the real bot (Discord and Slack in one process, the
`stack` fixture) with Novita held at the emulator while the fault is armed, so the fault hits
the job's delivery and not its start.

Discord: a 429 (with `Via`, so discord.py retries it) on the result upload into the thread and
on the edit of the interaction response that becomes the result; a gateway RECONNECT (op 7)
while the job runs; the interaction token expiring (past 15 minutes) before delivery, where
the result must become a channel message; a 429 and a 403 on the follow-up that carries images
11-12 of a batch (the 403 leaves 10 charged, 2 refunded, and a note on the first message).
Slack: `ratelimited` 429s on chat.postMessage and files.completeUploadExternal, `ok:false`
answers (internal_error) once, and a refused upload of images 11-12 of a batch.

Every job must end delivered (charged exactly what was delivered) or, where the adapter
cannot deliver, refunded with the user told; the ledger balances with no reservation open.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import messages
from bot.request.models import Job, JobStatus
from tests.discord.conftest import body_text, buttons, details, job_id_of, notes, wait_result
from tests.emulators.discord import HUMAN_USER_ID, TEXT_CHANNEL_ID, DiscordEmulator
from tests.emulators.providers import ProviderEmulator, ProviderState
from tests.emulators.slack import CHANNEL_ID as SLACK_CHANNEL_ID
from tests.emulators.slack import USER_ID, SlackEmulator
from tests.reliability.conftest import RunningBot, Stack

DISCORD_KEY = f"discord:{HUMAN_USER_ID}"
SLACK_KEY = f"slack:{SlackEmulator.TEAM_ID}:{USER_ID}"
THREAD_POST = rf"^/channels/(?!{TEXT_CHANNEL_ID})\d+/messages$"  # a result into its thread


def hold_novita(providers: ProviderEmulator) -> asyncio.Event:
    """Novita's answer waits until the returned event is set (the job is "in flight")."""
    release = asyncio.Event()
    submit = providers._before_submit

    async def held(state: ProviderState, request: web.Request) -> Any:
        rec = await submit(state, request)
        if state is providers.novita:
            await release.wait()
        return rec

    providers._before_submit = held  # type: ignore[method-assign]
    return release


async def start(stack: Stack) -> tuple[RunningBot, asyncio.Event]:
    release = hold_novita(stack.providers)
    bot = await stack.start_bot(providers=["novita"])
    return bot, release


async def in_flight(stack: Stack, count: int = 1) -> None:
    await stack.slack.wait_for(
        lambda: stack.providers.novita.submissions >= count, 10, message=f"{count} novita call(s) held"
    )


def ledger_totals(db: Path) -> tuple[int, int, int, int]:
    """(reserved, charged, delivered, open reservations) straight from the database."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        [(reserved, charged, still_open)] = con.execute(
            "SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(used), 0), "
            "COALESCE(SUM(state = 'reserved'), 0) FROM reservations"
        ).fetchall()
        [(delivered,)] = con.execute("SELECT COALESCE(SUM(images_delivered), 0) FROM jobs").fetchall()
    finally:
        con.close()
    return reserved, charged, delivered, still_open


async def balanced(stack: Stack, jobs: list[Job], fault: str, faults: int = 1) -> None:
    """The ledger balances (no open reservation, charged = delivered); prints the figures."""
    reserved, charged, delivered, still_open = await asyncio.to_thread(
        ledger_totals, stack.tmp_path / "seedbot.db"
    )
    assert still_open == 0 and charged == delivered, (reserved, charged, delivered, still_open)
    ok = sum(1 for j in jobs if j.status == JobStatus.SUCCEEDED)
    print(
        f"\nplatform fault: {fault}: {faults} injected, {len(jobs)} job(s), {ok} delivered, "
        f"{len(jobs) - ok} refunded and told; reserved {reserved} = charged {charged} + refunded "
        f"{reserved - charged}, open reservations {still_open}"
    )


def faulted(emu: DiscordEmulator, method: str, pattern: str) -> list[Any]:
    return [r for r in emu.find_requests(method, pattern) if r.fault]


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)


# -- Discord ------------------------------------------------------------------------------------


async def test_discord_429_on_the_result_upload_into_the_thread(stack: Stack) -> None:
    bot, release = await start(stack)
    emu = stack.discord
    inter = await emu.send_slash_command("imagine", {"prompt": "a rate limited lighthouse"})
    assert await inter.wait_ack() == 5
    await in_flight(stack)
    emu.rate_limit_next("POST", THREAD_POST, retry_after=0.2)
    release.set()
    result = await wait_result(emu)

    [hit] = faulted(emu, "POST", THREAD_POST)
    assert hit.files, "the 429 answered the upload of the result"
    assert len(result["attachments"]) == 1 and buttons(result)
    assert result["channel_id"] != TEXT_CHANNEL_ID  # still in its thread, after the retry
    [job] = await bot.wait_closed(DISCORD_KEY, 1)
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 1)
    await balanced(stack, [job], "Discord 429 (Via, retry_after) on the result upload into the thread", 1)


async def test_discord_429_on_the_response_that_becomes_the_result(stack: Stack) -> None:
    await stack.discord.set_bot_channel_permissions(TEXT_CHANNEL_ID, deny=["create_public_threads"])
    bot, release = await start(stack)
    emu = stack.discord
    inter = await emu.send_slash_command("imagine", {"prompt": "an inline harbour"})
    assert await inter.wait_ack() == 5
    await in_flight(stack)
    original = rf"^/webhooks/\d+/{inter.token}/messages/@original$"
    # The "Generating…" edit is shown at once; the next edit of the response (at least
    # PROGRESS_INTERVAL later) is the result itself.
    await wait_until(
        lambda: any(body_text(r.body).startswith("Generating…") for r in emu.find_requests("PATCH", original))
    )
    emu.rate_limit_next("PATCH", original, retry_after=0.2)
    release.set()
    result = await wait_result(emu)

    [hit] = faulted(emu, "PATCH", original)
    assert hit.files or (hit.body or {}).get("attachments"), "the 429 answered the result edit"
    assert result["id"] == inter.original_message_id and buttons(result)
    [job] = await bot.wait_closed(DISCORD_KEY, 1)
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 1)
    await balanced(stack, [job], "Discord 429 on the interaction-response edit that becomes the result", 1)


async def _inline_batch(stack: Stack, prompt: str) -> tuple[RunningBot, Any, str]:
    """/imagine of 12 where threads are denied: 10 images become the response, 2 a follow-up."""
    await stack.discord.set_bot_channel_permissions(TEXT_CHANNEL_ID, deny=["create_public_threads"])
    bot, release = await start(stack)
    inter = await stack.discord.send_slash_command("imagine", {"prompt": prompt, "count": 12})
    assert await inter.wait_ack() == 5
    await in_flight(stack)
    return bot, release, rf"^/webhooks/\d+/{inter.token}$"


async def test_discord_429_on_the_second_message_of_a_batch(stack: Stack) -> None:
    bot, release, followup = await _inline_batch(stack, "twelve harbours")
    stack.discord.rate_limit_next("POST", followup, retry_after=0.2)
    release.set()
    [job] = await bot.wait_closed(DISCORD_KEY, 1)

    [hit] = faulted(stack.discord, "POST", followup)
    assert len(hit.files) == 2, "the 429 answered the follow-up with the last 2 images"
    posts = [r for r in stack.discord.find_requests("POST", followup) if not r.fault]
    assert [len(r.files) for r in posts] == [2]  # retried once, posted once
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 12)
    await balanced(stack, [job], "Discord 429 on the follow-up carrying images 11-12 of a batch", 1)


async def test_discord_second_message_of_a_batch_refused(stack: Stack) -> None:
    bot, release, followup = await _inline_batch(stack, "twelve lighthouses")
    stack.discord.fail_next("POST", followup, 403, {"message": "Missing Access", "code": 50001}, times=5)
    release.set()
    [job] = await bot.wait_closed(DISCORD_KEY, 1)

    assert len(faulted(stack.discord, "POST", followup)) == 1  # a 403 is not retried
    # The first 10 reached the user and are charged; the 2 that could not be posted are not.
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 10)
    assert (await bot.usage(DISCORD_KEY)).day_used == 10
    # ...and the first message says so, with what is left today counted that way.
    first = stack.discord.messages[next(iter(job.result_message_ids))]
    assert notes(first).endswith(messages.not_posted(10, 12))
    assert details(first)[messages.LABEL_LEFT_TODAY] == str((await bot.usage(DISCORD_KEY)).left)
    await balanced(stack, [job], "Discord 403 on the follow-up carrying images 11-12 of a batch", 1)


async def test_discord_gateway_reconnect_mid_job(stack: Stack) -> None:
    bot, release = await start(stack)
    emu = stack.discord
    inter = await emu.send_slash_command("imagine", {"prompt": "a reconnecting comet"})
    assert await inter.wait_ack() == 5
    await in_flight(stack)
    resumes = emu.resume_count
    await emu.disconnect_gateway(op=7)
    await emu.wait_resumed(resumes + 1, timeout=15)
    release.set()
    first = await wait_result(emu)

    # And the bot still takes new commands over the resumed session.
    again = await emu.send_slash_command("imagine", {"prompt": "after the reconnect"})
    assert await again.wait_ack() == 5
    second = await wait_result(emu, exclude={job_id_of(first)})
    assert buttons(first) and buttons(second)
    jobs = await bot.wait_closed(DISCORD_KEY, 2)
    assert all(j.status == JobStatus.SUCCEEDED and j.images_delivered == 1 for j in jobs)
    await balanced(stack, jobs, "Discord gateway RECONNECT (op 7) mid-job", 1)


async def test_discord_expired_token_falls_back_to_a_channel_message(stack: Stack) -> None:
    await stack.discord.set_bot_channel_permissions(TEXT_CHANNEL_ID, deny=["create_public_threads"])
    bot, release = await start(stack)
    emu = stack.discord
    inter = await emu.send_slash_command("imagine", {"prompt": "a fifteen minute job"})
    assert await inter.wait_ack() == 5
    await in_flight(stack)
    inter.expire()  # past 15 minutes: the token's callback and webhook routes answer 404
    release.set()
    result = await wait_result(emu, channel_id=TEXT_CHANNEL_ID)

    assert result["id"] != inter.original_message_id and "webhook_id" not in result
    assert result["channel_id"] == TEXT_CHANNEL_ID and len(result["attachments"]) == 1
    [job] = await bot.wait_closed(DISCORD_KEY, 1)
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 1)
    await balanced(stack, [job], "Discord interaction token expired before delivery -> channel message", 1)


# -- Slack --------------------------------------------------------------------------------------


async def slack_job(stack: Stack, bot: RunningBot, prompt: str) -> str:
    """Mention the bot; returns the thread ts once the placeholder is up and Novita is held."""
    event = stack.slack.mention_event(prompt)
    answer = await stack.slack.post_event(bot.slack_url, event)
    assert answer.status == 200
    await stack.slack.wait_for_call("chat.postMessage", thread_ts=event["ts"])
    return str(event["ts"])


def uploads_in(slack: SlackEmulator, thread: str) -> list[dict[str, Any]]:
    return [u for u in slack.uploaded_files() if u["completed"] and u.get("thread_ts") == thread]


async def test_slack_ratelimited_on_upload_and_buttons(stack: Stack) -> None:
    bot, release = await start(stack)
    slack = stack.slack
    thread = await slack_job(stack, bot, "a rate limited meadow")
    await in_flight(stack)
    slack.fail_next("files.completeUploadExternal", "ratelimited", status=429, retry_after=1)
    slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)  # the buttons
    release.set()
    [job] = await bot.wait_closed(SLACK_KEY, 1, timeout=20)

    assert len(uploads_in(slack, thread)) == 1
    completes = slack.calls("files.completeUploadExternal", thread_ts=thread)
    assert [c.status for c in completes] == [429, 200]
    posts = slack.calls("chat.postMessage", thread_ts=thread)
    assert [p.status for p in posts] == [200, 429, 200]  # placeholder, buttons (retried)
    assert any(b.get("type") == "actions" for b in posts[-1].params.get("blocks") or [])
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 1)
    await balanced(
        stack, [job], "Slack ratelimited 429 on files.completeUploadExternal and chat.postMessage", 2
    )


async def test_slack_ok_false_on_the_buttons_and_progress(stack: Stack) -> None:
    bot, release = await start(stack)
    slack = stack.slack
    thread = await slack_job(stack, bot, "an internal error")
    await in_flight(stack)
    slack.fail_next("chat.postMessage", "internal_error", status=200)  # the buttons
    release.set()
    [job] = await bot.wait_closed(SLACK_KEY, 1)

    # The images are in the thread: they count, though the buttons could not be posted.
    assert len(uploads_in(slack, thread)) == 1
    [_, buttons_post] = slack.calls("chat.postMessage", thread_ts=thread)
    assert buttons_post.response == {"ok": False, "error": "internal_error"}
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 1)
    await balanced(stack, [job], "Slack ok:false internal_error on chat.postMessage (the buttons)", 1)


async def test_slack_transient_upload_error_is_retried_once(stack: Stack) -> None:
    bot, release = await start(stack)
    slack = stack.slack
    thread = await slack_job(stack, bot, "an upload slack hiccups on")
    await in_flight(stack)
    slack.fail_next("files.completeUploadExternal", "internal_error", status=200)
    release.set()
    [job] = await bot.wait_closed(SLACK_KEY, 1)

    # The images were paid for at the provider: one more try delivers them.
    assert len(uploads_in(slack, thread)) == 1
    assert [c.ok for c in slack.calls("files.completeUploadExternal")] == [False, True]
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 1)
    await balanced(stack, [job], "Slack ok:false internal_error once on files.completeUploadExternal", 1)


async def test_slack_upload_that_shared_its_files_then_answered_an_error_is_not_posted_twice(
    stack: Stack,
) -> None:
    """Slack can fail its last upload step after sharing the files: the retry posted the
    images a second time."""
    bot, release = await start(stack)
    slack = stack.slack
    thread = await slack_job(stack, bot, "an upload slack did but said it didn't")
    await in_flight(stack)
    slack.fail_next("files.completeUploadExternal", "internal_error", status=200, applied=True)
    release.set()
    [job] = await bot.wait_closed(SLACK_KEY, 1)

    assert len(uploads_in(slack, thread)) == 1
    assert [c.ok for c in slack.calls("files.completeUploadExternal")] == [False]
    assert slack.calls("files.list")  # looked for before trying again
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 1)
    [shared] = [m for m in slack.thread(SLACK_CHANNEL_ID, thread) if m.get("files")]
    assert shared["ts"] in job.result_message_ids  # Delete removes the images too
    await balanced(stack, [job], "Slack internal_error after completeUploadExternal shared the files", 1)


async def test_slack_ok_false_on_the_upload_refunds_and_tells(stack: Stack) -> None:
    bot, release = await start(stack)
    slack = stack.slack
    thread = await slack_job(stack, bot, "an upload slack refuses")
    await in_flight(stack)
    slack.fail_next("files.completeUploadExternal", "internal_error", status=200, times=2)
    release.set()
    [job] = await bot.wait_closed(SLACK_KEY, 1)

    assert not uploads_in(slack, thread)
    assert (job.status, job.images_delivered) == (JobStatus.FAILED, 0)
    told = await slack.wait_for_call("chat.postEphemeral", thread_ts=thread, user=USER_ID)
    assert told[0].params["text"] == messages.with_charge_note(messages.DELIVERY_FAILED)
    assert (await bot.usage(SLACK_KEY)).day_used == 0
    await balanced(stack, [job], "Slack ok:false internal_error twice on files.completeUploadExternal", 1)

    # The bot still serves: the next request is delivered.
    thread = await slack_job(stack, bot, "and the next one")
    jobs = await bot.wait_closed(SLACK_KEY, 2)
    assert len(uploads_in(slack, thread)) == 1
    await balanced(
        stack, [j for j in jobs if j.id != job.id], "none (the next request after the refused upload)", 0
    )


async def test_slack_second_upload_of_a_batch_refused(stack: Stack) -> None:
    bot, release = await start(stack)
    slack = stack.slack
    thread = await slack_job(stack, bot, "twelve meadows --n 12")
    await in_flight(stack)
    # Images 1-10 share the first message; the upload that completes 11-12 is refused for good.
    slack.fail_next("files.completeUploadExternal", "invalid_arguments", status=200, after=1)
    release.set()
    [job] = await bot.wait_closed(SLACK_KEY, 1)

    assert len(uploads_in(slack, thread)) == 10
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 10)
    notes = [p.params["text"] for p in slack.calls("chat.postMessage", thread_ts=thread)]
    # The user is told what was posted and charged, and what is left with the two refunded (the
    # caption, posted with the first ten, counted all twelve).
    left = (await bot.usage(SLACK_KEY)).left
    assert f"{messages.not_posted(10, 12)}\n{messages.left_today(left or 0)}" in notes
    await balanced(stack, [job], "Slack invalid_arguments on the upload carrying images 11-12", 1)


async def test_slack_file_host_failing_twice_on_the_second_upload_of_a_batch(stack: Stack) -> None:
    """The bytes go to Slack's file host, which is no Web API call: its 500 was not caught as an
    upload failure, so the ten images already posted were refunded, kept, and left without
    buttons, and the person told nothing could be posted. (One 500 is tried again.)"""
    bot, release = await start(stack)
    slack = stack.slack
    thread = await slack_job(stack, bot, "twelve meadows --n 12")
    await in_flight(stack)
    # the upload of image 11, and its one retry
    slack.fail_next(
        "upload", "boom", status=500, after=10, times=2, body="upstream", content_type="text/plain"
    )
    release.set()
    [job] = await bot.wait_closed(SLACK_KEY, 1)
    assert len(uploads_in(slack, thread)) == 10
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 10)
    notes = [p.params["text"] for p in slack.calls("chat.postMessage", thread_ts=thread)]
    assert any(note.startswith(messages.not_posted(10, 12)) for note in notes)
    assert [p for p in slack.calls("chat.postMessage", thread_ts=thread) if p.params.get("blocks")]
    await balanced(stack, [job], "Slack's file host failing on the upload carrying images 11-12", 1)
