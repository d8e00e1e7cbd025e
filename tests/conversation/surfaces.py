"""One driver per surface for the conversation suite: the same person-level acts (ask, reply to
a result, press a button, ask for usage) through each platform's real stack and emulator.

A scenario written against `Driver` runs on every surface, so what the conversation decides
(who may press what, what usage says, what a refusal costs) can change only in one place.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot import messages
from bot.app.runtime import Runtime
from bot.ledger.base import QuotaStatus
from bot.request.models import Job, JobStatus
from tests.emulators.discord import GUILD_ID, HUMAN_USER_ID, DiscordEmulator
from tests.emulators.discord.validation import walk_components
from tests.emulators.slack import TEAM_ID, USER_ID, SlackEmulator
from tests.emulators.slack.events import as_sent, as_shown
from tests.reliability.conftest import Stack
from tests.web.conftest import OpenPlayground

EPHEMERAL = 64


@dataclass(frozen=True)
class Result:
    """One delivered result as a person sees it."""

    job_id: str
    images: int
    handle: dict[str, Any]  # the platform message that carries its buttons
    buttons: tuple[tuple[str, str], ...] = ()  # (action, label) of its first row, in order


@dataclass(frozen=True)
class Answer:
    """What came back: a result, or a line of text (refusal, usage, confirmation)."""

    text: str = ""  # a result's: its caption (the prompt, the details)
    result: Result | None = None
    form: str | None = None  # Edit's form opened, showing this prompt


async def _poll(check: Callable[[], Answer | None], timeout: float = 15.0) -> Answer:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if loop.time() > deadline:
            raise TimeoutError("no answer")
        await asyncio.sleep(0.01)


class Driver(Protocol):
    name: str
    workspace: str  # "<platform>:<id>", as workspace settings are keyed
    place: str  # what the community is called there, in seedbot's sentences

    def key(self, person: int) -> str: ...

    async def ask(self, text: str, person: int = 0, files: list[tuple[str, bytes]] | None = None) -> Answer:
        """`files`: images attached to the message (PNG), in order."""
        ...

    async def reply(self, result: Result, text: str, person: int = 0) -> Answer: ...

    async def press(self, result: Result, action: str, person: int) -> Answer: ...

    async def edit(self, result: Result, text: str, person: int = 0) -> Answer:
        """Press Edit and send `text` in the form it opens: the result, with `form` the prompt
        the form showed; or, when no form opened, the refusal."""
        ...

    async def usage(self, person: int = 0) -> str: ...

    async def ask_later(self, text: str, person: int = 0) -> Later:
        """Ask, and return at once: the result is waited for later (across a restart)."""
        ...

    async def start(self, text: str, person: int = 0) -> None:
        """Ask without waiting for the answer (a job that stays queued or running)."""
        ...

    async def upscale(self, result: Result, pick: int, person: int = 0) -> Answer:
        """Press "Upscale #pick" under a result."""
        ...

    async def cancel(self, job: Job, person: int = 0) -> Answer:
        """Press Cancel on a job's status message (once the message shows it)."""
        ...

    async def status_text(self, job: Job) -> str:
        """What a job's status message says now."""
        ...


Later = Callable[[], Awaitable[Answer]]  # waits for the result of a request already made
RESTART_WAIT = 30.0  # seconds: a result delivered by the bot started after a stop


