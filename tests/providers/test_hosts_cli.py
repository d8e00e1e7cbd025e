"""The new hosts from the outside: `seedbot generate --provider ark|fal|replicate` in a real
subprocess with the hosts' own environment names, SEEDBOT_PROVIDERS, and `doctor`'s key checks."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from PIL import Image

from bot import messages
from bot.app.checkup import Checkup
from bot.app.config_check import ignored_settings
from bot.app.doctor import check_providers
from bot.config import Settings
from tests.botproc import SETTING_PREFIXES
from tests.cli_process import run_cli_async
from tests.emulators.providers import ProviderEmulator

ENV_NAMES = {
    "ark": ("ARK_API_KEY", "ARK_BASE_URL"),
    "fal": ("FAL_KEY", "FAL_BASE_URL"),
    "replicate": ("REPLICATE_API_TOKEN", "REPLICATE_BASE_URL"),
}


async def generate(emu: ProviderEmulator, cwd: Path, provider: str, *args: str) -> tuple[int, str, str]:
    key_env, url_env = ENV_NAMES[provider]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    environ.update(
        {
            key_env: emu.state(provider).api_key,
            url_env: emu.base_url(provider),
            "SEEDBOT_ALLOW_PRIVATE_NETWORK": "1",
            "SEEDBOT_POLL_INTERVAL": "0.05",
            "SEEDBOT_PROVIDER_RETRIES": "0",
            "SEEDBOT_DATABASE": str(cwd / "seedbot.db"),
        }
    )
    proc = await run_cli_async(
        cwd, ["generate", *args, "--provider", provider, "--out", str(cwd / "out")], environ
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("provider", list(ENV_NAMES))
async def test_generate_on_each_new_host(emu: ProviderEmulator, tmp_path: Path, provider: str) -> None:
    code, out, err = await generate(emu, tmp_path, provider, "a red fox in the snow", "--count", "2")
    assert code == 0, err
    paths = [Path(line) for line in out.splitlines() if line.strip()]
    assert len(paths) == 2
    for path in paths:
        with Image.open(path) as img:
            img.load()
    assert emu.state(provider).submissions == 1
    assert emu.state(provider).api_key not in out + err


async def test_a_watermark_a_host_cant_add_is_said_on_stderr(emu: ProviderEmulator, tmp_path: Path) -> None:
    """`--watermark` on a host that has no such field wrote unmarked images without a word."""
    code, out, err = await generate(emu, tmp_path, "fal", "a red fox", "--watermark")
    assert code == 0, err
    assert len(out.splitlines()) == 1
    assert messages.no_watermark("fal") in err
    code, _, err = await generate(emu, tmp_path, "ark", "a red fox", "--watermark")
    assert code == 0 and messages.no_watermark("ark") not in err


def test_names_in_seedbot_providers() -> None:
    settings = Settings(_env_file=None, providers="replicate, ark,FAL", fal_api_key="k", ark_api_key="k")  # type: ignore[call-arg]
    assert settings.providers == ["replicate", "ark", "fal"]
    assert settings.provider_names == ["ark", "fal"]  # replicate has no key
    assert settings.provider_key_env("fal") == "FAL_KEY"
    assert settings.provider_key_env("replicate") == "REPLICATE_API_TOKEN"
    assert settings.provider_key_env("ark") == "ARK_API_KEY"


def test_environment_names(monkeypatch) -> None:
    for name in ("FAL_KEY", "REPLICATE_API_TOKEN", "ARK_API_KEY", "ARK_MODEL_45"):
        monkeypatch.setenv(name, f"value-of-{name}")
    monkeypatch.setenv("ARK_BASE_URL", "https://value-of-ark-base-url.example")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.provider_key("fal").get_secret_value() == "value-of-FAL_KEY"  # type: ignore[union-attr]
    assert settings.provider_key("replicate").get_secret_value() == "value-of-REPLICATE_API_TOKEN"  # type: ignore[union-attr]
    assert settings.ark_model_45 == "value-of-ARK_MODEL_45"
    assert settings.ark_model_50_lite == "seedream-5-0-260128"
    assert settings.provider_base_url("ark") == "https://value-of-ark-base-url.example"
    assert settings.provider_base_url("fal") == "https://queue.fal.run"
    assert settings.provider_base_url("replicate") == "https://api.replicate.com"
    assert settings.provider_names[-3:] == ["ark", "fal", "replicate"]
    assert "value-of-FAL_KEY" in settings.secrets()


async def test_doctor_checks_the_replicate_key(emu: ProviderEmulator, capsys) -> None:
    settings = Settings(
        _env_file=None, **emu.settings_kwargs("ark", "fal", "replicate"), allow_private_network=True
    )  # type: ignore[call-arg]
    doctor = Checkup(settings.secrets())
    async with httpx.AsyncClient(timeout=5) as http:
        await check_providers(settings, doctor, http)
    out = capsys.readouterr().out
    assert "providers (routing order): ark, fal, replicate" in out
    assert "  ark: key set, no free check available" in out
    assert "  fal: key set, no free check available" in out
    assert "  replicate: ok: key accepted (account seedbot-test, user)" in out
    assert doctor.problems == 0
    assert emu.replicate.requests[-1].path == "/v1/account"
    assert emu.ark.requests == [] and emu.fal.requests == []  # no paid call, no call at all


async def test_doctor_reports_a_refused_replicate_key(emu: ProviderEmulator, capsys) -> None:
    kwargs = emu.settings_kwargs("replicate")
    kwargs["replicate_api_key"] = "r8_refused_token_123"
    settings = Settings(_env_file=None, **kwargs, providers="replicate,fal")  # type: ignore[call-arg]
    doctor = Checkup(settings.secrets())
    async with httpx.AsyncClient(timeout=5) as http:
        await check_providers(settings, doctor, http)
    out = capsys.readouterr().out
    assert "! replicate: REPLICATE_API_TOKEN was refused" in out
    assert doctor.problems == 1
    # A listed provider without a key is one of the settings that change nothing (run warns too).
    assert ignored_settings(settings, {}, environ={}) == [
        "fal is listed in SEEDBOT_PROVIDERS but FAL_KEY is not set"
    ]
    assert "r8_refused_token_123" not in out


async def test_doctor_unreachable_replicate(capsys) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, replicate_api_key="r8_x", replicate_base_url="http://127.0.0.1:9"
    )
    doctor = Checkup(settings.secrets())
    async with httpx.AsyncClient(timeout=5) as http:
        await check_providers(settings, doctor, http)
    out = capsys.readouterr().out
    assert "could not reach http://127.0.0.1:9 to check REPLICATE_API_TOKEN" in out
    assert doctor.unverified == 1 and doctor.problems == 0
