"""Socket Mode round trip with slack-bolt's AsyncSocketModeHandler."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from tests.emulators.slack import DM_CHANNEL_ID
from tests.emulators.slack.conftest import APP_TOKEN, Harness


async def test_socket_mode_round_trip(harness: Harness) -> None:
    emu, app = harness.emu, harness.app
    done = asyncio.Event()

    @app.event("message")
    async def on_dm(event: dict[str, Any], say: Any) -> None:
        await say(text=f"echo: {event['text']}")
        done.set()

    handler = AsyncSocketModeHandler(app, APP_TOKEN)
    try:
        await handler.connect_async()
        await emu.wait_socket_connected()
        envelope_id = await emu.socket_send_event(emu.dm_event("hello there"))
        ack = await emu.wait_socket_ack(envelope_id)
        assert ack == {"envelope_id": envelope_id}
        await asyncio.wait_for(done.wait(), 5)
        [post] = await emu.wait_for_call("chat.postMessage")
    finally:
        await handler.close_async()
    [conn] = emu.calls("apps.connections.open")
    assert conn.token == APP_TOKEN
    assert post.params["channel"] == DM_CHANNEL_ID
    assert [m["text"] for m in emu.messages_in(DM_CHANNEL_ID)] == ["hello there", "echo: hello there"]
    assert emu.socket_connections == 1
    await emu.wait_for(lambda: not emu.socket_connected)
