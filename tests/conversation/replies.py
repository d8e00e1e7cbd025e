"""A Reply that records what the conversation told it, for driving the core without a surface."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.conversation.surface import Arrived, EditForm, Progress, Shown
from bot.engine.pipeline import Delivery
from bot.request.models import Job, PostTarget

_ids = itertools.count(1000)


@dataclass
class RecordingReply:
    channel: str = "c1"
    log: list[tuple[str, Any]] = field(default_factory=list)
    posted: tuple[str, ...] = ()  # the result's message ids, once it is up
    job_id: str | None = None
    deleted: list[str] = field(default_factory=list)
    status: str | None = None

    def target(self) -> PostTarget:
        return PostTarget(self.channel, None, self.status)

    async def accepted(self, text: str) -> None:
        self.status = self.status or str(next(_ids))

    def working(self, job_id: str) -> None:
        self.job_id = job_id

    async def progress(self, progress: Progress) -> None:
        pass

    async def image(self, arrived: Arrived) -> bool:
        return False

    async def result(self, shown: Shown) -> Delivery:
        self.posted = (str(next(_ids)),)
        return Delivery(len(shown.result.images), self.posted)

    async def refuse(self, text: str) -> None:
        self.log.append(("refuse", text))

    async def say(self, text: str) -> None:
        self.log.append(("say", text))

    async def delete(self, job: Job) -> None:
        self.deleted.extend(job.result_message_ids)

    async def edit_form(self, form: EditForm) -> None:
        self.log.append(("form", form))

    async def interrupted(self, text: str, *, resumes: bool) -> None:
        self.log.append(("interrupted", text))

    def said(self) -> list[str]:
        return [text for kind, text in self.log if kind in ("say", "refuse")]
