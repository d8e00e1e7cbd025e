"""With SEEDBOT_ALLOW_PRIVATE_NETWORK off, downloads to loopback, private, link-local and
metadata addresses are refused, end to end through the CLI. Only *downloads* are checked: the
provider's own (loopback, here) base URL is configured by the operator and still answers; its
result URL on 127.0.0.1 is then refused and the job refunded."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.app.cli.helpers import seedbot
from tests.emulators.providers import ProviderEmulator
from tests.reliability.corpus_files import png

BLOCKED = [
    "http://127.0.0.1:{port}/files/{token}",  # loopback (a real, serving URL)
    "http://localhost:{port}/files/{token}",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "http://10.0.0.1/a.png",  # private
    "http://192.168.1.1/a.png",
    "http://[::1]:{port}/files/{token}",
]


async def test_private_addresses_are_refused_without_the_allow_flag(tmp_path: Path) -> None:
    async with ProviderEmulator() as emu:
        url = emu.host_file(png())
        port, token = url.split(":")[2].split("/")[0], url.rsplit("/", 1)[1]
        env = {"SEEDBOT_DATABASE": str(tmp_path / "net.db")}
        refused = []
        for pattern in BLOCKED:
            target = pattern.format(port=port, token=token)
            run = await asyncio.to_thread(seedbot, tmp_path, "generate", "x", "--image", target, env=env)
            assert run.returncode != 0, (target, run.stdout, run.stderr)
            assert "Traceback" not in run.stderr
            refused.append((target, run.stderr.strip().splitlines()[-1]))
        assert token not in emu.file_requests  # nothing was ever fetched

        # The provider's base URL (loopback) still works; its loopback result URL is refused.
        # FINDING: a refused result URL is retried like a network fault (each retry is a new,
        # paid generation: 4 submissions with the default 3 retries). Retries are off here so
        # the refusal path itself is what is measured; see docs/reliability.md.
        env.update(
            NOVITA_API_KEY=emu.novita.api_key,
            NOVITA_BASE_URL=emu.base_url("novita"),
            SEEDBOT_PROVIDER_RETRIES="0",
        )
        run = await asyncio.to_thread(seedbot, tmp_path, "generate", "a fox", "--out", str(tmp_path), env=env)
        quota = await asyncio.to_thread(seedbot, tmp_path, "quota", "show", "cli:local", env=env)
    assert emu.novita.submissions == 1
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    assert "refused non-public address for 127.0.0.1" in run.stderr, run.stderr
    assert "You were not charged." in run.stderr, run.stderr
    assert "Images left today: 20 of 20" in quota.stdout, quota.stdout
    for target, line in refused:
        print(f"  refused {target}: {line}")
    print(
        f"\nnetwork safety: {len(refused)} private/loopback/metadata URLs refused, provider loopback result refused, charged 0"
    )
    for _, line in refused:
        assert "that address is not allowed. You were not charged." in line, line
