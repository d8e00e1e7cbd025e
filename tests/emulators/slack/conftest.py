"""Shared pieces of the emulator's own tests: the real slack-bolt AsyncApp / slack-sdk clients
against the Slack emulator.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from tests.emulators.slack import SlackEmulator, serve_app

BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"
SECRET = "shh-signing-secret"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@dataclass
class Harness:
    emu: SlackEmulator
    client: AsyncWebClient
    app: AsyncApp
    url: str = ""  # full /slack/events URL once served
    seen: list[Any] = field(default_factory=list)


@pytest.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(bot_token=BOT_TOKEN, signing_secret=SECRET, app_token=APP_TOKEN) as e:
        yield e


@pytest.fixture
async def harness(emu: SlackEmulator) -> AsyncIterator[Harness]:
    """A real AsyncApp whose Web API client points at the emulator. Register listeners on
    ``harness.app`` first, then ``async with serve(harness)``."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)
    app = AsyncApp(client=client, signing_secret=SECRET)
    yield Harness(emu=emu, client=client, app=app)


@contextlib.asynccontextmanager
async def serve(h: Harness) -> AsyncIterator[Harness]:
    """Serve ``h.app`` over HTTP on a free port for the duration of the block."""
    async with serve_app(h.app.web_app(path="/slack/events")) as base:
        h.url = f"{base}/slack/events"
        yield h
