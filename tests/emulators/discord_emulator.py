"""Loopback Discord emulator for end-to-end tests that drive the *real* discord.py library.

One aiohttp application on ``127.0.0.1`` (port 0) serves the REST API under ``/api/v10``, the gateway
websocket under ``/gateway`` (and ``/resume-gateway``, the URL handed out as ``resume_gateway_url``) and a
CDN under ``/cdn`` (``/media`` is the proxy-url twin).  Every HTTP request is recorded.

Typical use::

    async with DiscordEmulator() as emu:
        bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
        async with emu.run_client(bot):          # patches discord.py's URLs, starts, waits for on_ready
            await bot.tree.sync()
            att = emu.add_cdn_file("in.png", png_bytes)
            inter = await emu.send_slash_command("imagine", {"prompt": "a cat", "image": att})
            assert await inter.wait_ack() == 5
            [msg] = await inter.wait_followups(1)

Public API (see docstrings):

* constants ``APPLICATION_ID`` (== ``BOT_USER_ID``), ``GUILD_ID``, ``TEXT_CHANNEL_ID`` ("general"),
  ``OTHER_CHANNEL_ID`` ("random"), ``HUMAN_USER_ID`` ("alice"), ``BOT_ROLE_ID``, ``OTHER_GUILD_ID``,
  ``DEFAULT_TOKEN``, ``Intents``, ``PERMISSIONS`` (also available as attributes of ``DiscordEmulator``);
* URLs: ``api_base``, ``gateway_url``, ``resume_gateway_url``, ``cdn_base``, ``media_base``, ``token``;
* discord.py glue: ``patch_discord()``, ``run_client(client)``;
* record: ``requests``, ``find_requests()``, ``last_request()``, ``wait_for()``, ``mark()``,
  ``unhandled_requests()``, ``uploaded_files()``, ``gateway_received``, ``gateway_sent``,
  ``gateway_connections``, ``identify_payload``, ``presence_updates``;
* state: ``messages``, ``channels``, ``users``, ``members``, ``commands``, ``interactions``,
  ``wait_for_message()``, ``message_payload()``, ``find_command()``, ``register_commands()``,
  ``add_user()``, ``add_text_channel()``, ``add_message()``, ``dm_channel()``, ``block_dms()``,
  ``set_bot_channel_permissions()``, ``permissions_for()``, ``guilds``, ``add_guild()``, ``shard_of()``;
* CDN: ``add_cdn_file()``, ``cdn_bytes()``;
* faults: ``fail_next()``, ``rate_limit_next()``, ``EmulatedInteraction.expire()``;
* gateway: ``dispatch()``, ``wait_identified()``, ``wait_ready()``, ``wait_resumed()``,
  ``wait_connections()``, ``disconnect_gateway()``, ``ack_heartbeats``, ``session_shards()``;
* users acting: ``send_message()``, ``send_reaction()``, ``send_slash_command()``,
  ``send_autocomplete()``, ``send_message_command()``, ``send_user_command()``, ``send_component()``,
  ``send_modal_submit()`` / ``EmulatedInteraction.submit_modal()``, ``send_interaction()`` (raw);
  each interaction helper returns an :class:`EmulatedInteraction` (``wait_ack()``,
  ``wait_original()``, ``wait_followups()``, ``original``, ``followups``, ``modal``, ``choices``).

Wire facts follow /work/shared/docs/emulating-discord-and-slack.md.  Where real Discord is strict the
emulator is strict too (unsynced commands cannot be invoked, interactions must be acknowledged within
3 s and only once, followups before the acknowledgement get "Unknown Webhook", empty or oversized
messages are rejected, privileged intents are checked, message content is blanked without the
MESSAGE_CONTENT intent, CDN links must carry their signature).  Every strictness has a switch.

Shards: an IDENTIFY with ``shard: [id, count]`` gets its own session (one per shard id; a second
IDENTIFY of the same shard replaces it, closing the old connection with 4009).  READY and
GUILD_CREATE list only that shard's guilds (``(guild_id >> 22) % count == id``), guild events go
to the session of the shard owning the guild and DMs to shard 0.  An IDENTIFY without ``shard``
is shard 0 of 1 and gets every guild and event, as a single connection does.  ``add_guild()``
adds a guild with its own "general" channel, @everyone and bot role (every user is a member of
every guild); ``OTHER_GUILD_ID``, its default id, is on shard 1 of 2 while ``GUILD_ID`` is on 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import hmac
import itertools
import json
import mimetypes
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from aiohttp import BodyPartReader, WSMsgType, web
from multidict import CIMultiDict

__all__ = [
    "APPLICATION_ID",
    "BOT_ROLE_ID",
    "BOT_USER_ID",
    "DEFAULT_TOKEN",
    "GUILD_ID",
    "HUMAN_USER_ID",
    "OTHER_CHANNEL_ID",
    "OTHER_GUILD_ID",
    "PERMISSIONS",
    "TEXT_CHANNEL_ID",
    "DiscordEmulator",
    "EmulatedInteraction",
    "Fault",
    "GatewayConnection",
    "Intents",
    "Recorded",
]

# --------------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------------

DISCORD_EPOCH_MS = 1_420_070_400_000
API_PREFIX = "/api/v10"
DEFAULT_TOKEN = "test-discord-token"

# Modern applications have bot user id == application id; the constructor lets a test split them.
APPLICATION_ID = "1300000000000000001"
BOT_USER_ID = APPLICATION_ID
GUILD_ID = "1300000000000000100"
TEXT_CHANNEL_ID = "1300000000000000200"
OTHER_CHANNEL_ID = "1300000000000000201"
HUMAN_USER_ID = "1300000000000000300"
BOT_ROLE_ID = "1300000000000000400"
# add_guild()'s default id: (id >> 22) % 2 == 1, while GUILD_ID is on shard 0 of 2.
OTHER_GUILD_ID = str(int(GUILD_ID) + (1 << 22))

_GUILD_JOINED_AT = "2024-01-01T00:00:00.000000+00:00"


class Intents:
    """Gateway intent bits (https://discord.com/developers/docs/events/gateway#gateway-intents)."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


PERMISSIONS: dict[str, int] = {
    "create_instant_invite": 1 << 0,
    "kick_members": 1 << 1,
    "ban_members": 1 << 2,
    "administrator": 1 << 3,
    "manage_channels": 1 << 4,
    "manage_guild": 1 << 5,
    "add_reactions": 1 << 6,
    "view_audit_log": 1 << 7,
    "view_channel": 1 << 10,
    "send_messages": 1 << 11,
    "send_tts_messages": 1 << 12,
    "manage_messages": 1 << 13,
    "embed_links": 1 << 14,
    "attach_files": 1 << 15,
    "read_message_history": 1 << 16,
    "mention_everyone": 1 << 17,
    "use_external_emojis": 1 << 18,
    "connect": 1 << 20,
    "speak": 1 << 21,
    "change_nickname": 1 << 26,
    "manage_roles": 1 << 28,
    "manage_webhooks": 1 << 29,
    "use_application_commands": 1 << 31,
    "manage_threads": 1 << 34,
    "create_public_threads": 1 << 35,
    "create_private_threads": 1 << 36,
    "send_messages_in_threads": 1 << 38,
    "send_polls": 1 << 49,
    "use_external_apps": 1 << 50,
}
ALL_PERMISSIONS = (1 << 51) - 1


def _perm_bits(names: Iterable[str]) -> int:
    bits = 0
    for n in names:
        if n not in PERMISSIONS:
            raise ValueError(f"unknown permission {n!r}; known: {sorted(PERMISSIONS)}")
        bits |= PERMISSIONS[n]
    return bits


EVERYONE_PERMISSIONS = _perm_bits(
    [
        "create_instant_invite",
        "add_reactions",
        "view_channel",
        "send_messages",
        "embed_links",
        "attach_files",
        "read_message_history",
        "use_external_emojis",
        "connect",
        "speak",
        "change_nickname",
        "use_application_commands",
        "create_public_threads",
        "create_private_threads",
        "send_messages_in_threads",
        "send_polls",
        "use_external_apps",
    ]
)
BOT_ROLE_PERMISSIONS = EVERYONE_PERMISSIONS | _perm_bits(["manage_messages", "manage_threads"])

# Message flags
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_IS_COMPONENTS_V2 = 1 << 15

# Message types
MT_DEFAULT = 0
MT_THREAD_CREATED = 18
MT_REPLY = 19
MT_CHAT_INPUT_COMMAND = 20
MT_CONTEXT_MENU_COMMAND = 23

# Interaction types
IT_PING, IT_APPLICATION_COMMAND, IT_COMPONENT, IT_AUTOCOMPLETE, IT_MODAL_SUBMIT = 1, 2, 3, 4, 5

# Channel types
CT_GUILD_TEXT, CT_DM, CT_ANNOUNCEMENT_THREAD, CT_PUBLIC_THREAD, CT_PRIVATE_THREAD = 0, 1, 10, 11, 12
THREAD_TYPES = (CT_ANNOUNCEMENT_THREAD, CT_PUBLIC_THREAD, CT_PRIVATE_THREAD)

MAX_CONTENT = 2000
MAX_FILES = 10
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # free-tier attachment_size_limit

_COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _sid(value: Any) -> str:
    """Normalise a snowflake given as int/str/dict-with-id into its string form."""
    if isinstance(value, Mapping):
        value = value["id"]
    return str(int(value))


def _sanitize_filename(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return cleaned or "unknown"


def _sniff_content_type(data: bytes, filename: str) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    guessed = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if guessed.startswith("text/"):
        guessed += "; charset=utf-8"
    return guessed


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            return int(img.width), int(img.height)
    except Exception:
        return None


# --------------------------------------------------------------------------------------------------
# Records and errors
# --------------------------------------------------------------------------------------------------


@dataclass
class Recorded:
    """One HTTP request as received (and how the emulator answered it).

    ``path`` is relative to the API base for REST calls (``/channels/1/messages``) and the raw path
    for CDN downloads.  ``json`` is the JSON body; for multipart bodies ``payload_json`` is the parsed
    ``payload_json`` part and ``files`` lists ``(filename, content_type, bytes)`` of the file parts
    (``file_fields`` holds their form field names, e.g. ``files[0]``).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]  # case-insensitive (CIMultiDict)
    json: Any = None
    files: list[tuple[str, str, bytes]] = field(default_factory=list)
    payload_json: Any = None
    file_fields: list[str] = field(default_factory=list)
    raw_path: str = ""
    kind: str = "api"  # "api" | "cdn" | "other"
    route: str | None = None  # matched route template, None for unknown routes
    status: int | None = None
    response: Any = None
    fault: bool = False  # answered by an injected fault

    @property
    def body(self) -> Any:
        """The JSON payload whichever way it was sent (plain JSON or multipart ``payload_json``)."""
        return self.json if self.json is not None else self.payload_json

    def __repr__(self) -> str:  # keep failure output readable
        extra = f" files={[f[0] for f in self.files]}" if self.files else ""
        return f"<Recorded {self.method} {self.path} -> {self.status}{extra}>"


@dataclass
class Fault:
    """An injected failure; see :meth:`DiscordEmulator.fail_next`."""

    method: str | None
    path: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int
    hits: int = 0


class _Upload(NamedTuple):
    field: str
    slot: int | None  # N of a files[N] field
    filename: str
    content_type: str
    data: bytes


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors is not None:
            self.body["errors"] = errors
        self.headers = dict(headers or {})


def _form_error(path: str, code: str, message: str) -> _ApiError:
    """A 400 "Invalid Form Body" (code 50035) with Discord's nested ``errors`` shape."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        errors = {part: errors}
    return _ApiError(400, 50035, "Invalid Form Body", errors)


def _unknown(what: str, code: int) -> _ApiError:
    return _ApiError(404, code, f"Unknown {what}")


def _missing_permissions() -> _ApiError:
    return _ApiError(403, 50013, "Missing Permissions")


@dataclass
class _Resp:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Req:
    rec: Recorded
    params: dict[str, str]
    query: Mapping[str, str]
    body: Any
    uploads: list[_Upload]


# --------------------------------------------------------------------------------------------------
# Gateway state
# --------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class GatewayConnection:
    """One websocket connection (a new one per reconnect)."""

    index: int
    path: str
    query: dict[str, str]
    ws: web.WebSocketResponse = field(repr=False)
    kind: str | None = None  # "identify" | "resume" once the client said which
    closed: bool = False
    close_code: int | None = None
    heartbeats: int = 0
    shard: tuple[int, int] | None = None  # the IDENTIFY's [id, count], if it sent one
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)


@dataclass(eq=False)
class _Session:
    session_id: str
    intents: int
    identify: dict[str, Any]
    seq: int = 0
    buffer: list[dict[str, Any]] = field(default_factory=list)
    conn: GatewayConnection | None = None
    shard: tuple[int, int] | None = None  # None: unsharded (shard 0 of 1)

    @property
    def shard_id(self) -> int:
        return self.shard[0] if self.shard else 0

    @property
    def shard_count(self) -> int:
        return self.shard[1] if self.shard else 1


# --------------------------------------------------------------------------------------------------
# Interactions
# --------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class EmulatedInteraction:
    """State of one INTERACTION_CREATE the emulator sent, and what the bot answered."""

    emu: DiscordEmulator = field(repr=False)
    id: str
    token: str
    type: int
    payload: dict[str, Any] = field(repr=False)
    created_at: float
    response_type: int | None = None
    response_body: dict[str, Any] | None = field(default=None, repr=False)
    original_message_id: str | None = None
    followup_ids: list[str] = field(default_factory=list)
    modal: dict[str, Any] | None = field(default=None, repr=False)
    choices: list[dict[str, Any]] | None = None
    callback_expired: bool = False
    webhook_expired: bool = False
    deferred_pending: bool = False  # type-5 "thinking" message not yet resolved
    shard: int | None = None  # shard id of the gateway session it was dispatched to (0 unsharded)
    session_id: str | None = None  # that session (None if no session owned its guild)

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.payload.get("data", {})
        return data

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None

    @property
    def original(self) -> dict[str, Any] | None:
        """The current ``@original`` message (the component's message for types 6/7)."""
        if self.original_message_id is None:
            return None
        return self.emu.messages.get(self.original_message_id)

    @property
    def followups(self) -> list[dict[str, Any]]:
        return [self.emu.messages[m] for m in self.followup_ids if m in self.emu.messages]

    async def wait_ack(self, timeout: float = 3.0) -> int:
        """Wait for the initial callback; returns its type (4, 5, 6, 7, 8 or 9)."""
        await self.emu._wait_until(lambda: self.response_type is not None, timeout, f"ack of {self!r}")
        assert self.response_type is not None
        return self.response_type

    async def wait_original(self, timeout: float = 3.0) -> dict[str, Any]:
        """Wait until ``@original`` exists and is no longer a loading ("thinking") message."""

        def done() -> bool:
            msg = self.original
            return msg is not None and not (msg.get("flags", 0) & FLAG_LOADING)

        await self.emu._wait_until(done, timeout, f"original response of {self!r}")
        msg = self.original
        assert msg is not None
        return msg

    async def wait_followups(self, count: int = 1, timeout: float = 3.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` followup messages exist (a followup that resolved a deferred
        response counts, even though it shares ``@original``'s id)."""
        await self.emu._wait_until(lambda: len(self.followup_ids) >= count, timeout, f"{count} followups")
        return self.followups

    def expire(self, *, callback: bool = True, webhook: bool = True) -> None:
        """Make the token behave as expired: callback -> 404 10062, webhook routes -> 404 10015."""
        self.callback_expired = self.callback_expired or callback
        self.webhook_expired = self.webhook_expired or webhook

    async def submit_modal(self, values: Mapping[str, Any], **kwargs: Any) -> EmulatedInteraction:
        """Submit the modal this interaction was answered with (callback type 9)."""
        return await self.emu.send_modal_submit(values, opened_by=self, **kwargs)


# --------------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------------

_RouteHandler = Callable[[_Req], Any]


class DiscordEmulator:
    """Loopback Discord (REST + gateway + CDN on one port).  Use as ``async with DiscordEmulator() as emu``."""

    APPLICATION_ID = APPLICATION_ID
    BOT_USER_ID = BOT_USER_ID
    GUILD_ID = GUILD_ID
    TEXT_CHANNEL_ID = TEXT_CHANNEL_ID
    OTHER_CHANNEL_ID = OTHER_CHANNEL_ID
    HUMAN_USER_ID = HUMAN_USER_ID
    BOT_ROLE_ID = BOT_ROLE_ID
    OTHER_GUILD_ID = OTHER_GUILD_ID

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        heartbeat_interval: int = 45000,
        application_id: str = APPLICATION_ID,
        bot_user_id: str | None = None,
        bot_username: str = "seedbot",
        allowed_privileged_intents: int = Intents.PRIVILEGED,
        upload_limit: int = DEFAULT_UPLOAD_LIMIT,
        interaction_ack_deadline: float | None = 3.0,
        strict_commands: bool = True,
        echo_bot_messages: bool = True,
        enforce_intents: bool = True,
        require_cdn_signature: bool = True,
    ) -> None:
        self.token = token
        self.heartbeat_interval = heartbeat_interval
        self.application_id = str(application_id)
        self.bot_user_id = str(bot_user_id or application_id)
        self.allowed_privileged_intents = allowed_privileged_intents
        self.upload_limit = upload_limit
        self.interaction_ack_deadline = interaction_ack_deadline
        self.strict_commands = strict_commands
        self.echo_bot_messages = echo_bot_messages
        self.enforce_intents = enforce_intents
        self.require_cdn_signature = require_cdn_signature
        self.ack_heartbeats = True  # set False to simulate a zombied connection

        self.port = 0
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.gateway_connections: list[GatewayConnection] = []
        self.gateway_received: list[dict[str, Any]] = []  # every frame the client sent
        self.gateway_sent: list[dict[str, Any]] = []  # every frame the emulator sent
        self.presence_updates: list[dict[str, Any]] = []
        self.identify_payload: dict[str, Any] | None = None
        self.identify_count = 0
        self.resume_count = 0
        self.identified = asyncio.Event()  # set when an IDENTIFY arrived
        self.ready = asyncio.Event()  # set once READY (+ GUILD_CREATE) were sent

        self.guilds: dict[str, dict[str, Any]] = {}  # id -> {"id", "name", "text_channel_id", "bot_role_id"}
        self.users: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, Any]] = {}  # guild members (of every guild) by user id
        self.roles: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.commands: dict[str | None, list[dict[str, Any]]] = {None: []}  # None = global
        self.interactions: dict[str, EmulatedInteraction] = {}  # by token
        self.blocked_dm_users: set[str] = set()

        self._sessions: dict[int, _Session] = {}  # by shard id (an unsharded session is shard 0)
        self._role_guild: dict[str, str] = {}  # roles of add_guild() guilds; any other is GUILD_ID's
        self._cdn: dict[str, tuple[bytes, str]] = {}
        self._cdn_secret = secrets.token_bytes(16)
        self._nonces: dict[tuple[str, str], str] = {}
        self._counter = itertools.count()
        self._last_snowflake = 0
        self._runner: web.AppRunner | None = None
        self._routes = self._build_routes()
        self._seed()

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> DiscordEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway_handler)
        app.router.add_get("/resume-gateway", self._gateway_handler)
        app.router.add_route("*", "/{tail:.*}", self._http_handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        for conn in list(self.gateway_connections):
            if not conn.closed:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=1001, message=b"emulator shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ URLs

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/resume-gateway"

    @property
    def cdn_base(self) -> str:
        return self.base_url + "/cdn"

    @property
    def media_base(self) -> str:
        return self.base_url + "/media"

    @property
    def bot_mention(self) -> str:
        return f"<@{self.bot_user_id}>"

    @property
    def intents(self) -> int | None:
        """Intents of the current gateway session (None before IDENTIFY)."""
        return self._session.intents if self._session else None

    @property
    def _session(self) -> _Session | None:
        """The session of shard 0 (the only one without sharding), else any."""
        return self._sessions.get(0) or next(iter(self._sessions.values()), None)

    @staticmethod
    def shard_of(guild_id: str | int, shard_count: int) -> int:
        """The shard a guild's events go to: ``(guild_id >> 22) % shard_count``."""
        return (int(_sid(guild_id)) >> 22) % shard_count

    def session_shards(self) -> dict[int, str]:
        """{shard id: session id} of the current gateway sessions (an unsharded one is shard 0)."""
        return {k: s.session_id for k, s in self._sessions.items()}

    # ------------------------------------------------------------------ discord.py helpers

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point discord.py's REST base and default gateway at this emulator (restored on exit)."""
        import discord.gateway
        import discord.http
        import yarl

        old_base = discord.http.Route.BASE
        old_gw = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gw

    @contextlib.asynccontextmanager
    async def run_client(
        self, client: Any, *, token: str | None = None, ready_timeout: float = 5.0
    ) -> AsyncIterator[Any]:
        """Patch discord.py, ``client.start()`` in a task, wait for ``on_ready``; close and reap on exit.

        Construct the client with ``guild_ready_timeout`` small (e.g. 0.05) or on_ready waits 2 s.
        """
        with self.patch_discord():
            task = asyncio.create_task(client.start(token or self.token), name="discord-emulator-client")
            ready = asyncio.create_task(client.wait_until_ready())
            try:
                done, _ = await asyncio.wait(
                    {task, ready}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if task in done:
                    task.result()  # re-raise LoginFailure & co
                    raise RuntimeError("client.start() returned before becoming ready")
                if ready not in done:
                    raise TimeoutError(f"client not ready after {ready_timeout}s; requests={self.requests!r}")
                yield client
            finally:
                ready.cancel()
                with contextlib.suppress(Exception):
                    await client.close()
                if not task.done():
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await asyncio.wait_for(task, 5.0)
                elif not task.cancelled():
                    task.exception()  # mark retrieved

    # ------------------------------------------------------------------ snowflakes & seed data

    def snowflake(self) -> str:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (1 << 17) | (next(self._counter) & 0xFFF)
        value = max(value, self._last_snowflake + 1)
        self._last_snowflake = value
        return str(value)

    def _seed(self) -> None:
        self.users[self.bot_user_id] = self._user(self.bot_user_id, "seedbot", bot=True)
        self.users[HUMAN_USER_ID] = self._user(HUMAN_USER_ID, "alice", global_name="Alice")
        self.roles[GUILD_ID] = {
            "id": GUILD_ID,
            "name": "@everyone",
            "permissions": str(EVERYONE_PERMISSIONS),
            "position": 0,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
            "description": None,
        }
        self.roles[BOT_ROLE_ID] = {
            **self.roles[GUILD_ID],
            "id": BOT_ROLE_ID,
            "name": "seedbot",
            "permissions": str(BOT_ROLE_PERMISSIONS),
            "position": 1,
            "managed": True,
            "tags": {"bot_id": self.bot_user_id},
        }
        self.members[self.bot_user_id] = self._member_record([BOT_ROLE_ID])
        self.members[HUMAN_USER_ID] = self._member_record([])
        self.channels[TEXT_CHANNEL_ID] = self._text_channel(TEXT_CHANNEL_ID, "general", 0)
        self.channels[OTHER_CHANNEL_ID] = self._text_channel(OTHER_CHANNEL_ID, "random", 1)
        self.guilds[GUILD_ID] = {
            "id": GUILD_ID,
            "name": "Seedbot Test Guild",
            "text_channel_id": TEXT_CHANNEL_ID,
            "bot_role_id": BOT_ROLE_ID,
        }

    @staticmethod
    def _user(
        uid: str, username: str, *, bot: bool = False, global_name: str | None = None
    ) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": uid,
            "username": username,
            "global_name": global_name,
            "discriminator": "0",
            "avatar": None,
            "avatar_decoration_data": None,
            "banner": None,
            "accent_color": None,
            "public_flags": 0,
            "flags": 0,
            "primary_guild": None,
            "collectibles": None,
        }
        if bot:
            user["bot"] = True
            user["discriminator"] = "1234"
        return user

    @staticmethod
    def _member_record(roles: list[str]) -> dict[str, Any]:
        return {
            "roles": list(roles),
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": _GUILD_JOINED_AT,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }

    @staticmethod
    def _text_channel(cid: str, name: str, position: int, guild_id: str = GUILD_ID) -> dict[str, Any]:
        return {
            "id": cid,
            "type": CT_GUILD_TEXT,
            "guild_id": guild_id,
            "name": name,
            "position": position,
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "permission_overwrites": [],
            "flags": 0,
            "default_auto_archive_duration": 1440,
            "default_thread_rate_limit_per_user": 0,
        }

    def add_user(
        self, username: str, *, user_id: str | None = None, bot: bool = False, member: bool = True
    ) -> dict[str, Any]:
        """Register another user (and guild member unless ``member=False``); returns the user object."""
        uid = str(user_id or self.snowflake())
        self.users[uid] = self._user(uid, username, bot=bot)
        if member:
            self.members[uid] = self._member_record([])
        return self.users[uid]

    def add_text_channel(self, name: str, *, guild_id: str | int = GUILD_ID) -> dict[str, Any]:
        """Add a guild text channel (send CHANNEL_CREATE yourself via ``dispatch`` if already connected)."""
        gid = _sid(guild_id)
        if gid not in self.guilds:
            raise ValueError(f"unknown guild {gid}")
        cid = self.snowflake()
        pos = sum(
            1 for c in self.channels.values() if c["type"] == CT_GUILD_TEXT and c.get("guild_id") == gid
        )
        self.channels[cid] = self._text_channel(cid, name, pos, gid)
        return self.channels[cid]

    def add_guild(
        self, name: str = "Seedbot Other Guild", *, guild_id: str | int = OTHER_GUILD_ID
    ) -> dict[str, Any]:
        """Add another guild the bot is in: its own @everyone and bot role and a "general" text
        channel; every user is a member.  Returns ``{"id", "name", "text_channel_id", "bot_role_id"}``.
        Add it before the client connects (or dispatch its ``guild_payload()`` as GUILD_CREATE)."""
        gid = _sid(guild_id)
        if gid in self.guilds or gid in self.roles or gid in self.channels:
            raise ValueError(f"id {gid} is already in use")
        self.roles[gid] = {**copy.deepcopy(self.roles[GUILD_ID]), "id": gid}
        self.roles[gid]["permissions"] = str(EVERYONE_PERMISSIONS)
        rid = self.snowflake()
        self.roles[rid] = {**copy.deepcopy(self.roles[BOT_ROLE_ID]), "id": rid}
        self.roles[rid]["permissions"] = str(BOT_ROLE_PERMISSIONS)
        self._role_guild[gid] = self._role_guild[rid] = gid
        self.members[self.bot_user_id]["roles"].append(rid)
        self.guilds[gid] = {"id": gid, "name": name, "text_channel_id": "", "bot_role_id": rid}
        self.guilds[gid]["text_channel_id"] = self.add_text_channel("general", guild_id=gid)["id"]
        return copy.deepcopy(self.guilds[gid])

    def _guild_of_role(self, role_id: str) -> str:
        return self._role_guild.get(role_id, GUILD_ID)

    def _guild_of_channel(self, channel_id: str | int | None) -> str:
        """The guild of a guild channel (GUILD_ID for None, DMs and unknown channels)."""
        ch = self.channels.get(_sid(channel_id)) if channel_id is not None else None
        gid = ch.get("guild_id") if ch else None
        return str(gid) if gid in self.guilds else GUILD_ID

    def block_dms(self, user_id: str | int) -> None:
        """Make sending DMs to ``user_id`` fail with 403 50007 ("Cannot send messages to this user")."""
        self.blocked_dm_users.add(_sid(user_id))

    async def set_bot_channel_permissions(
        self, channel_id: str | int, *, deny: Iterable[str] = (), allow: Iterable[str] = ()
    ) -> None:
        """Put a member overwrite for the bot on a channel (enforced by REST, visible to discord.py).

        Dispatches CHANNEL_UPDATE if a gateway session exists.
        """
        ch = self._channel(_sid(channel_id))
        overwrites = [o for o in ch["permission_overwrites"] if o["id"] != self.bot_user_id]
        overwrites.append(
            {
                "id": self.bot_user_id,
                "type": 1,
                "allow": str(_perm_bits(allow)),
                "deny": str(_perm_bits(deny)),
            }
        )
        ch["permission_overwrites"] = overwrites
        if self._sessions:
            await self._emit("CHANNEL_UPDATE", copy.deepcopy(ch))

    # ------------------------------------------------------------------ payload builders

    def user(self, user_id: str | int) -> dict[str, Any]:
        return copy.deepcopy(self.users[_sid(user_id)])

    def member_payload(
        self,
        user_id: str | int,
        *,
        with_user: bool = True,
        permissions: int | str | None = None,
        guild_id: str | int = GUILD_ID,
    ) -> dict[str, Any]:
        uid = _sid(user_id)
        gid = _sid(guild_id)
        m = copy.deepcopy(self.members[uid])
        m["roles"] = [r for r in m["roles"] if self._guild_of_role(r) == gid]
        if with_user:
            m["user"] = self.user(uid)
        if permissions is not None:
            m["permissions"] = str(permissions)
        return m

    def guild_payload(self, guild_id: str | int = GUILD_ID) -> dict[str, Any]:
        """The GUILD_CREATE payload for GUILD_ID (or another guild of ``add_guild()``)."""
        gid = _sid(guild_id)
        meta = self.guilds[gid]
        guild_channels = [
            copy.deepcopy(c)
            for c in self.channels.values()
            if c["type"] == CT_GUILD_TEXT and c.get("guild_id") == gid
        ]
        threads = [
            copy.deepcopy(c)
            for c in self.channels.values()
            if c["type"] in THREAD_TYPES and not c["thread_metadata"]["archived"] and c.get("guild_id") == gid
        ]
        return {
            "id": gid,
            "name": meta["name"],
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": HUMAN_USER_ID,
            "application_id": None,
            "unavailable": False,
            "large": False,
            "lazy": True,
            "joined_at": _GUILD_JOINED_AT,
            "member_count": len(self.members),
            "roles": [copy.deepcopy(r) for r in self.roles.values() if self._guild_of_role(r["id"]) == gid],
            "channels": guild_channels,
            "threads": threads,
            "members": [self.member_payload(uid, guild_id=gid) for uid in self.members],
            "presences": [],
            "voice_states": [],
            "emojis": [],
            "stickers": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "features": [],
            "preferred_locale": "en-US",
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "nsfw": False,
            "system_channel_id": meta["text_channel_id"],
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "vanity_url_code": None,
            "widget_enabled": False,
        }

    def _application(self) -> dict[str, Any]:
        flags = 0
        if self.allowed_privileged_intents & Intents.GUILD_PRESENCES:
            flags |= 1 << 13
        if self.allowed_privileged_intents & Intents.GUILD_MEMBERS:
            flags |= 1 << 15
        if self.allowed_privileged_intents & Intents.MESSAGE_CONTENT:
            flags |= 1 << 19
        return {
            "id": self.application_id,
            "name": "seedbot",
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": hashlib.sha256(self.application_id.encode()).hexdigest(),
            "flags": flags,
            "owner": self.user(HUMAN_USER_ID),
            "team": None,
            "bot": self.user(self.bot_user_id),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self.guilds),
            "integration_types_config": {"0": {}},
            "tags": [],
        }

    # ------------------------------------------------------------------ permissions

    def permissions_for(self, user_id: str | int, channel_id: str | int | None) -> int:
        """Effective permission bits of a guild member in a channel (threads use the parent's)."""
        uid = _sid(user_id)
        member = self.members.get(uid)
        if member is None:
            return 0
        gid = self._guild_of_channel(channel_id)
        roles = [rid for rid in member["roles"] if self._guild_of_role(rid) == gid]
        perms = int(self.roles[gid]["permissions"])
        for rid in roles:
            perms |= int(self.roles[rid]["permissions"])
        if perms & PERMISSIONS["administrator"]:
            return ALL_PERMISSIONS
        if channel_id is None:
            return perms
        ch = self.channels.get(_sid(channel_id))
        if ch is None or ch.get("guild_id") != gid:
            return perms
        if ch["type"] in THREAD_TYPES:
            ch = self.channels[ch["parent_id"]]
        overwrites = {o["id"]: o for o in ch.get("permission_overwrites", [])}
        everyone = overwrites.get(gid)
        if everyone:
            perms = (perms & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for rid in roles:
            o = overwrites.get(rid)
            if o:
                allow |= int(o["allow"])
                deny |= int(o["deny"])
        perms = (perms & ~deny) | allow
        mo = overwrites.get(uid)
        if mo:
            perms = (perms & ~int(mo["deny"])) | int(mo["allow"])
        return perms

    def _require_perm(self, channel_id: str, *names: str) -> None:
        ch = self.channels[channel_id]
        if ch.get("guild_id") is None:
            return
        perms = self.permissions_for(self.bot_user_id, channel_id)
        if not perms & PERMISSIONS["view_channel"]:
            raise _ApiError(403, 50001, "Missing Access")
        for n in names:
            if not perms & PERMISSIONS[n]:
                raise _missing_permissions()

    # ------------------------------------------------------------------ recording / waiting

    def find_requests(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """Recorded requests filtered by method (case-insensitive) and ``re.search`` on ``path``."""
        pat = re.compile(path) if path else None
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper()) and (pat is None or pat.search(r.path))
        ]

    def last_request(self, method: str | None = None, path: str | None = None) -> Recorded:
        found = self.find_requests(method, path)
        if not found:
            raise AssertionError(f"no request {method} {path}; got {self.requests!r}")
        return found[-1]

    def unhandled_requests(self) -> list[Recorded]:
        """REST requests that matched no emulated route (answered 404/405)."""
        return [r for r in self.requests if r.kind == "api" and r.route is None]

    def uploaded_files(self) -> list[tuple[str, str, bytes]]:
        """Every file part the bot uploaded, in order."""
        return [f for r in self.requests for f in r.files]

    async def wait_for(
        self,
        predicate: Callable[[Recorded], bool] | None = None,
        timeout: float = 3.0,
        *,
        method: str | None = None,
        path: str | None = None,
        since: int = 0,
    ) -> Recorded:
        """Poll the record until a request (index >= ``since``) matches; returns it.

        Requests are appended once answered, so the emulator's state already reflects them.
        """
        pat = re.compile(path) if path else None

        def match() -> Recorded | None:
            for r in self.requests[since:]:
                if method is not None and r.method != method.upper():
                    continue
                if pat is not None and not pat.search(r.path):
                    continue
                if predicate is not None and not predicate(r):
                    continue
                return r
            return None

        found: list[Recorded] = []

        def cond() -> bool:
            r = match()
            if r is not None:
                found.append(r)
            return r is not None

        await self._wait_until(cond, timeout, f"request {method or '*'} {path or '*'}")
        return found[0]

    def mark(self) -> int:
        """Current length of the request record, for ``wait_for(since=...)``."""
        return len(self.requests)

    async def wait_for_message(
        self,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        channel_id: str | int | None = None,
        author_id: str | int | None = BOT_USER_ID,
        timeout: float = 3.0,
        after: str | int | None = None,
    ) -> dict[str, Any]:
        """Wait for a stored message (by default one authored by the bot) and return it."""
        cid = _sid(channel_id) if channel_id is not None else None
        aid = _sid(author_id) if author_id is not None else None
        if aid == BOT_USER_ID:
            aid = self.bot_user_id
        floor = int(after) if after is not None else 0
        found: list[dict[str, Any]] = []

        def cond() -> bool:
            for m in self.messages.values():
                if int(m["id"]) <= floor:
                    continue
                if cid is not None and m["channel_id"] != cid:
                    continue
                if aid is not None and m["author"]["id"] != aid:
                    continue
                if m.get("flags", 0) & FLAG_LOADING:
                    continue
                if predicate is not None and not predicate(m):
                    continue
                found.append(m)
                return True
            return False

        await self._wait_until(cond, timeout, f"message in {cid or 'any channel'} by {aid or 'anyone'}")
        return found[0]

    async def _wait_until(self, cond: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() >= deadline:
                recent = self.requests[-12:]
                raise TimeoutError(
                    f"timed out after {timeout}s waiting for {what}; recent requests: {recent!r}"
                )
            await asyncio.sleep(0.005)

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str | None,
        path_regex: str,
        status: int = 500,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        times: int = 1,
    ) -> Fault:
        """Answer the next ``times`` matching requests (``re.search`` on the path) with ``status``.

        A 429 defaults to Discord's shape (``Via`` header + ``retry_after`` 0.05 body) so discord.py
        retries; pass ``headers={}`` to drop ``Via`` (discord.py then raises instead).  ``body`` may be a
        str for a non-JSON (Cloudflare-style) answer.
        """
        hdrs = dict(headers) if headers is not None else None
        if status == 429:
            if body is None:
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": 0.05,
                    "global": False,
                    "code": 0,
                }
            if hdrs is None:
                hdrs = {"Via": "1.1 google", "Retry-After": "1", "X-RateLimit-Scope": "user"}
        if body is None:
            body = {"message": f"{status}: Emulated failure", "code": 0}
        fault = Fault(
            method.upper() if method else None, re.compile(path_regex), status, body, hdrs or {}, times
        )
        self.faults.append(fault)
        return fault

    def rate_limit_next(
        self,
        method: str | None,
        path_regex: str,
        retry_after: float = 0.05,
        *,
        is_global: bool = False,
        times: int = 1,
    ) -> Fault:
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
            "code": 0,
        }
        headers = {"Via": "1.1 google", "Retry-After": str(max(1, int(retry_after + 0.999)))}
        headers["X-RateLimit-Scope"] = "global" if is_global else "user"
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        return self.fail_next(method, path_regex, 429, body, headers, times=times)

    def _take_fault(self, rec: Recorded) -> Fault | None:
        for f in self.faults:
            if f.remaining <= 0:
                continue
            if f.method is not None and f.method != rec.method:
                continue
            if not f.path.search(rec.path):
                continue
            f.remaining -= 1
            f.hits += 1
            return f
        return None

    # ------------------------------------------------------------------ HTTP plumbing

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], str, bool, _RouteHandler]]:
        table: list[tuple[str, str, bool, _RouteHandler]] = [
            ("GET", "/users/@me", True, self._r_get_me),
            ("POST", "/users/@me/channels", True, self._r_create_dm),
            ("GET", "/users/{user_id}", True, self._r_get_user),
            ("GET", "/oauth2/applications/@me", True, self._r_get_application),
            ("GET", "/applications/@me", True, self._r_get_application),
            ("GET", "/gateway", False, self._r_gateway),
            ("GET", "/gateway/bot", True, self._r_gateway_bot),
            ("GET", "/applications/{app_id}/commands", True, self._r_get_commands),
            ("PUT", "/applications/{app_id}/commands", True, self._r_put_commands),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", True, self._r_get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", True, self._r_put_commands),
            ("GET", "/guilds/{guild_id}/members/{user_id}", True, self._r_get_member),
            ("GET", "/channels/{channel_id}", True, self._r_get_channel),
            ("GET", "/channels/{channel_id}/messages", True, self._r_list_messages),
            ("POST", "/channels/{channel_id}/messages", True, self._r_create_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", True, self._r_get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", True, self._r_edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", True, self._r_delete_message),
            (
                "POST",
                "/channels/{channel_id}/messages/{message_id}/threads",
                True,
                self._r_thread_from_message,
            ),
            ("POST", "/channels/{channel_id}/threads", True, self._r_thread_without_message),
            ("POST", "/channels/{channel_id}/typing", True, self._r_typing),
            ("PUT", "/channels/{channel_id}/thread-members/@me", True, self._r_join_thread),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                True,
                self._r_react,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                True,
                self._r_unreact,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}",
                True,
                self._r_unreact,
            ),
            ("POST", "/interactions/{interaction_id}/{token}/callback", False, self._r_interaction_callback),
            ("POST", "/webhooks/{app_id}/{token}", False, self._r_followup),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", False, self._r_webhook_get),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", False, self._r_webhook_edit),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}", False, self._r_webhook_delete),
        ]
        compiled = []
        for method, template, auth, handler in table:
            rx = re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
            rx = re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", rx)
            compiled.append((method, re.compile(rx), f"{method} {template}", auth, handler))
        return compiled

    async def _read_body(
        self, request: web.Request, rec: Recorded
    ) -> tuple[Any, list[_Upload], _ApiError | None]:
        ctype = request.content_type
        uploads: list[_Upload] = []
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if isinstance(part, BodyPartReader):
                    data = await part.read(decode=False)
                    name = part.name or ""
                    if name == "payload_json":
                        try:
                            rec.payload_json = json.loads(bytes(data).decode())
                        except ValueError:
                            return (
                                None,
                                uploads,
                                _ApiError(400, 50109, "The request body contains invalid JSON."),
                            )
                    else:
                        m = re.fullmatch(r"files\[(\d+)\]", name)
                        filename = part.filename or name
                        pct = part.headers.get("Content-Type", "application/octet-stream")
                        uploads.append(
                            _Upload(name, int(m.group(1)) if m else None, filename, pct, bytes(data))
                        )
                        rec.files.append((filename, pct, bytes(data)))
                        rec.file_fields.append(name)
            return rec.payload_json, uploads, None
        raw = await request.read()
        if not raw:
            return None, uploads, None
        if ctype == "application/json":
            try:
                rec.json = json.loads(raw.decode())
            except ValueError:
                return None, uploads, _ApiError(400, 50109, "The request body contains invalid JSON.")
            return rec.json, uploads, None
        return None, uploads, None

    @staticmethod
    def _to_response(resp: _Resp) -> web.Response:
        if resp.status == 204 or resp.body is None:
            return web.Response(status=resp.status, headers=resp.headers)
        if isinstance(resp.body, str | bytes):
            data = resp.body.encode() if isinstance(resp.body, str) else resp.body
            headers = {"Content-Type": "text/html", **resp.headers}
            return web.Response(status=resp.status, body=data, headers=headers)
        # Exactly "application/json": discord.py's json_or_text ignores "...; charset=utf-8".
        headers = {"Content-Type": "application/json", **resp.headers}
        return web.Response(status=resp.status, body=json.dumps(resp.body).encode(), headers=headers)

    async def _http_handler(self, request: web.Request) -> web.StreamResponse:
        raw = request.path
        if raw.startswith(API_PREFIX + "/"):
            kind, path = "api", raw[len(API_PREFIX) :]
        elif raw.startswith(("/cdn/", "/media/")):
            kind, path = "cdn", raw
        else:
            kind, path = "other", raw
        rec = Recorded(
            method=request.method,
            path=path,
            raw_path=raw,
            query=dict(request.query),
            headers=CIMultiDict(request.headers),
            kind=kind,
        )
        response: web.StreamResponse
        try:
            body, uploads, body_error = await self._read_body(request, rec)
            fault = self._take_fault(rec)
            if fault is not None:
                rec.fault = True
                resp = _Resp(fault.status, fault.body, dict(fault.headers))
            elif kind == "cdn":
                response = self._serve_cdn(rec, request)
                rec.status = response.status
                return response
            elif kind != "api":
                resp = _Resp(404, {"message": "404: Not Found", "code": 0})
            elif body_error is not None:
                resp = _Resp(body_error.status, body_error.body)
            else:
                resp = await self._route_api(rec, request, body, uploads)
            rec.status = resp.status
            rec.response = resp.body
            return self._to_response(resp)
        finally:
            self.requests.append(rec)

    async def _route_api(
        self, rec: Recorded, request: web.Request, body: Any, uploads: list[_Upload]
    ) -> _Resp:
        path_matched = False
        for method, rx, template, auth, handler in self._routes:
            m = rx.fullmatch(rec.path)
            if m is None:
                continue
            path_matched = True
            if method != rec.method:
                continue
            rec.route = template
            if auth and rec.headers.get("Authorization") != f"Bot {self.token}":
                return _Resp(401, {"message": "401: Unauthorized", "code": 0})
            req = _Req(rec, m.groupdict(), request.query, body, uploads)
            try:
                result = await handler(req)
            except _ApiError as e:
                return _Resp(e.status, e.body, e.headers)
            return result if isinstance(result, _Resp) else _Resp(200, result)
        if path_matched:
            return _Resp(405, {"message": "405: Method Not Allowed", "code": 0})
        return _Resp(404, {"message": "404: Not Found", "code": 0})

    # ------------------------------------------------------------------ CDN

    def _sign(self, key: str) -> str:
        issued = int(time.time())
        expires = issued + 86400
        hm = hmac.new(self._cdn_secret, f"{key}|{expires:x}|{issued:x}".encode(), hashlib.sha256).hexdigest()
        return f"?ex={expires:x}&is={issued:x}&hm={hm}&"

    def _cdn_store(
        self, channel_id: str, filename: str, data: bytes, content_type: str | None
    ) -> dict[str, Any]:
        att_id = self.snowflake()
        filename = _sanitize_filename(filename)
        ctype = content_type or _sniff_content_type(data, filename)
        key = f"attachments/{channel_id}/{att_id}/{filename}"
        self._cdn[key] = (data, ctype)
        sig = self._sign(key)
        att: dict[str, Any] = {
            "id": att_id,
            "filename": filename,
            "size": len(data),
            "url": f"{self.cdn_base}/{key}{sig}",
            "proxy_url": f"{self.media_base}/{key}{sig}",
            "content_type": ctype,
        }
        if ctype.startswith("image/"):
            dims = _image_size(data)
            if dims:
                att["width"], att["height"] = dims
        return att

    def add_cdn_file(
        self,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        *,
        channel_id: str | int = TEXT_CHANNEL_ID,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Host ``data`` on the emulator's CDN and return a Discord attachment object for it."""
        att = self._cdn_store(_sid(channel_id), filename, data, content_type)
        if description is not None:
            att["description"] = description
        return att

    def cdn_bytes(self, url: str) -> bytes:
        """Bytes behind an emulator CDN URL (e.g. ``message["attachments"][0]["url"]``)."""
        key = re.sub(r"^.*?/(?:cdn|media)/", "", url).split("?", 1)[0]
        return self._cdn[key][0]

    def _serve_cdn(self, rec: Recorded, request: web.Request) -> web.Response:
        key = rec.path.split("/", 2)[2]
        entry = self._cdn.get(key)
        if entry is None:
            return web.Response(status=404, text="Not Found")
        if self.require_cdn_signature:
            q = request.query
            try:
                expires = int(q["ex"], 16)
                issued = int(q["is"], 16)
            except (KeyError, ValueError):
                return web.Response(status=404, text="This content is no longer available.")
            want = hmac.new(
                self._cdn_secret, f"{key}|{expires:x}|{issued:x}".encode(), hashlib.sha256
            ).hexdigest()
            if not hmac.compare_digest(want, q.get("hm", "")) or expires < time.time():
                return web.Response(status=404, text="This content is no longer available.")
        data, ctype = entry
        return web.Response(status=200, body=data, headers={"Content-Type": ctype.split(";")[0]})

    # ------------------------------------------------------------------ simple REST routes

    async def _r_get_me(self, req: _Req) -> Any:
        me = self.user(self.bot_user_id)
        me.update(
            {"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US", "premium_type": 0}
        )
        return me

    async def _r_get_user(self, req: _Req) -> Any:
        uid = req.params["user_id"]
        if uid not in self.users:
            raise _unknown("User", 10013)
        return self.user(uid)

    async def _r_get_member(self, req: _Req) -> Any:
        if req.params["guild_id"] not in self.guilds:
            raise _unknown("Guild", 10004)
        if req.params["user_id"] not in self.members:
            raise _unknown("Member", 10007)
        return self.member_payload(req.params["user_id"], guild_id=req.params["guild_id"])

    async def _r_get_application(self, req: _Req) -> Any:
        return self._application()

    async def _r_gateway(self, req: _Req) -> Any:
        return {"url": f"ws://127.0.0.1:{self.port}"}

    async def _r_gateway_bot(self, req: _Req) -> Any:
        return {
            "url": f"ws://127.0.0.1:{self.port}",
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    async def _r_typing(self, req: _Req) -> Any:
        self._channel(req.params["channel_id"])
        return _Resp(204)

    async def _r_join_thread(self, req: _Req) -> Any:
        ch = self._channel(req.params["channel_id"])
        if ch["type"] not in THREAD_TYPES:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        return _Resp(204)

    async def _r_get_channel(self, req: _Req) -> Any:
        return copy.deepcopy(self._channel(req.params["channel_id"]))

    def _channel(self, cid: str) -> dict[str, Any]:
        ch = self.channels.get(cid)
        if ch is None:
            raise _unknown("Channel", 10003)
        return ch

    # ------------------------------------------------------------------ commands

    def _validate_commands(self, body: Any) -> None:
        if not isinstance(body, list):
            raise _form_error("_root", "BASE_TYPE_ARRAY", "Must be an array.")
        seen: set[tuple[int, str]] = set()
        for i, cmd in enumerate(body):
            ctype = cmd.get("type", 1)
            name = cmd.get("name", "")
            if (ctype, name) in seen:
                raise _form_error(
                    f"{i}.name",
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            seen.add((ctype, name))
            if ctype == 1:
                if not _COMMAND_NAME_RE.match(name) or name != name.lower():
                    raise _form_error(
                        f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                    )
                if not 1 <= len(cmd.get("description", "")) <= 100:
                    raise _form_error(
                        f"{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                    )
                self._validate_options(cmd.get("options") or [], f"{i}.options")
            else:
                if not 1 <= len(name) <= 32:
                    raise _form_error(
                        f"{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."
                    )
                if cmd.get("description"):
                    raise _form_error(
                        f"{i}.description",
                        "APPLICATION_COMMAND_INVALID_DESCRIPTION",
                        "Context menu commands cannot have description",
                    )

    def _validate_options(self, options: list[dict[str, Any]], where: str) -> None:
        if len(options) > 25:
            raise _form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        optional_seen = False
        for j, opt in enumerate(options):
            here = f"{where}.{j}"
            if not _COMMAND_NAME_RE.match(opt.get("name", "")) or opt["name"] != opt["name"].lower():
                raise _form_error(
                    f"{here}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            if not 1 <= len(opt.get("description", "")) <= 100:
                raise _form_error(
                    f"{here}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            if opt.get("type") in (1, 2):
                self._validate_options(opt.get("options") or [], f"{here}.options")
                continue
            if opt.get("required"):
                if optional_seen:
                    raise _form_error(
                        here,
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                optional_seen = True
            if len(opt.get("choices") or []) > 25:
                raise _form_error(f"{here}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")

    async def _r_put_commands(self, req: _Req) -> Any:
        if req.params["app_id"] != self.application_id:
            raise _ApiError(403, 50001, "Missing Access")
        gid = req.params.get("guild_id")
        if gid is not None and gid not in self.guilds:
            raise _ApiError(403, 50001, "Missing Access")
        self._validate_commands(req.body)
        previous = {(c.get("type", 1), c["name"]): c for c in self.commands.get(gid, [])}
        stored = []
        for cmd in req.body:
            old = previous.get((cmd.get("type", 1), cmd["name"]))
            out = copy.deepcopy(cmd)
            out.setdefault("type", 1)
            out.setdefault("description", "")  # context menus are sent without one
            out["id"] = old["id"] if old else self.snowflake()
            out["application_id"] = self.application_id
            out["version"] = self.snowflake()
            out.setdefault("default_member_permissions", None)
            out.setdefault("nsfw", False)
            if gid is not None:
                out["guild_id"] = gid
            stored.append(out)
        self.commands[gid] = stored
        return copy.deepcopy(stored)

    async def _r_get_commands(self, req: _Req) -> Any:
        return copy.deepcopy(self.commands.get(req.params.get("guild_id"), []))

    def register_commands(self, commands: list[dict[str, Any]], *, guild_id: str | int | None = None) -> None:
        """Pre-seed synced commands without a REST call (as if synced by an earlier run)."""
        gid = _sid(guild_id) if guild_id is not None else None
        stored = []
        for cmd in commands:
            out = copy.deepcopy(cmd)
            out.setdefault("type", 1)
            out.setdefault("description", "")
            out.setdefault("id", self.snowflake())
            out.setdefault("application_id", self.application_id)
            out.setdefault("version", self.snowflake())
            stored.append(out)
        self.commands[gid] = stored

    def find_command(
        self, name: str, *, type: int = 1, guild_id: str | int | None = GUILD_ID
    ) -> dict[str, Any] | None:
        """A synced command by name: guild-scoped first (if ``guild_id``), then global."""
        scopes: list[str | None] = [_sid(guild_id)] if guild_id is not None else []
        scopes.append(None)
        for scope in scopes:
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == type:
                    return cmd
        return None

    # ------------------------------------------------------------------ messages: core

    def _base_message(
        self,
        *,
        channel_id: str,
        author: dict[str, Any],
        content: str = "",
        type: int = MT_DEFAULT,
        flags: int = 0,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        return {
            "id": message_id or self.snowflake(),
            "type": type,
            "channel_id": channel_id,
            "author": author,
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "flags": flags,
        }

    def _store_message(self, msg: dict[str, Any]) -> dict[str, Any]:
        self.messages[msg["id"]] = msg
        ch = self.channels.get(msg["channel_id"])
        if ch is not None and not msg.get("flags", 0) & FLAG_EPHEMERAL:
            ch["last_message_id"] = msg["id"]
            if ch["type"] in THREAD_TYPES:
                ch["message_count"] = ch.get("message_count", 0) + 1
                ch["total_message_sent"] = ch.get("total_message_sent", 0) + 1
                msg["position"] = ch["total_message_sent"] - 1
        return msg

    def message_payload(
        self, message_id: str | int, *, gateway: bool = False, nested: bool = True
    ) -> dict[str, Any]:
        """Serialise a stored message as REST returns it (``gateway=True``: MESSAGE_CREATE shape)."""
        msg = copy.deepcopy(self.messages[_sid(message_id)])
        ch = self.channels.get(msg["channel_id"])
        guild_id = ch.get("guild_id") if ch else None
        ref = msg.get("message_reference")
        for r in msg.get("reactions", []):
            r.pop("_users", None)
        if nested and ref and ref.get("type", 0) == 0 and "message_id" in ref and msg["type"] == MT_REPLY:
            if ref["message_id"] in self.messages:
                msg["referenced_message"] = self.message_payload(ref["message_id"], nested=False)
            else:
                msg["referenced_message"] = None
        thread = self.channels.get(msg["id"])
        if thread is not None and thread["type"] in THREAD_TYPES:
            msg["thread"] = copy.deepcopy(thread)
        if gateway and guild_id is not None:
            msg["guild_id"] = guild_id
            author_id = msg["author"]["id"]
            if author_id in self.members and not msg.get("webhook_id"):
                msg["member"] = self.member_payload(author_id, with_user=False, guild_id=guild_id)
            for u in msg["mentions"]:
                if u["id"] in self.members:
                    u["member"] = self.member_payload(u["id"], with_user=False, guild_id=guild_id)
            if ch is not None:
                msg["channel_type"] = ch["type"]
        return msg

    def _parse_mentions(self, content: str, allowed: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        ids = list(dict.fromkeys(re.findall(r"<@!?(\d+)>", content or "")))
        if allowed is not None:
            parse = allowed.get("parse") or []
            explicit = [str(u) for u in allowed.get("users") or []]
            ids = [i for i in ids if "users" in parse or i in explicit]
        return [self.user(i) for i in ids if i in self.users]

    def _validate_message(
        self, body: Mapping[str, Any], uploads: Sequence[_Upload], *, creating: bool
    ) -> None:
        content = body.get("content")
        if content is not None and not isinstance(content, str):
            raise _form_error("content", "BASE_TYPE_STRING", "Must be a string.")
        if content and len(content) > MAX_CONTENT:
            raise _form_error("content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length.")
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            raise _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        total = 0
        for i, e in enumerate(embeds):
            if len(e.get("title") or "") > 256:
                raise _form_error(
                    f"embeds.{i}.title", "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length."
                )
            if len(e.get("description") or "") > 4096:
                raise _form_error(
                    f"embeds.{i}.description", "BASE_TYPE_MAX_LENGTH", "Must be 4096 or fewer in length."
                )
            if len(e.get("fields") or []) > 25:
                raise _form_error(
                    f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            total += len(e.get("title") or "") + len(e.get("description") or "")
            total += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in e.get("fields") or [])
            total += len((e.get("footer") or {}).get("text", "")) + len(
                (e.get("author") or {}).get("name", "")
            )
        if total > 6000:
            raise _form_error("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
        if len(uploads) > MAX_FILES:
            raise _form_error("files", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length.")
        if sum(len(u.data) for u in uploads) > self.upload_limit:
            raise _ApiError(413, 40005, "Request entity too large")
        self._validate_components(body.get("components") or [], int(body.get("flags") or 0))
        if creating:
            has_any = bool(
                content
                or embeds
                or uploads
                or body.get("components")
                or body.get("sticker_ids")
                or body.get("poll")
            )
            if not has_any:
                raise _ApiError(400, 50006, "Cannot send an empty message")

    @staticmethod
    def _validate_components(components: list[dict[str, Any]], flags: int) -> None:
        if not components:
            return
        custom_ids: set[str] = set()

        def walk(items: Iterable[dict[str, Any]], where: str) -> None:
            for i, c in enumerate(items):
                cid = c.get("custom_id")
                if cid is not None:
                    if not 1 <= len(cid) <= 100:
                        raise _form_error(
                            f"{where}.{i}.custom_id",
                            "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 100 in length.",
                        )
                    if cid in custom_ids:
                        raise _form_error(
                            f"{where}.{i}.custom_id",
                            "COMPONENT_CUSTOM_ID_DUPLICATED",
                            "Component custom id cannot be duplicated",
                        )
                    custom_ids.add(cid)
                if c.get("type") == 2 and c.get("style") != 5 and c.get("style") != 6 and cid is None:
                    raise _form_error(
                        f"{where}.{i}.custom_id", "BASE_TYPE_REQUIRED", "This field is required"
                    )
                for key in ("components", "items"):
                    if isinstance(c.get(key), list):
                        walk(c[key], f"{where}.{i}.{key}")
                for key in ("accessory", "component"):
                    if isinstance(c.get(key), dict):
                        walk([c[key]], f"{where}.{i}.{key}")

        if not flags & FLAG_IS_COMPONENTS_V2:
            if len(components) > 5:
                raise _form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
            for i, row in enumerate(components):
                if row.get("type") != 1:
                    raise _form_error(
                        f"components.{i}.type", "UNION_TYPE_CHOICES", 'Value of field "type" must be 1.'
                    )
                if len(row.get("components") or []) > 5:
                    raise _form_error(
                        f"components.{i}.components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."
                    )
        walk(components, "components")

    def _attachments_from_body(
        self,
        channel_id: str,
        body: Mapping[str, Any],
        uploads: Sequence[_Upload],
        existing: Sequence[dict[str, Any]] = (),
    ) -> list[dict[str, Any]]:
        """Resolve ``attachments`` metadata + ``files[N]`` parts into attachment objects (kept ones first)."""
        by_index = {u.slot if u.slot is not None else i: u for i, u in enumerate(uploads)}
        existing_by_id = {a["id"]: a for a in existing}
        meta = body.get("attachments")
        result: list[dict[str, Any]] = []
        used: set[int] = set()
        if meta is None:
            result.extend(copy.deepcopy(list(existing)))
            meta = []
        for j, entry in enumerate(meta):
            raw_id = entry.get("id")
            sid = str(raw_id)
            if sid in existing_by_id:
                kept = copy.deepcopy(existing_by_id[sid])
                if "description" in entry:
                    kept["description"] = entry["description"]
                result.append(kept)
                continue
            try:
                idx = int(raw_id)
            except (TypeError, ValueError):
                raise _form_error(
                    f"attachments.{j}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment"
                ) from None
            upload = by_index.get(idx)
            if upload is None:
                raise _form_error(f"attachments.{j}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment")
            used.add(idx)
            att = self._cdn_store(channel_id, entry.get("filename") or upload.filename, upload.data, None)
            if entry.get("description"):
                att["description"] = entry["description"]
            result.append(att)
        for idx, upload in sorted(by_index.items()):
            if idx not in used:  # files without metadata are still attached, as Discord does
                result.append(self._cdn_store(channel_id, upload.filename, upload.data, None))
        return result

    @staticmethod
    def _resolve_embed_attachments(
        embeds: list[dict[str, Any]], attachments: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        by_name = {a["filename"]: a for a in attachments}
        out = []
        for e in embeds:
            e = copy.deepcopy(e)
            e.setdefault("type", "rich")
            e["content_scan_version"] = 0
            for key in ("image", "thumbnail"):
                media = e.get(key)
                if isinstance(media, dict) and str(media.get("url", "")).startswith("attachment://"):
                    att = by_name.get(_sanitize_filename(media["url"][len("attachment://") :]))
                    if att is not None:
                        media.update({"url": att["url"], "proxy_url": att["proxy_url"]})
                        if "width" in att:
                            media.update({"width": att["width"], "height": att["height"]})
            out.append(e)
        return out

    def _apply_message_body(
        self, msg: dict[str, Any], body: Mapping[str, Any], uploads: Sequence[_Upload], *, creating: bool
    ) -> None:
        """Apply a create/edit JSON body (content, embeds, components, attachments, flags) to ``msg``."""
        if "content" in body and body["content"] is not None:
            msg["content"] = body["content"]
        elif "content" in body and not creating:
            msg["content"] = ""
        if creating or "attachments" in body or uploads:
            msg["attachments"] = self._attachments_from_body(
                msg["channel_id"], body, uploads, () if creating else msg["attachments"]
            )
        if "components" in body:
            msg["components"] = copy.deepcopy(body["components"] or [])
        if "embeds" in body:
            msg["embeds"] = self._resolve_embed_attachments(body["embeds"] or [], msg["attachments"])
        if "flags" in body and body["flags"] is not None:
            requested = int(body["flags"])
            keep = FLAG_EPHEMERAL | FLAG_LOADING
            settable = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_IS_COMPONENTS_V2
            if creating:
                settable |= FLAG_EPHEMERAL
            msg["flags"] = (msg.get("flags", 0) & keep) | (requested & settable)
        if "content" in body or creating:
            mentions = self._parse_mentions(msg["content"], body.get("allowed_mentions"))
            existing = {u["id"] for u in mentions}
            msg["mentions"] = mentions + [u for u in msg.get("_reply_mention", []) if u["id"] not in existing]
        if "tts" in body:
            msg["tts"] = bool(body["tts"])
        if not creating:
            msg["edited_timestamp"] = _now_iso()

    async def _emit_message(self, event: str, message_id: str) -> None:
        msg = self.messages[message_id]
        if msg.get("flags", 0) & FLAG_EPHEMERAL:
            return  # ephemeral messages never reach the gateway
        if event != "MESSAGE_CREATE" or msg["author"]["id"] != self.bot_user_id or self.echo_bot_messages:
            await self._emit(event, self.message_payload(message_id, gateway=True))

    # ------------------------------------------------------------------ messages: REST routes

    def _reply_reference(
        self, channel_id: str, body: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        ref = body.get("message_reference")
        if not ref:
            return None, []
        if ref.get("type", 0) != 0:
            raise _form_error("message_reference.type", "BASE_TYPE_CHOICES", "Only replies are emulated")
        mid = str(ref.get("message_id"))
        target = self.messages.get(mid)
        if target is None or target.get("flags", 0) & FLAG_EPHEMERAL or target["channel_id"] != channel_id:
            if ref.get("fail_if_not_exists", True):
                raise _form_error("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
            return None, []
        ch = self.channels[channel_id]
        reference = {"type": 0, "message_id": mid, "channel_id": channel_id}
        if ch.get("guild_id"):
            reference["guild_id"] = ch["guild_id"]
        allowed = body.get("allowed_mentions")
        ping = True if allowed is None else bool(allowed.get("replied_user", False))
        mention = [self.user(target["author"]["id"])] if ping and target["author"]["id"] in self.users else []
        return reference, mention

    async def _r_create_message(self, req: _Req) -> Any:
        cid = req.params["channel_id"]
        ch = self._channel(cid)
        body = req.body or {}
        if ch["type"] == CT_DM:
            recipient = ch["recipients"][0]["id"]
            if recipient in self.blocked_dm_users:
                raise _ApiError(403, 50007, "Cannot send messages to this user")
        elif ch["type"] in THREAD_TYPES:
            self._require_perm(cid, "send_messages_in_threads", *(["attach_files"] if req.uploads else []))
            if ch["thread_metadata"]["locked"]:
                raise _missing_permissions()
        else:
            self._require_perm(cid, "send_messages", *(["attach_files"] if req.uploads else []))
        self._validate_message(body, req.uploads, creating=True)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            existing = self._nonces.get((cid, str(nonce)))
            if existing in self.messages:
                return self.message_payload(existing)
        reference, reply_mention = self._reply_reference(cid, body)
        msg = self._base_message(
            channel_id=cid, author=self.user(self.bot_user_id), type=MT_REPLY if reference else MT_DEFAULT
        )
        msg["_reply_mention"] = reply_mention
        self._apply_message_body(msg, body, req.uploads, creating=True)
        del msg["_reply_mention"]
        msg["flags"] &= ~FLAG_EPHEMERAL  # only interaction responses can be ephemeral
        if reference:
            msg["message_reference"] = reference
        if nonce is not None:
            msg["nonce"] = nonce
            self._nonces[(cid, str(nonce))] = msg["id"]
        self._store_message(msg)
        await self._emit_message("MESSAGE_CREATE", msg["id"])
        return self.message_payload(msg["id"])

    def _visible_message(self, cid: str, mid: str) -> dict[str, Any]:
        self._channel(cid)
        msg = self.messages.get(mid)
        if msg is None or msg["channel_id"] != cid or msg.get("flags", 0) & FLAG_EPHEMERAL:
            raise _unknown("Message", 10008)
        return msg

    async def _r_get_message(self, req: _Req) -> Any:
        msg = self._visible_message(req.params["channel_id"], req.params["message_id"])
        self._require_perm(msg["channel_id"], "read_message_history")
        return self.message_payload(msg["id"])

    async def _r_list_messages(self, req: _Req) -> Any:
        cid = req.params["channel_id"]
        self._channel(cid)
        self._require_perm(cid, "read_message_history")
        limit = max(1, min(100, int(req.query.get("limit", 50))))
        msgs = sorted(
            (
                m
                for m in self.messages.values()
                if m["channel_id"] == cid and not m.get("flags", 0) & FLAG_EPHEMERAL
            ),
            key=lambda m: int(m["id"]),
            reverse=True,
        )
        if "before" in req.query:
            msgs = [m for m in msgs if int(m["id"]) < int(req.query["before"])]
        if "after" in req.query:
            msgs = [m for m in msgs if int(m["id"]) > int(req.query["after"])][-limit:]
        return [self.message_payload(m["id"]) for m in msgs[:limit]]

    async def _r_edit_message(self, req: _Req) -> Any:
        msg = self._visible_message(req.params["channel_id"], req.params["message_id"])
        body = req.body or {}
        if msg["author"]["id"] != self.bot_user_id or msg.get("webhook_id"):
            only_flags = set(body) <= {"flags"}
            if not only_flags:
                raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._validate_message(body, req.uploads, creating=False)
        self._apply_message_body(msg, body, req.uploads, creating=False)
        await self._emit_message("MESSAGE_UPDATE", msg["id"])
        return self.message_payload(msg["id"])

    async def _r_delete_message(self, req: _Req) -> Any:
        msg = self._visible_message(req.params["channel_id"], req.params["message_id"])
        if msg["author"]["id"] != self.bot_user_id:
            self._require_perm(msg["channel_id"], "manage_messages")
        await self._delete_message(msg["id"])
        return _Resp(204)

    async def _delete_message(self, mid: str) -> None:
        msg = self.messages.pop(mid)
        if msg.get("flags", 0) & FLAG_EPHEMERAL:
            return
        ch = self.channels.get(msg["channel_id"])
        data = {"id": mid, "channel_id": msg["channel_id"]}
        if ch and ch.get("guild_id"):
            data["guild_id"] = ch["guild_id"]
        await self._emit("MESSAGE_DELETE", data)

    async def _r_react(self, req: _Req) -> Any:
        msg = self._visible_message(req.params["channel_id"], req.params["message_id"])
        self._require_perm(msg["channel_id"], "read_message_history", "add_reactions")
        self._add_reaction(msg, req.params["emoji"], self.bot_user_id)
        await self._emit_reaction("MESSAGE_REACTION_ADD", msg, req.params["emoji"], self.bot_user_id)
        return _Resp(204)

    async def _r_unreact(self, req: _Req) -> Any:
        msg = self._visible_message(req.params["channel_id"], req.params["message_id"])
        uid = req.params.get("user_id", self.bot_user_id)
        emoji = req.params["emoji"]
        for r in msg.get("reactions", []):
            if self._emoji_key(r["emoji"]) == self._emoji_key(self._parse_emoji(emoji)):
                r["_users"] = [u for u in r["_users"] if u != uid]
        msg["reactions"] = [r for r in msg.get("reactions", []) if r["_users"]]
        await self._emit_reaction("MESSAGE_REACTION_REMOVE", msg, emoji, uid)
        return _Resp(204)

    @staticmethod
    def _parse_emoji(raw: str) -> dict[str, Any]:
        from urllib.parse import unquote

        raw = unquote(raw)
        if ":" in raw:
            name, _, eid = raw.rpartition(":")
            return {"id": eid, "name": name.lstrip("a:") if name.startswith("a:") else name}
        return {"id": None, "name": raw}

    @staticmethod
    def _emoji_key(e: Mapping[str, Any]) -> str:
        return str(e.get("id") or e.get("name"))

    def _add_reaction(self, msg: dict[str, Any], raw_emoji: str, uid: str) -> None:
        emoji = self._parse_emoji(raw_emoji)
        reactions = msg.setdefault("reactions", [])
        for r in reactions:
            if self._emoji_key(r["emoji"]) == self._emoji_key(emoji):
                if uid not in r["_users"]:
                    r["_users"].append(uid)
                break
        else:
            reactions.append({"emoji": emoji, "_users": [uid]})
        for r in reactions:
            r["count"] = len(r["_users"])
            r["count_details"] = {"burst": 0, "normal": r["count"]}
            r["me"] = self.bot_user_id in r["_users"]
            r["me_burst"] = False
            r["burst_colors"] = []

    async def _emit_reaction(self, event: str, msg: dict[str, Any], raw_emoji: str, uid: str) -> None:
        ch = self.channels[msg["channel_id"]]
        data: dict[str, Any] = {
            "user_id": uid,
            "channel_id": msg["channel_id"],
            "message_id": msg["id"],
            "emoji": self._parse_emoji(raw_emoji),
            "burst": False,
            "type": 0,
        }
        if ch.get("guild_id"):
            data["guild_id"] = ch["guild_id"]
            if event == "MESSAGE_REACTION_ADD" and uid in self.members:
                data["member"] = self.member_payload(uid, guild_id=ch["guild_id"])
        if event == "MESSAGE_REACTION_ADD":
            data["message_author_id"] = msg["author"]["id"]
        await self._emit(event, data)

    async def send_reaction(
        self, message_id: str | int, emoji: str, *, user_id: str | int = HUMAN_USER_ID
    ) -> None:
        """A user reacts to a stored message (MESSAGE_REACTION_ADD)."""
        msg = self.messages[_sid(message_id)]
        await self._require_session(guild_id=self.channels[msg["channel_id"]].get("guild_id"))
        self._add_reaction(msg, emoji, _sid(user_id))
        await self._emit_reaction("MESSAGE_REACTION_ADD", msg, emoji, _sid(user_id))

    # ------------------------------------------------------------------ threads & DMs

    def _thread(
        self, tid: str, parent: dict[str, Any], name: str, ttype: int, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        now = _now_iso()
        thread = {
            "id": tid,
            "type": ttype,
            "guild_id": parent["guild_id"],
            "parent_id": parent["id"],
            "owner_id": self.bot_user_id,
            "name": name,
            "last_message_id": None,
            "rate_limit_per_user": body.get("rate_limit_per_user") or 0,
            "flags": 0,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "member_ids_preview": [self.bot_user_id],
            "thread_metadata": {
                "archived": False,
                "archive_timestamp": now,
                "auto_archive_duration": body.get("auto_archive_duration")
                or parent.get("default_auto_archive_duration", 1440),
                "locked": False,
                "create_timestamp": now,
            },
            "member": {"id": tid, "user_id": self.bot_user_id, "join_timestamp": now, "flags": 1},
        }
        if ttype == CT_PRIVATE_THREAD:
            thread["thread_metadata"]["invitable"] = bool(body.get("invitable", True))
        return thread

    @staticmethod
    def _validate_thread_body(body: Mapping[str, Any]) -> str:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise _form_error("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        duration = body.get("auto_archive_duration")
        if duration is not None and duration not in (60, 1440, 4320, 10080):
            raise _form_error(
                "auto_archive_duration", "BASE_TYPE_CHOICES", "Value must be one of {60, 1440, 4320, 10080}."
            )
        return name

    async def _r_thread_from_message(self, req: _Req) -> Any:
        cid, mid = req.params["channel_id"], req.params["message_id"]
        parent = self._channel(cid)
        if parent["type"] != CT_GUILD_TEXT:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        self._visible_message(cid, mid)
        self._require_perm(cid, "create_public_threads", "read_message_history")
        body = req.body or {}
        name = self._validate_thread_body(body)
        if mid in self.channels:
            raise _ApiError(400, 160004, "A thread has already been created for this message")
        # Threads started from a message share the message's id.
        thread = self._thread(mid, parent, name, CT_PUBLIC_THREAD, body)
        self.channels[mid] = thread
        await self._emit("THREAD_CREATE", {**copy.deepcopy(thread), "newly_created": True})
        return copy.deepcopy(thread)

    async def _r_thread_without_message(self, req: _Req) -> Any:
        cid = req.params["channel_id"]
        parent = self._channel(cid)
        if parent["type"] != CT_GUILD_TEXT:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        body = req.body or {}
        ttype = int(body.get("type") or CT_PRIVATE_THREAD)  # API v10 default is a private thread
        if ttype not in (CT_PUBLIC_THREAD, CT_PRIVATE_THREAD):
            raise _form_error("type", "BASE_TYPE_CHOICES", "Value must be one of {11, 12}.")
        self._require_perm(
            cid, "create_public_threads" if ttype == CT_PUBLIC_THREAD else "create_private_threads"
        )
        name = self._validate_thread_body(body)
        tid = self.snowflake()
        thread = self._thread(tid, parent, name, ttype, body)
        self.channels[tid] = thread
        await self._emit("THREAD_CREATE", {**copy.deepcopy(thread), "newly_created": True})
        if ttype == CT_PUBLIC_THREAD:  # Discord posts a "started a thread" system message in the parent
            sysmsg = self._base_message(
                channel_id=cid, author=self.user(self.bot_user_id), content=name, type=MT_THREAD_CREATED
            )
            sysmsg["message_reference"] = {"type": 0, "channel_id": tid, "guild_id": parent["guild_id"]}
            self._store_message(sysmsg)
            await self._emit_message("MESSAGE_CREATE", sysmsg["id"])
        return copy.deepcopy(thread)

    def dm_channel(self, user_id: str | int) -> dict[str, Any]:
        """The (created on demand) DM channel between the bot and ``user_id``."""
        uid = _sid(user_id)
        for ch in self.channels.values():
            if ch["type"] == CT_DM and ch["recipients"][0]["id"] == uid:
                return ch
        cid = self.snowflake()
        self.channels[cid] = {
            "id": cid,
            "type": CT_DM,
            "last_message_id": None,
            "flags": 0,
            "recipients": [self.user(uid)],
        }
        return self.channels[cid]

    async def _r_create_dm(self, req: _Req) -> Any:
        body = req.body or {}
        uid = str(body.get("recipient_id", ""))
        if uid not in self.users or uid == self.bot_user_id:
            raise _unknown("User", 10013)
        return copy.deepcopy(self.dm_channel(uid))

    # ------------------------------------------------------------------ interactions: callback & webhooks

    async def _r_interaction_callback(self, req: _Req) -> Any:
        it = self.interactions.get(req.params["token"])
        if it is None or it.id != req.params["interaction_id"] or it.callback_expired:
            raise _ApiError(404, 10062, "Unknown interaction")
        if (
            self.interaction_ack_deadline is not None
            and time.monotonic() - it.created_at > self.interaction_ack_deadline
        ):
            raise _ApiError(404, 10062, "Unknown interaction")
        if it.response_type is not None:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = req.body or {}
        rtype = body.get("type")
        data = body.get("data") or {}
        has_message = "message" in it.payload
        allowed = {
            IT_APPLICATION_COMMAND: {4, 5, 9},
            IT_COMPONENT: {4, 5, 6, 7, 9},
            IT_AUTOCOMPLETE: {8},
            IT_MODAL_SUBMIT: {4, 5, 6, 7} if has_message else {4, 5},
        }[it.type]
        if rtype not in allowed:
            raise _form_error(
                "type",
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Interaction response type {rtype} is invalid here",
            )

        info: dict[str, Any] = {"id": it.id, "type": it.type}
        result: dict[str, Any] = {"interaction": info}
        if rtype in (4, 5):
            self._validate_message(data, req.uploads, creating=rtype == 4)
            mtype = MT_DEFAULT
            if it.type == IT_APPLICATION_COMMAND:
                mtype = MT_CHAT_INPUT_COMMAND if it.data.get("type", 1) == 1 else MT_CONTEXT_MENU_COMMAND
            msg = self._interaction_message(it, mtype)
            if rtype == 4:
                self._apply_message_body(msg, data, req.uploads, creating=True)
            msg["flags"] = int(data.get("flags") or 0) & (
                FLAG_EPHEMERAL | FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_IS_COMPONENTS_V2
            )
            if rtype == 5:
                msg["flags"] |= FLAG_LOADING
                it.deferred_pending = True
            self._store_message(msg)
            it.original_message_id = msg["id"]
            info.update(
                response_message_id=msg["id"],
                response_message_loading=rtype == 5,
                response_message_ephemeral=bool(msg["flags"] & FLAG_EPHEMERAL),
            )
            result["resource"] = {"type": rtype, "message": self.message_payload(msg["id"])}
        elif rtype in (6, 7):
            target_id = it.payload["message"]["id"]
            it.original_message_id = target_id
            info.update(
                response_message_id=target_id,
                response_message_loading=False,
                response_message_ephemeral=False,
            )
            target = self.messages.get(target_id)
            if rtype == 7:
                if target is None:
                    raise _unknown("Message", 10008)
                self._validate_message(data, req.uploads, creating=False)
                self._apply_message_body(target, data, req.uploads, creating=False)
                info["response_message_ephemeral"] = bool(target.get("flags", 0) & FLAG_EPHEMERAL)
                result["resource"] = {"type": 7, "message": self.message_payload(target_id)}
        elif rtype == 8:
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise _form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            it.choices = choices
        elif rtype == 9:
            title = data.get("title") or ""
            if not 1 <= len(title) <= 45:
                raise _form_error("data.title", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
            if not 1 <= len(data.get("custom_id") or "") <= 100:
                raise _form_error(
                    "data.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            if not 1 <= len(data.get("components") or []) <= 5:
                raise _form_error(
                    "data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
                )
            it.modal = copy.deepcopy(data)

        it.response_type = rtype
        it.response_body = copy.deepcopy(body)
        if rtype in (4, 5) and it.original_message_id:
            await self._emit_message("MESSAGE_CREATE", it.original_message_id)
        elif rtype == 7 and it.original_message_id:
            await self._emit_message("MESSAGE_UPDATE", it.original_message_id)
        if req.query.get("with_response", "").lower() not in ("1", "true"):
            return _Resp(204)
        return result

    def _interaction_message(self, it: EmulatedInteraction, mtype: int) -> dict[str, Any]:
        channel_id = it.payload["channel"]["id"]
        msg = self._base_message(channel_id=channel_id, author=self.user(self.bot_user_id), type=mtype)
        msg["webhook_id"] = self.application_id
        msg["application_id"] = self.application_id
        invoker = it.payload.get("member", {}).get("user") or it.payload.get("user")
        meta: dict[str, Any] = {
            "id": it.id,
            "type": it.type,
            "user": invoker,
            "authorizing_integration_owners": it.payload.get("authorizing_integration_owners", {}),
        }
        if it.type == IT_APPLICATION_COMMAND:
            meta["name"] = it.data.get("name")
            meta["command_type"] = it.data.get("type", 1)
            if it.data.get("type") == 3:
                meta["target_message_id"] = it.data.get("target_id")
            msg["interaction"] = {"id": it.id, "type": it.type, "name": it.data.get("name"), "user": invoker}
        elif "message" in it.payload:
            meta["interacted_message_id"] = it.payload["message"]["id"]
        msg["interaction_metadata"] = meta
        return msg

    def _webhook_interaction(self, req: _Req) -> EmulatedInteraction:
        it = self.interactions.get(req.params["token"])
        if it is None or req.params["app_id"] != self.application_id or it.webhook_expired:
            raise _ApiError(404, 10015, "Unknown Webhook")
        if it.response_type is None:  # the webhook only exists once the interaction is acknowledged
            raise _ApiError(404, 10015, "Unknown Webhook")
        return it

    def _webhook_message_id(self, it: EmulatedInteraction, raw: str) -> str:
        if raw == "@original":
            if it.original_message_id is None or it.original_message_id not in self.messages:
                raise _unknown("Message", 10008)
            return it.original_message_id
        if raw != it.original_message_id and raw not in it.followup_ids:
            raise _unknown("Message", 10008)
        if raw not in self.messages:
            raise _unknown("Message", 10008)
        return raw

    async def _r_followup(self, req: _Req) -> Any:
        it = self._webhook_interaction(req)
        body = req.body or {}
        self._validate_message(body, req.uploads, creating=True)
        original = self.messages.get(it.original_message_id or "")
        if it.deferred_pending and original is not None and original.get("flags", 0) & FLAG_LOADING:
            # The first followup after a "thinking" defer replaces the loading message (same id,
            # keeps the defer's ephemerality).
            it.deferred_pending = False
            deferred_ephemeral = original["flags"] & FLAG_EPHEMERAL
            self._apply_message_body(original, body, req.uploads, creating=True)
            original["flags"] = (original["flags"] & ~(FLAG_LOADING | FLAG_EPHEMERAL)) | deferred_ephemeral
            it.followup_ids.append(original["id"])
            await self._emit_message("MESSAGE_UPDATE", original["id"])
            mid = original["id"]
        else:
            msg = self._interaction_message(it, MT_DEFAULT)
            self._apply_message_body(msg, body, req.uploads, creating=True)
            self._store_message(msg)
            it.followup_ids.append(msg["id"])
            await self._emit_message("MESSAGE_CREATE", msg["id"])
            mid = msg["id"]
        if req.query.get("wait", "").lower() not in ("1", "true"):
            return _Resp(204)
        return self.message_payload(mid)

    async def _r_webhook_get(self, req: _Req) -> Any:
        it = self._webhook_interaction(req)
        return self.message_payload(self._webhook_message_id(it, req.params["message_id"]))

    async def _r_webhook_edit(self, req: _Req) -> Any:
        it = self._webhook_interaction(req)
        mid = self._webhook_message_id(it, req.params["message_id"])
        body = req.body or {}
        self._validate_message(body, req.uploads, creating=False)
        msg = self.messages[mid]
        was_loading = bool(msg.get("flags", 0) & FLAG_LOADING)
        self._apply_message_body(msg, body, req.uploads, creating=False)
        if was_loading:
            msg["flags"] &= ~FLAG_LOADING
            msg["edited_timestamp"] = None
            it.deferred_pending = False
        await self._emit_message("MESSAGE_UPDATE", mid)
        return self.message_payload(mid)

    async def _r_webhook_delete(self, req: _Req) -> Any:
        it = self._webhook_interaction(req)
        mid = self._webhook_message_id(it, req.params["message_id"])
        await self._delete_message(mid)
        return _Resp(204)

    # ------------------------------------------------------------------ interactions: builders

    def _interaction_envelope(
        self,
        itype: int,
        data: dict[str, Any] | None,
        *,
        user_id: str | int = HUMAN_USER_ID,
        channel_id: str | int | None = None,
        dm: bool = False,
        permissions: int | str | None = None,
        locale: str = "en-US",
        attachment_size_limit: int | None = None,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        uid = _sid(user_id)
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        env: dict[str, Any] = {
            "id": self.snowflake(),
            "application_id": self.application_id,
            "type": itype,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": attachment_size_limit or self.upload_limit,
        }
        if data is not None:
            env["data"] = data
        if dm:
            ch = self.dm_channel(uid)
            env["channel_id"] = ch["id"]
            env["channel"] = copy.deepcopy(ch)
            env["user"] = self.user(uid)
            env["context"] = 1
            env["authorizing_integration_owners"] = {"0": "0"}
            env["app_permissions"] = str(
                _perm_bits(
                    [
                        "view_channel",
                        "send_messages",
                        "embed_links",
                        "attach_files",
                        "read_message_history",
                        "add_reactions",
                        "use_external_emojis",
                    ]
                )
            )
        else:
            cid = _sid(channel_id) if channel_id is not None else TEXT_CHANNEL_ID
            ch = self._channel_for_builder(cid)
            if uid not in self.members:
                raise ValueError(f"user {uid} is not a member of the guild; use add_user() or dm=True")
            perms = int(permissions) if permissions is not None else self.permissions_for(uid, cid)
            chan = copy.deepcopy(ch)
            chan["permissions"] = str(perms)
            gid = self._guild_of_channel(cid)
            env.update(
                guild_id=gid,
                guild={"id": gid, "locale": "en-US", "features": []},
                guild_locale="en-US",
                channel_id=cid,
                channel=chan,
                member=self.member_payload(uid, permissions=perms, guild_id=gid),
                context=0,
                authorizing_integration_owners={"0": gid},
                app_permissions=str(self.permissions_for(self.bot_user_id, cid)),
            )
        if message is not None:
            env["message"] = message
        return env

    def _channel_for_builder(self, cid: str) -> dict[str, Any]:
        ch = self.channels.get(cid)
        if ch is None:
            raise ValueError(f"unknown channel {cid}")
        return ch

    async def send_interaction(self, payload: dict[str, Any]) -> EmulatedInteraction:
        """Dispatch a fully built INTERACTION_CREATE payload and track its token."""
        await self._require_session(guild_id=payload.get("guild_id"))
        sess = self._route("INTERACTION_CREATE", payload)
        it = EmulatedInteraction(
            emu=self,
            id=payload["id"],
            token=payload["token"],
            type=payload["type"],
            payload=payload,
            created_at=time.monotonic(),
            shard=sess.shard_id if sess else None,
            session_id=sess.session_id if sess else None,
        )
        self.interactions[it.token] = it
        await self._emit("INTERACTION_CREATE", copy.deepcopy(payload), force=True, session=sess)
        it.created_at = time.monotonic()
        return it

    def _check_command_visible(self, cmd: dict[str, Any], *, dm: bool, member_perms: int) -> None:
        contexts = cmd.get("contexts")
        if dm:
            if cmd.get("guild_id"):
                raise ValueError(f"/{cmd['name']} is a guild command and cannot be used in DMs")
            if contexts is not None and 1 not in contexts:
                raise ValueError(f"/{cmd['name']} is not available in bot DMs (contexts={contexts})")
            if contexts is None and cmd.get("dm_permission") is False:
                raise ValueError(f"/{cmd['name']} has dm_permission=false")
        else:
            if contexts is not None and 0 not in contexts:
                raise ValueError(f"/{cmd['name']} is not available in guilds (contexts={contexts})")
            required = cmd.get("default_member_permissions")
            is_admin = bool(member_perms & PERMISSIONS["administrator"])
            if required is not None and not is_admin and int(required) & ~member_perms:
                raise ValueError(f"member lacks default_member_permissions={required} for /{cmd['name']}")

    def _command_for(
        self, name: str, ctype: int, *, dm: bool, guild_id: str = GUILD_ID
    ) -> dict[str, Any] | None:
        cmd = self.find_command(name, type=ctype, guild_id=None if dm else guild_id)
        if cmd is None and self.strict_commands:
            known = sorted(c["name"] for scope in self.commands.values() for c in scope)
            raise LookupError(
                f"command {name!r} (type {ctype}) has not been synced; call tree.sync() first "
                f"or emu.register_commands() (synced: {known}) or DiscordEmulator(strict_commands=False)"
            )
        return cmd

    def _resolve_value(
        self, otype: int, value: Any, resolved: dict[str, dict[str, Any]], *, dm: bool, where: str
    ) -> Any:
        if otype == 11:
            if isinstance(value, tuple):
                value = self.add_cdn_file(*value)
            if not isinstance(value, Mapping) or "url" not in value:
                raise ValueError(
                    f"{where}: attachment option needs an add_cdn_file() dict or (name, bytes) tuple"
                )
            att = {**copy.deepcopy(dict(value)), "ephemeral": True}
            resolved.setdefault("attachments", {})[att["id"]] = att
            return att["id"]
        if otype in (6, 9) and (isinstance(value, Mapping) or _sid(value) in self.users):
            uid = _sid(value)
            resolved.setdefault("users", {})[uid] = self.user(uid)
            if not dm and uid in self.members:
                resolved.setdefault("members", {})[uid] = self.member_payload(
                    uid, with_user=False, permissions=self.permissions_for(uid, None)
                )
            return uid
        if otype in (8, 9):
            rid = _sid(value)
            if rid not in self.roles:
                raise ValueError(f"{where}: unknown role {rid}")
            resolved.setdefault("roles", {})[rid] = copy.deepcopy(self.roles[rid])
            return rid
        if otype == 6:
            raise ValueError(f"{where}: unknown user {value!r}")
        if otype == 7:
            cid = _sid(value)
            ch = self.channels.get(cid)
            if ch is None:
                raise ValueError(f"{where}: unknown channel {cid}")
            part: dict[str, Any] = {
                k: ch[k] for k in ("id", "name", "type", "parent_id", "thread_metadata") if k in ch
            }
            part["permissions"] = str(self.permissions_for(HUMAN_USER_ID, cid))
            resolved.setdefault("channels", {})[cid] = part
            return cid
        if otype == 3 and not isinstance(value, str):
            raise ValueError(f"{where}: expected str, got {value!r}")
        if otype == 4 and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{where}: expected int, got {value!r}")
        if otype == 10 and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"{where}: expected number, got {value!r}")
        if otype == 5 and not isinstance(value, bool):
            raise ValueError(f"{where}: expected bool, got {value!r}")
        return value

    @staticmethod
    def _infer_type(value: Any) -> int:
        if isinstance(value, bool):
            return 5
        if isinstance(value, int):
            return 4
        if isinstance(value, float):
            return 10
        if isinstance(value, tuple) or (isinstance(value, Mapping) and "url" in value):
            return 11
        if isinstance(value, Mapping) and "username" in value:
            return 6
        return 3

    def _build_options(
        self,
        schema: list[dict[str, Any]] | None,
        given: Mapping[str, Any],
        resolved: dict[str, dict[str, Any]],
        *,
        dm: bool,
        where: str,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in schema or []}
        out: list[dict[str, Any]] = []
        for name, value in given.items():
            spec = by_name.get(name)
            if schema is not None and spec is None:
                raise ValueError(f"{where}: unknown option {name!r}; declared: {sorted(by_name)}")
            otype = spec["type"] if spec else self._infer_type(value)
            opt: dict[str, Any] = {"name": name, "type": otype}
            if name == focused:
                opt["value"] = value if isinstance(value, str) else str(value)
                opt["focused"] = True
                out.append(opt)
                continue
            opt["value"] = self._resolve_value(
                otype, value, resolved, dm=dm, where=f"{where} option {name!r}"
            )
            if spec is not None:
                self._check_constraints(spec, opt["value"], f"{where} option {name!r}")
            out.append(opt)
        if schema is not None and focused is None:
            missing = [o["name"] for o in schema if o.get("required") and o["name"] not in given]
            if missing:
                raise ValueError(f"{where}: missing required options {missing}")
        return out

    @staticmethod
    def _check_constraints(spec: Mapping[str, Any], value: Any, where: str) -> None:
        choices = spec.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(
                f"{where}: {value!r} is not one of the declared choices {[c['value'] for c in choices]}"
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            if spec.get("min_value") is not None and value < spec["min_value"]:
                raise ValueError(f"{where}: {value} < min_value {spec['min_value']}")
            if spec.get("max_value") is not None and value > spec["max_value"]:
                raise ValueError(f"{where}: {value} > max_value {spec['max_value']}")
        if isinstance(value, str) and spec.get("type") == 3:
            if spec.get("min_length") is not None and len(value) < spec["min_length"]:
                raise ValueError(f"{where}: shorter than min_length {spec['min_length']}")
            if spec.get("max_length") is not None and len(value) > spec["max_length"]:
                raise ValueError(f"{where}: longer than max_length {spec['max_length']}")

    def _command_data(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        *,
        dm: bool,
        focused: str | None = None,
        resolved: Mapping[str, Any] | None = None,
        guild_id: str = GUILD_ID,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        parts = name.split()
        cmd = self._command_for(parts[0], 1, dm=dm, guild_id=guild_id)
        data: dict[str, Any] = {"id": cmd["id"] if cmd else self.snowflake(), "name": parts[0], "type": 1}
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        res: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (resolved or {}).items()}
        if options is not None and not isinstance(options, Mapping):
            leaf = [dict(o) for o in options]  # raw options, passed through unvalidated
        else:
            schema: list[dict[str, Any]] | None = (cmd.get("options") or []) if cmd else None
            for sub in parts[1:]:
                if schema is not None:
                    match = [o for o in schema if o["name"] == sub and o.get("type") in (1, 2)]
                    if not match:
                        raise ValueError(f"/{name}: no subcommand/group {sub!r}")
                    schema = match[0].get("options") or []
            leaf = self._build_options(schema, options or {}, res, dm=dm, where=f"/{name}", focused=focused)
        # Wrap leaf options into subcommand (type 1) / group (type 2) layers.
        nested: list[dict[str, Any]] = leaf
        subs = parts[1:]
        for depth, sub in reversed(list(enumerate(subs))):
            kind = 1 if depth == len(subs) - 1 else 2
            nested = [{"name": sub, "type": kind, "options": nested}]
        if nested:
            data["options"] = nested
        if res:
            data["resolved"] = res
        return data, cmd

    async def send_slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        user_id: str | int = HUMAN_USER_ID,
        channel_id: str | int | None = None,
        dm: bool = False,
        permissions: int | str | None = None,
        locale: str = "en-US",
        attachment_size_limit: int | None = None,
        resolved: Mapping[str, Any] | None = None,
    ) -> EmulatedInteraction:
        """A user runs ``/name`` (``"group sub"`` for subcommands).

        ``options`` maps option names to values; types come from the synced command (attachment
        values: a dict from :meth:`add_cdn_file` or a ``(filename, bytes[, content_type])`` tuple;
        users/channels/roles: their ids).  A list of raw option dicts is passed through unvalidated.
        ``dm=True`` sends ``user`` instead of ``member`` from a DM channel.
        """
        data, cmd = self._command_data(
            name, options, dm=dm, resolved=resolved, guild_id=self._guild_of_channel(channel_id)
        )
        perms = (
            int(permissions)
            if permissions is not None
            else self.permissions_for(user_id, channel_id or TEXT_CHANNEL_ID)
        )
        if cmd is not None:
            self._check_command_visible(cmd, dm=dm, member_perms=perms)
        env = self._interaction_envelope(
            IT_APPLICATION_COMMAND,
            data,
            user_id=user_id,
            channel_id=channel_id,
            dm=dm,
            permissions=permissions,
            locale=locale,
            attachment_size_limit=attachment_size_limit,
        )
        return await self.send_interaction(env)

    async def send_autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        user_id: str | int = HUMAN_USER_ID,
        channel_id: str | int | None = None,
        dm: bool = False,
    ) -> EmulatedInteraction:
        """Autocomplete (type 4) for option ``focused`` of ``/name``; answer lands in ``.choices``."""
        data, _ = self._command_data(
            name, options, dm=dm, focused=focused, guild_id=self._guild_of_channel(channel_id)
        )
        env = self._interaction_envelope(IT_AUTOCOMPLETE, data, user_id=user_id, channel_id=channel_id, dm=dm)
        return await self.send_interaction(env)

    async def send_message_command(
        self,
        name: str,
        target_message_id: str | int,
        *,
        user_id: str | int = HUMAN_USER_ID,
        dm: bool = False,
        permissions: int | str | None = None,
        locale: str = "en-US",
    ) -> EmulatedInteraction:
        """A user runs the message context-menu command ``name`` on a stored message."""
        mid = _sid(target_message_id)
        if mid not in self.messages:
            raise ValueError(f"unknown message {mid}")
        target = self.messages[mid]
        cmd = self._command_for(name, 3, dm=dm, guild_id=self._guild_of_channel(target["channel_id"]))
        data: dict[str, Any] = {
            "id": cmd["id"] if cmd else self.snowflake(),
            "name": name,
            "type": 3,
            "target_id": mid,
            "resolved": {"messages": {mid: self.message_payload(mid)}},
        }
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        channel_id = target["channel_id"]
        perms = int(permissions) if permissions is not None else self.permissions_for(user_id, channel_id)
        if cmd is not None:
            self._check_command_visible(cmd, dm=dm, member_perms=perms)
        env = self._interaction_envelope(
            IT_APPLICATION_COMMAND,
            data,
            user_id=user_id,
            channel_id=None if dm else channel_id,
            dm=dm,
            permissions=permissions,
            locale=locale,
        )
        return await self.send_interaction(env)

    async def send_user_command(
        self, name: str, target_user_id: str | int, *, user_id: str | int = HUMAN_USER_ID, dm: bool = False
    ) -> EmulatedInteraction:
        """A user runs the user context-menu command ``name`` on ``target_user_id``."""
        tid = _sid(target_user_id)
        cmd = self._command_for(name, 2, dm=dm)
        resolved: dict[str, Any] = {"users": {tid: self.user(tid)}}
        if not dm and tid in self.members:
            resolved["members"] = {
                tid: self.member_payload(tid, with_user=False, permissions=self.permissions_for(tid, None))
            }
        data = {
            "id": cmd["id"] if cmd else self.snowflake(),
            "name": name,
            "type": 2,
            "target_id": tid,
            "resolved": resolved,
        }
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        env = self._interaction_envelope(IT_APPLICATION_COMMAND, data, user_id=user_id, dm=dm)
        return await self.send_interaction(env)

    @staticmethod
    def _walk_components(components: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for c in components:
            yield c
            for key in ("components", "items"):
                if isinstance(c.get(key), list):
                    yield from DiscordEmulator._walk_components(c[key])
            for key in ("accessory", "component"):
                if isinstance(c.get(key), Mapping):
                    yield from DiscordEmulator._walk_components([c[key]])

    def find_component_message(
        self, custom_id: str, *, channel_id: str | int | None = None
    ) -> dict[str, Any] | None:
        """The newest stored message (optionally in ``channel_id``) carrying a component ``custom_id``."""
        cid = _sid(channel_id) if channel_id is not None else None
        for msg in sorted(self.messages.values(), key=lambda m: int(m["id"]), reverse=True):
            if cid is not None and msg["channel_id"] != cid:
                continue
            if any(c.get("custom_id") == custom_id for c in self._walk_components(msg.get("components", []))):
                return msg
        return None

    async def send_component(
        self,
        custom_id: str,
        *,
        message_id: str | int | None = None,
        values: Sequence[str] | None = None,
        component_type: int | None = None,
        user_id: str | int = HUMAN_USER_ID,
        dm: bool = False,
        allow_disabled: bool = False,
    ) -> EmulatedInteraction:
        """A user clicks a button / picks select ``values`` on a stored message (newest one carrying
        ``custom_id`` unless ``message_id`` is given).  Disabled or absent components raise, as the
        Discord client would never send them."""
        if message_id is not None:
            msg = self.messages.get(_sid(message_id))
            if msg is None:
                raise ValueError(f"unknown message {message_id}")
        else:
            msg = self.find_component_message(custom_id)
            if msg is None:
                raise LookupError(f"no stored message has a component with custom_id {custom_id!r}")
        comp = next(
            (c for c in self._walk_components(msg.get("components", [])) if c.get("custom_id") == custom_id),
            None,
        )
        if comp is None:
            raise LookupError(f"message {msg['id']} has no component {custom_id!r}")
        if comp.get("disabled") and not allow_disabled:
            raise ValueError(f"component {custom_id!r} is disabled")
        ctype = component_type or int(comp["type"])
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if "id" in comp:
            data["id"] = comp["id"]
        if ctype != 2:
            data["values"] = list(values or [])
            if ctype in (5, 6, 7, 8) and values:
                res: dict[str, dict[str, Any]] = {}
                for v in values:
                    self._resolve_value({5: 6, 6: 8, 7: 9, 8: 7}[ctype], v, res, dm=dm, where=custom_id)
                data["resolved"] = res
        channel = self.channels.get(msg["channel_id"])
        in_dm = dm or (channel is not None and channel["type"] == CT_DM)
        env = self._interaction_envelope(
            IT_COMPONENT,
            data,
            user_id=user_id,
            channel_id=None if in_dm else msg["channel_id"],
            dm=in_dm,
            message=self.message_payload(msg["id"]),
        )
        return await self.send_interaction(env)

    def _modal_leaf(
        self, comp: Mapping[str, Any], values: Mapping[str, Any], seen: set[str]
    ) -> dict[str, Any]:
        cid = comp.get("custom_id")
        out: dict[str, Any] = {"type": comp["type"]}
        if "id" in comp:
            out["id"] = comp["id"]
        if cid is None:
            return out
        out["custom_id"] = cid
        seen.add(cid)
        if comp["type"] == 4:
            value = values.get(cid, comp.get("value") or "")
            if not isinstance(value, str):
                raise ValueError(f"text input {cid!r} needs a str value")
            if comp.get("required", True) and not value:
                raise ValueError(f"text input {cid!r} is required")
            if value and comp.get("min_length") and len(value) < comp["min_length"]:
                raise ValueError(f"text input {cid!r} shorter than min_length {comp['min_length']}")
            if comp.get("max_length") and len(value) > comp["max_length"]:
                raise ValueError(f"text input {cid!r} longer than max_length {comp['max_length']}")
            out["value"] = value
        else:
            raw = values.get(cid, [])
            out["values"] = [raw] if isinstance(raw, str) else list(raw)
        return out

    def _modal_components(self, modal: Mapping[str, Any], values: Mapping[str, Any]) -> list[dict[str, Any]]:
        inputs = {
            c["custom_id"] for c in self._walk_components(modal.get("components", [])) if "custom_id" in c
        }
        unknown = set(values) - inputs
        if unknown:
            raise ValueError(
                f"modal {modal.get('custom_id')!r} has no inputs {sorted(unknown)}; inputs: {sorted(inputs)}"
            )
        seen: set[str] = set()
        out: list[dict[str, Any]] = []
        for comp in modal.get("components", []):
            if comp["type"] == 1:
                row: dict[str, Any] = {
                    "type": 1,
                    "components": [self._modal_leaf(c, values, seen) for c in comp.get("components", [])],
                }
                if "id" in comp:
                    row["id"] = comp["id"]
                out.append(row)
            elif comp["type"] == 18:
                label: dict[str, Any] = {
                    "type": 18,
                    "component": self._modal_leaf(comp["component"], values, seen),
                }
                if "id" in comp:
                    label["id"] = comp["id"]
                out.append(label)
            elif "id" in comp:
                out.append({"type": comp["type"], "id": comp["id"]})
        return out

    def last_modal(self) -> tuple[EmulatedInteraction, dict[str, Any]]:
        """The most recent interaction answered with a modal, and the modal."""
        for it in reversed(list(self.interactions.values())):
            if it.modal is not None:
                return it, it.modal
        raise LookupError("the bot has not opened any modal")

    async def send_modal_submit(
        self,
        values: Mapping[str, Any],
        *,
        opened_by: EmulatedInteraction | None = None,
        custom_id: str | None = None,
        components: list[dict[str, Any]] | None = None,
        user_id: str | int | None = None,
    ) -> EmulatedInteraction:
        """Submit a modal (type 5).  By default the modal the bot opened last; the submitted
        components mirror its layout (action rows or labels) with ``values`` keyed by input custom_id."""
        if opened_by is None and custom_id is None:
            opened_by, _ = self.last_modal()
        modal = opened_by.modal if opened_by is not None else None
        if opened_by is not None and modal is None:
            raise LookupError(f"{opened_by!r} was not answered with a modal")
        cid = custom_id or (modal or {}).get("custom_id")
        if components is None:
            if modal is None:
                components = [
                    {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                    for k, v in values.items()
                ]
            else:
                components = self._modal_components(modal, values)
        data = {"custom_id": cid, "components": components}
        src = opened_by.payload if opened_by is not None else {}
        uid = (
            user_id
            if user_id is not None
            else (src.get("member", {}).get("user") or src.get("user") or {"id": HUMAN_USER_ID})["id"]
        )
        dm = "guild_id" not in src if src else False
        message = None
        if src.get("message") and src["message"]["id"] in self.messages:
            message = self.message_payload(src["message"]["id"])
        env = self._interaction_envelope(
            IT_MODAL_SUBMIT,
            data,
            user_id=uid,
            channel_id=None if dm else src.get("channel_id"),
            dm=dm,
            message=message,
        )
        return await self.send_interaction(env)

    # ------------------------------------------------------------------ user messages

    async def send_message(
        self,
        content: str = "",
        attachments: Sequence[Mapping[str, Any] | tuple[Any, ...]] | None = None,
        *,
        reply_to: str | int | None = None,
        mentions: Sequence[str | int | Mapping[str, Any]] | None = None,
        channel_id: str | int | None = None,
        author_id: str | int = HUMAN_USER_ID,
        dm: bool = False,
        embeds: list[dict[str, Any]] | None = None,
        reply_ping: bool = True,
    ) -> dict[str, Any]:
        """A user posts a message (MESSAGE_CREATE); returns the stored message (REST shape).

        ``attachments``: dicts from :meth:`add_cdn_file` or ``(filename, bytes[, content_type])``.
        ``reply_to``: a stored message id; ``referenced_message`` is resolved from the store and its
        author is added to ``mentions`` unless ``reply_ping=False``.  ``mentions`` are user ids (the
        content is not rewritten: put ``emu.bot_mention`` in it yourself).
        """
        uid = _sid(author_id)
        if dm:
            await self._require_session()
            cid = self.dm_channel(uid)["id"]
        else:
            cid = _sid(channel_id) if channel_id is not None else TEXT_CHANNEL_ID
            if cid not in self.channels:
                raise ValueError(f"unknown channel {cid}")
            await self._require_session(guild_id=self.channels[cid].get("guild_id"))
        atts = []
        for a in attachments or []:
            atts.append(
                self.add_cdn_file(*a, channel_id=cid) if isinstance(a, tuple) else copy.deepcopy(dict(a))
            )
        msg = self._base_message(channel_id=cid, author=self.user(uid), content=content)
        msg["attachments"] = atts
        msg["embeds"] = copy.deepcopy(embeds or [])
        mention_users = [self.user(_sid(m)) for m in mentions or []]
        if reply_to is not None:
            rid = _sid(reply_to)
            target = self.messages.get(rid)
            if target is None:
                raise ValueError(f"unknown message {rid}")
            msg["type"] = MT_REPLY
            ref = {"type": 0, "message_id": rid, "channel_id": target["channel_id"]}
            if self.channels[cid].get("guild_id"):
                ref["guild_id"] = self.channels[cid]["guild_id"]
            msg["message_reference"] = ref
            if reply_ping and target["author"]["id"] != uid and target["author"]["id"] in self.users:
                mention_users.append(self.user(target["author"]["id"]))
        unique: dict[str, dict[str, Any]] = {}
        for u in mention_users:
            unique.setdefault(u["id"], u)
        msg["mentions"] = list(unique.values())
        msg["nonce"] = str(int(self.snowflake()))
        self._store_message(msg)
        await self._emit_message("MESSAGE_CREATE", msg["id"])
        return copy.deepcopy(msg)

    def add_message(
        self,
        content: str = "",
        *,
        channel_id: str | int = TEXT_CHANNEL_ID,
        author_id: str | int | None = None,
        attachments: Sequence[Mapping[str, Any] | tuple[Any, ...]] | None = None,
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Store a message without dispatching anything (e.g. a bot message from a previous run, for
        persistent-view tests).  Defaults to a bot-authored message in the text channel."""
        cid = _sid(channel_id)
        msg = self._base_message(
            channel_id=cid, author=self.user(author_id or self.bot_user_id), content=content
        )
        msg["attachments"] = [
            self.add_cdn_file(*a, channel_id=cid) if isinstance(a, tuple) else copy.deepcopy(dict(a))
            for a in attachments or []
        ]
        msg["embeds"] = copy.deepcopy(embeds or [])
        msg["components"] = copy.deepcopy(components or [])
        self._store_message(msg)
        return copy.deepcopy(msg)

    # ------------------------------------------------------------------ gateway

    def _intent_for(self, event: str, data: Mapping[str, Any]) -> int | None:
        guild = bool(data.get("guild_id"))
        if event.startswith("MESSAGE_REACTION"):
            return Intents.GUILD_MESSAGE_REACTIONS if guild else Intents.DIRECT_MESSAGE_REACTIONS
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK"):
            return Intents.GUILD_MESSAGES if guild else Intents.DIRECT_MESSAGES
        if event.startswith(("GUILD_MEMBER_", "THREAD_MEMBERS_UPDATE")):
            return Intents.GUILD_MEMBERS
        if event.startswith(("GUILD_", "CHANNEL_", "THREAD_")) and event != "GUILD_MEMBERS_CHUNK":
            return Intents.GUILDS
        return None

    def _strip_content(self, data: dict[str, Any], intents: int) -> dict[str, Any]:
        """Blank content fields as Discord does without MESSAGE_CONTENT (unless DM / mention / own)."""
        if intents & Intents.MESSAGE_CONTENT or not data.get("guild_id"):
            return data  # DMs always carry content

        def strip(m: dict[str, Any]) -> None:
            if m.get("author", {}).get("id") == self.bot_user_id:
                return
            if any(u.get("id") == self.bot_user_id for u in m.get("mentions", [])):
                return
            m["content"] = ""
            m["embeds"] = []
            m["attachments"] = []
            m["components"] = []
            m.pop("poll", None)

        strip(data)
        if isinstance(data.get("referenced_message"), dict):
            strip(data["referenced_message"])
        return data

    def _session_for(self, guild_id: str | None) -> _Session | None:
        """The session of the shard owning ``guild_id`` (shard 0 for None: DMs and the like)."""
        for sess in self._sessions.values():
            if guild_id is None:
                if sess.shard_id == 0:
                    return sess
            elif self.shard_of(guild_id, sess.shard_count) == sess.shard_id:
                return sess
        return None

    def _route(self, event: str, data: Mapping[str, Any]) -> _Session | None:
        guild_id = self._route_guild(event, data)
        return self._session_for(str(guild_id) if guild_id is not None else None)

    async def _require_session(self, timeout: float = 5.0, *, guild_id: Any = None) -> _Session:
        """Wait for a gateway session, and for the one of the shard owning ``guild_id``."""
        gid = str(guild_id) if guild_id is not None else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                await asyncio.wait_for(self.ready.wait(), max(deadline - loop.time(), 0.001))
            except TimeoutError:
                raise TimeoutError(f"no gateway session after {timeout}s (is the client running?)") from None
            sess = self._session_for(gid)
            if sess is not None:
                return sess
            if loop.time() > deadline:
                raise TimeoutError(f"no gateway session for the shard of guild {gid} after {timeout}s")
            await asyncio.sleep(0.005)

    async def dispatch(self, event: str, data: Mapping[str, Any], *, force: bool = False) -> bool:
        """Send a dispatch (op 0) frame.  Waits for a session; returns False if the session's intents
        filter the event out (``force=True`` sends regardless).  Events sent while the client is
        disconnected are buffered and replayed on RESUME.  Guild events go to the shard owning the
        guild (``guild_id``), others to shard 0."""
        await self._require_session(guild_id=self._route_guild(event, data))
        return await self._emit(event, dict(data), force=force)

    @staticmethod
    def _route_guild(event: str, data: Mapping[str, Any]) -> Any:
        if data.get("guild_id") is None and event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"):
            return data.get("id")
        return data.get("guild_id")

    async def _emit(
        self, event: str, data: dict[str, Any], *, force: bool = False, session: _Session | None = None
    ) -> bool:
        sess = session or self._route(event, data)
        if sess is None:
            return False
        if self.enforce_intents and not force:
            need = self._intent_for(event, data)
            if need is not None and not sess.intents & need:
                return False
            if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
                data = self._strip_content(copy.deepcopy(data), sess.intents)
        sess.seq += 1
        frame = {"op": 0, "t": event, "s": sess.seq, "d": data}
        sess.buffer.append(frame)
        del sess.buffer[:-1000]
        if sess.conn is not None and not sess.conn.closed:
            await self._ws_send(sess.conn, frame)
        return True

    async def _ws_send(self, conn: GatewayConnection, frame: dict[str, Any]) -> None:
        async with conn.lock:
            if conn.closed or conn.ws.closed:
                return
            self.gateway_sent.append(frame)
            try:
                await conn.ws.send_str(json.dumps(frame))
            except (ConnectionError, RuntimeError):
                conn.closed = True

    async def _ws_close(self, conn: GatewayConnection, code: int, reason: str) -> None:
        conn.close_code = code
        with contextlib.suppress(Exception):
            await conn.ws.close(code=code, message=reason.encode())
        conn.closed = True

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="expected a websocket upgrade")
        await ws.prepare(request)
        conn = GatewayConnection(
            index=len(self.gateway_connections), path=request.path, query=dict(request.query), ws=ws
        )
        self.gateway_connections.append(conn)
        try:
            if request.query.get("v") != "10":
                await self._ws_close(conn, 4012, "Invalid API version.")
                return ws
            if request.query.get("encoding", "json") != "json":
                await self._ws_close(conn, 4002, "Error while decoding payload.")
                return ws
            await self._ws_send(
                conn,
                {
                    "op": 10,
                    "s": None,
                    "t": None,
                    "d": {"heartbeat_interval": self.heartbeat_interval, "_trace": ['["discord-emulator"]']},
                },
            )
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        frame = json.loads(msg.data)
                    except ValueError:
                        await self._ws_close(conn, 4002, "Error while decoding payload.")
                        break
                    self.gateway_received.append(frame)
                    await self._on_frame(conn, frame)
                elif msg.type == WSMsgType.BINARY:
                    await self._ws_close(conn, 4002, "Error while decoding payload.")
                    break
                else:
                    break
        finally:
            conn.closed = True
            if conn.close_code is None:
                conn.close_code = ws.close_code
            for sess in self._sessions.values():
                if sess.conn is conn:
                    sess.conn = None
        return ws

    async def _on_frame(self, conn: GatewayConnection, frame: Mapping[str, Any]) -> None:
        op = frame.get("op")
        d = frame.get("d")
        if op == 1:
            conn.heartbeats += 1
            if self.ack_heartbeats:
                await self._ws_send(conn, {"op": 11, "s": None, "t": None, "d": None})
            return
        if op == 2:
            await self._on_identify(conn, d or {})
            return
        if op == 6:
            await self._on_resume(conn, d or {})
            return
        if conn.kind is None:
            await self._ws_close(conn, 4003, "Not authenticated.")
            return
        if op == 3:
            self.presence_updates.append(dict(d or {}))
        elif op == 8:
            await self._on_request_members(conn, d or {})
        elif op in (4, 31, 36, 37):
            pass  # voice / soundboard / misc requests are accepted and ignored
        else:
            await self._ws_close(conn, 4001, "Unknown opcode.")

    async def _on_identify(self, conn: GatewayConnection, d: Mapping[str, Any]) -> None:
        if conn.kind is not None:
            await self._ws_close(conn, 4005, "Already authenticated.")
            return
        if d.get("token") != self.token:
            await self._ws_close(conn, 4004, "Authentication failed.")
            return
        intents = d.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await self._ws_close(conn, 4013, "Invalid intent(s).")
            return
        if intents & Intents.PRIVILEGED & ~self.allowed_privileged_intents:
            await self._ws_close(conn, 4014, "Disallowed intent(s).")
            return
        raw_shard = d.get("shard")
        shard: tuple[int, int] | None = None
        if raw_shard is not None:
            ok = (
                isinstance(raw_shard, list | tuple)
                and len(raw_shard) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in raw_shard)
                and 0 <= raw_shard[0] < raw_shard[1]
            )
            if not ok:
                await self._ws_close(conn, 4010, "Invalid shard.")
                return
            shard = (raw_shard[0], raw_shard[1])
        conn.kind = "identify"
        conn.shard = shard
        self.identify_payload = dict(d)
        self.identify_count += 1
        self.identified.set()
        sess = _Session(
            session_id=secrets.token_hex(16), intents=intents, identify=dict(d), conn=conn, shard=shard
        )
        old = self._sessions.get(sess.shard_id)
        if old is not None and old.conn is not None and old.conn is not conn and not old.conn.closed:
            await self._ws_close(old.conn, 4009, "Session timed out.")
        self._sessions[sess.shard_id] = sess
        guild_ids = [g for g in self.guilds if self.shard_of(g, sess.shard_count) == sess.shard_id]
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**self.user(self.bot_user_id), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": g, "unavailable": True} for g in guild_ids],
            "session_id": sess.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": self.application_id, "flags": self._application()["flags"]},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["emulator"],
            "user_settings": {},
            "auth": {},
            "_trace": ['["discord-emulator"]'],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        await self._emit("READY", ready, force=True, session=sess)
        if intents & Intents.GUILDS:
            for g in guild_ids:
                await self._emit("GUILD_CREATE", self.guild_payload(g), force=True, session=sess)
        self.ready.set()

    async def _on_resume(self, conn: GatewayConnection, d: Mapping[str, Any]) -> None:
        if conn.kind is not None:
            await self._ws_close(conn, 4005, "Already authenticated.")
            return
        if d.get("token") != self.token:
            await self._ws_close(conn, 4004, "Authentication failed.")
            return
        sess = next((s for s in self._sessions.values() if s.session_id == d.get("session_id")), None)
        if sess is None:
            conn.kind = "invalid"
            await self._ws_send(conn, {"op": 9, "s": None, "t": None, "d": False})
            return
        conn.kind = "resume"
        conn.shard = sess.shard
        if sess.conn is not None and sess.conn is not conn and not sess.conn.closed:
            await self._ws_close(sess.conn, 4009, "Session timed out.")
        sess.conn = conn
        last = d.get("seq") or 0
        for frame in list(sess.buffer):
            if frame["s"] > last:
                await self._ws_send(conn, frame)
        self.resume_count += 1
        await self._emit("RESUMED", {"_trace": ['["discord-emulator"]']}, force=True, session=sess)

    async def _on_request_members(self, conn: GatewayConnection, d: Mapping[str, Any]) -> None:
        gid = _sid(d["guild_id"]) if d.get("guild_id") is not None else GUILD_ID
        uids = [str(u) for u in d.get("user_ids") or []] or list(self.members)
        query = d.get("query")
        members = []
        for uid in uids:
            if uid not in self.members:
                continue
            if query and not self.users[uid]["username"].startswith(query):
                continue
            members.append(self.member_payload(uid, guild_id=gid))
        limit = d.get("limit") or 0
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": gid,
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [u for u in uids if u not in self.members] if d.get("user_ids") else [],
        }
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        if d.get("presences"):
            chunk["presences"] = []
        sess = next((s for s in self._sessions.values() if s.conn is conn), None)
        await self._emit("GUILD_MEMBERS_CHUNK", chunk, force=True, session=sess)

    async def wait_identified(self, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for IDENTIFY; returns its payload (``intents``, ``properties``, ...)."""
        await asyncio.wait_for(self.identified.wait(), timeout)
        assert self.identify_payload is not None
        return self.identify_payload

    async def wait_ready(self, timeout: float = 5.0) -> None:
        """Wait until READY (and GUILD_CREATE) have been sent."""
        await self._require_session(timeout)

    async def wait_resumed(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``count`` RESUMEs in total have completed."""
        await self._wait_until(lambda: self.resume_count >= count, timeout, f"{count} gateway RESUME(s)")

    async def wait_connections(self, count: int, timeout: float = 5.0) -> GatewayConnection:
        """Wait until ``count`` websocket connections were opened and the last one authenticated."""

        def cond() -> bool:
            return (
                len(self.gateway_connections) >= count
                and self.gateway_connections[count - 1].kind is not None
            )

        await self._wait_until(cond, timeout, f"{count} gateway connection(s)")
        return self.gateway_connections[count - 1]

    async def disconnect_gateway(
        self,
        op: int | None = 7,
        *,
        resumable: bool = True,
        close_code: int = 4000,
        timeout: float = 2.0,
        shard: int | None = None,
    ) -> None:
        """Break the current gateway connection (of shard ``shard``; default shard 0 / the only one).

        ``op=7``: send RECONNECT (the client closes and RESUMEs).  ``op=9``: send INVALID_SESSION with
        ``d=resumable`` (``False`` forces a fresh IDENTIFY).  ``op=None``: close the socket with
        ``close_code`` (4000 is resumable; 4004/4010-4014 are fatal for discord.py).
        """
        sess = self._session if shard is None else self._sessions.get(shard)
        if sess is None or sess.conn is None or sess.conn.closed:
            raise RuntimeError("no live gateway connection")
        conn = sess.conn
        if op == 7:
            await self._ws_send(conn, {"op": 7, "s": None, "t": None, "d": None})
        elif op == 9:
            await self._ws_send(conn, {"op": 9, "s": None, "t": None, "d": resumable})
            if not resumable:
                if self._sessions.get(sess.shard_id) is sess:
                    del self._sessions[sess.shard_id]
                if not self._sessions:
                    self.ready.clear()
        elif op is None:
            await self._ws_close(conn, close_code, "Emulated disconnect.")
        else:
            raise ValueError("op must be 7, 9 or None")
        deadline = time.monotonic() + timeout
        while not conn.closed and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        if not conn.closed:
            await self._ws_close(conn, close_code, "Emulated disconnect.")
        if sess.conn is conn:
            sess.conn = None
