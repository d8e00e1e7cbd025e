"""The aiohttp application: lifecycle, URLs, the Web API method table and dispatch (tokens, faults,
overrides), recording and waiting.  :class:`SlackServer` holds every piece of the emulator's
state; the mixins of the other modules add the methods' handlers and the test-facing helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import inspect
import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Self
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from tests.emulators.slack.constants import (
    _APP_TOKEN_METHODS,
    _JSON_STRING_PARAMS,
    BOT_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    USER_ID,
    _maybe_json,
)
from tests.emulators.slack.models import RecordedRequest, _ApiError, _Fault


class SlackServer:
    """State, HTTP plumbing, recording and faults of :class:`SlackEmulator` (``emulator.py``)."""

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
        self.refused_views: list[dict[str, Any]] = []  # views refused by the Block Kit checks
        self.refused_blocks: list[dict[str, Any]] = []  # message blocks refused likewise
        self.trigger_ids: dict[str, dict[str, Any]] = {}
        self.assistant_threads: dict[tuple[str, str], dict[str, Any]] = {}
        self.functions: dict[str, dict[str, Any]] = {}  # custom steps the app declares
        self.executions: dict[str, dict[str, Any]] = {}  # their runs, by function_execution_id
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
            "files.list": self._files_list,
            "files.upload": self._files_upload_v1,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "apps.connections.open": self._apps_connections_open,
            "assistant.threads.setStatus": self._assistant_set_status,
            "assistant.threads.setSuggestedPrompts": self._assistant_set_suggested_prompts,
            "assistant.threads.setTitle": self._assistant_set_title,
            "functions.completeSuccess": self._functions_complete_success,
            "functions.completeError": self._functions_complete_error,
        }

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
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

    # ------------------------------------------------------------------ ids

    def next_ts(self) -> str:
        """A fresh, strictly increasing Slack ``ts`` (``"1700000000.000123"``)."""
        now_us = int(time.time() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    # ------------------------------------------------------------------ faults & overrides

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
        applied: bool = False,
        disconnect: bool = False,
    ) -> None:
        """Make the next ``times`` calls of Web API ``method`` fail (after letting ``after``
        calls through, e.g. to fail a batch's second upload). ``applied=True``: the call takes
        effect and then answers with the error, as a server that failed after doing the work.

        Default: HTTP 429 ``{"ok": false, "error": "ratelimited"}`` with ``Retry-After: 1``.
        ``fail_next("chat.postMessage", "channel_not_found", status=200, times=2)`` gives
        plain ``ok:false`` answers; ``body=`` replaces the JSON body verbatim (e.g. an HTML
        503 page). ``Retry-After`` is only sent for 429s. Use ``method="upload"`` for the
        external upload URL.

        ``disconnect=True`` (Web API methods): no answer at all, the TCP connection is reset
        instead (a proxy or the network failing; with ``applied=True``, after Slack did the
        work), so the client sees a dropped connection (aiohttp's ServerDisconnectedError).
        The call is recorded with ``dropped=True``.
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
                    applied=applied,
                    disconnect=disconnect,
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

    # ------------------------------------------------------------------ recording & waiting

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

    # ------------------------------------------------------------------ Web API dispatch

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        rec = await self._record(request, "api", method)
        response = await self._api_response(method, rec)
        if rec.dropped:  # fail_next(disconnect=True): reset the connection, answer nothing
            assert request.transport is not None
            request.transport.abort()
            self._notify()
            return response  # never written: the connection is gone
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
        # A workflow step's just-in-time token works like the bot token while its step runs.
        step_token = None if method in _APP_TOKEN_METHODS else self.workflow_token_valid(token)
        if step_token is False:
            return web.json_response({"ok": False, "error": "token_revoked"})
        if token != expected and not step_token:
            wrong_kind = token in (self.app_token, self.bot_token)
            return web.json_response(
                {"ok": False, "error": "not_allowed_token_type" if wrong_kind else "invalid_auth"}
            )
        fault = self._take_fault(method)
        rec.dropped = fault is not None and fault.disconnect
        if fault is not None and not fault.applied:
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
        if fault is not None:  # done, and answered with an error all the same
            return self._fault_response(fault)
        if isinstance(result, web.Response):
            return result
        body = dict(result)
        body.setdefault("ok", True)
        return web.json_response(body)
