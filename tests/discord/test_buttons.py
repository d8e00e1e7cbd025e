"""The buttons under a result (Re-roll, Variations, Edit, Delete) and the message context menu."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot import messages
from bot.conversation.compose import VARIATIONS_COUNT
from bot.request.models import Job, JobKind, JobStatus
from bot.request.validation import PROMPT_MAX_CHARS
from tests.discord.conftest import (
    StartBot,
    buttons,
    components,
    job_id_of,
    png,
    text,
    thread_of,
    wait_result,
)
from tests.emulators.discord import GUILD_ID, PERMISSIONS, TEXT_CHANNEL_ID, DiscordEmulator


async def _result(emu: DiscordEmulator, prompt: str = "a lantern in fog") -> dict:
    """Run /imagine and return its result message (not one already there)."""
    before = {job_id_of(m) for m in emu.messages.values() if buttons(m)}
    inter = await emu.send_slash_command("imagine", {"prompt": prompt})
    await inter.wait_ack()
    return await wait_result(emu, exclude=before)


async def test_reroll_and_variations_post_in_the_thread(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    first = await _result(emu)
    parent = await bot.wait_job(job_id_of(first))

    bob = emu.add_user("bob")  # anyone may re-roll; it is charged to whoever pressed
    press = await emu.send_component(f"seedbot:reroll:{parent.id}", user_id=bob["id"])
    assert await press.wait_ack() == 5
    again = await wait_result(emu, exclude={parent.id})
    assert again["channel_id"] == first["channel_id"]  # in the thread, no new thread
    assert again["id"] == press.original_message_id
    reroll = await bot.wait_job(job_id_of(again))
    assert (reroll.kind, reroll.parent_id, reroll.prompt) == (JobKind.REROLL, parent.id, parent.prompt)
    assert reroll.user_key == f"discord:{bob['id']}"
    assert (await bot.usage(bob["id"])).day_used == 1

    press = await emu.send_component(f"seedbot:variations:{parent.id}", message_id=first["id"])
    assert await press.wait_ack() == 5
    varied = await wait_result(emu, exclude={parent.id, reroll.id})
    assert len(varied["attachments"]) == VARIATIONS_COUNT
    job = await bot.wait_job(job_id_of(varied))
    assert (job.kind, job.images_delivered) == (JobKind.VARIATIONS, VARIATIONS_COUNT)
    assert len([c for c in emu.channels.values() if c["type"] == 11]) == 1


async def test_edit_button_opens_a_modal_and_edits_the_result(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    first = await _result(emu)
    parent_id = job_id_of(first)
    press = await emu.send_component(f"seedbot:edit:{parent_id}")
    assert await press.wait_ack() == 9
    assert press.modal is not None and press.modal["title"] == messages.EDIT_TITLE
    # The prompt being edited, quoted above the change (the core's EditForm).
    shown, change = press.modal["components"]
    parent = await bot.wait_job(parent_id)
    assert shown == {"type": 10, "content": ">>> " + parent.prompt}
    assert change["type"] == 18 and change["label"] == messages.EDIT_PROMPT_LABEL
    assert change["component"]["max_length"] == PROMPT_MAX_CHARS
    submit = await press.submit_modal({"prompt": "with a red glow --ar 3:2"})
    assert await submit.wait_ack() == 5
    edited = await wait_result(emu, exclude={parent_id})
    assert edited["channel_id"] == first["channel_id"]
    job = await bot.wait_job(job_id_of(edited))
    assert (job.kind, job.parent_id, job.prompt) == (JobKind.EDIT, parent_id, "with a red glow")
    outputs = await bot.runtime.ledger.job_outputs(parent_id)
    assert [i.data for i in await bot.runtime.ledger.job_inputs(job.id)] == [outputs[0].data]


async def test_context_menu_edits_any_message_with_images(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    photo = png(50, 40, (120, 30, 200))
    theirs = await emu.send_message("look at this", [("photo.png", photo)])

    menu = await emu.send_message_command(messages.CONTEXT_EDIT_NAME, theirs["id"])
    assert await menu.wait_ack() == 9
    assert menu.modal is not None and [c["type"] for c in menu.modal["components"]] == [18]  # no prompt
    submit = await menu.submit_modal({"prompt": "as a watercolour"})
    assert await submit.wait_ack() == 5
    result = await wait_result(emu)
    assert thread_of(emu, result)["parent_id"] == TEXT_CHANNEL_ID
    job = await bot.wait_job(job_id_of(result))
    assert job.kind == JobKind.EDIT
    assert [i.data for i in await bot.runtime.ledger.job_inputs(job.id)] == [photo]

    # On one of our results it edits that result (its stored images, not the refitted upload),
    # and its form shows the result's prompt like the Edit button's.
    menu = await emu.send_message_command(messages.CONTEXT_EDIT_NAME, result["id"])
    assert await menu.wait_ack() == 9
    assert menu.modal is not None and menu.modal["components"][0] == {
        "type": 10,
        "content": ">>> as a watercolour",
    }
    submit = await menu.submit_modal({"prompt": "at night"})
    await submit.wait_ack()
    again = await wait_result(emu, exclude={job.id})
    assert (await bot.wait_job(job_id_of(again))).parent_id == job.id

    # A message without images is refused at once, privately; nothing runs.
    text_only = await emu.send_message("no pictures here")
    menu = await emu.send_message_command(messages.CONTEXT_EDIT_NAME, text_only["id"])
    assert await menu.wait_ack() == 4
    assert menu.original is not None and menu.original["flags"] & 64
    assert text(menu.original) == messages.NO_IMAGES_IN_MESSAGE


async def test_picks_in_an_edit_of_someones_photos_send_the_photos_named(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """ "#2 make it night" on three photos sent all three; "the hat from #3 on #1" named them in
    an order they were not sent in; "#5" was not refused."""
    bot = await start_bot()
    photos = [png(50, 40, color) for color in ((200, 0, 0), (0, 200, 0), (0, 0, 200))]
    theirs = await emu.send_message("our trip", [(f"p{n}.png", p) for n, p in enumerate(photos, 1)])
    done: set[str] = set()
    for said, sent, prompt in (
        ("#2 make it night", [photos[1]], "make it night"),
        ("put the hat from #3 on #1", [photos[2], photos[0]], "put the hat from image 1 on image 2"),
    ):
        menu = await emu.send_message_command(messages.CONTEXT_EDIT_NAME, theirs["id"])
        assert await menu.wait_ack() == 9
        await (await menu.submit_modal({"prompt": said})).wait_ack()
        result = await wait_result(emu, exclude=done)
        job = await bot.wait_job(job_id_of(result))
        done.add(job.id)
        assert job.prompt == prompt
        assert [i.data for i in await bot.runtime.ledger.job_inputs(job.id)] == sent
    menu = await emu.send_message_command(messages.CONTEXT_EDIT_NAME, theirs["id"])
    await menu.wait_ack()
    submit = await menu.submit_modal({"prompt": "#5 make it night"})
    await submit.wait_ack()
    refusal = messages.with_charge_note(messages.no_such_image(5, 3))
    [said] = await submit.wait_followups(1)
    assert text(said) == refusal


async def test_delete_is_for_the_owner_and_admins(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bob = emu.add_user("bob")
    carol = emu.add_user("carol")
    await start_bot(admins=f"discord:{carol['id']}")
    first = await _result(emu)
    job_id = job_id_of(first)

    press = await emu.send_component(f"seedbot:delete:{job_id}", user_id=bob["id"])
    assert await press.wait_ack() == 4
    assert press.original is not None and press.original["flags"] & 64
    assert text(press.original) == messages.NOT_OWNER
    assert first["id"] in emu.messages  # still there

    second = await _result(emu, "a second lantern")
    press = await emu.send_component(f"seedbot:delete:{job_id_of(second)}", user_id=carol["id"])
    await press.wait_ack()
    await press.wait_followups(1)
    assert second["id"] not in emu.messages  # an admin (SEEDBOT_ADMINS) may

    dave = emu.add_user("dave")  # a moderator: Manage Server through a role
    emu.roles["1300000000000000500"] = {
        **emu.roles[GUILD_ID],
        "id": "1300000000000000500",
        "name": "mods",
        "permissions": str(PERMISSIONS["manage_guild"]),
        "position": 2,
    }
    emu.members[dave["id"]]["roles"].append("1300000000000000500")
    third = await _result(emu, "a third lantern")
    press = await emu.send_component(f"seedbot:delete:{job_id_of(third)}", user_id=dave["id"])
    await press.wait_followups(1)
    assert third["id"] not in emu.messages

    press = await emu.send_component(f"seedbot:delete:{job_id}")  # the owner
    assert await press.wait_ack() == 5
    [done] = await press.wait_followups(1)
    assert text(done) == messages.DELETED and done["flags"] & 64
    assert first["id"] not in emu.messages
    anchor = emu.messages[first["channel_id"]]  # the thread's starter message stays
    assert text(anchor).endswith("1 image in the thread.")


async def test_cancel_on_the_imagine_response_while_it_runs(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot(demo_latency=30.0)
    inter = await emu.send_slash_command("imagine", {"prompt": "a very slow sunrise"})
    await inter.wait_ack()
    [job] = await _until_jobs(bot)
    status_id = inter.original_message_id
    assert status_id is not None and job.message_id in (None, status_id)
    cancel = f"seedbot:cancel:{job.id}"
    await _poll(lambda: cancel in _ids(emu.messages.get(status_id)))
    assert (await bot.usage()).day_used == 1  # reserved

    bob = emu.add_user("bob")  # not theirs: refused, nothing changes
    refused = await emu.send_component(cancel, message_id=status_id, user_id=bob["id"])
    await refused.wait_ack()
    await _poll(lambda: refused.original is not None)
    assert text(refused.original or {}) == messages.CANCEL_NOT_OWNER

    press = await emu.send_component(cancel, message_id=status_id)
    await press.wait_ack()
    await _poll(lambda: press.original is not None)
    assert text(press.original or {}) == messages.cancel_done(job.id)
    assert (press.original or {}).get("flags", 0) & 64  # only the presser sees it
    done = await bot.runtime.ledger.get_job(job.id)
    assert done is not None and done.status == JobStatus.CANCELLED
    assert (await bot.usage()).day_used == 0
    # The status no longer offers Cancel: it says the request was cancelled, for free.
    await _poll(lambda: cancel not in _ids(emu.messages.get(status_id)))
    shown = " ".join(text(m) for m in emu.messages.values() if m["author"]["id"] == emu.bot_user_id)
    assert messages.cancelled(True) in shown


async def test_a_result_in_a_thread_leaves_no_cancel_on_the_message_it_started_from(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """The channel message ("@you asked for: …, 2 images in the thread") kept a live Cancel for
    good, answered "That job has already finished" when pressed."""
    bot = await start_bot()
    asked = await emu.send_slash_command("imagine", {"prompt": "a red fox in snow", "count": 2})
    assert await asked.wait_ack() == 5
    result = await wait_result(emu)
    thread_of(emu, result)
    await bot.wait_job(job_id_of(result))
    await bot.wait_idle()
    starter = emu.messages[asked.original_message_id or ""]
    assert messages.results_in_thread(2) in text(starter)
    assert not [i for i in _ids(starter) if i.startswith("seedbot:cancel:")]


@pytest.mark.parametrize("where", ["no-threads", "dm"])
async def test_delete_on_the_second_message_of_an_inline_batch_removes_all_of_it(
    emu: DiscordEmulator, start_bot: StartBot, where: str
) -> None:
    """Posted inline (no thread), the response is the result's first message: it was kept as if
    a thread had been started from it, so the first ten images stayed after "Deleted."."""
    if where == "no-threads":
        await emu.set_bot_channel_permissions(TEXT_CHANNEL_ID, deny=["create_public_threads"])
    bot = await start_bot()
    asked = await emu.send_slash_command(
        "imagine", {"prompt": "twelve lanterns", "count": 12}, dm=where == "dm"
    )
    await asked.wait_ack()
    first = await wait_result(emu, timeout=30)
    await bot.wait_job(job_id_of(first), timeout=30)
    await bot.wait_idle()

    def ours() -> list[dict[str, Any]]:
        return [
            m
            for m in emu.messages.values()
            if m["author"]["id"] == emu.bot_user_id
            and m["channel_id"] == first["channel_id"]
            and m["attachments"]
        ]

    [second] = [m for m in ours() if m["id"] != first["id"]]
    press = await emu.send_component(
        f"seedbot:delete:{job_id_of(first)}",
        message_id=second["id"],
        **({"dm": True} if where == "dm" else {}),
    )
    await press.wait_ack()
    [said] = await press.wait_followups(1)
    assert text(said) == messages.DELETED
    assert ours() == []


async def test_upscale_buttons_under_a_batch(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    first = await _result(emu, "two lanterns in fog --n 2")
    parent = job_id_of(first)
    ids = _ids(first)
    assert {f"seedbot:upscale:{parent}:1", f"seedbot:upscale:{parent}:2"} <= ids
    press = await emu.send_component(f"seedbot:upscale:{parent}:2", message_id=first["id"])
    assert await press.wait_ack() == 5
    upscaled = await wait_result(emu, exclude={parent})
    job = await bot.wait_job(job_id_of(upscaled))
    assert (job.kind, job.parent_id, job.request["pick"], job.request["tier"]) == ("upscale", parent, 2, "4K")
    assert messages.upscale_note(2, parent) in text(upscaled)


async def _until_jobs(bot: object) -> list[Job]:
    for _ in range(500):
        jobs = await bot.jobs()  # type: ignore[attr-defined]
        if jobs:
            return list(jobs)
        await asyncio.sleep(0.02)
    raise TimeoutError("no job")


async def _poll(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("never happened")
        await asyncio.sleep(0.02)


def _ids(message: dict | None) -> set[str]:
    return {str(c.get("custom_id")) for c in components(message or {})}
