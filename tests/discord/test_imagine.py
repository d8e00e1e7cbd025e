"""/imagine and /edit end to end: defer, progress, result in a thread as a Components V2 gallery
with buttons, references reaching the provider in order, options and flags, upload-limit refits,
no mass pings, DMs."""

from __future__ import annotations

import pytest

from bot import messages
from bot.request.models import JobKind, JobStatus, Requester
from tests.discord.conftest import (
    V2,
    StartBot,
    body_text,
    bot_message_requests,
    buttons,
    details,
    eventually,
    gallery,
    job_id_of,
    notes,
    png,
    text,
    thread_of,
    wait_result,
)
from tests.emulators.discord import (
    GUILD_ID,
    HUMAN_USER_ID,
    TEXT_CHANNEL_ID,
    DiscordEmulator,
)
from tests.emulators.providers import ProviderEmulator


async def test_batch_of_two_lands_in_a_thread_with_buttons(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "a red fox in snow", "count": 2})
    assert await inter.wait_ack() == 5  # deferred at once ("thinking")

    result = await wait_result(emu)
    thread = thread_of(emu, result)
    assert thread["parent_id"] == TEXT_CHANNEL_ID
    assert thread["id"] == inter.original_message_id  # started from the command's response
    assert thread["name"] == "a red fox in snow"
    assert [a["content_type"] for a in result["attachments"]] == ["image/jpeg", "image/jpeg"]
    job_id = job_id_of(result)
    assert buttons(result) == {a: job_id for a in ("reroll", "variations", "edit", "delete", "info")}
    # A Components V2 message: no content or embeds; the images are a gallery of its own uploads.
    assert result["flags"] & V2 and not result["content"] and not result["embeds"]
    assert [i["media"]["attachment_id"] for i in gallery(result)] == [a["id"] for a in result["attachments"]]
    lines = text(result).splitlines()
    assert lines[0] == f"<@{HUMAN_USER_ID}>"  # the requester is pinged into the thread
    assert lines[1] == "a red fox in snow"
    fields = details(result)
    assert fields == {
        "Model": "Seedream 5.0 lite",
        "Size": "2048x2048",
        "Provider": "demo",
        "Time": fields["Time"],
        "Images left today": "18",
    }
    assert messages.DEMO_NOTICE in notes(result)

    job = await bot.wait_job(job_id)
    assert (job.status, job.images_delivered, job.kind) == (JobStatus.SUCCEEDED, 2, JobKind.IMAGINE)
    assert (await bot.usage()).day_used == 2
    # Progress went to the response before the result, which then names the thread.
    edits = [body_text(r.body) for r in emu.find_requests("PATCH", r"/messages/@original$")]
    assert any(e and e.startswith("Generating…") for e in edits), edits
    assert inter.original is not None
    assert text(inter.original) == f"<@{HUMAN_USER_ID}> asked for: a red fox in snow\n2 images in the thread."


async def test_two_attachments_reach_the_provider_in_order(emu: DiscordEmulator, start_bot: StartBot) -> None:
    first, second = png(40, 30, (255, 0, 0)), png(30, 40, (0, 0, 255))
    async with ProviderEmulator() as providers:
        bot = await start_bot(**providers.settings_kwargs("novita"))
        inter = await emu.send_slash_command(
            "imagine",
            {
                "prompt": "put the hat from image 2 on the cat in image 1",
                "image": emu.add_cdn_file("cat.png", first),
                "image2": emu.add_cdn_file("hat.png", second),
            },
        )
        assert await inter.wait_ack() == 5
        result = await wait_result(emu)
        assert providers.novita.received_images == [first, second]
    fields = details(result)
    assert fields["References"] == "image 1 = cat.png; image 2 = hat.png"
    assert fields["Provider"] == "novita"
    job = await bot.wait_job(job_id_of(result))
    assert job.kind == JobKind.EDIT
    assert [i.data for i in await bot.runtime.ledger.job_inputs(job.id)] == [first, second]


