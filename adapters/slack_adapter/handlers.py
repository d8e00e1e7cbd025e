"""Slack as a surface of the conversation: events become turns, replies render in threads.

    mention / DM                        -> Ask (files are the references; typed commands answer)
    reply in a seedbot thread           -> Edit of the thread's latest result (waits if still at work)
    /imagine <prompt>                   -> Ask, worked in a thread under a root message
    Re-roll / Variations / Delete / Info / Edit (modal) -> the same turns as on every surface
    App Home                            -> usage, latest results, and a New image form (Ask by DM)
    side panel thread (assistant.py)    -> as a DM thread, with a status instead of a placeholder
    workflow step (workflow.py)         -> Ask of the person who ran the workflow

What a user may do, and every word they read, is decided in bot/conversation; this module only
reads Slack payloads and picks where the answer goes.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter import blocks
from adapters.slack_adapter.assistant import AssistantReply, AssistantThreads, greet, set_title
from adapters.slack_adapter.dedupe import SeenMessages
from adapters.slack_adapter.files import SlackAttachments, SlackFiles
from adapters.slack_adapter.links import Permalinks
from adapters.slack_adapter.reply import SlackReply
from adapters.slack_adapter.tasks import BackgroundTasks
from adapters.slack_adapter.text import (
    as_typed,
    channel_id,
    channel_link,
    escape,
    mentioned_users,
    person_key,
    to_plain,
)
from adapters.slack_adapter.users import SlackUsers
from adapters.slack_adapter.workflow import StepInputs, StepReply
from bot import i18n, messages
from bot.app.runtime import Runtime
from bot.conversation.conversation import Surface
from bot.conversation.turns import (
    PRESSES,
    Action,
    Ask,
    Edit,
    Options,
    ResultRef,
    Turn,
    pressed,
)
from bot.request.flags import flag_help
from bot.request.models import Job, Requester, parse_result_filename
from bot.request.validation import may_be_image

__all__ = ["PLATFORM", "SlackHandlers", "requester_for"]

log = logging.getLogger(__name__)

PLATFORM = "slack"
COMMAND = "/imagine"
HOME_RESULTS = 5  # past results on the Home tab
# The Slack file types an image block shows (docs.slack.dev: png, jpg, jpeg, gif).
_THUMBNAIL_TYPES = frozenset({"png", "jpg", "jpeg", "gif"})
# Message subtypes that are a person writing; edits, deletions, joins and bots are not.
_USER_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
_OTHER_MENTION = re.compile(r"<[@!]")


def requester_for(
    team_id: str, user_id: str, channel_id: str | None = None, *, locale: str | None = None
) -> Requester:
    return Requester(
        platform=PLATFORM,
        user_id=f"{team_id}:{user_id}",
        workspace_id=team_id,
        channel_id=channel_id,
        locale=locale,
        # D…: a DM with the bot. No channel: the answer goes to that DM (the Home tab's form, a
        # workflow step that names no channel), so a channel list allows it as it allows the DM.
        direct=not channel_id or channel_id.startswith("D"),
    )


MAX_NAMED = 10  # people a message's mentions are looked up for (the rest are dropped, as before)


class SlackHandlers:
    def __init__(
        self,
        runtime: Runtime,
        client: AsyncWebClient,
        files: SlackFiles,
        *,
        bot_user_id: str,
        seen: SeenMessages | None = None,
        tasks: BackgroundTasks | None = None,
    ) -> None:
        self.conversation = runtime.conversation
        self.client = client
        self.files = files
        self.bot_user_id = bot_user_id
        self.seen = seen or SeenMessages()
        self.permalink = Permalinks(client)
        self.users = SlackUsers(client)
        self.assistant_threads = AssistantThreads(client)
        self.conversation.attach(
            Surface(
                PLATFORM,
                resumed=self.resumed_reply,
                help=self.help,
                prefix=lambda: COMMAND,
                link=self.permalink,
                person=person_key,
                channel=channel_id,
                channel_link=channel_link,
            )
        )

    @staticmethod
    def help() -> str:
        return messages.help_text(COMMAND, flag_help())

    def _without_bot(self, raw: str) -> str:
        return as_typed(re.sub(rf"<@{re.escape(self.bot_user_id)}(?:\|[^>]*)?>", " ", raw)).strip()

    def reply(
        self, channel: str, thread_ts: str | None, user: str, respond: AsyncRespond | None = None
    ) -> SlackReply:
        return SlackReply(self.client, channel, thread_ts, user, respond)

    async def _who(self, team_id: str, user: str, channel: str | None = None) -> Requester:
        """The person, in their language: what is said to them from here on is in it."""
        locale = await self.users.locale(user)
        i18n.set_current(locale)
        return requester_for(team_id, user, channel, locale=locale)

    async def _names(self, raw: str) -> dict[str, str]:
        """The people a message mentions (not seedbot) -> the names Slack shows for them."""
        mentioned = list(dict.fromkeys(m for m in mentioned_users(raw) if m != self.bot_user_id))
        # A few names are a prompt's; a message of a hundred mentions costs no hundred calls.
        names = {user: await self.users.name(user) for user in mentioned[:MAX_NAMED]}
        return {user: name for user, name in names.items() if name}

    async def _handle(self, who: Requester, action: Action, what: str, reply: SlackReply) -> None:
        await self.conversation.handle(Turn(who, action, what), reply)

    # -- messages: mentions, DMs, replies in our threads ---------------------------------------

    async def message(
        self,
        event: dict[str, Any],
        team_id: str,
        *,
        mention: bool,
        retry: str | None,
        assistant: bool = False,
    ) -> None:
        """A message for seedbot; `assistant`: in a side panel thread (answered there, with the
        thread's status while a job runs)."""
        if event.get("subtype") not in _USER_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return
        channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
        if not channel or not ts:
            return
        thread_ts = event.get("thread_ts")
        raw = str(event.get("text") or "")
        is_dm = event.get("channel_type") == "im" or channel.startswith("D")
        in_our_thread = bool(thread_ts and thread_ts != ts) and await self.conversation.in_thread(
            PLATFORM, channel, str(thread_ts)
        )
        if not mention and not is_dm:
            # Without a mention, only replies in a seedbot thread are for us, and not when the
            # reply is addressed to someone else.
            addressed_to_bot = f"<@{self.bot_user_id}" in raw
            if not in_our_thread or (_OTHER_MENTION.search(raw) and not addressed_to_bot):
                return
        # The in-memory set is a fast first filter (one message comes as app_mention and message);
        # the database decides, so a retry that reaches another replica is not answered twice.
        key = SeenMessages.message_key(channel, ts)
        if not self.seen.claim(key) or not await self.conversation.first_sighting("slack:" + key):
            log.info(
                "slack: %s %s/%s already handled (retry %s); ignoring",
                event.get("type"),
                channel,
                ts,
                retry or "0",
            )
            return
        user = str(event["user"])
        who = await self._who(team_id, user, channel)
        reply = (
            AssistantReply(self.client, channel, str(thread_ts or ts), user)
            if assistant
            else self.reply(channel, str(thread_ts or ts), user)
        )
        raw, linked = self.files.linked(raw, user, channel)  # this Slack's files, by link: with the token
        text, words = to_plain(raw, self.bot_user_id, await self._names(raw)), self._without_bot(raw)
        files = [*(f for f in event.get("files") or [] if isinstance(f, dict)), *linked]
        attachments = SlackAttachments(self.files, files)
        if in_our_thread:
            thread = ResultRef(thread=(channel, str(thread_ts)))
            edit = Edit(thread, text, attachments, commands=True, words=words)
            await self._handle(who, edit, "edit", reply)
            return
        if assistant:
            await set_title(reply, text)
        what = "assistant" if assistant else "mention"
        in_thread = bool(thread_ts and thread_ts != ts) and not assistant
        quoted = SlackAttachments(
            self.files, await self._thread_images(channel, str(thread_ts)) if in_thread else []
        )
        ask = Ask(text, attachments=attachments, quoted=quoted, commands=True, words=words)
        await self._handle(who, ask, what, reply)

    async def _thread_images(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The images of the message a thread hangs from: "@seedbot make it a watercolor" in
        the thread of someone's photo edits that photo, as a Discord reply to it does."""
        try:
            response = await self.client.conversations_replies(channel=channel, ts=thread_ts, limit=1)
        except SlackApiError as exc:
            log.info("slack: no thread parent in %s (%s)", channel, exc.response.get("error"))
            return []
        found = response.get("messages") or []
        parent = found[0] if found and isinstance(found[0], dict) else {}
        files = parent.get("files") or []
        return [
            f for f in files if isinstance(f, dict) and may_be_image(str(f.get("mimetype") or "") or None)
        ]

    async def assistant_started(
        self, channel: str, thread_ts: str, user: str = "", team_id: str = ""
    ) -> None:
        """A side panel thread opened: a greeting and prompts to start from, in the person's
        language (once, though Slack may deliver the event again)."""
        self.assistant_threads.started(channel, thread_ts)
        if not self.seen.claim(f"assistant:{channel}:{thread_ts}"):
            return
        if user:
            await self._who(team_id, user, channel)
        await greet(self.client, channel, thread_ts)

    # -- /imagine --------------------------------------------------------------------------------

    async def command(self, command: dict[str, Any], team_id: str, respond: AsyncRespond) -> None:
        user, channel = str(command.get("user_id", "")), str(command.get("channel_id", ""))
        text = to_plain(str(command.get("text") or ""), self.bot_user_id)
        who = await self._who(team_id, user, channel)
        reply = self.reply(channel, None, user, respond)
        # Work happens in a thread under a root message, posted once the request is admitted.
        reply.root_text = messages.asked_for(f"<@{user}>", escape(text))
        words = self._without_bot(str(command.get("text") or ""))
        await self._handle(who, Ask(text, commands=True, words=words), "command", reply)

    # -- buttons and the Edit modal --------------------------------------------------------------

    async def button(self, action_id: str, body: dict[str, Any], team_id: str, respond: AsyncRespond) -> None:
        action = (body.get("actions") or [{}])[0]
        job_id = str(action.get("value") or "")
        user = str((body.get("user") or {}).get("id", ""))
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))
        thread = container.get("thread_ts") or container.get("message_ts")
        reply = self.reply(channel, thread, user, respond)
        who = await self._who(team_id, user, channel)
        parent = await self.conversation.where(job_id)
        if parent is not None and parent.platform == PLATFORM:
            # The answer goes into the result's thread (re-rolls land beside their parent).
            reply = self.reply(parent.channel_id or channel, parent.thread_id or thread, user, respond)
            who = dataclasses.replace(who, channel_id=reply.channel)
        reply.trigger_id = str(body.get("trigger_id") or "")
        upscale = blocks.UPSCALE_ID.fullmatch(action_id)
        name = "upscale" if upscale else action_id.removeprefix(blocks.ACTION_PREFIX)
        if name not in PRESSES:  # the listeners take only our ids: a newer release's button
            log.info("slack: unknown button %s on job %s", action_id, job_id)
            return
        await self._handle(who, pressed(name, job_id, int(upscale["pick"]) if upscale else None), name, reply)

    async def edit_submitted(self, job_id: str, prompt: str, user: str, team_id: str) -> None:
        parent = await self.conversation.where(job_id)
        if parent is None or not parent.channel_id:
            log.warning("slack: edit submitted for unknown job %s", job_id)
            return
        reply = self.reply(parent.channel_id, parent.thread_id, user)
        who = await self._who(team_id, user, parent.channel_id)
        await self._handle(who, Edit(ResultRef(job_id=job_id), prompt), "edit", reply)

    # -- App Home and its New image form -------------------------------------------------------

    async def home_opened(self, user: str, team_id: str) -> None:
        who = await self._who(team_id, user)
        try:
            recent = await self.conversation.recent_results(who, HOME_RESULTS)
            thumbnails = await self._thumbnails([job.id for job, _ in recent])
            results = [
                blocks.HomeResult(
                    line=messages.home_result_line(when, job.prompt, job.images_delivered),
                    link=await self.permalink(job),
                    file_id=thumbnails.get(job.id),
                    alt=messages.shown_prompt(job.prompt),
                )
                for job, when in recent
            ]
            view = blocks.home_view(await self.conversation.usage(who), results, self.help())
            await self.client.views_publish(user_id=user, view=view)
        except Exception:
            log.exception("slack: could not publish App Home for %s", who.key)

    async def _thumbnails(self, job_ids: list[str]) -> dict[str, str]:
        """The first image of each job, as a Slack file id an image block can show: seedbot's
        own uploads, found by the name it gave them (one files.list call)."""
        if not job_ids:
            return {}
        try:
            response = await self.client.files_list(user=self.bot_user_id, types="images", count=100)
        except SlackApiError as exc:
            log.info("slack: no thumbnails for the Home tab: %s", exc.response.get("error"))
            return {}
        wanted, found = set(job_ids), dict[str, str]()
        for info in response.get("files") or []:
            if not isinstance(info, dict) or str(info.get("filetype", "")).lower() not in _THUMBNAIL_TYPES:
                continue
            named = parse_result_filename(str(info.get("name") or ""))
            if named is not None and named[1] == 1 and named[0] in wanted:  # a result's first image
                found.setdefault(named[0], str(info["id"]))
        return found

    async def open_prompt(self, trigger_id: str, user: str, team_id: str = "") -> None:
        who = await self._who(team_id, user)
        styles = await self.conversation.styles.names(who) if team_id else []
        try:
            await self.client.views_open(trigger_id=trigger_id, view=blocks.prompt_modal(styles))
        except SlackApiError as exc:
            log.warning("slack: could not open the prompt form for %s: %s", user, exc.response.get("error"))

    async def prompt_submitted(self, user: str, team_id: str, prompt: str, options: Options) -> None:
        """The Home tab's form: an Ask whose result comes to the person's DM with seedbot."""
        who = await self._who(team_id, user)
        reply = SlackReply(
            self.client,
            user,
            None,
            user,
            direct=True,
            root_text=messages.asked_for(f"<@{user}>", escape(prompt)),
        )
        await self._handle(who, Ask(prompt, options), "home form", reply)

    # -- the Workflow Builder step -------------------------------------------------------------

    async def workflow_step(self, event: dict[str, Any], team_id: str, retry: str | None = None) -> None:
        """One run of the step: an Ask of the person the workflow names, completing the step.
        A run is done once, though Slack may deliver its event again (a retry is not a second
        request: it would be charged twice)."""
        execution_id = str(event.get("function_execution_id") or "")
        key = f"step:{execution_id}"
        if not self.seen.claim(key) or not await self.conversation.first_sighting("slack:" + key):
            log.info(
                "slack: workflow step %s already handled (retry %s); ignoring", execution_id, retry or "0"
            )
            return
        step = StepInputs.read(event.get("inputs") or {})
        person, named = step.person, step.clicked is None
        if person:
            await self._who(team_id, person, step.channel)
        asked = messages.workflow_asked_for if named else messages.asked_for
        reply = StepReply(
            self.client,
            step.channel or person,
            None,
            person,
            direct=step.channel is None,
            root_text=asked(f"<@{person}>", escape(step.prompt)),
            execution_id=execution_id,
            step_token=str(event.get("bot_access_token") or ""),
        )
        try:
            if not person:  # the manifest requires a user: Slack never sends a run without one
                log.warning("slack: workflow step %s without a user", reply.execution_id)
                return
            if step.clicked and step.user and step.clicked != step.user:
                log.info(
                    "slack: workflow step %s: started by %s, not the %s it names",
                    execution_id,
                    person,
                    step.user,
                )
            who = requester_for(team_id, person, step.channel, locale=i18n.current())
            who = dataclasses.replace(who, named=named)
            await self._handle(who, Ask(step.prompt, step.options), "workflow step", reply)
        finally:
            await reply.finish()

    # -- jobs resumed after a restart ------------------------------------------------------------

    async def resumed_reply(self, job: Job) -> SlackReply:
        user = job.user_key.rsplit(":", 1)[-1]
        reply = SlackReply(self.client, job.channel_id or "", job.thread_id, user, status_ts=job.message_id)
        reply.resumed = True
        return reply
