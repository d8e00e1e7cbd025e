"""The same scenarios on every surface: what the conversation decides is decided once.

Each test runs once per surface (parametrized), through the real discord.py / slack-bolt
stacks against their emulators, on one bot process serving both, or the playground's HTTP API.
The restart scenarios stop that bot as SIGTERM would, with a job at the provider, and start
another on the same database: the job is delivered through the surface by the restarted bot,
or refunded when it cannot be resumed.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from bot import messages
from bot.conversation import conversation as conversation_module
from bot.conversation.surface import RESULT_ACTIONS
from bot.request.flags import ParsedText
from bot.request.models import JobKind, JobStatus, Requester
from tests.conversation.surfaces import (
    CHATS,
    SURFACES,
    Core,
    DiscordDriver,
    Driver,
    SlackDriver,
    WebDriver,
    open_surface,
)
from tests.reliability.conftest import Stack
from tests.web.conftest import OpenPlayground, png


async def _on(
    name: str, stack: Stack, open_playground: OpenPlayground, **settings: Any
) -> tuple[Driver, Core]:
    values: dict[str, Any] = {"providers": ["demo"], "daily_images": 6} | settings
    return await open_surface(name, stack, open_playground, values)


@pytest.fixture(params=SURFACES)
async def surface(
    request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground
) -> tuple[Driver, Core]:
    return await _on(request.param, stack, open_playground)


@pytest.fixture(params=CHATS)
async def chat(
    request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground
) -> tuple[Driver, Core]:
    return await _on(request.param, stack, open_playground)


@pytest.fixture(params=SURFACES)
async def streamed(
    request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground
) -> tuple[Driver, Core]:
    """A surface whose provider streams (the Ark emulator, "stream": true), image 2 refused."""
    stack.providers.ark_host.refused = {1}
    stack.providers.ark_host.event_gap = 0.2
    ark = {
        "providers": ["ark"],
        "ark_api_key": stack.providers.ark.api_key,
        "ark_base_url": stack.providers.base_url("ark"),
        "allow_private_network": True,
    }
    return await _on(request.param, stack, open_playground, **ark)


async def test_a_streamed_batch_charges_each_image_that_was_made(streamed: tuple[Driver, Core]) -> None:
    driver, bot = streamed
    answer = await driver.ask("three views of a harbour --n 3 --model 4.5")
    assert answer.result is not None, answer.text
    [job] = await bot.wait_closed(driver.key(0), 1)
    assert (job.status, job.images_requested, job.images_delivered) == (JobStatus.SUCCEEDED, 3, 2)
    assert (await bot.usage(driver.key(0))).day_used == 2  # the refused image was not charged


async def test_help_typed_as_a_word_or_as_a_flag_is_the_help(surface: tuple[Driver, Core]) -> None:
    """`--help` alone was refused as an unknown option; a command-line habit, it means help."""
    driver, bot = surface
    said = (await driver.ask("help")).text
    assert "--ar W:H" in said
    assert said.endswith(messages.HELP_REPLIES)  # what a reply may say, the same on every surface
    # What people first type to a bot they have just met was drawn, and charged.
    # ... and a greeting, or a question about the bot ("hi" was an image of "hi", charged).
    for text in (
        "--help",
        "-h",
        "Help me!",
        "what can you do?",
        "Hilfe",
        "hi",
        "Hello seedbot!",
        "models",
        "test",
        "can you draw?",
    ):
        assert (await driver.ask(text)).text == said, text
    assert await bot.jobs(driver.key(0)) == []
    drawn = await driver.ask("help me find a cat")  # a prompt that starts with the word
    assert drawn.result is not None, drawn.text


async def test_thanks_praise_and_a_miss_are_answered_and_make_nothing(surface: tuple[Driver, Core]) -> None:
    """'thanks!' or 'love it 😍' replied to a result (or said in its thread) became an edit with
    the words as its prompt, charged; said to the bot, an image of them."""
    driver, bot = surface
    made = await driver.ask("a paper lantern")
    assert made.result is not None, made.text
    await bot.wait_closed(driver.key(0), 1)
    for text in ("thanks!", "love it 😍", "👍"):
        said = await driver.reply(made.result, text)
        assert said.result is None and said.text == messages.SMALL_TALK, (text, said.text)
    # ... and so were 'no', "that's not what I asked", 👎: told what would help instead.
    for text in ("no", "that's not what I asked", "👎"):
        said = await driver.reply(made.result, text)
        assert said.result is None and said.text == messages.MISSED, (text, said.text)
    assert (await driver.ask("Thank you so much!")).text == messages.SMALL_TALK
    assert len(await bot.jobs(driver.key(0))) == 1
    edited = await driver.reply(made.result, "nice, now make it blue")
    assert edited.result is not None, edited.text
    job = await bot.runtime.ledger.get_job(edited.result.job_id)
    assert job is not None and job.prompt == "make it blue"  # the talk before it is not sent


async def test_options_replied_alone_remake_the_result_with_them(surface: tuple[Driver, Core]) -> None:
    """'--ar 16:9' replied to a square result was refused for want of a prompt."""
    driver, bot = surface
    made = await driver.ask("a paper lantern")
    assert made.result is not None, made.text
    await bot.wait_closed(driver.key(0), 1)
    wide = await driver.reply(made.result, "--ar 16:9")
    assert wide.result is not None, wide.text
    job = await bot.runtime.ledger.get_job(wide.result.job_id)
    assert job is not None and job.kind == JobKind.EDIT and job.parent_id == made.result.job_id
    assert (job.prompt, job.request["size"]) == ("a paper lantern", "2848x1600")
    await bot.wait_closed(driver.key(0), 2)
    # The shape said in words is the same option ("make it 16:9" was an edit of the words, square).
    tall = await driver.reply(made.result, "make it 9:16 please")
    assert tall.result is not None, tall.text
    job = await bot.runtime.ledger.get_job(tall.result.job_id)
    assert job is not None and (job.prompt, job.request["size"]) == ("a paper lantern", "1600x2848")
    await bot.wait_closed(driver.key(0), 3)
    # A pick and nothing to change: asked what should change (a bare "1" is the same pick).
    for text in ("#1", "1"):
        said = (await driver.reply(wide.result, text)).text
        assert said == messages.with_charge_note(messages.pick_needs_words(1)), said


async def test_an_option_said_in_words_remakes_the_result_with_it(surface: tuple[Driver, Core]) -> None:
    """'make it portrait', 'again in 16:9', 'try with Seedream 4.5' replied to a result were
    edits whose prompt was those words (charged, and still square on the old model)."""
    driver, bot = surface
    made = await driver.ask("a paper lantern")
    assert made.result is not None, made.text
    await bot.wait_closed(driver.key(0), 1)
    for n, (text, field, value) in enumerate(
        [
            ("make it portrait", "size", "1728x2304"),
            ("again in 16:9", "size", "2848x1600"),
            ("for a phone wallpaper", "size", "1600x2848"),
            ("in 3k", "tier", "3K"),
            ("try with Seedream 4.5", "model", "4.5"),  # (the latest is now 4.5's: no 3K)
        ],
        start=2,
    ):
        remade = await driver.reply(made.result, text)
        assert remade.result is not None, (text, remade.text)
        job = await bot.runtime.ledger.get_job(remade.result.job_id)
        assert job is not None and job.parent_id is not None  # a remake (of the thread's latest)
        assert (job.prompt, job.request[field]) == ("a paper lantern", value), text
        await bot.wait_closed(driver.key(0), n)


async def test_commands_questions_and_keeping_words_replied_to_a_result_make_nothing(
    surface: tuple[Driver, Core],
) -> None:
    """'what styles are there?', '/usage', 'what model is this?', 'delete all' and 'download'
    replied to a result (or said in its thread) were edits whose prompt was those words, charged."""
    driver, bot = surface
    made = await driver.ask("a paper lantern --n 2 --watermark")
    assert made.result is not None, made.text
    await bot.wait_closed(driver.key(0), 1)
    for text in ("what styles are there?", "styles list"):
        listed = await driver.reply(made.result, text)
        assert listed.result is None and "watercolor" in listed.text, (text, listed.text)
    for text in ("/usage", "!usage"):
        usage = await driver.reply(made.result, text)
        assert usage.result is None and "Images left today" in usage.text, (text, usage.text)
    info = await driver.reply(made.result, "how much did this cost?")
    assert f"Job {made.result.job_id}" in info.text and "Seedream 5.0 lite" in info.text, info.text
    for text in ("download", "send me the original"):
        assert (await driver.reply(made.result, text)).text == messages.SAVE_HOW, text
    clear = await driver.reply(made.result, "transparent background please")
    assert clear.text == messages.NO_TRANSPARENCY, clear.text
    assert (await driver.reply(made.result, "why is it blurry?")).text == messages.MISSED
    assert (await driver.reply(made.result, "can I use this commercially?")).text == messages.RIGHTS
    cast = await driver.reply(made.result, "my cast")
    assert cast.result is None and cast.text.startswith("Your cast is empty"), cast.text
    webp = await driver.reply(made.result, "as webp")
    assert webp.result is None and "use png or jpeg" in webp.text, webp.text
    assert len(await bot.jobs(driver.key(0))) == 1
    # "no watermark": the batch again without it, as --no-watermark replied would.
    plain = await driver.reply(made.result, "no watermark")
    assert plain.result is not None, plain.text
    job = await bot.runtime.ledger.get_job(plain.result.job_id)
    assert job is not None and job.kind == JobKind.REROLL and job.request["watermark"] is False
    assert job.prompt == "a paper lantern" and job.images_requested == 2
    await bot.wait_closed(driver.key(0), 2)
    gone = await driver.reply(plain.result, "delete all")
    assert gone.text == messages.DELETED, gone.text


async def test_a_buttons_name_in_the_persons_language_replied_is_that_button(
    surface: tuple[Driver, Core],
) -> None:
    """'Neu generieren', '情報', 'Löschen' (the buttons as a German or Japanese user sees them)
    replied to a result were edits whose prompt was the label, charged."""
    driver, bot = surface
    made = await driver.ask("a paper lantern")
    assert made.result is not None, made.text
    await bot.wait_closed(driver.key(0), 1)
    info = await driver.reply(made.result, "情報")
    assert f"Job {made.result.job_id}" in info.text, info.text
    edit = await driver.reply(made.result, "Bearbeiten")
    assert edit.text == messages.with_charge_note(messages.EDIT_HOW), edit.text
    again = await driver.reply(made.result, "Neu generieren")
    assert again.result is not None, again.text
    job = await bot.runtime.ledger.get_job(again.result.job_id)
    assert job is not None and job.kind == JobKind.REROLL and job.prompt == "a paper lantern"
    await bot.wait_closed(driver.key(0), 2)
    assert (await driver.reply(again.result, "Löschen")).text == messages.DELETED


async def test_surprise_me_draws_one_of_seedbots_prompts_with_the_flags_typed(
    surface: tuple[Driver, Core],
) -> None:
    """'surprise me' was drawn as those words."""
    driver, bot = surface
    made = await driver.ask("surprise me --ar 16:9")
    assert made.result is not None, made.text
    job = await bot.runtime.ledger.get_job(made.result.job_id)
    assert job is not None and job.prompt in messages.SURPRISES and job.request["size"] == "2848x1600"
    assert job.prompt in made.text  # the caption says what was drawn
    await bot.wait_closed(driver.key(0), 1)
    # Replied to a result, it is a new surprise too (it was an edit of "surprise me").
    again = await driver.reply(made.result, "surprise me")
    assert again.result is not None, again.text
    job = await bot.runtime.ledger.get_job(again.result.job_id)
    assert job is not None and job.prompt in messages.SURPRISES and job.parent_id is None
    await bot.wait_closed(driver.key(0), 2)
    party = await driver.ask("a surprise party")
    assert party.result is not None, party.text
    job = await bot.runtime.ledger.get_job(party.result.job_id)
    assert job is not None and job.prompt == "a surprise party"


async def test_the_helps_example_copied_with_its_code_marks_is_drawn(surface: tuple[Driver, Core]) -> None:
    """`a red fox in snow --ar 3:2 --n 2` with the help's code marks was refused: "'2`' doesn't
    work for --n"."""
    driver, bot = surface
    made = await driver.ask("`a red fox in snow --ar 3:2 --n 2`")
    assert made.result is not None and made.result.images == 2, made.text
    job = await bot.runtime.ledger.get_job(made.result.job_id)
    assert job is not None and (job.prompt, job.request["size"]) == ("a red fox in snow", "2496x1664")


async def test_a_video_or_a_description_asked_for_is_told_what_seedbot_does_and_costs_nothing(
    surface: tuple[Driver, Core],
) -> None:
    """'animate it' replied to a result, 'make a video of a cat' said, or 'animate this' with a
    photo were stills of those words, charged."""
    driver, bot = surface
    made = await driver.ask("a paper lantern")
    assert made.result is not None, made.text
    await bot.wait_closed(driver.key(0), 1)
    said = [
        await driver.reply(made.result, "animate it"),
        await driver.ask("make a video of a cat running"),
        await driver.ask("animate this", files=[("cat.png", png(64, 48))]),
    ]
    assert [(a.result, a.text) for a in said] == [(None, messages.NO_VIDEO)] * 3
    # Midjourney's /describe, or a question about the picture: Seedream draws, it can't tell.
    said = [
        await driver.reply(made.result, "describe it"),
        await driver.ask("what's in this picture?", files=[("cat.png", png(64, 48))]),
        await driver.ask("/describe"),  # and with no picture at all (it drew "/describe")
    ]
    assert [(a.result, a.text) for a in said] == [(None, messages.NO_DESCRIBE)] * 3
    assert len(await bot.jobs(driver.key(0))) == 1


@pytest.mark.parametrize("name", SURFACES)
async def test_variations_of_one_image_and_how_many_like_this(
    name: str, stack: Stack, open_playground: OpenPlayground
) -> None:
    """Midjourney's 'V2' was an edit whose prompt was 'V2'; '2 more like this' made the
    Variations button's four."""
    driver, bot = await _on(name, stack, open_playground, daily_images=40)
    first = await driver.ask("a red fox in snow --n 2")
    assert first.result is not None and first.result.images == 2
    await bot.wait_closed(driver.key(0), 1)
    ledger = bot.runtime.ledger
    varied = await driver.reply(first.result, "V2")
    assert varied.result is not None, varied.text
    job = await ledger.get_job(varied.result.job_id)
    assert job is not None and (job.kind, job.prompt, job.images_requested) == (
        JobKind.EDIT,
        messages.VARIATIONS_PROMPT,
        4,
    )
    outputs = await ledger.job_outputs(first.result.job_id)
    assert [i.data for i in await ledger.job_inputs(job.id)] == [outputs[1].data]  # image 2, only it
    await bot.wait_closed(driver.key(0), 2)
    like = await driver.reply(first.result, "2 more like this")
    assert like.result is not None, like.text
    job = await ledger.get_job(like.result.job_id)
    assert job is not None and (job.kind, job.images_requested) == (JobKind.VARIATIONS, 2)
    await bot.wait_closed(driver.key(0), 3)
    which = await driver.reply(first.result, "upscale all")
    assert which.result is None and which.text.startswith(messages.upscale_which(2)), which.text
    # A button's word sent as code, as the help shows it, is the button.
    again = await driver.reply(first.result, "`again`")
    assert again.result is not None, again.text
    job = await ledger.get_job(again.result.job_id)
    assert job is not None and job.kind == JobKind.REROLL
    # "The second one" points at image 2 as "#2" does.
    second = await driver.reply(first.result, "upscale the second one")
    assert second.result is not None, second.text
    job = await ledger.get_job(second.result.job_id)
    # (of the thread's latest result on Slack and the playground: a batch of 2 as well)
    assert job is not None and (job.kind, job.request["pick"]) == (JobKind.UPSCALE, 2)


async def test_an_option_replied_to_a_batch_makes_the_batch_again_with_it(
    surface: tuple[Driver, Core],
) -> None:
    """'16:9' replied to a batch of 2 was one edit of both images: one picture of the two merged."""
    driver, bot = surface
    first = await driver.ask("a red fox in snow --n 2")
    assert first.result is not None and first.result.images == 2, first.text
    await bot.wait_closed(driver.key(0), 1)
    wide = await driver.reply(first.result, "16:9")
    assert wide.result is not None and wide.result.images == 2, wide.text
    job = await bot.runtime.ledger.get_job(wide.result.job_id)
    assert job is not None and (job.kind, job.prompt, job.images_requested) == (
        JobKind.REROLL,
        "a red fox in snow",
        2,
    )
    assert job.request["size"] == "2848x1600" and job.parent_id == first.result.job_id


async def test_a_request_then_a_reply_edits_the_picked_image(surface: tuple[Driver, Core]) -> None:
    driver, bot = surface
    first = await driver.ask("a red fox in snow --n 2")
    assert first.result is not None and first.result.images == 2
    await bot.wait_closed(driver.key(0), 1)
    edited = await driver.reply(first.result, "make it night #2")
    assert edited.result is not None, edited.text
    ledger = bot.runtime.ledger
    job = await ledger.get_job(edited.result.job_id)
    assert job is not None and (job.kind, job.parent_id) == (JobKind.EDIT, first.result.job_id)
    outputs = await ledger.job_outputs(first.result.job_id)
    assert [i.data for i in await ledger.job_inputs(job.id)] == [outputs[1].data]  # #2, only it
    await bot.wait_closed(driver.key(0), 2)
    assert (await bot.usage(driver.key(0))).day_used == 3


async def test_a_pick_past_the_batch_says_which_images_there_are(surface: tuple[Driver, Core]) -> None:
    """`#5` on a batch of 2 said "'5' doesn't work for #5: pick 1 to 2"; it names the batch."""
    driver, bot = surface
    first = await driver.ask("a red fox in snow --n 2")
    assert first.result is not None
    await bot.wait_closed(driver.key(0), 1)
    refused = await driver.reply(first.result, "make it night #5")
    assert refused.result is None
    assert refused.text.startswith(messages.no_such_image(5, 2)), refused.text
    assert "#1 to #2" in refused.text and messages.NOT_CHARGED in refused.text
    assert len(await bot.jobs(driver.key(0))) == 1
    assert (await bot.usage(driver.key(0))).day_used == 2


