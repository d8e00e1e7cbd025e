"""Style presets and the saved cast on Slack: the Home tab's form offers the workspace's styles
and a field for saved cast names; `admin style ...` for SEEDBOT_ADMINS."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from adapters.slack_adapter import blocks
from bot.request.styles import BUILTIN_STYLES
from tests.emulators.slack import TEAM_ID, USER_ID, SlackEmulator
from tests.slack.conftest import StartBot, png, wait_results
from tests.slack.test_home import _open_home, _selected


async def _said(emu: SlackEmulator, before: int) -> str:
    [entry] = await emu.wait_for(lambda: emu.ephemerals[before:] or None)
    return str(entry["text"])


def _jobs(tmp_path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(tmp_path / "seedbot.db") as db:
        db.row_factory = sqlite3.Row
        jobs = [dict(r) for r in db.execute("SELECT id, prompt, request_json FROM jobs ORDER BY created_at")]
        for job in jobs:
            job["sources"] = [
                r[0]
                for r in db.execute(
                    "SELECT source FROM job_images WHERE job_id = ? AND role = 'input' ORDER BY position",
                    (job["id"],),
                )
            ]
    return jobs


async def test_the_home_form_offers_styles_and_the_cast(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    bot = await start_bot(SEEDBOT_ADMINS=f"slack:{TEAM_ID}:{USER_ID}")
    before = len(emu.ephemerals)
    added = emu.mention_event("<@UBOT> admin style add sketchy loose pencil sketch --ar 4:3")
    await emu.post_event(bot.url, added)
    assert "Style 'sketchy' added" in await _said(emu, before)

    before = len(emu.ephemerals)
    mia = emu.add_file("mia.png", png(), "image/png")
    await emu.post_event(bot.url, emu.mention_event("<@UBOT> cast save mia", files=[mia]))
    assert "Saved as 'mia' in your cast" in await _said(emu, before)

    await _open_home(emu, bot.url)
    await emu.press_home_button(bot.url, USER_ID, blocks.HOME_NEW)
    [opened] = await emu.wait_for_call("views.open")
    assert opened.ok, opened.response  # the emulator checks the form as Slack does
    form = opened.response["view"]
    [style] = [b for b in form["blocks"] if b.get("block_id") == blocks.PROMPT_STYLE]
    offered = [o["value"] for o in style["element"]["options"]]
    assert offered == [blocks.DEFAULT, *sorted([*BUILTIN_STYLES, "sketchy"])]

    values = {
        blocks.PROMPT_BLOCK: {blocks.EDIT_ACTION: "a girl reading"},
        blocks.PROMPT_STYLE: {blocks.SELECT_ACTION: _selected("sketchy")},
        blocks.PROMPT_CAST: {blocks.EDIT_ACTION: "mia"},
    }
    assert await emu.post_view_submission(bot.url, view_id=form["id"], values=values) == 200
    await wait_results(emu, 1, bot)
    [job] = _jobs(tmp_path)
    request = json.loads(job["request_json"])
    assert job["prompt"] == "a girl reading, loose pencil sketch"
    assert (request["style"], request["aspect"]) == ("sketchy", "4:3")
    assert job["sources"] == ["cast:mia"]


async def test_a_style_typed_in_slack_is_kept_as_typed_not_as_slack_escapes_it(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    """Slack sends "&" as "&amp;" and "<" as "&lt;": the style was stored so, and every image
    made with it sent the entities to the model."""
    bot = await start_bot(SEEDBOT_ADMINS=f"slack:{TEAM_ID}:{USER_ID}")
    before = len(emu.ephemerals)
    typed = "<@UBOT> admin style add noir black &amp; white &lt;film&gt; look"
    await emu.post_event(bot.url, emu.mention_event(typed))
    await emu.wait_for(lambda: emu.ephemerals[before:] or None)
    await emu.post_event(bot.url, emu.mention_event("<@UBOT> a harbour at dusk --style noir"))
    await wait_results(emu, 1, bot)
    with sqlite3.connect(tmp_path / "seedbot.db") as db:
        [(prompt,)] = db.execute("SELECT prompt FROM jobs").fetchall()
    assert prompt == "a harbour at dusk, black & white <film> look"
