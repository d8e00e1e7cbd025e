"""The conversation's Reply on Slack: a thread's placeholder, uploads and private answers.

Work happens in a thread: a mention's or DM's own thread, a result's thread for its buttons,
or, for `/imagine`, a thread under a root "@you asked for: …" message posted only once the
request is admitted and fits the quota (and taken away again if nothing was delivered).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter.blocks import edit_modal
from adapters.slack_adapter.delivery import StatusMessage, ThreadDelivery, shares_of, upload_item
from adapters.slack_adapter.text import escape
from bot import messages
from bot.conversation.surface import Arrived, Delivery, EditForm, Progress, Shown
from bot.errors import CannotPost
from bot.request.models import Job, PostTarget

__all__ = ["CANNOT_POST", "SlackReply"]

log = logging.getLogger(__name__)

# Slack errors that mean the bot cannot write in that conversation.
CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


@dataclass
class SlackReply:
    client: AsyncWebClient
    channel: str
    thread_ts: str | None
    user: str
    respond: AsyncRespond | None = None
    # /imagine: the root message to post (and work under) once the request is admitted.
    root_text: str | None = None
    status_ts: str | None = None  # a resumed job's placeholder
    resumed: bool = False
    # A direct message with the bot: private already, so answers are plain messages there
    # (`channel` may be the person's user id until the first post names the DM).
    direct: bool = False
    trigger_id: str = ""  # a button's press: what a form opened in answer needs (3 s)
    _root_ts: str | None = field(default=None, init=False)
    _status: StatusMessage | None = field(default=None, init=False)
    _streamed: list[str] = field(default_factory=list, init=False)  # ts of streamed images
    _streamed_files: list[str] = field(default_factory=list, init=False)  # and their file ids
    _uploading: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    @property
    def status(self) -> StatusMessage:
        if self._status is None:
            self._status = StatusMessage(self.client, self.channel, self.thread_ts, ts=self.status_ts)
        return self._status

    def target(self) -> PostTarget:
        return PostTarget(self.channel, self.thread_ts, self._status.ts if self._status else self.status_ts)

    async def accepted(self, text: str) -> None:
        try:
            if self.root_text is not None and self._root_ts is None:
                root = await self.client.chat_postMessage(channel=self.channel, text=self.root_text)
                self.channel, self.thread_ts = str(root["channel"]), str(root["ts"])
                self._root_ts = self.thread_ts
            await self.status.ensure(text)
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in CANNOT_POST:
                raise CannotPost(messages.NOT_IN_CHANNEL, detail=error) from exc
            raise

    def working(self, job_id: str) -> None:
        self.status.cancel_job = job_id

    async def progress(self, progress: Progress) -> None:
        await self.status.show(progress.text)

    async def image(self, arrived: Arrived) -> bool:
        """A streamed image goes into the thread as soon as it is made (one upload at a time, so
        the images keep their order)."""
        item = upload_item(arrived.image, arrived.job_id, arrived.index + 1, arrived.of, arrived.prompt)
        try:
            async with self._uploading:
                response = await self.client.files_upload_v2(
                    file_uploads=[item], channel=self.channel, thread_ts=self.thread_ts
                )
        except SlackApiError as exc:
            log.info("slack: streamed image %d not posted: %s", arrived.index + 1, exc.response.get("error"))
            return False
        files = response.get("files") or []
        self._streamed.extend(await shares_of(self.client, files, self.channel))
        # a workflow step hands the files on: the streamed ones too (its output had only the rest)
        self._streamed_files.extend(str(f["id"]) for f in files if isinstance(f, dict) and f.get("id"))
        self._root_ts = None  # the root heads images now: it stays, whatever happens next
        return True

    def delivery(self, shown: Shown) -> ThreadDelivery:
        """What uploads `shown` into this reply's thread."""
        return ThreadDelivery(
            client=self.client,
            channel=self.channel,
            thread_ts=self.thread_ts,
            status=self.status,
            shown=shown,
            streamed=list(self._streamed),
            file_ids=list(self._streamed_files),
        )

    async def result(self, shown: Shown) -> Delivery:
        delivery = await self.delivery(shown)(shown.result)
        self._root_ts = None  # the root now heads a result: it stays
        return delivery

    async def refuse(self, text: str) -> None:
        if self.resumed:
            await self.status.replace(text)
            return
        await self.status.remove()
        if self._root_ts is not None:
            # Nothing was delivered: take the request line away too, the user is told privately.
            with contextlib.suppress(SlackApiError):
                await self.client.chat_delete(channel=self.channel, ts=self._root_ts)
            self._root_ts = None
        await self.say(text)

    async def say(self, text: str) -> None:
        """Only the asker sees it: in the thread when there is one, else via response_url; in a
        direct message, a plain message there."""
        body = escape(text)
        if self.direct:
            try:
                await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, text=body)
            except SlackApiError as exc:
                log.info("slack: message to %s failed: %s", self.user, exc.response.get("error"))
            return
        if self.channel and (self.thread_ts or self.respond is None):
            try:
                await self.client.chat_postEphemeral(
                    channel=self.channel, user=self.user, text=body, thread_ts=self.thread_ts
                )
                return
            except SlackApiError as exc:
                log.info("slack: ephemeral to %s failed: %s", self.user, exc.response.get("error"))
        if self.respond is not None:
            try:
                await self.respond(text=body, response_type="ephemeral", replace_original=False)
            except Exception:
                log.warning("slack: could not answer %s through response_url", self.user, exc_info=True)

    async def edit_form(self, form: EditForm) -> None:
        try:
            await self.client.views_open(trigger_id=self.trigger_id, view=edit_modal(form))
        except SlackApiError as exc:  # expired_trigger_id: pressed again, it opens
            log.warning("slack: could not open the Edit form: %s", exc.response.get("error"))

    async def delete(self, job: Job) -> None:
        for ts in job.result_message_ids:
            try:
                await self.client.chat_delete(channel=job.channel_id or self.channel, ts=ts)
            except SlackApiError as exc:
                log.info("slack: could not delete %s: %s", ts, exc.response.get("error"))

    async def interrupted(self, text: str, *, resumes: bool) -> None:
        await self.status.remove()
        await self.say(text)
