"""Refusals: in plain words, private (ephemeral), saying whether the user was charged, and
checked before anything is spent."""

from __future__ import annotations

import logging

import pytest

from bot import messages
from bot.request.models import JobStatus
from bot.request.validation import UPLOAD_MAX_BYTES
from tests.discord.conftest import StartBot, body_text, eventually, job_id_of, png, text, wait_result
from tests.emulators.discord import TEXT_CHANNEL_ID, DiscordEmulator
from tests.emulators.providers import ProviderEmulator

EPHEMERAL = 64


async def _refusal(emu: DiscordEmulator, name: str, options: dict, **kwargs: object) -> dict:
    inter = await emu.send_slash_command(name, options, **kwargs)  # type: ignore[arg-type]
    assert await inter.wait_ack() == 5
    [answer] = await inter.wait_followups(1)
    assert answer["flags"] & EPHEMERAL, answer
    # The public "thinking…" response was taken away; only the private answer is left.
    assert inter.original_message_id not in emu.messages or inter.original_message_id == answer["id"]
    return answer


async def test_quota_exhausted(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot(daily_images=1)
    inter = await emu.send_slash_command("imagine", {"prompt": "the only one today"})
    await inter.wait_ack()
    await bot.wait_job(job_id_of(await wait_result(emu)))

    answer = await _refusal(emu, "imagine", {"prompt": "one more"})
    assert text(answer).startswith("Your daily limit (1 image) is used up; it resets at ")
    assert text(answer).endswith("You were not charged.")
    assert (await bot.usage()).day_used == 1
    assert len(await bot.jobs()) == 1  # the refused request never became a job
    assert len([c for c in emu.channels.values() if c["type"] == 11]) == 1


async def test_non_image_and_oversized_attachments_are_refused_before_download(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    notes = emu.add_cdn_file("notes.txt", b"just some words\n")
    answer = await _refusal(emu, "imagine", {"prompt": "illustrate", "image": notes})
    assert text(answer) == messages.not_an_image("notes.txt")

    big = emu.add_cdn_file("huge.png", png(16, 16))
    big["size"] = UPLOAD_MAX_BYTES + 1  # Discord's declared size: refused without downloading
    answer = await _refusal(emu, "edit", {"prompt": "brighter", "image": png_ok(emu), "image2": big})
    assert text(answer) == messages.with_charge_note(
        messages.image_too_large("huge.png", big["size"], UPLOAD_MAX_BYTES)
    )

    fake = emu.add_cdn_file("photo.png", b"not really a png at all", "image/png")
    answer = await _refusal(emu, "imagine", {"prompt": "sharpen", "image": fake})
    assert text(answer) == messages.not_an_image("photo.png")  # by its magic bytes

    downloaded = [r.raw_path for r in emu.requests if r.kind == "cdn"]
    assert not any("notes.txt" in p or "huge.png" in p for p in downloaded)
    assert any("photo.png" in p for p in downloaded)
    assert (await bot.usage()).day_used == 0
    assert await bot.jobs() == []


async def test_an_attachment_of_unknown_type_is_judged_by_its_bytes(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    # Discord declares what the uploader's client said; "application/octet-stream" says nothing.
    bot = await start_bot()
    scan = emu.add_cdn_file("scan", png(20, 20), "application/octet-stream")
    inter = await emu.send_slash_command("edit", {"prompt": "brighter", "image": scan})
    assert await inter.wait_ack() == 5
    job = await bot.wait_job(job_id_of(await wait_result(emu)))
    assert job.status == JobStatus.SUCCEEDED and job.images_delivered == 1


def png_ok(emu: DiscordEmulator) -> dict:
    return emu.add_cdn_file("fine.png", png(20, 20))


async def test_provider_failure_is_refunded(emu: DiscordEmulator, start_bot: StartBot) -> None:
    async with ProviderEmulator() as providers:
        bot = await start_bot(**providers.settings_kwargs("novita"), provider_retries=0)
        providers.novita.fail("unavailable")
        answer = await _refusal(emu, "imagine", {"prompt": "a storm", "count": 2})
        assert providers.novita.submissions == 1
    assert text(answer) == messages.provider_failed("unavailable")
    [job] = await bot.jobs()
    assert job.status == JobStatus.FAILED
    status = await bot.usage()
    assert (status.day_used, status.left) == (0, 20)


async def test_bad_flags_are_explained(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    answer = await _refusal(emu, "imagine", {"prompt": "a fox --sparkle 3"})
    assert text(answer).startswith("I don't know the option '--sparkle'.")
    assert text(answer).endswith(messages.NOT_CHARGED)
    assert await bot.jobs() == []


async def test_a_note_inside_a_publicly_deferred_request_is_still_private(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """A request that makes images is deferred publicly ("thinking…"); the first followup after
    that is public whatever its flags. "describe this image" with a photo, and "info" typed in a
    result's Edit form (the job's lineage, its prompt), were posted for the whole channel."""
    await start_bot()
    asked = await emu.send_slash_command(
        "imagine", {"prompt": "describe this image", "image": ("photo.png", png())}
    )
    assert await asked.wait_ack() == 5
    [note] = await asked.wait_followups(1)
    assert text(note) == messages.NO_DESCRIBE and note["flags"] & 64
    assert asked.original_message_id not in emu.messages  # the public "thinking…" is gone


@pytest.mark.parametrize("asked", ["imagine", "mention"])
async def test_a_channel_deleted_while_its_job_runs_is_refunded_in_one_log_line(
    emu: DiscordEmulator, start_bot: StartBot, asked: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Nowhere is left to post the result or say why not (404 Unknown Channel, an expected
    platform error): refunded, and one line in the log, not a warning with a traceback."""
    bot = await start_bot(demo_latency=1.5)
    if asked == "imagine":
        inter = await emu.send_slash_command("imagine", {"prompt": "a red fox", "count": 2})
        assert await inter.wait_ack() == 5
    else:
        await emu.send_message(f"{emu.bot_mention} a red fox --n 2", mentions=[emu.bot_user_id])
    await eventually(lambda: any("Generating" in body_text(r.body) for r in emu.find_requests("PATCH")))
    await emu.delete_channel(TEXT_CHANNEL_ID)
    [job] = await bot.jobs()
    job = await bot.wait_job(job.id)
    await bot.wait_idle()
    assert (job.status, job.images_delivered, job.error_kind) == (JobStatus.FAILED, 0, "delivery")
    assert (await bot.usage()).day_used == 0
    assert not [r for r in caplog.records if r.exc_info]
    assert not [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith(("bot.conversation", "bot.engine", "adapters"))
    ]
    [told] = [r for r in caplog.records if "could not answer" in r.getMessage()]
    assert "10003" in told.getMessage()
