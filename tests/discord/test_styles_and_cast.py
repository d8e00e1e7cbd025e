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


async def test_ref_suggestions_past_discords_100_characters_are_left_out(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """Each suggestion repeats the names typed before it: past 100 characters Discord refuses
    the whole list ("Loading options failed")."""
    await start_bot()
    names = [
        "grandmother_in_the_red_coat",
        "the_old_lighthouse_keeper",
        "little_brother_with_kite",
        "family_golden_retriever",
    ]
    for n, name in enumerate(names):
        saved = await emu.send_slash_command(
            "cast save", {"name": name, "image": emu.add_cdn_file(f"{n}.png", png(40 + n, 40))}
        )
        await saved.wait_ack()
        await saved.wait_followups(1, timeout=10)
    asked = await emu.send_autocomplete("imagine", {"prompt": "x", "ref": ",".join(names[:3]) + ","}, "ref")
    assert await asked.wait_ack() == 8
    assert asked.choices == []  # the one left would be 102 characters
    short = await emu.send_autocomplete(
        "imagine", {"prompt": "x", "ref": "grandmother_in_the_red_coat,"}, "ref"
    )
    await short.wait_ack()
    assert [c["value"] for c in short.choices or []] == [
        f"grandmother_in_the_red_coat,{n}" for n in sorted(names[1:])
    ]
