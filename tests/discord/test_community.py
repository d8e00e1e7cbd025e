"""Community features end to end through the Discord emulator: /history, the Info button,
/usage with weights, /seedbot quota | settings | stats for admins (Manage Server or
SEEDBOT_ADMINS) with an audit row per change, refusals for everyone else, channel allow-lists
and the server pool."""

from __future__ import annotations

from typing import Any

from bot import i18n, messages
from bot.request.workspace import SETTING_KEYS
from tests.discord.conftest import StartBot, components, details, job_id_of, notes, text, wait_result
from tests.emulators.discord import (
    GUILD_ID,
    HUMAN_USER_ID,
    PERMISSIONS,
    TEXT_CHANNEL_ID,
    DiscordEmulator,
)

EPHEMERAL = 64


def manager(emu: DiscordEmulator) -> int:
    """The human's permissions plus Manage Server."""
    return emu.permissions_for(HUMAN_USER_ID, TEXT_CHANNEL_ID) | PERMISSIONS["manage_guild"]


async def private(emu: DiscordEmulator, name: str, options: dict[str, Any] | None = None, **kw: Any) -> str:
    """Run a command answered at once, privately; its text."""
    inter = await emu.send_slash_command(name, options or {}, **kw)
    assert await inter.wait_ack() == 4
    assert inter.original is not None and inter.original["flags"] & EPHEMERAL
    return text(inter.original)


async def imagine(emu: DiscordEmulator, prompt: str, **kw: Any) -> dict[str, Any]:
    before = {m["id"] for m in emu.messages.values()}
    inter = await emu.send_slash_command("imagine", {"prompt": prompt}, **kw)
    await inter.wait_ack()
    return await wait_result(emu, exclude=set(), after=max(before, key=int) if before else None)


