"""Style presets and the saved cast on every surface (issue 20), through the real stacks.

The provider is the Novita emulator, so what reaches the host (the prompt with the style's words,
the references in order) is read from what the host received.
"""

from __future__ import annotations

import asyncio

import pytest

from bot import i18n, messages
from bot.request.models import GeneratedImage
from bot.request.styles import BUILTIN_STYLES
from tests.conversation.surfaces import (
    SURFACES,
    Core,
    Driver,
    open_surface,
)
from tests.emulators.discord import HUMAN_USER_ID
from tests.emulators.slack import TEAM_ID, USER_ID
from tests.reliability.conftest import Stack
from tests.web.conftest import OpenPlayground, png

ADMINS = [f"discord:{HUMAN_USER_ID}", f"slack:{TEAM_ID}:{USER_ID}", "web:local"]


async def _on(
    name: str, stack: Stack, open_playground: OpenPlayground, **settings: object
) -> tuple[Driver, Core]:
    values: dict[str, object] = {"providers": ["novita"], "daily_images": 20, "admins": ADMINS, **settings}
    web = {
        "novita_api_key": stack.secrets.provider_keys["novita"],
        "novita_base_url": stack.providers.base_url("novita"),
        "allow_private_network": True,
        "poll_interval": 0.05,
        "provider_retries": 0,
    }
    return await open_surface(name, stack, open_playground, values, web)


@pytest.fixture(params=SURFACES)
async def surface(
    request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground
) -> tuple[Driver, Core]:
    return await _on(request.param, stack, open_playground)


@pytest.fixture(params=SURFACES)
async def small_cast(
    request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground
) -> tuple[Driver, Core]:
    return await _on(request.param, stack, open_playground, cast_limit=1)


def _prompts(stack: Stack) -> list[str]:
    return [
        r.json["prompt"] for r in stack.providers.state("novita").requests if r.json and "prompt" in r.json
    ]


