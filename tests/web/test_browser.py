"""The playground in a real browser, end to end through a real `seedbot run` subprocess.

One process and one browser for the module (the tests share its timeline, so each finds its
thread by its prompt); a fresh page per test. The demo provider takes 2 s per request and one
request at a time runs (SEEDBOT_USER_CONCURRENCY=1), so queue positions and progress show.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from bot import messages
from bot.request.validation import UPLOAD_MAX_BYTES
from tests.web.browser import launch, png_bytes
from tests.web.process import WebProcess, web_env

TIMEOUT = 20_000  # ms: the longest a step may take on a busy 2-core machine
USED_TODAY = re.compile(r"Used today: (\d+)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    where = tmp_path_factory.mktemp("site")
    env = web_env(
        where / "seedbot.db",
        SEEDBOT_DEMO_LATENCY="2",
        SEEDBOT_USER_CONCURRENCY="1",
        SEEDBOT_DAILY_IMAGES="200",
        SEEDBOT_SHUTDOWN_GRACE="2",
    )
    bot = WebProcess(env, where).start()
    try:
        yield bot.ready()
    finally:
        code = bot.stop()
        assert code == 0, bot.log
        assert "Traceback" not in bot.log, bot.log


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, site: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site)
    expect(page.locator("#usage")).to_contain_text("Images left today")
    yield page
    context.close()
    assert errors == []


def ask(page: Page, prompt: str) -> Locator:
    """Type a prompt (with flags) into the box and send it; its thread."""
    page.fill("#prompt", prompt)
    page.press("#prompt", "Enter")
    thread = page.locator(".thread").filter(has=page.locator("h2", has_text=prompt.split(" --")[0]))
    expect(thread).to_have_count(1)
    return thread


def used_today(page: Page, site: str) -> int:
    text = page.request.get(f"{site}/api/usage").json()["text"]
    match = USED_TODAY.search(text)
    assert match, text
    return int(match.group(1))


def test_a_prompt_with_flags_shows_its_queue_position_progress_and_gallery(page: Page) -> None:
    fox = ask(page, "a red fox in snow --ar 3:2 --n 2")
    page.select_option("select[name=model]", "4.5")  # the controls give typed options
    whale = ask(page, "a blue whale")
    queued = whale.locator(".entry.status[data-stage=queued]")
    expect(queued.locator(".status-text")).to_have_text(messages.queued(1))
    expect(queued.get_by_role("button", name=messages.BUTTON_CANCEL)).to_be_visible()

    seen: list[float] = []
    deadline = time.monotonic() + TIMEOUT / 1000
    while not fox.locator(".entry.result").count() and time.monotonic() < deadline:
        bar = fox.locator(".entry.status progress[value]")
        try:
            # The status may give way to the result between counting and reading: look again.
            value = float(bar.first.get_attribute("value", timeout=500) or 0) if bar.count() else None
        except PlaywrightTimeoutError:
            value = None
        if value is not None and (not seen or seen[-1] != value):
            seen.append(value)
        time.sleep(0.05)
    assert len(seen) >= 2 and seen == sorted(seen), seen  # the bar moved forward

    result = fox.locator(".entry.result")
    expect(result.locator(".gallery img")).to_have_count(2)
    page.wait_for_function(
        "nodes => nodes.every(img => img.complete && img.naturalWidth > 0)",
        arg=result.locator(".gallery img").element_handles(),
    )
    expect(result.locator(".caption")).to_contain_text("2496x1664")
    expect(result.locator("a.original").first).to_have_attribute("href", re.compile(r"^/media/results/"))
    expect(whale.locator(".entry.result .caption")).to_contain_text("Seedream 4.5", timeout=TIMEOUT)
    for label in ("Re-roll", "Variations", "Edit", "Delete", "Info"):
        expect(result.get_by_role("button", name=label, exact=True)).to_be_visible()
    expect(page.locator("#usage")).to_contain_text("Used today: 3")

    page.click("#show-history")
    cards = page.locator("#history-gallery .card")
    expect(cards.first).to_contain_text("a blue whale")
    assert cards.count() >= 2


def test_reroll_then_edit_of_the_first_with_an_image_then_delete(page: Page) -> None:
    thread = ask(page, "a lighthouse at dusk")
    results = thread.locator(".entry.result")
    expect(results).to_have_count(1)
    first_job = results.first.get_attribute("data-job")
    results.first.get_by_role("button", name="Re-roll").click()
    expect(results).to_have_count(2)
    assert thread.locator(".entry.ask .pressed").first.text_content() == f"Re-roll · {first_job}"

    # Edit on the first (not the latest) result: the reply box edits it and shows its prompt.
    results.first.get_by_role("button", name="Edit", exact=True).click()
    reply = thread.locator("form.reply")
    expect(reply.locator(".editing .prompt")).to_have_text("a lighthouse at dusk")
    expect(reply.locator("textarea")).to_be_focused()
    reply.locator("input[type=file]").set_input_files(
        files=[{"name": "fox.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    expect(reply.locator(".tray figcaption")).to_have_text("+ fox.png")
    reply.locator("textarea").fill("make it night")
    reply.locator("textarea").press("Enter")
    expect(results).to_have_count(3)
    expect(reply.locator(".editing")).to_be_hidden()
    edit_ask = thread.locator(".entry.ask").last
    expect(edit_ask.locator(".pressed")).to_have_text(f"Edit · {first_job}")
    expect(edit_ask.locator(".refs figcaption")).to_have_text("fox.png")  # checked, then shown
    latest = results.last
    expect(latest.locator(".caption")).to_contain_text("; image 2 = fox.png")
    expect(latest.locator(".caption")).to_contain_text(f"image 1 = result 1 of job {first_job}")

    results.first.get_by_role("button", name="Delete").click()
    expect(results).to_have_count(2)
    expect(thread.locator(".entry.note").last).to_have_text(messages.DELETED)
    assert first_job not in [r.get_attribute("data-job") for r in results.all()]


def test_upscale_a_picked_image_then_cancel_a_queued_request(page: Page, site: str) -> None:
    thread = ask(page, "a harbour at dawn --n 2")
    results = thread.locator(".entry.result")
    expect(results).to_have_count(1)
    first_job = results.first.get_attribute("data-job")
    assert first_job
    results.first.get_by_role("button", name="Upscale #2").click()
    expect(results).to_have_count(2)
    assert thread.locator(".entry.ask .pressed").last.text_content() == f"Upscale #2 · {first_job}"
    expect(results.last.locator(".caption")).to_contain_text(messages.upscale_note(2, first_job))
    before = used_today(page, site)

    ask(page, "a slow tide")  # runs (2 s) ...
    queued = ask(page, "a second tide")  # ... while this one waits in line (one at a time)
    status = queued.locator(".entry.status")
    expect(status).to_contain_text(messages.queued(1))
    status.get_by_role("button", name=messages.BUTTON_CANCEL).click()
    expect(queued.locator(".entry.refusal")).to_have_text(messages.cancelled(True))
    expect(queued.locator(".entry.note")).to_have_text(re.compile(r"^Cancelled job [0-9a-f]+\."))
    expect(queued.locator(".entry.status")).to_have_count(0)
    expect(queued.locator(".entry.result")).to_have_count(0)
    page.wait_for_timeout(2500)  # the running one finishes; the cancelled one never starts
    assert used_today(page, site) == before + 1


def test_a_hostile_prompt_and_file_name_show_as_text(page: Page) -> None:
    prompt = '<script>window.pwned = 1</script> "><img src=x onerror="window.pwned = 2"> \u202egnp.exe'
    name = "<img src=x onerror=alert(1)>.png"
    page.locator("#composer-files").set_input_files(
        files=[{"name": name, "mimeType": "image/png", "buffer": png_bytes()}]
    )
    expect(page.locator("#composer-tray figcaption")).to_have_text(f"image 1 = {name}")
    thread = ask(page, prompt)
    expect(thread.locator(".entry.result")).to_have_count(1)
    assert thread.locator("h2 bdi").text_content() == prompt
    assert thread.locator(".entry.ask .text bdi").text_content() == prompt
    assert thread.locator(".entry.ask .refs figcaption").text_content() == name
    assert page.evaluate("window.pwned") is None
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("script").count() == 1  # playground.js only
    # The override is fenced in: the time after the title reads left to right as usual.
    assert page.evaluate("document.querySelector('.thread h2 bdi').dir") == ""
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.thread h2 bdi')).unicodeBidi") == "isolate"
    )


def test_oversize_and_non_image_uploads_are_refused_and_nothing_is_charged(page: Page, site: str) -> None:
    before = used_today(page, site)
    page.locator("#composer-files").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello, not a picture"}]
    )
    thread = ask(page, "use my notes")
    expect(thread.locator(".entry.refusal")).to_have_text(messages.not_an_image("notes.txt"))

    size = UPLOAD_MAX_BYTES + 1_000_000
    page.locator("#composer-files").set_input_files(  # 41 MB through Playwright's pipe: slow under load
        files=[{"name": "huge.png", "mimeType": "image/png", "buffer": b"\x89PNG" + b"\0" * (size - 4)}],
        timeout=90_000,
    )
    thread = ask(page, "use my huge photo")
    expected = messages.with_charge_note(messages.image_too_large("huge.png", size, UPLOAD_MAX_BYTES))
    expect(thread.locator(".entry.refusal")).to_have_text(expected)
    expect(thread.locator(".entry.result")).to_have_count(0)
    assert used_today(page, site) == before


def test_images_can_be_dropped_and_pasted_into_the_box(page: Page) -> None:
    page.evaluate(
        """async ([bytes]) => {
            const file = (name) => new File([new Uint8Array(bytes)], name, { type: "image/png" });
            const drop = new DataTransfer();
            drop.items.add(file("dropped.png"));
            document.getElementById("composer").dispatchEvent(
                new DragEvent("drop", { dataTransfer: drop, bubbles: true, cancelable: true }));
            const paste = new DataTransfer();
            paste.items.add(file("pasted.png"));
            document.getElementById("prompt").dispatchEvent(
                new ClipboardEvent("paste", { clipboardData: paste, bubbles: true, cancelable: true }));
        }""",
        [list(png_bytes(40, 30))],
    )
    expect(page.locator("#composer-tray figcaption")).to_have_text(
        ["image 1 = dropped.png", "image 2 = pasted.png"]
    )
    page.locator("#composer-tray .remove").first.click()
    expect(page.locator("#composer-tray figcaption")).to_have_text(["image 1 = pasted.png"])


def test_the_screenshot_in_the_readme_exists() -> None:
    shot = Path(__file__).resolve().parents[2] / "docs" / "playground.png"
    assert shot.is_file() and shot.stat().st_size > 10_000
