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
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import hashlib
import hmac
import inspect
import itertools
import json
import mimetypes
import secrets
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import aiohttp
from aiohttp import web

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "CHANNEL_ID",
    "DM_CHANNEL_ID",
    "TEAM_ID",
    "USER_ID",
    "AppResponse",
    "RecordedRequest",
    "SlackEmulator",
    "serve_app",
]

TEAM_ID = "T1"
TEAM_DOMAIN = "seedtest"
BOT_USER_ID = "UBOT"
BOT_ID = "B1"
APP_ID = "A1"
USER_ID = "U1"
CHANNEL_ID = "C1"
DM_CHANNEL_ID = "D1"

# Methods the emulator answers with the app-level token instead of the bot token.
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
# Params that Slack accepts either as JSON values or as JSON-encoded strings.
_JSON_STRING_PARAMS = ("blocks", "attachments", "metadata", "view", "files")

LOGIN_PAGE_HTML = """<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="utf-8"><title>Slack</title></head>
<body class="signin">
<h1>Sign in to seedtest</h1>
<form id="signin_form" action="/signin" method="post">
<input type="email" name="email" placeholder="name@work-email.com">
<button type="submit" id="signin_btn">Sign In</button>
</form>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# Records and small value types
# --------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One HTTP request received by the emulator.

    ``kind`` is ``"api"`` (Web API), ``"upload"`` (external upload URL), ``"file"`` (private
    file host), ``"response_url"``, ``"socket"`` (the WebSocket handshake) or ``"other"``.
    ``params`` merges the query string, a form/multipart body and a JSON object body, like
    bolt's own mock server; JSON-encoded ``blocks``/``files``/``view``… strings are decoded.
    """

    kind: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    params: dict[str, Any]
    json: Any
    body: bytes
    api_method: str | None = None
    status: int = 0
    response: Any = None
    at: float = field(default_factory=time.time)

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")

    @property
    def token(self) -> str | None:
        auth = self.authorization or ""
        return auth[7:] if auth.startswith("Bearer ") else None

    @property
    def ok(self) -> bool | None:
        """``response["ok"]`` for Web API calls, ``None`` otherwise."""
        if isinstance(self.response, dict) and "ok" in self.response:
            return bool(self.response["ok"])
        return None

    def __repr__(self) -> str:
        name = self.api_method or self.path
        return f"<{self.kind} {self.method} {name} -> {self.status}>"


