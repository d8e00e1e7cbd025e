"""bot/request/other_models.py: other image models' settings taken out of a message as typed."""

from __future__ import annotations

import pytest

from bot.request import other_models


def _taken(typed: str) -> list[list[str]]:
    tokens = typed.split()
    found: list[list[str]] = []
    i = 0
    while i < len(tokens):
        i += 1
        value = tokens[i] if i < len(tokens) else None
        if other_models.is_setting(tokens[i - 1].lower(), value):
            i = other_models.take(tokens, i, found)
    return found


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("--v 6.1 --tile --ar 3:2", [["--v", "6.1"], ["--tile"]]),
        ("--niji --ar 2:3", [["--niji"]]),  # its number may be left out
        ("--niji 6 --ar 2:3", [["--niji", "6"]]),
        ("--no text, people --n 2", [["--no", "text,", "people"]]),  # up to the next flag
        ("--style raw --style anime", [["--style", "raw"]]),  # a preset is no setting of theirs
    ],
)
def test_each_setting_takes_its_own_values(typed: str, found: list[list[str]]) -> None:
    assert _taken(typed) == found


def test_what_to_send_is_the_message_as_typed_without_them() -> None:
    typed = "a  cat, 'quoted' --v6 --ar 16:9 --no text --style raw"
    found = [["--v", "6"], ["--no", "text"], ["--style", "raw"]]
    # What a negative prompt left out is said in words, at the prompt's end.
    assert other_models.without(typed, found) == "a cat, 'quoted', without text --ar 16:9"
    assert other_models.without("--no text", [["--no", "text"]]) == "without text"
    assert other_models.shown(found) == ["--v", "--no", "--style raw"]
