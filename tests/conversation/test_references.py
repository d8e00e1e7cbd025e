"""Attached photos on every surface, as people send them: a phone's full-size photo or a big
screenshot is over Seedream's limits on a reference, and is shrunk to fit, not refused.

What reaches the host is read from what the Novita emulator received.
"""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from bot import messages
from bot.media.images import measure
from bot.request.validation import REFERENCE_MAX_BYTES, REFERENCE_MAX_SIDE
from tests.conversation.surfaces import SURFACES, Core, Driver, on_novita
from tests.media.test_images import phone_photo, turned_jpeg
from tests.reliability.conftest import Stack
from tests.web.conftest import OpenPlayground, png


@pytest.fixture(params=SURFACES)
async def surface(
    request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground
) -> tuple[Driver, Core]:
    return await on_novita(request.param, stack, open_playground)


def _screenshot(width: int, height: int) -> bytes:
    """A PNG over REFERENCE_MAX_BYTES: noise does not compress."""
    img = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


async def test_a_photo_over_seedreams_limits_is_shrunk_to_fit_and_made(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    driver, _ = surface
    received = stack.providers.state("novita").received_images
    wide = png(REFERENCE_MAX_SIDE + 400, 480)
    heavy = _screenshot(1900, 1900)
    assert len(heavy) > REFERENCE_MAX_BYTES
    made = await driver.ask("make these into a poster", files=[("pano.png", wide), ("shot.png", heavy)])
    assert made.result is not None, made.text
    sent = [measure(data) for data in received[-2:]]
    assert sent[0] == ("image/jpeg", REFERENCE_MAX_SIDE, 450)  # the shape kept
    assert sent[1] == ("image/jpeg", 1900, 1900)  # the pixels kept, re-encoded
    assert all(len(data) <= REFERENCE_MAX_BYTES for data in received[-2:])


async def test_a_photo_taken_upright_is_edited_upright(surface: tuple[Driver, Core], stack: Stack) -> None:
    """A phone stores a portrait photo on its side with an EXIF turn: the edit is portrait too."""
    driver, bot = surface
    received = stack.providers.state("novita").received_images
    made = await driver.ask("make it autumn", files=[("IMG_0042.jpg", turned_jpeg(1200, 900))])
    assert made.result is not None, made.text
    assert measure(received[-1]) == ("image/jpeg", 900, 1200)
    job = await bot.runtime.ledger.get_job(made.result.job_id)
    assert job is not None
    width, height = map(int, job.request["size"].split("x"))
    assert width < height, job.request


async def test_an_iphones_heic_photo_is_sent_to_the_host_as_jpeg(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    """IMG_0042.HEIC, as a Mac or an iPhone sends it, was refused as "not an image"."""
    driver, _ = surface
    received = stack.providers.state("novita").received_images
    made = await driver.ask("make it autumn", files=[("IMG_0042.HEIC", phone_photo("HEIF", (900, 1200)))])
    assert made.result is not None, made.text
    assert measure(received[-1]) == ("image/jpeg", 900, 1200)


async def test_upscale_sent_with_an_image_re_renders_that_image_at_4k(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    """ "upscale" with a photo was an edit whose prompt was the word, at the default size."""
    driver, bot = surface
    received = stack.providers.state("novita").received_images
    photo = png(1200, 900, (200, 120, 40))
    made = await driver.ask("upscale", files=[("holiday.png", photo)])
    assert made.result is not None, made.text
    job = await bot.runtime.ledger.get_job(made.result.job_id)
    assert job is not None and (job.kind, job.model, job.parent_id) == ("upscale", "4.5", None)
    assert job.prompt == messages.UPSCALE_PROMPT and job.request["size"] == "4720x3536", (
        job.request
    )  # 4K, 4:3
    assert received[-1] == photo
    info = await driver.press(made.result, "info", 0)
    assert messages.UPSCALED_UPLOAD in info.text, info.text
    # Two at once: which one is not said (it was an edit of both whose prompt was "upscale").
    two = await driver.ask("upscale", files=[("a.png", photo), ("b.png", png(300, 200))])
    assert two.text == messages.with_charge_note(messages.UPSCALE_ONE_IMAGE), two.text
    assert len(await bot.jobs(driver.key(0))) == 1


@pytest.mark.parametrize(
    ("text", "count"), [("variations", 4), ("3 versions of this", 3), ("more like this", 4)]
)
async def test_variations_asked_with_an_image_are_variations_of_it(
    surface: tuple[Driver, Core], stack: Stack, text: str, count: int
) -> None:
    """They were an edit whose prompt was the words ("variations", or "this" once the count was
    read), one image."""
    driver, bot = surface
    photo = png(640, 480, (20, 160, 90))
    made = await driver.ask(text, files=[("logo.png", photo)])
    assert made.result is not None and made.result.images == count, made.text
    job = await bot.runtime.ledger.get_job(made.result.job_id)
    assert job is not None and (job.prompt, job.images_requested) == (messages.VARIATIONS_PROMPT, count)
    assert stack.providers.state("novita").received_images[-1] == photo
    assert "Variations of image 1" in made.text.splitlines(), made.text  # not the words the model got
    assert "image 1 = logo.png" in made.text


async def test_a_reply_picks_several_images_of_a_batch(surface: tuple[Driver, Core], stack: Stack) -> None:
    """'combine #1 and #3' edited image 1 alone, with "combine and #3" as the prompt."""
    driver, bot = surface
    host = stack.providers.state("novita")
    batch = await driver.ask("three foxes --n 3")
    assert batch.result is not None and batch.result.images == 3, batch.text
    await bot.wait_closed(driver.key(0), 1)
    outputs = [img.data for img in await bot.runtime.ledger.job_outputs(batch.result.job_id)]
    before = len(host.received_images)
    made = await driver.reply(batch.result, "put the hat from #3 on #1")
    assert made.result is not None, made.text
    assert host.received_images[before:] == [outputs[2], outputs[0]]
    assert host.requests[-1].json["prompt"] == "put the hat from image 1 on image 2"
    await bot.wait_closed(driver.key(0), 2)
    refused = await driver.reply(made.result, "combine #1 and #2")  # made has one image
    assert refused.result is None and messages.no_such_image(2, 1) in refused.text, refused.text


async def test_an_image_link_in_the_message_is_a_reference(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    """A link pasted where an attachment would go was sent to the model as words."""
    driver, bot = surface
    host = stack.providers.state("novita")
    cat = png(90, 60, (10, 120, 240))
    url = stack.discord.add_cdn_file("cat.png", cat)["url"]
    made = await driver.ask(f"make this a watercolor <{url}> --ar 3:2")
    assert made.result is not None, made.text
    assert host.received_images[-1] == cat
    assert host.requests[-1].json["prompt"] == "make this a watercolor"
    # A reply adds one after the result's image; a link to no image stays in the prompt.
    await bot.wait_closed(driver.key(0), 1)
    edited = await driver.reply(made.result, f"add the cat from {url}")
    assert edited.result is not None, edited.text
    assert host.received_images[-1] == cat and host.requests[-1].json["prompt"] == "add the cat from"
    page = await driver.ask("a poster for https://example.com/shop")
    assert (
        page.result is not None
        and host.requests[-1].json["prompt"] == "a poster for https://example.com/shop"
    )