async def test_a_request_for_four_images_makes_four(surface: tuple[Driver, Core]) -> None:
    """'4 images of a cat' made one image of the words."""
    driver, bot = surface
    made = await driver.ask("4 images of a cat")
    assert made.result is not None and made.result.images == 4, made.text
    job = await bot.runtime.ledger.get_job(made.result.job_id)
    assert job is not None and (job.prompt, job.images_requested) == ("a cat", 4)


async def test_a_midjourney_prompt_is_answered_with_what_to_send_and_costs_nothing(
    surface: tuple[Driver, Core],
) -> None:
    """A prompt copied from Midjourney ("--v 6.1 --style raw --s 250") was refused at its first
    setting ("--v"), then at "--style raw" (no such preset), then at "--s": three tries. One
    answer names them all, with the message to send instead; sent, it is drawn."""
    driver, bot = surface
    refused = await driver.ask("a cat in a spacesuit --ar 16:9 --v 6.1 --style raw --s 250")
    assert refused.result is None
    send = "a cat in a spacesuit --ar 16:9"
    assert refused.text.startswith(messages.other_models_settings(["--v", "--style raw", "--s"], send))
    assert messages.NOT_CHARGED in refused.text
    assert await bot.jobs(driver.key(0)) == []
    made = await driver.ask(send)
    assert made.result is not None, made.text


