"""Records the tests read (requests, gateway connections, interactions) and the REST error types."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from aiohttp import web

from tests.emulators.discord.constants import FLAG_LOADING

if TYPE_CHECKING:
    from tests.emulators.discord.emulator import DiscordEmulator


# --------------------------------------------------------------------------------------------------
# Records and errors
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageSeen:
    """A message as one create or edit left it (``emu.message_log``): when (``time.monotonic()``),
    which message, how many files it has and how many gallery items show them."""

    at: float
    message_id: str
    channel_id: str
    attachments: int
    gallery: int
    created: bool


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
    followups_created: int = 0  # Create Followup Message calls that succeeded
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
