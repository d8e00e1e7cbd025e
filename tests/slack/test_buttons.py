"""Re-roll / Variations / Edit under a result: they carry only the job id, so they survive a restart."""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path
from typing import Any

from bot.request.validation import PROMPT_MAX_CHARS
from tests.emulators.slack import CHANNEL_ID, SlackEmulator
from tests.slack.conftest import BotProcess, StartBot, button_values, controls, wait_results


def _jobs(db: Path) -> list[tuple[str, str, str | None, int]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT id, kind, parent_id, images_delivered FROM jobs ORDER BY created_at, rowid"
        ).fetchall()
    return [(str(r[0]), str(r[1]), r[2], int(r[3])) for r in rows]


async def test_reroll_button_works_after_a_restart(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    first = await start_bot()
    mention = emu.mention_event("a castle on a hill --n 2")
    await emu.post_event(first.url, mention)
    await wait_results(emu, 2, first)
    [buttons] = controls(emu)
    job_id = button_values(buttons)["seedbot.reroll"]
    assert await first.stop() == 0  # SIGTERM: a clean shutdown

    second = await start_bot()  # same database, new process, new port
    resp = await emu.post_block_action(second.url, "seedbot.reroll", job_id, buttons["ts"])
    assert resp == 200 and resp.text == ""
    uploads = await wait_results(emu, 4, second)
    assert [u["thread_ts"] for u in uploads[2:]] == [mention["ts"]] * 2
    comment = emu.calls("files.completeUploadExternal")[1].params["initial_comment"]
    assert comment.startswith("a castle on a hill\n") and "Images left today: 16." in comment
    jobs = _jobs(tmp_path / "seedbot.db")
    assert [(kind, parent, delivered) for _, kind, parent, delivered in jobs] == [
        ("imagine", None, 2),
        ("reroll", job_id, 2),
    ]
    assert not emu.ephemerals


async def _edit_pressed(
    emu: SlackEmulator, bot: BotProcess
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A mention's result, and its Edit pressed: the mention, the result's buttons, the modal."""
    mention = emu.mention_event("a blue teapot")
    await emu.post_event(bot.url, mention)
    await wait_results(emu, 1, bot)
    [buttons] = controls(emu)
    await emu.post_block_action(
        bot.url, "seedbot.edit", button_values(buttons)["seedbot.edit"], buttons["ts"]
    )
    [opened] = await emu.wait_for_call("views.open")
    return mention, buttons, opened.response["view"]


async def test_edit_modal_and_variations(emu: SlackEmulator, start_bot: StartBot, tmp_path: Path) -> None:
    bot = await start_bot()
    # Edit opens a modal holding the job id; an empty prompt is refused inside the modal.
    mention, buttons, view = await _edit_pressed(emu, bot)
    job_id = button_values(buttons)["seedbot.edit"]
    assert view["private_metadata"] == job_id and view["callback_id"] == "seedbot.edit_modal"
    assert view["blocks"][0]["elements"][0]["text"] == "a blue teapot"  # the prompt being edited
    assert view["blocks"][1]["element"]["max_length"] == PROMPT_MAX_CHARS
    empty = await emu.post_view_submission(bot.url, values={"prompt": {"value": "  "}}, view_id=view["id"])
    assert empty.json()["response_action"] == "errors"
    bad = await emu.post_view_submission(
        bot.url, values={"prompt": {"value": "red --zoom 2"}}, view_id=view["id"]
    )
    assert "I don't know the option '--zoom'" in bad.json()["errors"]["prompt"]
    ok = await emu.post_view_submission(
        bot.url, values={"prompt": {"value": "make it red"}}, view_id=view["id"]
    )
    assert ok == 200 and ok.text == ""
    uploads = await wait_results(emu, 2, bot)
    assert uploads[1]["thread_ts"] == mention["ts"]
    comment = emu.calls("files.completeUploadExternal")[1].params["initial_comment"]
    assert comment.startswith("make it red\n") and f"result 1 of job {job_id}" in comment

    # Variations of the first result: a batch of 4 in the same thread.
    await emu.post_block_action(bot.url, "seedbot.variations", job_id, buttons["ts"])
    uploads = await wait_results(emu, 6, bot)
    assert [u["thread_ts"] for u in uploads[2:]] == [mention["ts"]] * 4
    kinds = [(kind, parent) for _, kind, parent, _ in _jobs(tmp_path / "seedbot.db")]
    assert kinds == [("imagine", None), ("edit", job_id), ("variations", job_id)]


async def test_options_alone_in_the_edit_modal_make_the_result_again_with_them(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    """As the Edit form on Discord and the playground: the modal took only a prompt."""
    bot = await start_bot()
    _, buttons, view = await _edit_pressed(emu, bot)
    job_id = button_values(buttons)["seedbot.edit"]
    ok = await emu.post_view_submission(
        bot.url, values={"prompt": {"value": "--ar 16:9"}}, view_id=view["id"]
    )
    assert ok == 200 and ok.text == ""
    await wait_results(emu, 2, bot)
    await bot.wait_log(r"asked for 1 image\(s\), 2848x1600")
    kinds = [(kind, parent) for _, kind, parent, _ in _jobs(tmp_path / "seedbot.db")]
    assert kinds == [("imagine", None), ("edit", job_id)]


async def test_anyone_may_reroll_paying_for_it_unless_the_workspace_says_owner(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    """One rule on every surface (bot/conversation/policy.py): others may build on a result and
    pay for it; `buttons owner` limits that to its owner; forged ids are refused."""
    emu.add_user("U2", "bob")
    bot = await start_bot(SEEDBOT_ADMINS="slack:T1:U1")
    await emu.post_event(bot.url, emu.mention_event("a quiet harbour"))
    await wait_results(emu, 1, bot)
    [buttons] = controls(emu)
    job_id = button_values(buttons)["seedbot.reroll"]
    await emu.post_block_action(bot.url, "seedbot.reroll", job_id, buttons["ts"], user="U2")
    await wait_results(emu, 2, bot)
    assert len(bot.matching(r"slack:T1:U2 asked for 1 image")) == 1  # bob's job, on bob's quota

    await emu.post_block_action(bot.url, "seedbot.reroll", "no-such-job", buttons["ts"])
    await emu.wait_for(lambda: len(emu.ephemerals) >= 1)
    assert emu.ephemerals[-1]["text"].startswith("That message isn't a seedbot result")

    await emu.post_event(bot.url, emu.mention_event("admin settings buttons owner"))
    await emu.wait_for(lambda: len(emu.ephemerals) >= 2)
    await emu.post_block_action(bot.url, "seedbot.reroll", job_id, buttons["ts"], user="U2")
    await emu.wait_for(lambda: any(e["user"] == "U2" for e in emu.ephemerals))
    by_user = {e["user"]: e["text"] for e in emu.ephemerals}
    assert by_user["U2"].startswith("Only the person who made this image")
    assert all(e["channel"] == CHANNEL_ID for e in emu.ephemerals)
    assert len(emu.calls("files.completeUploadExternal")) == 2


async def test_delete_removes_the_images_when_slack_names_their_message_late(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    """Slack fills a file's `shares` a moment after the upload (python-slack-sdk #1277): with
    none in the upload's answer, Delete removed only the buttons and left the images."""
    original = emu._files_complete_upload_external

    def without_shares(params: Any, request: Any) -> Any:
        answer = copy.deepcopy(original(params, request))
        for file in answer["files"]:
            file["shares"] = {}
        return answer

    emu.override("files.completeUploadExternal", without_shares)
    bot = await start_bot()
    mention = emu.mention_event("a castle on a hill --n 2")
    await emu.post_event(bot.url, mention)
    await wait_results(emu, 2, bot)
    [buttons] = controls(emu)

    def posted() -> list[str]:
        thread = emu.thread(CHANNEL_ID, mention["ts"])
        return [
            "files" if m.get("files") else "buttons"
            for m in thread
            if m.get("bot_id") and (m.get("files") or m.get("blocks"))
        ]

    assert posted() == ["files", "buttons"]
    await emu.post_block_action(
        bot.url, "seedbot.delete", button_values(buttons)["seedbot.delete"], buttons["ts"]
    )
    await emu.wait_for(lambda: posted() == [] or None, 10.0)
