"""What the playground does for the person at it, in a real browser: drafts kept across the
reload a restarted server asks for, a silent event stream noticed and reopened, the prompt's
limit said before sending, the network's failures in the page's words, what a screen reader is
told, where the keyboard's focus goes, and how the page reads on a phone and in either theme."""

from __future__ import annotations

import re

from playwright.sync_api import Dialog, Page, Route, expect

from bot import i18n, messages
from bot.request.validation import PROMPT_MAX_CHARS
from tests.web.browser import png_bytes
from tests.web.test_browser import TIMEOUT, ask, browser, page, site

__all__ = ["browser", "page", "site"]  # the module's fixtures, shared with test_browser

with i18n.use(i18n.ENGLISH):
    LABELS = messages.web_labels()
PHONE = {"width": 375, "height": 667}


def _label(name: str) -> str:
    value = LABELS[name]
    assert isinstance(value, str)
    return value


def test_a_restarted_servers_reload_keeps_what_was_typed(page: Page) -> None:
    """A 401 (a restart forgot the session) reloaded the page: the prompt, the options picked and
    the reply boxes' text were gone."""
    thread = ask(page, "a tugboat in the harbour")
    result = thread.locator(".entry.result")
    expect(result.get_by_role("button", name="Edit")).to_be_visible()
    result.get_by_role("button", name="Edit").click()  # the reply edits that result, not the latest
    editing = thread.locator("form.reply .editing")
    expect(editing).to_contain_text("a tugboat in the harbour")
    job = thread.locator("form.reply").get_attribute("data-job")
    assert job
    reply = thread.locator("form.reply textarea")
    reply.fill("make it red")
    page.fill("#prompt", "a draft about otters, long and careful")
    page.select_option("select[name=aspect]", "3:2")
    page.fill("input[name=count]", "2")

    def forgotten(route: Route) -> None:
        route.fulfill(status=401, content_type="application/json", body='{"error": "signed out"}')

    page.route("**/api/ask", forgotten)
    with page.expect_event("load"):
        page.press("#prompt", "Enter")
    page.unroute("**/api/ask")
    expect(page.locator("#prompt")).to_have_value("a draft about otters, long and careful")
    expect(page.locator("select[name=aspect]")).to_have_value("3:2")
    expect(page.locator("input[name=count]")).to_have_value("2")
    expect(reply).to_have_value("make it red")
    # Its Edit's result too: restored alone, the text edited the thread's latest result.
    expect(editing).to_contain_text("a tugboat in the harbour")
    expect(thread.locator("form.reply")).to_have_attribute("data-job", job)
    page.reload()  # kept once: a later reload starts empty
    expect(page.locator("#prompt")).to_have_value("")


def test_a_silent_event_stream_is_noticed_said_and_reopened(page: Page) -> None:
    """A half-open connection sends nothing and no error: the page stayed as it was, mid-job,
    with no sign. Offline showed only as a red border."""
    page.clock.install()
    page.reload()
    expect(page.locator("#usage")).to_contain_text("Images left today")
    expect(page.locator("#connection")).to_be_hidden()
    with page.expect_request("**/api/events") as reopened:
        page.clock.fast_forward(40_000)  # no keep-alive for longer than two of them
        expect(page.locator("#connection")).to_be_visible()
        expect(page.locator("#connection")).to_have_attribute("role", "status")
        expect(page.locator("#connection")).to_have_text(re.compile(r"Can't reach seedbot"))
        page.clock.run_for(1_000)
    assert reopened.value.url.endswith("/api/events")
    expect(page.locator("#connection")).to_be_hidden()
    expect(page.locator("body")).not_to_have_class(re.compile(r"\boffline\b"))


