"""Where a job shows its progress and posts its result.

Every job has an *anchor*: the message that shows "Queued #2" / "Generating… 12s ███░░ 40%"
and that the result grows from.

    InteractionAnchor  the deferred response of a slash command, button or modal (edited through
                       the interaction token, valid 15 minutes; after that, channel messages)
    MessageAnchor      the bot's reply to a mention or a reply-to-edit
    ResumedAnchor      a job resumed after a restart: only its ids are known (REST only)

The result (ResultDelivery, the engine's deliver callback): the images are refitted to the
upload limit (bot.media.images.fit_to_limit; the embed says so) and packed into messages of at most
10 files. In a server text channel where the bot may start threads, a thread named from the
prompt is started from the anchor and the result goes there, under a ping of the requester; in
DMs, threads, or where threads are not allowed, the anchor itself becomes the result. Later
edits and re-rolls are asked for from inside the thread, so they land there. No message ever
pings @everyone or roles.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import discord

from adapters.discord_adapter.views import result_view
from bot import messages
from bot.conversation.surface import Delivery
from bot.media.images import fit_to_limit
from bot.request.models import GeneratedImage, GenerationResult, PostTarget
from bot.request.validation import get_model

__all__ = [
    "FILES_PER_MESSAGE",
    "NO_PINGS",
    "Anchor",
    "InteractionAnchor",
    "MessageAnchor",
    "Post",
    "ResultDelivery",
    "ResumedAnchor",
    "fit_images",
    "pack",
    "result_embed",
]

log = logging.getLogger(__name__)

FILES_PER_MESSAGE = 10
NO_PINGS = discord.AllowedMentions.none()
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440
EMBED_COLOUR = discord.Colour(0x3B82F6)
HEADER_PROMPT_MAX = 1500  # a message holds 2000 characters
_THREAD_TYPES = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)


# Where a resumed job can post (what fetching a channel id may give).
PostChannel = discord.TextChannel | discord.Thread | discord.DMChannel | discord.PartialMessageable


def ping(user_id: int) -> discord.AllowedMentions:
    """Only this user may be pinged (the requester, under their result)."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(id=user_id)], replied_user=False
    )


def is_thread(channel: object) -> bool:
    return isinstance(channel, discord.Thread) or getattr(channel, "type", None) in _THREAD_TYPES


