"""The platform plug-in interface (bot/app/platform.py): the plug-ins describe themselves and read
the same environment and .env; nothing in bot/ names a platform."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.app.platform import load_plugins
from tests.app.helpers import REPO

PLATFORM_WORDS = re.compile(r"DISCORD_|SLACK_|discord\.com|slack\.com")


def test_bot_names_no_platform_setting_or_address() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in sorted((REPO / "bot").rglob("*"))
        if path.is_file() and path.suffix in (".py", ".sql", ".txt", ".md")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if PLATFORM_WORDS.search(line)
    ]
    assert offenders == []


def test_the_plugins_describe_themselves() -> None:
    plugins = load_plugins()
    assert list(plugins) == ["discord", "slack", "web"]
    assert [p.name for p in plugins.values() if p.playground] == ["web"]
    for name, plugin in plugins.items():
        assert plugin.name == name and plugin.title
        settings = plugin.load_settings(None)
        assert settings.enabled is False and settings.secrets() == []
    assert plugins["discord"].setup_hint() == "DISCORD_TOKEN"
    assert "SLACK_BOT_TOKEN" in plugins["slack"].setup_hint()


def test_plugin_settings_read_the_same_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DISCORD_", "SLACK_")):
            monkeypatch.delenv(name)
    env = tmp_path / "bot.env"
    env.write_text(
        "DISCORD_TOKEN=MTMw.a.b\nDISCORD_GUILD_ID=42\nSLACK_BOT_TOKEN=xoxb-1\nSLACK_APP_TOKEN=xapp-1\n"
    )
    plugins = load_plugins()
    discord, slack = (plugins[name].load_settings(str(env)) for name in ("discord", "slack"))
    assert discord.enabled and slack.enabled
    assert discord.secrets() == ["MTMw.a.b"] and sorted(slack.secrets()) == ["xapp-1", "xoxb-1"]
    assert discord.discord_guild_id == 42  # type: ignore[attr-defined]
