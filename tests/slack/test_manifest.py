"""slack-manifest.yml declares exactly what the Slack app needs, read from the app itself.

The app is the real one: the adapter's `SlackPlatform.start()`, pointed at the Slack emulator,
builds the bolt AsyncApp and registers its listeners as `seedbot run --slack` does. The test
reads those listeners back from bolt and derives what the manifest must say: the bot events
(a `message` listener needs all four `message.*` events), the slash commands, interactivity,
the App Home tabs, and the bot scopes of those events plus those of the Web API methods the
adapter's code calls. A listener the manifest does not declare fails the test, and so does a
declared event, command or scope nothing needs.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

import adapters.slack_adapter
from adapters.slack_adapter import plugin
from adapters.slack_adapter.app import EVENTS_PATH
from adapters.slack_adapter.settings import SlackSettings
from bot.app.runtime import open_runtime
from bot.config import Settings
from tests.botproc import REPO
from tests.emulators.slack import SlackEmulator
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET

PUBLIC_URL = "https://seedbot.example.com"  # the placeholder the manifest asks to replace

# Slack splits `message` events by conversation type; bolt's `message` listener gets them all.
MESSAGE_EVENTS = ("message.channels", "message.groups", "message.im", "message.mpim")

# The bot scopes each subscribed event needs (https://docs.slack.dev/reference/events).
# An event the app listens to that is missing here fails the test: add it with its scopes.
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "app_mention": {"app_mentions:read"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "message.im": {"im:history"},
    "message.mpim": {"mpim:history"},
}
# Slash commands and shortcuts need `commands`; block actions and view submissions need none.
COMMAND_SCOPES = {"commands"}

# The bot scopes of the Web API methods the adapter calls (slack-sdk's names), and of reading
# a file's `url_private`. A method missing here fails the test: add it with its scopes.
METHOD_SCOPES: dict[str, set[str]] = {
    "apps_connections_open": set(),  # the app-level token (connections:write), not a bot scope
    "auth_test": set(),
    "chat_delete": {"chat:write"},
    "chat_getPermalink": set(),
    "chat_postEphemeral": {"chat:write"},
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "files_info": {"files:read"},
    "files_upload_v2": {"files:write"},  # files.getUploadURLExternal + files.completeUploadExternal
    "views_open": set(),
    "views_publish": set(),
    "url_private": {"files:read"},  # downloading attached images with the bot token
}


# -- the manifest (a plain YAML subset; PyYAML is not a dependency) ------------------------------


def _list_under(text: str, key: str) -> list[str]:
    """Items of the YAML list that follows `key:` (a plain block list of scalars)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{key}:")
    indent = len(lines[start]) - len(lines[start].lstrip())
    items = []
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        if len(line) - len(line.lstrip()) <= indent and not line.lstrip().startswith("- "):
            break
        match = re.match(r"\s*- ([^\s#]+)", line)
        if match is None:
            break
        items.append(match.group(1))
    return items


def _values_of(text: str, key: str) -> list[str]:
    """Every scalar value of `key: value` (or `- key: value`) in the file, in order."""
    return re.findall(rf"^\s*(?:- )?{re.escape(key)}: *([^\s#]+)", text, re.MULTILINE)


# -- the app ---------------------------------------------------------------------------------------


@dataclass
class Registered:
    """What the app's listeners need the manifest to declare."""

    events: set[str] = field(default_factory=set)
    commands: set[str] = field(default_factory=set)
    shortcuts: set[str] = field(default_factory=set)
    interactive: int = 0  # block action / view / shortcut / options listeners
    options: int = 0  # listeners for external select menus' options


EVENT_KINDS = ("event", "message_event")
SHORTCUT_KINDS = ("shortcut", "global_shortcut", "message_shortcut")
INTERACTIVE_KINDS = ("action", "block_action", "view_submission", "view_closed")
OPTIONS_KINDS = ("options", "block_suggestion")


def _read(listener: AsyncListener) -> tuple[str, dict[str, Any]]:
    """The kind of a listener (the bolt builder of its matcher: "event", "command", "action",
    "view_submission", ...) and the constraint it captured ({"event_type": "app_mention"}).

    bolt keeps what app.event() / command() / action() / ... were given only in the listener's
    first matcher: a closure over the constraint (wrapped in one more closure for asyncio).
    test_every_listener_matches_what_it_was_read_as checks this reading against bolt's matching.
    """
    inner = inspect.getclosurevars(listener.matchers[0].func).nonlocals["func"]
    return inner.__qualname__.split(".")[0], inspect.getclosurevars(inner).nonlocals


def _name(kind: str, captured: dict[str, Any]) -> str:
    """The event type, command, callback_id or action_id a listener was registered for."""
    for key in ("event_type", "command", "callback_id", "action_id", "constraints"):
        if key in captured:
            value = captured[key]
            break
    else:
        raise AssertionError(f"cannot read what a {kind!r} listener listens for: {captured}")
    if isinstance(value, dict):
        value = value.get("type") if kind in EVENT_KINDS else value.get("action_id", value.get("callback_id"))
    assert isinstance(value, str), f"a {kind!r} listener for {value!r}: name it plainly"
    return value


