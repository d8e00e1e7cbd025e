"""Community features end to end through the Slack emulator (the bot as a process):
`/imagine history` and `@seedbot history` with permalinks, the Info button, `/imagine usage`
with weights, `/imagine admin ...` for SEEDBOT_ADMINS (audited) and refused for everyone else,
channel allow-lists and the workspace pool."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot import messages
from bot.ledger import SQLiteLedger
from bot.request.workspace import SETTING_KEYS
from tests.emulators.slack import CHANNEL_ID, TEAM_ID, USER_ID, SlackEmulator
from tests.slack.conftest import BotProcess, StartBot, button_values, controls, wait_results

ADMIN = f"slack:{TEAM_ID}:{USER_ID}"
BOB = "U2"


async def answer(emu: SlackEmulator, bot: BotProcess, text: str, **kw: Any) -> str:
    """`/imagine <text>`, answered privately through response_url; its text."""
    resp = await emu.post_slash_command(bot.url, "/imagine", text, **kw)
    assert resp == 200
    await emu.wait_for(lambda: emu.responses_to(resp.response_url))
    [reply] = emu.responses_to(resp.response_url)
    assert reply["response_type"] == "ephemeral"
    return str(reply["text"])


async def ledger_of(tmp_path: Path) -> SQLiteLedger:
    ledger = SQLiteLedger(str(tmp_path / "seedbot.db"), daily_limit=20, monthly_limit=300)
    await ledger.open()
    return ledger


async def test_history_info_and_weighted_usage(emu: SlackEmulator, start_bot: StartBot) -> None:
    emu.add_user(BOB, "bob")
    bot = await start_bot(SEEDBOT_RESOLUTION_WEIGHTS="4K=2", SEEDBOT_DAILY_IMAGES="5")
    assert await answer(emu, bot, "history") == messages.NO_HISTORY
    mention = emu.mention_event("a copper kettle --model 4.5 --res 4K")
    await emu.post_event(bot.url, mention)
    await wait_results(emu, 1, bot)
    [buttons] = controls(emu)
    values = button_values(buttons)
    job_id = values["seedbot.info"]
    assert values["seedbot.reroll"] == job_id
    comment = emu.calls("files.completeUploadExternal")[0].params["initial_comment"]
    assert "Images left today: 3." in comment and messages.charged_line(2) in comment

    text = await answer(emu, bot, "history")
    assert text.startswith("Your last jobs, newest first:\n1. ")
    assert "a copper kettle" in text and "succeeded" in text and "1 image" in text
    assert f"{emu.base_url}/archives/{CHANNEL_ID}/p" in text
    assert emu.calls("chat.getPermalink")

    # @seedbot history answers the same, privately in the thread.
    ask = emu.mention_event("history")
    await emu.post_event(bot.url, ask)
    [note] = await emu.wait_for(lambda: [e for e in emu.ephemerals if e.get("thread_ts") == ask["ts"]])
    assert note["user"] == USER_ID and "newest first" in note["text"]

    resp = await emu.post_block_action(bot.url, "seedbot.info", job_id, buttons["ts"], user=BOB)
    assert resp == 200
    [info] = await emu.wait_for(lambda: [e for e in emu.ephemerals if f"Job {job_id}" in e["text"]])
    assert info["user"] == BOB
    assert "Images charged: 2" in info["text"] and "Made from: a new prompt" in info["text"]
    assert "Provider: demo" in info["text"] and "References: none" in info["text"]

    usage = await answer(emu, bot, "usage")
    assert "Images left today: 3 of 5" in usage and "a 4K image counts as 2" in usage


async def test_admin_commands_refused_for_non_admins(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    emu.add_user(BOB, "bob")
    bot = await start_bot()  # nobody in SEEDBOT_ADMINS
    for words in ("admin quota grant <@U2> 5", "admin settings pool 1", "admin stats", "admin"):
        assert await answer(emu, bot, words) == messages.NOT_ADMIN
    mention = emu.mention_event("admin quota block <@U2>")
    await emu.post_event(bot.url, mention)
    [note] = await emu.wait_for(lambda: [e for e in emu.ephemerals if e.get("thread_ts") == mention["ts"]])
    assert note["text"] == messages.NOT_ADMIN
    ledger = await ledger_of(tmp_path)
    try:
        assert await ledger.audit_entries() == []
        assert not (await ledger.quota(f"slack:{TEAM_ID}:{BOB}")).blocked
    finally:
        await ledger.close()


async def test_admin_quota_commands_are_audited(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    emu.add_user(BOB, "bob")
    bot = await start_bot(SEEDBOT_ADMINS=ADMIN, SEEDBOT_DAILY_IMAGES="2")
    target = f"slack:{TEAM_ID}:{BOB}"
    assert await answer(emu, bot, "admin") == messages.admin_help(
        "/imagine admin", list(SETTING_KEYS)
    )  # forms that work
    shown = await answer(emu, bot, "admin quota show <@U2|bob>")
    assert shown.startswith(target) and "Images left today: 2 of 2" in shown
    assert "Limits set: daily=1 monthly=300" in await answer(emu, bot, "admin quota set <@U2> daily=1")
    assert "Granted 2 extra images today" in await answer(emu, bot, "admin quota grant <@U2> 2")
    assert "Usage reset" in await answer(emu, bot, "admin quota reset <@U2>")
    assert "Blocked" in await answer(emu, bot, "admin quota block <@U2>")
    blocked = await answer(emu, bot, "a fox", user=BOB)
    assert blocked == messages.BLOCKED
    assert "Block lifted" in await answer(emu, bot, "admin quota unblock <@U2>")
    bad = await answer(emu, bot, "admin quota set <@U2> daily=lots")
    assert bad.startswith("'daily=lots' doesn't work for quota set")

    ledger = await ledger_of(tmp_path)
    try:
        entries = [(e.actor, e.action, e.target) for e in reversed(await ledger.audit_entries())]
        assert entries == [
            (ADMIN, "quota.set", target),
            (ADMIN, "quota.grant", target),
            (ADMIN, "quota.reset", target),
            (ADMIN, "quota.block", target),
            (ADMIN, "quota.unblock", target),
        ]
        status = await ledger.quota(target)
        assert (status.day_limit, status.granted, status.blocked) == (3, 2, False)
    finally:
        await ledger.close()


async def test_settings_channels_pool_and_stats(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    emu.add_channel("C2", "art")
    emu.add_user(BOB, "bob")
    bot = await start_bot(SEEDBOT_ADMINS=ADMIN, SEEDBOT_DAILY_IMAGES="5")
    workspace = f"slack:{TEAM_ID}"
    # A name as /imagine's text carries it (no link): refused, not stored to lock everyone out.
    refused = await answer(emu, bot, "admin settings channels #art")
    assert refused == messages.bad_setting_value("channels", "#art", messages.HINT_CHANNEL_LINK)
    here = await answer(emu, bot, "admin settings channels here", channel="C2")  # typed in #art
    assert "<#C2>" in here  # a link, which Slack shows as #art (it was escaped to text)
    changed = await answer(emu, bot, "admin settings channels <#C2|art>")
    assert changed == messages.setting_changed(workspace, "channels", "<#C2>")
    await answer(emu, bot, "admin settings pool 2")
    shown = await answer(emu, bot, "admin settings")
    assert "pool: 2" in shown and "channels: <#C2>" in shown

    # Outside the allowed channels: refused privately, nothing posted, nothing charged.
    refused = await answer(emu, bot, "a fox", user=BOB)
    assert refused == messages.CHANNEL_NOT_ALLOWED
    mention = emu.mention_event("a fox", user=BOB)
    await emu.post_event(bot.url, mention)
    await emu.wait_for(lambda: [e for e in emu.ephemerals if e["text"] == messages.CHANNEL_NOT_ALLOWED])
    assert not emu.calls("chat.postMessage") and not emu.uploaded_files()

    # In #art the workspace pool (2 a day) runs out before Bob's own limit (5).
    first = emu.mention_event("two owls --n 2", channel="C2", user=BOB)
    await emu.post_event(bot.url, first)
    await wait_results(emu, 2, bot)
    second = emu.mention_event("one more owl", channel="C2", user=BOB)
    await emu.post_event(bot.url, second)
    [note] = await emu.wait_for(lambda: [e for e in emu.ephemerals if e.get("thread_ts") == second["ts"]])
    assert note["text"].startswith("This workspace's shared pool for today (2 images) is used up")
    assert len(emu.uploaded_files()) == 2

    stats = await answer(emu, bot, "admin stats")
    assert stats.startswith(f"Stats for {workspace}:")
    assert "Today: 1 job, 2 images" in stats and f"slack:{TEAM_ID}:{BOB}: 1 job, 2 images" in stats

    ledger = await ledger_of(tmp_path)
    try:
        usage = await ledger.quota(f"slack:{TEAM_ID}:{BOB}")
        assert usage.day_used == 2
        actions = [(e.action, e.detail) for e in reversed(await ledger.audit_entries())]
        assert actions == [
            ("settings.set", "channels=#C2"),
            ("settings.set", "channels=#C2"),
            ("settings.set", "pool=2"),
        ]
    finally:
        await ledger.close()
    await asyncio.sleep(0)


async def test_a_dm_with_the_bot_is_not_held_to_the_channel_list(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    """The workspace's channels govern its channels; a DM with seedbot (and the side panel, a
    DM too) is answered as on Discord, where a DM has no server."""
    emu.add_channel("C2", "art")
    bot = await start_bot(SEEDBOT_ADMINS=ADMIN)
    await answer(emu, bot, "admin settings channels <#C2|art>")
    await emu.post_event(bot.url, emu.dm_event("a fox in the snow"))
    await wait_results(emu, 1, bot)
    assert not [e for e in emu.ephemerals if e["text"] == messages.CHANNEL_NOT_ALLOWED]
