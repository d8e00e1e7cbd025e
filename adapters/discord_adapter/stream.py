"""A streamed batch growing on Discord while the provider makes it (DiscordReply.image / result).

The first image turns the job's place into a gallery: in a server text channel where the bot may
start threads, a thread is started from the anchor and the gallery is posted there, pinging the
requester (where a finished result would go); elsewhere the anchor itself (the command's
response, the reply to a mention) becomes it. Each further image edits that message. Discord
keeps only the attachments an edit lists (API v10: "the attachments array must contain all
attachments that should be present after edit"), so every edit lists the ones already there by
id beside the new upload, and the gallery names them all (`attachment://`). A gallery holds 10:
image 11 starts the next message (a follow-up where the interaction is the only way to answer;
a batch is at most 15 images, so two of the five follow-ups at most).

Rate: one message is written at most once a second (EDIT_INTERVAL). Images waiting for that
window go out in one edit. The engine hands the images over one at a time and counts each as
delivered (charged) once `add` says it is shown, so `add` returns only after the edit that shows
it: a restart never charges an image that was not on Discord.

While it grows, a reply to one of its messages names the job's anchor (`job_message`), so it
finds the job at work and waits for it, as a reply to a status message does.

`finish` turns the messages into the result (ResultDelivery's layouts): the details, with the
"N of M were made, the rest were not charged" note when fewer came, the buttons on the first
message and Delete on a later one. Images made but not shown while streaming (an edit failed)
are posted then, as further messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import discord

from adapters.discord_adapter.delivery import NO_PINGS, Anchor, NoRoute, Post, message_id, ping
from adapters.discord_adapter.layout import GALLERY_MAX, stream_layout
from bot import messages
from bot.conversation.batches import post_groups
from bot.conversation.surface import Delivery, Shown
from bot.media.packing import fit_and_pack, fit_each_off_loop, pack
from bot.request.models import GeneratedImage

__all__ = ["EDIT_INTERVAL", "StreamedGallery", "job_message"]

log = logging.getLogger(__name__)

EDIT_INTERVAL = 1.0  # seconds between two writes of one message

# A streamed result's messages -> its anchor (the job's status message), newest last. A reply to
# one while the batch still grows names the anchor, which finds the job at work (the edit waits
# for it); the ledger links the result's own messages only once it is settled.
_GROWING: OrderedDict[int, int] = OrderedDict()
_GROWING_MAX = 1000


def job_message(message_id: int) -> int:
    """The message a reply to `message_id` should name to find its job."""
    return _GROWING.get(message_id, message_id)


@dataclass
class _Grown:
    """One message of the growing result and the files it shows, in order."""

    message: discord.Message
    names: list[str]
    written: float  # time.monotonic() of the last write


class StreamedGallery:
    """The messages one streamed batch grows in (see the module docstring)."""

    def __init__(self, anchor: Anchor, *, job_id: str, prompt: str, of: int) -> None:
        self.anchor = anchor
        self.job_id = job_id
        self.prompt = prompt
        self.of = of
        self.grown: list[_Grown] = []
        self.thread: discord.Thread | None = None
        self.shown = 0  # images on Discord
        self.refitted = False
        self.broken = False  # a write failed: show nothing more until the result
        self._pending: list[tuple[GeneratedImage, asyncio.Future[bool]]] = []  # to show, in order
        self._lock = asyncio.Lock()
        self._made = 0  # images handed over (names their files)

    @property
    def started(self) -> bool:
        return bool(self.grown)

    @property
    def inline(self) -> bool:
        """The anchor itself shows the gallery (progress edits would replace it)."""
        return self.started and self.thread is None

    # -- while the batch streams ---------------------------------------------------------------

    async def add(self, image: GeneratedImage) -> bool:
        """Show one image; True once it is on Discord. Images are shown in the order `add` was
        called (their place is taken before anything is awaited)."""
        if self.broken or not self.anchor.open_for_result():
            return False
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((image, future))
        async with self._lock:
            if not future.done():
                await self._flush()
        return future.result()

    def _target(self) -> _Grown | None:
        """The message the next image joins (None: a new one)."""
        if self.grown and len(self.grown[-1].names) < GALLERY_MAX:
            return self.grown[-1]
        return None

    async def _window(self, grown: _Grown | None) -> None:
        if grown is not None:
            wait = grown.written + EDIT_INTERVAL - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)

    async def _flush(self) -> None:
        await self._window(self._target())
        taken, self._pending = self._pending, []  # everything that arrived meanwhile, together
        fitted, refit = await fit_each_off_loop([image for image, _ in taken], self.anchor.filesize_limit)
        self.refitted = self.refitted or refit
        batch: list[tuple[tuple[str, bytes], asyncio.Future[bool]]] = []
        for (_, future), image in zip(taken, fitted, strict=True):
            if image is None or self.broken:  # cannot be uploaded here: the result posts what it can
                future.set_result(False)
                continue
            self._made += 1
            batch.append(((image.filename(self.job_id, self._made), image.data), future))
        while batch:
            target = self._target()
            room = GALLERY_MAX - (len(target.names) if target else 0)
            # as many as one request's upload limit takes (at least one: each was fitted to it)
            sizes = [len(data) for (_, data), _ in batch[:room]]
            chunk = batch[: len(pack(sizes, per_message=room, message_bytes=self.anchor.filesize_limit)[0])]
            files = [file for file, _ in chunk]
            try:
                if target is None:
                    await self._post(files)
                else:
                    await self._window(target)
                    await self._edit(target, files)
            except (discord.HTTPException, NoRoute) as exc:
                log.info("discord: job %s: streamed image not shown (%s)", self.job_id, exc)
                self.broken = True
                for _, future in batch:
                    future.set_result(False)
                return
            self.shown += len(chunk)
            for _, future in chunk:
                future.set_result(True)
            batch = batch[len(chunk) :]

    def _stream_post(self, index: int, names: list[str], files: list[tuple[str, bytes]]) -> Post:
        pinged = self.thread is not None and index == 0
        if index == 0:
            caption = messages.streaming(len(names), self.of)
        else:
            first = index * GALLERY_MAX + 1
            caption = messages.images_range(first, first + len(names) - 1, self.of)
        view = stream_layout(
            prompt=self.prompt if index == 0 else None,
            caption=caption,
            names=names,
            ping=self.anchor.requester_mention if pinged else None,
        )
        mentions = ping(self.anchor.requester_id) if pinged else NO_PINGS
        return Post(view, files, mentions)

    async def _post(self, files: list[tuple[str, bytes]]) -> None:
        """A new message of the result: the first one (in a new thread, or the anchor), or the
        next one once a gallery is full."""
        anchor = self.anchor
        names = [name for name, _ in files]
        index = len(self.grown)
        message: discord.Message | None = None
        if index == 0:
            self.thread = await anchor.start_thread(messages.thread_name(self.prompt))
            if self.thread is not None:
                try:
                    message = await self.thread.send(**self._stream_post(0, names, files).as_send())
                except discord.HTTPException as exc:
                    log.info("discord: could not post in thread %s (%s); inline", self.thread.id, exc.status)
                    self.thread = None
                else:
                    await anchor.header(anchor.requester_mention, self.prompt)
            if message is None:
                post = self._stream_post(0, names, files)
                message = await anchor.become(post) or await anchor.send(post)
            anchor.delivered = True  # it shows images now (or heads the thread that does): it stays
        else:
            post = self._stream_post(index, names, files)
            message = await (self.thread.send(**post.as_send()) if self.thread else anchor.send(post))
        self.grown.append(_Grown(message, names, time.monotonic()))
        if anchor.message_id is not None and message.id != anchor.message_id:
            _GROWING[message.id] = anchor.message_id
            while len(_GROWING) > _GROWING_MAX:
                _GROWING.popitem(last=False)

    async def _edit(self, grown: _Grown, files: list[tuple[str, bytes]]) -> None:
        """Add files to a message: the ones it has are listed by id, or Discord drops them."""
        index = self.grown.index(grown)
        names = [*grown.names, *(name for name, _ in files)]
        post = self._stream_post(index, names, files)
        post.kept = list(grown.message.attachments)
        grown.message = await grown.message.edit(**post.as_edit())
        grown.names = names
        grown.written = time.monotonic()

    # -- the result ----------------------------------------------------------------------------

    async def finish(self, shown: Shown) -> Delivery:
        """The streamed messages become the result; images not shown yet are posted after them."""
        async with self._lock:
            return await self._finish(shown)

    async def _finish(self, shown: Shown) -> Delivery:
        anchor = self.anchor
        result = shown.result
        rest = [image for i, image in enumerate(result.images) if i not in result.posted]
        packed = await fit_and_pack(rest, anchor.limits)
        refitted = self.refitted or packed.refitted
        made = self.shown + len(packed.images)
        files = [
            (image.filename(self.job_id, n), image.data)
            for n, image in enumerate(packed.images, start=self._made + 1)
        ]

        async def post_group(n: int, group: Sequence[int]) -> discord.Message:
            post = anchor.page(
                shown,
                lead=False,
                names=[files[i][0] for i in group],
                first=self.shown + group[0] + 1,
                total=made,
                images=[files[i] for i in group],
            )
            return await (self.thread.send(**post.as_send()) if self.thread else anchor.send(post))

        later: tuple[discord.Message, ...] = ()
        delivered = self.shown
        if files and anchor.open_for_result():
            # the streamed images are delivered already, so a failure here only stops the rest
            outcome = await post_groups(
                packed.groups,
                post_group,
                job_id=self.job_id,
                before=self.shown,
                ids=message_id,
            )
            later, delivered = outcome.sent, outcome.delivered
        details = shown.details(made, posted=delivered, refitted=refitted)
        for index, grown in enumerate(self.grown):
            post = anchor.page(
                shown,
                lead=index == 0,
                names=grown.names,
                first=index * GALLERY_MAX + 1,
                total=made,
                details=details,
                pinged=self.thread is not None,
            )
            await self._window(grown)
            try:  # no `attachments`: the message keeps the files it has
                grown.message = await grown.message.edit(
                    content=None, embeds=[], view=post.view, allowed_mentions=post.mentions
                )
                grown.written = time.monotonic()
            except discord.HTTPException as exc:  # the images are there: they count
                log.warning(
                    "discord: job %s: result %s not finished (%s)", self.job_id, grown.message.id, exc
                )
        posted = [g.message for g in self.grown] + list(later)
        return await anchor.settled(shown, posted, delivered, self.thread)
