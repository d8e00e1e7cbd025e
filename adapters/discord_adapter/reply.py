"""The conversation's Reply on Discord: an anchor (see delivery.py) shows what the core says.

Discord refusing the bot a channel (403) becomes CannotPost, which the conversation turns into
the usual plain answer; everything else is rendered by the anchor and ResultDelivery, or for a
streamed batch by StreamedGallery (the result grows image by image). Where the
bot is not a member, Delete removes the message whose button was pressed through that button's
interaction (a later message of the same result has its own Delete), and a job cut short by a
restart is not promised to come back: the next process could not post it there.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import discord

from adapters.discord_adapter.delivery import Anchor, InteractionAnchor, ResultDelivery
from adapters.discord_adapter.stream import StreamedGallery
from adapters.discord_adapter.views import ContextEditModal, EditModal
from bot import messages
from bot.conversation.surface import Arrived, Delivery, EditForm, Progress, Shown
from bot.errors import CannotPost
from bot.request.models import Job, PostTarget

__all__ = ["DiscordReply"]

log = logging.getLogger(__name__)

T = TypeVar("T")


async def _posting(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except discord.Forbidden as exc:
        raise CannotPost(messages.CANNOT_POST_HERE, detail=f"forbidden ({exc.code})") from exc


class DiscordReply:
    def __init__(
        self,
        anchor: Anchor,
        *,
        pressed: discord.Message | None = None,
        about: discord.Message | None = None,
    ) -> None:
        self.anchor = anchor
        self.pressed = pressed  # the message whose button was pressed (Delete removes it too)
        self.about = about  # the message a context menu was used on (its Edit form edits it)
        self.gallery: StreamedGallery | None = None  # a streamed batch growing (stream.py)

    def target(self) -> PostTarget:
        return self.anchor.target()

    async def accepted(self, text: str) -> None:
        await _posting(lambda: self.anchor.prepare(text))

    def working(self, job_id: str) -> None:
        self.anchor.cancel_job = job_id

    async def progress(self, progress: Progress) -> None:
        if self.gallery is not None and self.gallery.inline:
            return  # the anchor shows the streamed images now: progress would replace them
        await self.anchor.show(progress.text)

    async def image(self, arrived: Arrived) -> bool:
        """A streamed image joins the result's gallery as soon as it is made (stream.py)."""
        if self.gallery is None:
            self.gallery = StreamedGallery(
                self.anchor, job_id=arrived.job_id, prompt=arrived.prompt, of=arrived.of
            )
        return await self.gallery.add(arrived.image)

    async def result(self, shown: Shown) -> Delivery:
        if self.gallery is not None and self.gallery.started:
            return await self.gallery.finish(shown)
        return await ResultDelivery(self.anchor, shown)(shown.result)

    async def refuse(self, text: str) -> None:
        try:
            await self.anchor.fail(text)
        except discord.Forbidden:
            log.info("discord: may not answer in %s", self.anchor.channel_id)
        except discord.HTTPException as exc:
            # Gone meanwhile (a deleted channel: 404, 10003) is expected; Discord failing is not.
            level = logging.INFO if isinstance(exc, discord.NotFound) else logging.WARNING
            log.log(
                level,
                "discord: could not answer in %s (%s, code %s)",
                self.anchor.channel_id,
                exc.status,
                exc.code,
            )

    async def say(self, text: str) -> None:
        await self.anchor.whisper(text)

    async def delete(self, job: Job) -> None:
        anchor = self.anchor
        if isinstance(anchor, InteractionAnchor) and not anchor.member:
            await anchor.delete_pressed()  # no channel of ours: only through this interaction
            return
        await anchor.hold()  # deleting takes a few calls: acknowledge first (privately)
        channel = self.anchor.channel
        ids = {int(m) for m in job.result_message_ids}
        pressed = self.pressed
        if pressed is not None:
            ids.add(pressed.id)
        # The message a thread was started from stays (a thread's id is its starter's); where no
        # thread was started, that message became the result's first: it goes with the rest (a
        # Delete on the second message of an inline batch left the first ten images).
        started_thread = job.message_id is not None and job.thread_id == job.message_id
        if started_thread and (pressed is None or int(str(job.message_id)) != pressed.id):
            ids.discard(int(str(job.message_id)))
        for message_id in sorted(ids):
            with contextlib.suppress(discord.NotFound):
                await discord.PartialMessage(channel=channel, id=message_id).delete()  # type: ignore[arg-type]

    async def edit_form(self, form: EditForm) -> None:
        anchor = self.anchor
        if not isinstance(anchor, InteractionAnchor):  # a button or a context menu opens the form
            raise TypeError("a modal answers an interaction")
        modal: discord.ui.Modal
        if form.job_id is not None:
            modal = EditModal(form.job_id, form.prompt, form.max_chars)
        elif self.about is not None:  # not one of our results: that message's images
            modal = ContextEditModal(self.about)
        else:
            raise TypeError("a form without a result edits the message a context menu was used on")
        await anchor.interaction.response.send_modal(modal)

    async def interrupted(self, text: str, *, resumes: bool) -> None:
        await (self.anchor.show if resumes else self.anchor.fail)(text)