def test_a_prompt_over_the_limit_is_counted_and_not_sent(page: Page) -> None:
    """maxlength=10000 cut a long paste silently; the server then refused it (with the cut
    length), and the box was emptied."""
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.url.endswith("/api/ask") else None)
    prompt = page.locator("#prompt")
    count = page.locator("#prompt-count")
    long = "a lighthouse " * 1000  # 13,000 characters
    prompt.fill(long)
    expect(prompt).to_have_value(long)  # nothing cut
    expect(count).to_be_visible()
    expect(count).to_have_text(f"{len(long.strip()):,} / {PROMPT_MAX_CHARS:,}")
    expect(count).to_have_class(re.compile(r"\bover\b"))
    prompt.press("Enter")
    expect(page.locator("#toast")).to_contain_text(_label("too_long").replace("%(n)s", str(PROMPT_MAX_CHARS)))
    expect(prompt).to_have_value(long)
    expect(prompt).to_be_focused()
    assert posts == []
    prompt.fill("a short one")
    expect(count).to_be_hidden()
    # The limit is the prompt's, flags apart (as the server counts it): this one is sent.
    # (stopped on its way: the site is shared with other tests, whose threads it would join)
    page.route("**/api/ask", lambda route: route.abort("connectionrefused"))
    # Flags (a phone's em dash too), and emoji counted one each as the server counts them: all
    # within the limit, each sent; flags first and a long prompt after them: over, held back.
    sendable = (
        "a" * (PROMPT_MAX_CHARS - 5) + " --ar 16:9 --n 2",
        "a" * (PROMPT_MAX_CHARS - 5) + " \u2014ar 16:9",
        "\U0001f98a" * (PROMPT_MAX_CHARS - 900),
    )
    for n, text in enumerate(sendable, start=1):
        prompt.fill(text)
        expect(count).not_to_have_class(re.compile(r"\bover\b"))
        prompt.press("Enter")
        expect(page.locator("#toast")).to_contain_text(_label("unreachable"))
        assert len(posts) == n, text[-20:]
    prompt.fill("a cat --ar 16:9 " + "b" * (PROMPT_MAX_CHARS + 100))
    expect(count).to_have_class(re.compile(r"\bover\b"))
    prompt.press("Enter")
    assert len(posts) == len(sendable)


def test_a_network_error_or_a_proxys_page_is_said_in_the_pages_words(page: Page) -> None:
    """A raw "TypeError: Failed to fetch" (or "502 Bad Gateway") was shown as it came."""
    page.route("**/api/ask", lambda route: route.abort("connectionrefused"))
    page.fill("#prompt", "a quiet pond")
    page.press("#prompt", "Enter")
    toast = page.locator("#toast")
    expect(toast).to_have_text(re.compile(re.escape(_label("unreachable"))))
    expect(page.locator("#prompt")).to_have_value("a quiet pond")
    toast.get_by_role("button", name=_label("close")).click()
    expect(toast).to_be_hidden()
    page.unroute("**/api/ask")
    page.route("**/api/ask", lambda route: route.fulfill(status=502, body="<h1>Bad Gateway</h1>"))
    page.press("#prompt", "Enter")
    expect(toast).to_have_text(re.compile(re.escape(_label("unreachable"))))
    expect(toast).not_to_contain_text("502")


def test_a_refusals_toast_stays_above_the_composer_until_closed(page: Page) -> None:
    """On a phone the toast covered the prompt box, and went after 8 s, read or not."""
    page.set_viewport_size(PHONE)
    page.clock.install()
    page.reload()
    page.route("**/api/ask", lambda route: route.abort("connectionrefused"))
    page.fill("#prompt", "a quiet pond")
    page.press("#prompt", "Enter")
    toast = page.locator("#toast")
    expect(toast).to_be_visible()
    page.clock.fast_forward(20_000)
    expect(toast).to_be_visible()
    box, composer = toast.bounding_box(), page.locator("#composer").bounding_box()
    assert box is not None and composer is not None
    assert box["y"] + box["height"] <= composer["y"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_a_screen_reader_hears_each_stage_once_not_every_step(page: Page) -> None:
    """The timeline was aria-live and each status role=status: every progress step (and its
    Cancel button) was read out."""
    assert page.locator("#timeline").get_attribute("aria-live") is None
    announce = page.locator("#announce")
    expect(announce).to_have_attribute("aria-live", "polite")
    heard: list[str] = []
    page.expose_function("heard", lambda text: heard.append(text))
    page.evaluate(
        """() => new MutationObserver(() => window.heard(document.getElementById("announce").textContent))
            .observe(document.getElementById("announce"), {childList: true, characterData: true, subtree: true})"""
    )
    thread = ask(page, "a lighthouse at dusk")
    expect(thread.locator(".entry.result img")).to_have_count(1, timeout=TIMEOUT)
    ready = _label("announce_ready").replace("%(title)s", "a lighthouse at dusk")
    expect(announce).to_have_text(ready)
    assert page.locator(".entry[role], #timeline [aria-live]").count() == 0
    said = [text for text in heard if text]
    assert said[-1] == ready and len(said) <= 3, said  # generating (queued), ready: no steps
    assert not any(messages.BUTTON_CANCEL in text for text in said)


def test_the_focus_stays_in_the_box_or_goes_to_a_neighbour(page: Page) -> None:
    """Focus fell to the page after Generate pressed with the keyboard, a reply sent, Delete, ×
    on an attached image and Remove in the Cast dialog. Smooth scrolling ignored reduced motion."""
    page.emulate_media(reduced_motion="reduce")
    page.evaluate(
        """() => { window.scrolls = []; const to = window.scrollTo.bind(window);
            window.scrollTo = (o) => { window.scrolls.push(o && o.behavior); to(o); }; }"""
    )
    files = [
        {"name": name, "mimeType": "image/png", "buffer": png_bytes(64, 48)}
        for name in ("fox.png", "hat.png", "sky.png")
    ]
    page.set_input_files("#composer-files", files=files)
    removes = page.locator("#composer-tray .remove")
    removes.nth(1).focus()
    page.keyboard.press("Enter")
    expect(removes).to_have_count(2)
    expect(removes.nth(1)).to_be_focused()  # sky.png's, now second
    page.keyboard.press("Enter")
    expect(removes.nth(0)).to_be_focused()
    page.fill("#prompt", "a fox in a hat")
    page.focus("#send")
    page.keyboard.press("Enter")
    thread = page.locator(".thread").filter(has=page.locator("h2", has_text="a fox in a hat"))
    expect(thread.locator(".entry.result img")).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator("#prompt")).to_be_focused()
    assert page.evaluate("window.scrolls").count("smooth") == 0
    # The reference's thumbnail is named by its file.
    expect(thread.locator(".refs img")).to_have_attribute("alt", "fox.png")

    box = thread.locator("form.reply textarea")
    send = thread.locator("form.reply button[type=submit]")
    expect(send).to_have_text(_label("send"))
    box.fill("now in the rain")
    box.press("Enter")
    expect(thread.locator(".entry.result")).to_have_count(2, timeout=TIMEOUT)
    expect(box).to_be_focused()

    thread.locator(".entry.result").first.get_by_role("button", name="Delete").focus()
    page.keyboard.press("Enter")
    expect(thread.locator(".entry.result")).to_have_count(1, timeout=TIMEOUT)
    expect(box).to_be_focused()

    def name_it(dialog: Dialog) -> None:
        dialog.accept("rainfox")

    page.once("dialog", name_it)
    thread.locator(".entry.result button.save-cast").first.click()
    expect(page.locator("#toast")).to_contain_text("rainfox")
    page.click("#show-cast")
    remove = page.locator("#cast-gallery .card[data-name=rainfox] .remove-cast")
    remove.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#cast-gallery .card[data-name=rainfox]")).to_have_count(0)
    assert page.evaluate("document.activeElement !== document.body")
    assert page.evaluate("document.getElementById('cast').contains(document.activeElement)")


