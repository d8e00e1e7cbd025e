"""A streamed batch (ModelArk with "stream": true) grows on Discord: the result's gallery is
edited as each image lands, so the user sees image 1 while image 2 is being made; each image is
charged as it is shown, an image the host refuses is refunded and said, the finished result has
its details and buttons and works like any other (re-roll, reply to edit, delete), and a restart
in the middle charges what was shown, refunds the rest, says so and submits nothing again."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from pathlib import Path
from typing import Any

from adapters.discord_adapter.stream import EDIT_INTERVAL
from bot import messages
from bot.request.models import JobKind, JobStatus
from tests.discord.conftest import (
    SpawnBot,
    StartBot,
    buttons,
    details,
    eventually,
    gallery,
    job_id_of,
    notes,
    text,
    thread_of,
    wait_result,
)
from tests.emulators.discord import HUMAN_USER_ID, TEXT_CHANNEL_ID, DiscordEmulator
from tests.emulators.discord.models import MessageSeen
from tests.emulators.providers import ProviderEmulator


def _seen(emu: DiscordEmulator, message_id: str) -> list[MessageSeen]:
    return [s for s in emu.message_log if s.message_id == message_id]


def _galleries(emu: DiscordEmulator) -> list[MessageSeen]:
    """Every write of a bot message that showed images, in order."""
    return [s for s in emu.message_log if s.gallery]


async def test_a_streamed_batch_grows_image_by_image(emu: DiscordEmulator, start_bot: StartBot) -> None:
    async with ProviderEmulator() as providers:
        ark = providers.ark_host
        ark.event_gap = 1.2  # between the host's images (each is shown before the next is made)
        bot = await start_bot(**providers.settings_kwargs("ark"))
        inter = await emu.send_slash_command(
            "imagine", {"prompt": "a lighthouse in four seasons", "count": 4, "model": "4.5"}
        )
        assert await inter.wait_ack() == 5
        await eventually(lambda: bool(_galleries(emu)), 15)
        first = _galleries(emu)[0]
        # Image 1 is on Discord before the host has even sent image 2.
        assert first.gallery == 1 and 1 not in ark.event_times and not ark.stream_done
        [job] = await bot.jobs()
        while job.images_delivered < 1:  # counted (charged) as soon as Discord answered the write
            await asyncio.sleep(0.01)
            [job] = await bot.jobs()
        assert job.status == JobStatus.RUNNING and 1 not in ark.event_times

        result = await wait_result(emu, timeout=30)
    growth = _seen(emu, result["id"])
    assert growth[0].message_id == first.message_id
    assert [s.gallery for s in growth if s.gallery][:4] == [1, 2, 3, 4]  # one more each write
    assert growth[-1].attachments == 4 and len(gallery(result)) == 4
    for k in (1, 2, 3):  # image k was shown before the host sent image k + 1
        shown_at = next(s.at for s in growth if s.gallery >= k)
        assert shown_at < ark.event_times[k], (k, growth, ark.event_times)
    writes = [s.at for s in growth]
    assert all(b - a >= EDIT_INTERVAL * 0.95 for a, b in itertools.pairwise(writes)), writes
    assert ark.streams == 1

    # The finished result: in its thread, with the details and the buttons, every file shown once.
    thread = thread_of(emu, result)
    assert thread["parent_id"] == TEXT_CHANNEL_ID and thread["id"] == inter.original_message_id
    assert [i["media"]["attachment_id"] for i in gallery(result)] == [a["id"] for a in result["attachments"]]
    assert [a["filename"].rsplit("-", 1)[-1] for a in result["attachments"]] == [
        "1.jpg",
        "2.jpg",
        "3.jpg",
        "4.jpg",
    ]
    job_id = job_id_of(result)
    assert set(buttons(result)) == {"reroll", "variations", "edit", "delete", "info"}
    assert details(result)["Images left today"] == "16" and details(result)["Provider"] == "ark"
    assert text(result).splitlines()[0] == f"<@{HUMAN_USER_ID}>"
    done = await bot.wait_job(job_id)
    assert (done.status, done.images_delivered) == (JobStatus.SUCCEEDED, 4)
    assert result["id"] in done.result_message_ids
    assert (await bot.usage()).day_used == 4
    assert inter.original is not None
    assert text(inter.original).endswith(messages.results_in_thread(4))


async def test_a_refused_image_is_refunded_and_said(emu: DiscordEmulator, start_bot: StartBot) -> None:
    async with ProviderEmulator() as providers:
        providers.ark_host.refused = {1}  # the second image of the batch
        providers.ark_host.event_gap = 0.3
        bot = await start_bot(**providers.settings_kwargs("ark"))
        inter = await emu.send_slash_command(
            "imagine", {"prompt": "three views of a harbour", "count": 3, "model": "4.5"}
        )
        await inter.wait_ack()
        result = await wait_result(emu, timeout=30)
    job = await bot.wait_job(job_id_of(result))
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 2)
    assert len(result["attachments"]) == 2 and len(gallery(result)) == 2
    assert details(result)["Images left today"] == "18"
    assert messages.partial_delivery(2, 3) in notes(result)
    assert (await bot.usage()).day_used == 2


async def test_a_streamed_result_works_like_any_other(emu: DiscordEmulator, start_bot: StartBot) -> None:
    async with ProviderEmulator() as providers:
        providers.ark_host.event_gap = 0.2
        bot = await start_bot(**providers.settings_kwargs("ark"))
        inter = await emu.send_slash_command("imagine", {"prompt": "two owls", "count": 2, "model": "4.5"})
        await inter.wait_ack()
        first = await wait_result(emu, timeout=30)
        parent = await bot.wait_job(job_id_of(first))

        # A reply to the streamed result edits one of its images, in its thread.
        await emu.send_message("give it a hat #2", reply_to=first["id"], channel_id=first["channel_id"])
        edited = await wait_result(emu, exclude={parent.id}, timeout=30)
        job = await bot.wait_job(job_id_of(edited))
        assert (job.kind, job.parent_id) == (JobKind.EDIT, parent.id)
        assert edited["channel_id"] == first["channel_id"]

        # Re-roll from its button.
        press = await emu.send_component(f"seedbot:reroll:{parent.id}", message_id=first["id"])
        assert await press.wait_ack() == 5
        again = await wait_result(emu, exclude={parent.id, job.id}, timeout=30)
        assert (await bot.wait_job(job_id_of(again))).kind == JobKind.REROLL

        # Delete removes it.
        press = await emu.send_component(f"seedbot:delete:{parent.id}", message_id=first["id"])
        await press.wait_ack()
        await eventually(lambda: first["id"] not in emu.messages, 10)
    assert providers.ark_host.streams == 3


def _delivered(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT images_delivered FROM jobs").fetchone()
    return int(row[0]) if row else 0


def _ledger(db: Path) -> tuple[Any, ...]:
    with sqlite3.connect(db) as conn:
        job = conn.execute("SELECT status, images_delivered, error_kind FROM jobs").fetchone()
        used = conn.execute("SELECT SUM(used) FROM reservations").fetchone()[0]
    return (*job, used)


async def test_a_restart_mid_stream_charges_what_was_shown(
    emu: DiscordEmulator, spawn_bot: SpawnBot, tmp_path: Path
) -> None:
    async with ProviderEmulator() as providers:
        providers.ark_host.event_gap = 1.5
        env = {
            "SEEDBOT_PROVIDERS": "ark",
            "ARK_API_KEY": providers.ark.api_key,
            "ARK_BASE_URL": providers.base_url("ark"),
        }
        first_bot = await spawn_bot(**env)
        inter = await emu.send_slash_command(
            "imagine", {"prompt": "a comet over a city", "count": 4, "model": "4.5"}
        )
        await inter.wait_ack()
        # Two images on Discord and counted (the ledger's count follows each edit at once).
        await eventually(lambda: _delivered(tmp_path / "seedbot.db") == 2, 20)
        await first_bot.kill()  # a crash: nothing is said by this process
        shown = max(s.gallery for s in emu.message_log)
        assert shown == 2

        second_bot = await spawn_bot(**env)
        await second_bot.wait_log(r"cut short after 2 delivered image")
        told = messages.restarted_partial(2, 4)
        said = await emu.wait_for_message(lambda m: told in text(m), timeout=10)
        assert providers.ark_host.streams == 1  # not submitted (and paid for) again
    assert f"<@{HUMAN_USER_ID}>" in text(said)
    # The two images are still on Discord, in the message that grew.
    grown = emu.messages[next(s.message_id for s in emu.message_log if s.gallery == 2)]
    assert len(grown["attachments"]) == 2 and len(gallery(grown)) == 2
    assert _ledger(tmp_path / "seedbot.db") == ("succeeded", 2, "restart", 2)


async def test_a_shutdown_mid_stream_keeps_what_was_shown(emu: DiscordEmulator, start_bot: StartBot) -> None:
    async with ProviderEmulator() as providers:
        providers.ark_host.event_gap = 5.0  # image 2 is far off when the shutdown comes
        bot = await start_bot(**providers.settings_kwargs("ark"))
        inter = await emu.send_slash_command("imagine", {"prompt": "a slow tide", "count": 3, "model": "4.5"})
        assert await inter.wait_ack() == 5
        await eventually(lambda: bool(_galleries(emu)), 15)
        [job] = await bot.jobs()
        while job.images_delivered < 1:  # shown, and counted
            await asyncio.sleep(0.01)
            [job] = await bot.jobs()
        await bot.runtime.engine.shutdown(0.05)  # type: ignore[attr-defined]
        await bot.wait_idle()
    [answer] = await inter.wait_followups(1)
    assert text(answer) == messages.restarted_partial(1, 3) and answer["flags"] & 64  # privately
    grown = emu.messages[_galleries(emu)[-1].message_id]
    assert len(gallery(grown)) == 1 and len(grown["attachments"]) == 1  # the image stays
    [job] = await bot.jobs()
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 1)
    assert (await bot.usage()).day_used == 1


async def test_a_user_install_streams_through_the_interaction_alone(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """Where the bot is not a member: the response grows to 10 images, a follow-up takes the rest
    (Discord's 5 follow-ups are plenty), and no channel call is made."""
    channel_id = str(emu.add_foreign_guild("Somewhere Else")["text_channel_id"])
    async with ProviderEmulator() as providers:
        providers.ark_host.event_gap = 0.05  # faster than one edit a second: images wait and join
        bot = await start_bot(**providers.settings_kwargs("ark"))
        inter = await emu.send_slash_command(
            "imagine", {"prompt": "twelve paper lanterns", "count": 12, "model": "4.5"}, channel_id=channel_id
        )
        assert await inter.wait_ack() == 5
        first = await wait_result(emu, channel_id=channel_id, timeout=30)
    job = await bot.wait_job(job_id_of(first))
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 12)
    assert first["id"] == inter.original_message_id and len(gallery(first)) == 10
    [more] = [
        m
        for m in emu.messages.values()
        if m["channel_id"] == channel_id and m["author"]["id"] == emu.bot_user_id and m["id"] != first["id"]
    ]
    assert len(more["attachments"]) == 2 and buttons(more) == {"delete": job.id}
    assert inter.followups_created == 1
    assert not [r for r in emu.requests if r.kind == "api" and r.path.startswith("/channels/")]
    grew = [s for s in _seen(emu, first["id"]) if s.gallery]
    assert [s.gallery for s in grew] == sorted(s.gallery for s in grew) and grew[-1].gallery == 10
    assert len(grew) < 6, grew  # images that arrived together went up together
    writes = [s.at for s in grew]
    assert all(b - a >= EDIT_INTERVAL * 0.95 for a, b in itertools.pairwise(writes)), writes


