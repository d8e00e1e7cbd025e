"""Bolt listeners: acknowledge at once, then hand the work to SlackHandlers in the background.

Every event type the app subscribes to has a listener (bolt answers 404 for unhandled ones,
and Slack would retry them). Listeners never wait for images: they ack, spawn, return.

With `assistant` (SLACK_ASSISTANT=on) bolt's AsyncAssistant middleware also takes the side
panel's events (assistant.py); without it those events are not the app's and get bolt's 404.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from slack_bolt.async_app import (
    AsyncAck,
    AsyncApp,
    AsyncAssistant,
    AsyncBoltContext,
    AsyncBoltRequest,
    AsyncRespond,
)
from slack_bolt.listener_matcher.async_listener_matcher import AsyncCustomListenerMatcher

from adapters.slack_adapter import blocks
from adapters.slack_adapter.handlers import SlackHandlers
from adapters.slack_adapter.tasks import BackgroundTasks
from adapters.slack_adapter.workflow import STEP_CALLBACK
from bot.conversation.turns import Options
from bot.numbers import whole_number
from bot.request.flags import cast_names, form_problem

__all__ = ["register_listeners"]

log = logging.getLogger(__name__)


def _team(context: AsyncBoltContext, body: dict[str, Any]) -> str:
    team = context.team_id or body.get("team_id") or (body.get("team") or {}).get("id")
    return str(team or "")


def _retry(request: AsyncBoltRequest) -> str | None:
    values = request.headers.get("x-slack-retry-num")
    if values:
        return str(values[0])
    retry = request.body.get("retry_attempt") if isinstance(request.body, dict) else None
    return str(retry) if retry else None


def _chosen(values: dict[str, Any], block_id: str) -> str | None:
    """A select's value in a submitted view (None: nothing, or the default option)."""
    selected = ((values.get(block_id) or {}).get(blocks.SELECT_ACTION) or {}).get("selected_option") or {}
    value = selected.get("value")
    return str(value) if value and value != blocks.DEFAULT else None


def _typed(values: dict[str, Any], block_id: str) -> str:
    """A text field's value in a submitted view ("" when left empty)."""
    return str(((values.get(block_id) or {}).get(blocks.EDIT_ACTION) or {}).get("value") or "")