@dataclass
class Post:
    """One message's worth of a result. Files are made fresh for every attempt to send."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, data)
    view: discord.ui.View | None = None
    mentions: discord.AllowedMentions = NO_PINGS

    def files(self) -> list[discord.File]:
        return [discord.File(io.BytesIO(data), filename=name) for name, data in self.images]

    def as_send(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "content": self.content,
            "embeds": self.embeds,
            "files": self.files(),
            "allowed_mentions": self.mentions,
        }
        if self.view is not None:
            out["view"] = self.view
        return out

    def as_edit(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "embeds": self.embeds,
            "attachments": self.files(),
            "view": self.view,
            "allowed_mentions": self.mentions,
        }


class Anchor(ABC):
    """The message a job lives in (see the module docstring)."""

    channel: discord.abc.Messageable
    channel_id: int
    requester_id: int
    filesize_limit: int
    message_id: int | None = None
    delivered = False  # the anchor shows a result now: never remove it

    @property
    def requester_mention(self) -> str:
        return f"<@{self.requester_id}>"

    @property
    def in_thread(self) -> bool:
        return is_thread(self.channel)

    def target(self) -> PostTarget:
        cid = str(self.channel_id)
        return PostTarget(
            channel_id=cid,
            thread_id=cid if self.in_thread else None,
            message_id=str(self.message_id) if self.message_id else None,
        )

    @abstractmethod
    async def prepare(self, text: str) -> None:
        """Make sure the anchor message exists (showing `text` if it has to be posted)."""

    @abstractmethod
    def thread_parent(self) -> discord.TextChannel | None:
        """The channel a thread may be started in from the anchor (None: post inline)."""

    @abstractmethod
    async def show(self, text: str) -> None:
        """Progress or status text in the anchor (raises on failure; callers decide)."""

    @abstractmethod
    async def become(self, post: Post) -> discord.Message | None:
        """Turn the anchor into `post`; None when the anchor can no longer be edited."""

    @abstractmethod
    async def send(self, post: Post) -> discord.Message:
        """Another message in the anchor's place (a followup, or a channel message)."""

    @abstractmethod
    async def fail(self, text: str) -> None:
        """Tell the requester something went wrong: privately where the platform allows."""

    async def whisper(self, text: str) -> None:
        """A private answer that is not a failure (usage, info, history)."""
        await self.fail(text)

    async def hold(self) -> None:
        """Slow work ahead of a private answer: acknowledge it now where the platform needs it."""
        return None

    async def start_thread(self, name: str) -> discord.Thread | None:
        parent = self.thread_parent()
        if parent is None or self.message_id is None:
            return None
        try:
            return await parent.create_thread(
                name=name,
                message=discord.Object(id=self.message_id),
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.HTTPException as exc:
            log.info("discord: no thread in %s (%s); posting inline", parent.id, exc.status)
            return None

    async def header(self, text: str) -> None:
        """Best effort: what the anchor says once its result is in a thread."""
        try:
            await self.show(text)
        except discord.HTTPException as exc:
            log.info("discord: could not update the anchor: %s", exc.status)


def _thread_parent(channel: object, perms: discord.Permissions) -> discord.TextChannel | None:
    if not isinstance(channel, discord.TextChannel):
        return None
    # Posting in the thread is a plain bot message: it needs these, unlike interaction responses.
    if not (
        perms.create_public_threads
        and perms.send_messages_in_threads
        and perms.attach_files
        and perms.embed_links
    ):
        return None
    return channel


class InteractionAnchor(Anchor):
    """The (deferred) response of an interaction. Call `defer()` first thing."""

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        channel = interaction.channel
        self.channel_id = int(interaction.channel_id or 0)
        if isinstance(channel, discord.abc.Messageable):
            self.channel = channel
        else:  # a channel type discord.py does not model: still a place to send to
            self.channel = interaction.client.get_partial_messageable(self.channel_id)
        self.requester_id = interaction.user.id
        self.filesize_limit = interaction.filesize_limit
        self.expired = False

    async def defer(self, *, ephemeral: bool = False) -> None:
        response = await self.interaction.response.defer(thinking=True, ephemeral=ephemeral)
        if response is not None and response.message_id is not None:
            self.message_id = response.message_id

    async def prepare(self, text: str) -> None:
        return None  # the deferred response is the anchor

    def thread_parent(self) -> discord.TextChannel | None:
        if self.interaction.guild_id is None:
            return None
        return _thread_parent(self.interaction.channel, self.interaction.app_permissions)

    async def _original(self, **fields: Any) -> discord.Message | None:
        if self.expired:
            return None
        try:
            return await self.interaction.edit_original_response(**fields)
        except discord.NotFound:  # the token expired (15 minutes) or the response is gone
            self.expired = True
            log.info("discord: interaction %s expired; using channel messages", self.interaction.id)
            return None

    async def show(self, text: str) -> None:
        await self._original(content=text, allowed_mentions=NO_PINGS)

    async def become(self, post: Post) -> discord.Message | None:
        return await self._original(**post.as_edit())

    async def send(self, post: Post) -> discord.Message:
        if not self.expired:
            try:
                return await self.interaction.followup.send(wait=True, **post.as_send())
            except discord.NotFound:
                self.expired = True
        return await self.channel.send(**post.as_send())

    async def hold(self) -> None:
        if not self.interaction.response.is_done():
            await self.defer(ephemeral=True)

    async def whisper(self, text: str) -> None:
        response = self.interaction.response
        if not response.is_done():
            await response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await self.interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)

    async def fail(self, text: str) -> None:
        interaction = self.interaction
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        if not self.expired:
            if not self.delivered:  # the public "thinking…"/progress message goes; the error is private
                with contextlib.suppress(discord.HTTPException):
                    await interaction.delete_original_response()
            try:
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
                return
            except discord.NotFound:
                self.expired = True
        # Too late for a private answer: say it in the channel, to them.
        await self.channel.send(f"<@{self.requester_id}> {text}", allowed_mentions=ping(self.requester_id))


