"""The playground as a first visit finds it: an empty page that offers prompts to start from
(its own site, so the timeline is empty)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from adapters.web_adapter.app import EXAMPLES
from tests.web.test_browser import TIMEOUT, browser, page, site

__all__ = ["browser", "page", "site"]  # the module's fixtures, shared with test_browser


def test_an_example_on_the_empty_page_fills_the_box_to_send(page: Page) -> None:
    examples = page.locator("#empty .example")
    expect(examples).to_have_count(len(EXAMPLES))
    examples.nth(1).click()
    expect(page.locator("#prompt")).to_have_value(EXAMPLES[1])
    expect(page.locator("#prompt")).to_be_focused()
    page.press("#prompt", "Enter")
    sign = page.locator(".thread").filter(has=page.locator("h2", has_text="OPEN LATE"))
    expect(sign.locator(".entry.result img")).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator("#empty")).to_be_hidden()
