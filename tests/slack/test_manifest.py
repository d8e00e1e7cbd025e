"""slack-manifest.yml declares exactly what the Slack app needs, read from the app itself; and
slack-manifest-assistant.yml the same with the side panel (SLACK_ASSISTANT=on).

The app is the real one: the adapter's `SlackPlatform.start()`, pointed at the Slack emulator,
builds the bolt AsyncApp and registers its listeners as `seedbot run --slack` does. The test
reads those listeners back from bolt and derives what the manifest must say: the bot events
(a `message` listener needs all four `message.*` events; the side panel, bolt's AsyncAssistant
middleware, its `assistant_thread_*` events and `message.im`), the slash commands,
interactivity, the App Home tabs, the Workflow Builder steps (`functions`, with
`function_executed`, an org-ready app and a remote function runtime), the `assistant_view`
feature, and the bot scopes of those events plus those of the Web API methods the adapter's code
calls (assistant.py's only with the side panel). A listener the manifest does not declare fails
the test, and so does a declared event, command, step or scope nothing needs.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

import adapters.slack_adapter
from adapters.slack_adapter import plugin
from adapters.slack_adapter.app import EVENTS_PATH
from adapters.slack_adapter.settings import SlackSettings
from adapters.slack_adapter.workflow import (
    INPUT_ASPECT,
    INPUT_CHANNEL,
    INPUT_COUNT,
    INPUT_INTERACTIVITY,
    INPUT_MODEL,
    INPUT_PROMPT,
    INPUT_USER,
    OUTPUT_FILES,
    OUTPUT_PERMALINK,
)
from bot.app.runtime import open_runtime
from bot.config import Settings
from bot.request.validation import ASPECTS, MAX_OUTPUTS, MODELS
from tests.emulators.slack import SlackEmulator
from tests.slack import manifest
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET

PUBLIC_URL = "https://seedbot.example.com"  # the placeholder the manifest asks to replace

# Slack splits `message` events by conversation type; bolt's `message` listener gets them all.
MESSAGE_EVENTS = ("message.channels", "message.groups", "message.im", "message.mpim")

# The bot scopes each subscribed event needs (https://docs.slack.dev/reference/events).
# An event the app listens to that is missing here fails the test: add it with its scopes.
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "app_mention": {"app_mentions:read"},
    "assistant_thread_started": set(),  # "No scopes required"; the feature adds assistant:write
    "assistant_thread_context_changed": set(),
    "function_executed": set(),  # sent for the app's own steps, no subscription scope
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
    "assistant_threads_setStatus": {"chat:write"},  # docs: chat:write (assistant:write for now too)
    "assistant_threads_setSuggestedPrompts": {"assistant:write"},
    "assistant_threads_setTitle": {"assistant:write"},
    "auth_test": set(),
    "chat_delete": {"chat:write"},
    "chat_getPermalink": set(),
    "chat_postEphemeral": {"chat:write"},
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    # the message a thread hangs from (its images), in whichever kind of conversation it is
    "conversations_replies": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "files_info": {"files:read"},
    "files_list": {"files:read"},
    "files_upload_v2": {"files:write"},  # files.getUploadURLExternal + files.completeUploadExternal
    "functions_completeError": set(),  # "No scopes required"
    "functions_completeSuccess": set(),
    "users_info": {"users:read"},  # a person's language (include_locale), for their replies
    "views_open": set(),
    "views_publish": set(),
    "url_private": {"files:read"},  # downloading attached images with the bot token
}
# Adapter modules whose Web API calls only happen with a feature on (and their scopes with it).
FEATURE_MODULES = {"assistant.py": "assistant"}


# -- the app ---------------------------------------------------------------------------------------


@dataclass
class Registered:
    """What the app's listeners need the manifest to declare."""

    events: set[str] = field(default_factory=set)
    commands: set[str] = field(default_factory=set)
    shortcuts: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)  # Workflow Builder steps (callback ids)
    interactive: int = 0  # block action / view / shortcut / options listeners
    options: int = 0  # listeners for external select menus' options
    assistant: bool = False  # bolt's AsyncAssistant middleware (the side panel)


EVENT_KINDS = ("event", "message_event")
SHORTCUT_KINDS = ("shortcut", "global_shortcut", "message_shortcut")
INTERACTIVE_KINDS = ("action", "block_action", "view_submission", "view_closed")
OPTIONS_KINDS = ("options", "block_suggestion")
FUNCTION_KINDS = ("function_executed",)
# bolt's AsyncAssistant keeps its listeners per kind; each kind is one event the panel sends.
ASSISTANT_LISTS = {
    "_thread_started_listeners": "assistant_thread_started",
    "_thread_context_changed_listeners": "assistant_thread_context_changed",
    "_user_message_listeners": "message.im",
    "_bot_message_listeners": "message.im",
}


