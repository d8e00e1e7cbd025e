"""Bolt listeners: acknowledge at once, then hand the work to SlackHandlers in the background.

Every event type the app subscribes to has a listener (bolt answers 404 for unhandled ones,
and Slack would retry them). Listeners never wait for images: they ack, spawn, return.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncBoltRequest, AsyncRespond

from adapters.slack_adapter import blocks
from adapters.slack_adapter.handlers import SlackHandlers
from adapters.slack_adapter.tasks import BackgroundTasks
from bot import messages
from bot.errors import FlagError
from bot.request.flags import parse_text

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


def register_listeners(app: AsyncApp, handlers: SlackHandlers, tasks: BackgroundTasks) -> None:
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
        if not prompt.strip():
            await ack(response_action="errors", errors={blocks.EDIT_BLOCK: messages.PROMPT_EMPTY})
            return
        try:
            parse_text(prompt)
        except FlagError as exc:  # shown under the field, the modal stays open
            await ack(response_action="errors", errors={blocks.EDIT_BLOCK: exc.user_text})
            return
        await ack()
        user = str((body.get("user") or {}).get("id", ""))
        job_id = str(view.get("private_metadata") or "")
        tasks.spawn(handlers.edit_submitted(job_id, prompt, user, _team(context, body)), name="edit modal")

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
    ):
        app.action(action_id)(on_button)
    app.view(blocks.EDIT_CALLBACK)(on_edit_submitted)
