"""seedbot installed to a person's account, used where the bot is not a member: a server without
the bot and a group DM. It can answer only through the interaction: no channel posts, no
threads, no fetches, at most 5 follow-ups, nothing after the 15-minute token; quotas are the
person's own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from adapters.discord_adapter import delivery
from bot import messages
from bot.request.models import JobKind, JobStatus
from tests.discord.conftest import (
    V2,
    SpawnBot,
    StartBot,
    body_text,
    buttons,
    details,
    eventually,
    gallery,
    job_id_of,
    notes,
    png,
    text,
    wait_result,
)
from tests.emulators.discord import HUMAN_USER_ID, DiscordEmulator
from tests.emulators.providers import ProviderEmulator, ProviderState


def _place(emu: DiscordEmulator, where: str) -> str:
    """A channel where the bot is not a member: a server without it, or a group DM."""
    if where == "server":
        return str(emu.add_foreign_guild("Somewhere Else")["text_channel_id"])
    bob = emu.add_user("bob")
    return str(emu.group_dm([HUMAN_USER_ID, bob["id"]])["id"])


def _channel_calls(emu: DiscordEmulator) -> list[Any]:
    """Every REST call the bot made on a channel (posts, threads, fetches): none are allowed."""
    return [r for r in emu.requests if r.kind == "api" and r.path.startswith("/channels/")]


@pytest.mark.parametrize("where", ["server", "group-dm"])
async def test_fifteen_images_arrive_through_the_interaction_alone(
    emu: DiscordEmulator, start_bot: StartBot, where: str
) -> None:
    channel_id = _place(emu, where)
    bot = await start_bot()
    inter = await emu.send_slash_command(
        "imagine", {"prompt": "fifteen paper lanterns", "count": 15}, channel_id=channel_id
    )
    assert await inter.wait_ack() == 5
    first = await wait_result(emu, channel_id=channel_id, timeout=30)
    job = await bot.wait_job(job_id_of(first), timeout=30)
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 15)

    # The response became the first message; the rest are follow-ups of the same interaction.
    assert first["id"] == inter.original_message_id
    posted = [
        m
        for m in emu.messages.values()
        if m["channel_id"] == channel_id and m["author"]["id"] == emu.bot_user_id
    ]
    assert inter.followups_created <= 5
    assert sorted(len(m["attachments"]) for m in posted) == [5, 10]
    assert all(m["flags"] & V2 and len(gallery(m)) == len(m["attachments"]) for m in posted)
    [more] = [m for m in posted if m["id"] != first["id"]]
    assert "Images 11–15 of 15" in text(more) and set(buttons(more)) == {"delete"}
    assert set(buttons(first)) == {"reroll", "variations", "edit", "delete", "info"}
    assert details(first)[messages.LABEL_LEFT_TODAY] == "5" and "could be posted" not in notes(first)

    # Nothing outside the interaction: no channel posts, threads or fetches; no thread anywhere.
    assert _channel_calls(emu) == []
    assert not [c for c in emu.channels.values() if c["type"] == 11]
    # The person's own quota; no server pool where the server never installed the bot.
    assert (await bot.usage()).day_used == 15


async def test_the_token_running_out_before_delivery_is_said_and_refunded(
    emu: DiscordEmulator, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 15-minute token, shortened: the answer window closes ~1 s in, the images come at ~2.5 s.
    monkeypatch.setattr(delivery, "TOKEN_LIFETIME", 1.5)
    monkeypatch.setattr(delivery, "TOKEN_NOTICE", 0.5)
    emu.interaction_token_lifetime = 1.5
    channel_id = _place(emu, "server")
    async with ProviderEmulator() as providers:
        providers.novita.latency = 2.5
        bot = await start_bot(**providers.settings_kwargs("novita"))
        inter = await emu.send_slash_command("imagine", {"prompt": "a slow sunrise"}, channel_id=channel_id)
        assert await inter.wait_ack() == 5
        said = messages.answer_window_closed(1)
        await eventually(lambda: text(inter.original) == said, timeout=5)
        await eventually(lambda: providers.novita.submissions == 1)
        jobs = await bot.jobs()
        job = await bot.wait_job(jobs[0].id, timeout=15)
    assert (job.status, job.images_delivered, job.error_kind) == (JobStatus.FAILED, 0, "delivery")
    assert (await bot.usage()).day_used == 0  # refunded
    assert text(inter.original) == said  # still what the person reads; nothing came after it
    assert inter.followups_created == 0 and _channel_calls(emu) == []


async def test_buttons_on_a_user_install_result_answer_through_their_own_interaction(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    channel_id = _place(emu, "server")
    bot = await start_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "a paper boat"}, channel_id=channel_id)
    await inter.wait_ack()
    first = await wait_result(emu, channel_id=channel_id)
    parent = await bot.wait_job(job_id_of(first))

    bob = emu.add_user("bob")  # has not installed seedbot; pays for his own re-roll
    press = await emu.send_component(f"seedbot:reroll:{parent.id}", message_id=first["id"], user_id=bob["id"])
    assert press.payload["authorizing_integration_owners"] == {"1": HUMAN_USER_ID}
    assert await press.wait_ack() == 5
    again = await wait_result(emu, channel_id=channel_id, exclude={parent.id})
    assert again["id"] == press.original_message_id
    reroll = await bot.wait_job(job_id_of(again))
    assert reroll.user_key == f"discord:{bob['id']}" and (await bot.usage(bob["id"])).day_used == 1

    # Delete by its owner removes the message through the button's interaction.
    press = await emu.send_component(f"seedbot:delete:{parent.id}", message_id=first["id"])
    assert await press.wait_ack() == 6  # a deferred update: the pressed message is the response
    await eventually(lambda: first["id"] not in emu.messages)
    [done] = await press.wait_followups(1)
    assert text(done) == messages.DELETED and done["flags"] & 64
    assert _channel_calls(emu) == []


async def test_a_batch_too_big_for_the_follow_ups_is_fitted_into_them(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    # With a small upload limit 15 images would need more messages than the response and its 5
    # follow-ups: each is fitted into an even share instead (3 a message).
    channel_id = _place(emu, "server")
    bot = await start_bot()
    limit = 150_000
    inter = await emu.send_slash_command(
        "imagine",
        {"prompt": "fifteen small stamps", "count": 15},
        channel_id=channel_id,
        attachment_size_limit=limit,
    )
    await inter.wait_ack()
    first = await wait_result(emu, channel_id=channel_id, timeout=30)
    job = await bot.wait_job(job_id_of(first), timeout=30)
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 15)
    uploads = [r for r in emu.requests if r.files]
    assert len(uploads) <= 6 and inter.followups_created <= 5
    assert all(sum(len(f[2]) for f in r.files) <= limit for r in uploads)
    assert sum(len(r.files) for r in uploads) == 15
    assert messages.REFITTED in notes(first)


async def test_edit_with_seedream_on_a_friends_image_in_a_group_dm(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bob = emu.add_user("bob")
    group = emu.group_dm([HUMAN_USER_ID, bob["id"]])
    cat = png(40, 30, (250, 120, 0))
    photo = emu.add_message(
        "my cat", channel_id=group["id"], author_id=bob["id"], attachments=[("cat.png", cat)]
    )
    bot = await start_bot()
    menu = await emu.send_message_command(messages.CONTEXT_EDIT_NAME, photo["id"])
    assert menu.payload["context"] == 2
    assert await menu.wait_ack() == 9  # the prompt modal
    submit = await menu.submit_modal({"prompt": "make it night"})
    assert await submit.wait_ack() == 5
    result = await wait_result(emu, channel_id=group["id"])
    job = await bot.wait_job(job_id_of(result))
    assert (job.kind, job.status, job.workspace_id) == (JobKind.EDIT, JobStatus.SUCCEEDED, None)
    assert [i.data for i in await bot.runtime.ledger.job_inputs(job.id)] == [cat]
    assert _channel_calls(emu) == []


async def test_a_guest_job_cut_short_by_a_shutdown_is_not_promised_for_later(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    channel_id = _place(emu, "server")
    async with ProviderEmulator() as providers:
        providers.apiframe.pending_polls = 1_000_000  # a provider task the next start could resume
        bot = await start_bot(**providers.settings_kwargs("apiframe"))
        inter = await emu.send_slash_command("imagine", {"prompt": "a long exposure"}, channel_id=channel_id)
        assert await inter.wait_ack() == 5
        await eventually(lambda: providers.apiframe.polls >= 2)
        await bot.runtime.engine.shutdown(0.05)  # type: ignore[attr-defined]
        await bot.wait_idle()
    # Not "it will be posted here later": the next process could not post it there.
    [answer] = await inter.wait_followups(1)
    assert text(answer) == messages.SHUTTING_DOWN and answer["flags"] & 64


async def test_a_guest_job_left_by_a_crash_is_refunded_by_the_next_start_without_touching_the_channel(
    emu: DiscordEmulator, spawn_bot: SpawnBot
) -> None:
    channel_id = _place(emu, "server")
    async with ProviderEmulator() as providers:
        env = providers.env("apiframe", SEEDBOT_POLL_INTERVAL="0.05")
        providers.apiframe.pending_polls = 1_000_000
        first_bot = await spawn_bot(**env)
        inter = await emu.send_slash_command("imagine", {"prompt": "a slow sunrise"}, channel_id=channel_id)
        assert await inter.wait_ack() == 5
        await eventually(lambda: providers.apiframe.polls >= 2)
        await first_bot.kill()
        for task in providers.apiframe.tasks.values():
            task.pending = 0  # finished at the provider while no bot was running
        second_bot = await spawn_bot(**env)
        await second_bot.wait_log(r"job \w+ failed: .*not a member of server")
    assert _channel_calls(emu) == []  # not even a fetch of the channel
    assert inter.followups_created == 0


@pytest.mark.parametrize("outcome", ["made", "failed"])
async def test_a_response_deleted_while_the_job_runs_is_answered_with_a_follow_up(
    emu: DiscordEmulator, start_bot: StartBot, outcome: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Its author (or a moderator) deleted the "thinking…" response: Discord answers 10008
    Unknown Message for it, but the token still has its 15 minutes and every follow-up. It was
    taken for an expired token: nothing was said, the images were refunded unseen."""
    channel_id = _place(emu, "server")
    async with ProviderEmulator() as providers:
        release = asyncio.Event()
        submit = providers._before_submit

        async def held(state: ProviderState, request: web.Request) -> Any:
            rec = await submit(state, request)
            await release.wait()
            return rec

        providers._before_submit = held  # type: ignore[method-assign]
        if outcome == "failed":
            providers.novita.fail("unavailable")
        bot = await start_bot(**providers.settings_kwargs("novita"), provider_retries=0)
        bot.runtime.engine.progress_interval = 0.2  # progress edits as often as Discord's allow
        inter = await emu.send_slash_command("imagine", {"prompt": "a paper lantern"}, channel_id=channel_id)
        assert await inter.wait_ack() == 5
        original = rf"^/webhooks/\d+/{inter.token}/messages/@original$"
        await eventually(lambda: any(body_text(r.body) for r in emu.find_requests("PATCH", original)))
        await emu._delete_message(inter.original_message_id)
        # The next progress edit meets the deleted response; then the provider answers.
        await eventually(lambda: any(r.status == 404 for r in emu.find_requests("PATCH", original)))
        release.set()
        [answer] = await inter.wait_followups(1, timeout=10)
        [job] = await bot.jobs()
        job = await bot.wait_job(job.id)
    if outcome == "made":
        assert "reroll" in buttons(answer) and len(answer["attachments"]) == 1
        assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 1)
        assert (await bot.usage()).day_used == 1
    else:
        assert text(answer) == messages.provider_failed("unavailable") and answer["flags"] & 64
        assert (job.status, (await bot.usage()).day_used) == (JobStatus.FAILED, 0)
    assert _channel_calls(emu) == []
    assert not [r for r in caplog.records if "expired" in r.getMessage()]
