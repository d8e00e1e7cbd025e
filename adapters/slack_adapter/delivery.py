"""Posting into a thread: the progress placeholder, and the finished images.

The placeholder is one message updated in place (queued #n, generating with elapsed time and
a progress bar). Updates run in the background and are throttled (bot.conversation.progress.ProgressRelay,
as on Discord), so a slow or rate-limited chat.update never holds up the job. Results are
uploaded into the thread with files_upload_v2 and a short comment, then the Re-roll /
Variations / Edit buttons follow; the placeholder is removed once the images are there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter.blocks import result_controls, section, status_blocks
from adapters.slack_adapter.text import escape
from bot import messages
from bot.conversation.batches import post_groups
from bot.conversation.surface import Delivery, Shown
from bot.media.packing import UploadLimits, fit_and_pack
from bot.request.models import GeneratedImage, GenerationResult

__all__ = [
    "FILES_PER_MESSAGE",
    "UPLOAD_MAX_BYTES",
    "StatusMessage",
    "ThreadDelivery",
    "describe",
    "shared_ts",
    "shares_of",
    "transient",
    "upload_item",
]

log = logging.getLogger(__name__)

# Slack takes files up to 1 GB; a Seedream image is a few MB, so refitting is a safety net.
UPLOAD_MAX_BYTES = 1_000_000_000
# One message shows at most 10 files; a batch of up to 15 goes out in two messages.
FILES_PER_MESSAGE = 10


class StatusMessage:
    """The placeholder in the thread, posted once and then updated in place; the throttling of
    progress updates is bot.conversation.progress.ProgressRelay's."""

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        thread_ts: str | None,
        *,
        ts: str | None = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.ts = ts
        self.cancel_job: str | None = None  # the job at work: its progress offers Cancel
        self._lock = asyncio.Lock()
        self._closed = False

    async def ensure(self, text: str = messages.STARTING) -> str | None:
        """Post the placeholder if it is not there yet; returns its ts (None if posting failed).
        It only shows how the job goes: when Slack fails for a moment (a 500, a 429 past the
        retries, a dropped connection) the job goes on without it, and the result comes as
        usual; an error that will not pass (not_in_channel, ...) goes up."""
        async with self._lock:
            if self.ts is None and not self._closed:
                try:
                    await self._post(text)
                except UPLOAD_FAILURES as exc:
                    if not transient(exc) and describe(exc) != "ratelimited":
                        raise
                    log.info("slack: status message not posted (%s); going on without it", describe(exc))
            return self.ts

    async def show(self, text: str) -> None:
        """A progress text in the placeholder (posting it, if it is not there yet)."""
        async with self._lock:
            if self._closed:
                return
            if self.ts is None:
                await self._post(text)
            elif self.cancel_job is not None:
                await self.client.chat_update(
                    channel=self.channel,
                    ts=self.ts,
                    text=escape(text),
                    blocks=status_blocks(text, self.cancel_job),
                )
            else:
                await self.client.chat_update(channel=self.channel, ts=self.ts, text=escape(text))

    async def _post(self, text: str) -> None:
        response = await self.client.chat_postMessage(
            channel=self.channel, thread_ts=self.thread_ts, text=escape(text)
        )
        self.ts = str(response["ts"])

    async def _stop_updates(self) -> None:
        """No more progress: the conversation stops its updates before the result or a refusal;
        the lock lets an update in flight finish first, so the caller's edit is the last."""
        async with self._lock:
            self._closed = True

    async def remove(self) -> None:
        """Delete the placeholder (the result or an ephemeral error replaces it)."""
        await self._stop_updates()
        if self.ts is None:
            return
        try:
            await self.client.chat_delete(channel=self.channel, ts=self.ts)
        except SlackApiError as exc:
            log.info("slack: could not remove placeholder: %s", exc.response.get("error"))

    async def replace(self, text: str) -> None:
        """Leave a final note in the placeholder's place (posting one if there is none)."""
        await self._stop_updates()
        try:
            if self.ts is None:
                await self.client.chat_postMessage(
                    channel=self.channel, thread_ts=self.thread_ts, text=escape(text)
                )
            else:  # a section in place of the status blocks (and their Cancel)
                await self.client.chat_update(
                    channel=self.channel, ts=self.ts, text=escape(text), blocks=[section(text)]
                )
        except SlackApiError as exc:
            log.info("slack: could not post a status note: %s", exc.response.get("error"))