async def test_stable_diffusion_generation_data_is_answered_with_what_to_send_and_costs_nothing(
    surface: tuple[Driver, Core],
) -> None:
    """A prompt copied from Civitai with its generation data ("Negative prompt: …", "Steps: …,
    Size: 832x1216") was drawn with all of it as the prompt. The answer names the settings and
    sends the prompt alone, its size as a shape."""
    driver, bot = surface
    pasted = (
        "a lighthouse at dusk, <lora:film_grain:0.7>, volumetric light\n"
        "Negative prompt: lowres, bad anatomy, watermark\n"
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 832x1216, Model: juggernautXL"
    )
    refused = await driver.ask(pasted)
    assert refused.result is None
    send = "a lighthouse at dusk, volumetric light --ar 2:3"
    named = ["Negative prompt", "Steps", "Sampler", "CFG scale", "Seed", "<lora:film_grain:0.7>"]
    assert refused.text.startswith(messages.other_models_settings(named, send, negative=True))
    assert await bot.jobs(driver.key(0)) == []
    made = await driver.ask(send)
    assert made.result is not None, made.text


async def test_an_image_sent_without_words_is_asked_what_to_do_and_costs_nothing(
    surface: tuple[Driver, Core],
) -> None:
    """An image alone (or with options only) was told "describe the image you want"."""
    driver, bot = surface
    for text in ("", "--ar 16:9"):
        said = (await driver.ask(text, files=[("cat.png", png(64, 48))])).text
        assert said == messages.with_charge_note(messages.IMAGE_NEEDS_WORDS), said
    assert await bot.jobs(driver.key(0)) == []


