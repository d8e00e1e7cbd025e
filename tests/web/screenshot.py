"""Make docs/playground.png: the playground in a real browser, as the README shows it.

    .venv/bin/python -m tests.web.screenshot [PATH]

Starts `seedbot run` (the playground, offline demo provider) in a scratch directory, asks for a
batch, edits it with an attached image, starts one more request, and takes the picture while
that one is in progress.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright

from tests.web.browser import launch
from tests.web.process import REPO, WebProcess, web_env

OUT = REPO / "docs" / "playground.png"


def moon() -> bytes:
    image = Image.new("RGB", (480, 360), (24, 30, 64))
    ImageDraw.Draw(image).ellipse((300, 60, 420, 180), fill=(245, 240, 200))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def main(out: Path = OUT) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(scratch)
        bot = WebProcess(web_env(where / "seedbot.db", SEEDBOT_DEMO_LATENCY="4"), where).start()
        try:
            url = bot.ready()
            with sync_playwright() as playwright:
                browser = launch(playwright)
                page = browser.new_page(viewport={"width": 1280, "height": 1640}, device_scale_factor=1)
                page.set_default_timeout(30_000)
                page.goto(url)
                page.fill("#prompt", "a red fox in fresh snow, golden hour --ar 3:2 --n 2")
                page.press("#prompt", "Enter")
                fox = page.locator(".thread").first
                expect(fox.locator(".entry.result img")).to_have_count(2)
                reply = fox.locator("form.reply")
                reply.locator("input[type=file]").set_input_files(
                    files=[{"name": "moon.png", "mimeType": "image/png", "buffer": moon()}]
                )
                reply.locator("textarea").fill("#1 make it night, with this moon")
                reply.locator("textarea").press("Enter")
                expect(fox.locator(".entry.result")).to_have_count(2)
                page.select_option("select[name=aspect]", "16:9")
                page.fill("#prompt", "a lighthouse on a cliff, storm clouds --n 4")
                page.press("#prompt", "Enter")
                bar = page.locator(".thread").last.locator(".entry.status progress[value]")
                expect(bar).to_have_count(1)
                time.sleep(1.6)  # let the bar fill a little
                page.wait_for_function(
                    "() => [...document.images].every(img => img.complete && img.naturalWidth > 0)"
                )
                page.evaluate("window.scrollTo(0, 0)")
                time.sleep(0.3)
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                browser.close()
        finally:
            bot.stop()
    print(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
