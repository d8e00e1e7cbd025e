"""Messages addressed to the bot: a reply to a result edits it (in threads, channels and DMs),
a mention works like /imagine, and what the message-content intent changes."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import messages
from bot.request.models import JobKind, JobStatus
from tests.discord.conftest import StartBot, buttons, details, job_id_of, png, text, thread_of, wait_result
from tests.emulators.discord import (
    HUMAN_USER_ID,
    TEXT_CHANNEL_ID,
    DiscordEmulator,
)
from tests.emulators.providers import ProviderEmulator


async def test_reply_to_a_result_edits_its_image_with_new_references(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "two cats", "count": 2})
    await inter.wait_ack()
    first = await wait_result(emu)
    parent = await bot.wait_job(job_id_of(first))
    hat = png(32, 32, (0, 0, 0))

    reply = await emu.send_message(
        "give it this hat #2 --ar 4:3",
        [("hat.png", hat)],
        reply_to=first["id"],
        channel_id=first["channel_id"],
    )
    edited = await wait_result(emu, exclude={parent.id})
    assert edited["channel_id"] == first["channel_id"]  # inside the same thread, inline
    assert edited["message_reference"]["message_id"] == reply["id"]  # the bot's reply became it
    fields = details(edited)
    assert fields["References"] == f"image 1 = result 2 of job {parent.id}; image 2 = hat.png"
    assert fields["Size"] == "2304x1728"
    job = await bot.wait_job(job_id_of(edited))
    assert (job.kind, job.parent_id, job.prompt) == (JobKind.EDIT, parent.id, "give it this hat")
    inputs = await bot.runtime.ledger.job_inputs(job.id)
    outputs = await bot.runtime.ledger.job_outputs(parent.id)
    assert [i.data for i in inputs] == [outputs[1].data, hat]
    assert (await bot.usage()).day_used == 3


async def test_a_reply_with_too_many_images_for_the_result_is_refused_before_any_download(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """Five images of a result and ten attached are 15 references, one past Seedream's 14: the
    attachments were downloaded and decoded before the count was refused."""
    bot = await start_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "five cats", "count": 5})
    await inter.wait_ack()
    first = await wait_result(emu)
    await bot.wait_job(job_id_of(first))
    attached = [(f"hat{i}.png", png(16, 16)) for i in range(10)]
    await emu.send_message(
        "put them all together", attached, reply_to=first["id"], channel_id=first["channel_id"]
    )
    answer = await emu.wait_for_message(lambda m: "14" in text(m))
    assert text(answer) == messages.with_charge_note(messages.too_many_references(15, 14))
    assert not [r for r in emu.requests if r.kind == "cdn" and "hat" in r.raw_path]
    assert (await bot.usage()).day_used == 5
    assert len(await bot.jobs()) == 1


async def test_a_mention_works_like_imagine(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    mention = await emu.send_message(
        f"{emu.bot_mention} a castle on a hill for <@{HUMAN_USER_ID}> <a:sparkle:112233445566778899> --n 2",
        mentions=[emu.bot_user_id, HUMAN_USER_ID],
    )
    result = await wait_result(emu)
    thread = thread_of(emu, result)
    status = emu.messages[thread["id"]]  # the thread starts from the bot's reply
    assert status["message_reference"]["message_id"] == mention["id"]
    assert status["channel_id"] == TEXT_CHANNEL_ID
    assert thread["name"] == "a castle on a hill for @Alice :sparkle:"  # mentions and emoji read as names
    assert len(result["attachments"]) == 2
    job = await bot.wait_job(job_id_of(result))
    assert (job.prompt, job.images_delivered) == ("a castle on a hill for @Alice :sparkle:", 2)

    # A reply to the message the thread starts from edits that result too.
    await emu.send_message("now in winter", reply_to=status["id"], mentions=[emu.bot_user_id])
    edited = await wait_result(emu, exclude={job.id})
    assert (await bot.wait_job(job_id_of(edited))).parent_id == job.id


async def test_replies_need_the_ping_without_the_content_intent(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    emu.allowed_privileged_intents = 0  # the application has not enabled message content
    bot = await start_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "a tree"})
    await inter.wait_ack()
    result = await wait_result(emu)
    job = await bot.wait_job(job_id_of(result))

    # Reply with the ping switched off: Discord sends no text, so there is nothing to act on.
    mark = emu.mark()
    await emu.send_message(
        "make it autumn", reply_to=result["id"], channel_id=result["channel_id"], reply_ping=False
    )
    # With the ping (the default for replies) the text arrives and the edit runs.
    await emu.send_message("make it autumn", reply_to=result["id"], channel_id=result["channel_id"])
    edited = await wait_result(emu, exclude={job.id})
    assert (await bot.wait_job(job_id_of(edited))).prompt == "make it autumn"
    replies = [r for r in emu.requests[mark:] if r.method == "POST" and r.path.endswith("/messages")]
    assert len(replies) == 1  # the unpinged reply got no answer at all


async def test_dm_messages_and_replies(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    await emu.send_message("a paper boat", dm=True)
    result = await wait_result(emu)
    assert emu.channels[result["channel_id"]]["type"] == 1
    parent = await bot.wait_job(job_id_of(result))

    await emu.send_message("now at sea", dm=True, reply_to=result["id"])
    edited = await wait_result(emu, exclude={parent.id})
    job = await bot.wait_job(job_id_of(edited))
    assert (job.kind, job.parent_id) == (JobKind.EDIT, parent.id)
    assert buttons(edited) and edited["channel_id"] == result["channel_id"]

    await emu.send_message("usage", dm=True)
    answer = await emu.wait_for_message(lambda m: text(m).startswith("Images left today"))
    assert "18 of 20" in text(answer)
    await emu.send_message("", dm=True)
    help_text = await emu.wait_for_message(lambda m: text(m).startswith("Mention me"))
    assert messages.mention_help("@seedbot", []).split("\n")[0] in text(help_text)


async def test_reply_to_a_bot_message_that_is_not_a_result(emu: DiscordEmulator, start_bot: StartBot) -> None:
    await start_bot()
    await emu.send_message(f"{emu.bot_mention} usage", mentions=[emu.bot_user_id])
    usage = await emu.wait_for_message(lambda m: text(m).startswith("Images left today"))
    await emu.send_message("make it red", reply_to=usage["id"])
    answer = await emu.wait_for_message(lambda m: text(m).startswith("That message isn't"))
    assert text(answer) == messages.with_charge_note(messages.NOT_A_RESULT)
    assert answer["message_reference"]["message_id"] != usage["id"]
    assert HUMAN_USER_ID not in [u["id"] for u in answer["mentions"]]


async def test_a_prompt_replied_to_seedbots_words_is_a_new_request(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """The answer to a Midjourney prompt says "Send it like this: `a fox --ar 16:9`"; replying
    that to it (Discord's Reply) was refused: "That message isn't a seedbot result"."""
    bot = await start_bot()
    await emu.send_message(f"{emu.bot_mention} a fox --ar 16:9 --v 6", mentions=[emu.bot_user_id])
    told = await emu.wait_for_message(lambda m: "Send it like this" in text(m))
    await emu.send_message("a fox --ar 16:9", reply_to=told["id"], mentions=[emu.bot_user_id])
    job = await bot.wait_job(job_id_of(await wait_result(emu)))
    assert (job.kind, job.prompt, job.request["aspect"], job.parent_id) == (
        JobKind.IMAGINE,
        "a fox",
        "16:9",
        None,
    )


async def test_a_prompt_replied_to_a_job_that_made_nothing_tries_it_afresh(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """A prompt refused by the host's content policy, then reworded in a reply to the refusal,
    was told "The image you replied to could not be made … Send a new request instead"."""
    async with ProviderEmulator() as providers:
        bot = await start_bot(**providers.settings_kwargs("novita"), provider_retries=0)
        providers.novita.fail("moderation")
        await emu.send_message(f"{emu.bot_mention} a storm", mentions=[emu.bot_user_id])
        refused = await emu.wait_for_message(
            lambda m: messages.NOT_CHARGED in text(m) and "policy" in text(m)
        )
        await emu.send_message("a calm sea at dawn", reply_to=refused["id"], mentions=[emu.bot_user_id])
        job = await bot.wait_job(job_id_of(await wait_result(emu)))
    assert (job.kind, job.prompt, job.parent_id, job.status) == (
        JobKind.IMAGINE,
        "a calm sea at dawn",
        None,
        JobStatus.SUCCEEDED,
    )


async def test_a_mention_replying_to_someones_image_uses_it(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    bob = emu.add_user("bob")
    photo = png(40, 40, (0, 128, 255))
    theirs = await emu.send_message("my dog", [("dog.png", photo)], author_id=bob["id"])
    hat = png(20, 20, (250, 250, 0))
    await emu.send_message(
        f"{emu.bot_mention} give the dog this hat",
        [("hat.png", hat)],
        reply_to=theirs["id"],
        mentions=[emu.bot_user_id],
        reply_ping=False,
    )
    result = await wait_result(emu)
    job = await bot.wait_job(job_id_of(result))
    assert (job.kind, job.prompt) == (JobKind.EDIT, "give the dog this hat")
    assert [i.data for i in await bot.runtime.ledger.job_inputs(job.id)] == [photo, hat]


async def test_results_past_the_image_retention_are_refused_for_free(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "a lighthouse"})
    await inter.wait_ack()
    first = await wait_result(emu)
    parent = await bot.wait_job(job_id_of(first))
    await emu.send_message("in a storm", reply_to=first["id"], channel_id=first["channel_id"])
    edited = await wait_result(emu, exclude={parent.id})
    edit = await bot.wait_job(job_id_of(edited))
    later = datetime.now(UTC) + timedelta(days=bot.runtime.settings.image_retention_days + 1)
    assert (await bot.runtime.retention.run_once(now=later))[0] == 2

    await emu.send_message("make it sunny", reply_to=first["id"], channel_id=first["channel_id"])
    answer = await emu.wait_for_message(lambda m: text(m).startswith("I no longer keep the images of"))
    assert text(answer) == messages.RESULT_EXPIRED
    press = await emu.send_component(f"seedbot:reroll:{edit.id}")
    await press.wait_ack()
    [refused] = await press.wait_followups(1)
    assert text(refused) == messages.REFERENCES_EXPIRED and refused["flags"] & 64  # only to them
    assert (await bot.usage()).day_used == 2  # the two jobs before; the refusals were free


async def test_a_reply_to_an_image_still_being_made_edits_it_once_ready(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    async with ProviderEmulator() as providers:
        providers.novita.latency = 1.0
        bot = await start_bot(**providers.settings_kwargs("novita"))
        mention = await emu.send_message(f"{emu.bot_mention} a castle on a hill", mentions=[emu.bot_user_id])
        status = await emu.wait_for_message(
            lambda m: (m.get("message_reference") or {}).get("message_id") == mention["id"]
        )
        assert not [m for m in emu.messages.values() if buttons(m)]  # nothing made yet
        reply = await emu.send_message(
            "now in winter", reply_to=status["id"], channel_id=status["channel_id"]
        )
        waiting = await emu.wait_for_message(
            lambda m: (m.get("message_reference") or {}).get("message_id") == reply["id"]
        )
        assert text(waiting) == messages.WAITING_FOR_PARENT  # told at once, before the wait
        first = await wait_result(emu)
        parent = await bot.wait_job(job_id_of(first))
        edited = await wait_result(emu, exclude={parent.id}, timeout=15)
    job = await bot.wait_job(job_id_of(edited))
    assert (job.kind, job.parent_id, job.prompt) == (JobKind.EDIT, parent.id, "now in winter")
    outputs = await bot.runtime.ledger.job_outputs(parent.id)
    assert [i.data for i in await bot.runtime.ledger.job_inputs(job.id)] == [outputs[0].data]
    assert (await bot.usage()).day_used == 2


async def test_a_reply_before_the_job_is_recorded_still_waits_for_it(
    emu: DiscordEmulator, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status message is posted before the job row exists: a reply to it in that moment
    is an edit of the job about to be recorded, not "not a result" (a race seen under load)."""
    bot = await start_bot()
    ledger = bot.runtime.ledger
    create_job = ledger.create_job
    recorded = asyncio.Event()

    async def slow_create_job(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.5)  # the reply arrives in this window
        await create_job(*args, **kwargs)
        recorded.set()

    monkeypatch.setattr(ledger, "create_job", slow_create_job)
    mention = await emu.send_message(f"{emu.bot_mention} a castle on a hill", mentions=[emu.bot_user_id])
    status = await emu.wait_for_message(
        lambda m: (m.get("message_reference") or {}).get("message_id") == mention["id"]
    )
    assert not recorded.is_set()
    reply = await emu.send_message("now in winter", reply_to=status["id"], channel_id=status["channel_id"])
    answer = await emu.wait_for_message(
        lambda m: (m.get("message_reference") or {}).get("message_id") == reply["id"]
    )
    assert messages.NOT_A_RESULT not in text(answer)
    first = await wait_result(emu)
    edited = await wait_result(emu, exclude={job_id_of(first)}, timeout=15)
    job = await bot.wait_job(job_id_of(edited))
    assert job.parent_id == job_id_of(first)


async def test_a_reply_to_what_should_i_do_with_the_image_edits_that_image(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """An image sent alone is asked what to do with it; the natural answer is a reply to that
    question, which said "not a seedbot result I can edit" (the question is no result)."""
    bot = await start_bot()
    photo = png(64, 48, (10, 120, 240))
    asked = await emu.send_message(emu.bot_mention, [("cat.png", photo)], mentions=[emu.bot_user_id])
    notice = await emu.wait_for_message(lambda m: messages.IMAGE_NEEDS_WORDS in text(m), timeout=10)
    assert (notice.get("message_reference") or {}).get("message_id") == asked["id"]
    await emu.send_message(
        "make it a watercolor",
        reply_to=notice["id"],
        channel_id=notice["channel_id"],
        mentions=[emu.bot_user_id],
    )
    job = await bot.wait_job(job_id_of(await wait_result(emu)))
    assert (job.kind, job.prompt, job.parent_id) == (JobKind.EDIT, "make it a watercolor", None)
    assert [i.data for i in await bot.runtime.ledger.job_inputs(job.id)] == [photo]
    # Someone else's reply to it does not take another person's image.
    other = emu.add_user("bob")["id"]
    await emu.send_message(
        "make it a poster",
        reply_to=notice["id"],
        channel_id=notice["channel_id"],
        author_id=other,
        mentions=[emu.bot_user_id],
    )
    await emu.wait_for_message(lambda m: messages.NOT_A_RESULT in text(m), timeout=10)
    assert len(await bot.jobs()) == 1


async def test_a_message_in_seedbots_thread_edits_its_latest_result(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """The bot pings you into its thread; what you then typed there ("make it blue", no reply,
    no mention) was ignored, where a Slack thread edits its latest result."""
    bot = await start_bot()
    inter = await emu.send_slash_command("imagine", {"prompt": "a paper boat", "count": 2})
    await inter.wait_ack()
    first = await wait_result(emu)
    thread = thread_of(emu, first)
    parent = await bot.wait_job(job_id_of(first))
    await emu.send_message("make it blue #2", channel_id=thread["id"])
    edited = await wait_result(emu, exclude={parent.id})
    job = await bot.wait_job(job_id_of(edited))
    assert (job.kind, job.parent_id, job.prompt) == (JobKind.EDIT, parent.id, "make it blue")
    outputs = await bot.runtime.ledger.job_outputs(parent.id)
    assert [i.data for i in await bot.runtime.ledger.job_inputs(job.id)] == [outputs[1].data]
    # The newest result is the one edited next; talk that names someone else is left alone.
    bob = emu.add_user("bob")["id"]
    await emu.send_message(f"<@{bob}> look at this", channel_id=thread["id"], mentions=[bob])
    await emu.send_message("@here which one do you like?", channel_id=thread["id"])  # as on Slack
    await emu.send_message("now at night", channel_id=thread["id"])
    again = await wait_result(emu, exclude={parent.id, job.id})
    assert (await bot.wait_job(job_id_of(again))).parent_id == job.id
    assert len(await bot.jobs()) == 3


@pytest.mark.parametrize("said", ["a castle on a hill", "help"])
async def test_a_mention_deleted_before_the_answer_is_still_answered(
    emu: DiscordEmulator, start_bot: StartBot, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Its author or a moderation bot deleted it a moment before the answer: the reply to it was
    refused ("Unknown message"), a traceback was logged twice, and nothing was said."""
    await start_bot()
    create = emu._r_create_message

    async def deleted_first(req: Any) -> Any:
        ref = ((req.body or {}).get("message_reference") or {}).get("message_id")
        if ref and str(ref) in emu.messages and emu.messages[str(ref)]["author"]["id"] != emu.bot_user_id:
            await emu._delete_message(str(ref))
        return await create(req)

    emu._routes = [(m, rx, t, a, deleted_first if h == create else h) for (m, rx, t, a, h) in emu._routes]
    await emu.send_message(f"{emu.bot_mention} {said}", mentions=[emu.bot_user_id])
    posted: list[dict[str, Any]] = []
    for _ in range(100):
        posted = [m for m in emu.messages.values() if m["author"]["id"] == emu.bot_user_id and text(m)]
        if len(posted) >= (2 if said != "help" else 1):
            break
        await asyncio.sleep(0.05)
    assert posted, "nothing was said"
    assert not [r for r in caplog.records if r.exc_info], [
        r.getMessage() for r in caplog.records if r.exc_info
    ]


@pytest.mark.parametrize("status", [503, 429])
async def test_a_mention_whose_status_message_discord_failed_to_post_still_gets_its_result(
    emu: DiscordEmulator, start_bot: StartBot, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The "Starting…" reply met a 503 (discord.py retries none on that route) or a 429 past
    discord.py's own retries: the request was dropped ("something went wrong", an ERROR with a
    traceback). The status message only shows progress: the result comes without it."""
    bot = await start_bot()
    # A 429 without Via is Cloudflare's: discord.py raises it instead of waiting.
    emu.fail_next("POST", rf"^/channels/{TEXT_CHANNEL_ID}/messages$", status, headers={}, times=1)
    mention = await emu.send_message(f"{emu.bot_mention} a red fox", mentions=[emu.bot_user_id])
    result = await wait_result(emu, channel_id=TEXT_CHANNEL_ID)
    assert result["message_reference"]["message_id"] == mention["id"]  # a reply, as the status was
    job = await bot.wait_job(job_id_of(result))
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 1)
    assert (await bot.usage()).day_used == 1
    said = [text(m) for m in emu.messages.values() if m["author"]["id"] == emu.bot_user_id]
    assert not [t for t in said if "went wrong" in t], said
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert [r for r in caplog.records if "status message" in r.getMessage()]