async def test_a_new_request_keeps_a_hash_number_in_its_prompt(surface: tuple[Driver, Core]) -> None:
    """#1 picks an image only in a reply that edits a result; a new request has none to pick
    from, and "a trophy that says #1" was drawn as "a trophy that says"."""
    driver, bot = surface
    answer = await driver.ask("a gold trophy that says #1 --n 2")
    assert answer.result is not None, answer.text
    job = await bot.runtime.ledger.get_job(answer.result.job_id)
    assert job is not None and (job.prompt, job.images_requested) == ("a gold trophy that says #1", 2)


async def test_a_result_offers_the_same_buttons_in_the_same_order(surface: tuple[Driver, Core]) -> None:
    driver, _ = surface
    answer = await driver.ask("a paper boat")
    assert answer.result is not None, answer.text
    row = [a for a in RESULT_ACTIONS if a != "upscale"]
    assert answer.result.buttons == tuple((a, messages.action_label(a)) for a in row)
    assert row[-1] == "delete"  # the one that destroys comes last


async def test_edit_asks_below_the_results_prompt_and_edits_that_result(
    surface: tuple[Driver, Core],
) -> None:
    driver, bot = surface
    first = await driver.ask("a quiet harbour --ar 16:9")
    assert first.result is not None
    edited = await driver.edit(first.result, "at night")
    assert edited.form == "a quiet harbour"  # the prompt, without the flags typed with it
    assert edited.result is not None, edited.text
    job = await bot.runtime.ledger.get_job(edited.result.job_id)
    assert job is not None and (job.kind, job.parent_id, job.prompt) == (
        JobKind.EDIT,
        first.result.job_id,
        "at night",
    )