class MessageAnchor(Anchor):
    """The bot's reply to a user's message (a mention, a reply to a result, a DM)."""

    def __init__(self, trigger: discord.Message) -> None:
        self.trigger = trigger
        self.channel = trigger.channel
        self.channel_id = trigger.channel.id
        self.requester_id = trigger.author.id
        guild = trigger.guild
        self.filesize_limit = (
            guild.filesize_limit if guild is not None else discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
        )
        self.status: discord.Message | None = None

    async def prepare(self, text: str) -> None:
        if self.status is not None:
            return
        self.status = await self.trigger.reply(text, mention_author=False, allowed_mentions=NO_PINGS)
        self.message_id = self.status.id

    def thread_parent(self) -> discord.TextChannel | None:
        guild = self.trigger.guild
        if guild is None or not isinstance(self.channel, discord.TextChannel):
            return None
        return _thread_parent(self.channel, self.channel.permissions_for(guild.me))

    async def show(self, text: str) -> None:
        if self.status is not None:
            await self.status.edit(content=text, allowed_mentions=NO_PINGS)

    async def become(self, post: Post) -> discord.Message | None:
        if self.status is None:
            return None
        try:
            return await self.status.edit(**post.as_edit())
        except discord.NotFound:
            return None

    async def send(self, post: Post) -> discord.Message:
        return await self.channel.send(**post.as_send())

    async def whisper(self, text: str) -> None:
        await self.trigger.reply(text, mention_author=False, allowed_mentions=NO_PINGS)

    async def fail(self, text: str) -> None:
        if self.status is not None and not self.delivered:
            with contextlib.suppress(discord.HTTPException):
                await self.status.edit(
                    content=text, embeds=[], attachments=[], view=None, allowed_mentions=NO_PINGS
                )
                return
        await self.trigger.reply(text, mention_author=False, allowed_mentions=NO_PINGS)


class ResumedAnchor(Anchor):
    """A job finished by a later process: its channel, thread and anchor message ids only.

    The interaction that started it is gone, so its response may not be editable (Discord
    lets only the interaction edit it); then the result is a new message replying to it.
    """

    def __init__(
        self,
        channel: PostChannel,
        channel_id: int,
        *,
        requester_id: int,
        message_id: int | None,
        filesize_limit: int,
    ) -> None:
        self.channel = channel
        self._where = channel
        self.channel_id = channel_id
        self.requester_id = requester_id
        self.message_id = message_id
        self.filesize_limit = filesize_limit

    async def prepare(self, text: str) -> None:
        return None  # the job already has its anchor (or none)

    def thread_parent(self) -> discord.TextChannel | None:
        channel = self._where
        if not isinstance(channel, discord.TextChannel):
            return None
        return _thread_parent(channel, channel.permissions_for(channel.guild.me))

    def _anchor_message(self) -> discord.PartialMessage | None:
        if self.message_id is None:
            return None
        return discord.PartialMessage(channel=self._where, id=self.message_id)

    async def show(self, text: str) -> None:
        message = self._anchor_message()
        if message is not None:
            await message.edit(content=text, allowed_mentions=NO_PINGS)

    async def become(self, post: Post) -> discord.Message | None:
        message = self._anchor_message()
        if message is None:
            return None
        try:
            return await message.edit(**post.as_edit())
        except discord.HTTPException:
            return None

    async def send(self, post: Post) -> discord.Message:
        fields = post.as_send()
        message = self._anchor_message()
        if message is not None:
            fields["reference"] = message.to_reference(fail_if_not_exists=False)
        return await self.channel.send(**fields)

    async def fail(self, text: str) -> None:
        try:
            await self.show(text)
            if self.message_id is not None:
                return
        except discord.HTTPException:
            pass
        await self.send(Post(content=f"<@{self.requester_id}> {text}", mentions=ping(self.requester_id)))


def fit_images(images: Sequence[GeneratedImage], limit: int) -> tuple[list[GeneratedImage], bool]:
    """Every image within `limit` bytes (re-encoded or downscaled); True if any was changed."""
    out: list[GeneratedImage] = []
    changed = False
    for image in images:
        try:
            fitted, refit = fit_to_limit(image, limit)
        except ValueError:
            log.warning("discord: an image could not be fitted into %d bytes", limit)
            continue
        out.append(fitted)
        changed = changed or refit
    return out, changed


def pack(sizes: Sequence[int], limit: int, per_message: int = FILES_PER_MESSAGE) -> list[list[int]]:
    """Indexes of files grouped into messages: at most `per_message` files and `limit` bytes each."""
    groups: list[list[int]] = []
    total = 0
    for index, size in enumerate(sizes):
        if not groups or len(groups[-1]) >= per_message or total + size > limit:
            groups.append([])
            total = 0
        groups[-1].append(index)
        total += size
    return groups


def _model_name(key: str) -> str:
    try:
        return get_model(key).name
    except Exception:
        return key