def _registered(app: AsyncApp) -> Registered:
    found = Registered()
    for listener in app._async_listeners:
        kind, captured = _read(listener)
        name = _name(kind, captured)
        if kind in EVENT_KINDS:
            found.events.update(MESSAGE_EVENTS if name == "message" else [name])
        elif kind == "command":
            found.commands.add(name)
        elif kind in SHORTCUT_KINDS:
            found.shortcuts.add(name)
            found.interactive += 1
        elif kind in INTERACTIVE_KINDS:
            found.interactive += 1
        elif kind in OPTIONS_KINDS:
            found.options += 1
            found.interactive += 1
        else:
            raise AssertionError(f"the manifest test does not know {kind!r} listeners: teach _registered")
    return found


def _web_api_scopes() -> set[str]:
    """Scopes of the Web API methods called anywhere in the adapter's code (`client.chat_update(`)."""
    methods = {name for name, f in vars(AsyncWebClient).items() if callable(f) and not name.startswith("_")}
    used: set[str] = set()
    for path in Path(adapters.slack_adapter.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in methods:
                used.add(node.attr)
            elif isinstance(node, ast.Attribute) and node.attr == "api_call":
                raise AssertionError(f"{path.name}: call the named slack-sdk method, not api_call()")
            elif isinstance(node, ast.Constant) and node.value in ("url_private", "url_private_download"):
                used.add("url_private")
    unknown = used - METHOD_SCOPES.keys()
    assert not unknown, f"add the scopes of {sorted(unknown)} to METHOD_SCOPES"
    return set().union(*(METHOD_SCOPES[m] for m in used))


@pytest.fixture
async def app(emu: SlackEmulator, tmp_path: Path) -> AsyncIterator[AsyncApp]:
    """The bolt app of `seedbot run --slack` (HTTP mode), built and started by the adapter."""
    settings = Settings(_env_file=None, database=str(tmp_path / "seedbot.db"))
    slack = SlackSettings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=emu.api_url,
        slack_port=0,
    )  # type: ignore[call-arg]
    async with open_runtime(settings) as runtime:
        platform = plugin.create(runtime, slack)
        assert platform is not None
        await platform.start()
        try:
            assert platform.app is not None
            yield platform.app
        finally:
            await platform.close()


# -- the tests -------------------------------------------------------------------------------------


async def test_every_listener_matches_what_it_was_read_as(app: AsyncApp, emu: SlackEmulator) -> None:
    """Guards _read(): a request for what a listener was read as reaches that listener."""

    def probe(kind: str, captured: dict[str, Any]) -> dict[str, Any]:
        name = _name(kind, captured)
        if kind in EVENT_KINDS:
            text = captured.get("keyword") if isinstance(captured.get("keyword"), str) else "x"
            return emu.event_envelope({**emu.message_event(text), "type": name})
        if kind == "command":
            return emu.slash_command_payload(name)
        if kind in ("action", "block_action"):
            constraints = captured.get("constraints")
            block_id = constraints.get("block_id") if isinstance(constraints, dict) else None
            return emu.block_action_payload(name, block_id=block_id or "actions")
        if kind in ("view_submission", "view_closed"):
            return {**emu.view_submission_payload(name), "type": kind}
        if kind in SHORTCUT_KINDS:
            return {
                "type": "message_action" if kind == "message_shortcut" else "shortcut",
                "callback_id": name,
            }
        if kind in OPTIONS_KINDS:
            return {"type": "block_suggestion", "action_id": name, "block_id": "b", "value": ""}
        raise AssertionError(f"no probe for {kind!r} listeners: add one")

    assert app._async_listeners
    for listener in app._async_listeners:
        kind, captured = _read(listener)
        request = AsyncBoltRequest(body=probe(kind, captured), mode="socket_mode")
        assert await listener.async_matches(req=request, resp=BoltResponse(status=200)), (kind, captured)


async def test_manifest_declares_what_the_app_listens_for(app: AsyncApp) -> None:
    text = (REPO / "slack-manifest.yml").read_text()
    found = _registered(app)

    assert sorted(_list_under(text, "bot_events")) == sorted(found.events)
    assert sorted(_values_of(text, "command")) == sorted(found.commands)
    assert sorted(_values_of(text, "callback_id")) == sorted(found.shortcuts)  # features.shortcuts
    assert _values_of(text, "is_enabled") == [str(bool(found.interactive)).lower()]  # interactivity
    assert len(_values_of(text, "message_menu_options_url")) == int(bool(found.options))
    # The Home tab is what app_home_opened publishes; DMs with the bot need the Messages tab.
    assert _values_of(text, "home_tab_enabled") == [str("app_home_opened" in found.events).lower()]
    assert _values_of(text, "messages_tab_enabled") == [str("message.im" in found.events).lower()]

    # Events, interactivity and each slash command all reach the app at its one events path.
    urls = _values_of(text, "request_url") + _values_of(text, "url")
    wanted = bool(found.events) + bool(found.interactive) + len(found.commands)
    assert urls == [PUBLIC_URL + EVENTS_PATH] * wanted

    unknown = found.events - EVENT_SCOPES.keys()
    assert not unknown, f"add the scopes of {sorted(unknown)} to EVENT_SCOPES"
    scopes = set().union(*(EVENT_SCOPES[e] for e in found.events))
    if found.commands or found.shortcuts:
        scopes |= COMMAND_SCOPES
    scopes |= _web_api_scopes()
    assert sorted(_list_under(text, "bot")) == sorted(scopes)
