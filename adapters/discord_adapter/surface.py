"""Discord as a surface of the conversation: interactions become turns, anchors show answers.

    /imagine, /edit                       -> Ask (typed options, attachments)
    "Edit with Seedream" on a message     -> Edit of that message (its images if not a result)
    Re-roll / Variations / Delete / Info  -> the same turns on every surface
    Edit button -> its form (a modal)     -> Edit of the job
    /usage, /history                      -> Usage, History (ephemeral)
    /seedbot ...                          -> the conversation's admin actions

Interactions that make images are deferred first thing; the turn then runs as a tracked
background task (a shutdown lets it finish, then cancels it and the engine refunds). What a
user may do, and every word they read, is decided in bot/conversation.

Seedbot can be installed to a server or to a person's account. Where the bot is not a member
(a person's own install used in a server without the bot, a group DM, a DM between people) the
requester is a *guest*: only their own quota applies, and the anchor answers only through the
interaction (see delivery.py).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from adapters.discord_adapter.attachments import DiscordAttachments, image_attachments
from adapters.discord_adapter.delivery import (
    InteractionAnchor,
    MessageAnchor,
    ResumedAnchor,
    bot_is_member,
    said,
)
from adapters.discord_adapter.reply import DiscordReply
from adapters.discord_adapter.text import channel_id, channel_link, emoji_names, person_key
from bot import i18n, messages
from bot.app.runtime import Runtime
from bot.conversation.conversation import Surface
from bot.conversation.tasks import BackgroundTasks
from bot.conversation.turns import (
    MAKES_IMAGES,
    Action,
    Ask,
    Edit,
    History,
    OpenEdit,
    Options,
    ResultRef,
    Turn,
    Usage,
    pressed,
)
from bot.errors import DeliveryError
from bot.request.flags import flag_help
from bot.request.models import Job, Requester

__all__ = ["PLATFORM", "DiscordSurface", "jump_url", "requester_for", "speak"]

log = logging.getLogger(__name__)

PLATFORM = "discord"
PLACE = "server"  # what Discord calls a community (as DiscordPlugin.place says to the CLI)
PROGRESS_INTERVAL = 2.0  # seconds between progress edits of one message
OPEN_FORMS_KEPT = 256  # forms close after 15 minutes; older ones are fetched again


def requester_for(
    user: discord.abc.User,
    *,
    guild_id: int | None,
    channel_id: int | None,
    parent_id: int | None = None,
    manages_guild: bool = False,
    guest: bool = False,
    locale: str | None = None,
    guild_locale: str | None = None,
) -> Requester:
    return Requester(
        platform=PLATFORM,
        user_id=str(user.id),
        workspace_id=str(guild_id) if guild_id else None,
        channel_id=str(channel_id) if channel_id else None,
        display_name=user.mention,
        parent_channel_id=str(parent_id) if parent_id else None,
        manages_workspace=manages_guild and not guest,
        guest=guest,
        locale=locale,
        workspace_locale=guild_locale,
    )


def interaction_requester(interaction: discord.Interaction[Any]) -> Requester:
    return requester_for(
        interaction.user,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        parent_id=getattr(interaction.channel, "parent_id", None),
        manages_guild=interaction.guild_id is not None and interaction.permissions.manage_guild,
        guest=not bot_is_member(interaction),
        locale=interaction.locale.value,
        guild_locale=interaction.guild_locale.value if interaction.guild_locale else None,
    )


def speak(interaction: discord.Interaction[Any]) -> None:
    """Answer this interaction in its user's language from here on (what they alone read), in
    Discord's words; the conversation posts what everyone reads in the server's language
    (Requester.workspace_locale)."""
    i18n.set_current(interaction.locale.value)
    i18n.set_place(PLACE)


def jump_url(job: Job) -> str | None:
    """The Discord link to a job's first result message."""
    if not job.result_message_ids:
        return None
    guild = job.workspace_id or "@me"
    # A thread started from a message has that message's id: it is the starter, in the channel.
    in_thread = sorted((m for m in job.result_message_ids if m != job.thread_id), key=lambda m: (len(m), m))
    if in_thread:
        return f"https://discord.com/channels/{guild}/{job.thread_id or job.channel_id}/{in_thread[0]}"
    return f"https://discord.com/channels/{guild}/{job.channel_id}/{job.result_message_ids[0]}"


async def _link(job: Job) -> str | None:
    return jump_url(job)


