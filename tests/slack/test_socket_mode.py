"""Socket Mode: with SLACK_APP_TOKEN set the bot needs no public URL; Slack pushes envelopes."""

from __future__ import annotations

from tests.emulators.slack import CHANNEL_ID, SlackEmulator
from tests.slack.conftest import APP_TOKEN, StartBot, wait_results


async def test_socket_mode_round_trip(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot(socket_mode=True)
    assert bot.port is None  # no HTTP server in Socket Mode
    await emu.wait_socket_connected()
    [conn] = emu.calls("apps.connections.open")
    assert conn.token == APP_TOKEN

    mention = emu.mention_event("a lantern on a boat --n 2")
    envelope = await emu.socket_send_event(mention)
    assert await emu.wait_socket_ack(envelope) == {"envelope_id": envelope}
    uploads = await wait_results(emu, 2, bot)
    assert [(u["channel"], u["thread_ts"]) for u in uploads] == [(CHANNEL_ID, mention["ts"])] * 2

    # A slash command over the socket too: acked, then a root message and its thread.
    envelope = await emu.socket_send_slash_command("/imagine", "a red kite")
    await emu.wait_socket_ack(envelope)
    uploads = await wait_results(emu, 3, bot)
    root = emu.message(CHANNEL_ID, uploads[2]["thread_ts"])
    assert root is not None and root["text"].endswith("asked for: a red kite")

    assert await bot.stop() == 0
    await emu.wait_for(lambda: not emu.socket_connected)
