"""`seedbot generate` as a user runs it (a real subprocess) against each provider emulator:
text-to-image, edits, batches, and one clear line per failure kind with a non-zero exit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from tests.cli_process import run_cli_async
from tests.emulators.providers import ProviderEmulator
from tests.providers.helpers import PROVIDERS, png


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def paths(self) -> list[Path]:
        return [Path(line) for line in self.stdout.splitlines() if line.strip()]


async def seedbot(emu: ProviderEmulator, cwd: Path, provider: str, *args: str, **env: str) -> Run:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SEEDBOT_", "NOVITA_", "SEGMIND_"))}
    environ.update(
        {
            f"{provider.upper()}_API_KEY": emu.state(provider).api_key,
            f"{provider.upper()}_BASE_URL": emu.base_url(provider),
            "SEEDBOT_PROVIDERS": provider,
            "SEEDBOT_ALLOW_PRIVATE_NETWORK": "1",
            "SEEDBOT_POLL_INTERVAL": "0.05",
            "SEEDBOT_PROVIDER_RETRIES": "0",
            "SEEDBOT_DATABASE": str(cwd / "seedbot.db"),
        }
    )
    environ.update(env)
    proc = await run_cli_async(cwd, ["generate", *args, "--out", str(cwd / "out")], environ)
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
async def emu() -> ProviderEmulator:  # type: ignore[misc]
    async with ProviderEmulator() as emulator:
        yield emulator


def assert_images(run: Run, count: int) -> None:
    assert run.code == 0, run.stderr
    assert len(run.paths) == count
    for path in run.paths:
        with Image.open(path) as img:
            img.load()
            assert img.width > 0


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_text_to_image_on_each_provider(emu: ProviderEmulator, tmp_path: Path, provider: str) -> None:
    run = await seedbot(emu, tmp_path, provider, "a red fox in the snow")
    assert_images(run, 1)
    assert emu.state(provider).submissions == 1
    # The key travelled in the provider's own header, and never to stdout/stderr.
    assert emu.state(provider).api_key not in run.stdout + run.stderr


@pytest.mark.parametrize("provider", ["novita", "modellix"])
async def test_batch(emu: ProviderEmulator, tmp_path: Path, provider: str) -> None:
    run = await seedbot(emu, tmp_path, provider, "four seasons of one tree", "--count", "3")
    assert_images(run, 3)


async def test_edit_with_a_local_file_sends_its_bytes(emu: ProviderEmulator, tmp_path: Path) -> None:
    ref = png(40, 30, (1, 2, 3))
    (tmp_path / "ref.png").write_bytes(ref)
    run = await seedbot(emu, tmp_path, "novita", "make it blue", "--image", "ref.png")
    assert_images(run, 1)
    assert emu.novita.received_images == [ref]


@pytest.mark.parametrize("provider", ["apiframe", "modellix"])
async def test_edit_with_a_url_is_passed_as_that_url(
    emu: ProviderEmulator, tmp_path: Path, provider: str
) -> None:
    url = emu.host_file(png(40, 30, (9, 9, 9)))
    run = await seedbot(emu, tmp_path, provider, "make it blue", "--image", url)
    assert_images(run, 1)
    assert emu.state(provider).received_urls == [url]


async def test_segmind_is_not_sent_references(emu: ProviderEmulator, tmp_path: Path) -> None:
    (tmp_path / "ref.png").write_bytes(png())
    run = await seedbot(emu, tmp_path, "segmind", "edit this", "--image", "ref.png")
    assert run.code != 0
    assert "No image provider can take this request" in run.stderr
    assert emu.segmind.submissions == 0


FAILURES = [
    ("auth", "credentials"),
    ("no_credits", "out of credits"),
    ("rate_limited", "rate limited"),
    ("moderation", "content policy"),
    ("bad_request", "could not take this request"),
    ("unavailable", "unavailable"),
]


@pytest.mark.parametrize(("fault", "words"), FAILURES)
async def test_each_failure_kind_is_one_clear_line(
    emu: ProviderEmulator, tmp_path: Path, fault: str, words: str
) -> None:
    emu.novita.fail(fault, times=5, retry_after=0)
    run = await seedbot(emu, tmp_path, "novita", "a red fox")
    assert run.code == 1
    lines = [line for line in run.stderr.splitlines() if line.startswith("seedbot:")]
    assert len(lines) == 1, run.stderr
    assert words in lines[0]
    assert "not charged" in lines[0]
    assert "Traceback" not in run.stderr
    assert emu.novita.api_key not in run.stderr


async def test_timeout_is_reported(emu: ProviderEmulator, tmp_path: Path) -> None:
    emu.novita.fail("delay", seconds=5)
    run = await seedbot(emu, tmp_path, "novita", "a red fox", SEEDBOT_PROVIDER_DEADLINE="1")
    assert run.code == 1
    assert "took too long" in run.stderr


async def test_failures_refund_the_quota(emu: ProviderEmulator, tmp_path: Path) -> None:
    emu.novita.fail("unavailable", times=5)
    assert (await seedbot(emu, tmp_path, "novita", "a red fox", "--count", "2")).code == 1
    shown = await run_cli_async(
        tmp_path,
        ["quota", "show", "cli:local"],
        {**os.environ, "SEEDBOT_DATABASE": str(tmp_path / "seedbot.db")},
    )
    assert "Images left today: 20 of 20" in shown.stdout