async def test_someone_else_may_reroll_and_pays_for_it(chat: tuple[Driver, Core]) -> None:
    driver, bot = chat
    first = await driver.ask("a quiet harbour")
    assert first.result is not None
    await bot.wait_closed(driver.key(0), 1)
    again = await driver.press(first.result, "reroll", person=1)
    assert again.result is not None, again.text
    job = await bot.runtime.ledger.get_job(again.result.job_id)
    assert job is not None and job.user_key == driver.key(1) and job.parent_id == first.result.job_id
    await bot.wait_closed(driver.key(1), 1)
    assert (await bot.usage(driver.key(0))).day_used == 1
    assert (await bot.usage(driver.key(1))).day_used == 1


async def test_owner_only_buttons_refuse_others_for_free(chat: tuple[Driver, Core]) -> None:
    driver, bot = chat
    first = await driver.ask("a lighthouse")
    assert first.result is not None
    await bot.runtime.ledger.set_workspace_settings(driver.workspace, {"buttons": "owner"})
    refused = await driver.press(first.result, "variations", person=1)
    assert refused.result is None and refused.text.startswith(messages.NOT_OWNER)
    assert (await bot.usage(driver.key(1))).day_used == 0
    # Edit is refused when pressed, before anything is typed into its form.
    refused = await driver.edit(first.result, "at night", person=1)
    assert refused.form is None and refused.text == messages.NOT_OWNER
    # A reply that edits the result is building on it too: the same rule.
    refused = await driver.reply(first.result, "at night", person=1)
    assert refused.result is None and refused.text.startswith(messages.NOT_OWNER), refused.text
    assert (await bot.usage(driver.key(1))).day_used == 0
    owned = await driver.reply(first.result, "at dawn")  # the person who made it may
    assert owned.result is not None, owned.text


async def test_a_stranger_may_not_delete(chat: tuple[Driver, Core]) -> None:
    driver, bot = chat
    first = await driver.ask("a paper boat")
    assert first.result is not None
    refused = await driver.press(first.result, "delete", person=1)
    assert refused.text == messages.NOT_OWNER
    [job] = await bot.wait_closed(driver.key(0), 1)
    assert job.images_delivered == 1


async def test_the_owner_deletes_a_result(surface: tuple[Driver, Core]) -> None:
    driver, bot = surface
    first = await driver.ask("a paper boat")
    assert first.result is not None
    await bot.wait_closed(driver.key(0), 1)
    deleted = await driver.press(first.result, "delete", person=0)
    assert deleted.text == messages.DELETED


async def test_after_a_delete_the_thread_goes_on_from_the_result_still_there(
    surface: tuple[Driver, Core],
) -> None:
    """A Slack or playground thread's next message edited the result just deleted (sent to the
    model again and posted again); Discord's went on from the one still shown."""
    driver, bot = surface
    first = await driver.ask("a paper boat")
    assert first.result is not None
    await bot.wait_closed(driver.key(0), 1)
    blue = await driver.reply(first.result, "make it blue")
    assert blue.result is not None
    await bot.wait_closed(driver.key(0), 2)
    assert (await driver.press(blue.result, "delete", person=0)).text == messages.DELETED
    night = await driver.reply(first.result, "now at night")
    assert night.result is not None
    jobs = {job.id: job for job in await bot.wait_closed(driver.key(0), 3)}
    assert jobs[night.result.job_id].parent_id == first.result.job_id
    assert jobs[blue.result.job_id].deleted_at is not None


async def test_usage_shows_the_workspace_pool(surface: tuple[Driver, Core]) -> None:
    driver, bot = surface
    await bot.runtime.ledger.set_workspace_settings(driver.workspace, {"pool": 50})
    first = await driver.ask("a kite")
    assert first.result is not None
    await bot.wait_closed(driver.key(0), 1)
    text = await driver.usage()
    assert "5 of 6" in text or "5 left" in text, text
    assert messages.pool_left(1, 50, datetime.now(UTC)).split(":")[0] in text and "49 of 50" in text, text


