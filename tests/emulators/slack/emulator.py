""":class:`SlackEmulator`, put together from one mixin per concern (see the package docstring)."""

from __future__ import annotations

from tests.emulators.slack.assistant import AssistantMixin
from tests.emulators.slack.chat import ChatMixin
from tests.emulators.slack.constants import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    USER_ID,
)
from tests.emulators.slack.conversations import ConversationsMixin
from tests.emulators.slack.events import EventsMixin
from tests.emulators.slack.files import FilesMixin
from tests.emulators.slack.interactivity import InteractivityMixin
from tests.emulators.slack.server import SlackServer
from tests.emulators.slack.socket_mode import SocketModeMixin
from tests.emulators.slack.views import ViewsMixin
from tests.emulators.slack.workflows import WorkflowsMixin
from tests.emulators.slack.workspace import WorkspaceMixin


class SlackEmulator(
    SocketModeMixin,
    AssistantMixin,
    WorkflowsMixin,
    InteractivityMixin,
    EventsMixin,
    FilesMixin,
    ViewsMixin,
    ConversationsMixin,
    ChatMixin,
    WorkspaceMixin,
    SlackServer,
):
    """A loopback Slack workspace (team ``T1``) with one bot, one human and one channel.

    Constants: ``TEAM_ID`` T1, ``BOT_USER_ID`` UBOT, ``BOT_ID`` B1, ``APP_ID`` A1,
    ``USER_ID`` U1 (a human, "alice"), ``CHANNEL_ID`` C1 (#general), ``DM_CHANNEL_ID`` D1
    (the bot's DM with U1).
    """

    TEAM_ID = TEAM_ID
    TEAM_DOMAIN = TEAM_DOMAIN
    BOT_USER_ID = BOT_USER_ID
    BOT_ID = BOT_ID
    APP_ID = APP_ID
    USER_ID = USER_ID
    CHANNEL_ID = CHANNEL_ID
    DM_CHANNEL_ID = DM_CHANNEL_ID
