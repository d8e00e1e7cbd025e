"""The Workflow Builder step "Generate an image with Seedream", end to end: Slack runs it with
the inputs slack-manifest.yml declares (the emulator holds a run to that definition), seedbot
makes the images as the person who ran the workflow, posts them, and completes the step with the
files and a permalink; a refusal fails the step with the bot's own plain words, nothing charged.
"""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter.workflow import STEP_CALLBACK
from bot import messages
from bot.request.validation import get_model, resolve_size
from tests.emulators.providers import ProviderEmulator
from tests.emulators.slack import CHANNEL_ID, DM_CHANNEL_ID, USER_ID, SlackEmulator
from tests.slack import manifest
from tests.slack.conftest import StartBot, results, wait_results


@pytest.fixture(autouse=True)
def _declared(emu: SlackEmulator) -> None:
    emu.define_function(STEP_CALLBACK, manifest.step_definition(STEP_CALLBACK))


async def _run(emu: SlackEmulator, url: str, **inputs: Any) -> dict[str, Any]:
    """A workflow run reaches the step; returns its execution once the step is completed."""
    event = emu.function_executed_event(STEP_CALLBACK, inputs)
    assert await emu.post_event(url, event) == 200
    execution: dict[str, Any] = emu.executions[event["function_execution_id"]]
    await emu.wait_for(lambda: execution["state"] != "running", 15.0, message="the step completed")
    assert execution["completed_with"] == event["bot_access_token"]  # as bolt completes steps
    return execution


async def _usage(emu: SlackEmulator, url: str) -> str:
    before = len(emu.ephemerals)
    await emu.post_event(url, emu.mention_event("usage"))
    await emu.wait_for(lambda: len(emu.ephemerals) > before)
    return str(emu.ephemerals[-1]["text"])


