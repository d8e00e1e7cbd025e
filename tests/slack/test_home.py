"""The App Home tab as the person's place, end to end: their usage, their latest results (a link
and a thumbnail each, as Block Kit allows: a Slack file by id, no public URL needed), and a New
image button whose form runs a request that comes back in their DM with seedbot. The emulator
refuses any view Block Kit would (blocks, lengths, files)."""

from __future__ import annotations

from typing import Any

from adapters.slack_adapter import blocks
from bot import messages
from bot.request.validation import ASPECTS, MAX_OUTPUTS, get_model, resolve_size
from tests.emulators.slack import CHANNEL_ID, DM_CHANNEL_ID, TEAM_ID, USER_ID, SlackEmulator
from tests.slack.conftest import StartBot, results, wait_results


async def _open_home(emu: SlackEmulator, url: str) -> dict[str, Any]:
    before = len(emu.calls("views.publish"))
    assert await emu.post_event(url, emu.home_opened_event()) == 200
    [*_, publish] = await emu.wait_for_call("views.publish", count=before + 1)
    assert publish.ok, publish.response  # the emulator checks the view as Slack does
    return emu.home_views[USER_ID]


def _selected(value: str) -> dict[str, Any]:
    return {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
    }


async def test_home_shows_usage_and_the_latest_results_with_links_and_thumbnails(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot(SEEDBOT_DAILY_IMAGES="5")
    empty = await _open_home(emu, bot.url)
    texts = [
        str(e.get("text"))
        for b in empty["blocks"]
        for e in b.get("elements") or []
        if e.get("type") == "mrkdwn"
    ]
    assert messages.HOME_NO_RESULTS in texts

    # One after the other: run together, their uploads (and so the file ids) could come in either order.
    await emu.post_event(bot.url, emu.mention_event("a lighthouse at dusk"))
    await wait_results(emu, 1, bot)
    await emu.post_event(bot.url, emu.mention_event("a harbour at dawn --n 2"))
    uploads = await wait_results(emu, 3, bot)

    view = await _open_home(emu, bot.url)
    sections = [b for b in view["blocks"] if b["type"] == "section"]
    assert any("Images left today: 2 of 5" in s["text"]["text"] for s in sections)
    # Newest first; each with a link to its images and its first image as a thumbnail.
    past = [s for s in sections if "accessory" in s]
    assert [s["text"]["text"].split(" · ")[1] for s in past] == ["a harbour at dawn", "a lighthouse at dusk"]
    assert "· 2 images\n<" in past[0]["text"]["text"]
    for section, first_image in zip(past, (uploads[1], uploads[0]), strict=True):
        assert section["accessory"]["slack_file"] == {"id": first_image["file_id"]}
        assert "image_url" not in section["accessory"]
        share = emu.files[first_image["file_id"]]["shares"]["public"][CHANNEL_ID][0]
        link = emu.permalink(CHANNEL_ID, share["ts"]) + f"?thread_ts={share['thread_ts']}&cid={CHANNEL_ID}"
        assert section["text"]["text"].endswith(f"<{link}|{messages.HOME_OPEN}>")
    assert len(emu.calls("files.list")) == 1  # one look-up for every thumbnail


async def test_the_new_image_button_opens_a_form_whose_result_comes_by_dm(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    await _open_home(emu, bot.url)
    assert await emu.press_home_button(bot.url, USER_ID, blocks.HOME_NEW) == 200
    [opened] = await emu.wait_for_call("views.open")
    assert opened.ok, opened.response
    form = opened.response["view"]
    assert form["callback_id"] == blocks.PROMPT_CALLBACK
    choices = {
        b["block_id"]: [o["value"] for o in b["element"]["options"]]
        for b in form["blocks"]
        if "options" in b.get("element", {})
    }
    assert choices[blocks.PROMPT_ASPECT] == [blocks.DEFAULT, *ASPECTS]  # as every surface offers
    assert choices[blocks.PROMPT_COUNT] == [str(n) for n in range(1, MAX_OUTPUTS + 1)]

    # An empty prompt keeps the form open with the bot's words under the field.
    answer = await emu.post_view_submission(
        bot.url, view_id=form["id"], values={blocks.PROMPT_BLOCK: {"value": " "}}
    )
    assert answer.json() == {
        "response_action": "errors",
        "errors": {blocks.PROMPT_BLOCK: messages.PROMPT_EMPTY},
    }
    # Flags alone leave no prompt: said in the form too (it closed, then the refusal was posted).
    flags_only = await emu.post_view_submission(
        bot.url, view_id=form["id"], values={blocks.PROMPT_BLOCK: {"value": "--n 3"}}
    )
    assert flags_only.json()["errors"] == {blocks.PROMPT_BLOCK: messages.PROMPT_EMPTY}

    values = {
        blocks.PROMPT_BLOCK: {blocks.EDIT_ACTION: "a paper boat on a puddle"},
        blocks.PROMPT_ASPECT: {blocks.SELECT_ACTION: _selected("9:16")},
        blocks.PROMPT_COUNT: {blocks.SELECT_ACTION: _selected("2")},
        blocks.PROMPT_MODEL: {blocks.SELECT_ACTION: _selected(blocks.DEFAULT)},
    }
    assert await emu.post_view_submission(bot.url, view_id=form["id"], values=values) == 200
    uploads = await wait_results(emu, 2, bot)
    width, height = resolve_size(get_model("5.0-lite"), "2K", (9, 16))
    await bot.wait_log(rf"asked for 2 image\(s\), {width}x{height}")
    # In the DM with seedbot: a line saying what was asked, the images in its thread.
    [asked] = [
        m for m in emu.messages_in(DM_CHANNEL_ID) if m.get("bot_id") and "asked for" in m.get("text", "")
    ]
    assert asked["text"] == messages.asked_for(f"<@{USER_ID}>", "a paper boat on a puddle")
    assert [(u["channel"], u["thread_ts"]) for u in uploads] == [(DM_CHANNEL_ID, asked["ts"])] * 2
    assert not emu.messages_in(CHANNEL_ID)


async def test_a_refused_form_request_is_said_in_the_dm(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot(SEEDBOT_DAILY_IMAGES="1")
    await _open_home(emu, bot.url)
    await emu.press_home_button(bot.url, USER_ID, blocks.HOME_NEW)
    [opened] = await emu.wait_for_call("views.open")
    values = {blocks.PROMPT_BLOCK: {blocks.EDIT_ACTION: "two foxes --n 2"}}
    await emu.post_view_submission(bot.url, view_id=opened.response["view"]["id"], values=values)
    await bot.wait_log(r"home form by slack:T1:U1 refused")
    [said] = await emu.wait_for(lambda: [m for m in emu.messages_in(DM_CHANNEL_ID) if m.get("bot_id")])
    assert "You were not charged." in said["text"]
    assert not emu.ephemerals and not results(emu)


async def test_the_forms_request_is_answered_in_the_dm_where_channels_are_limited(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    """A workspace that keeps seedbot to #art still lets a person use their DM with it, and the
    Home tab's form answers in that DM: it was refused as if asked in a channel not on the list."""
    emu.add_channel("C2", "art")
    bot = await start_bot(SEEDBOT_ADMINS=f"slack:T1:{USER_ID}")
    resp = await emu.post_slash_command(bot.url, "/imagine", "admin settings channels <#C2|art>")
    [said] = await emu.wait_for(lambda: emu.responses_to(resp.response_url))
    assert said["text"] == messages.setting_changed(f"slack:{TEAM_ID}", "channels", "<#C2>")
    await _open_home(emu, bot.url)
    await emu.press_home_button(bot.url, USER_ID, blocks.HOME_NEW)
    [opened] = await emu.wait_for_call("views.open")
    values = {blocks.PROMPT_BLOCK: {blocks.EDIT_ACTION: "a lantern on a quay"}}
    await emu.post_view_submission(bot.url, view_id=opened.response["view"]["id"], values=values)
    [upload] = await wait_results(emu, 1, bot)
    assert upload["channel"] == DM_CHANNEL_ID