def _read(listener: AsyncListener) -> tuple[str, dict[str, Any]]:
    """The kind of a listener (the bolt builder of its matcher: "event", "command", "action",
    "view_submission", "function_executed", ...) and the constraint it captured
    ({"event_type": "app_mention"}).

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


def _assistants(app: AsyncApp) -> list[AsyncAssistant]:
    return [m for m in app._async_middleware_list if isinstance(m, AsyncAssistant)]


def _assistant_listeners(app: AsyncApp) -> list[tuple[str, AsyncListener]]:
    """(event, listener) for every listener of the side panel middleware."""
    found = []
    for assistant in _assistants(app):
        for attribute, event in ASSISTANT_LISTS.items():
            found.extend((event, listener) for listener in getattr(assistant, attribute) or [])
    return found


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
        elif kind in FUNCTION_KINDS:
            found.functions.add(name)
            found.events.add("function_executed")
        else:
            raise AssertionError(f"the manifest test does not know {kind!r} listeners: teach _registered")
    for event, _listener in _assistant_listeners(app):
        found.assistant = True
        found.events.add(event)
    unknown = [m for m in app._async_middleware_list if type(m).__module__.startswith("adapters.")]
    assert not unknown, f"teach _registered what the middleware {unknown} listens for"
    return found


def _web_api_scopes(features: set[str]) -> set[str]:
    """Scopes of the Web API methods called in the adapter's code (`client.chat_update(`); a
    feature module's (FEATURE_MODULES) only with that feature on."""
    methods = {name for name, f in vars(AsyncWebClient).items() if callable(f) and not name.startswith("_")}
    used: set[str] = set()
    for path in Path(adapters.slack_adapter.__file__).parent.glob("*.py"):
        feature = FEATURE_MODULES.get(path.name)
        if feature is not None and feature not in features:
            continue
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


@pytest.fixture(params=[False, True], ids=["base", "assistant"])
async def app(request: pytest.FixtureRequest, emu: SlackEmulator, tmp_path: Path) -> AsyncIterator[AsyncApp]:
    """The bolt app of `seedbot run --slack` (HTTP mode), built and started by the adapter;
    with SLACK_ASSISTANT=on for the "assistant" run."""
    settings = Settings(_env_file=None, database=str(tmp_path / "seedbot.db"))
    slack = SlackSettings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=emu.api_url,
        slack_port=0,
        slack_assistant=request.param,
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


def _manifest_for(app: AsyncApp) -> tuple[Path, dict[str, Any]]:
    path = manifest.ASSISTANT if _assistants(app) else manifest.BASE
    return path, manifest.load(path)


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
        if kind in FUNCTION_KINDS:
            emu.define_function(name, {"title": name, "input_parameters": {}, "output_parameters": {}})
            return emu.event_envelope(emu.function_executed_event(name, {}))
        raise AssertionError(f"no probe for {kind!r} listeners: add one")

    def assistant_probe(event: str) -> dict[str, Any]:
        if event == "message.im":
            thread = emu.start_assistant_thread()["assistant_thread"]
            return emu.event_envelope(
                emu.assistant_message_event(thread["channel_id"], thread["thread_ts"], "x")
            )
        started = emu.start_assistant_thread()
        if event == "assistant_thread_started":
            return emu.event_envelope(started)
        thread = started["assistant_thread"]
        return emu.event_envelope(
            emu.assistant_context_changed_event(thread["channel_id"], thread["thread_ts"], None)
        )

    assert app._async_listeners
    for listener in app._async_listeners:
        kind, captured = _read(listener)
        request = AsyncBoltRequest(body=probe(kind, captured), mode="socket_mode")
        assert await listener.async_matches(req=request, resp=BoltResponse(status=200)), (kind, captured)
    for event, listener in _assistant_listeners(app):
        if listener in (_assistants(app)[0]._bot_message_listeners or []):
            continue  # none registered: seedbot does not answer its own messages
        request = AsyncBoltRequest(body=assistant_probe(event), mode="socket_mode")
        assert await listener.async_matches(req=request, resp=BoltResponse(status=200)), event


