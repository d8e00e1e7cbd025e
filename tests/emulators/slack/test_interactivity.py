"""Slash commands, block actions and modals through a real AsyncApp."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from tests.emulators.slack import CHANNEL_ID, USER_ID
from tests.emulators.slack.conftest import Harness, serve


async def test_slash_command_ack_and_response_url(harness: Harness) -> None:
    emu, app = harness.emu, harness.app

    @app.command("/imagine")
    async def imagine(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack(f"Working on: {command['text']}")
        await respond(text="done", response_type="in_channel")

    async with serve(harness) as h:
        resp = await emu.post_slash_command(h.url, "/imagine", "a red fox")
        assert resp == 200
        # bolt answers ack("text") with a text/plain body, not JSON; Slack shows it ephemerally.
        assert resp.text == "Working on: a red fox"
        assert resp.headers["Content-Type"].startswith("text/plain")
        assert emu.ephemerals[-1] == {
            "channel": CHANNEL_ID,
            "user": USER_ID,
            "via": "ack",
            "text": "Working on: a red fox",
        }
        url = resp.response_url
        assert url and resp.trigger_id
        await emu.wait_for(lambda: emu.responses_to(url))
    assert emu.responses_to(url)[0]["text"] == "done"
    # in_channel responses show up in the channel as the bot.
    assert emu.bot_messages(CHANNEL_ID)[-1]["text"] == "done"


async def test_block_action_and_modal_flow(harness: Harness) -> None:
    emu, app, client = harness.emu, harness.app, harness.client

    @app.action("regenerate")
    async def regen(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        msg = body["message"]
        await client.chat_update(
            channel=body["channel"]["id"], ts=msg["ts"], text=f"regenerating {body['actions'][0]['value']}"
        )
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "tweak",
                "title": {"type": "plain_text", "text": "Tweak"},
                "submit": {"type": "plain_text", "text": "Go"},
                "blocks": [
                    {
                        "type": "input",
                        "block_id": "prompt",
                        "label": {"type": "plain_text", "text": "Prompt"},
                        "element": {"type": "plain_text_input", "action_id": "value"},
                    }
                ],
            },
        )

    @app.view("tweak")
    async def tweak(ack: Any, view: dict[str, Any]) -> None:
        prompt = view["state"]["values"]["prompt"]["value"]["value"]
        if not prompt:
            await ack(response_action="errors", errors={"prompt": "required"})
            return
        await ack()
        harness.seen.append(prompt)

    posted = await client.chat_postMessage(
        channel=CHANNEL_ID,
        text="image ready",
        blocks=[
            {
                "type": "actions",
                "block_id": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "regenerate",
                        "value": "seed-42",
                        "text": {"type": "plain_text", "text": "Again"},
                    }
                ],
            }
        ],
    )
    async with serve(harness) as h:
        assert await emu.post_block_action(h.url, "regenerate", "seed-42", posted["ts"]) == 200
        [opened] = await emu.wait_for_call("views.open")
        view_id = opened.response["view"]["id"]
        bad = await emu.post_view_submission(h.url, values={"prompt": {"value": ""}}, view_id=view_id)
        assert bad.json() == {"response_action": "errors", "errors": {"prompt": "required"}}
        good = await emu.post_view_submission(h.url, values={"prompt": {"value": "bluer"}}, view_id=view_id)
        assert good == 200 and good.text == ""
        await emu.wait_for(lambda: harness.seen)
    msg = emu.message(CHANNEL_ID, posted["ts"])
    assert msg is not None and msg["text"] == "regenerating seed-42" and "edited" in msg
    assert msg["blocks"][0]["elements"][0]["action_id"] == "regenerate"
    assert emu.views[view_id]["callback_id"] == "tweak"
    assert harness.seen == ["bluer"]
