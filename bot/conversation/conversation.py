"""The conversation: everything a user can do, decided once for every surface.

A surface converts a platform event into a `Turn` and calls `handle(turn, reply)`:

    Ask         text (+ flags), typed options, attachments  -> a new image or an edit of them
    Edit        a result (job, message or thread) + text    -> the result's images, then new ones
    Reroll / Variations                                     -> the same request again / a batch
    Delete / Info / Usage / Help / History                  -> answered privately

For a job the sequence is always: compose (the prompt enters the flag parser once) -> admit
(validation and the workspace's rules, once) -> a free quota look-ahead -> the status message
-> progress -> the result with its actions, or a refusal that says whether anything was charged.
Jobs resumed after a restart are shown through the same replies (`attach`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot import messages
from bot.conversation import compose
from bot.conversation.admin import Admin
from bot.conversation.community import Community
from bot.conversation.policy import Policy
from bot.conversation.progress import ProgressRelay
from bot.conversation.surface import Arrived, Reply, ResumedReplies, Shown
from bot.conversation.turns import (
    Ask,
    Attachments,
    Delete,
    Edit,
    Help,
    History,
    Info,
    NoAttachments,
    Options,
    Reroll,
    Turn,
    Usage,
    Variations,
)
from bot.engine.pipeline import Delivery, Engine, PlatformHooks
from bot.errors import InvalidImage, InvalidRequest, LeaseLost, SeedbotError
from bot.ledger.base import Ledger
from bot.request.flags import FLAG_HELP, parse_text
from bot.request.models import GeneratedImage, GenerationResult, ImageInput, Job, JobStatus, Requester
from bot.request.validation import MAX_REFERENCES

__all__ = ["Conversation", "Surface"]

log = logging.getLogger(__name__)

_COMMAND_WORDS = {"usage", "quota", "help", "history", ""}
STARTING_WAIT = 10.0  # seconds a reply to a brand-new status message waits for its job row


@dataclass(frozen=True, slots=True)
class Surface:
    """What the conversation needs to know of a surface."""

    name: str  # the platform of its requesters ("discord", "slack", "web")
    resumed: ResumedReplies  # a reply for a job whose turn is gone (after a restart)
    help: Callable[[], str]  # the help text, in the surface's own command words
    progress_interval: float = 2.0  # seconds between progress edits of one message


class Conversation:
    def __init__(self, engine: Engine, ledger: Ledger) -> None:
        self.engine = engine
        self.ledger = ledger
        self.community = Community(engine.settings, ledger, engine.workspaces)
        self.policy = Policy(engine.settings)
        self.admin = Admin(self.community, self.policy)
        self.surfaces: dict[str, Surface] = {}
        # Status messages shown for a request whose job row may not exist yet: a reply to one
        # in that moment waits for the row instead of being told it is not a result.
        self._starting: set[tuple[str, str]] = set()

    def attach(self, surface: Surface) -> None:
        """Register a surface: its resumed jobs are delivered through its replies."""
        self.surfaces[surface.name] = surface

        async def deliver(job: Job, result: GenerationResult) -> Delivery:
            reply = await surface.resumed(job)
            who = _requester_of(job)
            left = await self.engine.left_after(who, result)
            return await reply.result(Shown(result, job.prompt, "", left, who.display_name))

        async def notify(job: Job, text: str) -> None:
            reply = await surface.resumed(job)
            await reply.refuse(messages.with_charge_note(text))

        self.engine.register_platform(surface.name, PlatformHooks(deliver=deliver, notify=notify))

    # -- one turn --------------------------------------------------------------------------------

    async def handle(self, turn: Turn, reply: Reply) -> None:
        """Do what the turn asks and answer through `reply`; never raises a user's error."""
        try:
            await self._dispatch(turn, reply)
        except LeaseLost:  # another process took the job over: it answers the user
            log.info("%s: %s by %s continues in another process", turn.who.platform, turn.what, turn.who.key)
        except SeedbotError as exc:
            log.info("%s: %s by %s refused: %s", turn.who.platform, turn.what, turn.who.key, exc)
            costly = isinstance(turn.action, Ask | Edit | Reroll | Variations)
            await _tell(
                reply, messages.with_charge_note(exc.user_text, exc.charged) if costly else exc.user_text
            )
        except asyncio.CancelledError:  # shutting down: the engine refunded or checkpointed the job
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._interrupted(turn.who, reply), 3.0)
            raise
        except Exception:
            log.exception(
                "%s: %s by %s in channel %s failed",
                turn.who.platform,
                turn.what,
                turn.who.key,
                turn.who.channel_id,
            )
            await _tell(reply, messages.UNEXPECTED)

    async def _dispatch(self, turn: Turn, reply: Reply) -> None:
        who, action = turn.who, turn.action
        match action:
            case Ask():
                if action.commands and not len(action.attachments) and not len(action.quoted):
                    word = action.text.strip().lower()
                    if word in _COMMAND_WORDS:
                        await reply.say(await self._command(who, word))
                        return
                await self._ask(who, action, reply)
            case Edit():
                await self._edit(who, action, reply)
            case Reroll():
                parent = await self._buildable(who, action.job_id)
                await self._run(who, reply, await compose.reroll(self.ledger, parent))
            case Variations():
                parent = await self._buildable(who, action.job_id)
                await self._run(who, reply, await compose.variations(self.ledger, parent))
            case Delete():
                job = self.policy.result_here(who, await self._job(action.job_id))
                self.policy.may_delete(who, job)
                await reply.delete(job)
                log.info("%s: job %s deleted by %s", who.platform, job.id, who.key)
                await reply.say(messages.DELETED)
            case Info():
                job = self.policy.result_here(who, await self._job(action.job_id))
                await reply.say(await self.community.lineage(job))
            case Usage():
                await reply.say(await self.usage(who))
            case Help():
                await reply.say(self._help(who))
            case History():
                await reply.say(await self.community.history(who, action.link or _no_link))

    async def _command(self, who: Requester, word: str) -> str:
        if word in ("usage", "quota"):
            return await self.usage(who)
        if word == "history":
            return await self.community.history(who, _no_link)
        return self._help(who)

    def _help(self, who: Requester) -> str:
        surface = self.surfaces.get(who.platform)
        return surface.help() if surface else messages.help_text("seedbot", FLAG_HELP)

    async def usage(self, who: Requester) -> str:
        """Today's and this month's use, what is left (weighted), resets, the workspace pool."""
        return await self.community.usage_text(who, unlimited=self.policy.is_operator(who))

    async def defaults(self, who: Requester, options: Options) -> dict[str, object]:
        """The workspace's defaults, then the options picked in the form."""
        return {**await self.engine.defaults_for(who), **compose.option_fields(options)}

    # -- composing -------------------------------------------------------------------------------

    async def _ask(self, who: Requester, ask: Ask, reply: Reply) -> None:
        parsed = parse_text(ask.text)  # flag errors before any download
        defaults = await self.defaults(who, ask.options)
        images = await _load(ask.quoted, ask.attachments)
        await self._run(who, reply, compose.new(parsed, images, defaults))

    async def _edit(self, who: Requester, edit: Edit, reply: Reply) -> None:
        parsed = parse_text(edit.text)  # flag errors before any download
        parent = await self._target_of(who, edit)
        if parent is None:
            fallback = edit.fallback or NoAttachments()
            if not len(fallback) and not len(edit.attachments):
                raise InvalidRequest(
                    messages.NO_IMAGES_IN_MESSAGE if edit.fallback is not None else messages.NOT_A_RESULT
                )
            images = await _load(fallback, edit.attachments)
            defaults = await self.defaults(who, Options())
            await self._run(who, reply, compose.new(parsed, images, defaults))
            return
        if edit.result.job_id is not None:  # a button or modal on the result: its owner's rules
            buttons = (await self.community.policy_for(who)).buttons
            self.policy.may_build_on(who, parent, buttons)
        if parent.status in (JobStatus.QUEUED, JobStatus.RUNNING) and edit.result.job_id is None:
            await reply.accepted(messages.WAITING_FOR_PARENT)
        images = await edit.attachments.load(alongside=0)
        composed = await compose.edit(self.ledger, parent, parsed, images, wait=self.engine.parent_wait)
        await self._run(who, reply, composed)

    async def _target_of(self, who: Requester, edit: Edit) -> Job | None:
        ref = edit.result
        if ref.job_id is not None:
            return self.policy.result_here(who, await self._job(ref.job_id))
        if ref.message_id is not None:
            job = await self.ledger.job_for_message(who.platform, ref.message_id)
            deadline = asyncio.get_running_loop().time() + STARTING_WAIT
            while job is None and (who.platform, ref.message_id) in self._starting:
                if asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.05)
                job = await self.ledger.job_for_message(who.platform, ref.message_id)
            return job
        if ref.thread is not None:
            channel, thread = ref.thread
            latest = await self.ledger.latest_in_thread(who.platform, channel, thread)
            return latest or await self.ledger.working_in_thread(who.platform, channel, thread)
        return None

    async def recent_results(self, who: Requester, limit: int = 5) -> list[tuple[Job, str]]:
        """`who`'s latest delivered results on this surface, newest first, with when each was
        made (a surface's own page of them: a home tab, a profile)."""
        return await self.community.recent_results(who, limit)

    async def in_thread(self, platform: str, channel: str, thread: str) -> bool:
        """A thread where one of our results is, or is being made (replies there are for us)."""
        if await self.ledger.latest_in_thread(platform, channel, thread) is not None:
            return True
        return await self.ledger.working_in_thread(platform, channel, thread) is not None

    async def first_sighting(self, key: str) -> bool:
        """True the first time an event key is seen by any process (platform retries)."""
        return await self.ledger.first_sighting(key)

    async def is_result(self, platform: str, message_id: str) -> bool:
        return await self.ledger.job_for_message(platform, message_id) is not None

    async def _job(self, job_id: str) -> Job | None:
        return await self.ledger.get_job(job_id) if job_id else None

    async def _buildable(self, who: Requester, job_id: str) -> Job:
        """A result `who` may re-roll or vary here."""
        job = self.policy.result_here(who, await self._job(job_id))
        buttons = (await self.community.policy_for(who)).buttons
        self.policy.may_build_on(who, job, buttons)
        return job

    async def where(self, job_id: str) -> Job | None:
        """The job a button belongs to (surfaces answer in its thread)."""
        return await self._job(job_id)

    # -- what a surface that serves images itself shows (the web playground) ----------------------

    async def recent(self, who: Requester, limit: int = 24) -> list[Job]:
        """`who`'s newest jobs on this surface, newest first (a history gallery)."""
        jobs = await self.ledger.jobs_for_user(who.key, limit=limit)
        return [job for job in jobs if job.platform == who.platform]

    async def images(self, who: Requester, job_id: str) -> list[ImageInput]:
        """A result's images as kept for edits (none once past SEEDBOT_IMAGE_RETENTION_DAYS), for a
        surface that serves them after a restart. Only results of `who`'s own surface."""
        job = self.policy.result_here(who, await self._job(job_id))
        return await self.ledger.job_outputs(job.id)

    # -- running a job ---------------------------------------------------------------------------

    async def _run(self, who: Requester, reply: Reply, composed: compose.Composed) -> None:
        admitted = await self.engine.admit(composed.request, who)  # free: refusals cost nothing
        unlimited = self.policy.is_operator(who)
        if await self.community.fits(who, admitted.cost, unlimited=unlimited, policy=admitted.policy):
            # Shown at once; when the quota says no, the engine explains and nothing is posted.
            await reply.accepted(messages.STARTING)
        status = reply.target().message_id
        starting = (who.platform, status) if status is not None else None
        if starting is not None:
            self._starting.add(starting)
        surface = self.surfaces.get(who.platform)
        relay = ProgressRelay(
            reply.progress,
            min_interval=surface.progress_interval if surface else 2.0,
            footer=composed.legend,
        )

        async def deliver(result: GenerationResult) -> Delivery:
            await relay.stop()
            left = await self.engine.left_after(who, result)
            prompt = admitted.validated.prompt
            return await reply.result(Shown(result, prompt, composed.legend, left, who.display_name))

        async def stream(job_id: str, index: int, image: GeneratedImage) -> bool:
            arrived = Arrived(job_id, image, index, admitted.validated.count, admitted.validated.prompt)
            return await reply.image(arrived)

        try:
            await self.engine.run(
                admitted,
                who,
                deliver=deliver,
                target=reply.target(),
                kind=composed.kind,
                parent_id=composed.parent_id,
                progress=relay,
                stream=stream,
            )
        finally:
            if starting is not None:
                self._starting.discard(starting)
            await relay.stop()

    async def _interrupted(self, who: Requester, reply: Reply) -> None:
        """A job cut short by shutdown: either refunded, or left running at a provider that the
        next process resumes (its result then comes to the same place)."""
        message_id = reply.target().message_id
        resumes = False
        if message_id is not None:
            for job in await self.ledger.jobs_for_user(who.key, limit=20):
                if job.message_id != message_id:
                    continue
                if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
                    resumes = True
                elif job.images_delivered and job.error_kind == "cancelled":
                    # A streamed batch cut short: what reached the user stays (and is charged).
                    await reply.refuse(messages.restarted_partial(job.images_delivered, job.images_requested))
                    return
                break
        await reply.interrupted(resumes)


async def _tell(reply: Reply, text: str) -> None:
    try:
        await reply.refuse(text)
    except Exception:
        log.warning("could not tell the user: %s", text, exc_info=True)


async def _no_link(job: Job) -> str | None:
    return None


async def _load(first: Attachments, then: Attachments) -> list[ImageInput]:
    """References in order: a quoted message's images, then the attachments; the count is
    checked before anything is downloaded."""
    total = len(first) + len(then)
    if total > MAX_REFERENCES:
        raise InvalidImage(messages.too_many_references(total, MAX_REFERENCES))
    return [*await first.load(alongside=len(then)), *await then.load(alongside=len(first))]


def _requester_of(job: Job) -> Requester:
    platform, _, user_id = job.user_key.partition(":")
    return Requester(
        platform=platform,
        user_id=user_id,
        workspace_id=job.workspace_id,
        channel_id=job.channel_id,
    )