async def test_manifest_declares_what_the_app_listens_for(app: AsyncApp) -> None:
    _path, declared = _manifest_for(app)
    found = _registered(app)
    features = declared.get("features") or {}
    settings = declared.get("settings") or {}

    assert sorted(settings["event_subscriptions"]["bot_events"]) == sorted(found.events)
    commands = [c["command"] for c in features.get("slash_commands") or []]
    assert sorted(commands) == sorted(found.commands)
    assert sorted(s["callback_id"] for s in features.get("shortcuts") or []) == sorted(found.shortcuts)
    interactivity = settings.get("interactivity") or {}
    assert interactivity.get("is_enabled", False) == bool(found.interactive)
    assert ("message_menu_options_url" in interactivity) == bool(found.options)
    # The Home tab is what app_home_opened publishes; DMs with the bot need the Messages tab.
    assert features["app_home"]["home_tab_enabled"] == ("app_home_opened" in found.events)
    assert features["app_home"]["messages_tab_enabled"] == ("message.im" in found.events)

    # The side panel: the feature (with its description) exactly when its listeners are there.
    assert ("assistant_view" in features) == found.assistant
    if found.assistant:
        assert features["assistant_view"]["assistant_description"]

    # Workflow Builder steps: declared exactly as registered, on an org-ready app whose
    # functions run remotely (in seedbot, which hears function_executed).
    assert sorted(declared.get("functions") or {}) == sorted(found.functions)
    if found.functions:
        assert settings["org_deploy_enabled"] is True
        assert settings["function_runtime"] == "remote"

    # Events, interactivity and each slash command all reach the app at its one events path.
    urls = [settings["event_subscriptions"].get("request_url"), interactivity.get("request_url")]
    urls = [u for u in urls if u] + [c["url"] for c in features.get("slash_commands") or []]
    wanted = bool(found.events) + bool(found.interactive) + len(found.commands)
    assert urls == [PUBLIC_URL + EVENTS_PATH] * wanted

    unknown = found.events - EVENT_SCOPES.keys()
    assert not unknown, f"add the scopes of {sorted(unknown)} to EVENT_SCOPES"
    scopes = set().union(*(EVENT_SCOPES[e] for e in found.events))
    if found.commands or found.shortcuts:
        scopes |= COMMAND_SCOPES
    scopes |= _web_api_scopes({"assistant"} if found.assistant else set())
    assert sorted(declared["oauth_config"]["scopes"]["bot"]) == sorted(scopes)


def test_the_assistant_manifest_is_the_base_one_plus_the_side_panel() -> None:
    """Two files one can paste: everything but the side panel's lines is the same."""
    base, assistant = manifest.load(manifest.BASE), manifest.load(manifest.ASSISTANT)
    panel_events = {"assistant_thread_started", "assistant_thread_context_changed"}
    assistant["features"].pop("assistant_view")
    assistant["oauth_config"]["scopes"]["bot"].remove("assistant:write")
    events = assistant["settings"]["event_subscriptions"]["bot_events"]
    assistant["settings"]["event_subscriptions"]["bot_events"] = [e for e in events if e not in panel_events]
    assert assistant == base


def test_the_workflow_step_takes_what_the_adapter_reads() -> None:
    step = manifest.step_definition("generate_image")
    inputs, outputs = step["input_parameters"], step["output_parameters"]
    assert step["title"] == "Generate an image with Seedream"
    assert set(inputs) == {
        INPUT_PROMPT,
        INPUT_USER,
        INPUT_INTERACTIVITY,
        INPUT_CHANNEL,
        INPUT_COUNT,
        INPUT_ASPECT,
        INPUT_MODEL,
    }
    assert {name for name, spec in inputs.items() if spec.get("is_required")} == {INPUT_PROMPT, INPUT_USER}
    # Whose quota pays is a person (the one who clicked, when Slack says); where the images go, a channel.
    assert inputs[INPUT_USER]["type"] == "slack#/types/user_id"
    assert inputs[INPUT_INTERACTIVITY]["type"] == "slack#/types/interactivity"
    assert inputs[INPUT_CHANNEL]["type"] == "slack#/types/channel_id"
    assert (inputs[INPUT_COUNT]["minimum"], inputs[INPUT_COUNT]["maximum"]) == (1, MAX_OUTPUTS)
    assert inputs[INPUT_MODEL]["enum"] == list(MODELS)
    assert inputs[INPUT_ASPECT]["enum"] == list(ASPECTS)  # as the Home tab's form offers them
    assert outputs[OUTPUT_FILES] == {
        "type": "array",
        "items": {"type": "slack#/types/file_id"},
        "title": "Images",
        "description": "The images seedbot posted.",
        "is_required": True,
    }
    assert outputs[OUTPUT_PERMALINK]["type"] == "string"
