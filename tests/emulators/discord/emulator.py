""":class:`DiscordEmulator`, put together from one mixin per concern (see the package docstring)."""

from __future__ import annotations

from tests.emulators.discord.callbacks import CallbacksMixin
from tests.emulators.discord.cdn import CdnMixin
from tests.emulators.discord.channels import ChannelsMixin
from tests.emulators.discord.commands import CommandsMixin
from tests.emulators.discord.components import ComponentsMixin
from tests.emulators.discord.constants import (
    APPLICATION_ID,
    BOT_ROLE_ID,
    BOT_USER_ID,
    GUILD_ID,
    HUMAN_USER_ID,
    OTHER_CHANNEL_ID,
    OTHER_GUILD_ID,
    TEXT_CHANNEL_ID,
)
from tests.emulators.discord.gateway import GatewayMixin
from tests.emulators.discord.interactions import InteractionsMixin
from tests.emulators.discord.messages import MessagesMixin
from tests.emulators.discord.permissions import PermissionsMixin
from tests.emulators.discord.reactions import ReactionsMixin
from tests.emulators.discord.server import DiscordServer
from tests.emulators.discord.state import StateMixin
from tests.emulators.discord.validation import ValidationMixin


class DiscordEmulator(
    GatewayMixin,
    CallbacksMixin,
    InteractionsMixin,
    ComponentsMixin,
    CommandsMixin,
    MessagesMixin,
    ReactionsMixin,
    ChannelsMixin,
    CdnMixin,
    ValidationMixin,
    PermissionsMixin,
    StateMixin,
    DiscordServer,
):
    """Loopback Discord (REST + gateway + CDN on one port).  Use as ``async with DiscordEmulator() as emu``."""

    APPLICATION_ID = APPLICATION_ID
    BOT_USER_ID = BOT_USER_ID
    GUILD_ID = GUILD_ID
    TEXT_CHANNEL_ID = TEXT_CHANNEL_ID
    OTHER_CHANNEL_ID = OTHER_CHANNEL_ID
    HUMAN_USER_ID = HUMAN_USER_ID
    BOT_ROLE_ID = BOT_ROLE_ID
    OTHER_GUILD_ID = OTHER_GUILD_ID