class DiscordDriver:
    name = "discord"
    workspace = f"discord:{GUILD_ID}"
    place = "server"

    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.people = [HUMAN_USER_ID, emu.add_user("bob")["id"]]

    def key(self, person: int) -> str:
        return f"discord:{self.people[person]}"

    def _bot_messages(self) -> set[str]:
        return {m["id"] for m in self.emu.messages.values() if m["author"]["id"] == self.emu.bot_user_id}

    def _result_since(self, before: set[str]) -> Answer | None:
        for mid in sorted(self._bot_messages() - before, key=int):
            message = self.emu.messages[mid]
            ids = _discord_buttons(message)
            if "reroll" in ids:  # a result (a status message has only Cancel)
                images = len(message.get("attachments") or [])
                result = Result(ids["reroll"], images, message, _discord_labels(message))
                return Answer(self.emu.text_of(message), result)
        return None

    def _text_since(self, before: set[str]) -> Answer | None:
        for mid in sorted(self._bot_messages() - before, key=int):
            message = self.emu.messages[mid]
            if message.get("attachments") and not _discord_buttons(message):
                continue  # a result still growing (a streamed batch): its buttons come last
            content = self.emu.text_of(message)
            if messages.asked_for("", "").strip() in content:
                continue  # the head of a result's thread: the result is in the thread
            if content and "…" not in content and "%" not in content:  # not a progress line
                return Answer(content)
        return None

    async def ask(self, text: str, person: int = 0, files: list[tuple[str, bytes]] | None = None) -> Answer:
        before = self._bot_messages()
        await self.emu.send_message(
            f"{self.emu.bot_mention} {text}",
            attachments=[(name, data, "image/png") for name, data in files or []],
            mentions=[self.emu.bot_user_id],
            author_id=self.people[person],
        )
        return await _poll(lambda: self._result_since(before) or self._text_since(before))

    async def ask_later(self, text: str, person: int = 0) -> Later:
        before = self._bot_messages()
        await self.emu.send_message(
            f"{self.emu.bot_mention} {text}", mentions=[self.emu.bot_user_id], author_id=self.people[person]
        )
        return lambda: _poll(lambda: self._result_since(before), RESTART_WAIT)

    async def reply(self, result: Result, text: str, person: int = 0) -> Answer:
        before = self._bot_messages()
        message = result.handle
        await self.emu.send_message(
            text,
            reply_to=message["id"],
            channel_id=message["channel_id"],
            mentions=[self.emu.bot_user_id],
            author_id=self.people[person],
        )
        return await _poll(lambda: self._result_since(before) or self._text_since(before))

    async def press(self, result: Result, action: str, person: int) -> Answer:
        return await self._press(f"seedbot:{action}:{result.job_id}", result.handle["id"], person)

    async def edit(self, result: Result, text: str, person: int = 0) -> Answer:
        press = await self.emu.send_component(
            f"seedbot:edit:{result.job_id}", message_id=result.handle["id"], user_id=self.people[person]
        )
        if await press.wait_ack() != 9:  # answered instead of a modal: a refusal
            return await _poll(lambda: Answer(self.emu.text_of(press.original)) if press.original else None)
        assert press.modal is not None
        shown = [c["content"] for c in press.modal["components"] if c["type"] == 10]
        before = self._bot_messages()
        submit = await press.submit_modal({"prompt": text})
        await submit.wait_ack()
        answer = await _poll(lambda: self._result_since(before) or self._text_since(before))
        return dataclasses.replace(answer, form=shown[0].removeprefix(">>> ") if shown else "")

    async def start(self, text: str, person: int = 0) -> None:
        await self.emu.send_message(
            f"{self.emu.bot_mention} {text}", mentions=[self.emu.bot_user_id], author_id=self.people[person]
        )

    async def upscale(self, result: Result, pick: int, person: int = 0) -> Answer:
        return await self._press(f"seedbot:upscale:{result.job_id}:{pick}", result.handle["id"], person)

    async def cancel(self, job: Job, person: int = 0) -> Answer:
        custom_id = f"seedbot:cancel:{job.id}"
        await _poll(
            lambda: (
                Answer() if custom_id in _custom_ids(self.emu.messages.get(job.message_id or "")) else None
            )
        )
        return await self._press(custom_id, job.message_id or "", person)

    async def status_text(self, job: Job) -> str:
        return self.emu.text_of(self.emu.messages.get(job.message_id or "") or {})

    async def _press(self, custom_id: str, message_id: str, person: int) -> Answer:
        before = self._bot_messages()
        press = await self.emu.send_component(custom_id, message_id=message_id, user_id=self.people[person])
        await press.wait_ack()

        def check() -> Answer | None:
            found = self._result_since(before)
            if found is not None:
                return found
            for fid in press.followup_ids:
                message = self.emu.messages.get(fid) or {}
                if message.get("flags", 0) & EPHEMERAL:
                    return Answer(self.emu.text_of(message))
            original = press.original or {}
            if original.get("flags", 0) & EPHEMERAL and self.emu.text_of(original):
                return Answer(self.emu.text_of(original))
            return None

        return await _poll(check)

    async def usage(self, person: int = 0) -> str:
        inter = await self.emu.send_slash_command("usage", {}, user_id=self.people[person])
        await inter.wait_ack()
        answer = await _poll(lambda: Answer(self.emu.text_of(inter.original)) if inter.original else None)
        return answer.text


