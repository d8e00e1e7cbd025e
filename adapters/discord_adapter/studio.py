"""What seedbot does for each Discord input, once it is acknowledged.

    /imagine, /edit, mention, DM          -> compose_new (attachments are the references)
    reply to a result, Edit button/modal  -> compose_edit (the result's images, then new ones)
    "Edit with Seedream" on a message     -> compose_edit if it is a result, else its attachments
    Re-roll / Variations                  -> compose_reroll / compose_variations
    Delete                                -> the result's messages (owner, SEEDBOT_ADMINS, Manage Server)
    /usage                                -> images left and when they reset (ephemeral)

Interactions are deferred first thing; the work then runs as a tracked background task (so a
shutdown lets it finish, then cancels it and the engine refunds). Everything that is not Discord
(flags, request building, wording, quotas) is in `bot/`. Errors reach the user in the words of
`bot.messages`, ephemeral where Discord allows, always saying whether they were charged;
anything unexpected is logged with its context and shown as messages.UNEXPECTED.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import discord

from adapters.discord_adapter.attachments import AttachmentReader, image_attachments
from adapters.discord_adapter.delivery import (
    NO_PINGS,
    Anchor,
    InteractionAnchor,
    ResultDelivery,
    ResumedAnchor,
)
from adapters.discord_adapter.views import ContextEditModal, EditModal
from bot import messages
from bot.app.runtime import Runtime
from bot.conversation.compose import (
    Composed,
    compose_edit,
    compose_new,
    compose_reroll,
    compose_variations,
    option_defaults,
)
from bot.conversation.progress import ProgressRelay
from bot.conversation.tasks import BackgroundTasks
from bot.engine.pipeline import Delivery
from bot.errors import DeliveryError, InvalidRequest, SeedbotError
from bot.request.flags import parse_text
from bot.request.models import GenerationResult, Job, JobStatus, Requester

__all__ = ["PLATFORM", "Origin", "Studio", "requester_for"]

log = logging.getLogger(__name__)

PLATFORM = "discord"
PROGRESS_INTERVAL = 2.0  # seconds between progress edits of one message


def requester_for(
    user: discord.abc.User,
    *,
    guild_id: int | None,
    channel_id: int | None,
    parent_id: int | None = None,
) -> Requester:
    return Requester(
        platform=PLATFORM,
        user_id=str(user.id),
        workspace_id=str(guild_id) if guild_id else None,
        channel_id=str(channel_id) if channel_id else None,
        display_name=user.mention,
        parent_channel_id=str(parent_id) if parent_id else None,
    )


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


def _user_id(job: Job) -> int:
    return int(job.user_key.split(":", 1)[1])


def _requester_of(job: Job) -> Requester:
    return Requester(
        platform=PLATFORM,
        user_id=str(_user_id(job)),
        workspace_id=job.workspace_id,
        channel_id=job.channel_id,
        display_name=f"<@{_user_id(job)}>",
    )


@dataclass(frozen=True, slots=True)
class Origin:
    requester: Requester
    what: str  # for logs: "/imagine", "reply", "reroll", ...


class Studio:
    def __init__(self, runtime: Runtime, client: discord.Client, tasks: BackgroundTasks) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.engine = runtime.engine
        self.ledger = runtime.ledger
        self.client = client
        self.tasks = tasks
        self.reader = AttachmentReader(runtime.fetcher)
        self.progress_interval = PROGRESS_INTERVAL

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def origin(interaction: discord.Interaction[Any], what: str) -> Origin:
        return Origin(
            requester_for(
                interaction.user,
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                parent_id=getattr(interaction.channel, "parent_id", None),
            ),
            what,
        )

    async def _accept(self, interaction: discord.Interaction[Any]) -> InteractionAnchor | None:
        """Defer at once (well inside Discord's 3 s); None when shutting down (user told)."""
        if self.tasks.closing:
            await interaction.response.send_message(messages.SHUTTING_DOWN, ephemeral=True)
            return None
        anchor = InteractionAnchor(interaction)
        try:
            await anchor.defer()
        except discord.NotFound:  # answered too late (over 3 s): Discord has dropped it
            log.warning("discord: interaction %s expired before it was acknowledged", interaction.id)
            return None
        return anchor

    def _spawn_interaction(
        self,
        interaction: discord.Interaction[Any],
        anchor: InteractionAnchor,
        what: str,
        work: Callable[[Origin, Anchor], Awaitable[None]],
    ) -> None:
        origin = self.origin(interaction, what)

        async def job() -> None:
            async with self.guard(origin, anchor):
                await work(origin, anchor)

        self.tasks.spawn(job(), name=f"{what} {interaction.id}")

    @asynccontextmanager
    async def guard(self, origin: Origin, anchor: Anchor) -> AsyncIterator[None]:
        """Turn any failure into a plain answer to the person who asked."""
        try:
            yield
        except SeedbotError as exc:
            log.info("discord: %s by %s refused: %s", origin.what, origin.requester.key, exc)
            await self._tell(anchor, messages.with_charge_note(exc.user_text, exc.charged))
        except discord.Forbidden as exc:
            log.info("discord: %s in %s: forbidden (%s)", origin.what, anchor.channel_id, exc.code)
            await self._tell(anchor, messages.CANNOT_POST_HERE)
        except asyncio.CancelledError:  # shutting down: the engine refunded or checkpointed the job
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._interrupted(origin, anchor), 3.0)
            raise
        except Exception:
            log.exception(
                "discord: %s by %s in channel %s failed",
                origin.what,
                origin.requester.key,
                anchor.channel_id,
            )
            await self._tell(anchor, messages.UNEXPECTED)

    async def _interrupted(self, origin: Origin, anchor: Anchor) -> None:
        """A job cut short by shutdown: either refunded, or left running at a provider that the
        next process resumes (then its result comes to this anchor, so it is kept)."""
        if anchor.message_id is not None:
            for job in await self.ledger.jobs_for_user(origin.requester.key, limit=20):
                if job.message_id == str(anchor.message_id) and job.status in (
                    JobStatus.QUEUED,
                    JobStatus.RUNNING,
                ):
                    await anchor.show(messages.RESUMES_AFTER_RESTART)
                    return
        await anchor.fail(messages.SHUTTING_DOWN)

    @staticmethod
    async def _tell(anchor: Anchor, text: str) -> None:
        try:
            await anchor.fail(text)
        except Exception:
            log.warning("discord: could not tell the user: %s", text, exc_info=True)

    async def _result(self, job_id: str) -> Job:
        job = await self.ledger.get_job(job_id) if job_id else None
        if job is None or job.platform != PLATFORM:
            raise InvalidRequest(messages.NOT_A_RESULT)
        return job

    async def _defaults(self, requester: Requester, **options: Any) -> dict[str, object]:
        """The server's defaults, then the options picked in the command."""
        return {**await self.engine.defaults_for(requester), **option_defaults(**options)}

    # -- running one job -----------------------------------------------------------------------

    async def run(self, origin: Origin, anchor: Anchor, composed: Composed) -> None:
        validated = await self.engine.admit(composed.request, origin.requester)  # free: refusals cost nothing
        await anchor.prepare(messages.STARTING)
        relay = ProgressRelay(anchor.show, min_interval=self.progress_interval, footer=composed.legend)
        deliver = ResultDelivery(
            anchor,
            prompt=validated.prompt,
            requester_name=origin.requester.display_name,
            left_after=functools.partial(self.engine.left_after, origin.requester),
            legend=composed.legend,
            relay=relay,
        )
        try:
            await self.engine.generate(
                composed.request,
                origin.requester,
                deliver=deliver,
                target=anchor.target(),
                kind=composed.kind,
                parent_id=composed.parent_id,
                progress=relay,
            )
        finally:
            await relay.stop()

    # -- slash commands ------------------------------------------------------------------------

    async def imagine(
        self,
        interaction: discord.Interaction[Any],
        prompt: str,
        attachments: Sequence[discord.Attachment],
        options: dict[str, Any],
        *,
        what: str = "/imagine",
    ) -> None:
        anchor = await self._accept(interaction)
        if anchor is None:
            return

        async def work(origin: Origin, anchor: Anchor) -> None:
            defaults = await self._defaults(origin.requester, **options)  # errors before any download
            parse_text(prompt)
            images = await self.reader.references(attachments)
            await self.run(origin, anchor, compose_new(prompt, images, **defaults))

        self._spawn_interaction(interaction, anchor, what, work)

    async def usage(self, interaction: discord.Interaction[Any]) -> None:
        origin = self.origin(interaction, "/usage")
        await interaction.response.send_message(
            await self.engine.usage_text(origin.requester), ephemeral=True
        )

    async def history(self, interaction: discord.Interaction[Any]) -> None:
        origin = self.origin(interaction, "/history")

        async def link(job: Job) -> str | None:
            return jump_url(job)

        text = await self.engine.community.history(origin.requester, link)
        await interaction.response.send_message(text[:2000], ephemeral=True, allowed_mentions=NO_PINGS)

    async def info(self, interaction: discord.Interaction[Any], job_id: str) -> None:
        job = await self.ledger.get_job(job_id)
        if job is None or job.platform != PLATFORM:
            await interaction.response.send_message(messages.NOT_A_RESULT, ephemeral=True)
            return
        text = await self.engine.community.lineage(job)
        await interaction.response.send_message(text[:2000], ephemeral=True, allowed_mentions=NO_PINGS)

    # -- admins: /seedbot quota | settings | stats ----------------------------------------------

    def is_admin(self, interaction: discord.Interaction[Any]) -> bool:
        """SEEDBOT_ADMINS, or Manage Server in the server the command comes from."""
        if self.engine.is_admin(self.origin(interaction, "admin").requester):
            return True
        return interaction.guild_id is not None and interaction.permissions.manage_guild

    async def admin(
        self,
        interaction: discord.Interaction[Any],
        what: str,
        action: Callable[[str, str], Awaitable[str]],
        *,
        target: discord.abc.User | None = None,
    ) -> None:
        """Run one admin action as `action(actor, workspace)`; refusals and errors are private.
        `target`: the user whose quota it changes (Discord resolves members of this server as
        discord.Member)."""
        origin = self.origin(interaction, what)
        if not self.is_admin(interaction):
            log.info("discord: %s refused %s (not an admin)", origin.requester.key, what)
            await interaction.response.send_message(messages.NOT_ADMIN, ephemeral=True)
            return
        if interaction.guild_id is None:
            await interaction.response.send_message(messages.NEEDS_WORKSPACE, ephemeral=True)
            return
        if (
            target is not None
            and not isinstance(target, discord.Member)
            and not self.engine.is_admin(origin.requester)
        ):
            # Quotas are per person across servers: a server's admins manage only their members.
            log.info("discord: %s refused %s (target not a member)", origin.requester.key, what)
            await interaction.response.send_message(messages.NOT_A_MEMBER, ephemeral=True)
            return
        try:
            text = await action(origin.requester.key, f"{PLATFORM}:{interaction.guild_id}")
        except SeedbotError as exc:
            text = exc.user_text
        log.info("discord: %s by %s", what, origin.requester.key)
        await interaction.response.send_message(text[:2000], ephemeral=True, allowed_mentions=NO_PINGS)

    # -- the message context menu --------------------------------------------------------------

    async def context_menu(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        job = await self.ledger.job_for_message(PLATFORM, str(message.id))
        if job is None and not image_attachments(message):
            await interaction.response.send_message(messages.NO_IMAGES_IN_MESSAGE, ephemeral=True)
            return
        await interaction.response.send_modal(ContextEditModal(message))

    async def context_submitted(
        self, interaction: discord.Interaction[Any], message: discord.Message, prompt: str
    ) -> None:
        anchor = await self._accept(interaction)
        if anchor is None:
            return

        async def work(origin: Origin, anchor: Anchor) -> None:
            parse_text(prompt)
            job = await self.ledger.job_for_message(PLATFORM, str(message.id))
            if job is not None:
                composed = await compose_edit(self.ledger, job, prompt, [], wait=self.engine.parent_wait)
            else:
                images = await self.reader.references(image_attachments(message))
                if not images:
                    raise InvalidRequest(messages.NO_IMAGES_IN_MESSAGE)
                composed = compose_new(prompt, images, **await self.engine.defaults_for(origin.requester))
            await self.run(origin, anchor, composed)

        self._spawn_interaction(interaction, anchor, "context edit", work)

    # -- buttons and the Edit modal ------------------------------------------------------------

    async def button(self, interaction: discord.Interaction[Any], action: str, job_id: str) -> None:
        if action == "info":
            await self.info(interaction, job_id)
            return
        if action == "edit":
            await interaction.response.send_modal(EditModal(job_id))
            return
        if action == "delete":
            await self._delete(interaction, job_id)
            return
        anchor = await self._accept(interaction)
        if anchor is None:
            return

        async def work(origin: Origin, anchor: Anchor) -> None:
            parent = await self._result(job_id)
            if action == "variations":
                composed = await compose_variations(self.ledger, parent)
            else:
                composed = await compose_reroll(self.ledger, parent)
            await self.run(origin, anchor, composed)

        self._spawn_interaction(interaction, anchor, action, work)

    async def edit_submitted(self, interaction: discord.Interaction[Any], job_id: str, prompt: str) -> None:
        anchor = await self._accept(interaction)
        if anchor is None:
            return

        async def work(origin: Origin, anchor: Anchor) -> None:
            parse_text(prompt)
            parent = await self._result(job_id)
            await self.run(origin, anchor, await compose_edit(self.ledger, parent, prompt, []))

        self._spawn_interaction(interaction, anchor, "edit", work)

    def may_delete(self, interaction: discord.Interaction[Any], job: Job) -> bool:
        """The person who made it, a SEEDBOT_ADMINS entry, or someone who may Manage Server."""
        requester = self.origin(interaction, "delete").requester
        if job.user_key == requester.key or self.engine.is_admin(requester):
            return True
        return interaction.guild_id is not None and interaction.permissions.manage_guild

    async def _delete(self, interaction: discord.Interaction[Any], job_id: str) -> None:
        job = await self.ledger.get_job(job_id)
        if job is None or job.platform != PLATFORM:
            await interaction.response.send_message(messages.NOT_A_RESULT, ephemeral=True)
            return
        if not self.may_delete(interaction, job):
            log.info("discord: %s may not delete job %s", interaction.user.id, job_id)
            await interaction.response.send_message(messages.NOT_OWNER, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        pressed = interaction.message
        ids = {int(m) for m in job.result_message_ids}
        if pressed is not None:
            ids.add(pressed.id)
        if job.message_id and (pressed is None or int(job.message_id) != pressed.id):
            ids.discard(int(job.message_id))  # the thread's starter message stays
        channel = interaction.channel
        for message_id in sorted(ids):
            if channel is None or not isinstance(channel, discord.abc.Messageable):
                break
            with contextlib.suppress(discord.NotFound):
                await discord.PartialMessage(channel=channel, id=message_id).delete()
        log.info("discord: job %s deleted by %s", job_id, interaction.user.id)
        await interaction.followup.send(messages.DELETED, ephemeral=True)

    # -- jobs resumed after a restart (PlatformHooks) ------------------------------------------

    async def _resumed_anchor(self, job: Job) -> ResumedAnchor:
        where = job.thread_id or job.channel_id
        if not where:
            raise DeliveryError(f"job {job.id} has no channel")
        channel_id = int(where)
        try:
            channel = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
        except discord.HTTPException as exc:
            raise DeliveryError(f"job {job.id}: channel {channel_id}: {exc.status}") from exc
        if not isinstance(channel, discord.TextChannel | discord.Thread | discord.DMChannel):
            raise DeliveryError(f"job {job.id}: cannot post in channel {channel_id}")
        in_anchor_channel = job.thread_id is None or job.thread_id == job.channel_id
        guild = getattr(channel, "guild", None)
        return ResumedAnchor(
            channel,
            channel_id,
            requester_id=_user_id(job),
            message_id=int(job.message_id) if job.message_id and in_anchor_channel else None,
            filesize_limit=(
                guild.filesize_limit if guild is not None else discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
            ),
        )

    async def deliver_resumed(self, job: Job, result: GenerationResult) -> Delivery:
        requester = _requester_of(job)
        deliver = ResultDelivery(
            await self._resumed_anchor(job),
            prompt=job.prompt,
            requester_name=requester.display_name,
            left_after=functools.partial(self.engine.left_after, requester),
        )
        return await deliver(result)

    async def notify_resumed(self, job: Job, text: str) -> None:
        anchor = await self._resumed_anchor(job)
        await anchor.fail(messages.with_charge_note(text))