def register_listeners(
    app: AsyncApp, handlers: SlackHandlers, tasks: BackgroundTasks, *, assistant: bool = False
) -> None:
    async def on_mention(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, request: AsyncBoltRequest
    ) -> None:
        tasks.spawn(
            handlers.message(event, _team(context, body), mention=True, retry=_retry(request)),
            name=f"mention {event.get('channel')}/{event.get('ts')}",
        )

    async def on_message(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, request: AsyncBoltRequest
    ) -> None:
        tasks.spawn(
            handlers.message(event, _team(context, body), mention=False, retry=_retry(request)),
            name=f"message {event.get('channel')}/{event.get('ts')}",
        )

    async def on_home_opened(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            tasks.spawn(handlers.home_opened(str(event["user"]), _team(context, body)), name="home")

    async def on_imagine(
        ack: AsyncAck,
        command: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        tasks.spawn(handlers.command(command, _team(context, body), respond), name="/imagine")

    async def on_button(
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        action_id = str(action.get("action_id", ""))
        tasks.spawn(handlers.button(action_id, body, _team(context, body), respond), name=action_id)

    async def on_edit_submitted(
        ack: AsyncAck, view: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        values = (view.get("state") or {}).get("values") or {}
        prompt = str(((values.get(blocks.EDIT_BLOCK) or {}).get(blocks.EDIT_ACTION) or {}).get("value") or "")
        problem = form_problem(prompt, edit=True)
        if problem:  # shown under the field, the modal stays open
            await ack(response_action="errors", errors={blocks.EDIT_BLOCK: problem})
            return
        await ack()
        user = str((body.get("user") or {}).get("id", ""))
        job_id = str(view.get("private_metadata") or "")
        tasks.spawn(handlers.edit_submitted(job_id, prompt, user, _team(context, body)), name="edit modal")

    async def on_home_new(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        user = str((body.get("user") or {}).get("id", ""))
        trigger = str(body.get("trigger_id", ""))
        tasks.spawn(handlers.open_prompt(trigger, user, _team(context, body)), name="prompt form")

    async def on_prompt_submitted(
        ack: AsyncAck, view: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        values = (view.get("state") or {}).get("values") or {}
        prompt = str(
            ((values.get(blocks.PROMPT_BLOCK) or {}).get(blocks.EDIT_ACTION) or {}).get("value") or ""
        )
        problem = form_problem(prompt)
        if problem:
            await ack(response_action="errors", errors={blocks.PROMPT_BLOCK: problem})
            return
        await ack()
        count = _chosen(values, blocks.PROMPT_COUNT)
        options = Options(
            aspect=_chosen(values, blocks.PROMPT_ASPECT),
            count=whole_number(count) if count else None,
            model=_chosen(values, blocks.PROMPT_MODEL),
            style=_chosen(values, blocks.PROMPT_STYLE),
            refs=cast_names(_typed(values, blocks.PROMPT_CAST)),
        )
        user = str((body.get("user") or {}).get("id", ""))
        tasks.spawn(
            handlers.prompt_submitted(user, _team(context, body), prompt, options),
            name="prompt form submitted",
        )

    async def on_workflow_step(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, request: AsyncBoltRequest
    ) -> None:
        # bolt acknowledges function_executed itself; the step completes when the job ends.
        tasks.spawn(
            handlers.workflow_step(event, _team(context, body), _retry(request)), name="workflow step"
        )

    if assistant:
        _register_assistant(app, handlers, tasks)
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    app.event("app_home_opened")(on_home_opened)
    app.command("/imagine")(on_imagine)
    for action_id in (
        blocks.ACTION_REROLL,
        blocks.ACTION_VARIATIONS,
        blocks.ACTION_EDIT,
        blocks.ACTION_INFO,
        blocks.ACTION_DELETE,
        blocks.ACTION_CANCEL,
        *blocks.UPSCALE_ACTIONS,
    ):
        app.action(action_id)(on_button)
    app.view(blocks.EDIT_CALLBACK)(on_edit_submitted)
    app.action(blocks.HOME_NEW)(on_home_new)
    app.view(blocks.PROMPT_CALLBACK)(on_prompt_submitted)
    app.function(STEP_CALLBACK)(on_workflow_step)


def _register_assistant(app: AsyncApp, handlers: SlackHandlers, tasks: BackgroundTasks) -> None:
    """The side panel (assistant.py): bolt's AsyncAssistant takes its events before the
    listeners above (each acknowledged by bolt), a message in its thread included."""
    assistant = AsyncAssistant(logger=logging.getLogger("slack_bolt.AsyncApp"))

    async def thread_started(event: dict[str, Any], body: dict[str, Any]) -> None:
        thread = event.get("assistant_thread") or {}
        channel, thread_ts = str(thread.get("channel_id") or ""), str(thread.get("thread_ts") or "")
        user, team = str(thread.get("user_id") or ""), str(event.get("team") or body.get("team_id") or "")
        if channel and thread_ts:
            tasks.spawn(
                handlers.assistant_started(channel, thread_ts, user, team),
                name=f"assistant {channel}/{thread_ts}",
            )

    async def context_changed() -> None:
        # Images do not depend on the channel being viewed: no context is kept (bolt's default
        # would store it in the thread's first message with extra Web API calls).
        return None

    async def user_message(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, request: AsyncBoltRequest
    ) -> None:
        tasks.spawn(
            handlers.message(
                event, _team(context, body), mention=False, retry=_retry(request), assistant=True
            ),
            name=f"assistant message {event.get('channel')}/{event.get('ts')}",
        )

    async def in_panel(body: dict[str, Any]) -> bool:
        event = body.get("event") or {}
        return await handlers.assistant_threads.holds(str(event.get("channel")), str(event.get("thread_ts")))

    assistant.thread_started(thread_started)
    assistant.thread_context_changed(context_changed)
    # Other DM threads' messages go on to the message listener above (a DM turn).
    # An async matcher built here: AsyncAssistant would wrap a bare coroutine function as a
    # sync one and never await it; and it takes a list (its hint says one: _merge_matchers).
    panel = AsyncCustomListenerMatcher(app_name="seedbot", func=in_panel)
    assistant.user_message(user_message, matchers=cast(Any, [panel]))
    app.use(assistant)