async def test_history_and_info_button(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    assert await private(emu, "history") == messages.NO_HISTORY
    first = await imagine(emu, "a lantern in fog")
    parent = await bot.wait_job(job_id_of(first))
    press = await emu.send_component(f"seedbot:reroll:{parent.id}", message_id=first["id"])
    await press.wait_ack()
    again = await wait_result(emu, exclude={parent.id})
    reroll = await bot.wait_job(job_id_of(again))

    said = await private(emu, "history")
    lines = said.splitlines()
    assert lines[0] == "Your last jobs, newest first:"
    assert lines[1].startswith("1. ") and "a lantern in fog" in lines[1] and "succeeded" in lines[1]
    jump = f"https://discord.com/channels/{GUILD_ID}/{first['channel_id']}/{first['id']}"
    assert lines[2].endswith(jump) and "Seedream" in lines[2] and "1 image" in lines[2]
    assert again["id"] in lines[1]

    info = await emu.send_component(f"seedbot:info:{reroll.id}", message_id=again["id"])
    assert await info.wait_ack() == 4
    assert info.original is not None and info.original["flags"] & EPHEMERAL
    body = text(info.original)
    assert f"Job {reroll.id} (reroll, succeeded)" in body
    assert f"Made from: job {parent.id}" in body and "Prompt: a lantern in fog" in body
    assert "Provider: demo" in body and "Images charged: 1" in body and "References: none" in body
    # The Info button is on every result.
    labels = [c.get("label") for c in components(again)]
    assert messages.BUTTON_INFO in labels


async def test_usage_states_weighted_amounts(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot(resolution_weights="4K=2", daily_images=5)
    result = await imagine(emu, "a peak --model 4.5 --res 4K")
    await bot.wait_job(job_id_of(result))
    assert (await bot.usage()).day_used == 2
    said = await private(emu, "usage")
    assert "Images left today: 3 of 5" in said and "a 4K image counts as 2" in said
    assert details(result)[messages.LABEL_LEFT_TODAY] == "3"
    assert messages.charged_line(2) in notes(result)


async def test_non_admins_are_refused_and_nothing_changes(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    bob = emu.add_user("bob")
    for name, options in (
        ("seedbot quota set", {"user": bob["id"], "daily": 100}),
        ("seedbot quota grant", {"user": HUMAN_USER_ID, "images": 5}),
        ("seedbot settings set", {"setting": "pool", "value": "1"}),
        ("seedbot stats", {}),
    ):
        assert await private(emu, name, options) == messages.NOT_ADMIN
    assert await bot.runtime.ledger.audit_entries() == []
    assert (await bot.usage()).day_limit == 20


async def test_manage_server_admin_quota_commands_are_audited(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot(daily_images=2)
    bob = emu.add_user("bob")
    target = f"discord:{bob['id']}"
    perms = manager(emu)
    shown = await private(emu, "seedbot quota show", {"user": bob["id"]}, permissions=perms)
    assert shown.startswith(target) and "Images left today: 2 of 2" in shown
    said = await private(emu, "seedbot quota set", {"user": bob["id"], "daily": 1}, permissions=perms)
    assert said == messages.quota_changed(target, "Limits set: daily=1 monthly=300")

    result = await imagine(emu, "one owl", user_id=bob["id"])
    await bot.wait_job(job_id_of(result))
    await private(emu, "seedbot quota block", {"user": bob["id"]}, permissions=perms)
    refused = await emu.send_slash_command("imagine", {"prompt": "x"}, user_id=bob["id"])
    await refused.wait_ack()
    [answer] = await refused.wait_followups(1)
    assert text(answer) == messages.BLOCKED
    await private(emu, "seedbot quota unblock", {"user": bob["id"]}, permissions=perms)

    entries = await bot.runtime.ledger.audit_entries()
    actor = f"discord:{HUMAN_USER_ID}"
    assert [(e.actor, e.action, e.target) for e in reversed(entries)] == [
        (actor, "quota.set", target),
        (actor, "quota.block", target),
        (actor, "quota.unblock", target),
    ]


async def test_a_server_admin_gives_no_one_more_than_the_bots_limits(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """A quota counts on every server: anyone who made a server and added seedbot gave
    themselves a million images a day of the operator's."""
    bot = await start_bot(daily_images=2)
    perms = manager(emu)
    refusal = messages.only_operators_give(2, 300)
    me = {"user": HUMAN_USER_ID}
    for command, options in (
        ("seedbot quota set", {**me, "daily": 1_000_000}),
        ("seedbot quota set", {**me, "monthly": 301}),
        ("seedbot quota grant", {**me, "images": 5}),
        ("seedbot quota reset", me),
    ):
        assert await private(emu, command, options, permissions=perms) == refusal, command
    assert (await bot.usage(HUMAN_USER_ID)).day_limit == 2
    assert await bot.runtime.ledger.audit_entries() == []


async def test_a_server_admin_lifts_no_block_an_operator_set(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    """Quotas count on every server: someone an operator blocked made a server of their own,
    added seedbot and unblocked themselves. There they may tighten what an operator set."""
    bot = await start_bot(daily_images=4)
    me, target = {"user": HUMAN_USER_ID}, f"discord:{HUMAN_USER_ID}"
    await bot.runtime.conversation.community.quota_block("cli:local", target, True, by_operator=True)
    perms = manager(emu)
    with i18n.use_place("server"):
        refusal = messages.operator_limits_stand()
    assert await private(emu, "seedbot quota unblock", me, permissions=perms) == refusal
    assert (await bot.usage(HUMAN_USER_ID)).blocked
    said = await private(emu, "seedbot quota set", {**me, "daily": 2}, permissions=perms)
    assert said == messages.quota_changed(target, "Limits set: daily=2 monthly=300")
    assert await private(emu, "seedbot quota set", {**me, "daily": 3}, permissions=perms) == refusal
    await bot.runtime.conversation.community.quota_block("cli:local", target, False, by_operator=True)
    assert not (await bot.usage(HUMAN_USER_ID)).blocked
    assert await private(emu, "seedbot quota set", {**me, "daily": 3}, permissions=perms) == refusal
    actions = [(e.actor, e.action) for e in reversed(await bot.runtime.ledger.audit_entries())]
    assert actions == [("cli:local", "quota.block"), (target, "quota.set"), ("cli:local", "quota.unblock")]


async def test_settings_channels_pool_and_stats(emu: DiscordEmulator, start_bot: StartBot) -> None:
    art = emu.add_text_channel("art")
    bob = emu.add_user("bob")
    # SEEDBOT_ADMINS need no Manage Server.
    bot = await start_bot(admins=[f"discord:{HUMAN_USER_ID}"], daily_images=5)
    ledger = bot.runtime.ledger

    said = await private(emu, "seedbot settings set", {"setting": "channels", "value": f"<#{art['id']}>"})
    assert said == messages.setting_changed(f"discord:{GUILD_ID}", "channels", f"<#{art['id']}>")
    await private(emu, "seedbot settings set", {"setting": "pool", "value": "2"})
    await private(emu, "seedbot settings set", {"setting": "max_batch", "value": "2"})
    shown = await private(emu, "seedbot settings show")
    assert f"channels: <#{art['id']}>" in shown and "pool: 2" in shown and "max_batch: 2" in shown
    bad = await private(emu, "seedbot settings set", {"setting": "pool", "value": "lots"})
    assert bad == messages.bad_setting_value("pool", "lots", "a whole number, or none")
    # A name typed without picking it from Discord's list: refused, not stored to lock everyone out.
    bad = await private(emu, "seedbot settings set", {"setting": "channels", "value": f"<#{art['id']}> art"})
    assert bad == messages.bad_setting_value("channels", "art", messages.HINT_CHANNEL_LINK)

    # Outside the allowed channels: refused politely, privately, nothing charged, nothing posted.
    inter = await emu.send_slash_command("imagine", {"prompt": "a fox"}, user_id=bob["id"])
    assert await inter.wait_ack() == 5
    [answer] = await inter.wait_followups(1)
    assert text(answer) == messages.CHANNEL_NOT_ALLOWED and answer["flags"] & EPHEMERAL
    assert (await bot.usage(bob["id"])).day_used == 0 and await bot.jobs(bob["id"]) == []

    # In the allowed channel, the pool (2 a day) runs out before Bob's own limit (5).
    first = await imagine(emu, "two foxes --n 2", channel_id=art["id"], user_id=bob["id"])
    await bot.wait_job(job_id_of(first))
    inter = await emu.send_slash_command(
        "imagine", {"prompt": "one more"}, channel_id=art["id"], user_id=bob["id"]
    )
    await inter.wait_ack()
    [answer] = await inter.wait_followups(1)
    assert text(answer).startswith("This server's shared pool for today (2 images) is used up")
    assert (await bot.usage(bob["id"])).day_used == 2
    usage = await private(emu, "usage", user_id=bob["id"], channel_id=art["id"])
    assert "Images left today: 3 of 5" in usage and "Shared images left here today: 0 of 2" in usage

    stats = await private(emu, "seedbot stats")
    assert stats.startswith(f"Stats for discord:{GUILD_ID}:")
    assert "Today: 1 job, 2 images" in stats and f"discord:{bob['id']}: 1 job, 2 images" in stats
    assert "demo: 1 job, 2 images" in stats

    actions = [(e.action, e.target, e.detail) for e in reversed(await ledger.audit_entries())]
    assert actions == [
        ("settings.set", f"discord:{GUILD_ID}", f"channels=#{art['id']}"),
        ("settings.set", f"discord:{GUILD_ID}", "pool=2"),
        ("settings.set", f"discord:{GUILD_ID}", "max_batch=2"),
    ]


async def test_server_admins_manage_only_their_members(emu: DiscordEmulator, start_bot: StartBot) -> None:
    stranger = emu.add_user("stranger", member=False)  # uses seedbot in other servers only
    operator = emu.add_user("operator")
    bot = await start_bot(admins=f"discord:{operator['id']}")
    perms = manager(emu)
    for name, options in (
        ("seedbot quota show", {"user": stranger["id"]}),
        ("seedbot quota block", {"user": stranger["id"]}),
        ("seedbot quota set", {"user": stranger["id"], "daily": 0}),
    ):
        answer = await private(emu, name, options, permissions=perms)
        assert answer.startswith("You can change the quota of members of this server only"), answer
    assert await bot.runtime.ledger.audit_entries() == []
    assert not (await bot.usage(stranger["id"])).blocked

    # The bot's operators (SEEDBOT_ADMINS) manage anyone.
    said = await private(emu, "seedbot quota block", {"user": stranger["id"]}, user_id=operator["id"])
    assert said == messages.quota_changed(f"discord:{stranger['id']}", "Blocked")
    assert (await bot.usage(stranger["id"])).blocked


async def test_an_operator_types_admin_words_in_a_mention(emu: DiscordEmulator, start_bot: StartBot) -> None:
    """The same `admin ...` words as on Slack, with Discord's own mentions; a message does not
    say whether its author manages the server, so only SEEDBOT_ADMINS may."""
    bob = emu.add_user("bob")
    bot = await start_bot(admins=f"discord:{HUMAN_USER_ID}")

    async def typed(words: str, **kw: Any) -> str:
        sent = await emu.send_message(f"{emu.bot_mention} {words}", mentions=[emu.bot_user_id], **kw)
        return text(await emu.wait_for_message(after=sent["id"]))

    blocked = await typed(f"admin quota block <@{bob['id']}>")
    assert blocked == messages.quota_changed(f"discord:{bob['id']}", "Blocked")
    assert (await bot.usage(bob["id"])).blocked
    assert await typed("admin quota show nobody") == messages.bad_setting_value(
        "user", "nobody", messages.HINT_MENTION
    )
    assert await typed("admin") == messages.admin_help(
        f"@{emu.users[emu.bot_user_id]['username']} admin", list(SETTING_KEYS)
    )
    assert await typed("admin stats", author_id=bob["id"]) == messages.NOT_ADMIN
    assert await bot.jobs() == []  # none of it became a prompt