class SlackDriver:
    name = "slack"
    workspace = f"slack:{TEAM_ID}"
    place = "workspace"

    def __init__(self, emu: SlackEmulator, url: Callable[[], str]) -> None:
        self.emu = emu
        self.url = url
        emu.add_user("U2", "bob")
        self.people = [USER_ID, "U2"]

    def key(self, person: int) -> str:
        return f"slack:{TEAM_ID}:{self.people[person]}"

    def _controls(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (c, m)
            for c in self.emu.messages
            for m in self.emu.bot_messages(c)
            if any(
                e.get("action_id") == "seedbot.reroll"  # a result's (a status has only Cancel)
                for b in m.get("blocks") or []
                if b.get("type") == "actions"
                for e in b.get("elements") or []
            )
        ]

    async def _answer(self, send: Callable[[], Any], person: int) -> Answer:
        ephemerals, results = len(self.emu.ephemerals), len(self._controls())
        await send()

        def check() -> Answer | None:
            mine = [e for e in self.emu.ephemerals[ephemerals:] if e["user"] == self.people[person]]
            if mine:
                return Answer(as_shown(str(mine[0]["text"])))
            return self._result_since(results)

        return await _poll(check)

    def _result_since(self, results: int) -> Answer | None:
        controls = self._controls()
        if len(controls) > results:
            channel, message = controls[results]
            actions = next(b for b in message["blocks"] if b["type"] == "actions")
            values = {e["action_id"]: e["value"] for e in actions["elements"]}
            thread = message.get("thread_ts") or message["ts"]
            files = [m for m in self.emu.bot_messages(channel) if m.get("files")]  # the upload
            images = len(files[-1]["files"]) if files else 0
            caption = as_shown(str(files[-1].get("text") or "")) if files else ""
            handle = {**message, "thread": thread, "channel": channel}
            row = tuple(
                (e["action_id"].removeprefix("seedbot."), e["text"]["text"]) for e in actions["elements"]
            )
            return Answer(caption, Result(values["seedbot.reroll"], images, handle, row))
        return None

    async def ask(self, text: str, person: int = 0, files: list[tuple[str, bytes]] | None = None) -> Answer:
        shared = [
            self.emu.add_file(name, data, "image/png", user=self.people[person]) for name, data in files or []
        ]
        event = self.emu.mention_event(
            f"<@UBOT> {as_sent(text)}", files=shared or None, user=self.people[person]
        )
        return await self._answer(lambda: self.emu.post_event(self.url(), event), person)

    async def ask_later(self, text: str, person: int = 0) -> Later:
        results = len(self._controls())
        await self.emu.post_event(
            self.url(), self.emu.mention_event(f"<@UBOT> {as_sent(text)}", user=self.people[person])
        )
        return lambda: _poll(lambda: self._result_since(results), RESTART_WAIT)

    async def reply(self, result: Result, text: str, person: int = 0) -> Answer:
        event = self.emu.message_event(
            as_sent(text), thread_ts=result.handle["thread"], user=self.people[person]
        )
        return await self._answer(lambda: self.emu.post_event(self.url(), event), person)

    async def press(self, result: Result, action: str, person: int) -> Answer:
        return await self._answer(
            lambda: self.emu.post_block_action(
                self.url(), f"seedbot.{action}", result.job_id, result.handle["ts"], user=self.people[person]
            ),
            person,
        )

    async def edit(self, result: Result, text: str, person: int = 0) -> Answer:
        opened, ephemerals = len(self.emu.calls("views.open")), len(self.emu.ephemerals)
        await self.emu.post_block_action(
            self.url(), "seedbot.edit", result.job_id, result.handle["ts"], user=self.people[person]
        )

        def check() -> Answer | None:
            mine = [e for e in self.emu.ephemerals[ephemerals:] if e["user"] == self.people[person]]
            if mine:
                return Answer(as_shown(str(mine[0]["text"])))
            return Answer(form="") if len(self.emu.calls("views.open")) > opened else None

        if (await _poll(check)).form is None:
            return await _poll(check)
        view = self.emu.calls("views.open")[opened].response["view"]
        shown = view["blocks"][0]["elements"][0]["text"]
        answer = await self._answer(
            lambda: self.emu.post_view_submission(
                self.url(), values={"prompt": {"value": text}}, view_id=view["id"], user=self.people[person]
            ),
            person,
        )
        return dataclasses.replace(answer, form=shown)

    async def usage(self, person: int = 0) -> str:
        return (await self.ask("usage", person)).text

    async def start(self, text: str, person: int = 0) -> None:
        await self.emu.post_event(
            self.url(), self.emu.mention_event(f"<@UBOT> {as_sent(text)}", user=self.people[person])
        )

    async def upscale(self, result: Result, pick: int, person: int = 0) -> Answer:
        return await self._answer(
            lambda: self.emu.post_block_action(
                self.url(),
                f"seedbot.upscale.{pick}",
                result.job_id,
                result.handle["ts"],
                user=self.people[person],
            ),
            person,
        )

    def _status(self, job: Job) -> dict[str, Any]:
        found = [m for m in self.emu.bot_messages(job.channel_id or "") if m["ts"] == job.message_id]
        return found[0] if found else {}

    async def cancel(self, job: Job, person: int = 0) -> Answer:
        def shows_cancel() -> Answer | None:
            elements = [
                e
                for b in self._status(job).get("blocks") or []
                if b.get("type") == "actions"
                for e in b["elements"]
            ]
            return Answer() if any(e["action_id"] == "seedbot.cancel" for e in elements) else None

        await _poll(shows_cancel)
        return await self._answer(
            lambda: self.emu.post_block_action(
                self.url(),
                "seedbot.cancel",
                job.id,
                job.message_id,
                channel=job.channel_id,
                user=self.people[person],
            ),
            person,
        )

    async def status_text(self, job: Job) -> str:
        return str(self._status(job).get("text") or "")


