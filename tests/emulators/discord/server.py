"""The aiohttp application: lifecycle, URLs, the REST route table and request plumbing, recording,
waiting and injected faults.  :class:`DiscordServer` holds every piece of the emulator's state;
the mixins of the other modules add the routes' handlers and the test-facing helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, Self

from aiohttp import BodyPartReader, web
from multidict import CIMultiDict

from tests.emulators.discord.constants import (
    API_PREFIX,
    APPLICATION_ID,
    BOT_USER_ID,
    DEFAULT_TOKEN,
    DEFAULT_UPLOAD_LIMIT,
    FLAG_LOADING,
    INTERACTION_TOKEN_LIFETIME,
    Intents,
    _sid,
)
from tests.emulators.discord.models import (
    EmulatedInteraction,
    Fault,
    GatewayConnection,
    MessageSeen,
    Recorded,
    _ApiError,
    _Req,
    _Resp,
    _Session,
    _Upload,
)

_RouteHandler = Callable[[_Req], Any]


class DiscordServer:
    """State, HTTP plumbing, recording and faults of :class:`DiscordEmulator` (``emulator.py``)."""

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
        user_install: bool = True,
        interaction_token_lifetime: float = INTERACTION_TOKEN_LIFETIME,
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
        # The application may be installed to users too (Developer Portal -> Installation).
        self.user_install = user_install
        # Seconds an interaction token serves its webhook (Discord: 15 minutes).
        self.interaction_token_lifetime = interaction_token_lifetime
        self.ack_heartbeats = True  # set False to simulate a zombied connection

        self.port = 0
        self.requests: list[Recorded] = []
        self.message_log: list[MessageSeen] = []  # every create and edit of a message, in order
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
        # Servers the bot is not in, where people use it through their own install (add_foreign_guild).
        self.foreign_guilds: dict[str, dict[str, Any]] = {}
        # A server's language (its "preferred_locale", the interactions' "guild_locale"); en-US
        # unless set_guild_locale() says otherwise.
        self.guild_locales: dict[str, str] = {}
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

    async def __aenter__(self) -> Self:
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