@dataclass
class ThreadDelivery:
    """Uploads one job's images into its thread, `shown` as the conversation wants it."""

    client: AsyncWebClient
    channel: str
    thread_ts: str | None
    status: StatusMessage
    shown: Shown
    upload_max_bytes: int = UPLOAD_MAX_BYTES
    # The Slack files posted, in order (a workflow step hands them on as its output).
    file_ids: list[str] = field(default_factory=list)

    # Message ts of images already uploaded as they streamed in (see SlackReply.image).
    streamed: list[str] = field(default_factory=list)

    async def __call__(self, result: GenerationResult) -> Delivery:
        posted = len(result.posted)
        rest = tuple(image for i, image in enumerate(result.images) if i not in result.posted)
        packed = await fit_and_pack(rest, UploadLimits(self.upload_max_bytes, FILES_PER_MESSAGE))
        images = packed.images
        if not images and not posted:  # none fits the upload limit: the engine says so
            return Delivery(delivered=0)
        caption = self.shown.caption(posted + len(images), refitted=packed.refitted)
        total = posted + len(images)
        uploads = [
            upload_item(image, result.job_id, i, total, self.shown.prompt)
            for i, image in enumerate(images, start=posted + 1)
        ]
        if not uploads:  # every image came as it was made: the caption closes the batch
            await self._say(escape(caption))

        async def upload(n: int, group: Sequence[int]) -> list[str]:
            """One message of files; the ts of the message that shares them, when Slack says."""
            response = await self._upload([uploads[i] for i in group], escape(caption) if n == 0 else None)
            files = response.get("files") or []
            self.file_ids.extend(str(f["id"]) for f in files if isinstance(f, dict) and f.get("id"))
            return await shares_of(self.client, files, self.channel)

        # Earlier messages in the thread are charged when a later one fails; the rest refunded.
        outcome = await post_groups(packed.groups, upload, job_id=result.job_id, before=posted, ids=list)
        delivered = outcome.delivered
        message_ids = [*self.streamed, *(ts for shared in outcome.sent for ts in shared)]
        if outcome.short:
            await self._say(self.shown.not_posted(delivered, outcome.planned))
        # The images are in the thread now: whatever happens to the buttons, they count.
        try:
            controls = await self.client.chat_postMessage(
                channel=self.channel,
                thread_ts=self.thread_ts,
                text=messages.RESULT_ACTIONS,
                blocks=result_controls(result.job_id, delivered, self.shown.actions),
            )
            message_ids.append(str(controls["ts"]))
        except SlackApiError as exc:
            log.warning("slack: job %s: buttons not posted: %s", result.job_id, exc.response.get("error"))
        await self.status.remove()
        return Delivery(
            delivered=delivered, message_ids=tuple(dict.fromkeys(message_ids)), thread_id=self.thread_ts
        )

    async def _say(self, text: str) -> None:
        try:
            await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, text=text)
        except SlackApiError as exc:
            log.info("slack: could not post a note: %s", exc.response.get("error"))

    async def _upload(self, chunk: list[dict[str, Any]], comment: str | None) -> Any:
        """files_upload_v2, once more after a transient failure: the images are paid for."""

        async def upload() -> Any:
            return await self.client.files_upload_v2(
                file_uploads=chunk, channel=self.channel, thread_ts=self.thread_ts, initial_comment=comment
            )

        since = time.time()
        try:
            return await upload()
        except UPLOAD_FAILURES as exc:
            failure = describe(exc)
            if failure != ALREADY_COMPLETED and not transient(exc):
                raise
        # The last step (completeUploadExternal) can fail after sharing the files: its answer lost
        # (slack-sdk's resend then hears file_already_completed), or a 5xx page after the work.
        # Posted again, the person would see the images twice; failed, be told none came.
        shared = await self._shared_since(chunk, since)
        if shared or failure == ALREADY_COMPLETED:  # Slack did it, though the lookup can't show it
            log.info("slack: the failed upload (%s) had shared its files; not posting them again", failure)
            return {"files": shared or []}
        # None of them shared: once more. When Slack can't say, once more too: images paid for
        # and never shown are worse than images shown twice.
        log.info("slack: upload failed (%s); retrying once", failure)
        return await upload()

    async def _shared_since(self, chunk: list[dict[str, Any]], since: float) -> list[dict[str, Any]] | None:
        """The chunk's files found shared in this channel since `since` (their names hold the job
        and the position; one completeUploadExternal shares all of them or none); None when Slack
        can't say."""
        names = {str(item["filename"]) for item in chunk}
        try:
            listed = await self.client.files_list(
                channel=self.channel, ts_from=str(int(since) - 1), types="images", count=100
            )
        except UPLOAD_FAILURES as exc:
            log.info("slack: could not look for the failed upload's files: %s", describe(exc))
            return None
        return [f for f in listed.get("files") or [] if isinstance(f, dict) and f.get("name") in names]


