"""What seedbot does for each kind of Slack input, after the ack.

    mention / DM / reply in a seedbot thread  -> new image, or an edit of the thread's latest result
    /imagine <prompt>                         -> a root message in the channel, work in its thread
    /imagine usage, App Home                  -> images left and when they reset
    Re-roll / Variations / Edit (modal)       -> a new job from the result's job id (ledger)

Everything that is not Slack (flags, request building, wording, quotas) is in `bot/`.
Errors reach the user ephemerally, in the words of `bot.messages`, always saying whether they
were charged; anything unexpected is logged with its context and shown as messages.UNEXPECTED.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter import blocks
from adapters.slack_adapter.community import SlackCommunity
from adapters.slack_adapter.dedupe import SeenMessages
from adapters.slack_adapter.delivery import StatusMessage, ThreadDelivery
from adapters.slack_adapter.files import SlackFiles
from adapters.slack_adapter.text import escape, to_plain
from bot import messages
from bot.app.runtime import Runtime
from bot.conversation.compose import Composed, compose_edit, compose_new, compose_reroll, compose_variations
from bot.engine.pipeline import Delivery
from bot.errors import DeliveryError, InvalidRequest, SeedbotError
from bot.request.flags import FLAG_HELP
from bot.request.models import GenerationResult, Job, PostTarget, Requester

__all__ = ["PLATFORM", "Origin", "SlackHandlers", "requester_for"]

log = logging.getLogger(__name__)

PLATFORM = "slack"
COMMAND = "/imagine"
# Message subtypes that are a person writing; edits, deletions, joins and bots are not.
_USER_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
# Slack errors that mean the bot cannot write in that conversation.
_CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
_OTHER_MENTION = re.compile(r"<[@!]")


def requester_for(team_id: str, user_id: str, channel_id: str | None = None) -> Requester:
    return Requester(
        platform=PLATFORM, user_id=f"{team_id}:{user_id}", workspace_id=team_id, channel_id=channel_id
    )


def _requester_for_job(job: Job) -> Requester:
    user_id = job.user_key.split(":", 1)[1] if ":" in job.user_key else job.user_key
    return Requester(
        platform=PLATFORM, user_id=user_id, workspace_id=job.workspace_id, channel_id=job.channel_id
    )


@dataclass(frozen=True, slots=True)
class Origin:
    """Who asked, where to work (a thread), and how to answer them privately."""

    requester: Requester
    user: str
    channel: str
    thread_ts: str | None
    respond: AsyncRespond | None = None
    what: str = "request"  # for logs


class SlackHandlers:
    def __init__(
        self,
        runtime: Runtime,
        client: AsyncWebClient,
        files: SlackFiles,
        *,
        bot_user_id: str,
        seen: SeenMessages | None = None,
    ) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.ledger = runtime.ledger
        self.client = client
        self.files = files
        self.bot_user_id = bot_user_id
        self.seen = seen or SeenMessages()
        self.community = SlackCommunity(self)

    def _without_bot(self, raw: str) -> str:
        return re.sub(rf"<@{re.escape(self.bot_user_id)}(?:\|[^>]*)?>", " ", raw).strip()

    # -- messages: mentions, DMs, replies in our threads ---------------------------------------

    async def message(self, event: dict[str, Any], team_id: str, *, mention: bool, retry: str | None) -> None:
        if event.get("subtype") not in _USER_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return
        channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
        if not channel or not ts:
            return
        thread_ts = event.get("thread_ts")
        raw = str(event.get("text") or "")
        is_dm = event.get("channel_type") == "im" or channel.startswith("D")
        parent: Job | None = None
        working: Job | None = None
        if thread_ts and thread_ts != ts:
            parent = await self.ledger.latest_in_thread(PLATFORM, channel, str(thread_ts))
            if parent is None:
                working = await self.ledger.working_in_thread(PLATFORM, channel, str(thread_ts))
        if not mention and not is_dm:
            # Without a mention, only replies in a seedbot thread are for us, and not when the
            # reply is addressed to someone else.
            addressed_to_bot = f"<@{self.bot_user_id}" in raw
            if (parent is None and working is None) or (_OTHER_MENTION.search(raw) and not addressed_to_bot):
                return
        # The in-memory set is a fast first filter (one message comes as app_mention and message);
        # the database decides, so a retry that reaches another replica is not answered twice.
        key = SeenMessages.message_key(channel, ts)
        if not self.seen.claim(key) or not await self.ledger.first_sighting("slack:" + key):
            log.info(
                "slack: %s %s/%s already handled (retry %s); ignoring",
                event.get("type"),
                channel,
                ts,
                retry or "0",
            )
            return
        # A reply sent while the thread's first image is still being made waits for it (compose_edit).
        parent = parent or working
        user = str(event["user"])
        origin = Origin(
            requester=requester_for(team_id, user, channel),
            user=user,
            channel=channel,
            thread_ts=str(thread_ts or ts),
            what="edit" if parent else "mention" if mention else "message",
        )
        text = to_plain(raw, self.bot_user_id)
        files = [f for f in event.get("files") or [] if isinstance(f, dict)]
        if not files and await self.community.text_command(origin, self._without_bot(raw), "@seedbot"):
            return
        if not files and text.lower() in {"usage", "quota", "help", ""}:
            await self.ephemeral(origin, await self._usage_or_help(origin.requester, text))
            return
        async with self.guard(origin):
            images = await self.files.references(files)
            if parent is not None:
                if parent is working:
                    await self.ephemeral(origin, messages.WAITING_FOR_PARENT)
                composed = await compose_edit(self.ledger, parent, text, images, wait=self.engine.parent_wait)
            else:
                composed = compose_new(text, images, **await self.engine.defaults_for(origin.requester))
            await self.run(origin, composed)

    # -- /imagine --------------------------------------------------------------------------------

    async def command(self, command: dict[str, Any], team_id: str, respond: AsyncRespond) -> None:
        user, channel = str(command.get("user_id", "")), str(command.get("channel_id", ""))
        text = to_plain(str(command.get("text") or ""), self.bot_user_id)
        origin = Origin(
            requester=requester_for(team_id, user, channel),
            user=user,
            channel=channel,
            thread_ts=None,
            respond=respond,
            what="command",
        )
        if await self.community.text_command(
            origin, self._without_bot(str(command.get("text") or "")), COMMAND
        ):
            return
        if text.lower() in {"usage", "quota", "help", ""}:
            await self.ephemeral(origin, await self._usage_or_help(origin.requester, text))
            return
        async with self.guard(origin):
            composed = compose_new(text, [], **await self.engine.defaults_for(origin.requester))
            validated = await self.engine.admit(composed.request, origin.requester)
            if not await self._fits_quota(origin.requester, self.engine.community.cost(validated)):
                await self.run(origin, composed)  # the engine explains; nothing public is posted
                return
            root = await self.client.chat_postMessage(
                channel=channel, text=messages.asked_for(f"<@{user}>", escape(text))
            )
            origin = dataclasses.replace(origin, channel=str(root["channel"]), thread_ts=str(root["ts"]))
            try:
                await self.run(origin, composed)
            except BaseException:
                # Nothing was delivered: take the request line away too, the user is told privately.
                with contextlib.suppress(SlackApiError):
                    await self.client.chat_delete(channel=origin.channel, ts=str(root["ts"]))
                raise

    async def _usage_or_help(self, requester: Requester, text: str) -> str:
        if text.lower() in {"usage", "quota"}:
            return await self.engine.usage_text(requester)
        return messages.help_text(COMMAND, FLAG_HELP)

    # -- buttons and the Edit modal --------------------------------------------------------------

    async def button(self, action_id: str, body: dict[str, Any], team_id: str, respond: AsyncRespond) -> None:
        action = (body.get("actions") or [{}])[0]
        user = str((body.get("user") or {}).get("id", ""))
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))
        origin = Origin(
            requester=requester_for(team_id, user, channel),
            user=user,
            channel=channel,
            thread_ts=container.get("thread_ts") or container.get("message_ts"),
            respond=respond,
            what=action_id,
        )
        if action_id == blocks.ACTION_INFO:  # anyone may look; answered privately
            async with self.guard(origin):
                await self.community.info(origin, str(action.get("value") or ""))
            return
        async with self.guard(origin):
            parent = await self._own_result(origin, str(action.get("value") or ""))
            origin = self._in_thread_of(origin, parent)
            if action_id == blocks.ACTION_EDIT:
                await self.client.views_open(
                    trigger_id=str(body.get("trigger_id", "")),
                    view=blocks.edit_modal(parent.id, parent.prompt),
                )
                return
            if action_id == blocks.ACTION_VARIATIONS:
                composed = await compose_variations(self.ledger, parent)
            else:
                composed = await compose_reroll(self.ledger, parent)
            await self.run(origin, composed)

    async def edit_submitted(self, job_id: str, prompt: str, user: str, team_id: str) -> None:
        origin = Origin(requester=requester_for(team_id, user), user=user, channel="", thread_ts=None)
        parent = await self.ledger.get_job(job_id)
        if parent is None or not parent.channel_id:
            log.warning("slack: edit submitted for unknown job %s", job_id)
            return
        origin = self._in_thread_of(origin, parent)
        async with self.guard(origin):
            parent = await self._own_result(origin, job_id)
            composed = await compose_edit(self.ledger, parent, prompt, [])
            await self.run(origin, composed)

    async def _own_result(self, origin: Origin, job_id: str) -> Job:
        job = await self.ledger.get_job(job_id) if job_id else None
        if job is None or job.platform != PLATFORM:
            raise InvalidRequest(messages.NOT_A_RESULT)
        if job.user_key != origin.requester.key and not self.engine.is_admin(origin.requester):
            raise InvalidRequest(messages.NOT_OWNER)
        return job

    @staticmethod
    def _in_thread_of(origin: Origin, job: Job) -> Origin:
        channel = job.channel_id or origin.channel
        thread = job.thread_id or origin.thread_ts
        requester = dataclasses.replace(origin.requester, channel_id=channel)
        return dataclasses.replace(origin, requester=requester, channel=channel, thread_ts=thread)

    # -- App Home --------------------------------------------------------------------------------

    async def home_opened(self, user: str, team_id: str) -> None:
        requester = requester_for(team_id, user)
        try:
            usage = await self.engine.usage_text(requester)
            view = blocks.home_view(usage, messages.help_text(COMMAND, FLAG_HELP))
            await self.client.views_publish(user_id=user, view=view)
        except Exception:
            log.exception("slack: could not publish App Home for %s", requester.key)

    # -- running a job in a thread ---------------------------------------------------------------

    async def run(self, origin: Origin, composed: Composed) -> None:
        # free: nothing is posted if this fails
        validated = await self.engine.admit(composed.request, origin.requester)
        requester = origin.requester
        status = StatusMessage(self.client, origin.channel, origin.thread_ts)
        if await self._fits_quota(requester, self.engine.community.cost(validated)):
            # Shown at once; when the quota says no, the engine explains and nothing is posted.
            await status.ensure()
        deliver = ThreadDelivery(
            client=self.client,
            channel=origin.channel,
            thread_ts=origin.thread_ts,
            status=status,
            prompt=validated.prompt,
            left_after=functools.partial(self.engine.left_after, requester),
            legend=composed.legend,
        )
        try:
            await self.engine.generate(
                composed.request,
                requester,
                deliver=deliver,
                target=PostTarget(origin.channel, origin.thread_ts, status.ts),
                kind=composed.kind,
                parent_id=composed.parent_id,
                progress=status.progress,
            )
        except BaseException:
            await status.remove()
            raise

    async def _fits_quota(self, requester: Requester, count: int) -> bool:
        """A free look ahead; the engine's reservation stays the one that counts."""
        return await self.engine.community.fits(requester, count, unlimited=self.engine.is_admin(requester))

    @asynccontextmanager
    async def guard(self, origin: Origin) -> AsyncIterator[None]:
        """Turn any failure into a private, plain answer to the person who asked."""
        try:
            yield
        except asyncio.CancelledError:
            # Shutting down mid-job: the engine refunds; say so if there is still time.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ephemeral(origin, messages.SHUTTING_DOWN), 3.0)
            raise
        except SeedbotError as exc:
            log.info("slack: %s by %s refused: %s", origin.what, origin.requester.key, exc)
            await self.ephemeral(origin, messages.with_charge_note(exc.user_text, exc.charged))
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in _CANNOT_POST:
                log.info("slack: cannot post in %s (%s)", origin.channel, error)
                await self.ephemeral(origin, messages.NOT_IN_CHANNEL)
            else:
                log.exception(
                    "slack: %s by %s in %s failed", origin.what, origin.requester.key, origin.channel
                )
                await self.ephemeral(origin, messages.UNEXPECTED)
        except Exception:
            log.exception("slack: %s by %s in %s failed", origin.what, origin.requester.key, origin.channel)
            await self.ephemeral(origin, messages.UNEXPECTED)

    async def ephemeral(self, origin: Origin, text: str) -> None:
        """Only the asker sees it: in the thread when there is one, else via response_url."""
        body = escape(text)
        if origin.channel and (origin.thread_ts or origin.respond is None):
            try:
                await self.client.chat_postEphemeral(
                    channel=origin.channel, user=origin.user, text=body, thread_ts=origin.thread_ts
                )
                return
            except SlackApiError as exc:
                log.info("slack: ephemeral to %s failed: %s", origin.user, exc.response.get("error"))
        if origin.respond is not None:
            try:
                await origin.respond(text=body, response_type="ephemeral", replace_original=False)
            except Exception:
                log.warning("slack: could not answer %s through response_url", origin.user, exc_info=True)

    # -- jobs resumed after a restart (PlatformHooks) ---------------------------------------------

    async def deliver_resumed(self, job: Job, result: GenerationResult) -> Delivery:
        if not job.channel_id:
            raise DeliveryError(f"job {job.id} has no channel")
        status = StatusMessage(self.client, job.channel_id, job.thread_id, ts=job.message_id)
        deliver = ThreadDelivery(
            client=self.client,
            channel=job.channel_id,
            thread_ts=job.thread_id,
            status=status,
            prompt=job.prompt,
            left_after=functools.partial(self.engine.left_after, _requester_for_job(job)),
        )
        return await deliver(result)

    async def notify_resumed(self, job: Job, text: str) -> None:
        if not job.channel_id:
            return
        status = StatusMessage(self.client, job.channel_id, job.thread_id, ts=job.message_id)
        await status.replace(messages.with_charge_note(text))
