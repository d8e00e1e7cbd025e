"""The playground as a surface of the conversation: requests become turns, replies fill threads.

    the prompt box (text, options, files)        -> Ask, in a new thread
    a reply in a thread (text, files)            -> Edit of the thread's latest result (waits if
                                                    it is still being made); after Edit on one
                                                    result, Edit of that one
    Re-roll / Variations / Delete / Info         -> the same turns as on every surface, answered
                                                    in the result's thread
    usage, help, the history gallery             -> Usage, Help, and the conversation's list

The playground has one user, `web:local` (workspace `web:local`: `seedbot settings web:local ...`
sets its defaults; SEEDBOT_DAILY_IMAGES / MONTHLY apply; SEEDBOT_ADMINS=web:local lifts them).
What a user may do, and every word they read, is decided in bot/conversation.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from adapters.web_adapter.reply import CHANNEL, Answer, Page, WebReply, result_key
from adapters.web_adapter.store import Stored
from adapters.web_adapter.timeline import Timeline, new_id
from adapters.web_adapter.uploads import Form, WebAttachments
from bot import i18n, messages
from bot.app.runtime import Runtime
from bot.conversation.conversation import Surface
from bot.conversation.tasks import BackgroundTasks
from bot.conversation.turns import (
    MAKES_IMAGES,
    Action,
    Ask,
    CastCommand,
    Edit,
    Help,
    ResultRef,
    Turn,
    Usage,
    pressed,
)
from bot.errors import InvalidRequest, SeedbotError
from bot.request.flags import flag_help
from bot.request.models import ImageInput, Job, Requester, result_filename

__all__ = ["PLATFORM", "PROGRESS_INTERVAL", "USER", "WebSurface", "channel_id"]

log = logging.getLogger(__name__)

# What the timeline keeps of a message, at most: far past any prompt seedbot takes, so only
# text it refuses is cut (two refused 20 MB prompts were kept whole, and sent to every page).
SHOWN_MAX = 10_000


def _kept(text: str) -> str:
    return text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "…"


PLATFORM = "web"
PROGRESS_INTERVAL = 0.5  # seconds between status updates: a page is not rate-limited
USER = Requester(
    platform=PLATFORM, user_id="local", workspace_id="local", channel_id=CHANNEL, display_name="you"
)


def channel_id(who: Requester, word: str) -> str:
    """`admin settings channels`: the playground's one channel (`here` is read by the core).
    Any other word would lock its one user out."""
    if word.lstrip("#").lower() == CHANNEL:
        return CHANNEL
    raise InvalidRequest(messages.bad_setting_value("channels", word, messages.HINT_PLAYGROUND_CHANNEL))


def user() -> Requester:
    """The playground's one user, speaking the language of this request (language.py)."""
    return dataclasses.replace(USER, locale=i18n.current())


