"""Socket Mode: ``apps.connections.open`` tickets, the ``/link`` websocket (hello, envelopes,
acks, disconnects).
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from tests.emulators.slack.constants import APP_ID
from tests.emulators.slack.models import RecordedRequest


class SocketModeMixin:
    """The Socket Mode websocket.

    A mixin of :class:`SlackEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def _apps_connections_open(self, _p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        ticket = secrets.token_hex(8)
        self._socket_tickets.add(ticket)
        return {"url": f"{self.socket_url}?ticket={ticket}&app_id={APP_ID}"}

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
