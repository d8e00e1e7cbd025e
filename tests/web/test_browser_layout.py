"""How the playground reads: on a phone's width, in a dark system theme, and the bot's answers
with what to type set as code, in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Dialog, Page, expect

from tests.web.test_browser import TIMEOUT, ask, browser, page, site

__all__ = ["browser", "page", "site"]  # the module's fixtures, shared with test_browser

PHONE = {"width": 390, "height": 844}
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_on_a_phones_width_nothing_is_wider_than_the_screen(page: Page) -> None:
    page.set_viewport_size(PHONE)
    assert page.evaluate(SIDEWAYS) == 0  # the header's buttons and Language menu wrap
    nav = page.locator(".top nav").bounding_box()
    usage = page.locator("#usage").bounding_box()
    assert nav is not None and usage is not None
    assert usage["y"] >= nav["y"] + nav["height"]  # the usage goes under them, the whole width
    fox = ask(page, "a fox on a phone --n 2")
    expect(fox.locator(".entry.result img")).to_have_count(2, timeout=TIMEOUT)
    assert page.evaluate(SIDEWAYS) == 0
    # Its "×" is named for what it does, for a screen reader too (it read "times").
    expect(fox.get_by_role("button", name="Hide this thread")).to_be_visible()


def test_a_dark_system_theme_gets_the_dark_page(page: Page) -> None:
    background = "getComputedStyle(document.documentElement).backgroundColor"
    assert page.evaluate(background) == "rgb(246, 247, 249)"
    page.emulate_media(color_scheme="dark")
    assert page.evaluate(background) == "rgb(18, 21, 27)"
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(228, 232, 239)"


def test_what_an_answer_says_to_type_is_set_as_code_a_click_puts_in_the_box(page: Page) -> None:
    thread = ask(page, "<img src=x> a cat --v 6 --s 250")
    refusal = thread.locator(".entry.refusal")
    expect(refusal.locator("code")).to_have_text("<img src=x> a cat", timeout=TIMEOUT)
    expect(refusal).not_to_contain_text("`")
    assert refusal.locator("img").count() == 0  # text, never markup
    # "Send it like this: `…`": a click puts it in the thread's reply box, sent from there.
    refusal.locator("button.say").click()
    box = thread.locator("form.reply textarea")
    expect(box).to_have_value("<img src=x> a cat")
    expect(box).to_be_focused()
    box.press("Enter")
    expect(thread.locator(".entry.result img")).to_have_count(1, timeout=TIMEOUT)

    # The help's example goes in the composer, the help closed.
    page.click("#show-help")
    example = page.locator("#help-text button.say").first
    expect(example).to_have_text("a red fox in snow --ar 3:2 --n 2")
    example.click()
    expect(page.locator("#help")).to_be_hidden()
    expect(page.locator("#prompt")).to_have_value("a red fox in snow --ar 3:2 --n 2")


def test_a_saved_image_is_told_as_a_note_and_a_refusal_in_red(page: Page) -> None:
    result = ask(page, "a kettle --n 1").locator(".entry.result")
    expect(result.locator(".gallery img")).to_have_count(1, timeout=TIMEOUT)
    toast = page.locator("#toast")

    def naming(name: str) -> Callable[[Dialog], None]:
        return lambda dialog: dialog.accept(name)

    page.once("dialog", naming("kettle"))
    result.locator("button.save-cast").click()
    expect(toast).to_contain_text("Saved as 'kettle' in your cast")
    expect(toast).to_have_class(re.compile(r"\bsaid\b"))
    page.once("dialog", naming("a kettle!"))
    result.locator("button.save-cast").click()
    expect(toast).to_contain_text("doesn't work as a cast name")
    expect(toast).to_have_class("toast")
