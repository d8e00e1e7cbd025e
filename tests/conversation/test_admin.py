"""Admin actions typed as words (bot/conversation/admin.py `Admin.words`): the grammar every
text surface shares, the same admin check as the typed commands, refusals as the answer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot import i18n, messages
from bot.conversation.admin import Admin
from bot.conversation.conversation import Surface
from bot.conversation.surface import Reply
from bot.errors import InvalidRequest
from bot.request.models import Job, Requester
from bot.request.workspace import SETTING_KEYS
from tests.engine.helpers import TestProvider, open_engine, settings

ADMIN = Requester(platform="slack", user_id="T1:U1", workspace_id="T1", channel_id="C1")
MEMBER = Requester(platform="slack", user_id="T1:U2", workspace_id="T1", channel_id="C1")


def person(word: str) -> str:
    return f"slack:T1:{word.lstrip('@')}"


async def test_admin_words_act_once_checked_and_refuse_with_their_text(tmp_path: Path) -> None:
    config = settings(tmp_path, admins="slack:T1:U1", daily_images=5)
    h = await open_engine(config, TestProvider(config))
    try:
        admin = h.conversation.admin
        granted = await admin.words(ADMIN, ["quota", "grant", "@U2", "3"], person, "/imagine")
        assert (await h.ledger.quota(MEMBER.key)).day_limit == 8, granted
        await admin.words(ADMIN, ["quota", "set", "@U2", "daily=2", "monthly=40"], person, "/imagine")
        assert (await h.ledger.quota(MEMBER.key)).month_limit == 40 + 3  # and today's grant
        # "me" is the admin typing it (no mention needed: the playground has no one to mention).
        mine = await admin.words(ADMIN, ["quota", "grant", "me", "2"], person, "/imagine")
        assert (await h.ledger.quota(ADMIN.key, unlimited=False)).day_limit == 7, mine
        bad = await admin.words(ADMIN, ["quota", "set", "@U2", "weekly=3"], person, "/imagine")
        assert bad == messages.bad_setting_value("quota set", "weekly=3", "daily=N and/or monthly=N")
        # The slash commands' and the CLI's words work typed too: `settings set KEY VALUE`, `show`.
        said = await admin.words(ADMIN, ["settings", "set", "pool", "50"], person, "/imagine")
        assert "pool" in said and (await h.ledger.workspace_settings("slack:T1")).get("pool") == 50, said
        shown = await admin.words(ADMIN, ["settings"], person, "/imagine")
        assert await admin.words(ADMIN, ["settings", "show"], person, "/imagine") == shown
        # A setting's name alone shows it; it cleared the setting (`admin settings channels`
        # opened every channel), though only 'none' is said to clear.
        one = await admin.words(ADMIN, ["settings", "Pool"], person, "/imagine")
        assert one == messages.settings_show("slack:T1", [("pool", "50")]), one
        assert (await h.ledger.workspace_settings("slack:T1")).get("pool") == 50
        bogus = await admin.words(ADMIN, ["settings", "colour"], person, "/imagine")
        assert bogus == messages.bad_setting("colour", list(SETTING_KEYS))
        assert "buttons" in messages.admin_help("/imagine", list(SETTING_KEYS))  # the list had lost it
        assert await admin.words(ADMIN, ["what"], person, "/imagine") == messages.admin_help(
            "/imagine", list(SETTING_KEYS)
        )
        # Someone who is not an admin gets the refusal, for the help too, and changes nothing.
        for words in (["quota", "grant", "@U2", "9"], ["help"]):
            assert await admin.words(MEMBER, words, person, "/imagine") == messages.NOT_ADMIN

        # Nor are they told what is wrong with the name they typed (that is for admins).
        def nobody(word: str) -> str:
            raise InvalidRequest(messages.bad_setting_value("user", word, messages.HINT_MENTION))

        assert await admin.words(MEMBER, ["quota", "show", "ann"], nobody, "/imagine") == messages.NOT_ADMIN
        assert (await h.ledger.quota(MEMBER.key)).month_limit == 40 + 3
    finally:
        await h.close()


async def test_numbers_int_cannot_read_are_refused_and_wide_digits_count(tmp_path: Path) -> None:
    """² passes str.isdigit() but not int(): it was a ValueError out of the conversation. A
    full-width ３ (a Japanese or Chinese keyboard's) is a 3."""
    config = settings(tmp_path, admins="slack:T1:U1", daily_images=5)
    h = await open_engine(config, TestProvider(config))
    try:
        admin = h.conversation.admin
        assert await admin.words(ADMIN, ["quota", "grant", "@U2", "²"], person, "/imagine") == (
            messages.admin_help("/imagine", list(SETTING_KEYS))
        )
        bad = await admin.words(ADMIN, ["quota", "set", "@U2", "daily=①"], person, "/imagine")
        assert bad == messages.bad_setting_value("quota set", "daily=①", "daily=N and/or monthly=N")
        assert (await h.ledger.quota(MEMBER.key)).day_limit == 5
        await admin.words(ADMIN, ["quota", "grant", "@U2", "３"], person, "/imagine")
        assert (await h.ledger.quota(MEMBER.key)).day_limit == 8
    finally:
        await h.close()


async def test_style_words_are_cleaned_like_a_prompt(tmp_path: Path, database: str) -> None:
    """A NUL in style words was stored as typed; PostgreSQL's text refuses it, so there the
    command failed. Control and zero-width characters are dropped, as from a prompt."""
    config = settings(tmp_path, admins="slack:T1:U1", database=database)
    h = await open_engine(config, TestProvider(config))
    try:
        said = await h.conversation.admin.style_put(ADMIN, "inky", "ink\x00 and\u200b wash\x1b", change=False)
        assert said == messages.style_changed("slack:T1", "inky", "added")
        assert [s.suffix for s in await h.ledger.styles("slack:T1")] == ["ink and wash"]
        with pytest.raises(InvalidRequest) as empty:
            await h.conversation.admin.style_put(ADMIN, "void", "\x00\u200b", change=False)
        assert empty.value.user_text == messages.STYLE_NEEDS_SUFFIX
    finally:
        await h.close()


async def test_a_malformed_name_in_an_admin_command_says_nothing_of_charges(tmp_path: Path) -> None:
    """It ended "You were not charged." (the words a refused request ends with)."""
    config = settings(tmp_path, admins="slack:T1:U1")
    h = await open_engine(config, TestProvider(config))
    try:
        said = await h.conversation.admin.words(ADMIN, ["style", "remove", "../x"], person, "/imagine")
        assert said == messages.name_hint("style", "../x") and messages.NOT_CHARGED not in said
        # A request refused for the name still says it cost nothing.
        assert messages.with_charge_note(said).endswith(messages.NOT_CHARGED)
    finally:
        await h.close()


async def test_channels_are_read_by_the_surface_and_a_name_it_cannot_read_changes_nothing(
    tmp_path: Path,
) -> None:
    config = settings(tmp_path, admins="slack:T1:U1")
    h = await open_engine(config, TestProvider(config))

    def channel(who: Requester, word: str) -> str:
        if not word.startswith("<#"):
            raise InvalidRequest(messages.bad_setting_value("channels", word, messages.HINT_CHANNEL_LINK))
        return word[2:-1]

    async def resumed(job: Job) -> Reply:
        raise AssertionError("nothing resumes here")

    try:
        conversation = h.conversation
        conversation.attach(Surface("slack", resumed=resumed, help=str, channel=channel))
        admin = conversation.admin
        said = await admin.words(ADMIN, ["settings", "channels", "<#C1>,", "<#C2>"], person, "/imagine")
        assert (await h.ledger.workspace_settings("slack:T1"))["channels"] == ["C1", "C2"], said
        bad = await admin.words(ADMIN, ["settings", "channels", "<#C1>", "art"], person, "/imagine")
        assert bad == messages.bad_setting_value("channels", "art", messages.HINT_CHANNEL_LINK)
        assert (await h.ledger.workspace_settings("slack:T1"))["channels"] == ["C1", "C2"]
        # Clearing is not a channel: every surface takes it.
        await admin.words(ADMIN, ["settings", "channels", "none"], person, "/imagine")
        assert "channels" not in await h.ledger.workspace_settings("slack:T1")
        # `here` is where it was typed (where a slash command's text can't link a channel); in a
        # thread, the thread's channel.
        in_thread = dataclasses.replace(ADMIN, channel_id="T-thread", parent_channel_id="C7")
        changed = await admin.words(in_thread, ["settings", "channels", "here", "<#C2>"], person, "/imagine")
        assert (await h.ledger.workspace_settings("slack:T1"))["channels"] == ["C7", "C2"]
        # In a DM (Slack's side panel too) `here` is no channel of the workspace: stored, it
        # locked every channel out.
        direct = dataclasses.replace(ADMIN, channel_id="D9", direct=True)
        refused = await admin.words(direct, ["settings", "channels", "here"], person, "/imagine")
        assert refused == messages.bad_setting_value("channels", "here", messages.HINT_HERE_DIRECT)
        assert (await h.ledger.workspace_settings("slack:T1"))["channels"] == ["C7", "C2"]
        # Shown as the surface writes a channel (a link here); ids where there are no links.
        assert "channels is now #C7, #C2 for slack:T1" in changed
        conversation.attach(
            Surface("slack", resumed=resumed, help=str, channel=channel, channel_link=lambda c: f"<#{c}>")
        )
        assert "channels: <#C7>, <#C2>" in await admin.words(ADMIN, ["settings"], person, "/imagine")
        # A state is said in the admin's language; what they would type stays as typed.
        await admin.words(ADMIN, ["settings", "channels", "none"], person, "/imagine")
        with i18n.use("de"):
            shown = await admin.words(ADMIN, ["settings"], person, "/imagine")
        assert "channels: überall" in shown and "pool: kein Limit" in shown and "buttons: anyone" in shown
    finally:
        await h.close()


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("admin", True),
        ("admin stats", True),
        ("admin quota show @ann", True),
        ("admin stat", True),  # an area mistyped: the admin help
        ("admin dashboard UI mockup, dark theme", False),
        ("administrator at a desk", False),
    ],
)
def test_a_prompt_that_starts_with_admin_is_a_prompt(text: str, command: bool) -> None:
    assert Admin.said(text.split()) is command
