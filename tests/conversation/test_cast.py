"""The saved cast on every surface (issue 20), through the real stacks: `--ref NAME` sends the
saved images, then the attachments, in order (read from what the Novita emulator received); the
cap and a missing name are refused before anything is spent; Seedream's reference limits hold."""

from __future__ import annotations

import asyncio

import pytest

from bot import messages
from bot.conversation.cast import is_cast_command
from bot.request.models import GeneratedImage
from tests.conversation.surfaces import SURFACES, Core, Driver, on_novita
from tests.reliability.conftest import Stack
from tests.web.conftest import OpenPlayground, png


@pytest.fixture(params=SURFACES)
async def surface(
    request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground
) -> tuple[Driver, Core]:
    return await on_novita(request.param, stack, open_playground)


@pytest.fixture(params=SURFACES)
async def small_cast(
    request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground
) -> tuple[Driver, Core]:
    return await on_novita(request.param, stack, open_playground, cast_limit=1)


async def test_ref_sends_cast_images_then_the_attachment_in_order(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    driver, bot = surface
    batch = await driver.ask("two portraits of mia --n 2")
    assert batch.result is not None and batch.result.images == 2, batch.text
    # As people say it ("save #2 as mia" was an edit whose prompt was the words).
    saved = await driver.reply(batch.result, "save #2 as mia")
    assert "Saved as 'mia' in your cast" in saved.text, saved.text
    again = await driver.reply(batch.result, "cast save #2 as mia")  # was the cast's help
    assert "Saved as 'mia' in your cast" in again.text, again.text
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


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("cast", True),
        ("cast list", True),
        ("cast save mia", True),
        ("cast remove mia --server", True),
        ("cast lsit", True),  # a verb mistyped: the help says which there are
        ("save #2 as mia", True),
        ("cast of characters around a campfire, oil painting", False),
        ("cast iron pan on a stove", False),
    ],
)
def test_a_prompt_that_starts_with_cast_is_a_prompt(text: str, command: bool) -> None:
    """With /imagine reading its prompt as typed text, "cast of characters …" got the cast help."""
    assert is_cast_command(text) is command