class DiscordSurface:
    def __init__(self, runtime: Runtime, client: discord.Client, tasks: BackgroundTasks) -> None:
        self.settings = runtime.settings
        self.conversation = runtime.conversation
        self.fetcher = runtime.fetcher
        self.client = client
        self.tasks = tasks
        # Messages whose "Edit with Seedream" form is open (a submission carries only the id).
        self._opened: OrderedDict[int, discord.Message] = OrderedDict()
        self.conversation.attach(
            Surface(
                PLATFORM,
                resumed=self.resumed_reply,
                help=self.help,
                progress_interval=PROGRESS_INTERVAL,
                prefix=self.mention,
                link=_link,
                person=person_key,
                channel=channel_id,
                channel_link=channel_link,
                place=PLACE,
            )
        )

    def mention(self) -> str:
        """How typed commands start here: the bot's mention."""
        me = self.client.user
        return f"@{me.name}" if me else "@seedbot"

    def help(self) -> str:
        return messages.mention_help(self.mention(), flag_help())

    def attachments(self, items: Sequence[discord.Attachment]) -> DiscordAttachments:
        return DiscordAttachments(self.fetcher, list(items))

    # -- running turns -------------------------------------------------------------------------

    async def _accept(
        self, interaction: discord.Interaction[Any], *, ephemeral: bool = False
    ) -> InteractionAnchor | None:
        """Defer at once (well inside Discord's 3 s). None when shutting down (user told) or
        when Discord would not take the acknowledgement (logged in one line)."""
        speak(interaction)
        if self.tasks.closing:
            await interaction.response.send_message(ephemeral=True, **said(messages.SHUTTING_DOWN).as_send())
            return None
        anchor = InteractionAnchor(interaction)
        try:
            await anchor.defer(ephemeral=ephemeral)
        except discord.HTTPException as exc:
            # 404: answered too late (over 3 s); 400: already acknowledged; 401: a stale token.
            log.warning(
                "discord: interaction %s could not be acknowledged (%s %s)",
                interaction.id,
                exc.status,
                exc.text or type(exc).__name__,
            )
            return None
        return anchor

    async def job(self, interaction: discord.Interaction[Any], action: Action, what: str) -> None:
        """A turn that may make images: deferred publicly, run in the background."""
        anchor = await self._accept(interaction)
        if anchor is None:
            return
        anchor.watch()
        turn = Turn(interaction_requester(interaction), action, what)
        self.tasks.spawn(self._run(turn, anchor), name=f"{what} {interaction.id}")

    async def _run(self, turn: Turn, anchor: InteractionAnchor) -> None:
        try:
            await self.conversation.handle(turn, DiscordReply(anchor))
        finally:
            anchor.close()

    async def answer(self, interaction: discord.Interaction[Any], action: Action, what: str) -> None:
        """A turn answered privately at once (usage, info, history)."""
        speak(interaction)
        turn = Turn(interaction_requester(interaction), action, what)
        await self.conversation.handle(turn, DiscordReply(InteractionAnchor(interaction)))

    # -- slash commands ------------------------------------------------------------------------

    async def imagine(
        self,
        interaction: discord.Interaction[Any],
        prompt: str,
        attachments: Sequence[discord.Attachment],
        options: Options,
        *,
        what: str = "/imagine",
    ) -> None:
        # Its prompt is read as typed text is on every surface: `/imagine usage` is the usage.
        ask = Ask(emoji_names(prompt), options, self.attachments(attachments), commands=True, words=prompt)
        await self.job(interaction, ask, what)

    async def usage(self, interaction: discord.Interaction[Any]) -> None:
        await self.answer(interaction, Usage(), "/usage")

    async def private(self, interaction: discord.Interaction[Any], action: Action, what: str) -> None:
        """A turn answered privately that may download first (/cast save): deferred at once."""
        anchor = await self._accept(interaction, ephemeral=True)
        if anchor is not None:
            await self._run(Turn(interaction_requester(interaction), action, what), anchor)

    async def history(self, interaction: discord.Interaction[Any]) -> None:
        await self.answer(interaction, History(), "/history")

    async def admin(
        self,
        interaction: discord.Interaction[Any],
        what: str,
        action: Callable[[Requester], Awaitable[str]],
    ) -> None:
        """One admin action; refusals and answers are private."""
        speak(interaction)
        text = await self.conversation.admin.answer(interaction_requester(interaction), what, action)
        await interaction.response.send_message(ephemeral=True, **said(text).as_send())

    # -- the message context menu --------------------------------------------------------------

    async def context_menu(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        """ "Edit with Seedream": the core's Edit form for that message (a result of ours, or
        a message with images), or its refusal, privately."""
        speak(interaction)
        self._keep(message)
        ask = OpenEdit(
            ResultRef(message_id=str(message.id)), fallback=self.attachments(image_attachments(message))
        )
        turn = Turn(interaction_requester(interaction), ask, "context edit")
        await self.conversation.handle(turn, DiscordReply(InteractionAnchor(interaction), about=message))

    async def context_submitted(
        self, interaction: discord.Interaction[Any], message_id: int, prompt: str
    ) -> None:
        """A submitted "Edit with Seedream" form: an Edit of that message, whose images are
        read from the copy kept when the form opened, else fetched again (after a restart)."""
        message = self._opened.get(message_id) or await self._fetch(interaction, message_id)
        if message is None:
            speak(interaction)
            await interaction.response.send_message(ephemeral=True, **said(messages.FORM_INACTIVE).as_send())
            return
        edit = Edit(
            ResultRef(message_id=str(message.id)),
            prompt,
            fallback=self.attachments(image_attachments(message)),
        )
        await self.job(interaction, edit, "context edit")

    def _keep(self, message: discord.Message) -> None:
        self._opened[message.id] = message
        self._opened.move_to_end(message.id)
        while len(self._opened) > OPEN_FORMS_KEPT:
            self._opened.popitem(last=False)

    @staticmethod
    async def _fetch(interaction: discord.Interaction[Any], message_id: int) -> discord.Message | None:
        """The message a form was opened on, read again where the bot may read it."""
        channel = interaction.channel
        if not bot_is_member(interaction) or not isinstance(channel, discord.abc.Messageable):
            return None
        try:
            return await channel.fetch_message(message_id)
        except discord.HTTPException as exc:
            log.info("discord: form of message %s: cannot fetch it (%s)", message_id, exc.status)
            return None

    # -- buttons and the Edit modal ------------------------------------------------------------

    async def button(
        self, interaction: discord.Interaction[Any], action: str, job_id: str, pick: int | None = None
    ) -> None:
        speak(interaction)
        if action == "delete":  # the reply takes the pressed message away
            turn = Turn(interaction_requester(interaction), pressed(action, job_id), action)
            reply = DiscordReply(InteractionAnchor(interaction), pressed=interaction.message)
            await self.conversation.handle(turn, reply)
        elif action in MAKES_IMAGES:
            await self.job(interaction, pressed(action, job_id, pick), action)
        else:  # info, cancel: answered at once, privately; edit: its form, at once
            await self.answer(interaction, pressed(action, job_id, pick), action)

    async def edit_submitted(self, interaction: discord.Interaction[Any], job_id: str, prompt: str) -> None:
        await self.job(interaction, Edit(ResultRef(job_id=job_id), prompt), "edit")

    async def stale_button(self, interaction: discord.Interaction[Any]) -> None:
        """A component id that is not (or no longer) one of ours: say so, privately."""
        speak(interaction)
        await interaction.response.send_message(ephemeral=True, **said(messages.BUTTON_INACTIVE).as_send())

    # -- messages: mentions, replies to results, DMs -------------------------------------------

    def message_turn(self, message: discord.Message, action: Action, what: str) -> None:
        # A message says nothing of its author's language: the server's is everyone's there.
        server_locale = message.guild.preferred_locale.value if message.guild else None
        who = requester_for(
            message.author,
            guild_id=message.guild.id if message.guild else None,
            channel_id=message.channel.id,
            parent_id=getattr(message.channel, "parent_id", None),
            locale=server_locale,
            guild_locale=server_locale,
        )
        reply = DiscordReply(MessageAnchor(message))
        self.tasks.spawn(
            self.conversation.handle(Turn(who, action, what), reply), name=f"{what} {message.id}"
        )

    # -- jobs resumed after a restart ----------------------------------------------------------

    async def resumed_reply(self, job: Job) -> DiscordReply:
        where = job.thread_id or job.channel_id
        if not where:
            raise DeliveryError(f"job {job.id} has no channel")
        channel_id = int(where)
        guild_id = int(job.workspace_id) if job.workspace_id else None
        if guild_id and self.client.shard_count is None and self.client.get_guild(guild_id) is None:
            # A server this (only) process is not in: the job was a guest's, answered only through
            # its interaction, which is gone. Nothing to fetch or post there; the engine refunds.
            raise DeliveryError(f"job {job.id}: not a member of server {guild_id}")
        try:
            channel = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
        except discord.HTTPException as exc:
            raise DeliveryError(f"job {job.id}: channel {channel_id}: {exc.status}") from exc
        if not isinstance(channel, discord.TextChannel | discord.Thread | discord.DMChannel):
            raise DeliveryError(f"job {job.id}: cannot post in channel {channel_id}")
        in_anchor_channel = job.thread_id is None or job.thread_id == job.channel_id
        guild = getattr(channel, "guild", None)
        user_id = int(job.user_key.split(":", 1)[1])
        return DiscordReply(
            ResumedAnchor(
                channel,
                channel_id,
                requester_id=user_id,
                message_id=int(job.message_id) if job.message_id and in_anchor_channel else None,
                filesize_limit=(
                    guild.filesize_limit if guild is not None else discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
                ),
                delivered=job.images_delivered > 0,
            )
        )
