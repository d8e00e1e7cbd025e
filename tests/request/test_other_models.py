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


CIVITAI = (
    "masterpiece, a fox in snow <lora:film:0.8>, dawn\n"
    "Negative prompt: lowres, bad hands\n"
    "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 42, Size: 1344x768, Model hash: ab12, Model: xl"
)


@pytest.mark.parametrize(
    ("typed", "settings", "send", "negative"),
    [
        # As Civitai copies it: the settings named are the first four of the line.
        (
            CIVITAI,
            ["Negative prompt", "Steps", "Sampler", "CFG scale", "Seed", "<lora:film:0.8>"],
            "masterpiece, a fox in snow, dawn --ar 16:9",
            True,
        ),
        # A slash command's box joined its lines.
        (
            CIVITAI.replace("\n", " "),
            ["Negative prompt", "Steps", "Sampler", "CFG scale", "Seed", "<lora:film:0.8>"],
            "masterpiece, a fox in snow, dawn --ar 16:9",
            True,
        ),
        (
            "a fox\nSteps: 20, Seed: 5, Size: 1000x400",
            ["Steps", "Seed", "Size"],
            "a fox --ar 5:2",
            False,
        ),  # near no common shape
        ("<lora:a:1>, a fox, <lyco:b:0.5>", ["<lora:a:1>", "<lyco:b:0.5>"], "a fox", False),
        ("Steps: 20, Sampler: Euler, Size: 512x512", ["Steps", "Sampler", "Size"], "", False),
    ],
)
def test_generation_data_is_named_and_the_prompt_is_what_to_send(
    typed: str, settings: list[str], send: str, negative: bool
) -> None:
    assert other_models.generation_data(typed) == other_models.Pasted(settings, send, negative)


@pytest.mark.parametrize(
    "typed",
    [
        "a recipe poster. Steps: 1, preheat the oven",  # steps, but no sampler, CFG scale or seed
        "a fox <3 a hen",
        "a sign that says Seed: 42",
    ],
)
def test_a_prompt_that_only_looks_like_it_is_not_generation_data(typed: str) -> None:
    assert other_models.generation_data(typed) is None


def test_a_pasted_size_with_a_side_of_zero_is_a_shape_no_model_makes() -> None:
    """Stable Diffusion's "Size: 00x832" was log(0): a ValueError instead of the answer."""
    assert other_models.shape_of(0, 832) == "1:832"
    assert other_models.shape_of(1216, 0) == "1216:1"
    assert other_models.shape_of(832, 1216) == "2:3"
