"""The websocket gateway: HELLO/IDENTIFY/RESUME/heartbeats, sessions per shard, dispatch with intent
filtering and MESSAGE_CONTENT blanking, resumable buffers, and forced disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import WSMsgType, web

from tests.emulators.discord.constants import GUILD_ID, Intents, _sid
from tests.emulators.discord.models import GatewayConnection, _Req, _Session


class GatewayMixin:
    """Gateway sessions and dispatch.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

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

    # ------------------------------------------------------------------ REST routes: /gateway

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

    # ------------------------------------------------------------------ dispatch

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

    # ------------------------------------------------------------------ websocket

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

    # ------------------------------------------------------------------ waiting & faults

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
