"""Turning what a user said into engine requests, the same way on every platform.

A new prompt with flags and attachments, an edit of an earlier result (reply or button),
a re-roll, variations: adapters gather text and image bytes, these functions decide what the
request is. Adapters never assemble a GenerationRequest field by field.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from bot import messages
from bot.conversation.turns import Options
from bot.engine.pipeline import request_from_json
from bot.errors import InvalidRequest
from bot.ledger.base import Ledger, output_of
from bot.request.flags import ParsedText, check_values, parse_text
from bot.request.models import GenerationRequest, ImageInput, Job, JobKind, JobStatus
from bot.request.validation import check_reference_count

__all__ = [
    "VARIATIONS_COUNT",
    "Composed",
    "compose_edit",
    "compose_new",
    "edit",
    "new",
    "option_fields",
    "reroll",
    "upscale",
    "variations",
]

VARIATIONS_COUNT = 4
UPSCALE_MODEL = "4.5"  # the Seedream that renders at 4K
UPSCALE_TIER = "4K"
FINISHED_POLL = 1.0  # seconds between looks at a job an edit waits for


@dataclass(frozen=True, slots=True)
class Composed:
    request: GenerationRequest
    kind: JobKind
    parent_id: str | None = None
    # "image 1 = …; image 2 = …", echoed back to the user: said when shown, in the language
    # of where it is shown (a result and its status are public; the turn speaks the person's).
    legend: Callable[[], str] = str
    pick: int | None = None


def option_fields(options: Options) -> dict[str, object]:
    """Options picked in a form -> request fields, checked like the same flags typed in text
    (model aliases, "3K" or "2048x1536", jpg = jpeg), with the same errors. Flags typed in the
    prompt still win over these."""
    values: dict[str, object] = {
        key: value.strip() if isinstance(value, str) else value
        for key, value in (
            ("aspect", options.aspect),
            ("resolution", options.resolution),
            ("count", options.count),
            ("model", options.model),
            ("format", options.output_format),
            ("watermark", options.watermark),
        )
        if value is not None and value != ""
    }
    forced: dict[str, object] = {"provider": options.provider} if options.provider else {}
    if not values:
        return forced
    checked = check_values(values)
    picked: dict[str, object] = {
        "aspect": checked.aspect,
        "resolution": checked.resolution,
        "width": checked.width,
        "height": checked.height,
        "count": checked.count,
        "model": checked.model,
        "output_format": checked.output_format,
        "watermark": checked.watermark,
    }
    return {k: v for k, v in picked.items() if v is not None} | forced


def _label(image: ImageInput, n: int) -> str:
    """Reference `n` as a legend names it: its file name, the result it is, or "image n"."""
    made = output_of(image.blob or "")
    if image.name or made is None:
        return image.name or messages.image_label(n)
    return messages.result_name(made[1] + 1, made[0])


def _legend(images: tuple[ImageInput, ...]) -> str:
    if not images:
        return ""
    return messages.references_legend([_label(img, i) for i, img in enumerate(images, start=1)])


def _request(
    parsed: ParsedText, images: tuple[ImageInput, ...], defaults: dict[str, object]
) -> GenerationRequest:
    check_reference_count(len(images))
    base = dict(defaults)
    model = str(base.pop("model", "5.0-lite"))
    return parsed.to_request(images=images, default_model=model, **base)


def remakes_batch(parsed: ParsedText, made: int, references: int) -> bool:
    """Whether an edit of a result of `made` images, with these words and `references` new ones,
    is its batch asked for again in other options ("--ar 16:9" replied alone): remade from its
    request, none of its images used (edited as one, they would be merged into one)."""
    alone = not parsed.prompt and _sets_options(parsed) and not parsed.picks and not references
    return alone and made > 1


def _sets_options(parsed: ParsedText) -> bool:
    """Whether the text set any option of the image (its shape, size, count, model, format)."""
    values = (
        parsed.aspect,
        parsed.resolution,
        parsed.width,
        parsed.count,
        parsed.model,
        parsed.output_format,
    )
    return any(v is not None for v in (*values, parsed.watermark))


def new(parsed: ParsedText, images: list[ImageInput], defaults: dict[str, object]) -> Composed:
    """A fresh prompt (with flags) and optional attachments: text-to-image or an edit."""
    refs = tuple(images)
    request = _request(parsed, refs, defaults)
    return Composed(request, JobKind.EDIT if refs else JobKind.IMAGINE, legend=partial(_legend, refs))


def compose_new(text: str, images: list[ImageInput], **defaults: object) -> Composed:
    """new() from raw text (the CLI)."""
    return new(parse_text(text, picks=False), images, defaults)


async def finished(ledger: Ledger, job: Job, timeout: float) -> Job:
    """The job once it is no longer queued or running, or as it is after `timeout` seconds.
    Polled through the ledger: it may be running in another process."""
    deadline = time.monotonic() + timeout
    while job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and time.monotonic() < deadline:
        await asyncio.sleep(min(FINISHED_POLL, max(0.0, deadline - time.monotonic())))
        job = await ledger.get_job(job.id) or job
    return job


async def edit(
    ledger: Ledger,
    parent: Job,
    parsed: ParsedText,
    images: list[ImageInput],
    *,
    wait: float = 0.0,
    style: object = None,
) -> Composed:
    """Edit an earlier result: its images (or those picked with #N) come first, then new ones.
    A parent still at work (a reply to its status message) is waited for, up to `wait` seconds."""
    parent = await finished(ledger, parent, wait)
    outputs = await made(ledger, parent)
    if remakes_batch(parsed, max(len(outputs), parent.images_delivered), len(images)):
        # Its request is all it takes: a batch whose images are no longer kept is remade too.
        return await _remade(ledger, parent, parsed)
    options_alone = not parsed.prompt and _sets_options(parsed)
    if not outputs:
        if parent.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            raise InvalidRequest(messages.PARENT_NOT_READY)
        if parent.status in (JobStatus.FAILED, JobStatus.CANCELLED):  # (cancelled while waited for)
            raise InvalidRequest(messages.PARENT_FAILED)
        # A result that was delivered but has no images left is past the retention.
        raise InvalidRequest(messages.RESULT_EXPIRED if parent.images_delivered else messages.NOT_A_RESULT)
    if options_alone:  # "--ar 16:9" replied alone: the result again, changed only by its options
        parsed = dataclasses.replace(parsed, prompt=parent.prompt)
    for pick in parsed.picks:
        if not 1 <= pick <= len(outputs):
            raise InvalidRequest(messages.no_such_image(pick, len(outputs)))
    if parsed.picks and not parsed.prompt and not images and not parsed.style:
        raise InvalidRequest(messages.pick_needs_words(parsed.picks[0]))
    numbers = parsed.picks or range(1, len(outputs) + 1)
    refs = (*(outputs[n - 1] for n in numbers), *images)  # _legend names each for the result it is
    request = _request(parsed, refs, {"model": parent.model, **({"style": style} if style else {})})
    return Composed(request, JobKind.EDIT, parent_id=parent.id, legend=partial(_legend, refs))


async def compose_edit(
    ledger: Ledger, parent: Job, text: str, images: list[ImageInput], *, wait: float = 0.0
) -> Composed:
    """edit() from raw text."""
    return await edit(ledger, parent, parse_text(text), images, wait=wait)


async def _parent_inputs(ledger: Ledger, parent: Job) -> list[ImageInput]:
    inputs = await ledger.job_inputs(parent.id)
    if len(inputs) < int(parent.request.get("image_count") or 0):
        # Without them the request would silently become a different one.
        raise InvalidRequest(messages.REFERENCES_EXPIRED)
    return inputs


async def reroll(ledger: Ledger, parent: Job, count: int | None = None) -> Composed:
    """The same request again: same prompt, options and references (`count` images: "3 more")."""
    inputs = await _parent_inputs(ledger, parent)
    request = request_from_json(parent.request, inputs)
    if count is not None:
        request = dataclasses.replace(request, count=count)  # validation says when it is too many
    return Composed(request, JobKind.REROLL, parent_id=parent.id, legend=partial(_legend, request.images))


async def _remade(ledger: Ledger, parent: Job, parsed: ParsedText) -> Composed:
    """A batch's request again with the options `parsed` gives ("16:9" replied to it): a re-roll
    in that shape, size, model or format. A new shape or tier drops the size it was made at."""
    request = parsed.over(request_from_json(parent.request, await _parent_inputs(ledger, parent)))
    return Composed(request, JobKind.REROLL, parent_id=parent.id, legend=partial(_legend, request.images))


async def variations(ledger: Ledger, parent: Job, count: int | None = None) -> Composed:
    """A batch from the same prompt and references: `count` images ("8 more like this"; more
    than Seedream can make is refused with the range), or VARIATIONS_COUNT, fewer if the
    references leave no room (an asked count was cut so too, without a word)."""
    inputs = await _parent_inputs(ledger, parent)
    request = request_from_json(parent.request, inputs)
    room = max(1, 15 - len(request.images))
    request = dataclasses.replace(request, count=count or min(VARIATIONS_COUNT, room))
    return Composed(request, JobKind.VARIATIONS, parent_id=parent.id, legend=partial(_legend, request.images))


async def made(ledger: Ledger, job: Job) -> list[ImageInput]:
    """The images of a result that reached the person: all of them while it is being delivered;
    once it is closed, as many as were delivered (a batch posted in part, none when the platform
    refused it). The images are kept as the delivery starts, so the others were kept too, and
    were edited, upscaled and saved to a cast as if the person had them."""
    outputs = await ledger.job_outputs(job.id)
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return outputs
    return outputs[: job.images_delivered]


async def upscale(ledger: Ledger, parent: Job, pick: int | None) -> Composed:
    """Image #`pick` of a result re-rendered at 4K by Seedream 4.5, with that image as the only
    reference and a prompt asking to keep it unchanged (Seedream has no upscaler)."""
    outputs = await made(ledger, parent)
    if not outputs:
        if parent.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            raise InvalidRequest(messages.PARENT_NOT_READY)
        raise InvalidRequest(messages.RESULT_EXPIRED if parent.images_delivered else messages.NOT_A_RESULT)
    if pick is None:
        if len(outputs) > 1:
            raise InvalidRequest(messages.upscale_which(len(outputs)))
        pick = 1
    if not 1 <= pick <= len(outputs):
        raise InvalidRequest(messages.no_such_image(pick, len(outputs)))
    image = outputs[pick - 1]
    return Composed(
        _rerendered(image),
        JobKind.UPSCALE,
        parent_id=parent.id,
        legend=partial(messages.upscale_note, pick, parent.id),
        pick=pick,
    )


def upscale_upload(image: ImageInput) -> Composed:
    """An image the person sent with "upscale", re-rendered at 4K as a result's would be."""
    return Composed(
        _rerendered(image), JobKind.UPSCALE, legend=partial(messages.upscale_upload_note, image.name or "")
    )


def _rerendered(image: ImageInput) -> GenerationRequest:
    return GenerationRequest(
        prompt=messages.UPSCALE_PROMPT,
        images=(image,),
        model=UPSCALE_MODEL,
        resolution=UPSCALE_TIER,  # the shape follows the image (validation's default aspect)
        count=1,
        output_format="jpeg",  # 4.5's only format
    )
