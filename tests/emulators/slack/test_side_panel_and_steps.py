"""The side panel's and Workflow Builder's parts of the emulator, through a real AsyncApp: bolt's
AsyncAssistant and app.function() take the events as built here, and the Web API answers
assistant.threads.* and functions.complete* with Slack's documented params and errors."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt.async_app import AsyncAssistant, AsyncSay, AsyncSetStatus, AsyncSetSuggestedPrompts
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.emulators.slack import CHANNEL_ID, DM_CHANNEL_ID, USER_ID, SlackEmulator
from tests.emulators.slack.conftest import BOT_TOKEN, Harness, serve


async def test_bolts_assistant_takes_the_panels_events(harness: Harness) -> None:
    emu, app = harness.emu, harness.app
    assistant = AsyncAssistant()
    seen: list[str] = []

    @assistant.thread_started
    async def started(say: AsyncSay, set_suggested_prompts: AsyncSetSuggestedPrompts) -> None:
        seen.append("started")
        await say("hi")
        await set_suggested_prompts(prompts=["a red fox", {"title": "Poster", "message": "a poster"}])

    @assistant.thread_context_changed
    async def changed(payload: dict[str, Any]) -> None:
        seen.append(f"context {payload['assistant_thread']['context'].get('channel_id')}")

    @assistant.user_message
    async def message(payload: dict[str, Any], set_status: AsyncSetStatus, say: AsyncSay) -> None:
        seen.append(f"message {payload['text']}")
        await set_status("is drawing…")
        await say("done")

    app.use(assistant)
    async with serve(harness) as h:
        event = emu.start_assistant_thread(context_channel=CHANNEL_ID)
        thread = event["assistant_thread"]
        key = (thread["channel_id"], thread["thread_ts"])
        assert key[0] == DM_CHANNEL_ID and thread["context"]["channel_id"] == CHANNEL_ID
        assert await emu.post_event(h.url, event) == 200
        await emu.wait_for(lambda: emu.assistant_threads[key]["prompts"])
        assert emu.assistant_threads[key]["prompts"][0] == {"title": "a red fox", "message": "a red fox"}

        assert await emu.post_event(h.url, emu.assistant_context_changed_event(*key, "C2")) == 200
        assert await emu.post_event(h.url, emu.assistant_message_event(*key, "draw")) == 200
        await emu.wait_for(lambda: "done" in [m.get("text") for m in emu.thread(*key)])
    assert seen == ["started", "context C2", "message draw"]
    # The status was shown, then cleared by the app's answer in the thread.
    assert emu.assistant_threads[key]["statuses"] == ["is drawing…"]
    assert emu.assistant_threads[key]["status"] == ""


async def test_assistant_threads_methods_check_their_params(emu: SlackEmulator) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)
    thread = emu.start_assistant_thread()["assistant_thread"]
    dm, ts = thread["channel_id"], thread["thread_ts"]

    async def error(call: Any) -> str:
        with pytest.raises(SlackApiError) as refused:
            await call
        return str(refused.value.response["error"])

    assert await error(client.assistant_threads_setStatus(channel_id="C404", thread_ts=ts, status="x")) == (
        "channel_not_found"
    )
    assert await error(
        client.assistant_threads_setStatus(channel_id=dm, thread_ts="1.000001", status="x")
    ) == ("invalid_thread_ts")
    assert await error(
        client.assistant_threads_setStatus(
            channel_id=dm, thread_ts=ts, status="x", loading_messages=["m"] * 11
        )
    ) == ("invalid_arguments")
    await client.assistant_threads_setStatus(channel_id=dm, thread_ts=ts, status="is thinking…")
    await client.assistant_threads_setStatus(channel_id=dm, thread_ts=ts, status="")
    assert emu.assistant_threads[(dm, ts)]["statuses"] == ["is thinking…", ""]

    five = [{"title": f"t{n}", "message": f"m{n}"} for n in range(5)]
    assert await error(
        client.assistant_threads_setSuggestedPrompts(channel_id=dm, thread_ts=ts, prompts=five)
    ) == ("invalid_arguments")
    no_message = [{"title": "t", "message": ""}]
    assert await error(
        client.assistant_threads_setSuggestedPrompts(channel_id=dm, thread_ts=ts, prompts=no_message)
    ) == ("invalid_arguments")
    await client.assistant_threads_setSuggestedPrompts(
        channel_id=dm, thread_ts=ts, prompts=five[:4], title="Try"
    )
    assert len(emu.assistant_threads[(dm, ts)]["prompts"]) == 4

    assert (
        await error(client.assistant_threads_setTitle(channel_id=dm, thread_ts=ts, title=" "))
        == "invalid_arguments"
    )
    await client.assistant_threads_setTitle(channel_id=dm, thread_ts=ts, title="A fox")
    assert emu.assistant_threads[(dm, ts)]["title"] == "A fox"


STEP = {
    "title": "Greet",
    "input_parameters": {
        "user": {"type": "slack#/types/user_id", "is_required": True},
        "times": {"type": "integer", "minimum": 1, "maximum": 3},
    },
    "output_parameters": {
        "files": {"type": "array", "items": {"type": "slack#/types/file_id"}, "is_required": True},
        "note": {"type": "string"},
    },
}


async def test_bolts_function_listener_runs_a_step_and_completes_it(harness: Harness) -> None:
    emu, app = harness.emu, harness.app
    emu.define_function("greet", STEP)
    upload = emu.add_file("in.png", b"png", "image/png")

    @app.function("greet")
    async def greet(inputs: dict[str, Any], complete: AsyncComplete, client: AsyncWebClient) -> None:
        await client.chat_postMessage(channel=inputs["user"], text="hello")  # with the step's token
        await complete(outputs={"files": [upload["id"]], "note": "ok"})

    async with serve(harness) as h:
        event = emu.function_executed_event("greet", {"user": USER_ID, "times": 2})
        assert event["function"]["input_parameters"][0] == {
            "name": "user",
            **STEP["input_parameters"]["user"],
        }
        assert await emu.post_event(h.url, event) == 200
        execution = emu.executions[event["function_execution_id"]]
        await emu.wait_for(lambda: execution["state"] == "completed")
    assert execution["outputs"] == {"files": [upload["id"]], "note": "ok"}
    [post] = emu.calls("chat.postMessage")
    assert post.token == event["bot_access_token"] == execution["completed_with"]


async def test_functions_complete_checks_the_execution_and_the_outputs(emu: SlackEmulator) -> None:
    emu.define_function("greet", STEP)
    with pytest.raises(AssertionError, match="user is required"):
        emu.function_executed_event("greet", {"times": 1})
    with pytest.raises(AssertionError, match="times: must be at most 3"):
        emu.function_executed_event("greet", {"user": USER_ID, "times": 4})
    event = emu.function_executed_event("greet", {"user": USER_ID})
    execution_id, token = event["function_execution_id"], event["bot_access_token"]
    client = AsyncWebClient(token=token, base_url=emu.api_url)

    async def error(call: Any) -> SlackApiError:
        with pytest.raises(SlackApiError) as refused:
            await call
        return refused.value

    unknown = await error(
        client.functions_completeSuccess(function_execution_id="Fx0", outputs={"files": []})
    )
    assert unknown.response["error"] == "function_execution_not_found"
    wrong = await error(
        client.functions_completeSuccess(function_execution_id=execution_id, outputs={"files": ["F404"]})
    )
    assert wrong.response["error"] == "parameter_validation_failed"
    missing = await error(
        client.functions_completeSuccess(function_execution_id=execution_id, outputs={"note": "x"})
    )
    assert missing.response["errors"] == ["files is required"]
    assert (
        await error(client.functions_completeError(function_execution_id=execution_id, error=""))
    ).response["error"] == "invalid_arguments"

    await client.functions_completeError(function_execution_id=execution_id, error="No images left today.")
    assert emu.executions[execution_id]["error"] == "No images left today."
    again = await error(
        client.functions_completeSuccess(function_execution_id=execution_id, outputs={"files": []})
    )
    # Once completed the step's token is revoked; with the bot token the state is what answers.
    assert again.response["error"] == "token_revoked"
    bot = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)
    done = await error(
        bot.functions_completeSuccess(function_execution_id=execution_id, outputs={"files": []})
    )
    assert done.response["error"] == "execution_not_in_running_state"
