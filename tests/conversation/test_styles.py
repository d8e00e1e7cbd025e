"""Style presets on every surface (issue 20), through the real stacks: a style's words and
defaults reach the host (read from what the Novita emulator received); a server's own styles and
the admin commands that change them. The rules themselves: tests/request/test_styles.py."""

from __future__ import annotations

import pytest

from bot import i18n, messages
from bot.request.styles import BUILTIN_STYLES
from tests.conversation.surfaces import SURFACES, Core, Driver, on_novita
from tests.reliability.conftest import Stack
from tests.web.conftest import OpenPlayground


@pytest.fixture(params=SURFACES)
async def surface(
    request: pytest.FixtureRequest, stack: Stack, open_playground: OpenPlayground
) -> tuple[Driver, Core]:
    return await on_novita(request.param, stack, open_playground)


def _prompts(stack: Stack) -> list[str]:
    return [
        r.json["prompt"] for r in stack.providers.state("novita").requests if r.json and "prompt" in r.json
    ]


async def test_a_style_applies_its_words_and_defaults_and_shows_in_info(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    driver, bot = surface
    added = await driver.ask(
        "admin style add noir moody black and white film photograph --ar 3:2 --model 4.5"
    )
    assert "Style 'noir' added" in added.text, added.text
    styled = await driver.ask("a cat on a roof --style noir")
    assert styled.result is not None, styled.text
    job = (await bot.jobs(driver.key(0)))[0]
    sent = "a cat on a roof, moody black and white film photograph"
    assert job.prompt == sent and _prompts(stack)[-1] == sent
    assert job.model == "4.5" and job.request["aspect"] == "3:2" and job.request["style"] == "noir"
    info = await driver.press(styled.result, "info", 0)
    assert "Style: noir" in info.text and f"Prompt: {sent}" in info.text, info.text
    # An explicit flag beats the style's default.
    square = await driver.ask("a dog --style noir --ar 1:1")
    assert square.result is not None, square.text
    assert (await bot.jobs(driver.key(0)))[0].request["aspect"] == "1:1"
    listed = await driver.ask("styles")
    assert f"`noir` (this {driver.place})" in listed.text and "`watercolor` (built-in)" in listed.text, (
        listed.text
    )
    assert (await driver.ask("styles list")).text == listed.text  # it was drawn
    assert (await driver.ask("list styles")).text == listed.text


async def test_a_server_style_hides_the_builtin_and_admins_hide_and_remove(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    driver, bot = surface
    assert "added" in (await driver.ask("admin style add anime flat pastel shading")).text
    wordy = await driver.ask("admin style add wordy " + "soft light " * 100)  # 1100 characters
    assert "at most 1000 characters (these are 1099)" in wordy.text, wordy.text
    # An admin command costs nothing: its refusals say no "You were not charged." (they did).
    assert messages.NOT_CHARGED not in wordy.text
    with i18n.use_place(driver.place):
        assert (await driver.ask("admin style remove nope")).text == messages.style_not_found("nope")
    mine = await driver.ask("a fox --style anime")
    assert mine.result is not None, mine.text
    assert _prompts(stack)[-1] == "a fox, flat pastel shading"
    assert "hidden" in (await driver.ask("style hide watercolor")).text  # "admin" may be left out
    refused = await driver.ask("a lake --style watercolor")
    assert refused.result is None and messages.NOT_CHARGED in refused.text, refused.text
    assert "no style 'watercolor'" in refused.text
    assert "no style 'wordy'" in (await driver.ask("a lake --style wordy")).text  # nothing was saved
    typo = await driver.ask("a lake --style anmie")
    assert "Did you mean 'anime'" in typo.text, typo.text
    assert "removed" in (await driver.ask("admin style remove anime")).text
    builtin = await driver.ask("a fox --style anime")
    assert builtin.result is not None, builtin.text
    assert _prompts(stack)[-1] == f"a fox, {BUILTIN_STYLES['anime'].suffix}"
    assert len(await bot.jobs(driver.key(0))) == 2  # the refusals made no job
    audit = await bot.runtime.ledger.audit_entries(target=driver.workspace)
    assert [(e.action, e.actor) for e in audit][:3] == [
        ("style.remove", driver.key(0)),
        ("style.hide", driver.key(0)),
        ("style.add", driver.key(0)),
    ]


async def test_add_and_hide_over_a_servers_own_style_are_refused_and_keep_it(
    surface: tuple[Driver, Core], stack: Stack
) -> None:
    """`style add` over a style of the server's replaced its words and defaults and said "added";
    `style hide` over the server's own `anime` wrote the hidden marker over it, and a later
    `remove` brought back only the built-in (its own words lost)."""
    driver, bot = surface
    assert "added" in (await driver.ask("admin style add noir moody film --ar 3:2")).text
    assert "added" in (await driver.ask("admin style add anime flat pastel shading")).text
    again = await driver.ask("admin style add noir bright pop art")
    hide = await driver.ask("admin style hide anime")
    listed = (await driver.ask("styles")).text
    assert f'`noir` (this {driver.place}): adds "moody film" · --ar 3:2' in listed, listed
    assert f'`anime` (this {driver.place}): adds "flat pastel shading"' in listed, listed
    with i18n.use_place(driver.place):
        assert again.text == messages.style_exists("noir"), again.text
        assert hide.text == messages.style_hide_own("anime"), hide.text
    # The way the refusal names: remove it (the built-in comes back), then hide that.
    assert "built-in one is offered again" in (await driver.ask("admin style remove anime")).text
    assert "hidden" in (await driver.ask("admin style hide anime")).text
    audit = await bot.runtime.ledger.audit_entries(target=driver.workspace)
    assert [e.action for e in audit] == ["style.hide", "style.remove", "style.add", "style.add"]