async def test_edit_command_options_and_resolution_choices(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    photo = png(64, 64, (10, 200, 10))
    inter = await emu.send_slash_command(
        "edit", {"prompt": "make it night --ar 16:9", "image": emu.add_cdn_file("photo.png", photo)}
    )
    assert await inter.wait_ack() == 5
    result = await wait_result(emu)
    assert details(result)["Size"] == "2848x1600"  # --ar 16:9 in the prompt, the model's 2K tier
    job = await bot.wait_job(job_id_of(result))
    assert (job.kind, job.prompt) == (JobKind.EDIT, "make it night")

    tiers = await emu.send_autocomplete(
        "imagine", {"prompt": "x", "model": "4.5", "resolution": ""}, "resolution"
    )
    await tiers.wait_ack()
    assert [c["value"] for c in tiers.choices or []] == ["2K", "4K"]
    tiers = await emu.send_autocomplete("imagine", {"prompt": "x", "resolution": "3"}, "resolution")
    await tiers.wait_ack()
    assert [c["value"] for c in tiers.choices or []] == ["3K"]

    options = {"prompt": "a lighthouse", "aspect": "9:16", "model": "4.5", "resolution": "4K", "count": 1}
    inter = await emu.send_slash_command("imagine", {**options, "resolution": "3K"})
    await inter.wait_ack()
    [error] = await inter.wait_followups(1)
    assert error["flags"] & 64  # ephemeral
    assert text(error) == messages.with_charge_note(
        messages.another_model_can(
            messages.bad_resolution("3K", "Seedream 4.5", ["2K", "4K"]), "Seedream 5.0 lite", "5.0-lite"
        )
    )
    assert inter.original is None or inter.original["id"] == error["id"]


async def test_resolution_choices_follow_the_model_the_request_would_use(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """The server's default model, or a style's, decides the tiers offered (the bot's default
    offered 3K on a server set to Seedream 4.5, which then refused it)."""
    bot = await start_bot()
    admin = Requester("discord", str(HUMAN_USER_ID), workspace_id=str(GUILD_ID), manages_workspace=True)
    await bot.runtime.conversation.admin.settings_set(admin, "model", "4.5")

    async def offered(**picked: str) -> list[str]:
        tiers = await emu.send_autocomplete(
            "imagine", {"prompt": "x", **picked, "resolution": ""}, "resolution"
        )
        await tiers.wait_ack()
        return [c["value"] for c in tiers.choices or []]

    assert await offered() == ["2K", "4K"]
    assert await offered(model="5.0-lite") == ["2K", "3K"]
    await bot.runtime.conversation.admin.style_put(admin, "lite", "in pencil", change=False, model="5.0-lite")
    assert await offered(style="lite") == ["2K", "3K"]
    assert await offered(style="gone") == ["2K", "4K"]  # no such style: the server's model


async def test_images_are_refitted_to_the_upload_limit_and_the_result_says_so(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    await start_bot()
    limit = 60_000
    inter = await emu.send_slash_command(
        "imagine", {"prompt": "a detailed map --format png"}, attachment_size_limit=limit
    )
    assert await inter.wait_ack() == 5
    result = await wait_result(emu)
    [upload] = [r for r in emu.requests if r.files]
    [(name, _, data)] = upload.files
    assert len(data) <= limit and name.endswith(".jpg")  # re-encoded: a 2K PNG is far larger
    assert messages.REFITTED in notes(result)


async def test_everyone_in_a_prompt_never_pings(emu: DiscordEmulator, start_bot: StartBot) -> None:
    await start_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "@everyone party at <@&1300000000000000400>"})
    assert await inter.wait_ack() == 5
    result = await wait_result(emu)
    await emu.wait_for_message(lambda m: "asked for: @everyone" in text(m), author_id=None)

    writes = bot_message_requests(emu)
    assert writes
    for request in writes:
        body = request.body
        if request.path.endswith("/callback"):
            body = body.get("data") or {}
        if "content" not in body and "embeds" not in body and "components" not in body:
            continue
        allowed = body.get("allowed_mentions")
        assert allowed is not None, request
        assert not {"everyone", "roles"} & set(allowed.get("parse") or []), request
        assert not allowed.get("roles"), request
    echoed = [r for r in writes if "@everyone" in body_text(r.body)]
    assert echoed and all(r.body["allowed_mentions"]["parse"] == [] for r in echoed)
    # Only the requester is pinged (into the result's thread).
    assert result["mentions"] and [u["id"] for u in result["mentions"]] == [HUMAN_USER_ID]
    assert not result["mention_everyone"] and not result["mention_roles"]


async def test_a_servers_emoji_in_the_prompt_reaches_the_model_as_its_name(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """A slash option carries `<:castle:id>` as typed; the id meant nothing to the model."""
    bot = await start_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "a <:castle:112233445566778899> at dusk"})
    assert await inter.wait_ack() == 5
    result = await wait_result(emu)
    job = await bot.wait_job(job_id_of(result))
    assert job.prompt == "a :castle: at dusk"


