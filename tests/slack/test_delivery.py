"""Posting into a thread when Slack or the network fails on the way (adapters/slack_adapter/
delivery.py): an upload whose answer was lost after Slack shared the files is neither refunded
nor posted twice; the "Starting…" status message is cosmetic, so a request goes on without it."""

from __future__ import annotations

from pathlib import Path

from bot import messages
from bot.ledger import SQLiteLedger
from bot.request.models import Job, JobStatus
from tests.emulators.slack import CHANNEL_ID, USER_ID, SlackEmulator
from tests.slack.conftest import StartBot, controls, results

USER_KEY = f"slack:{SlackEmulator.TEAM_ID}:{USER_ID}"
HTML_503 = "<html><body><h1>503 Service Unavailable</h1></body></html>"


async def the_job(tmp_path: Path) -> Job:
    ledger = SQLiteLedger(str(tmp_path / "seedbot.db"), daily_limit=20, monthly_limit=300)
    await ledger.open()
    try:
        [job] = await ledger.jobs_for_user(USER_KEY, limit=5)
        return job
    finally:
        await ledger.close()


async def posted_once(emu: SlackEmulator, start_bot: StartBot, tmp_path: Path, **fault: object) -> None:
    """Two images asked for while files.completeUploadExternal fails as `fault` says: they are in
    the thread once, the job is delivered and charged, and its messages are linked to it."""
    bot = await start_bot(SEEDBOT_DEMO_LATENCY="0.5")
    emu.fail_next("files.completeUploadExternal", **fault)  # type: ignore[arg-type]
    mention = emu.mention_event("a red fox in snow --n 2")
    assert await emu.post_event(bot.url, mention) == 200
    await bot.wait_log(r"job \w+(: delivered| failed)", timeout=30)
    await emu.wait_for(lambda: controls(emu), 10)

    shared = [m for m in emu.thread(CHANNEL_ID, mention["ts"]) if m.get("files")]
    assert [len(m["files"]) for m in shared] == [2]  # once, not twice
    assert len(results(emu)) == 2
    job = await the_job(tmp_path)
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 2)
    assert shared[0]["ts"] in job.result_message_ids  # Delete removes the images too
    assert not emu.ephemerals  # no "could not be posted ... not charged"
    assert "Images left today: 18." in shared[0]["text"]


async def test_an_upload_whose_answer_was_lost_is_delivered_once(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    """Slack shares the files, the answer is lost, slack-sdk sends the call again and Slack says
    file_already_completed: the job failed and was refunded with the images in the thread."""
    await posted_once(emu, start_bot, tmp_path, disconnect=True, applied=True)
    assert [c.response for c in emu.calls("files.completeUploadExternal")][1:] == [
        {"ok": False, "error": "file_already_completed"}
    ]


async def test_an_upload_whose_answer_is_lost_past_the_retries_is_not_posted_again(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    """The connection drops on every try slack-sdk makes: the upload was run again from the
    start and the images posted twice (charged once, the first copy left out of Delete)."""
    await posted_once(emu, start_bot, tmp_path, disconnect=True, applied=True, times=3)
    assert emu.calls("files.list")  # looked for before posting again
    assert len(emu.calls("files.getUploadURLExternal")) == 2  # not uploaded a second time


async def test_an_upload_answered_with_a_5xx_page_after_sharing_is_delivered(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    """A 503 page (no JSON, so no `error`) after Slack did the work: refunded, said not posted."""
    await posted_once(
        emu, start_bot, tmp_path, status=503, body=HTML_503, content_type="text/html", applied=True
    )


async def test_an_upload_the_connection_dropped_before_sharing_is_posted_again(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    """Nothing was shared (the call never reached Slack): once more, from the start."""
    await posted_once(emu, start_bot, tmp_path, disconnect=True, times=3)
    assert len(emu.calls("files.getUploadURLExternal")) == 4  # the two images, twice


async def test_a_request_goes_on_when_its_status_message_fails(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    """One 500 on the "Starting…" post dropped the whole request: "Sorry, something went wrong"
    and a traceback in the log."""
    bot = await start_bot()
    emu.fail_next("chat.postMessage", "internal_error", status=500, retry_after=None)
    mention = emu.mention_event("a red fox")
    assert await emu.post_event(bot.url, mention) == 200
    await bot.wait_log(r"job \w+: delivered 1/1", timeout=30)
    await emu.wait_for(lambda: controls(emu), 10)

    assert [m["thread_ts"] for m in controls(emu)] == [mention["ts"]]
    assert len(results(emu)) == 1
    assert messages.UNEXPECTED not in [e.get("text") for e in emu.ephemerals]
    assert (await the_job(tmp_path)).status == JobStatus.SUCCEEDED
    assert not bot.matching(r"Traceback|ERROR")
    assert len(bot.matching(r"status message not posted")) == 1


async def test_a_request_goes_on_when_its_status_message_stays_rate_limited(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    bot = await start_bot()
    # 429 past the bot's 3 retries (Retry-After 0 keeps the test short)
    emu.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=0, times=4)
    mention = emu.mention_event("a red fox")
    assert await emu.post_event(bot.url, mention) == 200
    await bot.wait_log(r"job \w+: delivered 1/1", timeout=30)
    await emu.wait_for(lambda: controls(emu), 10)

    assert len(results(emu)) == 1
    assert not emu.ephemerals
    assert (await the_job(tmp_path)).status == JobStatus.SUCCEEDED
    assert not bot.matching(r"Traceback|ERROR")