async def test_a_buttons_name_replied_to_a_result_presses_it(chat: tuple[Driver, Core]) -> None:
    """`reroll`, `variations`, `info` or `delete` replied to a result was drawn as an image of
    the word, and charged; it is that button, under the button's rules."""
    driver, bot = chat
    first = await driver.ask("a paper crane")
    assert first.result is not None
    await bot.wait_closed(driver.key(0), 1)
    info = await driver.reply(first.result, "info", person=1)
    assert info.result is None and first.result.job_id in info.text and "a paper crane" in info.text, (
        info.text
    )
    asked = await driver.reply(first.result, "what prompt did you use?", person=1)
    assert asked.text == info.text, asked.text
    refused = await driver.reply(first.result, "delete", person=1)  # Delete is the owner's
    assert refused.result is None and refused.text == messages.NOT_OWNER, refused.text  # as pressed
    again = await driver.reply(first.result, "Reroll", person=1)  # anyone may, from their own quota
    assert again.result is not None, again.text
    job = await bot.runtime.ledger.get_job(again.result.job_id)
    assert job is not None and (job.kind, job.parent_id, job.prompt) == (
        JobKind.REROLL,
        first.result.job_id,
        "a paper crane",
    )
    await bot.wait_closed(driver.key(1), 1)
    # What people say for it: "again" is Re-roll ("again" was drawn as an edit).
    more = await driver.reply(first.result, "try again please")
    assert more.result is not None, more.text
    job = await bot.runtime.ledger.get_job(more.result.job_id)
    assert job is not None and (job.kind, job.prompt) == (JobKind.REROLL, "a paper crane")
    await bot.wait_closed(driver.key(0), 2)
    three = await driver.reply(first.result, "3 more")  # Re-roll, three images
    assert three.result is not None and three.result.images == 3, three.text
    await bot.wait_closed(driver.key(0), 3)
    second = await driver.ask("a paper boat")
    assert second.result is not None
    await bot.wait_closed(driver.key(0), 4)
    assert (await driver.reply(second.result, "delete this")).text == messages.DELETED
    kinds = [j.kind for j in await bot.jobs(driver.key(0))]
    assert sorted(kinds) == sorted([JobKind.IMAGINE, JobKind.REROLL, JobKind.REROLL, JobKind.IMAGINE]), kinds
    assert (await bot.usage(driver.key(0))).day_used == 6


async def test_a_buttons_name_typed_alone_says_how_and_draws_nothing(surface: tuple[Driver, Core]) -> None:
    driver, bot = surface
    said = (await driver.ask("variations")).text
    assert said == messages.button_how(messages.action_label("variations"), "variations"), said
    assert messages.NOT_CHARGED not in said  # a note, not a refusal
    assert "`reroll`" in (await driver.ask("reroll")).text
    assert (await driver.ask("one more")).text == messages.button_how(
        messages.action_label("reroll"), "one more"
    )
    for pick in ("V2", "vary #2"):  # were drawn, and charged
        said = (await driver.ask(pick)).text
        assert said == messages.button_how(messages.action_label("variations"), pick), said
    assert await bot.jobs(driver.key(0)) == []


async def test_a_buttons_word_said_after_a_result_acts_on_the_persons_latest_result_here(
    surface: tuple[Driver, Core],
) -> None:
    """'again' said (not replied) right after a result, as people do in a DM, was only told to
    reply; it re-rolls their latest result in this channel. Someone with none is still told."""
    driver, bot = surface
    first = await driver.ask("a paper lantern")
    assert first.result is not None, first.text
    await bot.wait_closed(driver.key(0), 1)
    again = await driver.ask("again")
    assert again.result is not None, again.text
    job = await bot.runtime.ledger.get_job(again.result.job_id)
    assert job is not None and (job.kind, job.parent_id) == (JobKind.REROLL, first.result.job_id)
    await bot.wait_closed(driver.key(0), 2)
    info = await driver.ask("info")
    assert f"Job {again.result.job_id}" in info.text, info.text  # the latest: the re-roll
    assert (await driver.ask("delete")).text == messages.button_how(messages.action_label("delete"), "delete")
    if not isinstance(driver, WebDriver):  # (the playground has one person)
        stranger = await driver.ask("again", person=1)
        assert stranger.text == messages.button_how(messages.action_label("reroll"), "again"), stranger.text