class AppResponse(int):
    """The app's HTTP answer to something the emulator POSTed.

    It *is* the status code (``assert await emu.post_event(...) == 200`` works) and also
    carries ``text``, ``headers``, ``json()`` and, for slash commands and interactive
    payloads, the ``response_url`` / ``trigger_id`` the emulator issued.
    """

    text: str
    headers: dict[str, str]
    response_url: str | None
    trigger_id: str | None
    payload: dict[str, Any]

    def __new__(
        cls,
        status: int,
        text: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        response_url: str | None = None,
        trigger_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> AppResponse:
        obj = super().__new__(cls, status)
        obj.text = text
        obj.headers = dict(headers or {})
        obj.response_url = response_url
        obj.trigger_id = trigger_id
        obj.payload = payload or {}
        return obj

    @property
    def status(self) -> int:
        return int(self)

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None

    def __repr__(self) -> str:
        return f"AppResponse(status={int(self)}, text={self.text[:80]!r})"


@dataclass
class _Fault:
    error: str
    status: int
    retry_after: int | None
    headers: dict[str, str]
    body: str | None
    content_type: str


class _ApiError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str | bytes) and value[:1] in ("[", "{", b"[", b"{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _filetype(name: str, mimetype: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in ("jpg", "jpeg"):
        return "jpg"
    if ext:
        return ext
    if mimetype.startswith("text/"):
        return "text"
    return "binary"


def _bool(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


# --------------------------------------------------------------------------------------------
# Serving the app under test
# --------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve_app(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve an aiohttp application (e.g. ``AsyncApp.web_app()``) on a free port.

    Yields the base URL (``http://127.0.0.1:P``); append the app's path yourself.
    """
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------


class SlackEmulator:
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

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",  # noqa: S107 - fake credentials
        signing_secret: str = "test-signing-secret",  # noqa: S107 - fake credentials
        app_token: str = "xapp-test",  # noqa: S107 - fake credentials
        verification_token: str = "legacy-verification-token",  # noqa: S107 - fake credentials
        host: str = "127.0.0.1",
    ) -> None:
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.app_token = app_token
        self.verification_token = verification_token
        self.host = host
        self.port = 0

        # Records
        self.requests: list[RecordedRequest] = []
        self.file_fetches: list[dict[str, Any]] = []
        self.response_url_posts: list[dict[str, Any]] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.deleted_messages: list[dict[str, Any]] = []
        self.socket_received: list[dict[str, Any]] = []
        self.socket_acks: list[dict[str, Any]] = []
        self.socket_sent: list[dict[str, Any]] = []
        self.socket_connections = 0

        # Workspace state
        now = int(time.time())
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.trigger_ids: dict[str, dict[str, Any]] = {}
        self._file_data: dict[str, bytes] = {}
        self._html_files: set[str] = set()
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._socket_tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_connected = asyncio.Event()
        self._faults: dict[str, deque[_Fault | None]] = {}
        self._overrides: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._changed = asyncio.Event()

        self.add_user(USER_ID, "alice", real_name="Alice Example")
        self.add_user(BOT_USER_ID, "seedbot", real_name="Seedbot", is_bot=True, bot_id=BOT_ID)
        self.add_channel(CHANNEL_ID, "general", created=now)
        self.add_channel(DM_CHANNEL_ID, is_im=True, user=USER_ID, created=now)

        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._api_handlers: dict[str, Callable[[dict[str, Any], RecordedRequest], Any]] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.info": self._files_info,
            "files.upload": self._files_upload_v1,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "apps.connections.open": self._apps_connections_open,
        }

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> SlackEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{upload_id}", self._handle_upload)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._handle_file)
        app.router.add_get("/files-pri/{team_file}/{name}", self._handle_file)
        app.router.add_post("/commands/{team}/{rid}/{secret}", self._handle_response_url)
        app.router.add_post("/actions/{team}/{rid}/{secret}", self._handle_response_url)
        app.router.add_get("/link", self._handle_socket)
        app.router.add_get("/link/", self._handle_socket)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._http = aiohttp.ClientSession()

    async def close(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"emulator shutting down")
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:P`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:P/api/`` — the trailing slash is required by slack-sdk's urljoin."""
        return f"{self.base_url}/api/"

    @property
    def socket_url(self) -> str:
        return f"ws://{self.host}:{self.port}/link/"

    # ---------------------------------------------------------------- workspace setup

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        is_bot: bool = False,
        bot_id: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        real = real_name or name
        profile: dict[str, Any] = {
            "real_name": real,
            "display_name": name,
            "real_name_normalized": real,
            "display_name_normalized": name,
            "team": TEAM_ID,
            "image_48": f"https://avatars.invalid/{user_id}_48.png",
        }
        if bot_id:
            profile.update({"bot_id": bot_id, "api_app_id": APP_ID, "always_active": True})
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": real,
            "deleted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "is_admin": False,
            "is_owner": False,
            "tz": "Etc/UTC",
            "tz_offset": 0,
            "updated": int(time.time()),
            "profile": profile,
            **extra,
        }
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        is_private: bool = False,
        is_member: bool = True,
        is_im: bool = False,
        user: str | None = None,
        created: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Add a channel (or, with ``is_im=True, user=…``, a DM). ``is_member=False`` makes
        ``chat.postMessage`` answer ``not_in_channel``."""
        created = created or int(time.time())
        if is_im:
            channel: dict[str, Any] = {
                "id": channel_id,
                "created": created,
                "is_im": True,
                "is_org_shared": False,
                "user": user,
                "is_user_deleted": False,
                "priority": 0,
                "is_member": True,
            }
        else:
            name = name or channel_id.lower()
            channel = {
                "id": channel_id,
                "name": name,
                "name_normalized": name,
                "is_channel": not is_private,
                "is_group": is_private,
                "is_im": False,
                "is_mpim": False,
                "is_private": is_private,
                "is_archived": False,
                "is_general": channel_id == CHANNEL_ID,
                "is_shared": False,
                "is_ext_shared": False,
                "is_org_shared": False,
                "is_member": is_member,
                "created": created,
                "creator": USER_ID,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
                "num_members": 2,
            }
        channel.update(extra)
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def next_ts(self) -> str:
        """A fresh, strictly increasing Slack ``ts`` (``"1700000000.000123"``)."""
        now_us = int(time.time() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    # ---------------------------------------------------------------- files

    def add_file(
        self,
        name: str,
        data: bytes,
        mimetype: str | None = None,
        *,
        title: str | None = None,
        user: str = USER_ID,
        serve_html: bool = False,
        file_id: str | None = None,
    ) -> dict[str, Any]:
        """Put a file on the private file host and return its Slack file object.

        ``url_private``/``url_private_download`` serve ``data`` only with
        ``Authorization: Bearer <bot token>``; otherwise (or always, with ``serve_html=True``,
        which mimics a token lacking ``files:read``) they answer 200 with an HTML login page.
        Pass the returned dict in ``files=[...]`` of the event builders.
        """
        if not self.port:
            raise RuntimeError("start the emulator before add_file(): file URLs need its port")
        mimetype = mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        file_id = file_id or self._new_id("F")
        now = int(time.time())
        quoted = quote(name)
        ftype = _filetype(name, mimetype)
        info: dict[str, Any] = {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": name,
            "title": title or name,
            "mimetype": mimetype,
            "filetype": ftype,
            "pretty_type": ftype.upper(),
            "user": user,
            "user_team": TEAM_ID,
            "editable": False,
            "size": len(data),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": True,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{self.base_url}/files-pri/{TEAM_ID}-{file_id}/{quoted}",
            "url_private_download": f"{self.base_url}/files-pri/{TEAM_ID}-{file_id}/download/{quoted}",
            "permalink": f"{self.base_url}/files/{user}/{file_id}/{quoted}",
            "permalink_public": f"{self.base_url}/{TEAM_ID}-{file_id}-{secrets.token_hex(5)}",
            "has_rich_preview": False,
            "file_access": "visible",
            "channels": [],
            "groups": [],
            "ims": [],
            "shares": {},
        }
        self.files[file_id] = info
        self._file_data[file_id] = bytes(data)
        if serve_html:
            self._html_files.add(file_id)
        return dict(info)

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a file (added with :meth:`add_file` or uploaded by the bot)."""
        return self._file_data[file_id]

    def uploaded_files(self) -> list[dict[str, Any]]:
        """Uploads (``files.getUploadURLExternal`` sessions) in order, each with ``file_id``,
        ``filename``, ``length`` (declared), ``data`` (bytes received or ``None``),
        ``completed`` and, once completed, ``title``, ``channel``, ``thread_ts``."""
        return list(self.uploads.values())

    # ---------------------------------------------------------------- messages

    def _resolve_channel(self, channel: str | None) -> str:
        if not channel:
            raise _ApiError("channel_not_found")
        if channel in self.channels:
            return channel
        if channel in self.users and channel != BOT_USER_ID:
            for cid, info in self.channels.items():
                if info.get("is_im") and info.get("user") == channel:
                    return cid
            cid = "D" + channel.lstrip("U")
            self.add_channel(cid, is_im=True, user=channel)
            return cid
        name = channel.lstrip("#")
        for cid, info in self.channels.items():
            if info.get("name") == name:
                return cid
        raise _ApiError("channel_not_found")

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The stored message ``ts`` in ``channel`` (a live dict), or ``None``."""
        for msg in self.messages.get(channel, []):
            if msg["ts"] == ts:
                return msg
        return None

    def messages_in(self, channel: str = CHANNEL_ID) -> list[dict[str, Any]]:
        """All stored messages of a channel (top level and replies), oldest first."""
        return list(self.messages.get(channel, []))

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Parent (if stored) followed by its replies, oldest first."""
        return [
            m
            for m in self.messages.get(channel, [])
            if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts
        ]

    def bot_messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        chans = [channel] if channel else list(self.messages)
        return [m for c in chans for m in self.messages.get(c, []) if m.get("bot_id") == BOT_ID]

    def store_message(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        """Insert (or replace, by ``ts``) a message and maintain thread bookkeeping."""
        msgs = self.messages.setdefault(channel, [])
        message.setdefault("ts", self.next_ts())
        message.setdefault("type", "message")
        for i, existing in enumerate(msgs):
            if existing["ts"] == message["ts"]:
                msgs[i] = {**existing, **message}
                return msgs[i]
        msgs.append(message)
        msgs.sort(key=lambda m: (int(m["ts"].split(".")[0]), m["ts"]))
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            parent = self.message(channel, thread_ts)
            if parent is not None:
                message.setdefault("parent_user_id", parent.get("user"))
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                users = parent.setdefault("reply_users", [])
                if message.get("user") and message["user"] not in users:
                    users.append(message["user"])
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = message["ts"]
        self._notify()
        return message

    def _bot_message(self, channel: str, params: Mapping[str, Any]) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": params.get("text") or "",
            "ts": self.next_ts(),
            "bot_profile": {"id": BOT_ID, "app_id": APP_ID, "name": "seedbot", "team_id": TEAM_ID},
        }
        for key in ("blocks", "attachments", "metadata"):
            if params.get(key) not in (None, ""):
                msg[key] = _maybe_json(params[key])
        thread_ts = params.get("thread_ts")
        if thread_ts:
            msg["thread_ts"] = str(thread_ts)
            if _bool(params.get("reply_broadcast")):
                msg["subtype"] = "thread_broadcast"
        return msg

    # ---------------------------------------------------------------- faults & overrides

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        status: int = 429,
        retry_after: int | None = 1,
        *,
        times: int = 1,
        after: int = 0,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Make the next ``times`` calls of Web API ``method`` fail (after letting ``after``
        calls through, e.g. to fail a batch's second upload).

        Default: HTTP 429 ``{"ok": false, "error": "ratelimited"}`` with ``Retry-After: 1``.
        ``fail_next("chat.postMessage", "channel_not_found", status=200, times=2)`` gives
        plain ``ok:false`` answers; ``body=`` replaces the JSON body verbatim (e.g. an HTML
        503 page). ``Retry-After`` is only sent for 429s. Use ``method="upload"`` for the
        external upload URL.
        """
        q = self._faults.setdefault(method, deque())
        q.extend([None] * after)  # calls that pass
        for _ in range(times):
            q.append(
                _Fault(
                    error=error,
                    status=status,
                    retry_after=retry_after,
                    headers=dict(headers or {}),
                    body=body,
                    content_type=content_type,
                )
            )

    def override(self, method: str, response: Any) -> None:
        """Replace a Web API method's answer: a dict (returned as-is) or a callable
        ``(params, request) -> dict`` (may be async). ``None`` restores the default."""
        if response is None:
            self._overrides.pop(method, None)
        else:
            self._overrides[method] = response

    def _take_fault(self, method: str) -> _Fault | None:
        q = self._faults.get(method)
        if q:
            return q.popleft()
        return None

    @staticmethod
    def _fault_response(fault: _Fault) -> web.Response:
        headers = dict(fault.headers)
        if fault.status == 429 and fault.retry_after is not None:
            headers.setdefault("Retry-After", str(fault.retry_after))
        body = fault.body if fault.body is not None else json.dumps({"ok": False, "error": fault.error})
        return web.Response(status=fault.status, text=body, content_type=fault.content_type, headers=headers)

    # ---------------------------------------------------------------- recording & waiting

    def _notify(self) -> None:
        self._changed.set()

    async def _record(
        self, request: web.Request, kind: str, api_method: str | None = None
    ) -> RecordedRequest:
        body = await request.read()
        query = dict(request.query)
        params: dict[str, Any] = dict(query)
        parsed_json: Any = None
        ctype = request.content_type
        if body:
            if ctype == "application/json":
                try:
                    parsed_json = json.loads(body)
                except ValueError:
                    parsed_json = None
                if isinstance(parsed_json, dict):
                    params.update(parsed_json)
            elif ctype == "application/x-www-form-urlencoded":
                params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            elif ctype.startswith("multipart/"):
                params.update(self._parse_multipart(request.headers.get("Content-Type", ""), body))
        for key in _JSON_STRING_PARAMS:
            if key in params:
                params[key] = _maybe_json(params[key])
        rec = RecordedRequest(
            kind=kind,
            method=request.method,
            path=request.path,
            query=query,
            headers=dict(request.headers),
            params=params,
            json=parsed_json,
            body=body,
            api_method=api_method,
        )
        self.requests.append(rec)
        self._notify()
        return rec

    @staticmethod
    def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
        raw = b"Content-Type: " + content_type.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        out: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str) or not name:
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            out[name] = data if part.get_filename() else data.decode("utf-8", "replace")
        return out

    def calls(self, api_method: str | None = None, **where: Any) -> list[RecordedRequest]:
        """Recorded Web API calls, optionally of one method and with matching params
        (``emu.calls("chat.postMessage", channel="C1")``)."""
        out = []
        for r in self.requests:
            if r.kind != "api" or (api_method is not None and r.api_method != api_method):
                continue
            if all(r.params.get(k) == v for k, v in where.items()):
                out.append(r)
        return out

    def requests_of(self, kind: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.kind == kind]

    def clear_records(self) -> None:
        self.requests.clear()
        self.file_fetches.clear()
        self.response_url_posts.clear()
        self.socket_received.clear()
        self.socket_acks.clear()
        self.socket_sent.clear()

    def summary(self) -> str:
        return ", ".join(repr(r) for r in self.requests[-30:]) or "(no requests)"

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,
        *,
        interval: float = 0.02,
        message: str | None = None,
    ) -> Any:
        """Poll ``predicate()`` (sync or async, no args) until it is truthy; return its value.

        Raises ``TimeoutError`` listing the most recent recorded requests.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                what = message or getattr(predicate, "__name__", "condition")
                raise TimeoutError(f"{what} not met within {timeout}s; recorded: {self.summary()}")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(interval, remaining))

    async def wait_for_call(
        self, api_method: str, count: int = 1, timeout: float = 5.0, **where: Any
    ) -> list[RecordedRequest]:
        """Wait until at least ``count`` calls of ``api_method`` (matching ``where``) arrived."""

        def check() -> list[RecordedRequest] | None:
            found = self.calls(api_method, **where)
            return found if len(found) >= count else None

        result: list[RecordedRequest] = await self.wait_for(
            check, timeout, message=f"{count}x {api_method} {where or ''}"
        )
        return result

    # ---------------------------------------------------------------- Web API dispatch

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        rec = await self._record(request, "api", method)
        response = await self._api_response(method, rec)
        rec.status = response.status
        if isinstance(response, web.Response) and response.text is not None:
            rec.response = _maybe_json(response.text)
        self._notify()
        return response

    async def _api_response(self, method: str, rec: RecordedRequest) -> web.Response:
        auth = rec.authorization
        if not auth or not auth.startswith("Bearer ") or not rec.token:
            return web.json_response({"ok": False, "error": "not_authed"})
        token = rec.token
        expected = self.app_token if method in _APP_TOKEN_METHODS else self.bot_token
        if token != expected:
            wrong_kind = token in (self.app_token, self.bot_token)
            return web.json_response(
                {"ok": False, "error": "not_allowed_token_type" if wrong_kind else "invalid_auth"}
            )
        fault = self._take_fault(method)
        if fault is not None:
            return self._fault_response(fault)
        handler: Any = self._overrides.get(method) or self._api_handlers.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        try:
            result = handler(rec.params, rec) if callable(handler) else handler
            if inspect.isawaitable(result):
                result = await result
        except _ApiError as e:
            return web.json_response({"ok": False, "error": e.error, **e.extra})
        if isinstance(result, web.Response):
            return result
        body = dict(result)
        body.setdefault("ok", True)
        return web.json_response(body)

    # ---- individual methods (params, record) -> dict; raise _ApiError for ok:false

    def _api_test(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        return {"args": {k: v for k, v in p.items() if k != "token"}}

    def _auth_test(self, _p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        return {
            "url": f"{self.base_url}/",
            "team": "Seed Test",
            "user": "seedbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "is_enterprise_install": False,
        }

    def _writable_channel(self, channel: Any) -> str:
        cid = self._resolve_channel(channel)
        info = self.channels[cid]
        if info.get("is_archived"):
            raise _ApiError("is_archived")
        if not info.get("is_member", True):
            raise _ApiError("not_in_channel")
        return cid

    def _chat_post_message(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._writable_channel(p.get("channel"))
        if not (p.get("text") or p.get("blocks") or p.get("attachments")):
            raise _ApiError("no_text")
        msg = self.store_message(cid, self._bot_message(cid, p))
        return {"channel": cid, "ts": msg["ts"], "message": dict(msg)}

    def _chat_update(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        msg = self.message(cid, str(p.get("ts") or ""))
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.get("bot_id") != BOT_ID:
            raise _ApiError("cant_update_message")
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in p:
                msg[key] = _maybe_json(p[key])
        if "file_ids" in p:
            ids = _maybe_json(p["file_ids"])
            ids = ids if isinstance(ids, list) else str(ids).split(",")
            msg["files"] = [dict(self.files[i]) for i in ids if i in self.files]
        msg["edited"] = {"user": BOT_USER_ID, "ts": self.next_ts()}
        self._notify()
        return {"channel": cid, "ts": msg["ts"], "text": msg.get("text", ""), "message": dict(msg)}

    def _chat_delete(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        ts = str(p.get("ts") or "")
        msg = self.message(cid, ts)
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.get("bot_id") != BOT_ID:
            raise _ApiError("cant_delete_message")
        self.messages[cid].remove(msg)
        self.deleted_messages.append({"channel": cid, **msg})
        self._notify()
        return {"channel": cid, "ts": ts}

    def _chat_post_ephemeral(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._writable_channel(p.get("channel"))
        user = p.get("user")
        if user not in self.users:
            raise _ApiError("user_not_found")
        if not (p.get("text") or p.get("blocks") or p.get("attachments")):
            raise _ApiError("no_text")
        ts = self.next_ts()
        entry = {"channel": cid, "user": user, "message_ts": ts, "via": "chat.postEphemeral"}
        entry.update({k: _maybe_json(v) for k, v in p.items() if k in ("text", "blocks", "thread_ts")})
        self.ephemerals.append(entry)
        self._notify()
        return {"message_ts": ts}

    def permalink(self, channel: str, ts: str) -> str:
        return f"{self.base_url}/archives/{channel}/p{ts.replace('.', '')}"

    def _chat_get_permalink(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        ts = str(p.get("message_ts") or "")
        msg = self.message(cid, ts)
        if msg is None:
            raise _ApiError("message_not_found")
        link = self.permalink(cid, ts)
        if msg.get("thread_ts") and msg["thread_ts"] != ts:
            link += f"?thread_ts={msg['thread_ts']}&cid={cid}"
        return {"channel": cid, "permalink": link}

    @staticmethod
    def _page(items: list[dict[str, Any]], p: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
        start = int(p.get("cursor") or 0)
        limit = int(p.get("limit") or 0) or 1000
        page = items[start : start + limit]
        nxt = str(start + limit) if start + limit < len(items) else ""
        return [dict(m) for m in page], nxt

    def _conversations_replies(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        ts = str(p.get("ts") or "")
        if self.message(cid, ts) is None:
            raise _ApiError("thread_not_found")
        items = self.thread(cid, ts)
        page, nxt = self._page(items, p)
        return {"messages": page, "has_more": bool(nxt), "response_metadata": {"next_cursor": nxt}}

    def _conversations_history(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        items = [
            m
            for m in reversed(self.messages.get(cid, []))
            if not m.get("thread_ts") or m["thread_ts"] == m["ts"] or m.get("subtype") == "thread_broadcast"
        ]
        page, nxt = self._page(items, p)
        return {"messages": page, "has_more": bool(nxt), "response_metadata": {"next_cursor": nxt}}

    def _conversations_info(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        return {"channel": dict(self.channels[cid])}

    def _users_info(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        user = self.users.get(str(p.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        return {"user": dict(user)}

    def _files_get_upload_url_external(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        filename = p.get("filename")
        length = p.get("length")
        if not filename or length in (None, ""):
            raise _ApiError("invalid_arguments")
        file_id = self._new_id("F")
        upload_id = secrets.token_hex(8)
        url = f"{self.base_url}/upload/v1/{upload_id}"
        self.uploads[file_id] = {
            "file_id": file_id,
            "upload_id": upload_id,
            "upload_url": url,
            "filename": str(filename),
            "length": int(length),
            "alt_txt": p.get("alt_txt"),
            "snippet_type": p.get("snippet_type"),
            "data": None,
            "completed": False,
        }
        return {"upload_url": url, "file_id": file_id}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        rec = await self._record(request, "upload")
        upload = next(
            (u for u in self.uploads.values() if u["upload_id"] == request.match_info["upload_id"]), None
        )
        fault = self._take_fault("upload")
        if fault is not None:
            resp = self._fault_response(fault)
        elif upload is None:
            resp = web.Response(status=404, text="upload_not_found", content_type="text/plain")
        else:
            upload["data"] = rec.body
            upload["content_type"] = request.headers.get("Content-Type")
            upload["upload_headers"] = dict(request.headers)
            resp = web.Response(text=f"OK - {len(rec.body)}", content_type="text/plain")
        rec.status = resp.status
        self._notify()
        return resp

    def _files_complete_upload_external(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        items = p.get("files")
        if not isinstance(items, list) or not items:
            raise _ApiError("invalid_arguments")
        channels: list[str] = []
        if p.get("channel_id"):
            channels.append(self._writable_channel(p["channel_id"]))
        if p.get("channels"):
            channels.extend(self._writable_channel(c) for c in str(p["channels"]).split(","))
        thread_ts = p.get("thread_ts") or None
        if thread_ts and not channels:
            raise _ApiError("invalid_arguments")
        out: list[dict[str, Any]] = []
        for item in items:
            upload = self.uploads.get(item.get("id", ""))
            if upload is None or upload["data"] is None:
                raise _ApiError("file_not_found")
            if upload["completed"]:
                raise _ApiError("file_already_completed")
            info = self.add_file(
                upload["filename"],
                upload["data"],
                title=item.get("title") or upload["filename"],
                user=BOT_USER_ID,
                file_id=upload["file_id"],
            )
            upload.update(
                completed=True,
                title=info["title"],
                channel=channels[0] if channels else None,
                channels=list(channels),
                thread_ts=thread_ts,
                initial_comment=p.get("initial_comment"),
            )
            out.append(info)
        for cid in channels:
            msg = self._bot_message(cid, {"text": p.get("initial_comment") or "", "thread_ts": thread_ts})
            msg["upload"] = True
            msg["display_as_bot"] = False
            msg["files"] = [dict(f) for f in out]
            if p.get("blocks"):
                msg["blocks"] = p["blocks"]
            self.store_message(cid, msg)
            for f in out:
                stored = self.files[f["id"]]
                kind = "private" if self.channels[cid].get("is_private") or cid.startswith("D") else "public"
                share: dict[str, Any] = {"ts": msg["ts"], "channel_name": self.channels[cid].get("name", "")}
                if thread_ts:
                    share["thread_ts"] = thread_ts
                stored["shares"].setdefault(kind, {}).setdefault(cid, []).append(share)
                key = "ims" if cid.startswith("D") else "channels"
                stored[key].append(cid)
        return {"files": [dict(self.files[f["id"]]) for f in out]}

    def _files_info(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        info = self.files.get(str(p.get("file") or ""))
        if info is None:
            raise _ApiError("file_not_found")
        return {"file": dict(info), "comments": [], "response_metadata": {"next_cursor": ""}}

    def _files_upload_v1(self, _p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        raise _ApiError("method_deprecated")

    def _use_trigger(self, p: Mapping[str, Any]) -> None:
        trigger = str(p.get("trigger_id") or "")
        if not trigger:
            raise _ApiError("invalid_arguments")
        if trigger not in self.trigger_ids:
            raise _ApiError("invalid_trigger_id")

    def _make_view(self, p: Mapping[str, Any], *, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        view = _maybe_json(p.get("view"))
        if not isinstance(view, dict) or "type" not in view:
            raise _ApiError("invalid_arguments")
        vid = previous["id"] if previous else self._new_id("V")
        stored = {
            "id": vid,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "hash": secrets.token_hex(6),
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            "root_view_id": vid,
            **view,
        }
        self.views[vid] = stored
        self._notify()
        return stored

    def _views_open(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        self._use_trigger(p)
        return {"view": dict(self._make_view(p))}

    def _views_push(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        self._use_trigger(p)
        return {"view": dict(self._make_view(p))}

    def _views_update(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        vid = p.get("view_id")
        prev = self.views.get(str(vid)) if vid else None
        if prev is None and p.get("external_id"):
            prev = next((v for v in self.views.values() if v.get("external_id") == p["external_id"]), None)
        if prev is None:
            raise _ApiError("not_found")
        return {"view": dict(self._make_view(p, previous=prev))}

    def _views_publish(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        user = str(p.get("user_id") or "")
        if user not in self.users:
            raise _ApiError("user_not_found")
        view = self._make_view(p, previous=self.home_views.get(user))
        if view.get("type") != "home":
            raise _ApiError("invalid_arguments")
        self.home_views[user] = view
        return {"view": dict(view)}

    def _reaction_target(self, p: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        cid = self._resolve_channel(p.get("channel"))
        msg = self.message(cid, str(p.get("timestamp") or ""))
        if msg is None:
            raise _ApiError("message_not_found")
        name = str(p.get("name") or "").strip(":")
        if not name:
            raise _ApiError("invalid_name")
        return msg, name

    def _reactions_add(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        msg, name = self._reaction_target(p)
        reactions = msg.setdefault("reactions", [])
        entry = next((x for x in reactions if x["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if BOT_USER_ID in entry["users"]:
            raise _ApiError("already_reacted")
        entry["users"].append(BOT_USER_ID)
        entry["count"] += 1
        self._notify()
        return {}

    def _reactions_remove(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        msg, name = self._reaction_target(p)
        reactions = msg.get("reactions", [])
        entry = next((x for x in reactions if x["name"] == name), None)
        if entry is None or BOT_USER_ID not in entry["users"]:
            raise _ApiError("no_reaction")
        entry["users"].remove(BOT_USER_ID)
        entry["count"] -= 1
        if not entry["count"]:
            reactions.remove(entry)
        self._notify()
        return {}

    def reactions(self, channel: str, ts: str) -> list[str]:
        """Names of reactions on a stored message."""
        msg = self.message(channel, ts) or {}
        return [r["name"] for r in msg.get("reactions", [])]

    def _apps_connections_open(self, _p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        ticket = secrets.token_hex(8)
        self._socket_tickets.add(ticket)
        return {"url": f"{self.socket_url}?ticket={ticket}&app_id={APP_ID}"}

    # ---------------------------------------------------------------- private file host

    async def _handle_file(self, request: web.Request) -> web.Response:
        rec = await self._record(request, "file")
        team_file = request.match_info["team_file"]
        file_id = team_file.split("-", 1)[1] if "-" in team_file else team_file
        info = self.files.get(file_id)
        authorized = rec.token == self.bot_token
        fetch = {
            "file_id": file_id,
            "path": request.path,
            "headers": dict(request.headers),
            "authorized": authorized,
            "served": "",
        }
        if info is None:
            resp = web.Response(status=404, text="file_not_found", content_type="text/plain")
            fetch["served"] = "404"
        elif not authorized or file_id in self._html_files:
            # Real Slack answers a missing/invalid token (or a token without files:read)
            # with 200 and its sign-in page, not with 401/403.
            resp = web.Response(text=LOGIN_PAGE_HTML, content_type="text/html", charset="utf-8")
            fetch["served"] = "html"
        else:
            headers = {}
            if "/download/" in request.path:
                headers["Content-Disposition"] = f'attachment; filename="{info["name"]}"'
            resp = web.Response(body=self._file_data[file_id], content_type=info["mimetype"], headers=headers)
            fetch["served"] = "bytes"
        self.file_fetches.append(fetch)
        rec.status = resp.status
        self._notify()
        return resp

    # ---------------------------------------------------------------- response_url

    def _issue_response_url(self, kind: str, **context: Any) -> str:
        rid = next(self._ids)
        path = f"/{kind}/{TEAM_ID}/{rid}/{secrets.token_hex(8)}"
        self._response_urls[path] = {"kind": kind, **context}
        return f"{self.base_url}{path}"

    def _issue_trigger_id(self, **context: Any) -> str:
        trigger = f"{next(self._ids)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        self.trigger_ids[trigger] = context
        return trigger

    def responses_to(self, response_url: str) -> list[dict[str, Any]]:
        """Bodies POSTed to one ``response_url`` (in order)."""
        return [p["json"] for p in self.response_url_posts if p["url"] == response_url]

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rec = await self._record(request, "response_url")
        ctx = self._response_urls.get(request.path)
        url = f"{self.base_url}{request.path}"
        body: Any = rec.json if rec.json is not None else _maybe_json(rec.params.get("payload", rec.params))
        self.response_url_posts.append({"url": url, "json": body, "headers": rec.headers, "context": ctx})
        if ctx is None:
            resp = web.Response(status=404, text="invalid_token", content_type="text/plain")
        elif not isinstance(body, dict):
            resp = web.Response(status=400, text="invalid_payload", content_type="text/plain")
        else:
            self._apply_response_url(ctx, body, via="response_url")
            resp = web.json_response({"ok": True})
        rec.status = resp.status
        self._notify()
        return resp

    def _apply_response_url(self, ctx: dict[str, Any], body: dict[str, Any], *, via: str) -> None:
        channel: str = ctx.get("channel") or ""
        message_ts = ctx.get("message_ts")
        original = self.message(channel, message_ts) if channel and message_ts else None
        if _bool(body.get("delete_original")) and original is not None:
            self.messages[channel].remove(original)
            self.deleted_messages.append({"channel": channel, **original})
        elif _bool(body.get("replace_original")) and original is not None:
            for key in ("text", "blocks", "attachments"):
                if key in body:
                    original[key] = body[key]
            original["edited"] = {"user": BOT_USER_ID, "ts": self.next_ts()}
        elif body.get("response_type") == "in_channel" and channel in self.channels:
            self.store_message(channel, self._bot_message(channel, body))
        else:
            entry = {"channel": channel, "user": ctx.get("user"), "via": via}
            entry.update({k: v for k, v in body.items() if k in ("text", "blocks", "thread_ts")})
            self.ephemerals.append(entry)

    # ---------------------------------------------------------------- signing & posting to the app

    def sign(self, body: bytes | str, timestamp: int | str, secret: str | None = None) -> str:
        """``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret."""
        raw = body.encode() if isinstance(body, str) else body
        base = b"v0:" + str(timestamp).encode() + b":" + raw
        key = (secret if secret is not None else self.signing_secret).encode()
        return "v0=" + hmac.new(key, base, hashlib.sha256).hexdigest()

    async def post_signed(
        self,
        app_url: str,
        body: bytes | str,
        content_type: str,
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
        headers: Mapping[str, str] | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> AppResponse:
        """Sign ``body`` and POST it to ``app_url``; returns the app's :class:`AppResponse`."""
        assert self._http is not None, "emulator not started"
        raw = body.encode() if isinstance(body, str) else body
        ts = int(time.time()) if timestamp is None else int(timestamp)
        sig = self.sign(raw, ts, secret="not-the-" + self.signing_secret if bad_signature else None)
        hdrs = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sig,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        hdrs.update(headers or {})
        async with self._http.post(app_url, data=raw, headers=hdrs) as resp:
            text = await resp.text()
            return AppResponse(
                resp.status,
                text,
                dict(resp.headers),
                response_url=response_url,
                trigger_id=trigger_id,
                payload=payload,
            )

    def event_envelope(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        event_time: int | None = None,
    ) -> dict[str, Any]:
        """The ``event_callback`` wrapper Slack puts around an event."""
        return {
            "token": self.verification_token,
            "team_id": TEAM_ID,
            "context_team_id": TEAM_ID,
            "context_enterprise_id": None,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or self._new_id("Ev"),
            "event_time": int(time.time()) if event_time is None else event_time,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_hex(12)}",
        }

    def _store_user_message(self, event: Mapping[str, Any]) -> None:
        if event.get("type") not in ("app_mention", "message") or not event.get("ts"):
            return
        if event.get("subtype") in ("message_changed", "message_deleted", "bot_message"):
            return
        channel = event.get("channel")
        if not channel or event.get("bot_id"):
            return
        self.messages.setdefault(channel, [])
        existing = self.message(channel, event["ts"])
        if existing is not None:
            return
        msg = {
            k: v
            for k, v in event.items()
            if k in ("user", "text", "ts", "thread_ts", "files", "blocks", "team", "subtype", "client_msg_id")
        }
        msg["type"] = "message"
        self.store_message(channel, msg)

    async def post_event(
        self,
        app_url: str,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        bad_signature: bool = False,
        store: bool = True,
    ) -> AppResponse:
        """Deliver an Events API ``event_callback`` (signed) to ``app_url`` (the full URL,
        e.g. ``http://127.0.0.1:P/slack/events``). ``retry_num`` adds ``X-Slack-Retry-Num`` /
        ``X-Slack-Retry-Reason``; ``timestamp`` overrides the signed timestamp (stale tests).
        With ``store=True`` a user message/mention is also added to the channel history."""
        envelope = self.event_envelope(event, event_id=event_id)
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        if store and not bad_signature:
            self._store_user_message(event)
        return await self.post_signed(
            app_url,
            json.dumps(envelope),
            "application/json",
            timestamp=timestamp,
            bad_signature=bad_signature,
            headers=headers,
            payload=envelope,
        )

    async def post_url_verification(self, app_url: str, challenge: str | None = None) -> AppResponse:
        """The handshake Slack sends when an Events URL is configured."""
        body = {
            "token": self.verification_token,
            "challenge": challenge or secrets.token_urlsafe(24),
            "type": "url_verification",
        }
        return await self.post_signed(app_url, json.dumps(body), "application/json", payload=body)

    # ---- event builders

    def mention_event(
        self,
        text: str,
        files: Iterable[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        channel: str = CHANNEL_ID,
        user: str = USER_ID,
        *,
        ts: str | None = None,
    ) -> dict[str, Any]:
        """An ``app_mention`` event. ``<@UBOT> `` is prepended unless the text already
        mentions the bot."""
        if f"<@{BOT_USER_ID}>" not in text:
            text = f"<@{BOT_USER_ID}> {text}"
        ts = ts or self.next_ts()
        event: dict[str, Any] = {
            "type": "app_mention",
            "user": user,
            "text": text,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            "team": TEAM_ID,
            "client_msg_id": str(uuid.uuid4()),
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
            parent = self.message(channel, thread_ts)
            if parent is not None and parent.get("user"):
                event["parent_user_id"] = parent["user"]
        if files:
            event["files"] = [dict(f) for f in files]
            event["upload"] = False
        return event

    def message_event(
        self,
        text: str,
        *,
        channel: str = CHANNEL_ID,
        user: str = USER_ID,
        thread_ts: str | None = None,
        files: Iterable[dict[str, Any]] | None = None,
        channel_type: str | None = None,
        subtype: str | None = None,
        ts: str | None = None,
        bot_id: str | None = None,
    ) -> dict[str, Any]:
        """A ``message`` event. ``channel_type`` defaults to ``im`` for ``D…`` channels and
        ``channel`` otherwise; ``files`` sets ``subtype=file_share``; ``thread_ts`` makes it a
        thread reply (with ``parent_user_id`` if the parent is stored)."""
        ts = ts or self.next_ts()
        if channel_type is None:
            info = self.channels.get(channel, {})
            if info.get("is_im") or channel.startswith("D"):
                channel_type = "im"
            elif info.get("is_private"):
                channel_type = "group"
            else:
                channel_type = "channel"
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": channel_type,
            "team": TEAM_ID,
            "client_msg_id": str(uuid.uuid4()),
        }
        if files:
            event["files"] = [dict(f) for f in files]
            event["upload"] = False
            subtype = subtype or "file_share"
        if subtype:
            event["subtype"] = subtype
        if bot_id:
            event["bot_id"] = bot_id
        if thread_ts:
            event["thread_ts"] = thread_ts
            parent = self.message(channel, thread_ts)
            if parent is not None and parent.get("user"):
                event["parent_user_id"] = parent["user"]
        return event

    def dm_event(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """A ``message`` event in the bot's DM with U1 (channel D1, ``channel_type=im``)."""
        kwargs.setdefault("channel", DM_CHANNEL_ID)
        kwargs.setdefault("channel_type", "im")
        return self.message_event(text, **kwargs)

    # ---- slash commands & interactivity

    def slash_command_payload(
        self,
        command: str = "/imagine",
        text: str = "",
        *,
        user: str = USER_ID,
        channel: str = CHANNEL_ID,
    ) -> dict[str, str]:
        """Form fields of a slash command (issues a fresh ``response_url`` and ``trigger_id``)."""
        response_url = self._issue_response_url("commands", channel=channel, user=user, command=command)
        trigger_id = self._issue_trigger_id(user=user, channel=channel, command=command)
        chan = self.channels.get(channel, {})
        return {
            "token": self.verification_token,
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": "directmessage" if chan.get("is_im") else chan.get("name", channel),
            "user_id": user,
            "user_name": self.users.get(user, {}).get("name", user),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }

    async def post_slash_command(
        self,
        app_url: str,
        command: str = "/imagine",
        text: str = "",
        *,
        user: str = USER_ID,
        channel: str = CHANNEL_ID,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> AppResponse:
        """POST a signed, form-encoded slash command. The result carries ``response_url``
        (posts to it are recorded in ``emu.response_url_posts`` / :meth:`responses_to`) and
        ``trigger_id`` (accepted by ``views.open``)."""
        form = self.slash_command_payload(command, text, user=user, channel=channel)
        resp = await self.post_signed(
            app_url,
            urlencode(form),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            bad_signature=bad_signature,
            response_url=form["response_url"],
            trigger_id=form["trigger_id"],
            payload=dict(form),
        )
        if resp == 200 and resp.text:
            # Like Slack: a plain-text ack body is shown ephemerally; a JSON body is a message
            # (in_channel or ephemeral per response_type).
            ctx = self._response_urls[form["response_url"].removeprefix(self.base_url)]
            body = _maybe_json(resp.text)
            self._apply_response_url(ctx, body if isinstance(body, dict) else {"text": resp.text}, via="ack")
        return resp

    def _user_obj(self, user: str) -> dict[str, Any]:
        name = self.users.get(user, {}).get("name", user)
        return {"id": user, "username": name, "name": name, "team_id": TEAM_ID}

    def block_action_payload(
        self,
        action_id: str,
        value: str | None = None,
        message_ts: str | None = None,
        channel: str = CHANNEL_ID,
        user: str = USER_ID,
        *,
        block_id: str = "actions",
        action_type: str = "button",
        state_values: dict[str, Any] | None = None,
        action: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A ``block_actions`` payload; ``message`` is taken from the store when ``message_ts``
        names a stored message."""
        message = self.message(channel, message_ts) if message_ts else None
        trigger_id = self._issue_trigger_id(user=user, channel=channel, action_id=action_id)
        response_url = self._issue_response_url("actions", channel=channel, user=user, message_ts=message_ts)
        act: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": action_type,
            "action_ts": f"{time.time():.6f}",
        }
        if action_type == "button":
            act["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
        if value is not None:
            act["value"] = value
        act.update(action or {})
        chan = self.channels.get(channel, {})
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user_obj(user),
            "api_app_id": APP_ID,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": message is None and message_ts is not None,
            },
            "trigger_id": trigger_id,
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": chan.get("name", "directmessage")},
            "state": {"values": self._state_values(state_values)},
            "response_url": response_url,
            "actions": [act],
        }
        if message is not None:
            payload["message"] = dict(message)
            if message.get("thread_ts"):
                payload["container"]["thread_ts"] = message["thread_ts"]
        return payload

    async def post_interactive(
        self,
        app_url: str,
        payload: dict[str, Any],
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> AppResponse:
        """POST any interactivity payload as the form field ``payload`` (signed)."""
        return await self.post_signed(
            app_url,
            urlencode({"payload": json.dumps(payload)}),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            bad_signature=bad_signature,
            response_url=payload.get("response_url"),
            trigger_id=payload.get("trigger_id"),
            payload=payload,
        )

    async def post_block_action(
        self,
        app_url: str,
        action_id: str,
        value: str | None = None,
        message_ts: str | None = None,
        channel: str = CHANNEL_ID,
        user: str = USER_ID,
        **kwargs: Any,
    ) -> AppResponse:
        """Press a button (or other block element) on message ``message_ts``."""
        payload = self.block_action_payload(action_id, value, message_ts, channel, user, **kwargs)
        return await self.post_interactive(app_url, payload)

    @staticmethod
    def _state_values(values: dict[str, Any] | None) -> dict[str, Any]:
        """Accept either Slack's shape or ``{block_id: {action_id: "text"}}`` shorthand."""
        out: dict[str, Any] = {}
        for block_id, actions in (values or {}).items():
            out[block_id] = {}
            for action_id, v in actions.items():
                out[block_id][action_id] = (
                    v if isinstance(v, dict) else {"type": "plain_text_input", "value": v}
                )
        return out

    def view_submission_payload(
        self,
        callback_id: str | None = None,
        values: dict[str, Any] | None = None,
        *,
        view_id: str | None = None,
        user: str = USER_ID,
        private_metadata: str | None = None,
    ) -> dict[str, Any]:
        """A ``view_submission`` payload. With ``view_id`` (from ``views.open``) the stored view
        is submitted; ``values`` may use the ``{block_id: {action_id: "text"}}`` shorthand."""
        if view_id is not None:
            view = dict(self.views[view_id])
        else:
            vid = self._new_id("V")
            view = {
                "id": vid,
                "team_id": TEAM_ID,
                "type": "modal",
                "blocks": [],
                "private_metadata": "",
                "callback_id": callback_id or "",
                "hash": secrets.token_hex(6),
                "app_id": APP_ID,
                "bot_id": BOT_ID,
                "root_view_id": vid,
                "previous_view_id": None,
            }
        if callback_id is not None:
            view["callback_id"] = callback_id
        if private_metadata is not None:
            view["private_metadata"] = private_metadata
        view["state"] = {"values": self._state_values(values)}
        return {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": self._user_obj(user),
            "api_app_id": APP_ID,
            "token": self.verification_token,
            "trigger_id": self._issue_trigger_id(user=user, view_id=view["id"]),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    async def post_view_submission(
        self,
        app_url: str,
        callback_id: str | None = None,
        values: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> AppResponse:
        """Submit a modal. Returns the app's answer (``.json()`` holds ``response_action``)."""
        payload = self.view_submission_payload(callback_id, values, **kwargs)
        return await self.post_interactive(app_url, payload)

    # ---------------------------------------------------------------- Socket Mode

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        rec = await self._record(request, "socket")
        ticket = request.query.get("ticket", "")
        if ticket not in self._socket_tickets:
            rec.status = 401
            return web.Response(status=401, text="invalid ticket; call apps.connections.open first")
        self._socket_tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        rec.status = 101
        self.socket_connections += 1
        self._sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {
                    "host": "emulator",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._socket_connected.set()
        self._notify()
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    data = {"raw": msg.data}
                self.socket_received.append(data)
                if isinstance(data, dict) and "envelope_id" in data:
                    self.socket_acks.append(data)
                self._notify()
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
            if not self._sockets:
                self._socket_connected.clear()
            self._notify()
        return ws

    @property
    def socket_connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def wait_socket_connected(self, timeout: float = 5.0, *, connections: int = 1) -> None:
        """Wait until a Socket Mode client is connected and has been sent ``hello``.

        ``connections=2`` waits for a second handshake (e.g. after :meth:`socket_send_disconnect`).
        """
        await self.wait_for(
            lambda: self.socket_connected and self.socket_connections >= connections,
            timeout,
            message=f"socket connection #{connections}",
        )

    async def socket_send(self, message: dict[str, Any]) -> None:
        """Send a raw JSON frame to the most recent Socket Mode connection."""
        live = [ws for ws in self._sockets if not ws.closed]
        if not live:
            raise RuntimeError("no Socket Mode client connected")
        self.socket_sent.append(message)
        await live[-1].send_json(message)

    async def socket_send_envelope(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool = False,
        **extra: Any,
    ) -> str:
        """Send an envelope (``events_api``, ``slash_commands``, ``interactive``); returns its id."""
        envelope_id = envelope_id or str(uuid.uuid4())
        await self.socket_send(
            {
                "envelope_id": envelope_id,
                "type": envelope_type,
                "payload": payload,
                "accepts_response_payload": accepts_response_payload,
                **extra,
            }
        )
        return envelope_id

    async def socket_send_event(
        self,
        event: dict[str, Any],
        *,
        envelope_id: str | None = None,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        store: bool = True,
    ) -> str:
        """Push an ``events_api`` envelope wrapping ``event``; returns the envelope id."""
        if store:
            self._store_user_message(event)
        return await self.socket_send_envelope(
            "events_api",
            self.event_envelope(event, event_id=event_id),
            envelope_id=envelope_id,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )

    async def socket_send_slash_command(
        self, command: str = "/imagine", text: str = "", **kwargs: Any
    ) -> str:
        payload = self.slash_command_payload(command, text, **kwargs)
        return await self.socket_send_envelope("slash_commands", payload, accepts_response_payload=True)

    async def socket_send_interactive(self, payload: dict[str, Any]) -> str:
        return await self.socket_send_envelope(
            "interactive", payload, accepts_response_payload=payload.get("type") == "view_submission"
        )

    async def socket_send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect (it calls ``apps.connections.open`` again)."""
        await self.socket_send({"type": "disconnect", "reason": reason, "debug_info": {"host": "emulator"}})

    async def wait_socket_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the client's ``{"envelope_id": …}`` ack and return it (with ``payload``
        if the app answered with one)."""

        def find() -> dict[str, Any] | None:
            return next((a for a in self.socket_acks if a.get("envelope_id") == envelope_id), None)

        result: dict[str, Any] = await self.wait_for(find, timeout, message=f"socket ack {envelope_id}")
        return result