def result_embed(
    result: GenerationResult,
    *,
    prompt: str,
    left: int | None,
    delivered: int,
    refitted: bool,
    legend: str,
) -> discord.Embed:
    embed = discord.Embed(description=prompt[:4000], colour=EMBED_COLOUR)
    embed.add_field(name=messages.LABEL_MODEL, value=_model_name(result.model))
    embed.add_field(name=messages.LABEL_SIZE, value=result.size)
    embed.add_field(name=messages.LABEL_PROVIDER, value=result.provider)
    embed.add_field(name=messages.LABEL_TIME, value=messages.seconds(result.elapsed))
    embed.add_field(name=messages.LABEL_LEFT_TODAY, value=messages.UNLIMITED if left is None else str(left))
    if legend:
        embed.add_field(name=messages.LABEL_REFERENCES, value=legend[:1024], inline=False)
    notes = messages.result_notes(
        delivered=delivered,
        requested=result.requested,
        refitted=refitted,
        demo=result.demo,
        weight=result.weight,
    )
    if notes:
        embed.set_footer(text="\n".join(notes)[:2048])
    return embed


@dataclass
class ResultDelivery:
    """The engine's deliver callback for one job (see the module docstring)."""

    anchor: Anchor
    prompt: str
    requester_name: str
    left: int | None  # quota units left once settled (None: unlimited)
    legend: str = ""

    async def __call__(self, result: GenerationResult) -> Delivery:
        anchor = self.anchor
        limit = anchor.filesize_limit
        images, refitted = await asyncio.to_thread(fit_images, result.images, limit)
        if not images:
            return Delivery(delivered=0)
        embed = result_embed(
            result,
            prompt=self.prompt,
            left=self.left,
            delivered=len(images),
            refitted=refitted,
            legend=self.legend,
        )
        files = [
            (f"seedbot-{result.job_id}-{i}.{image.extension}", image.data)
            for i, image in enumerate(images, start=1)
        ]
        groups = pack([len(data) for _, data in files], limit)
        thread = await anchor.start_thread(messages.thread_name(self.prompt))
        posted: list[discord.Message] = []
        delivered = 0
        for n, group in enumerate(groups):
            post = Post(images=[files[i] for i in group])
            if n == 0:
                post.embeds = [embed]
                post.view = result_view(result.job_id)
            if thread is not None and n == 0:
                try:  # the requester is pinged, and so joins the thread
                    message = await thread.send(
                        **replace(
                            post, content=anchor.requester_mention, mentions=ping(anchor.requester_id)
                        ).as_send()
                    )
                except discord.HTTPException as exc:
                    log.info(
                        "discord: could not post in thread %s (%s); posting inline", thread.id, exc.status
                    )
                    thread = None
                else:
                    posted.append(message)
                    delivered += len(group)
                    continue
            try:
                if thread is not None:
                    message = await thread.send(**post.as_send())
                elif n == 0:
                    message = await anchor.become(post) or await anchor.send(post)
                    anchor.delivered = True
                else:
                    message = await anchor.send(post)
            except discord.HTTPException:
                if not delivered:
                    raise  # nothing reached the user: the engine refunds everything
                log.warning("discord: job %s: only %d image(s) posted", result.job_id, delivered)
                break
            posted.append(message)
            delivered += len(group)
        if posted and delivered < len(images):
            await self._note_unposted(posted[0], result, len(images), delivered, refitted)
        if thread is not None:
            prompt = (
                self.prompt
                if len(self.prompt) <= HEADER_PROMPT_MAX
                else self.prompt[:HEADER_PROMPT_MAX] + "…"
            )
            await anchor.header(
                f"{messages.asked_for(self.requester_name, prompt)}\n{messages.results_in_thread(delivered)}"
            )
        ids = [str(m.id) for m in posted]
        if anchor.message_id is not None:
            ids.append(str(anchor.message_id))
        thread_id = str(thread.id) if thread is not None else anchor.target().thread_id
        return Delivery(delivered=delivered, message_ids=tuple(dict.fromkeys(ids)), thread_id=thread_id)

    async def _note_unposted(
        self, first: discord.Message, result: GenerationResult, made: int, posted: int, refitted: bool
    ) -> None:
        """Images past the first messages could not be posted (they are refunded): say so under
        the first one, with the quota it shows corrected."""
        left = self.left
        embed = result_embed(
            result,
            prompt=self.prompt,
            left=None if left is None else left + (made - posted) * result.weight,
            delivered=made,
            refitted=refitted,
            legend=self.legend,
        )
        notes = [embed.footer.text] if embed.footer.text else []
        embed.set_footer(text="\n".join([*notes, messages.not_posted(posted, made, result.weight)])[:2048])
        try:
            await first.edit(embed=embed)
        except discord.HTTPException as exc:
            log.info("discord: job %s: could not add the unposted note (%s)", result.job_id, exc.status)
