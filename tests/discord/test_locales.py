"""Discord in the user's language: localized command names, descriptions and choices (the
Translator, checked by the emulator against Discord's rules), private answers in the
interaction's locale, public posts in the server's, English for a locale seedbot doesn't speak.
Prompts are never translated."""

from __future__ import annotations

from adapters.discord_adapter.translator import (
    CHOICE_NAMES,
    COMMAND_NAMES,
    NAME_RE,
    OPTION_NAMES,
    name_localizations,
)
from bot import i18n, messages
from tests.discord.conftest import (
    SpawnBot,
    StartBot,
    components,
    details,
    eventually,
    job_id_of,
    text,
    wait_result,
)
from tests.emulators.discord import DiscordEmulator
from tests.emulators.providers import ProviderEmulator

EPHEMERAL = 64


def _in(locale: str, name: str) -> str:
    with i18n.use(locale):
        return str(getattr(messages, name))


def _labels(message: dict) -> set[str]:
    return {str(c.get("label")) for c in components(message) if c.get("type") == 2}


async def test_commands_carry_japanese_names_descriptions_and_choices(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    await start_bot()
    imagine = emu.find_command("imagine")
    assert imagine is not None
    assert imagine["name"] == "imagine"  # the default stays English
    assert imagine["name_localizations"]["ja"] == "画像生成"
    assert imagine["name_localizations"]["zh-CN"] == "生成图片"
    assert imagine["description_localizations"]["ja"] == _in("ja", "COMMAND_IMAGINE")
    options = {o["name"]: o for o in imagine["options"]}
    assert options["prompt"]["name_localizations"]["ja"] == "プロンプト"
    assert options["prompt"]["description_localizations"]["ja"] == _in("ja", "OPTION_PROMPT")
    with i18n.use("ja"):
        assert options["image2"]["description_localizations"]["ja"] == messages.option_more_image(2)
    square = next(c for c in options["aspect"]["choices"] if c["value"] == "1:1")
    assert square["name"] == "1:1 (square)"
    assert square["name_localizations"]["ja"] == "1:1（正方形）"
    # A locale seedbot doesn't speak gets no localization: Discord shows the English default.
    assert "ko" not in imagine["name_localizations"]
    menu = emu.find_command(messages.CONTEXT_EDIT_NAME, type=3)
    assert menu is not None and menu["name_localizations"]["ja"] == "Seedream で編集"
    admin = emu.find_command("seedbot")
    assert admin is not None and not admin.get("name_localizations")  # a name, never translated


async def test_a_japanese_user_reads_japanese_and_the_server_reads_its_language(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot(daily_images=2)
    usage = await emu.send_slash_command("usage", locale="ja")
    assert await usage.wait_ack() == 4
    assert text(usage.original).startswith("今日の残り：2枚中 2枚")

    # In an English-speaking server the result is posted for everyone in English...
    prompt = "一只在雪地里的红狐狸, golden hour"
    first = await emu.send_slash_command("imagine", {"prompt": prompt}, locale="ja")
    await first.wait_ack()
    result = await wait_result(emu)
    await bot.wait_job(job_id_of(result))
    assert messages.BUTTON_REROLL in _labels(result)
    assert messages.LABEL_MODEL in details(result)
    assert prompt in text(result)  # the prompt as typed: never translated

    # ...and in Japanese once the server speaks Japanese.
    emu.set_guild_locale("ja")
    second = await emu.send_slash_command("imagine", {"prompt": prompt}, locale="en-US")
    await second.wait_ack()
    result = await wait_result(emu, exclude={job_id_of(result)})
    await bot.wait_job(job_id_of(result))
    assert {"再生成", "バリエーション", "編集"} <= _labels(result)
    assert "モデル" in details(result)
    assert prompt in text(result)

    # A refusal is the user's own: in their language whatever the server speaks.
    emu.set_guild_locale("en-US")
    refused = await emu.send_slash_command("imagine", {"prompt": "one more"}, locale="ja")
    [answer] = await refused.wait_followups(1)
    assert answer["flags"] & EPHEMERAL
    assert text(answer).startswith("1日の上限（2枚）を使い切りました。")
    assert text(answer).endswith("利用枠は消費されていません。")


async def test_what_a_japanese_user_asks_for_is_posted_in_the_servers_english(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """An upscale's prompt line, thread name and references (said while the turn was the
    person's) were Japanese in an English server's public result, under English details."""
    bot = await start_bot()
    first = await emu.send_slash_command("imagine", {"prompt": "two lanterns in fog"}, locale="en-US")
    await first.wait_ack()
    result = await wait_result(emu)
    parent = job_id_of(result)
    await bot.wait_job(parent)
    press = await emu.send_component(f"seedbot:upscale:{parent}:1", message_id=result["id"], locale="ja")
    await press.wait_ack()
    upscaled = await wait_result(emu, exclude={parent})
    await bot.wait_job(job_id_of(upscaled))
    with i18n.use("en"):
        said = messages.shown_prompt(messages.UPSCALE_PROMPT), messages.upscale_note(1, parent)
    assert all(line in text(upscaled) for line in said), text(upscaled)


async def test_a_job_left_running_at_shutdown_says_so_in_the_servers_language(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    async with ProviderEmulator() as providers:
        providers.apiframe.pending_polls = 1_000_000
        bot = await start_bot(**providers.settings_kwargs("apiframe"))
        inter = await emu.send_slash_command("imagine", {"prompt": "a long exposure"}, locale="ja")
        assert await inter.wait_ack() == 5
        await eventually(lambda: providers.apiframe.polls >= 2)
        await bot.runtime.engine.shutdown(0.05)
        await bot.wait_idle()
    assert inter.original is not None and not inter.original["flags"] & EPHEMERAL
    assert text(inter.original) == _in("en", "RESUMES_AFTER_RESTART")


async def test_an_unsupported_locale_falls_back_to_english(emu: DiscordEmulator, start_bot: StartBot) -> None:
    await start_bot()
    usage = await emu.send_slash_command("usage", locale="ko")
    assert await usage.wait_ack() == 4
    assert text(usage.original).startswith("Images left today: 20 of 20")


async def test_a_job_resumed_after_a_restart_answers_in_the_language_it_was_asked_in(
    emu: DiscordEmulator, spawn_bot: SpawnBot
) -> None:
    async with ProviderEmulator() as providers:
        env = providers.env("apiframe", SEEDBOT_POLL_INTERVAL="0.05")
        emu.set_guild_locale("ja")
        first_bot = await spawn_bot(**env)
        providers.apiframe.pending_polls = 1_000_000  # never finishes while bot 1 lives
        inter = await emu.send_slash_command("imagine", {"prompt": "a slow sunrise"}, locale="ja")
        assert await inter.wait_ack() == 5
        await eventually(lambda: providers.apiframe.polls >= 2)
        await first_bot.kill()

        # The server changed its language meanwhile: the job keeps the one it was asked in.
        emu.set_guild_locale("en-US")
        for task in providers.apiframe.tasks.values():
            task.pending = 0
        second_bot = await spawn_bot(**env)
        resumed = await wait_result(emu)
        await second_bot.wait_log(r"resuming 1 job")
    assert {"再生成", "バリエーション"} <= _labels(resumed)
    assert details(resumed)["プロバイダー"] == "apiframe"
    assert "a slow sunrise" in text(resumed)


# Names that sit side by side in one command (Discord refuses two alike in any locale).
SIBLINGS = {
    "commands": ("imagine", "edit", "usage", "history", "cast"),
    "/seedbot": ("quota", "settings", "stats", "style"),
    "/seedbot quota": ("show", "set", "grant", "reset", "block", "unblock"),
    "/seedbot style": ("list", "add", "change", "remove", "hide"),
    "/cast": ("save", "list", "remove"),
}
OPTION_SIBLINGS = {
    "/imagine": (
        "prompt", "image", "image2", "image3", "image4", "aspect", "resolution", "count", "model",
        "format", "watermark", "style", "ref",
    ),
    "/seedbot quota set": ("user", "daily", "monthly"),
    "/seedbot quota grant": ("user", "images"),
    "/seedbot settings set": ("setting", "value"),
    "/seedbot style add": ("name", "suffix", "aspect", "resolution", "model"),
    "/cast save": ("name", "image", "server"),
}  # fmt: skip


def test_every_localized_name_follows_discords_rules_and_stays_unique() -> None:
    """Whatever a translator writes, a name Discord would refuse never reaches it, and the
    catalogs' names keep the commands' options apart."""
    command, option, choice = (
        "discord command name (lowercase, no spaces, at most 32 characters)",
        "discord option name (lowercase, no spaces, at most 32 characters)",
        "discord choice name (at most 100 characters)",
    )
    for context, names in ((command, COMMAND_NAMES), (option, OPTION_NAMES)):
        for name in names:
            for locale, localized in name_localizations(context, name).items():
                assert NAME_RE.match(localized) and localized == localized.lower(), (locale, name, localized)
    for name in CHOICE_NAMES:
        assert all(1 <= len(t) <= 100 for t in name_localizations(choice, name).values())
    for context, groups in ((command, SIBLINGS), (option, OPTION_SIBLINGS)):
        for where, names in groups.items():
            for locale in ("zh-CN", "ja", "es-ES", "pt-BR", "de", "fr"):
                shown = [name_localizations(context, n).get(locale, n) for n in names]
                assert len(set(shown)) == len(shown), (where, locale, shown)