def test_a_first_visit_on_a_phone_stays_at_the_top(page: Page, site: str) -> None:
    """With no threads the page still scrolled to its bottom: a phone showed no header."""
    empty = 'retry: 60000\n\nevent: snapshot\ndata: {"threads": []}\n\n'
    page.route(
        "**/api/events",
        lambda route: route.fulfill(status=200, content_type="text/event-stream", body=empty),
    )
    page.set_viewport_size(PHONE)
    page.goto(site)
    expect(page.locator("#empty")).to_be_visible()
    page.wait_for_timeout(600)  # a smooth scroll's time
    assert page.evaluate("window.scrollY") == 0


def _luminance(rgb: str) -> float:
    values = [int(v) / 255 for v in re.findall(r"\d+", rgb)[:3]]
    linear = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in values]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_fields_placeholders_and_long_chips_read_well_in_both_themes(page: Page) -> None:
    """Dark placeholders were 3.55:1, fields' borders under 3:1; a long file name's chip
    widened the page on a 375 px phone."""
    style = "([sel, prop]) => getComputedStyle(document.querySelector(sel)).getPropertyValue(prop)"
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        card = page.evaluate(style, ["#composer", "background-color"])
        border = page.evaluate(style, ["#prompt", "border-top-color"])
        assert _contrast(border, card) >= 3, (scheme, border, card)
        muted = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--muted')")
        placeholder = page.evaluate(
            "getComputedStyle(document.querySelector('#prompt'), '::placeholder').color"
        )
        assert _contrast(placeholder, card) >= 4.5, (scheme, placeholder, muted)
    page.set_viewport_size(PHONE)
    page.evaluate(
        """() => { const ul = document.createElement("ul"); ul.className = "files";
            const li = document.createElement("li"); li.textContent = "x".repeat(120) + ".png";
            ul.append(li); document.getElementById("timeline").append(ul); }"""
    )
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") == 0


def test_the_reply_boxs_hint_has_two_lines_on_a_phone(page: Page) -> None:
    """One row cut the reply box's placeholder short on a phone (in German, most of it)."""
    page.set_viewport_size(PHONE)
    height = page.evaluate(
        """() => { const form = document.createElement("form"); form.className = "reply";
            const box = document.createElement("textarea"); box.rows = 1; form.append(box);
            document.getElementById("timeline").append(form);
            const line = parseFloat(getComputedStyle(box).lineHeight) || 20;
            return box.getBoundingClientRect().height / line; }"""
    )
    assert height >= 2, height
