"""The Agents & AI Apps side panel (SLACK_ASSISTANT=on), end to end: a thread opens with a
greeting and suggested prompts, a prompt runs with "seedbot is generating…" under the thread
(cleared once the images are in it), a reply in the thread edits the latest result, a refusal is
said in the thread; with the setting off the panel's events are not the app's."""

from __future__ import annotations

from adapters.slack_adapter.text import escape
from bot import messages
from tests.emulators.slack import DM_CHANNEL_ID, USER_ID, SlackEmulator
from tests.slack.conftest import StartBot, results, wait_results


async def _opened(emu: SlackEmulator, url: str) -> tuple[str, str]:
    """A side-panel thread opened, as Slack announces it: its DM and thread_ts."""
    started = emu.start_assistant_thread()
    assert await emu.post_event(url, started) == 200
    return started["assistant_thread"]["channel_id"], started["assistant_thread"]["thread_ts"]


def _bot_texts(emu: SlackEmulator, channel: str, thread_ts: str) -> list[str]:
    return [m.get("text", "") for m in emu.thread(channel, thread_ts) if m.get("bot_id")]


async def test_a_panel_thread_starts_with_prompts_and_a_reply_edits_the_latest_result(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot(SLACK_ASSISTANT="on")
    started = emu.start_assistant_thread()
    dm, ts = started["assistant_thread"]["channel_id"], started["assistant_thread"]["thread_ts"]
    assert dm == DM_CHANNEL_ID
    assert await emu.post_event(bot.url, started) == 200

    # A greeting in the thread, and Seedream prompts to start from (Slack shows up to four).
    await emu.wait_for_call("assistant.threads.setSuggestedPrompts")
    thread = emu.assistant_threads[(dm, ts)]
    assert thread["prompts"] == [{"title": t, "message": m} for t, m in messages.SUGGESTED_PROMPTS]
    assert 1 <= len(thread["prompts"]) <= 4
    assert thread["prompts_title"] == messages.SUGGESTED_PROMPTS_TITLE
    await emu.wait_for(lambda: _bot_texts(emu, dm, ts))
    assert _bot_texts(emu, dm, ts) == [escape(messages.ASSISTANT_GREETING)]

    # Moving to another channel with the panel open changes nothing seedbot keeps: acknowledged,
    # no Web API call (bolt's default would read and rewrite the thread's first message).
    changed = emu.assistant_context_changed_event(dm, ts, "C2")
    assert await emu.post_event(bot.url, changed) == 200

    # The person picks the first prompt: it arrives as message.im in the thread.
    prompt = messages.SUGGESTED_PROMPTS[0][1]
    assert await emu.post_event(bot.url, emu.assistant_message_event(dm, ts, prompt)) == 200
    [upload] = await wait_results(emu, 1, bot)
    assert (upload["channel"], upload["thread_ts"]) == (dm, ts)
    # "seedbot is generating…" while it ran, cleared once the images were there; no placeholder.
    assert thread["statuses"] == [messages.ASSISTANT_STATUS, ""]
    assert thread["status"] == ""
    [set_status, clear] = emu.calls("assistant.threads.setStatus")
    [complete] = emu.calls("files.completeUploadExternal")
    assert set_status.at <= complete.at <= clear.at
    assert not [
        c for c in emu.calls("chat.postMessage", channel=dm) if c.params.get("text") == messages.STARTING
    ]
    assert (
        thread["title"]
        == "a red fox in fresh snow at golden hour, soft backlight, shallow depth of field --ar 3:2"
    )

    # A reply in the thread edits the latest result, exactly as in a channel thread.
    await emu.post_event(bot.url, emu.assistant_message_event(dm, ts, "make it night, aurora in the sky"))
    second = (await wait_results(emu, 2, bot))[1]
    assert (second["channel"], second["thread_ts"]) == (dm, ts)
    [_, edit] = emu.calls("files.completeUploadExternal")
    assert edit.params["initial_comment"].startswith("make it night, aurora in the sky\n")
    assert "image 1 = result 1 of job" in edit.params["initial_comment"]
    assert thread["statuses"] == [messages.ASSISTANT_STATUS, "", messages.ASSISTANT_STATUS, ""]
    # The thread's title is the prompt that started it: an edit leaves it.
    assert len(emu.calls("assistant.threads.setTitle")) == 1
    # No thread context was stored or read back (bolt's default store would have).
    assert not emu.calls("conversations.replies") and not emu.calls("chat.update")


async def test_a_reply_in_a_dm_results_thread_stays_a_dm_turn_with_the_panel_on(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    """bolt takes a message in any DM thread for the panel's: an edit replied under a DM result
    lost its progress and Cancel, and setStatus went to a thread that is no panel's (refused)."""
    bot = await start_bot(SLACK_ASSISTANT="on")
    first = emu.dm_event("a red fox in snow")
    await emu.post_event(bot.url, first)
    await wait_results(emu, 1, bot)
    await emu.post_event(bot.url, emu.dm_event("make it night", thread_ts=first["ts"]))
    await wait_results(emu, 2, bot)
    posted = [c.params.get("text") for c in emu.calls("chat.postMessage", channel=DM_CHANNEL_ID)]
    assert posted.count(messages.STARTING) == 2  # each with its status message, Cancel on it
    assert not emu.calls("assistant.threads.setStatus") and not emu.calls("assistant.threads.setTitle")

    # A panel thread seedbot did not see start (it restarted since) is told by its first message.
    started = emu.start_assistant_thread()
    dm, ts = started["assistant_thread"]["channel_id"], started["assistant_thread"]["thread_ts"]
    await emu.post_event(bot.url, emu.assistant_message_event(dm, ts, "a lantern in fog"))
    await wait_results(emu, 3, bot)
    assert emu.assistant_threads[(dm, ts)]["statuses"] == [messages.ASSISTANT_STATUS, ""]
    assert len(emu.calls("conversations.replies", channel=dm, ts=ts)) == 1


async def test_the_panels_surprise_me_draws_one_of_seedbots_prompts(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot(SLACK_ASSISTANT="on")
    dm, ts = await _opened(emu, bot.url)
    await emu.wait_for_call("assistant.threads.setSuggestedPrompts")
    [surprise] = [p for p in emu.assistant_threads[(dm, ts)]["prompts"] if p["message"] == "surprise me"]
    assert surprise["title"] == "Surprise me"
    await emu.post_event(bot.url, emu.assistant_message_event(dm, ts, surprise["message"]))
    await wait_results(emu, 1, bot)
    [upload] = emu.calls("files.completeUploadExternal")
    drawn = upload.params["initial_comment"].split("\n")[0]
    assert drawn in messages.SURPRISES, drawn


async def test_a_refusal_in_the_panel_is_said_in_the_thread_and_clears_the_status(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot(SLACK_ASSISTANT="on", SEEDBOT_DAILY_IMAGES="1")
    dm, ts = await _opened(emu, bot.url)
    await emu.post_event(bot.url, emu.assistant_message_event(dm, ts, "a lighthouse at dusk"))
    await wait_results(emu, 1, bot)

    other = emu.start_assistant_thread()
    dm2, ts2 = other["assistant_thread"]["channel_id"], other["assistant_thread"]["thread_ts"]
    await emu.post_event(bot.url, other)
    await emu.post_event(bot.url, emu.assistant_message_event(dm2, ts2, "a harbour at dawn --n 2"))
    await bot.wait_log(r"assistant by slack:T1:U1 refused")
    await emu.wait_for(lambda: len(_bot_texts(emu, dm2, ts2)) == 2)
    greeting, refusal = _bot_texts(emu, dm2, ts2)
    assert greeting == escape(messages.ASSISTANT_GREETING)
    assert "You were not charged." in refusal
    assert not emu.ephemerals  # the panel is the person's own: said plainly, in the thread
    assert emu.assistant_threads[(dm2, ts2)]["status"] == ""
    assert len(results(emu)) == 1  # nothing more was made


async def test_without_the_setting_the_panel_events_are_not_the_apps(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    started = emu.start_assistant_thread()
    dm, ts = started["assistant_thread"]["channel_id"], started["assistant_thread"]["thread_ts"]
    # No listener: bolt answers 404 (the manifest without assistant_view never subscribes).
    assert await emu.post_event(bot.url, started) == 404
    # A DM thread message is a plain DM turn: a placeholder message, no status.
    await emu.post_event(bot.url, emu.dm_event("a lighthouse at dusk", thread_ts=ts, user=USER_ID))
    await wait_results(emu, 1, bot)
    assert not emu.calls("assistant.threads.setStatus")
    assert not emu.calls("assistant.threads.setSuggestedPrompts")
    assert [c.params["text"] for c in emu.calls("chat.postMessage", channel=dm)][:1] == [messages.STARTING]
