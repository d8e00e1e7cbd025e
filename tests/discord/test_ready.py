"""The Discord platform's `ready` (what /healthz reports): true once the gateway session is
ready, again after a reconnect, and false after close."""

from __future__ import annotations

from tests.discord.conftest import StartBot, eventually
from tests.emulators.discord_emulator import DiscordEmulator


async def test_ready_follows_the_gateway(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    assert bot.platform.ready
    await emu.disconnect_gateway(op=None, resumable=True, close_code=4000)
    await emu.wait_resumed(1)
    await eventually(lambda: bot.platform.ready)
    await bot.platform.close()
    assert not bot.platform.ready
