"""Records the tests read (requests received, the app's answers) and the Web API error types."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
    dropped: bool = False  # the connection was closed instead of answering (fail_next(disconnect=True))
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
    applied: bool = False  # the call takes effect, then answers with the error
    disconnect: bool = False  # no answer at all: the connection is reset


class _ApiError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra
