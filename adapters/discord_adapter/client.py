"""The discord.py client: intents, start-up (buttons, commands, sync) and the invite link.

Intents: guilds (channels and threads), guild and DM messages (mentions, replies, DMs). The
privileged message-content intent is asked for only when the application has it enabled in the
Developer Portal (read from the application's flags at login), so the bot never fails to
connect over it; without it, messages that ping the bot and DMs still carry their text.

Commands are synced at start-up: globally, or to DISCORD_GUILD_ID only (instant, for
development). Prefix commands are not used: messages go to the MessageHandler.

One gateway connection serves up to 2,500 servers. Past that, DISCORD_SHARD_COUNT (and
DISCORD_SHARD_IDS, the shards this process runs) make the client a `commands.AutoShardedBot`
(`make_bot`): each process runs its subset of shards against DISCORD_GATEWAY_URL, and the jobs,
buttons and replies of any server work in whichever process owns its shard, since job state is in
the shared database. Neither set: the single-connection `commands.Bot`, as before.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from adapters.discord_adapter.commands import ImageCommands
from adapters.discord_adapter.delivery import NO_PINGS
from adapters.discord_adapter.invite import DISCORD_PERMISSION_BITS, DISCORD_SCOPES, discord_user_install_url
from adapters.discord_adapter.replies import MessageHandler
from adapters.discord_adapter.settings import DiscordSettings
from adapters.discord_adapter.surface import DiscordSurface
from adapters.discord_adapter.translator import SeedbotTranslator
from adapters.discord_adapter.views import ResultButton, context_submission, edit_submission, is_result_button
from bot.app.runtime import Runtime
from bot.conversation.tasks import BackgroundTasks

__all__ = ["PERMISSIONS", "SCOPES", "SeedBot", "ShardedSeedBot", "intents", "make_bot"]

log = logging.getLogger(__name__)

SCOPES = DISCORD_SCOPES
PERMISSIONS = discord.Permissions(DISCORD_PERMISSION_BITS)


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    return wanted


class SeedBot(commands.Bot):
    def __init__(
        self, runtime: Runtime, tasks: BackgroundTasks, settings: DiscordSettings, **shards: Any
    ) -> None:
        self._wanted = intents()
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=self._wanted,
            help_command=None,
            allowed_mentions=NO_PINGS,
            chunk_guilds_at_startup=False,
            **shards,
        )
        self.runtime = runtime
        self.settings = settings
        self.actions = DiscordSurface(runtime, self, tasks)
        self.replies = MessageHandler(self.actions, self)

    @property
    def invite_url(self) -> str:
        return discord.utils.oauth_url(self.application_id or 0, permissions=PERMISSIONS, scopes=SCOPES)

    async def setup_hook(self) -> None:
        flags = self.application_flags
        if flags.gateway_message_content or flags.gateway_message_content_limited:
            # The same Intents object the connection identifies with; set before connecting.
            self._wanted.message_content = True
            log.info("discord: the message content intent is enabled for this application; using it")
        self.add_dynamic_items(ResultButton)
        await self.tree.set_translator(SeedbotTranslator())  # names and descriptions, localized
        await self.add_cog(ImageCommands(self, self.actions))
        await self.sync_commands()
        log.info("discord: invite the bot with %s", self.invite_url)
        log.info(
            "discord: or add it to your account with %s", discord_user_install_url(self.application_id or 0)
        )

    async def sync_commands(self) -> None:
        guild_id = self.settings.discord_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("discord: synced %d command(s) to server %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("discord: synced %d global command(s)", len(synced))

    async def on_message(self, message: discord.Message) -> None:
        await self.replies.on_message(message)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """An Edit form (of a result, or "Edit with Seedream" on a message), answered from the
        submission (opened by this process or an earlier one). A component that is not one of
        our live buttons (an old or foreign id) gets a private "no longer active" instead of
        Discord's "This interaction failed"."""
        data: dict[str, Any] = dict(interaction.data or {})
        if interaction.type is discord.InteractionType.modal_submit:
            edit = edit_submission(data)
            if edit is not None:
                await self.actions.edit_submitted(interaction, *edit)
            context = context_submission(data)
            if context is not None:
                await self.actions.context_submitted(interaction, *context)
            return
        if interaction.type is not discord.InteractionType.component:
            return
        if not is_result_button(str(data.get("custom_id", ""))):
            await self.actions.stale_button(interaction)


class ShardedSeedBot(SeedBot, commands.AutoShardedBot):
    """SeedBot running some of the shards (DISCORD_SHARD_COUNT, DISCORD_SHARD_IDS)."""


def make_bot(runtime: Runtime, tasks: BackgroundTasks, settings: DiscordSettings) -> SeedBot:
    """The single-connection bot, or a sharded one when DISCORD_SHARD_COUNT is set."""
    if settings.discord_shard_count is None:
        return SeedBot(runtime, tasks, settings)
    ids = settings.discord_shard_ids
    log.info(
        "discord: running shard(s) %s of %d",
        ",".join(map(str, ids)) if ids else "all",
        settings.discord_shard_count,
    )
    return ShardedSeedBot(runtime, tasks, settings, shard_count=settings.discord_shard_count, shard_ids=ids)
