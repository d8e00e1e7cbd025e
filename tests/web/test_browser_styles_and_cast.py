"""Style presets and the saved cast in the playground, in a real browser: the Style select and
the Cast field of the form, "Save to cast" under a result's image, the Cast dialog's thumbnails."""

from __future__ import annotations

from playwright.sync_api import Dialog, Page, expect

from bot.request.styles import BUILTIN_STYLES
from tests.web.test_browser import ask, browser, page, site

__all__ = ["browser", "page", "site"]  # the module's fixtures, shared with test_browser


def test_save_a_result_to_the_cast_then_use_it_with_a_style(page: Page) -> None:
    thread = ask(page, "a brass lamp on a desk --n 2")
    result = thread.locator(".entry.result")
    expect(result.locator(".gallery img")).to_have_count(2)

    def name_it(dialog: Dialog) -> None:
        dialog.accept("lamp")

    page.once("dialog", name_it)
    result.locator("button.save-cast[data-n='2']").click()
    expect(page.locator("#toast")).to_contain_text("Saved as 'lamp' in your cast")

    page.click("#show-cast")
    card = page.locator("#cast-gallery .card[data-name=lamp]")
    expect(card).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=card.locator("img").element_handle()
    )
    page.locator("#cast .close").click()

    page.select_option("#style", "watercolor")
    page.fill("#ref", "lamp")
    boat = ask(page, "a small boat")
    expect(boat.locator(".entry.ask .chips")).to_contain_text("style watercolor")
    made = boat.locator(".entry.result")
    expect(made.locator(".caption")).to_contain_text('image 1 = cast "lamp"')
    made.get_by_role("button", name="Info").click()
    info = boat.locator(".entry.note").last
    expect(info).to_contain_text("Style: watercolor")
    expect(info).to_contain_text(f"Prompt: a small boat, {BUILTIN_STYLES['watercolor'].suffix}")
    expect(info).to_contain_text('image 1: cast "lamp"')

    page.click("#show-cast")
    card.get_by_role("button", name="Remove").click()
    expect(page.locator("#cast-gallery")).to_contain_text("Nothing saved yet.")
