"""Where a job shows its progress and posts its result.

Every job has an *anchor*: the message that shows "Queued #2" / "Generating… 12s ███░░ 40%"
and that the result grows from. Everything is drawn with the Components V2 layouts of layout.py.

    InteractionAnchor  the deferred response of a slash command, button or modal (edited through
                       the interaction token, valid 15 minutes; after that, channel messages
                       where the bot is a member)
    MessageAnchor      the bot's reply to a mention or a reply-to-edit
    ResumedAnchor      a job resumed after a restart: only its ids are known (REST only)

Where the bot is not a member (someone's own install used in a server without the bot, in a
group DM or a DM between people) it can answer only through the interaction: no threads, no
posts or fetches of its own, at most 5 follow-ups per interaction (Discord's limit for a
user-installed app the server has not installed), and nothing at all once the 15-minute token is
gone. Such an anchor packs a batch into the messages it has left, and when the token is about to
run out before the images are ready it says so in the response and posts nothing later (the
engine refunds what was not delivered). A response deleted meanwhile (its author, a moderator)
leaves the follow-ups: what was to go in it goes in one of them.

The result (ResultDelivery, the engine's deliver callback): the images are refitted to the
upload limit (bot.media.packing; the details say so) and packed into messages of at most 10
files, a gallery each, posted in order (bot.conversation.batches). In a server text channel
where the bot may start threads, a thread named from the prompt is started from the anchor and
the result goes there, under a ping of the requester; in DMs, threads, or where threads are not
allowed, the anchor itself becomes the result. Later edits and re-rolls are asked for from inside
the thread, so they land there. No message ever pings @everyone or roles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import discord

from adapters.discord_adapter.layout import more_layout, notice, result_layout, status_layout
from adapters.discord_adapter.uploads import image_file
from bot import messages
from bot.conversation.batches import post_groups
from bot.conversation.surface import Delivery, Details, Shown
from bot.errors import DeliveryError
from bot.media.packing import UploadLimits, fit_and_pack
from bot.request.models import GenerationResult, PostTarget

__all__ = [
    "FILES_PER_MESSAGE",
    "NO_PINGS",
    "TOKEN_LIFETIME",
    "TOKEN_NOTICE",
    "USER_INSTALL_FOLLOWUPS",
    "Anchor",
    "InteractionAnchor",
    "MessageAnchor",
    "NoRoute",
    "Post",
    "ResultDelivery",
    "ResumedAnchor",
    "bot_is_member",
]

log = logging.getLogger(__name__)

FILES_PER_MESSAGE = 10
NO_PINGS = discord.AllowedMentions.none()
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440
HEADER_PROMPT_MAX = 1500
TOKEN_LIFETIME = 15 * 60.0  # seconds an interaction token works (Discord: 15 minutes)
TOKEN_NOTICE = 60.0  # give up this long before it ends, while the response can still say so
USER_INSTALL_FOLLOWUPS = 5  # follow-ups per interaction of a user install the server lacks
_THREAD_TYPES = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)


class NoRoute(Exception):
    """Nothing more can be posted for this anchor (no membership, the token is gone)."""


def bot_is_member(interaction: discord.Interaction[Any]) -> bool:
    """The bot may act in the interaction's channel itself (post, start threads, fetch), not only
    answer through the interaction: the server installed it and it is in the server (cached), or
    it is the bot's own DM. Not in group DMs or DMs between people (a user install)."""
    if interaction.guild_id is None:
        return not interaction.context.private_channel and not isinstance(
            interaction.channel, discord.GroupChannel
        )
    return (
        interaction.is_guild_integration() and interaction.client.get_guild(interaction.guild_id) is not None
    )


# Where a resumed job can post (what fetching a channel id may give).
PostChannel = discord.TextChannel | discord.Thread | discord.DMChannel | discord.PartialMessageable


def ping(user_id: int) -> discord.AllowedMentions:
    """Only this user may be pinged (the requester, under their result)."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(id=user_id)], replied_user=False
    )


def message_id(message: discord.Message) -> tuple[str]:
    """A posted message's id, as the core links it (bot.conversation.batches)."""
    return (str(message.id),)


def is_thread(channel: object) -> bool:
    return isinstance(channel, discord.Thread) or getattr(channel, "type", None) in _THREAD_TYPES