def upload_item(image: GeneratedImage, job_id: str, n: int, total: int, prompt: str) -> dict[str, Any]:
    """One image as files_upload_v2 takes it: named by job and position, titled by the prompt."""
    return {
        "content": image.data,
        "filename": image.filename(job_id, n),
        "title": f"{prompt[:80]} ({n}/{total})" if total > 1 else prompt[:80],
        "alt_txt": prompt[:1000],
    }


# What an upload may fail with: the Web API's answers (steps 1 and 3), and the POST of the bytes
# to the file host (step 2), which is no Web API call (SlackRequestError on a non-200, or the
# connection's own error). Only the first was caught: a 500 from the file host on the second
# message of a batch refunded all of it, the ten images already posted kept, without buttons.
UPLOAD_FAILURES = (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError)

# Slack errors worth one more try (its docs: temporary server-side conditions).
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
# slack-sdk sends a call again when its connection drops: an upload's last step Slack had done
# already answers this the second time.
ALREADY_COMPLETED = "file_already_completed"


def transient(exc: BaseException) -> bool:
    """A failure that may pass: a temporary Slack error, a 5xx without Slack's JSON answer (a
    proxy's page: no `error`), the connection's own error or a timeout."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error")
        return error in TRANSIENT_ERRORS or (not error and exc.response.status_code >= 500)
    return isinstance(exc, UPLOAD_FAILURES)


def describe(exc: BaseException) -> str:
    """A failure in a word for the log: Slack's error, the HTTP status, or the exception's kind."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return type(exc).__name__


async def shares_of(client: AsyncWebClient, files: list[Any], channel: str) -> list[str]:
    """The ts of the message that shared the uploaded files. Slack fills a file's `shares` a
    moment after the upload (python-slack-sdk #1277): where the answer has none yet, files.info
    is asked a few times. Without it, Delete removed only the buttons and left the images, and
    links (History, Home) pointed at the buttons."""
    found = shared_ts(files, channel)
    first = next((str(f["id"]) for f in files if isinstance(f, dict) and f.get("id")), None)
    for wait in (0.3, 0.7, 1.5):
        if found or first is None:
            break
        await asyncio.sleep(wait)
        try:
            info = (await client.files_info(file=first)).get("file")
        except SlackApiError as exc:
            log.info("slack: file %s not read back: %s", first, exc.response.get("error"))
            break
        found = shared_ts([info], channel)
    return found


def shared_ts(files: list[Any], channel: str) -> list[str]:
    """The ts of the message that shared the uploaded files (when Slack reports it already)."""
    found: list[str] = []
    for info in files:
        if not isinstance(info, dict):
            continue
        for kind in ("public", "private"):
            for share in (info.get("shares") or {}).get(kind, {}).get(channel, []):
                ts = share.get("ts")
                if ts and ts not in found:
                    found.append(str(ts))
    return found
