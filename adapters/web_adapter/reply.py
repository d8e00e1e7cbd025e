"""The conversation's Reply in the playground: entries in a thread of the timeline.

    accepted / progress   the thread's status entry, edited in place (queue position, then
                          "Generating… 3s" with the percent split out for a real progress bar)
    result                the images (kept in the ImageStore), the core's caption, the actions
    refuse                the status entry goes; the refusal stays in the thread
    say                   a note in the thread (info, deleted, ...)
    delete                the result's entries leave the thread

`Answer` is the Reply of a turn answered in the HTTP response itself (usage, help, Edit's form,
a button on something that is not a result here): it only collects what the conversation says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.web_adapter.store import ImageStore, Stored
from adapters.web_adapter.timeline import Timeline, new_id
from bot import messages
from bot.conversation.surface import Arrived, Delivery, EditForm, Progress, Shown, result_buttons
from bot.request.models import GeneratedImage, Job, PostTarget

__all__ = ["CHANNEL", "Answer", "Page", "WebReply", "result_key", "status_fields"]

CHANNEL = "playground"  # the one channel of the playground; a request's thread is its thread id


def result_key(job_id: str, n: int) -> str:
    return f"r/{job_id}/{n}"


def status_fields(progress: Progress) -> dict[str, Any]:
    """What the page shows of a job's status: the first line (without the text bar), the stage,
    the queue position or percent, and the lines under it (which image is which)."""
    return {
        "text": progress.line,
        "stage": progress.stage,
        "percent": progress.percent,
        "position": progress.position,
        "footer": progress.footer,
    }


@dataclass
class Page:
    """What every reply of the playground writes to."""

    timeline: Timeline = field(default_factory=Timeline)
    store: ImageStore = field(default_factory=ImageStore)


class WebReply:
    def __init__(self, page: Page, thread_id: str, *, status_id: str | None = None) -> None:
        self.page = page
        self.thread_id = thread_id
        # The status entry's id is the job's message id: known before the entry is shown.
        self.status_id = status_id or new_id("s")
        self._shown = False
        self._streamed: list[dict[str, object]] = []  # images of a streamed batch shown so far
        self._stream_entry: str | None = None
        self._job: str | None = None  # the job at work: its status entry offers Cancel

    @property
    def timeline(self) -> Timeline:
        return self.page.timeline

    def target(self) -> PostTarget:
        return PostTarget(CHANNEL, self.thread_id, self.status_id)

    async def accepted(self, text: str) -> None:
        self._status(Progress.said(text))

    def working(self, job_id: str) -> None:
        self._job = job_id

    async def progress(self, progress: Progress) -> None:
        self._status(progress)

    def _status(self, progress: Progress) -> None:
        fields = status_fields(progress)
        if self._job is not None:
            fields.update(
                job=self._job, actions=[{"action": "cancel", "label": messages.action_label("cancel")}]
            )
        if self._shown and self.timeline.update(self.thread_id, self.status_id, **fields) is not None:
            return
        self.timeline.add(self.thread_id, "status", entry_id=self.status_id, **fields)
        self._shown = True

    def _clear_status(self) -> None:
        self.timeline.remove(self.thread_id, {self.status_id})
        self._shown = False

    def _keep(self, job: str, n: int, image: GeneratedImage) -> dict[str, object]:
        """Store one result image for the page; what the gallery shows of it."""
        name = image.filename(job, n)
        self.page.store.put(result_key(job, n), Stored(image.data, image.mime, name))
        url = f"/media/results/{job}/{n}"
        return {
            "url": url,
            "thumb": f"{url}/thumb",
            "width": image.width,
            "height": image.height,
            "name": name,
        }

    async def image(self, arrived: Arrived) -> bool:
        """A streamed image joins the thread's gallery as soon as it is made."""
        self._streamed.append(self._keep(arrived.job_id, len(self._streamed) + 1, arrived.image))
        caption = messages.streaming(len(self._streamed), arrived.of)
        if self._stream_entry is None:
            entry = self.timeline.add(
                self.thread_id,
                "result",
                job=arrived.job_id,
                prompt=arrived.prompt,
                images=list(self._streamed),
                caption=caption,
                actions=[],
            )
            self._stream_entry = entry.id
        else:
            self.timeline.update(
                self.thread_id, self._stream_entry, images=list(self._streamed), caption=caption
            )
        return True

    async def result(self, shown: Shown) -> Delivery:
        result = shown.result
        job = result.job_id
        streamed = [img for n, img in enumerate(result.images) if n in result.posted]
        rest = [img for n, img in enumerate(result.images) if n not in result.posted]
        images = [self._keep(job, n, image) for n, image in enumerate([*streamed, *rest], start=1)]
        caption = shown.caption(len(images))
        actions = [
            {"action": b.action, "label": b.label, **({"pick": b.pick} if b.pick else {})}
            for row in result_buttons(shown.actions, 1, len(images))
            for b in row
        ]
        fields: dict[str, Any] = {
            "job": job,
            "prompt": shown.prompt,
            "images": images,
            "caption": caption,
            "actions": actions,
        }
        updated = (
            self.timeline.update(self.thread_id, self._stream_entry, **fields) if self._stream_entry else None
        )
        entry = updated or self.timeline.add(self.thread_id, "result", **fields)
        self._clear_status()
        return Delivery(delivered=len(images), message_ids=(entry.id,), thread_id=self.thread_id)

    async def refuse(self, text: str) -> None:
        self._clear_status()
        self.timeline.add(self.thread_id, "refusal", text=text)

    async def say(self, text: str) -> None:
        self.timeline.add(self.thread_id, "note", text=text)

    async def delete(self, job: Job) -> None:
        self.page.store.drop_prefix(f"r/{job.id}/")
        self.page.store.drop_prefix(f"t/r/{job.id}/")
        self.timeline.remove(job.thread_id or self.thread_id, set(job.result_message_ids))

    async def edit_form(self, form: EditForm) -> None:
        raise RuntimeError("the playground asks for an edit in the HTTP response (an Answer)")

    async def interrupted(self, text: str, *, resumes: bool) -> None:
        if resumes:
            self._status(Progress.said(text))
        else:
            await self.refuse(text)


class Answer:
    """A turn answered in the HTTP response: collects what the conversation says."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.form: EditForm | None = None  # Edit pressed: the page asks in the thread's reply box
        self.refused = False  # the page shows a refusal in red, anything else as a note

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def target(self) -> PostTarget:
        return PostTarget(CHANNEL)

    async def accepted(self, text: str) -> None:
        raise RuntimeError("an Answer shows no job")

    def working(self, job_id: str) -> None:
        return None

    async def progress(self, progress: Progress) -> None:
        return None

    async def image(self, arrived: Arrived) -> bool:
        return False

    async def result(self, shown: Shown) -> Delivery:
        raise RuntimeError("an Answer shows no job")

    async def refuse(self, text: str) -> None:
        self.texts.append(text)
        self.refused = True

    async def say(self, text: str) -> None:
        self.texts.append(text)

    async def delete(self, job: Job) -> None:
        raise RuntimeError("an Answer deletes nothing")

    async def edit_form(self, form: EditForm) -> None:
        self.form = form

    async def interrupted(self, text: str, *, resumes: bool) -> None:
        return None