async def test_the_step_posts_in_the_channel_and_completes_with_the_files_and_a_link(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot(SEEDBOT_DAILY_IMAGES="5")
    execution = await _run(
        emu,
        bot.url,
        prompt="a lighthouse at dusk",
        user=USER_ID,
        interactivity=emu.interactivity(USER_ID),
        channel=CHANNEL_ID,
        count=2,
        aspect="16:9",
    )
    assert execution["state"] == "completed", execution["error"]
    uploads = await wait_results(emu, 2, bot)
    # Posted as /imagine posts: a line naming the person, the images in its thread.
    [root] = [m for m in emu.messages_in(CHANNEL_ID) if m.get("text", "").startswith("<@U1> asked for")]
    assert root["text"] == messages.asked_for(f"<@{USER_ID}>", "a lighthouse at dusk")
    assert [(u["channel"], u["thread_ts"]) for u in uploads] == [(CHANNEL_ID, root["ts"])] * 2
    assert execution["outputs"] == {
        "files": [u["file_id"] for u in uploads],
        "permalink": emu.permalink(CHANNEL_ID, root["ts"]),
    }
    width, height = resolve_size(get_model("5.0-lite"), "2K", (16, 9))
    await bot.wait_log(rf"asked for 2 image\(s\), {width}x{height}")  # count and aspect: the inputs'
    # Charged to the person who ran the workflow, like any request of theirs.
    assert "Images left today: 3 of 5" in await _usage(emu, bot.url)
    # The step's token ended with the step (Slack revokes it on completion).
    with pytest.raises(SlackApiError) as refused:
        await AsyncWebClient(token=execution["token"], base_url=emu.api_url).auth_test()
    assert refused.value.response["error"] == "token_revoked"


async def test_a_person_the_workflow_names_pays_without_an_admins_powers_and_is_not_quoted(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    """Whoever builds a workflow fills "On behalf of": naming an admin gave the workflow their
    unlimited quota, and the channel read "@admin asked for: …" of words they never sent."""
    emu.add_user("U9", "ada")
    bot = await start_bot(SEEDBOT_DAILY_IMAGES="2", SEEDBOT_ADMINS=f"slack:{emu.TEAM_ID}:U9")
    execution = await _run(emu, bot.url, prompt="a storm at sea", user="U9", channel=CHANNEL_ID, count=4)
    assert execution["state"] == "failed"
    assert "daily limit (2 images)" in execution["error"], execution["error"]  # not unlimited
    assert not results(emu)

    execution = await _run(emu, bot.url, prompt="a calm sea", user="U9", channel=CHANNEL_ID)
    assert execution["state"] == "completed", execution["error"]
    await wait_results(emu, 1, bot)
    said = [m["text"] for m in emu.messages_in(CHANNEL_ID) if m.get("text", "").endswith("a calm sea")]
    assert said == [messages.workflow_asked_for("<@U9>", "a calm sea")]


async def test_the_person_who_clicked_pays_whoever_the_workflow_names(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    emu.add_user("U9", "ada")
    bot = await start_bot(SEEDBOT_DAILY_IMAGES="5")
    execution = await _run(
        emu,
        bot.url,
        prompt="a red kite",
        user="U9",
        interactivity=emu.interactivity(USER_ID),
        channel=CHANNEL_ID,
    )
    assert execution["state"] == "completed", execution["error"]
    await wait_results(emu, 1, bot)
    said = [m["text"] for m in emu.messages_in(CHANNEL_ID) if m.get("text", "").endswith("a red kite")]
    assert said == [messages.asked_for(f"<@{USER_ID}>", "a red kite")]
    assert "Images left today: 4 of 5" in await _usage(emu, bot.url)  # U1's, who clicked


async def test_without_a_channel_the_images_come_to_the_persons_dm(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    execution = await _run(emu, bot.url, prompt="a paper boat on a puddle", user=USER_ID)
    assert execution["state"] == "completed", execution["error"]
    [upload] = await wait_results(emu, 1, bot)
    assert upload["channel"] == DM_CHANNEL_ID
    assert execution["outputs"]["files"] == [upload["file_id"]]
    assert execution["outputs"]["permalink"].startswith(f"{emu.base_url}/archives/{DM_CHANNEL_ID}/p")


async def test_over_quota_the_step_fails_with_the_bots_words_and_nothing_is_charged(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot(SEEDBOT_DAILY_IMAGES="1")
    await emu.post_event(bot.url, emu.mention_event("a lighthouse at dusk"))
    await wait_results(emu, 1, bot)
    usage = await _usage(emu, bot.url)

    execution = await _run(emu, bot.url, prompt="a harbour at dawn", user=USER_ID, channel=CHANNEL_ID)
    assert execution["state"] == "failed"
    # The same plain words a mention gets for the same refusal (Slack shows them to the person).
    await emu.post_event(bot.url, emu.mention_event("a harbour at dawn"))
    await emu.wait_for(lambda: "not charged" in str(emu.ephemerals[-1].get("text")))
    assert execution["error"] == emu.ephemerals[-1]["text"]
    assert "You were not charged." in execution["error"]
    # Nothing posted, nothing charged; the request line is not left behind.
    assert len(results(emu)) == 1
    assert not [m for m in emu.messages_in(CHANNEL_ID) if "asked for: a harbour" in m.get("text", "")]
    assert await _usage(emu, bot.url) == usage


async def test_a_channel_without_seedbot_fails_the_step_with_the_bots_words(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    emu.add_channel("C9", "elsewhere", is_member=False)
    bot = await start_bot()
    execution = await _run(emu, bot.url, prompt="a quiet forest", user=USER_ID, channel="C9")
    assert execution["state"] == "failed"
    assert execution["error"] == messages.NOT_IN_CHANNEL
    assert not results(emu)


async def test_a_step_event_slack_delivers_again_runs_once(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    event = emu.function_executed_event(
        STEP_CALLBACK, {"prompt": "a quiet forest", "user": USER_ID, "channel": CHANNEL_ID}
    )
    assert await emu.post_event(bot.url, event, event_id="EvStep1") == 200
    assert await emu.post_event(bot.url, event, event_id="EvStep1", retry_num=1) == 200
    await bot.wait_log(r"workflow step \w+ already handled")  # whichever copy came second
    execution = emu.executions[event["function_execution_id"]]
    await emu.wait_for(lambda: execution["state"] == "completed")
    await wait_results(emu, 1, bot)
    assert len(emu.calls("functions.completeSuccess")) == 1
    assert len(emu.calls("files.completeUploadExternal")) == 1  # made and charged once


async def test_a_streamed_batch_hands_on_every_file(emu: SlackEmulator, start_bot: StartBot) -> None:
    """Streamed in (ModelArk), the images were posted one by one as they were made, and the
    step's required `files` output listed none of them."""
    async with ProviderEmulator() as providers:
        providers.ark_host.event_gap = 0.3
        bot = await start_bot(
            SEEDBOT_PROVIDERS="ark", ARK_API_KEY=providers.ark.api_key, ARK_BASE_URL=providers.base_url("ark")
        )
        event = emu.function_executed_event(
            STEP_CALLBACK,
            {"prompt": "four seasons --model 4.5", "user": USER_ID, "channel": CHANNEL_ID, "count": 3},
        )
        assert await emu.post_event(bot.url, event) == 200
        execution: dict[str, Any] = emu.executions[event["function_execution_id"]]
        await emu.wait_for(lambda: execution["state"] != "running", 30.0)
        posted = [u["file_id"] for u in results(emu)]
    assert len(posted) == 3 and execution["outputs"]["files"] == posted
