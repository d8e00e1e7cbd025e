"""The Workflow Builder step "Generate an image with Seedream" (`functions.generate_image` in
slack-manifest.yml).

A workflow run reaches the step: Slack sends `function_executed` with the step's inputs

    prompt         (required) what to draw; flags work as everywhere (--ar 16:9 --n 2)
    user           (required) who pays: the workflow maps "Person who used this workflow" here
    interactivity  the click that started the workflow (a link, a button, a shortcut), when it
                   has one: Slack fills it in, so it says who asked
    channel        where the images go (default: that person's DM with seedbot)
    count, aspect, model   as the options of /imagine

and seedbot runs it as one Ask turn of that person, charged to their quota like any other. The
person is the one who clicked when the run says so. Otherwise it is whoever the workflow names,
which its builder may have typed in: their quota pays, but not as an admin (no unlimited quota),
and the images say a workflow asked for them. The images are posted the way /imagine posts them (a line naming the person, the images in its
thread), then the step completes with the files and a permalink to that line
(`functions.completeSuccess`); a refusal or failure ends it with the same plain words the bot
says everywhere (`functions.completeError`, which Slack shows the person), nothing charged.

The step is completed with the token the event brought (bolt does the same): it is revoked once
the step completes, so everything else goes through the bot token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.slack_adapter.reply import SlackReply
from bot import messages
from bot.conversation.surface import Delivery, Shown
from bot.conversation.turns import Options
from bot.numbers import whole_number

__all__ = [
    "INPUT_ASPECT",
    "INPUT_CHANNEL",
    "INPUT_COUNT",
    "INPUT_INTERACTIVITY",
    "INPUT_MODEL",
    "INPUT_PROMPT",
    "INPUT_USER",
    "OUTPUT_FILES",
    "OUTPUT_PERMALINK",
    "STEP_CALLBACK",
    "StepInputs",
    "StepReply",
]

log = logging.getLogger(__name__)

STEP_CALLBACK = "generate_image"
INPUT_PROMPT = "prompt"
INPUT_USER = "user"
INPUT_INTERACTIVITY = "interactivity"
INPUT_CHANNEL = "channel"
INPUT_COUNT = "count"
INPUT_ASPECT = "aspect"
INPUT_MODEL = "model"
OUTPUT_FILES = "files"
OUTPUT_PERMALINK = "permalink"


@dataclass(frozen=True, slots=True)
class StepInputs:
    prompt: str
    user: str
    channel: str | None
    options: Options
    clicked: str | None = None  # who started the run with a click, as Slack says

    @property
    def person(self) -> str:
        """Who asked: the one who clicked, else the person the workflow names."""
        return self.clicked or self.user

    @classmethod
    def read(cls, inputs: dict[str, Any]) -> StepInputs:
        count = inputs.get(INPUT_COUNT)
        if isinstance(count, str):
            count = whole_number(count)
        return cls(
            prompt=str(inputs.get(INPUT_PROMPT) or ""),
            user=str(inputs.get(INPUT_USER) or ""),
            channel=str(inputs[INPUT_CHANNEL]) if inputs.get(INPUT_CHANNEL) else None,
            options=Options(
                aspect=str(inputs[INPUT_ASPECT]) if inputs.get(INPUT_ASPECT) else None,
                count=count if isinstance(count, int) and not isinstance(count, bool) else None,
                model=str(inputs[INPUT_MODEL]) if inputs.get(INPUT_MODEL) else None,
            ),
            clicked=_interactor(inputs.get(INPUT_INTERACTIVITY)),
        )


def _interactor(value: object) -> str | None:
    """The user id of slack#/types/interactivity's `interactor`, when the run has one."""
    interactor = value.get("interactor") if isinstance(value, dict) else None
    found = interactor.get("id") if isinstance(interactor, dict) else None
    return str(found) if found else None


@dataclass
class StepReply(SlackReply):
    """The reply of a workflow step's turn: posts like /imagine, then ends the step."""

    execution_id: str = ""
    step_token: str = ""  # the event's bot_access_token
    finished: bool = field(default=False, init=False)
    _asked_ts: str | None = field(default=None, init=False)

    async def accepted(self, text: str) -> None:
        await super().accepted(text)
        self._asked_ts = self._asked_ts or self.thread_ts

    async def result(self, shown: Shown) -> Delivery:
        deliver = self.delivery(shown)
        delivery = await deliver(shown.result)
        self._root_ts = None  # the request line heads a result now: it stays
        outputs: dict[str, Any] = {OUTPUT_FILES: deliver.file_ids}
        link = await self._permalink()
        if link:
            outputs[OUTPUT_PERMALINK] = link
        await self._complete(outputs=outputs)
        return delivery

    async def _permalink(self) -> str | None:
        if not self._asked_ts:
            return None
        try:
            response = await self.client.chat_getPermalink(channel=self.channel, message_ts=self._asked_ts)
        except SlackApiError as exc:
            log.info("slack: no permalink for step %s: %s", self.execution_id, exc.response.get("error"))
            return None
        link = response.get("permalink")
        return str(link) if link else None

    async def refuse(self, text: str) -> None:
        await self.status.remove()
        if self._root_ts is not None:
            # Nothing was delivered: the request line goes; Slack tells the person the error.
            try:
                await self.client.chat_delete(channel=self.channel, ts=self._root_ts)
            except SlackApiError as exc:
                log.info("slack: could not remove a step's request line: %s", exc.response.get("error"))
            self._root_ts = None
        await self._complete(error=text)

    async def interrupted(self, text: str, *, resumes: bool) -> None:
        await self.status.remove()
        await self._complete(error=text)

    async def finish(self) -> None:
        """After the turn: a step nothing completed fails rather than hanging the workflow."""
        if not self.finished:
            await self._complete(error=messages.UNEXPECTED)

    async def _complete(self, *, outputs: dict[str, Any] | None = None, error: str | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        try:
            if error is None:
                await self.client.functions_completeSuccess(
                    function_execution_id=self.execution_id, outputs=outputs or {}, token=self.step_token
                )
            else:
                await self.client.functions_completeError(
                    function_execution_id=self.execution_id, error=error, token=self.step_token
                )
        except SlackApiError as exc:
            # The images (if any) are posted and paid for; only the workflow's step is left open.
            log.warning(
                "slack: could not complete workflow step %s: %s", self.execution_id, exc.response.get("error")
            )
