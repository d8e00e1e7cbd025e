"""Turns: what a surface hands the conversation, and what a thread shows of its options."""

from __future__ import annotations

from bot.conversation.turns import Options


def test_the_options_picked_become_chips_in_form_order() -> None:
    options = Options(aspect="16:9", resolution="2K", count=3, watermark=False, refs=("mia", "leo"))
    chips = options.chips()
    assert chips[:2] == ["aspect 16:9", "2K"]
    assert len(chips) == 5 and "3" in chips[2] and "mia" in chips[4] and "leo" in chips[4]
    assert chips[3] == "watermark off"


def test_nothing_picked_shows_no_chips_and_one_image_is_not_a_chip() -> None:
    assert Options().chips() == []
    assert Options(count=1).chips() == []
