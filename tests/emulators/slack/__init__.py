"""Loopback Slack emulator for end-to-end tests.

One aiohttp application on ``127.0.0.1`` (port 0) that plays every part of Slack that a
slack-bolt ``AsyncApp`` talks to:

* the Web API under ``/api/<method>`` (point ``AsyncWebClient(base_url=emu.api_url)`` at it),
* the external-upload URLs handed out by ``files.getUploadURLExternal`` (``/upload/v1/<id>``),
* a private file host (``/files-pri/T1-F…/name``) that only serves bytes to the bot token,
* ``response_url`` endpoints for slash commands and interactive payloads,
* the Socket Mode WebSocket (``/link``),
* and, in the other direction, helpers that sign and POST Events API / slash-command /
  interactivity requests to the app under test.

Every inbound request is recorded (:class:`RecordedRequest`), and messages written through
the Web API are kept per channel, so tests can assert on thread contents instead of mocks.

Typical use::

    async with SlackEmulator(bot_token="xoxb-test", signing_secret="s", app_token="xapp-test") as emu:
        client = AsyncWebClient(token="xoxb-test", base_url=emu.api_url)
        app = AsyncApp(client=client, signing_secret="s")
        async with serve_app(app.web_app(path="/slack/events")) as base:
            f = emu.add_file("in.png", b"...", "image/png")
            await emu.post_event(f"{base}/slack/events", emu.mention_event("draw", files=[f]))
            await emu.wait_for_call("chat.postMessage")

Layout (one mixin of :class:`SlackEmulator` per module, all sharing the state set up in ``server.py``):

* ``constants.py`` workspace ids; ``models.py`` records (``RecordedRequest``, ``AppResponse``) and
  Web API errors;
* ``server.py`` the aiohttp app, Web API dispatch, faults, recording, waiting; ``workspace.py``
  users, channels and the message store;
* Web API: ``chat.py`` (``chat.*``, ``reactions.*``), ``conversations.py`` (``conversations.*``,
  ``users.info``, ``auth.test``), ``views.py`` (``views.*``), ``files.py`` (external uploads, the
  private file host, ``files.list``); ``blockkit.py`` checks views and message blocks as Slack
  does;
* the side panel and Workflow Builder: ``assistant.py`` (assistant threads, their events,
  ``assistant.threads.*``), ``workflows.py`` (custom steps: ``function_executed``,
  ``functions.complete*``, the step's own token);
* towards the app: ``events.py`` (signed Events API requests, ``serve_app``), ``interactivity.py``
  (slash commands, block actions, view submissions, ``response_url``), ``socket_mode.py``.
"""

from __future__ import annotations

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
from tests.emulators.slack.emulator import SlackEmulator
from tests.emulators.slack.events import serve_app
from tests.emulators.slack.models import AppResponse, RecordedRequest

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "CHANNEL_ID",
    "DM_CHANNEL_ID",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "USER_ID",
    "AppResponse",
    "RecordedRequest",
    "SlackEmulator",
    "serve_app",
]
