"""Style presets as values (bot/request/styles.py): names, the built-ins, the prompt sent."""

from __future__ import annotations

import pytest

from bot.conversation.compose import option_fields
from bot.conversation.turns import Options
from bot.errors import FlagError
from bot.request.styles import BUILTIN_STYLES, Style, check_name, close_names, styled_prompt
from bot.request.validation import PROMPT_MAX_CHARS


def test_names_are_short_lower_case_words() -> None:
    assert check_name(" Product-Shot ", "style") == "product-shot"
    for bad in ("", "-x", "two words", "a" * 33, "é"):
        with pytest.raises(FlagError, match="doesn't work as a style name"):
            check_name(bad, "style")


def test_the_style_words_end_the_prompt() -> None:
    style = Style("noir", "moody black and white photograph")
    assert styled_prompt("a cat on a roof.", style) == "a cat on a roof, moody black and white photograph"
    assert styled_prompt("  ", style) == "moody black and white photograph"


def test_builtins_are_valid_and_leave_room_for_a_prompt() -> None:
    assert {"anime", "product-shot", "watercolor"} <= set(BUILTIN_STYLES)
    for name, style in BUILTIN_STYLES.items():
        assert check_name(name, "style") == name and style.builtin
        assert len(style.suffix) < PROMPT_MAX_CHARS // 4
        option_fields(Options(style.aspect, style.resolution, model=style.model))  # their defaults pass


def test_close_names_suggest_a_typo() -> None:
    assert close_names("watercolour", list(BUILTIN_STYLES)) == ["watercolor"]
    assert close_names("zzz", list(BUILTIN_STYLES)) == []
