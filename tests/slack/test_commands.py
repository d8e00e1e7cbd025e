"""/imagine, its usage/help forms, and quota refusals."""

from __future__ import annotations

import time

from tests.emulators.slack import BOT_USER_ID, CHANNEL_ID, USER_ID, SlackEmulator
from tests.slack.conftest import StartBot, controls, wait_results


async def test_slash_command_posts_a_root_message_and_works_in_its_thread(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    started = time.monotonic()
    resp = await emu.post_slash_command(bot.url, "/imagine", "a lighthouse in fog --ar 16:9 --n 2")
    assert resp == 200 and resp.text == ""  # a silent ack, well inside 3 s
    assert time.monotonic() - started < 3.0

    uploads = await wait_results(emu, 2, bot)
    [root] = [m for m in emu.messages_in(CHANNEL_ID) if "thread_ts" not in m or m["thread_ts"] == m["ts"]]
    assert root["user"] == BOT_USER_ID
    assert root["text"] == f"<@{USER_ID}> asked for: a lighthouse in fog --ar 16:9 --n 2"
    assert [u["thread_ts"] for u in uploads] == [root["ts"]] * 2
    [complete] = emu.calls("files.completeUploadExternal")
    assert "2848x1600" in complete.params["initial_comment"]
    assert controls(emu)[0]["thread_ts"] == root["ts"]

    # The thread under /imagine is the bot's: a plain reply edits its result.
    await emu.post_event(bot.url, emu.message_event("#1 add a ship", thread_ts=root["ts"]))
    uploads = await wait_results(emu, 3, bot)
    assert uploads[2]["thread_ts"] == root["ts"]
    assert not emu.ephemerals


async def test_usage_and_help(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot(SEEDBOT_DAILY_IMAGES="3", SEEDBOT_MONTHLY_IMAGES="50")
    usage = await emu.post_slash_command(bot.url, "/imagine", "usage")
    helped = await emu.post_slash_command(bot.url, "/imagine", "")
    await emu.wait_for(lambda: emu.responses_to(usage.response_url) and emu.responses_to(helped.response_url))
    [answer] = emu.responses_to(usage.response_url)
    assert answer["response_type"] == "ephemeral"
    assert "Images left today: 3 of 3" in answer["text"]
    assert "Images left this month: 50 of 50" in answer["text"]
    [help_answer] = emu.responses_to(helped.response_url)
    assert "/imagine a red fox in snow" in help_answer["text"] and "--ar W:H" in help_answer["text"]
    assert not emu.calls("chat.postMessage")  # nothing public


async def test_quota_exhausted_is_ephemeral_and_free(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot(SEEDBOT_DAILY_IMAGES="1")
    mention = emu.mention_event("two foxes --n 2")
    assert await emu.post_event(bot.url, mention) == 200
    [note] = await emu.wait_for(lambda: emu.ephemerals)
    assert note["user"] == USER_ID and note["thread_ts"] == mention["ts"]
    assert note["text"].startswith(
        "You asked for 2 images, but only 1 is left of your daily limit (1 image). Ask for at most 1, "
    )
    assert "You were not charged." in note["text"]
    # Nothing public was posted, nothing uploaded, and the one image is still there.
    assert not emu.calls("chat.postMessage") and not emu.uploaded_files()
    usage = await emu.post_slash_command(bot.url, "/imagine", "usage")
    await emu.wait_for(lambda: emu.responses_to(usage.response_url))
    assert "Images left today: 1 of 1" in emu.responses_to(usage.response_url)[0]["text"]

    # The slash command is refused the same way, privately, before any root message.
    resp = await emu.post_slash_command(bot.url, "/imagine", "three foxes --n 3")
    await emu.wait_for(lambda: len(emu.ephemerals) >= 3)
    assert resp == 200
    assert not [m for m in emu.messages_in(CHANNEL_ID) if m.get("user") == BOT_USER_ID]


async def test_bad_flag_is_explained_privately(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    resp = await emu.post_slash_command(bot.url, "/imagine", "a cat --n 99")
    await emu.wait_for(lambda: emu.responses_to(resp.response_url))
    [answer] = emu.responses_to(resp.response_url)
    assert answer["text"] == "'99' doesn't work for --n: give a number from 1 to 15. You were not charged."
    assert not emu.calls("chat.postMessage")


async def test_command_where_the_bot_cannot_post_is_explained(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    emu.add_channel("C2", "random", is_member=False)
    bot = await start_bot()
    resp = await emu.post_slash_command(bot.url, "/imagine", "a red kite", channel="C2")
    await emu.wait_for(lambda: emu.responses_to(resp.response_url))
    [answer] = emu.responses_to(resp.response_url)
    assert answer["text"].startswith("I can't post in this conversation. Add me to the channel")
    assert answer["text"].endswith("You were not charged.")
    usage = await emu.post_slash_command(bot.url, "/imagine", "usage")
    await emu.wait_for(lambda: emu.responses_to(usage.response_url))
    assert "Images left today: 20 of 20" in emu.responses_to(usage.response_url)[0]["text"]
