"""Slack in the user's language: their locale from users.info (include_locale, asked once and
remembered), every reply in it, English for a locale seedbot doesn't speak. Prompts are never
translated."""

from __future__ import annotations

from tests.emulators.slack import CHANNEL_ID, DM_CHANNEL_ID, USER_ID, SlackEmulator
from tests.slack.conftest import StartBot, controls, wait_results


async def test_a_japanese_user_gets_japanese_replies(emu: SlackEmulator, start_bot: StartBot) -> None:
    emu.users[USER_ID]["locale"] = "ja-JP"
    bot = await start_bot()
    prompt = "一只在雪地里的红狐狸, golden hour"
    mention = emu.mention_event(f"{prompt} --n 2")
    assert await emu.post_event(bot.url, mention) == 200
    await wait_results(emu, 2, bot)
    [placeholder] = emu.calls("chat.postMessage", thread_ts=mention["ts"])[:1]
    assert placeholder.params["text"] == "開始しています…"
    [complete] = emu.calls("files.completeUploadExternal")
    comment = complete.params["initial_comment"]
    assert comment.startswith(f"{prompt}\nSeedream 5.0 lite · ")  # the prompt as typed
    assert "今日の残り：18枚。" in comment
    assert "デモモード" in comment
    [result] = controls(emu, CHANNEL_ID)
    labels = {e["text"]["text"] for b in result["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert {"再生成", "バリエーション", "編集", "情報", "削除"} <= labels

    # Asked once: the next request reads the remembered locale.
    await emu.post_event(bot.url, emu.message_event("usage", channel=DM_CHANNEL_ID, channel_type="im"))
    await emu.wait_for(lambda: any("今日の残り：20枚中 18枚" in str(e) for e in emu.ephemerals))
    [info] = emu.calls("users.info")
    assert info.params["user"] == USER_ID and str(info.params["include_locale"]).lower() in ("1", "true")


async def test_the_home_tab_speaks_the_users_language(emu: SlackEmulator, start_bot: StartBot) -> None:
    emu.users[USER_ID]["locale"] = "zh-CN"
    bot = await start_bot(SEEDBOT_DAILY_IMAGES="5")
    event = emu.home_opened_event()
    assert await emu.post_event(bot.url, event) == 200
    [publish] = await emu.wait_for_call("views.publish")
    texts = str(publish.params["view"])
    assert "今日剩余：5 / 5" in texts
    assert "新建图片" in texts


async def test_an_unsupported_locale_is_answered_in_english(emu: SlackEmulator, start_bot: StartBot) -> None:
    emu.users[USER_ID]["locale"] = "ko-KR"
    bot = await start_bot()
    mention = emu.mention_event("a lighthouse")
    await emu.post_event(bot.url, mention)
    await wait_results(emu, 1, bot)
    [placeholder] = emu.calls("chat.postMessage", thread_ts=mention["ts"])[:1]
    assert placeholder.params["text"] == "Starting…"


async def test_a_failed_look_up_of_the_users_language_is_not_remembered(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    """users.info failing for a moment (a 500, a 429 past the retries) was remembered for an hour
    like a person Slack won't describe: English, and mentions without their name, all that time."""
    emu.users[USER_ID]["locale"] = "ja-JP"
    bot = await start_bot()
    dm = emu.message_event("usage", channel=DM_CHANNEL_ID, channel_type="im")
    emu.fail_next("users.info", "internal_error", status=500, retry_after=None)
    await emu.post_event(bot.url, dm)
    await emu.wait_for(lambda: any("of 20" in str(e) for e in emu.ephemerals))  # English this once
    emu.fail_next("users.info", "ratelimited", status=429, retry_after=0, times=4)
    await emu.post_event(bot.url, emu.message_event("usage", channel=DM_CHANNEL_ID, channel_type="im"))
    await emu.wait_for(lambda: sum("of 20" in str(e) for e in emu.ephemerals) == 2)

    await emu.post_event(bot.url, emu.message_event("usage", channel=DM_CHANNEL_ID, channel_type="im"))
    await emu.wait_for(lambda: any("今日の残り：20枚中" in str(e) for e in emu.ephemerals))
    assert [c.status for c in emu.calls("users.info")] == [500, 429, 429, 429, 429, 200]


async def test_a_person_slack_wont_describe_is_asked_once(emu: SlackEmulator, start_bot: StartBot) -> None:
    emu.users[USER_ID]["locale"] = "ja-JP"
    bot = await start_bot()
    emu.fail_next("users.info", "user_not_found", status=200)
    for n in (1, 2):
        await emu.post_event(bot.url, emu.message_event("usage", channel=DM_CHANNEL_ID, channel_type="im"))
        await emu.wait_for(lambda n=n: sum("of 20" in str(e) for e in emu.ephemerals) == n)  # English
    assert len(emu.calls("users.info")) == 1  # remembered: Slack's answer won't change
