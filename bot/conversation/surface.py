"""The small interface a surface implements: how to show what the conversation says.

For every turn the surface hands the conversation a `Reply`: the place that turn is answered
(an interaction's response, a reply to a message, a thread, a web timeline entry). The
conversation decides what to show; the reply renders it and posts the bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot import messages
from bot.engine.pipeline import Delivery, ProgressEvent
from bot.request.models import UNMARKED, GeneratedImage, GenerationResult, Job, PostTarget
from bot.request.validation import PROMPT_MAX_CHARS, model_name

__all__ = [
    "RESULT_ACTIONS",
    "Arrived",
    "Button",
    "Delivery",
    "Details",
    "EditForm",
    "Progress",
    "Reply",
    "ResumedReplies",
    "Shown",
    "result_buttons",
]

# The actions every result offers, in the order every surface shows them (Delete, the one that
# destroys, last in the row; messages.action_label words each). "upscale" is offered per image
# ("Upscale #2"); "cancel" belongs to a job still at work (see Reply.working).
RESULT_ACTIONS = ("reroll", "variations", "edit", "info", "delete", "upscale")


@dataclass(frozen=True, slots=True)
class Button:
    """One button of a result: its action and, for "Upscale #N", the image it is for."""

    action: str
    pick: int | None = None

    @property
    def label(self) -> str:
        """Its words in the current language (the language of the message it is on)."""
        return messages.action_label(self.action, self.pick)


def result_buttons(
    actions: Sequence[str], first: int = 1, count: int = 0
) -> tuple[tuple[Button, ...], tuple[Button, ...]]:
    """A result's buttons in the core's order: those for the whole request, then "Upscale #N"
    for each image a message shows (numbered from `first`); a surface lays out the two rows."""
    whole = tuple(Button(a) for a in actions if a != "upscale")
    each = tuple(Button("upscale", n) for n in range(first, first + count)) if "upscale" in actions else ()
    return whole, each


@dataclass(frozen=True, slots=True)
class Details:
    """What a result says under its prompt, for a surface to lay out."""

    fields: tuple[tuple[str, str], ...]  # (label, value): model, size, provider, time, left
    references: str = ""  # "image 1 = cat.png; image 2 = hat.png"
    notes: tuple[str, ...] = ()  # partial delivery, refitted, demo, not posted


@dataclass(frozen=True, slots=True)
class Shown:
    """A result as the conversation wants it shown."""

    result: GenerationResult
    prompt: str
    legend: str  # "image 1 = cat.png; image 2 = hat.png" (empty without references)
    # Quota units the requester has left once this result is settled (None: unlimited). The
    # images the provider did not return are about to be refunded, so they count as left.
    left: int | None
    requester: str  # how the surface names the requester ("<@123>")
    actions: tuple[str, ...] = RESULT_ACTIONS

    @property
    def later_actions(self) -> tuple[str, ...]:
        """What a result's later messages (images past what one message holds) offer: the
        actions that concern the images themselves, not the whole request."""
        return tuple(a for a in ("delete", "upscale") if a in self.actions)

    @property
    def unmarked(self) -> bool:
        """Made without the watermark asked for (the host that made it has no such field)."""
        return bool(self.result.usage.get(UNMARKED))

    def caption(self, delivered: int, *, refitted: bool = False) -> str:
        """The lines under the result (messages.result_caption) when `delivered` of its images
        were shown, `refitted` if some had to be made smaller to be posted."""
        result = self.result
        return messages.result_caption(
            prompt=self.prompt,
            model_name=model_name(result.model),
            size=result.size,
            provider=result.provider,
            elapsed=result.elapsed,
            left=self.left,
            delivered=delivered,
            requested=result.requested,
            demo=result.demo,
            refitted=refitted,
            legend=self.legend,
            weight=result.weight,
            unmarked=self.unmarked,
        )

    def details(self, made: int, *, posted: int | None = None, refitted: bool = False) -> Details:
        """The details as fields and notes, for a surface that lays them out itself: `made`
        images were ready to post and `posted` of them reached the user (all by default). The
        ones not posted are about to be refunded, so they count as left and a note says so."""
        result = self.result
        posted = made if posted is None else posted
        left = self._left(made, posted)
        notes = messages.result_notes(
            delivered=made,
            requested=result.requested,
            refitted=refitted,
            demo=result.demo,
            weight=result.weight,
            unmarked_by=result.provider if self.unmarked else None,
        )
        if posted < made:
            notes.append(messages.not_posted(posted, made, result.weight))
        return Details(
            fields=(
                (messages.LABEL_MODEL, model_name(result.model)),
                (messages.LABEL_SIZE, result.size),
                (messages.LABEL_PROVIDER, result.provider),
                (messages.LABEL_TIME, messages.seconds(result.elapsed)),
                (messages.LABEL_LEFT_TODAY, messages.UNLIMITED if left is None else str(left)),
            ),
            references=self.legend,
            notes=tuple(notes),
        )

    def not_posted(self, posted: int, made: int) -> str:
        """What a surface adds when only `posted` of `made` images reached the user after its
        caption went out (`caption` counted them all): the rest is refunded, and what is left
        says so."""
        text = messages.not_posted(posted, made, self.result.weight)
        left = self._left(made, posted)
        return text if left is None else f"{text}\n{messages.left_today(left)}"

    def _left(self, made: int, posted: int) -> int | None:
        """Units left once settled: images made but not posted are about to be refunded."""
        if self.left is None or posted >= made:
            return self.left
        return self.left + (made - posted) * self.result.weight


@dataclass(frozen=True, slots=True)
class Progress:
    """A job's status: `text` is what a chat message shows (the footer under it); the parts are
    for a surface that draws them itself (the playground's bar, the shell's status line): `line`
    is the first line without its text bar, `stage` "queued" or "running" ("" for any other)."""

    text: str
    line: str
    stage: str = ""
    position: int | None = None
    percent: float | None = None
    footer: str = ""
    # Not compared: a chat message is edited only when what it shows changes.
    elapsed: float = field(default=0.0, compare=False)  # seconds since the job started
    provider: str = field(default="", compare=False)  # the host at work, once one is

    @classmethod
    def said(cls, text: str) -> Progress:
        """A status the conversation words itself (starting, waiting for the job it edits)."""
        line, _, footer = text.partition("\n")
        return cls(text, line, footer=footer)

    @classmethod
    def of(cls, event: ProgressEvent, footer: str = "") -> Progress:
        """An engine event, worded in the current language."""
        text = event.text()
        running = event.stage == "running"
        return cls(
            text=f"{text}\n{footer}" if footer else text,
            line=messages.running(event.elapsed, None) if running else text,
            stage=event.stage,
            position=(event.position or 1) if event.stage == "queued" else None,
            percent=event.percent if running else None,
            footer=footer,
            elapsed=event.elapsed,
            provider=event.provider or "",
        )


@dataclass(frozen=True, slots=True)
class Arrived:
    """One image of a streamed batch, to show as soon as it is made."""

    job_id: str
    image: GeneratedImage
    index: int  # in the batch, from 0
    of: int  # images asked for
    prompt: str


@dataclass(frozen=True, slots=True)
class EditForm:
    """What to ask when Edit is pressed: the change, in at most `max_chars`, below the prompt of
    the result being edited (shown so the person knows what they change). No `job_id`: a
    message that is not one of our results, whose own images are edited (no prompt to show)."""

    job_id: str | None
    prompt: str
    max_chars: int = PROMPT_MAX_CHARS


class Reply(Protocol):
    """Where one turn is answered. Methods that post raise the platform's errors; the
    conversation turns them into a plain answer (CannotPost when the surface knows it may not
    post there)."""

    def target(self) -> PostTarget:
        """Where the job lives (stored on the job row, used after a restart)."""
        ...

    async def accepted(self, text: str) -> None:
        """The request is admitted: make sure its status message exists, showing `text`."""
        ...

    def working(self, job_id: str) -> None:
        """The job's id, once it is known: the status message offers Cancel from its next
        progress update on."""
        ...

    async def progress(self, progress: Progress) -> None:
        """Queue position or progress in the status message (throttled by the conversation)."""
        ...

    async def image(self, arrived: Arrived) -> bool:
        """One image of a streamed batch, shown at once (True); False when this surface shows a
        batch only when it is complete. `result()` then posts the images not shown yet
        (`shown.result.posted` are the ones that were)."""
        ...

    async def result(self, shown: Shown) -> Delivery:
        """Post the images with their actions; say how many reached the user and where."""
        ...

    async def refuse(self, text: str) -> None:
        """A refusal or failure, privately where the surface allows; the status message goes."""
        ...

    async def say(self, text: str) -> None:
        """A private answer (usage, help, info, history, admin)."""
        ...

    async def delete(self, job: Job) -> None:
        """Remove a result's messages from the conversation."""
        ...

    async def edit_form(self, form: EditForm) -> None:
        """Ask what should change in a result (a form); its answer comes back as an Edit."""
        ...

    async def interrupted(self, text: str, *, resumes: bool) -> None:
        """Shutting down mid-job: `text` says the next start resumes it (`resumes`), or that it
        was refunded (then shown like a refusal)."""
        ...


# After a restart: the reply for a job whose original turn is gone (its stored target).
ResumedReplies = Callable[[Job], Awaitable[Reply]]
