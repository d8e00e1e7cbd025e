"""Restarts, with the bot as a real `python -m bot run --discord` process: buttons posted by an
earlier process keep working, and a job left running at the provider by a crash is finished by
the next process and posted into its thread (the engine's PlatformHooks)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot import messages
from bot.conversation.compose import VARIATIONS_COUNT
from tests.discord.conftest import (
    SpawnBot,
    buttons,
    details,
    eventually,
    job_id_of,
    png,
    text,
    thread_of,
    wait_result,
)
from tests.emulators.discord import HUMAN_USER_ID, DiscordEmulator
from tests.emulators.providers import ProviderEmulator


async def test_buttons_keep_working_after_a_restart(emu: DiscordEmulator, spawn_bot: SpawnBot) -> None:
    first_bot = await spawn_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "a windmill at dusk"})
    assert await inter.wait_ack() == 5
    first = await wait_result(emu)
    parent = job_id_of(first)
    await first_bot.wait_log(rf"job {parent}: delivered")
    form = await emu.send_component(f"seedbot:edit:{parent}", message_id=first["id"])
    assert await form.wait_ack() == 9  # an Edit form left open across the restart
    assert await first_bot.stop() == 0

    second_bot = await spawn_bot()
    press = await emu.send_component(f"seedbot:reroll:{parent}", message_id=first["id"])
    assert await press.wait_ack() == 5
    again = await wait_result(emu, exclude={parent})
    assert again["channel_id"] == first["channel_id"]

    press = await emu.send_component(f"seedbot:variations:{parent}", message_id=first["id"])
    assert await press.wait_ack() == 5
    varied = await wait_result(emu, exclude={parent, job_id_of(again)})
    assert len(varied["attachments"]) == VARIATIONS_COUNT
    await second_bot.wait_log(rf"job {job_id_of(varied)}: delivered")

    # The form opened by the first process is answered by the second: its id carries the job.
    submit = await form.submit_modal({"prompt": "in the rain"})
    assert await submit.wait_ack() == 5
    edited = await wait_result(emu, exclude={parent, job_id_of(again), job_id_of(varied)})
    assert details(edited)[messages.LABEL_REFERENCES] == f"image 1 = result 1 of job {parent}"


async def test_an_edit_with_seedream_form_left_open_across_a_restart(
    emu: DiscordEmulator, spawn_bot: SpawnBot, tmp_path: Path
) -> None:
    """The form carries only the message's id: the next process fetches the message again;
    where the bot is not a member (a group DM of someone's own install) it cannot, and says so
    privately instead of leaving the submission unanswered."""
    photo = png(50, 40, (120, 30, 200))
    bob = emu.add_user("bob")
    theirs = emu.add_message("look at this", author_id=bob["id"], attachments=[("photo.png", photo)])
    group = emu.group_dm([HUMAN_USER_ID, bob["id"]])
    cat = emu.add_message(
        "my cat", channel_id=group["id"], author_id=bob["id"], attachments=[("cat.png", photo)]
    )
    first_bot = await spawn_bot()
    form = await emu.send_message_command(messages.CONTEXT_EDIT_NAME, theirs["id"])
    assert await form.wait_ack() == 9
    guest_form = await emu.send_message_command(messages.CONTEXT_EDIT_NAME, cat["id"])
    assert await guest_form.wait_ack() == 9
    assert await first_bot.stop() == 0

    second_bot = await spawn_bot()
    submit = await form.submit_modal({"prompt": "as a watercolour"})
    assert await submit.wait_ack() == 5
    result = await wait_result(emu)
    await second_bot.wait_log(rf"job {job_id_of(result)}: delivered")
    with sqlite3.connect(tmp_path / "seedbot.db") as conn:
        inputs = conn.execute("SELECT COUNT(*) FROM job_images WHERE role = 'input'").fetchone()[0]
    assert inputs == 1  # the message's image, read again

    refused = await guest_form.submit_modal({"prompt": "make it night"})
    assert await refused.wait_ack() == 4
    assert refused.original is not None and refused.original["flags"] & 64
    assert text(refused.original) == messages.FORM_INACTIVE


async def test_a_job_left_running_by_a_crash_is_posted_into_its_thread(
    emu: DiscordEmulator, spawn_bot: SpawnBot
) -> None:
    async with ProviderEmulator() as providers:
        env = providers.env("apiframe", SEEDBOT_POLL_INTERVAL="0.05")
        first_bot = await spawn_bot(**env)
        inter = await emu.send_slash_command("imagine", {"prompt": "a slow sunrise"})
        await inter.wait_ack()
        first = await wait_result(emu)
        thread = thread_of(emu, first)
        parent = job_id_of(first)
        await first_bot.wait_log(rf"job {parent}: delivered")

        providers.apiframe.pending_polls = 1_000_000  # the re-roll never finishes while bot 1 lives
        press = await emu.send_component(f"seedbot:reroll:{parent}", message_id=first["id"])
        assert await press.wait_ack() == 5
        await eventually(lambda: providers.apiframe.polls >= 2)
        await first_bot.kill()

        for task in providers.apiframe.tasks.values():
            task.pending = 0  # finished at the provider while no bot was running
        second_bot = await spawn_bot(**env)
        resumed = await wait_result(emu, exclude={parent})
        await second_bot.wait_log(r"resuming 1 job")
        assert len(providers.apiframe.submits) == 2  # resumed, not submitted (and paid for) again

    assert resumed["channel_id"] == thread["id"]
    assert resumed["message_reference"]["message_id"] == press.original_message_id
    assert buttons(resumed) and details(resumed)["Provider"] == "apiframe"
    await second_bot.wait_log(rf"job {job_id_of(resumed)}")
