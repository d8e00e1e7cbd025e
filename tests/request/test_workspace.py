"""A workspace's rules as values (bot/request/workspace.py): settings parsed like flags, their
defaults, cost tiers and the weights setting."""

from __future__ import annotations

import pytest

from bot.config import MAX_LIMIT, Settings
from bot.errors import InvalidRequest
from bot.request.models import GenerationRequest
from bot.request.validation import validate
from bot.request.workspace import WorkspacePolicy, parse_setting, tier_of


def fox(**kw: object) -> GenerationRequest:
    kw.setdefault("prompt", "a red fox in the snow")
    return GenerationRequest(**kw)  # type: ignore[arg-type]


def test_weights_setting_parses_and_rejects() -> None:
    config = Settings(_env_file=None, resolution_weights="2K=1, 3k=1,4K=2")  # type: ignore[call-arg]
    assert config.resolution_weights == {"2K": 1, "3K": 1, "4K": 2}
    assert (config.weight("4k"), config.weight("2K")) == (2, 1)
    assert Settings(_env_file=None).resolution_weights == {}  # type: ignore[call-arg]
    for bad in ("4K", "4K=0", "8K=2", "4K=two"):
        with pytest.raises(ValueError):
            Settings(_env_file=None, resolution_weights=bad)  # type: ignore[call-arg]


def test_explicit_sizes_are_charged_as_the_nearest_tier() -> None:
    assert tier_of(validate(fox(model="4.5", resolution="4K"))) == "4K"
    assert tier_of(validate(fox(model="4.5", width=4096, height=4096))) == "4K"
    assert tier_of(validate(fox(width=2048, height=2048))) == "2K"


def test_settings_values_are_parsed_like_flags() -> None:
    assert parse_setting("model", "4.5") == "4.5"
    assert parse_setting("resolution", "3k") == "3K"
    assert parse_setting("resolution", "2560x1440") == "2560x1440"
    assert parse_setting("resolution", "4096x4096") == "4096x4096"  # 4.5's, past 5.0 lite's range
    # A size no model makes would refuse every request of the server: refused when it is set.
    for size, said in [("2048x1536",) * 2, ("99999x99999",) * 2, ("16000x800",) * 2, ("000x000", "0x0")]:
        with pytest.raises(InvalidRequest) as refused:  # 000x000 was a ZeroDivisionError
            parse_setting("resolution", size)
        text = refused.value.user_text
        assert f"{said} is " in text and "Seedream 4.5 makes images of" in text
    assert parse_setting("watermark", "on") is True
    assert parse_setting("format", "jpg") == "jpeg"
    assert parse_setting("channels", "<#C1> <#C2|general>, 123") == ["C1", "C2", "123"]
    assert parse_setting("pool", "50") == 50
    assert parse_setting("pool", "none") is None
    assert parse_setting("max_batch", "４") == 4  # a full-width digit is a digit
    bad = (("max_batch", "16"), ("max_batch", "²"), ("format", "gif"), ("pool", "-1"), ("colour", "red"))
    for key, value in bad:
        with pytest.raises(InvalidRequest):
            parse_setting(key, value)
    # A pool past what a day could use is a typo; past SQLite's integers it broke every request.
    assert parse_setting("pool", str(MAX_LIMIT)) == MAX_LIMIT
    with pytest.raises(InvalidRequest) as refused:
        parse_setting("pool", "1" + "0" * 22)
    assert f"for pool: a number from 0 to {MAX_LIMIT}" in refused.value.user_text
    policy = WorkspacePolicy(model="4.5", resolution="2048x1536", watermark=True, format="png")
    assert policy.defaults() == {
        "model": "4.5",
        "width": 2048,
        "height": 1536,
        "watermark": True,
        "output_format": "png",
    }
