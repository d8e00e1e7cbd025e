"""A real browser for the playground's tests: Debian's chromium, driven by Playwright for Python.

Never `playwright install`: no browser is downloaded. Chromium comes from Debian
(`apt-get install -y chromium`, which .ci/run does when it is missing); without it the browser
tests fail, they do not skip.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: Playwright) -> Browser:
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
    )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def png_bytes(width: int = 320, height: int = 240, color: tuple[int, int, int] = (210, 60, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()