class WebSurface:
    def __init__(self, runtime: Runtime, page: Page, tasks: BackgroundTasks) -> None:
        self.conversation = runtime.conversation
        self.page = page
        self.tasks = tasks
        self.conversation.attach(
            Surface(
                PLATFORM,
                resumed=self.resumed_reply,
                help=self.help,
                progress_interval=PROGRESS_INTERVAL,
                channel=channel_id,
            )
        )

    @staticmethod
    def help() -> str:
        return messages.playground_help(flag_help())

    @property
    def timeline(self) -> Timeline:
        return self.page.timeline

    # -- turns that make images: run in the background, shown in their thread -------------------

    def _spawn(self, action: Action, what: str, thread_id: str) -> None:
        reply = WebReply(self.page, thread_id)
        turn = Turn(user(), action, what)
        if not self.tasks.spawn(self._handle(turn, reply), name=f"web {what} {thread_id}"):
            self.timeline.add(thread_id, "refusal", text=messages.SHUTTING_DOWN)

    async def _handle(self, turn: Turn, reply: WebReply | Answer) -> None:
        await self.conversation.handle(turn, reply)
        await self.publish_usage()

    def _attachments(self, form: Form, thread_id: str, entry_id: str) -> WebAttachments:
        def shown(images: list[ImageInput]) -> None:
            refs = []
            for image in images:
                upload = new_id("u")
                self.page.store.put(f"u/{upload}", Stored(image.data, image.mime))
                url = f"/media/uploads/{upload}"
                refs.append({"url": url, "thumb": f"{url}/thumb", "name": image.name})
            self.timeline.update(thread_id, entry_id, refs=refs)

        return WebAttachments(form.uploads, on_loaded=shown)

    def ask(self, form: Form) -> str:
        """A new request in a new thread; returns the thread's id."""
        title = " ".join(_kept(form.text).split()) or ", ".join(u.name for u in form.uploads)
        thread = self.timeline.new_thread(title)
        entry = self.timeline.add(
            thread.id,
            "ask",
            text=_kept(form.text),
            options=form.options.chips(),
            files=[u.name for u in form.uploads],
            refs=[],
        )
        attachments = self._attachments(form, thread.id, entry.id)
        # As on the bots, "usage", "help" or "history" alone answer instead of drawing.
        self._spawn(Ask(form.text, form.options, attachments, commands=True), "ask", thread.id)
        return str(thread.id)

    def reply(self, thread_id: str, form: Form) -> None:
        """A reply in a thread: an edit of its latest result, or of the one Edit was pressed on."""
        self.timeline.ensure(thread_id, _kept(form.text))
        entry = self.timeline.add(
            thread_id,
            "ask",
            text=_kept(form.text),
            options=[],
            files=[u.name for u in form.uploads],
            refs=[],
            edits=form.job,
        )
        ref = ResultRef(job_id=form.job) if form.job else ResultRef(thread=(CHANNEL, thread_id))
        edit = Edit(ref, form.text, self._attachments(form, thread_id, entry.id), commands=True)
        self._spawn(edit, "reply", thread_id)

    async def press(self, job_id: str, action: str, pick: int | None = None) -> Answer:
        """A button on a result (or Cancel on a status). Answered in the job's thread (an empty
        Answer returned), or in the Answer: for a job that is not one here, its text; for Edit,
        the form the thread's reply box becomes. `pick`: Upscale's image."""
        job = await self.conversation.where(job_id)
        turn = pressed(action, job_id, pick)
        if action == "edit" or job is None or job.platform != PLATFORM or not job.thread_id:
            answer = Answer()
            await self.conversation.handle(Turn(user(), turn, action), answer)
            if answer.form is None and not answer.texts:
                await answer.refuse(messages.NOT_A_RESULT)
            return answer
        thread_id = job.thread_id
        self.timeline.ensure(thread_id, messages.shown_prompt(job.prompt))
        if action in MAKES_IMAGES:
            label = messages.action_label(action, pick or 1)
            self.timeline.add(
                thread_id, "ask", text="", pressed=label, job=job_id, options=[], files=[], refs=[]
            )
            self._spawn(turn, action, thread_id)
        else:  # quick: answered before the response
            await self._handle(Turn(user(), turn, action), WebReply(self.page, thread_id))
        return Answer()

    # -- the saved cast and styles ----------------------------------------------------------------

    async def cast(self, command: CastCommand) -> Answer:
        """Save (from a result: `command.result`, `pick`), list or remove, answered in the response."""
        answer = Answer()
        await self.conversation.handle(Turn(user(), command, f"cast {command.verb}"), answer)
        return answer

    async def cast_entries(self) -> list[dict[str, Any]]:
        """The person's cast for the Cast dialog: names, sizes, where the image came from."""
        entries = await self.conversation.cast.entries(user())
        return [
            {
                "name": e.name,
                "url": f"/media/cast/{e.name}",
                "thumb": f"/media/cast/{e.name}/thumb",
                "width": e.image.width,
                "height": e.image.height,
                "label": e.image.name,
            }
            for e in entries
        ]

    async def cast_image(self, name: str) -> Stored | None:
        for entry in await self.conversation.cast.entries(user()):
            if entry.name == name:
                return Stored(entry.image.data, entry.image.mime)
        return None

    async def choices(self) -> tuple[list[str], list[str]]:
        """The style names and cast names the form offers."""
        return await self.conversation.styles.names(user()), await self.conversation.cast.names(user())

    # -- answers in the response ------------------------------------------------------------------

    async def answer(self, action: Usage | Help) -> str:
        reply = Answer()
        await self.conversation.handle(Turn(user(), action, type(action).__name__.lower()), reply)
        return reply.text

    async def usage(self) -> str:
        return await self.answer(Usage())

    async def publish_usage(self) -> None:
        try:
            text = await self.conversation.usage(user())
        except Exception:
            log.warning("web: could not read the usage", exc_info=True)
            return
        self.timeline.publish("usage", {"text": text})

    async def history(self, limit: int = 24) -> list[dict[str, Any]]:
        """The gallery: the newest jobs, their images (while kept) and the thread they are in."""
        out = []
        for job in await self.conversation.recent(user(), limit):
            shown = job.deleted_at is None
            urls = (
                [f"/media/results/{job.id}/{n}" for n in range(1, job.images_delivered + 1)] if shown else []
            )
            images = [{"url": url, "thumb": f"{url}/thumb"} for url in urls]
            out.append(
                {
                    "id": job.id,
                    "prompt": messages.shown_prompt(job.prompt),
                    "status": str(job.status),
                    "kind": job.kind,
                    "created": job.created_at,
                    "deleted": not shown,
                    "images": images,
                    "thread": job.thread_id if job.thread_id and self.timeline.get(job.thread_id) else None,
                }
            )
        return out

    async def result_image(self, job_id: str, n: int) -> Stored | None:
        """A result's image n (from 1): as shown, or read again through the conversation."""
        key = result_key(job_id, n)
        found = self.page.store.get(key)
        if found is not None:
            return found
        try:
            images = await self.conversation.images(user(), job_id)
        except SeedbotError:
            return None
        for i, image in enumerate(images, start=1):
            self.page.store.put(
                result_key(job_id, i), Stored(image.data, image.mime, result_filename(job_id, i, image.mime))
            )
        return self.page.store.get(key)

    # -- jobs resumed after a restart ---------------------------------------------------------------

    async def resumed_reply(self, job: Job) -> WebReply:
        thread_id = job.thread_id or new_id("t")
        self.timeline.ensure(thread_id, messages.shown_prompt(job.prompt))
        return WebReply(self.page, thread_id, status_id=job.message_id)
