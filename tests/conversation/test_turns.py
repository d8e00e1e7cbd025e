"""Turns: what a surface hands the conversation, and what a thread shows of its options."""

from __future__ import annotations

import pytest

from bot.conversation.surface import RESULT_ACTIONS
from bot.conversation.turns import (
    MAKES_IMAGES,
    PRESSES,
    Cancel,
    OpenEdit,
    Options,
    Reroll,
    ResultRef,
    Upscale,
    pressed,
)


def test_the_options_picked_become_chips_in_form_order() -> None:
    options = Options(aspect="16:9", resolution="2K", count=3, watermark=False, refs=("mia", "leo"))
    chips = options.chips()
    assert chips[:2] == ["aspect 16:9", "2K"]
    assert len(chips) == 5 and "3" in chips[2] and "mia" in chips[4] and "leo" in chips[4]
    assert chips[3] == "watermark off"


def test_nothing_picked_shows_no_chips_and_one_image_is_not_a_chip() -> None:
    assert Options().chips() == []
    assert Options(count=1).chips() == []


def test_each_button_is_one_turn_on_every_surface() -> None:
    assert pressed("reroll", "j1") == Reroll("j1")
    assert pressed("upscale", "j1", 2) == Upscale(ResultRef(job_id="j1"), 2)
    assert pressed("cancel", "j1") == Cancel(ResultRef(job_id="j1"))
    assert pressed("edit", "j1") == OpenEdit(ResultRef(job_id="j1"))  # asks what should change first
    assert set(PRESSES) == {*RESULT_ACTIONS, "cancel"}
    assert set(PRESSES) > MAKES_IMAGES
    with pytest.raises(KeyError):
        pressed("explode", "j1")
