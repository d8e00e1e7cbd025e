"""slack-manifest.yml asks for exactly the events the app listens to and the scopes it uses."""

from __future__ import annotations

import re

from tests.botproc import REPO


def _list_under(text: str, key: str) -> list[str]:
    """Items of the YAML list that follows `key:` (a plain block list of scalars)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{key}:")
    indent = len(lines[start]) - len(lines[start].lstrip())
    items = []
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        if len(line) - len(line.lstrip()) <= indent and not line.lstrip().startswith("- "):
            break
        match = re.match(r"\s*- ([^\s#]+)", line)
        if match is None:
            break
        items.append(match.group(1))
    return items


def test_manifest_matches_what_the_adapter_uses() -> None:
    text = (REPO / "slack-manifest.yml").read_text()
    assert _list_under(text, "bot_events") == [
        "app_home_opened",
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
    ]
    assert sorted(_list_under(text, "bot")) == sorted(
        [
            "app_mentions:read",
            "channels:history",
            "groups:history",
            "im:history",
            "mpim:history",
            "chat:write",
            "commands",
            "files:read",
            "files:write",
        ]
    )
    assert "command: /imagine" in text
    assert text.count("url: https://seedbot.example.com/slack/events") == 3
