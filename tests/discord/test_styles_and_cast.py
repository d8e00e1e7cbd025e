"""Style presets and the saved cast through Discord's own commands: /cast save|list|remove,
/seedbot style ..., and /imagine's `style` and `ref` options with their autocomplete."""

from __future__ import annotations

from typing import Any

from bot import messages
from tests.discord.conftest import StartBot, details, job_id_of, png, text, wait_result
from tests.discord.test_community import manager, private
from tests.emulators.discord import DiscordEmulator
from tests.emulators.providers import ProviderEmulator

EPHEMERAL = 64


async def deferred(emu: DiscordEmulator, name: str, options: dict[str, Any]) -> str:
    """A command deferred privately, then answered; its text."""
    inter = await emu.send_slash_command(name, options)
    assert await inter.wait_ack() == 5
    [answer] = await inter.wait_followups(1, timeout=10)
    assert answer["flags"] & EPHEMERAL
    return text(answer)


async def choices(emu: DiscordEmulator, name: str, options: dict[str, Any], focused: str) -> list[str]:
    inter = await emu.send_autocomplete(name, options, focused)
    await inter.wait_ack()
    return [c["value"] for c in inter.choices or []]


async def test_cast_and_styles_from_slash_commands(emu: DiscordEmulator, start_bot: StartBot) -> None:
    mia, hat = png(50, 40, (250, 0, 0)), png(40, 50, (0, 250, 0))
    async with ProviderEmulator() as providers:
        bot = await start_bot(**providers.settings_kwargs("novita"))
        said = await deferred(emu, "cast save", {"name": "mia", "image": emu.add_cdn_file("mia.png", mia)})
        assert said == messages.cast_saved("mia", False, 1, 30)
        assert "`mia`: 50x40, from mia.png" in await private(emu, "cast list")
        assert await choices(emu, "imagine", {"prompt": "x", "ref": ""}, "ref") == ["mia"]
        assert await choices(emu, "imagine", {"prompt": "x", "style": "wat"}, "style") == ["watercolor"]

        refused = await private(emu, "seedbot style add", {"name": "noir", "suffix": "moody noir photo"})
        assert refused == messages.NOT_ADMIN
        admin = manager(emu)
        added = await private(
            emu,
            "seedbot style add",
            {"name": "noir", "suffix": "moody noir photo", "aspect": "3:2"},
            permissions=admin,
        )
        assert "Style 'noir' added" in added, added
        assert "noir" in await choices(emu, "imagine", {"prompt": "x", "style": "no"}, "style")

        inter = await emu.send_slash_command(
            "imagine",
            {
                "prompt": "a detective",
                "style": "noir",
                "ref": "mia",
                "image": emu.add_cdn_file("hat.png", hat),
            },
        )
        assert await inter.wait_ack() == 5
        result = await wait_result(emu)
        assert providers.novita.received_images == [mia, hat]
        assert details(result)["References"] == 'image 1 = cast "mia"; image 2 = hat.png'
        job = await bot.wait_job(job_id_of(result))
        assert job.prompt == "a detective, moody noir photo" and job.request["aspect"] == "3:2"

        assert "removed" in await private(emu, "seedbot style remove", {"name": "noir"}, permissions=admin)
        assert await private(emu, "cast remove", {"name": "mia"}) == messages.cast_removed("mia", False)
        assert await private(emu, "cast list") == messages.CAST_EMPTY