@pytest.mark.parametrize("expire", [False, True], ids=["live", "token-expired"])
async def test_in_a_dm_the_response_becomes_the_result(
    emu: DiscordEmulator, start_bot: StartBot, expire: bool
) -> None:
    async with ProviderEmulator() as providers:
        providers.novita.latency = 0.3
        bot = await start_bot(**providers.settings_kwargs("novita"))
        inter = await emu.send_slash_command("imagine", {"prompt": "a quiet harbour"}, dm=True)
        assert await inter.wait_ack() == 5
        if expire:  # the 15-minute interaction token runs out while the job runs
            inter.expire()
        result = await wait_result(emu)
    dm = emu.channels[result["channel_id"]]
    assert dm["type"] == 1  # a DM: no thread, inline
    assert len(result["attachments"]) == 1 and buttons(result)
    if expire:
        assert result["id"] != inter.original_message_id  # a channel message instead of the response
        assert "webhook_id" not in result
    else:
        assert result["id"] == inter.original_message_id
    job = await bot.wait_job(job_id_of(result))
    assert job.status == JobStatus.SUCCEEDED and job.workspace_id is None
    assert not [c for c in emu.channels.values() if c["type"] == 11]


async def test_where_threads_are_not_allowed_the_result_is_inline(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    await emu.set_bot_channel_permissions(TEXT_CHANNEL_ID, deny=["create_public_threads"])
    await start_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "a narrow street"})
    assert await inter.wait_ack() == 5
    result = await wait_result(emu)
    assert result["id"] == inter.original_message_id and result["channel_id"] == TEXT_CHANNEL_ID
    assert not [c for c in emu.channels.values() if c["type"] == 11]


async def test_usage_is_private(emu: DiscordEmulator, start_bot: StartBot) -> None:
    await start_bot(daily_images=5)
    inter = await emu.send_slash_command("usage")
    assert await inter.wait_ack() == 4
    assert inter.original is not None and inter.original["flags"] & 64
    assert text(inter.original).startswith("Images left today: 5 of 5 (resets ")


@pytest.mark.parametrize(
    ("prompt", "said"), [("usage", "Images left today: 5 of 5"), ("help", "Mention me with a prompt")]
)
async def test_words_typed_as_the_prompt_are_read_as_anywhere_else(
    emu: DiscordEmulator, start_bot: StartBot, prompt: str, said: str
) -> None:
    """`/imagine usage` is the usage, privately and free, as `/imagine usage` on Slack and
    "usage" in a mention or the playground's box (it was drawn, and charged)."""
    bot = await start_bot(daily_images=5)
    inter = await emu.send_slash_command("imagine", {"prompt": prompt})
    await inter.wait_ack()
    [answer] = await inter.wait_followups(1)
    assert answer["flags"] & 64 and said in text(answer), text(answer)
    assert await bot.jobs() == [] and (await bot.usage()).day_used == 0


async def test_a_prompt_that_starts_like_a_command_is_drawn(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "cast of characters around a campfire"})
    await inter.wait_ack()
    job = await bot.wait_job(job_id_of(await wait_result(emu)))
    assert job.prompt == "cast of characters around a campfire"


async def test_progress_shows_the_queue_position_then_generating(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    async with ProviderEmulator() as providers:
        providers.novita.latency = 0.4  # the first job holds the only slot for a while
        bot = await start_bot(**providers.settings_kwargs("novita"), max_concurrency=1)
        first = await emu.send_slash_command("imagine", {"prompt": "first in line"})
        await first.wait_ack()
        await eventually(lambda: providers.novita.submissions == 1)
        second = await emu.send_slash_command("imagine", {"prompt": "second in line"})
        await second.wait_ack()

        def shown(inter: object) -> list[str]:
            token = inter.token  # type: ignore[attr-defined]
            return [
                body_text(r.body)
                for r in emu.find_requests("PATCH", rf"^/webhooks/\d+/{token}/messages/@original$")
                if body_text(r.body)
            ]

        await eventually(lambda: messages.queued(1) in shown(second))
        one = await wait_result(emu)
        two = await wait_result(emu, exclude={job_id_of(one)})
        await bot.wait_job(job_id_of(two))
    texts = shown(second)
    assert texts.index(messages.queued(1)) < next(
        i for i, t in enumerate(texts) if t.startswith("Generating…")
    )
    assert messages.queued(1) not in shown(first)


async def test_a_thread_that_refuses_the_result_falls_back_to_inline(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    emu.fail_next(
        "POST",
        rf"^/channels/(?!{TEXT_CHANNEL_ID})\d+/messages$",
        403,
        {"message": "Missing Permissions", "code": 50013},
    )
    inter = await emu.send_slash_command("imagine", {"prompt": "a locked door"})
    assert await inter.wait_ack() == 5
    result = await wait_result(emu)
    assert result["id"] == inter.original_message_id and result["channel_id"] == TEXT_CHANNEL_ID
    job = await bot.wait_job(job_id_of(result))
    assert job.status == JobStatus.SUCCEEDED and job.images_delivered == 1