@dataclass
class Post:
    """One message's worth: a layout and the files it shows. Files are made fresh for every
    attempt to send."""

    view: discord.ui.LayoutView
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, data)
    mentions: discord.AllowedMentions = NO_PINGS
    # An edit that adds files keeps these (Discord keeps only the attachments an edit lists).
    kept: list[discord.Attachment] = field(default_factory=list)

    def files(self) -> list[discord.File]:
        return [image_file(data, name) for name, data in self.images]

    def as_send(self) -> dict[str, Any]:
        return {"view": self.view, "files": self.files(), "allowed_mentions": self.mentions}

    def as_edit(self) -> dict[str, Any]:
        # content null and embeds [] turn a message that had them into a V2 one (Discord's rule);
        # on a V2 message they change nothing.
        return {
            "content": None,
            "embeds": [],
            "view": self.view,
            "attachments": [*self.kept, *self.files()],
            "allowed_mentions": self.mentions,
        }


def said(text: str, mentions: discord.AllowedMentions = NO_PINGS) -> Post:
    return Post(notice(text), mentions=mentions)


class Anchor(ABC):
    """The message a job lives in (see the module docstring)."""

    channel: discord.abc.Messageable
    channel_id: int
    requester_id: int
    filesize_limit: int
    message_id: int | None = None
    delivered = False  # the anchor shows a result now: never remove it
    cancel_job: str | None = None  # the job at work here: its progress offers Cancel
    member = True  # the bot may post in the channel itself (not only through an interaction)

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

    def open_for_result(self) -> bool:
        """A result may still be posted here (False once the anchor gave up and said so)."""
        return True

    def room(self) -> int | None:
        """How many messages a result may use here (None: as many as it needs)."""
        return None

    @property
    def limits(self) -> UploadLimits:
        """A file and a message's files together within the upload limit, 10 files a message."""
        return UploadLimits(self.filesize_limit, FILES_PER_MESSAGE, self.filesize_limit)

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
        """Another message in the anchor's place (a followup, or a channel message); NoRoute when
        there is none left."""

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

    async def settled(
        self, shown: Shown, posted: Sequence[discord.Message], delivered: int, thread: discord.Thread | None
    ) -> Delivery:
        """What a posted result tells the engine; where it went to a thread, the anchor says who
        asked for what and how many images are there."""
        if thread is not None:
            await self.header(shown.requester or self.requester_mention, shown.prompt, delivered)
        ids = [str(m.id) for m in posted]
        if self.message_id is not None:
            ids.append(str(self.message_id))
        thread_id = str(thread.id) if thread is not None else self.target().thread_id
        return Delivery(delivered=delivered, message_ids=tuple(dict.fromkeys(ids)), thread_id=thread_id)

    def page(
        self,
        shown: Shown,
        *,
        lead: bool,
        names: Sequence[str],
        first: int,
        total: int,
        details: Details | None = None,
        pinged: bool = False,
        images: Sequence[tuple[str, bytes]] = (),
    ) -> Post:
        """One message of a result: the lead carries the details, the result's actions and (in a
        thread) the requester's ping; a later one says which images it holds, with its own."""
        job_id = shown.result.job_id
        if lead:
            assert details is not None, "the lead message carries the details"
            view = result_layout(
                job_id=job_id,
                prompt=shown.prompt,
                details=details,
                names=names,
                actions=shown.actions,
                ping=self.requester_mention if pinged else None,
            )
        else:
            view = more_layout(
                job_id=job_id,
                prompt=shown.prompt,
                names=names,
                first=first,
                total=total,
                actions=shown.later_actions,
            )
        return Post(view, list(images), ping(self.requester_id) if pinged and lead else NO_PINGS)

    async def header(self, requester: str, prompt: str, delivered: int | None = None) -> None:
        """Best effort: what the anchor says once its result is in a thread (who asked for what,
        and how many images are there once that is known)."""
        cut = prompt if len(prompt) <= HEADER_PROMPT_MAX else prompt[:HEADER_PROMPT_MAX] + "…"
        text = messages.asked_for(requester, cut)
        if delivered is not None:  # the job is over: its Cancel goes (it stayed, pressable, for good)
            text += "\n" + messages.results_in_thread(delivered)
            self.cancel_job = None
        try:
            await self.show(text)
        except discord.HTTPException as exc:
            log.info("discord: could not update the anchor: %s", exc.status)


UNKNOWN_MESSAGE = 10008  # Discord's JSON error codes
UNKNOWN_WEBHOOK = 10015
INVALID_WEBHOOK_TOKEN = 50027