def _custom_ids(message: dict[str, Any] | None) -> set[str]:
    return {str(c.get("custom_id")) for _, c in walk_components((message or {}).get("components") or [])}


def _discord_buttons(message: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for _, comp in walk_components(message.get("components") or []):  # nested in V2 layouts
        parts = str(comp.get("custom_id", "")).split(":")
        if len(parts) == 3 and parts[0] == "seedbot":
            found[parts[1]] = parts[2]
    return found


def _discord_labels(message: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (parts[1], str(comp.get("label")))
        for _, comp in walk_components(message.get("components") or [])
        if len(parts := str(comp.get("custom_id", "")).split(":")) == 3 and parts[0] == "seedbot"
    )


class WebDriver:
    """The playground through its HTTP API (as its page uses it). It has one person,
    `web:local`: scenarios with a second person run on the chat surfaces only."""

    name = "web"
    workspace = "web:local"
    place = "workspace"

    def __init__(self, playground: Any) -> None:  # tests.web.conftest.Playground
        self.pg = playground

    def key(self, person: int) -> str:
        assert person == 0, "the playground has one person"
        return "web:local"

    async def _seen(self, thread: str) -> set[str]:
        return {e["id"] for e in (await self.pg.thread(thread))["entries"]}

    async def _answer(self, thread: str, before: set[str]) -> Answer:
        def fresh(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                e for e in entries if e["id"] not in before and e["kind"] in ("result", "refusal", "note")
            ]

        entries = await self.pg.until(
            thread, lambda es: any(e["kind"] != "result" or e["actions"] for e in fresh(es)), 15.0
        )
        entry = fresh(entries)[0]
        if entry["kind"] != "result":
            return Answer(str(entry["text"]))
        row = tuple((a["action"], a["label"]) for a in entry["actions"] if a["action"] != "upscale")
        return Answer(
            str(entry["caption"]), Result(str(entry["job"]), len(entry["images"]), {"thread": thread}, row)
        )

    async def ask(self, text: str, person: int = 0, files: list[tuple[str, bytes]] | None = None) -> Answer:
        thread = await self.pg.ask(text, [(name, data, "image/png") for name, data in files or []])
        return await self._answer(thread, set())

    async def ask_later(self, text: str, person: int = 0) -> Later:
        """The thread is read from whichever playground `self.pg` is by then (a restarted one)."""
        thread = await self.pg.ask(text)

        async def result() -> Answer:
            entries = await self.pg.until(
                thread, lambda es: any(e["kind"] == "result" for e in es), RESTART_WAIT
            )
            [entry] = [e for e in entries if e["kind"] == "result"]
            return Answer(result=Result(str(entry["job"]), len(entry["images"]), {"thread": thread}))

        return result

    async def reply(self, result: Result, text: str, person: int = 0) -> Answer:
        thread = result.handle["thread"]
        before = await self._seen(thread)
        await self.pg.reply(thread, text)
        return await self._answer(thread, before)

    async def press(self, result: Result, action: str, person: int) -> Answer:
        thread = result.handle["thread"]
        before = await self._seen(thread)
        said = await self.pg.press(result.job_id, action)
        if said.get("say"):
            return Answer(str(said["say"]))
        return await self._answer(thread, before)

    async def edit(self, result: Result, text: str, person: int = 0) -> Answer:
        said = await self.pg.press(result.job_id, "edit")
        form = said.get("edit")
        if not form:
            return Answer(str(said["say"]))
        thread = result.handle["thread"]
        before = await self._seen(thread)
        await self.pg.reply(thread, text, job=form["job"])
        return dataclasses.replace(await self._answer(thread, before), form=str(form["prompt"]))

    async def usage(self, person: int = 0) -> str:
        return str(await self.pg.usage())

    async def start(self, text: str, person: int = 0) -> None:
        await self.pg.ask(text)

    async def upscale(self, result: Result, pick: int, person: int = 0) -> Answer:
        return await self.press(result, f"upscale?pick={pick}", person)

    async def _status(self, job: Job) -> dict[str, Any]:
        entries = (await self.pg.thread(job.thread_id or ""))["entries"]
        found = [e for e in entries if e["id"] == job.message_id]
        return found[0] if found else {}

    async def cancel(self, job: Job, person: int = 0) -> Answer:
        thread = job.thread_id or ""
        await self.pg.until(
            thread,
            lambda es: any(
                e["id"] == job.message_id and [a["action"] for a in e.get("actions") or []] == ["cancel"]
                for e in es
            ),
        )
        before = await self._seen(thread)
        said = await self.pg.press(job.id, "cancel")
        if said.get("say"):
            return Answer(str(said["say"]))
        entries = await self.pg.until(
            thread, lambda es: any(e["kind"] == "note" and e["id"] not in before for e in es)
        )
        notes = [e for e in entries if e["kind"] == "note" and e["id"] not in before]
        return Answer(str(notes[0]["text"]))

    async def status_text(self, job: Job) -> str:
        return str((await self._status(job)).get("text") or "")


CHATS = ["discord", "slack"]  # surfaces with more than one person
SURFACES = [*CHATS, "web"]


class Core:
    """What the scenarios read from the core beside what people see: usage, the jobs."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def usage(self, user_key: str) -> QuotaStatus:
        return await self.runtime.ledger.quota(user_key)

    async def jobs(self, user_key: str) -> list[Job]:
        return await self.runtime.ledger.jobs_for_user(user_key, limit=500)

    async def wait_closed(self, user_key: str, count: int, timeout: float = 15.0) -> list[Job]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            done = [
                j for j in await self.jobs(user_key) if j.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
            ]
            if len(done) >= count:
                return done
            if loop.time() > deadline:
                raise TimeoutError(f"{len(done)}/{count} jobs closed for {user_key}")
            await asyncio.sleep(0.02)


async def open_surface(
    name: str,
    stack: Stack,
    open_playground: OpenPlayground,
    values: dict[str, Any],
    web: dict[str, Any] | None = None,
) -> tuple[Driver, Core]:
    """Start one surface with these settings (`web`: what only the playground's process needs,
    such as a host's base URL the chat bots' stack already points at)."""
    if name == "web":
        pg = await open_playground(**values, **(web or {}))
        await pg.open_page()
        return WebDriver(pg), Core(pg.runtime)
    bot = await stack.start_bot(**values)
    if name == "discord":
        return DiscordDriver(stack.discord), Core(bot.runtime)
    return SlackDriver(stack.slack, lambda: bot.slack_url), Core(bot.runtime)


# The emulators' people, admins on each surface (style and cast commands for the server).
ADMINS = [f"discord:{HUMAN_USER_ID}", f"slack:{TEAM_ID}:{USER_ID}", "web:local"]


async def on_novita(
    name: str, stack: Stack, open_playground: OpenPlayground, **settings: object
) -> tuple[Driver, Core]:
    """One surface on the Novita emulator, its admins the emulators' people, so what reaches
    the host (a style's words, the references in order) can be read from what it received."""
    values: dict[str, object] = {"providers": ["novita"], "daily_images": 20, "admins": ADMINS, **settings}
    web = {
        "novita_api_key": stack.secrets.provider_keys["novita"],
        "novita_base_url": stack.providers.base_url("novita"),
        "allow_private_network": True,
        "poll_interval": 0.05,
        "provider_retries": 0,
    }
    return await open_surface(name, stack, open_playground, values, web)