async def test_a_request_and_a_reply_enter_the_flag_parser_once(
    surface: tuple[Driver, Core], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: the prompt moves downward and enters bot/request/flags.py once a turn (the
    checks for what else a message may be read without parsing it again)."""
    driver, bot = surface
    parsed: list[str] = []
    real = conversation_module.parse_text

    def counted(text: str, *, picks: bool = True) -> ParsedText:
        parsed.append(text)
        return real(text, picks=picks)

    monkeypatch.setattr(conversation_module, "parse_text", counted)
    made = await driver.ask("a paper lantern --ar 3:2")
    assert made.result is not None, made.text
    assert len(parsed) == 1, parsed
    await bot.wait_closed(driver.key(0), 1)
    edited = await driver.reply(made.result, "make it night")
    assert edited.result is not None, edited.text
    assert len(parsed) == 2, parsed


async def test_typed_commands_answer_and_make_nothing(surface: tuple[Driver, Core]) -> None:
    """`history`, `usage` and `admin ...` typed as a request, or as a reply to a result, are
    answered (read once, in the core) instead of becoming a prompt or an edit."""
    driver, bot = surface
    first = await driver.ask("a paper lantern")
    assert first.result is not None
    await bot.wait_closed(driver.key(0), 1)
    history = await driver.ask("history")
    assert history.result is None and "a paper lantern" in history.text, history.text
    usage = await driver.reply(first.result, "usage")
    assert usage.result is None and usage.text == await driver.usage(), usage.text
    admin = await driver.ask("admin stats")
    assert admin.result is None and admin.text == messages.NOT_ADMIN, admin.text
    # The words people use for "how much do I have left?" ask the same.
    for words in ("credits", "my balance?", "Limits", "how many images can I make today?", "`usage`"):
        asked = await driver.ask(words)
        assert asked.result is None and asked.text == await driver.usage(), (words, asked.text)
    assert (await driver.ask("my history?")).text == history.text
    assert len(await bot.jobs(driver.key(0))) == 1


async def test_a_request_over_the_quota_is_refused_and_costs_nothing(
    surface: tuple[Driver, Core],
) -> None:
    driver, bot = surface
    refused = await driver.ask("a flock of birds --n 7")
    assert refused.result is None and messages.NOT_CHARGED in refused.text, refused.text
    assert (await bot.usage(driver.key(0))).day_used == 0
    assert await bot.jobs(driver.key(0)) == []


async def test_a_workspace_default_the_model_does_not_make_never_refuses(
    surface: tuple[Driver, Core],
) -> None:
    """`admin settings resolution 4K` with the default 5.0 lite (no 4K) refused every plain
    request, for a setting nobody typed; a typed model that lacks it was refused too."""
    driver, bot = surface
    await bot.runtime.ledger.set_workspace_settings(driver.workspace, {"resolution": "4K"})
    plain = await driver.ask("a kite")
    assert plain.result is not None, plain.text
    job = await bot.runtime.ledger.get_job(plain.result.job_id)
    assert job is not None and (job.model, job.request["resolution"]) == ("5.0-lite", None)
    big = await driver.ask("a kite --model 4.5")
    assert big.result is not None, big.text
    job = await bot.runtime.ledger.get_job(big.result.job_id)
    assert job is not None and (job.model, job.request["resolution"]) == ("4.5", "4K")
    typed = await driver.ask("a kite --res 4K")  # typed, it is the person's to change
    assert typed.result is None and "add `--model 4.5`" in typed.text, typed.text


async def test_each_request_reads_the_workspace_settings_once(
    surface: tuple[Driver, Core], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workspace policy (defaults, channels, buttons, batch size, pool) is read once per request
    and handed along, whatever the request: new, reply edit, re-roll, variations. (A usage line a
    surface shows beside, as the playground's after each request, is a read of its own.)"""
    driver, bot = surface
    ledger, conversation = bot.runtime.ledger, bot.runtime.conversation
    read, usage = ledger.workspace_settings, conversation.usage
    reads: list[str] = []
    usages: list[str] = []
    # A usage line runs beside the request (the playground's, after its result): its reads are
    # its own, told apart by the task they run in, not by when they happen.
    in_usage: contextvars.ContextVar[bool] = contextvars.ContextVar("in_usage", default=False)

    async def counted(workspace: str) -> dict[str, object]:
        (usages if in_usage.get() else reads).append(workspace)
        return await read(workspace)

    async def counted_usage(who: Requester) -> str:
        token = in_usage.set(True)
        try:
            return await usage(who)
        finally:
            in_usage.reset(token)

    await ledger.set_limits(driver.key(0), daily=20, monthly=100)  # room for the four requests
    monkeypatch.setattr(ledger, "workspace_settings", counted)
    monkeypatch.setattr(conversation, "usage", counted_usage)

    def per_request() -> list[str]:
        """The reads of the request itself (the usage lines' are counted apart)."""
        assert set(reads) <= {driver.workspace}, reads
        return reads

    first = await driver.ask("a red fox --n 2")
    assert first.result is not None, first.text
    await bot.wait_closed(driver.key(0), 1)
    assert per_request() == [driver.workspace], ("new request", reads, usages)
    for done, (what, act) in enumerate(
        [
            ("reply edit", lambda r: driver.reply(r, "make it night #1")),
            ("re-roll", lambda r: driver.press(r, "reroll", person=0)),
            ("variations", lambda r: driver.press(r, "variations", person=0)),
        ],
        start=2,
    ):
        reads.clear()
        usages.clear()
        answer = await act(first.result)
        assert answer.result is not None, (what, answer.text)
        await bot.wait_closed(driver.key(0), done)
        assert per_request() == [driver.workspace], (what, reads, usages)


# -- a restart -------------------------------------------------------------------------------------


@dataclass
class Restarting:
    """A surface whose bot can be stopped (as SIGTERM would) and started again on the same
    database: `start()` is the restarted process, and the driver then talks to it."""

    driver: Driver
    core: Core
    start: Callable[[], Awaitable[Core]]
    stop: Callable[[], Awaitable[None]]


OpenRestarting = Callable[..., Awaitable[Restarting]]


@pytest.fixture(params=SURFACES)
async def restarting(
    request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground
) -> OpenRestarting:
    """restarting(provider, **settings): the surface on a bot using that provider's emulator."""
    name = request.param

    async def open_(provider: str, **overrides: Any) -> Restarting:
        values: dict[str, Any] = {"providers": [provider], "daily_images": 6, **overrides}
        if name == "web":
            values |= {
                f"{provider}_api_key": stack.secrets.provider_keys[provider],
                f"{provider}_base_url": stack.providers.base_url(provider),
                "allow_private_network": True,
                "poll_interval": 0.05,
                "provider_retries": 0,
            }
            pages = [await open_playground(**values)]
            await pages[0].open_page()
            web = WebDriver(pages[0])

            async def start_web() -> Core:
                pages.append(await open_playground(**values))
                await pages[-1].open_page()
                web.pg = pages[-1]
                return Core(pages[-1].runtime)

            return Restarting(web, Core(pages[0].runtime), start_web, lambda: pages[-1].stop())
        bots = [await stack.start_bot(**values)]
        driver: Driver = (
            DiscordDriver(stack.discord)
            if name == "discord"
            else SlackDriver(stack.slack, lambda: bots[-1].slack_url)
        )

        async def start_chat() -> Core:
            bots.append(await stack.start_bot(**values))
            return Core(bots[-1].runtime)

        return Restarting(driver, Core(bots[0].runtime), start_chat, lambda: bots[-1].stop())

    return open_


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_job_running_when_the_bot_stops_is_delivered_by_the_next_one(
    restarting: OpenRestarting, stack: Stack
) -> None:
    apiframe = stack.providers.apiframe
    apiframe.pending_polls = 1_000_000  # the task does not finish while the first bot runs
    surface = await restarting("apiframe")
    driver = surface.driver
    later = await driver.ask_later("a slow sunrise")
    await until(lambda: apiframe.polls >= 2)
    await surface.stop()

    for task in apiframe.tasks.values():
        task.pending = 0  # finished at the provider while no bot was running
    bot = await surface.start()
    answer = await later()
    assert answer.result is not None and answer.result.images == 1, answer.text
    [job] = await bot.wait_closed(driver.key(0), 1)
    assert (job.id, job.status, job.images_delivered) == (answer.result.job_id, JobStatus.SUCCEEDED, 1)
    assert len(apiframe.submits) == 1  # resumed where it was, not submitted (and paid for) again
    assert (await bot.usage(driver.key(0))).day_used == 1
    assert await bot.runtime.ledger.open_reservations() == 0


async def test_a_job_that_cannot_resume_is_refunded_and_not_run_again(
    restarting: OpenRestarting, stack: Stack
) -> None:
    novita = stack.providers.novita
    novita.latency = 1.0  # a synchronous call (no task to poll later) in flight when the bot stops
    surface = await restarting("novita")
    driver = surface.driver
    await driver.ask_later("an interrupted picture")
    await until(lambda: novita.submissions >= 1)
    await surface.stop()

    novita.latency = 0.0
    bot = await surface.start()
    [job] = await bot.wait_closed(driver.key(0), 1)
    assert (job.status, job.images_delivered) == (JobStatus.FAILED, 0)
    assert (await bot.usage(driver.key(0))).day_used == 0  # refunded
    assert await bot.runtime.ledger.open_reservations() == 0
    assert await bot.runtime.ledger.unfinished_jobs() == []
    assert novita.submissions == 1  # the restarted bot does not run (and charge) it again
    again = await driver.ask("a finished picture")  # and serves the next request
    assert again.result is not None, again.text


async def test_style_commands_without_admin_are_the_admin_command(chat: tuple[Driver, Core]) -> None:
    """'style add noir …' (the help's `admin style add` without its first word) was drawn."""
    driver, bot = chat
    for text in ("style add noir black and white film", "style remove"):
        refused = await driver.ask(text, person=1)
        assert refused.result is None and refused.text == messages.NOT_ADMIN, refused.text
    assert await bot.jobs(driver.key(1)) == []


async def test_undo_points_to_the_image_an_edit_was_made_from(surface: tuple[Driver, Core]) -> None:
    """'undo' replied to an edit was an edit whose prompt was the word, charged."""
    driver, bot = surface
    first = await driver.ask("a paper lantern")
    assert first.result is not None, first.text
    await bot.wait_closed(driver.key(0), 1)
    assert (await driver.reply(first.result, "undo")).text == messages.NOTHING_BEFORE
    edited = await driver.reply(first.result, "make it red")
    assert edited.result is not None, edited.text
    await bot.wait_closed(driver.key(0), 2)
    said = (await driver.reply(edited.result, "go back")).text
    assert said.startswith("Nothing to undo: the image this one was made from is still there"), said
    # A link to it where the surface has them (Discord, Slack); the playground names the job.
    assert (first.result.job_id if driver.name == "web" else "://") in said, said
    assert (await driver.ask("undo")).text == messages.UNDO_HOW
    assert len(await bot.jobs(driver.key(0))) == 2
    assert (await bot.usage(driver.key(0))).day_used == 2


@pytest.mark.parametrize("name", SURFACES)
async def test_a_batch_of_15_asked_for_again_in_another_shape(
    name: str, stack: Stack, open_playground: OpenPlayground
) -> None:
    """Its 15 images were counted as references of the reply before anything was downloaded
    ("Seedream takes at most 14"), though a batch asked for again uses none of them."""
    driver, bot = await _on(name, stack, open_playground, daily_images=40)
    first = await driver.ask("a red fox in snow --n 15")
    assert first.result is not None, first.text
    await bot.wait_closed(driver.key(0), 1)
    wide = await driver.reply(first.result, "--ar 16:9")
    assert wide.result is not None, wide.text
    job = await bot.runtime.ledger.get_job(wide.result.job_id)
    assert job is not None and (job.kind, job.images_requested, job.request["aspect"]) == (
        JobKind.REROLL,
        15,
        "16:9",
    )