def _token_gone(exc: discord.HTTPException) -> bool:
    """Whether the interaction's webhook can no longer be used: Unknown Webhook (404, 10015), or
    its token's 15 minutes are over (401 Invalid Webhook Token, 50027: not a 404, so a long
    job's result meant for the response was lost, unsaid, instead of posted in the channel).
    Not any 404: 10008 Unknown Message is only the response deleted, the token still works."""
    return exc.code in (UNKNOWN_WEBHOOK, INVALID_WEBHOOK_TOKEN) or exc.status == 401


def _transient(exc: discord.HTTPException) -> bool:
    """Discord failing for now: a 5xx, or a 429 that discord.py did not (or no longer) wait out."""
    return exc.status >= 500 or exc.status == 429


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
    """The (deferred) response of an interaction. Call `defer()` first thing; for a job, `watch()`
    after it and `close()` when the turn is over."""

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
        self.member = bot_is_member(interaction)
        # Discord caps follow-ups at 5 when only the user's install authorised the interaction;
        # discord.py says only whether the server's did, so anything else is held to 5.
        self.followup_limit = None if interaction.is_guild_integration() else USER_INSTALL_FOLLOWUPS
        self.followups = 0
        age = max(0.0, (discord.utils.utcnow() - interaction.created_at).total_seconds())
        self.deadline = time.monotonic() + TOKEN_LIFETIME - age
        self.expired = False  # the token no longer works
        self.original_gone = False  # the response was deleted (its author, a moderator)
        self.closed = False  # gave up before the token ran out (and said so): post nothing more
        self.delivering = False
        self._watch: asyncio.Task[None] | None = None

    async def defer(self, *, ephemeral: bool = False) -> None:
        response = await self.interaction.response.defer(thinking=True, ephemeral=ephemeral)
        if response is not None and response.message_id is not None:
            self.message_id = response.message_id

    # -- the token's lifetime where it is the only way to answer ---------------------------------

    def watch(self) -> None:
        """Where the interaction is the only way to answer: shortly before the token runs out,
        if no result has been posted, say so and take nothing more."""
        if self.member or self._watch is not None:
            return
        self._watch = asyncio.create_task(self._close_in_time(), name=f"token {self.interaction.id}")

    def close(self) -> None:
        if self._watch is not None and not self._watch.done():
            self._watch.cancel()

    async def _close_in_time(self) -> None:
        await asyncio.sleep(max(0.0, self.deadline - TOKEN_NOTICE - time.monotonic()))
        if self.delivered or self.delivering or self.expired:
            return
        self.closed = True
        log.info(
            "discord: interaction %s: the answer window is closing; no result will follow",
            self.interaction.id,
        )
        minutes = max(1, round(TOKEN_LIFETIME / 60))
        try:
            await self.interaction.edit_original_response(
                **said(messages.answer_window_closed(minutes)).as_edit()
            )
        except discord.HTTPException as exc:
            log.info("discord: interaction %s: could not say so (%s)", self.interaction.id, exc.status)

    def open_for_result(self) -> bool:
        return not self.closed

    def room(self) -> int | None:
        if self.member or self.followup_limit is None:
            return None
        response = 0 if self.original_gone else 1  # the response (unless deleted), then follow-ups
        return response + max(0, self.followup_limit - self.followups)

    def _may_follow_up(self) -> bool:
        if self.expired or self.closed:
            return False
        return self.followup_limit is None or self.followups < self.followup_limit

    # -- posting ---------------------------------------------------------------------------------

    async def prepare(self, text: str) -> None:
        return None  # the deferred response is the anchor

    def thread_parent(self) -> discord.TextChannel | None:
        if self.interaction.guild_id is None or not self.member:
            return None
        return _thread_parent(self.interaction.channel, self.interaction.app_permissions)

    async def _original(self, **fields: Any) -> discord.Message | None:
        if self.expired or self.closed or self.original_gone:
            return None
        try:
            return await self.interaction.edit_original_response(**fields)
        except discord.HTTPException as exc:
            if exc.code == UNKNOWN_MESSAGE:  # deleted: what is left to say goes in follow-ups
                self.original_gone = True
                log.info("discord: interaction %s: its response was deleted", self.interaction.id)
                return None
            if not _token_gone(exc):
                raise
            self.expired = True
            log.info("discord: interaction %s expired", self.interaction.id)
            return None

    async def _follow_up(self, post: Post, *, ephemeral: bool = False) -> discord.Message | None:
        if not self._may_follow_up():
            return None
        try:
            message = await self.interaction.followup.send(wait=True, ephemeral=ephemeral, **post.as_send())
        except discord.HTTPException as exc:
            if not _token_gone(exc):
                raise
            self.expired = True
            return None
        self.followups += 1
        return message

    async def show(self, text: str) -> None:
        await self._original(**Post(status_layout(text, self.cancel_job)).as_edit())

    async def become(self, post: Post) -> discord.Message | None:
        return await self._original(**post.as_edit())

    async def send(self, post: Post) -> discord.Message:
        message = await self._follow_up(post)
        if message is not None:
            return message
        if not self.member:
            raise NoRoute(f"interaction {self.interaction.id}: no follow-up left and no channel of ours")
        return await self.channel.send(**post.as_send())

    async def hold(self) -> None:
        if not self.interaction.response.is_done():
            await self.defer(ephemeral=True)

    async def whisper(self, text: str) -> None:
        response = self.interaction.response
        if not response.is_done():
            await response.send_message(ephemeral=True, **said(text).as_send())
            return
        if not self.delivered and not self.expired and not self.closed:
            # The first followup after a public "thinking…" is public whatever its flags (Discord
            # ignores them): that response goes first, as fail() does, so this stays private.
            with contextlib.suppress(discord.HTTPException):
                await self.interaction.delete_original_response()
        if await self._follow_up(said(text), ephemeral=True) is None:
            log.info("discord: interaction %s: no way left to answer privately", self.interaction.id)

    async def fail(self, text: str) -> None:
        interaction = self.interaction
        if not interaction.response.is_done():
            await interaction.response.send_message(ephemeral=True, **said(text).as_send())
            return
        if self.closed:
            return  # the response already says why nothing came
        if not self.expired:
            if not self.delivered:  # the public "thinking…"/progress message goes; the error is private
                with contextlib.suppress(discord.HTTPException):
                    await interaction.delete_original_response()
            if await self._follow_up(said(text), ephemeral=True) is not None:
                return
        if not self.member:
            log.info(
                "discord: interaction %s: too late to tell %s: %s", interaction.id, self.requester_id, text
            )
            return
        # Too late for a private answer: say it in the channel, to them.
        await self.channel.send(**said(f"<@{self.requester_id}> {text}", ping(self.requester_id)).as_send())

    async def delete_pressed(self) -> None:
        """Remove the message whose button was pressed, through this (component) interaction:
        a deferred update makes that message the response."""
        if not self.interaction.response.is_done():
            await self.interaction.response.defer()
        with contextlib.suppress(discord.NotFound):
            await self.interaction.delete_original_response()


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
        try:
            self.status = await self._reply(said(text))
        except discord.HTTPException as exc:
            if not _transient(exc):
                raise
            # It only shows progress: the job goes on without it (no thread; the result replies).
            log.info(
                "discord: no status message in %s (%s); going on without it", self.channel_id, exc.status
            )
            return
        self.message_id = self.status.id

    async def _reply(self, post: Post) -> discord.Message:
        """A reply to the message that asked; if it was deleted meanwhile (its author, a
        moderation bot), a plain message (Discord refused the reference: a traceback, nothing said)."""
        reference = self.trigger.to_reference(fail_if_not_exists=False)
        return await self.channel.send(reference=reference, mention_author=False, **post.as_send())

    def thread_parent(self) -> discord.TextChannel | None:
        guild = self.trigger.guild
        if guild is None or not isinstance(self.channel, discord.TextChannel):
            return None
        return _thread_parent(self.channel, self.channel.permissions_for(guild.me))

    async def show(self, text: str) -> None:
        if self.status is not None:
            await self.status.edit(**Post(status_layout(text, self.cancel_job)).as_edit())

    async def become(self, post: Post) -> discord.Message | None:
        if self.status is None:  # Discord failed to post it (prepare): the result is the reply
            return await self._reply(post)
        try:
            return await self.status.edit(**post.as_edit())
        except discord.NotFound:
            return None

    async def send(self, post: Post) -> discord.Message:
        return await self.channel.send(**post.as_send())

    async def whisper(self, text: str) -> None:
        await self._reply(said(text))

    async def fail(self, text: str) -> None:
        if self.status is not None and not self.delivered:
            with contextlib.suppress(discord.HTTPException):
                await self.status.edit(**said(text).as_edit())
                return
        await self._reply(said(text))


