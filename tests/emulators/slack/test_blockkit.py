"""The emulator refuses views and message blocks as Slack does (its documented Block Kit limits),
and the adapter's builders stay inside them whatever they are given."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter import blocks
from bot.conversation.surface import EditForm
from tests.emulators.slack import CHANNEL_ID, USER_ID, SlackEmulator
from tests.emulators.slack.blockkit import message_block_errors, view_errors
from tests.emulators.slack.conftest import BOT_TOKEN, PNG


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _home(*blocks_: dict[str, Any]) -> dict[str, Any]:
    return {"type": "home", "blocks": list(blocks_)}


@pytest.mark.parametrize(
    ("view", "message"),
    [
        (_home(*[{"type": "divider"}] * 101), "must be less than 101 items [json-pointer:/view/blocks]"),
        (
            _home(_section("x" * 3001)),
            "must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]",
        ),
        (_home(_section("")), "must be more than 0 characters [json-pointer:/view/blocks/0/text/text]"),
        (
            _home({"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}),
            "must be less than 151 characters [json-pointer:/view/blocks/0/text/text]",
        ),
        (
            _home({"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}),
            "must be one of plain_text [json-pointer:/view/blocks/0/text/type]",
        ),
        (
            _home(
                {
                    "type": "image",
                    "alt_text": "a",
                    "image_url": "https://x.test/a.png",
                    "slack_file": {"id": "F1"},
                }
            ),
            "must provide exactly one of image_url or slack_file [json-pointer:/view/blocks/0]",
        ),
        (
            _home({"type": "image", "alt_text": "a", "image_url": "/files-pri/T1-F1/a.png"}),
            "must be a publicly hosted http(s) URL [json-pointer:/view/blocks/0/image_url]",
        ),
        (
            _home(
                {
                    "type": "actions",
                    "elements": [{"type": "button", "text": {"type": "plain_text", "text": "b" * 76}}],
                }
            ),
            "must be less than 76 characters [json-pointer:/view/blocks/0/elements/0/text/text]",
        ),
        (
            _home(_section("a") | {"block_id": "x"}, _section("b") | {"block_id": "x"}),
            "duplicate block_id 'x'",
        ),
        (
            {
                "type": "modal",
                "title": {"type": "plain_text", "text": "A title that is too long!"},
                "blocks": [
                    {
                        "type": "input",
                        "label": {"type": "plain_text", "text": "p"},
                        "element": {"type": "plain_text_input"},
                    }
                ],
            },
            "must be less than 25 characters [json-pointer:/view/title/text]",
        ),
        (
            {
                "type": "modal",
                "title": {"type": "plain_text", "text": "t"},
                "blocks": [
                    {
                        "type": "input",
                        "label": {"type": "plain_text", "text": "p"},
                        "element": {"type": "plain_text_input"},
                    }
                ],
            },
            "submit is required when the view has an input block [json-pointer:/view]",
        ),
        (
            _home(
                {
                    "type": "input",
                    "label": {"type": "plain_text", "text": "p"},
                    "element": {"type": "plain_text_input"},
                }
            ),
            "input blocks are not allowed in a Home tab",
        ),
    ],
)
def test_views_slack_refuses(view: dict[str, Any], message: str) -> None:
    errors = view_errors(view)
    assert any(message in e for e in errors), errors


def test_a_slack_file_must_be_an_image_the_workspace_has() -> None:
    files = {"F1": {"filetype": "png"}, "F2": {"filetype": "webp"}}
    image = {"type": "image", "alt_text": "a"}
    assert view_errors(_home(image | {"slack_file": {"id": "F1"}}), files.get) == []
    assert view_errors(_home(image | {"slack_file": {"id": "F2"}}), files.get) == [
        "[ERROR] must be an image of type png, jpg, jpeg, gif [json-pointer:/view/blocks/0/slack_file/id]"
    ]
    assert view_errors(_home(image | {"slack_file": {"id": "F3"}}), files.get) == [
        "[ERROR] no such file [json-pointer:/view/blocks/0/slack_file/id]"
    ]
    assert "must provide exactly one of id or url" in view_errors(_home(image | {"slack_file": {}}))[0]


def test_messages_hold_50_blocks() -> None:
    assert message_block_errors([{"type": "divider"}] * 50) == []
    assert message_block_errors([{"type": "divider"}] * 51) == [
        "[ERROR] must be less than 51 items [json-pointer:/blocks]"
    ]


def test_the_adapters_views_stay_inside_the_limits_whatever_they_show() -> None:
    long = "a very long prompt " * 400
    results = [
        blocks.HomeResult(
            line=long, link="https://x.slack.com/archives/C1/p1" + "9" * 100, file_id="F1", alt=long
        )
        for _ in range(150)
    ]
    home = blocks.home_view("usage " * 1000, results, "help " * 1000)
    assert view_errors(home, {"F1": {"filetype": "jpg"}}.get) == []
    assert len(home["blocks"]) <= 100
    assert view_errors(blocks.prompt_modal()) == []
    assert view_errors(blocks.edit_modal(EditForm("0123456789ab", long))) == []
    assert message_block_errors(blocks.result_controls("0123456789ab")) == []


async def test_the_web_api_answers_what_slack_does(emu: SlackEmulator) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)
    with pytest.raises(SlackApiError) as refused:
        await client.views_publish(user_id=USER_ID, view=_home(_section("x" * 3001)))
    assert refused.value.response["error"] == "invalid_arguments"
    assert refused.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]"
    ]
    assert USER_ID not in emu.home_views and emu.refused_views

    published = await client.views_publish(user_id=USER_ID, view=_home(_section("hello")))
    with pytest.raises(SlackApiError) as stale:
        await client.views_publish(user_id=USER_ID, view=_home(_section("again")), hash="not-the-hash")
    assert stale.value.response["error"] == "hash_conflict"
    await client.views_publish(user_id=USER_ID, view=_home(_section("again")), hash=published["view"]["hash"])

    with pytest.raises(SlackApiError) as bad_blocks:
        await client.chat_postMessage(channel=CHANNEL_ID, text="x", blocks=[{"type": "divider"}] * 51)
    assert bad_blocks.value.response["error"] == "invalid_blocks"

    # A thumbnail of a file the bot uploaded: by id, no public URL.
    await client.files_upload_v2(content=PNG, filename="seedbot-abc-1.png", channel=CHANNEL_ID)
    [image] = (await client.files_list(user="UBOT", types="images"))["files"]
    accessory = {"type": "image", "slack_file": {"id": image["id"]}, "alt_text": "a"}
    await client.views_publish(user_id=USER_ID, view=_home(_section("latest") | {"accessory": accessory}))
    assert emu.home_views[USER_ID]["blocks"][0]["accessory"]["slack_file"] == {"id": image["id"]}