async def test_images_an_edit_could_not_show_come_with_the_result(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """Discord refuses the edit that adds image 2: streaming stops there, and the result posts
    images 2 and 3 after the first message; all three reached the user and are charged."""
    async with ProviderEmulator() as providers:
        providers.ark_host.event_gap = 0.3
        bot = await start_bot(**providers.settings_kwargs("ark"))
        inter = await emu.send_slash_command("imagine", {"prompt": "three kites", "count": 3, "model": "4.5"})
        await inter.wait_ack()
        await eventually(lambda: bool(_galleries(emu)), 15)
        grown = _galleries(emu)[0].message_id
        emu.fail_next("PATCH", rf"/channels/\d+/messages/{grown}$", 400, {"message": "nope", "code": 50035})
        result = await wait_result(emu, timeout=30)
        job = await bot.wait_job(job_id_of(result))
    assert result["id"] == grown and len(gallery(result)) == 1  # image 1, with the buttons
    [later] = [
        m
        for m in emu.messages.values()
        if m["channel_id"] == result["channel_id"] and m["id"] != grown and m["attachments"]
    ]
    assert len(later["attachments"]) == 2 and buttons(later) == {"delete": job.id}
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 3)
    assert later["id"] in job.result_message_ids and details(result)["Images left today"] == "17"