class ResumedAnchor(Anchor):
    """A job finished by a later process: its channel, thread and anchor message ids only.

    The interaction that started it is gone, so its response may not be editable (Discord
    lets only the interaction edit it); then the result is a new message replying to it.
    `delivered`: images of a streamed batch reached the user before the restart; the anchor
    shows them (or heads their thread), so what is said goes in a new message under it.
    """

    def __init__(
        self,
        channel: PostChannel,
        channel_id: int,
        *,
        requester_id: int,
        message_id: int | None,
        filesize_limit: int,
        delivered: bool = False,
    ) -> None:
        self.channel = channel
        self._where = channel
        self.channel_id = channel_id
        self.requester_id = requester_id
        self.message_id = message_id
        self.filesize_limit = filesize_limit
        self.delivered = delivered

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
            await message.edit(**Post(status_layout(text, self.cancel_job)).as_edit())

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
        if not self.delivered:
            try:
                await self.show(text)
                if self.message_id is not None:
                    return
            except discord.HTTPException:
                pass
        await self.send(said(f"<@{self.requester_id}> {text}", ping(self.requester_id)))


@dataclass
class ResultDelivery:
    """The engine's deliver callback for one job (see the module docstring)."""

    anchor: Anchor
    shown: Shown

    async def __call__(self, result: GenerationResult) -> Delivery:
        anchor = self.anchor
        if not anchor.open_for_result():
            raise DeliveryError(f"job {result.job_id}: the answer window closed before delivery")
        if isinstance(anchor, InteractionAnchor):
            anchor.delivering = True
        try:
            return await self._deliver(result)
        finally:
            if isinstance(anchor, InteractionAnchor):
                anchor.delivering = False

    async def _deliver(self, result: GenerationResult) -> Delivery:
        anchor = self.anchor
        packed = await fit_and_pack(result.images, anchor.limits, anchor.room())
        images, refitted, groups = packed.images, packed.refitted, packed.groups
        if not images:  # none fits the upload limit: the engine says so
            return Delivery(delivered=0)
        made = len(images)
        files = [(image.filename(result.job_id, i), image.data) for i, image in enumerate(images, start=1)]
        shown = self.shown
        thread = await anchor.start_thread(messages.thread_name(shown.prompt))

        def post_for(n: int, group: Sequence[int], *, pinged: bool, posted: int = packed.planned) -> Post:
            return anchor.page(
                shown,
                lead=n == 0,
                names=[files[i][0] for i in group],
                first=group[0] + 1,
                total=made,
                details=shown.details(made, posted=posted, refitted=refitted),
                pinged=pinged,
                images=[files[i] for i in group],
            )

        async def post_group(n: int, group: Sequence[int]) -> discord.Message:
            nonlocal thread
            if thread is not None and n == 0:
                try:  # the requester is pinged, and so joins the thread
                    return await thread.send(**post_for(0, group, pinged=True).as_send())
                except discord.HTTPException as exc:
                    log.info(
                        "discord: could not post in thread %s (%s); posting inline", thread.id, exc.status
                    )
                    thread = None
            post = post_for(n, group, pinged=False)
            if thread is not None:
                return await thread.send(**post.as_send())
            if n == 0:
                message = await anchor.become(post) or await anchor.send(post)
                anchor.delivered = True
                return message
            return await anchor.send(post)

        try:
            outcome = await post_groups(groups, post_group, job_id=result.job_id, ids=message_id)
        except NoRoute as exc:  # nothing reached the user: the engine refunds everything
            raise DeliveryError(str(exc)) from exc
        posted, delivered = outcome.sent, outcome.delivered
        if outcome.short:
            await self._note_unposted(
                posted[0], post_for(0, groups[0], pinged=thread is not None, posted=delivered)
            )
        return await anchor.settled(shown, posted, delivered, thread)

    @staticmethod
    async def _note_unposted(first: discord.Message, corrected: Post) -> None:
        """Images past the first messages could not be posted (they are refunded): say so in the
        first one, with the quota it shows corrected. Its files are already there."""
        try:
            await first.edit(
                content=None, embeds=[], view=corrected.view, allowed_mentions=corrected.mentions
            )
        except discord.HTTPException as exc:
            log.info("discord: could not add the unposted note to %s (%s)", first.id, exc.status)
