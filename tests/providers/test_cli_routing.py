"""`seedbot generate` (a real subprocess) choosing providers: a malformed Retry-After fails over
instead of a traceback, --provider names are checked, and the demo notes say only what is true."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.cli.generate import DEMO_RESULT
from bot.config import KNOWN_PROVIDERS
from tests.emulators.providers import ProviderEmulator
from tests.providers.test_cli_providers import assert_images, seedbot

NO_KEY = "no provider key is configured"


async def test_503_with_retry_after_soon_fails_over_to_demo(emu: ProviderEmulator, tmp_path: Path) -> None:
    emu.novita.fail("unavailable", times=2, headers={"Retry-After": "soon"})
    run = await seedbot(
        emu, tmp_path, "novita", "a red fox", SEEDBOT_PROVIDERS="novita,demo", SEEDBOT_PROVIDER_RETRIES="1"
    )
    assert "Traceback" not in run.stderr
    assert_images(run, 1)
    assert emu.novita.submissions == 2  # tried, retried once, then demo
    assert run.stderr.count(DEMO_RESULT) == 1
    assert NO_KEY not in run.stderr  # Novita has a key: demo was the fallback, not the default


async def test_forced_demo_with_a_novita_key_says_nothing_about_keys(
    emu: ProviderEmulator, tmp_path: Path
) -> None:
    run = await seedbot(emu, tmp_path, "novita", "x", "--provider", "demo")
    assert_images(run, 1)
    assert emu.novita.submissions == 0
    assert NO_KEY not in run.stderr
    assert run.stderr.count(DEMO_RESULT) == 1


async def test_no_key_at_all_is_said_once(emu: ProviderEmulator, tmp_path: Path) -> None:
    run = await seedbot(emu, tmp_path, "novita", "x", NOVITA_API_KEY="", SEEDBOT_PROVIDERS="")
    assert_images(run, 1)
    assert run.stderr.count(NO_KEY) == 1, run.stderr


async def test_unknown_provider_lists_the_known_ones(emu: ProviderEmulator, tmp_path: Path) -> None:
    run = await seedbot(emu, tmp_path, "novita", "x", "--provider", "bogus")
    assert run.code == 1
    lines = [line for line in run.stderr.splitlines() if line.startswith("seedbot:")]
    assert len(lines) == 1, run.stderr
    assert "choose from " + ", ".join(KNOWN_PROVIDERS) in lines[0]
    assert "No image provider can take" not in run.stderr
    assert NO_KEY not in run.stderr


@pytest.mark.parametrize(
    ("provider", "key"),
    [("segmind", "SEGMIND_API_KEY"), ("fal", "FAL_KEY"), ("replicate", "REPLICATE_API_TOKEN")],
)
async def test_forced_keyless_provider_names_its_key(
    emu: ProviderEmulator, tmp_path: Path, provider: str, key: str
) -> None:
    """The variable the user has to set, as the host's own docs name it (fal's is not FAL_API_KEY)."""
    run = await seedbot(emu, tmp_path, "novita", "x", "--provider", provider)
    assert run.code == 1
    assert f"set {key})" in run.stderr, run.stderr
    assert emu.novita.submissions == 0 and emu.state(provider).submissions == 0