async def test_a_reply_while_the_result_grows_waits_for_it(emu: DiscordEmulator, start_bot: StartBot) -> None:
    async with ProviderEmulator() as providers:
        providers.ark_host.event_gap = 1.0
        bot = await start_bot(**providers.settings_kwargs("ark"))
        inter = await emu.send_slash_command("imagine", {"prompt": "three pears", "count": 3, "model": "4.5"})
        await inter.wait_ack()
        await eventually(lambda: bool(_galleries(emu)), 15)
        growing = emu.messages[_galleries(emu)[0].message_id]
        [job] = await bot.jobs()
        while job.images_delivered < 1:  # the bot has Discord's answer (a person is slower)
            await asyncio.sleep(0.01)
            [job] = await bot.jobs()
        assert not buttons(growing) and not providers.ark_host.stream_done
        reply = await emu.send_message(
            "make it night #1", reply_to=growing["id"], channel_id=growing["channel_id"]
        )
        first = await wait_result(emu, timeout=30)
        parent = await bot.wait_job(job_id_of(first))
        edited = await wait_result(emu, exclude={parent.id}, timeout=30)
    job = await bot.wait_job(job_id_of(edited))
    assert (job.kind, job.parent_id) == (JobKind.EDIT, parent.id)
    assert edited["message_reference"]["message_id"] == reply["id"]
    said = [
        emu.text_of(m)
        for m in emu.messages.values()
        if m.get("message_reference", {}).get("message_id") == reply["id"]
    ]
    assert not any(messages.NOT_A_RESULT in t for t in said), said