async def test_a_style_applies_its_words_and_defaults_and_shows_in_info(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    driver, bot = surface
    added = await driver.ask(
        "admin style add noir moody black and white film photograph --ar 3:2 --model 4.5"
    )
    assert "Style 'noir' added" in added.text, added.text
    styled = await driver.ask("a cat on a roof --style noir")
    assert styled.result is not None, styled.text
    job = (await bot.jobs(driver.key(0)))[0]
    sent = "a cat on a roof, moody black and white film photograph"
    assert job.prompt == sent and _prompts(stack)[-1] == sent
    assert job.model == "4.5" and job.request["aspect"] == "3:2" and job.request["style"] == "noir"
    info = await driver.press(styled.result, "info", 0)
    assert "Style: noir" in info.text and f"Prompt: {sent}" in info.text, info.text
    # An explicit flag beats the style's default.
    square = await driver.ask("a dog --style noir --ar 1:1")
    assert square.result is not None, square.text
    assert (await bot.jobs(driver.key(0)))[0].request["aspect"] == "1:1"
    listed = await driver.ask("styles")
    assert f"`noir` (this {driver.place})" in listed.text and "`watercolor` (built-in)" in listed.text, (
        listed.text
    )
    assert (await driver.ask("styles list")).text == listed.text  # it was drawn
    assert (await driver.ask("list styles")).text == listed.text


async def test_a_server_style_hides_the_builtin_and_admins_hide_and_remove(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    driver, bot = surface
    assert "added" in (await driver.ask("admin style add anime flat pastel shading")).text
    wordy = await driver.ask("admin style add wordy " + "soft light " * 100)  # 1100 characters
    assert "at most 1000 characters (these are 1099)" in wordy.text, wordy.text
    # An admin command costs nothing: its refusals say no "You were not charged." (they did).
    assert messages.NOT_CHARGED not in wordy.text
    with i18n.use_place(driver.place):
        assert (await driver.ask("admin style remove nope")).text == messages.style_not_found("nope")
    mine = await driver.ask("a fox --style anime")
    assert mine.result is not None, mine.text
    assert _prompts(stack)[-1] == "a fox, flat pastel shading"
    assert "hidden" in (await driver.ask("style hide watercolor")).text  # "admin" may be left out
    refused = await driver.ask("a lake --style watercolor")
    assert refused.result is None and messages.NOT_CHARGED in refused.text, refused.text
    assert "no style 'watercolor'" in refused.text
    assert "no style 'wordy'" in (await driver.ask("a lake --style wordy")).text  # nothing was saved
    typo = await driver.ask("a lake --style anmie")
    assert "Did you mean 'anime'" in typo.text, typo.text
    assert "removed" in (await driver.ask("admin style remove anime")).text
    builtin = await driver.ask("a fox --style anime")
    assert builtin.result is not None, builtin.text
    assert _prompts(stack)[-1] == f"a fox, {BUILTIN_STYLES['anime'].suffix}"
    assert len(await bot.jobs(driver.key(0))) == 2  # the refusals made no job
    audit = await bot.runtime.ledger.audit_entries(target=driver.workspace)
    assert [(e.action, e.actor) for e in audit][:3] == [
        ("style.remove", driver.key(0)),
        ("style.hide", driver.key(0)),
        ("style.add", driver.key(0)),
    ]


async def test_ref_sends_cast_images_then_the_attachment_in_order(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    driver, bot = surface
    batch = await driver.ask("two portraits of mia --n 2")
    assert batch.result is not None and batch.result.images == 2, batch.text
    # As people say it ("save #2 as mia" was an edit whose prompt was the words).
    saved = await driver.reply(batch.result, "save #2 as mia")
    assert "Saved as 'mia' in your cast" in saved.text, saved.text
    hat = png(80, 60, (20, 40, 220))
    saved = await driver.ask("save this as hat", files=[("hat.png", hat)])
    assert "Saved as 'hat'" in saved.text, saved.text
    listed = await driver.ask("cast list")
    assert "`mia`" in listed.text and "`hat`" in listed.text and "(2 of 30)" in listed.text, listed.text

    scene = png(96, 64, (240, 200, 10))
    received = stack.providers.state("novita").received_images
    before = len(received)
    made = await driver.ask(
        "mia wearing the hat in this scene --ref mia --ref hat", files=[("scene.png", scene)]
    )
    assert made.result is not None, made.text
    second = (await bot.runtime.ledger.job_outputs(batch.result.job_id))[1].data
    assert received[before:] == [second, hat, scene]
    info = await driver.press(made.result, "info", 0)
    assert 'image 1: cast "mia"' in info.text and 'image 2: cast "hat"' in info.text, info.text
    assert "image 3: an upload" in info.text, info.text


async def test_the_cast_cap_and_a_missing_name_are_refused_before_anything_is_spent(
    small_cast: tuple[Driver, Core], stack: Stack
) -> None:
    driver, bot = small_cast
    assert (await driver.ask("cast save mia", files=[("mia.png", png())])).text == messages.cast_saved(
        "mia", False, 1, 1
    )
    # The same name again replaces its image, full or not, and says so.
    again = await driver.ask("cast save mia", files=[("mia.png", png(color=(9, 9, 9)))])
    assert again.text == messages.cast_saved("mia", False, 1, 1, replaced=True), again.text
    full = await driver.ask("cast save tom", files=[("tom.png", png(color=(1, 2, 3)))])
    assert full.text == messages.cast_full(1, False)  # a cast command costs nothing: no charge note
    assert (await driver.ask("cast save tom")).text == messages.CAST_NEEDS_IMAGE
    # Every refused save says nothing was saved (a file that is no image did not).
    notes = await driver.ask("cast save tom", files=[("notes.png", b"not an image at all")])
    assert notes.text == messages.nothing_saved(messages.not_an_image("notes.png")), notes.text
    assert notes.text.endswith(messages.NOTHING_SAVED) and notes.text.count(messages.NOTHING_SAVED) == 1
    missing = await driver.ask("a portrait --ref mai")
    assert messages.NOT_CHARGED in missing.text and "Did you mean 'mia'" in missing.text, missing.text
    # Each surface's own word for the community: Slack has no servers.
    assert f"in your cast or this {driver.place}'s" in missing.text, missing.text
    assert await bot.jobs(driver.key(0)) == []
    assert (await bot.usage(driver.key(0))).day_used == 0
    assert stack.providers.state("novita").submissions == 0
    assert "Removed 'mia'" in (await driver.ask("cast remove mia")).text
    assert (await driver.ask("cast list")).text == messages.CAST_EMPTY


async def test_seedreams_reference_limits_hold_with_cast_images(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    driver, bot = surface
    assert "Saved as 'mia'" in (await driver.ask("cast save mia", files=[("mia.png", png())])).text
    crowded = await driver.ask("a crowd --ref mia --n 15")  # 1 reference + 15 images > 15
    assert crowded.result is None and messages.NOT_CHARGED in crowded.text, crowded.text
    many = await driver.ask("a crowd " + " ".join(["--ref mia"] * 15))
    assert many.text.startswith(messages.too_many_references(15, 14)), many.text
    assert await bot.jobs(driver.key(0)) == []
    assert stack.providers.state("novita").submissions == 0


async def test_a_reply_as_the_result_appears_waits_for_its_images(
    surface: tuple[Driver, Core], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The images are kept while the result is posted (issue 17): a reply that comes before the
    save is done (held here for a second) still finds the result and its images."""
    driver, bot = surface
    ledger = bot.runtime.ledger
    save = ledger.save_outputs

    async def slow_save(job_id: str, images: list[GeneratedImage]) -> None:
        await asyncio.sleep(1.0)
        await save(job_id, images)

    monkeypatch.setattr(ledger, "save_outputs", slow_save)
    batch = await driver.ask("two portraits of mia --n 2")
    assert batch.result is not None and batch.result.images == 2, batch.text
    saved = await driver.reply(batch.result, "cast save mia #2")
    assert "Saved as 'mia' in your cast" in saved.text, saved.text
    (entry,) = await ledger.cast(driver.key(0))
    assert entry.image.blob is not None and entry.image.blob.startswith("result:")
