"""Hostile input corpus across the Discord adapter, the Slack adapter and the CLI.

Each case ends in a clear message to the user and charges nothing (the ledger is read before
and after every case). A few inputs are legitimately *served* and charged exactly the images
delivered: an animated GIF (accepted: only its first frame is decoded to check it, and it goes
to the provider as a GIF reference, which Seedream accepts); control and zero-width
characters (stripped from a prompt that still has words); `@everyone` / role mentions in a
prompt (echoed without pinging); a pinged reply to a human's message (a new request).
After the corpus no log record carries a traceback and a valid request on each platform is
still delivered.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.request.validation import UPLOAD_MAX_BYTES
from tests.app.cli.helpers import seedbot
from tests.discord.conftest import buttons
from tests.emulators.discord import HUMAN_USER_ID, DiscordEmulator
from tests.emulators.slack import USER_ID, SlackEmulator
from tests.reliability import corpus_files as F
from tests.reliability.conftest import RunningBot, Stack

EPHEMERAL = 64
DISCORD_USER = f"discord:{HUMAN_USER_ID}"
SLACK_USER = f"slack:T1:{USER_ID}"
LONG = "a very long prompt " * 527  # 10,013 characters
CONTROL = "a cat\x00\x07\x1b[31m\u200b\u200d\u2060\ufeff\u202e in a hat"


@dataclass
class Outcome:
    text: str
    served: int = 0  # images delivered (0: refused)


@dataclass
class Case:
    platform: str
    name: str
    run: Callable[[], Awaitable[Outcome]]
    served: bool = False
    payer: str | None = None  # whose quota pays when it is not the usual user's


async def _poll(check: Callable[[], Outcome | None], timeout: float = 10.0) -> Outcome:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if loop.time() > deadline:
            raise TimeoutError("no answer")
        await asyncio.sleep(0.01)


class DiscordUser:
    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu

    def _bot_ids(self) -> set[str]:
        return {m["id"] for m in self.emu.messages.values() if m["author"]["id"] == self.emu.bot_user_id}

    def _new_result(self, before: set[str]) -> Outcome | None:
        for mid in sorted(self._bot_ids() - before, key=int):
            m = self.emu.messages[mid]
            if buttons(m):
                return Outcome(self.emu.text_of(m), len(m.get("attachments") or []) or 1)
        return None

    async def slash(self, options: dict[str, Any], command: str = "imagine", **kw: Any) -> Outcome:
        before = self._bot_ids()
        inter = await self.emu.send_slash_command(command, options, **kw)
        await inter.wait_ack()

        def check() -> Outcome | None:
            for fid in inter.followup_ids:
                msg = self.emu.messages.get(fid) or {}
                if msg.get("flags", 0) & EPHEMERAL:
                    return Outcome(self.emu.text_of(msg))
            return self._new_result(before)

        return await _poll(check)

    async def mention(self, text: str, attachments: list[Any] | None = None, **kw: Any) -> Outcome:
        before = self._bot_ids()
        kw.setdefault("mentions", [self.emu.bot_user_id])
        await self.emu.send_message(f"{self.emu.bot_mention} {text}", attachments, **kw)

        def check() -> Outcome | None:
            result = self._new_result(before)
            if result is not None:
                return result
            for mid in self._bot_ids() - before:
                content = self.emu.text_of(self.emu.messages[mid])
                # Anything but a progress status ("Starting…", "Generating… 40%") is the answer.
                if content and "…" not in content and "%" not in content:
                    return Outcome(content)
            return None

        return await _poll(check)

    async def press(self, custom_id: str, user_id: str) -> Outcome:
        inter = await self.emu.send_component(custom_id, user_id=user_id)
        await inter.wait_ack()

        def check() -> Outcome | None:
            for fid in inter.followup_ids:
                msg = self.emu.messages.get(fid) or {}
                return Outcome(self.emu.text_of(msg))
            if inter.original and self.emu.text_of(inter.original):
                return Outcome(self.emu.text_of(inter.original))
            return None

        return await _poll(check)


class SlackUser:
    def __init__(self, emu: SlackEmulator, bot: RunningBot) -> None:
        self.emu = emu
        self.bot = bot

    def _controls(self) -> list[dict[str, Any]]:
        return [
            m
            for c in self.emu.messages
            for m in self.emu.bot_messages(c)
            if any(  # a result's controls (a status message carries only Cancel)
                e.get("action_id") == "seedbot.reroll"
                for b in m.get("blocks") or []
                if b.get("type") == "actions"
                for e in b.get("elements") or []
            )
        ]

    async def _answer(self, send: Callable[[], Awaitable[Any]], response_url: bool = False) -> Outcome:
        ephemerals, results = len(self.emu.ephemerals), len(self._controls())
        uploads = len([u for u in self.emu.uploaded_files() if u["completed"]])
        sent = await send()

        def check() -> Outcome | None:
            if len(self.emu.ephemerals) > ephemerals:
                return Outcome(self.emu.ephemerals[ephemerals]["text"])
            if response_url and self.emu.responses_to(sent.response_url):
                return Outcome(self.emu.responses_to(sent.response_url)[0]["text"])
            if len(self._controls()) > results:
                done = len([u for u in self.emu.uploaded_files() if u["completed"]])
                return Outcome("delivered", done - uploads)
            return None

        return await _poll(check)

    async def mention(
        self, text: str, files: list[tuple[str, bytes, str]] | None = None, **kw: Any
    ) -> Outcome:
        uploaded = [self.emu.add_file(name, data, mime) for name, data, mime in files or []]
        event = self.emu.mention_event(f"<@UBOT> {text}", files=uploaded or None, **kw)
        return await self._answer(lambda: self.emu.post_event(self.bot.slack_url, event))

    async def slash(self, text: str) -> Outcome:
        return await self._answer(
            lambda: self.emu.post_slash_command(self.bot.slack_url, "/imagine", text), response_url=True
        )


def _discord_cases(d: DiscordUser, emu: DiscordEmulator, state: dict[str, Any]) -> list[Case]:
    def att(name: str, data: bytes, mime: str | None = "image/png") -> dict[str, Any]:
        return emu.add_cdn_file(name, data, mime)

    def huge() -> dict[str, Any]:
        a = att("big.png", F.png(16, 16))
        a["size"] = UPLOAD_MAX_BYTES + 1  # Discord declares the size: refused before download
        return a

    async def reply_to_human() -> Outcome:
        human = await emu.send_message("just chatting, no bot here")
        return await d.mention("make it blue", reply_to=human["id"])

    async def edit_non_result() -> Outcome:
        human = await emu.send_message("no image and not a bot result")
        inter = await emu.send_message_command(messages.CONTEXT_EDIT_NAME, human["id"])
        await inter.wait_ack()

        def check() -> Outcome | None:
            for fid in inter.followup_ids:
                return Outcome(emu.text_of(emu.messages.get(fid) or {}))
            if inter.original and emu.text_of(inter.original):
                return Outcome(emu.text_of(inter.original))
            return None

        return await _poll(check)

    async def delete_by_other() -> Outcome:
        return await d.press(f"seedbot:delete:{state['discord_job']}", state["bob"])

    def slash(opts: dict[str, Any]) -> Callable[[], Awaitable[Outcome]]:
        return lambda: d.slash(opts)

    return [
        Case(
            "discord", "non-image renamed .png", slash({"prompt": "x", "image": att("a.png", F.NOT_AN_IMAGE)})
        ),
        Case("discord", "truncated PNG", slash({"prompt": "x", "image": att("t.png", F.truncated_png())})),
        Case("discord", "decompression bomb", slash({"prompt": "x", "image": att("b.png", F.bomb_png())})),
        Case(
            "discord",
            "animated GIF, 300 frames (accepted as a GIF reference)",
            slash({"prompt": "x", "image": att("a.gif", F.animated_gif(), "image/gif")}),
            served=True,
        ),
        Case("discord", "image over 40 MB (declared)", slash({"prompt": "x", "image": huge()})),
        Case(
            "discord",
            "image over 6000 px, past 1:16",
            slash({"prompt": "x", "image": att("w.png", F.over_6000_px())}),
        ),
        Case("discord", "SVG", slash({"prompt": "x", "image": att("v.svg", F.SVG, "image/svg+xml")})),
        Case("discord", "HEIC", slash({"prompt": "x", "image": att("h.heic", F.HEIC, "image/heic")})),
        Case("discord", "zero-byte file", slash({"prompt": "x", "image": att("z.png", b"")})),
        # Discord caps option values at 2,000 and (Nitro) messages at 4,000 characters.
        Case("discord", "3,990-character prompt (Nitro message)", lambda: d.mention(LONG[:3990])),
        Case("discord", "whitespace prompt", slash({"prompt": "   \t  "})),
        Case("discord", "empty mention", lambda: d.mention("")),
        Case("discord", "control + zero-width only", slash({"prompt": "\u200b\u200d\x07\ufeff"})),
        Case("discord", "control + zero-width stripped", slash({"prompt": CONTROL}), served=True),
        Case(
            "discord",
            "@everyone and a role mention echoed",
            slash({"prompt": "@everyone @here <@&1300000000000000400> a cat"}),
            served=True,
        ),
        Case("discord", "--n 99", lambda: d.mention("a fox --n 99")),
        Case("discord", "--ar 1:100", lambda: d.mention("a fox --ar 1:100")),
        Case("discord", "--res 8K", lambda: d.mention("a fox --res 8K")),
        Case("discord", "unknown flag", slash({"prompt": "a fox --sparkle 3"})),
        Case(
            "discord",
            "5 references + --n 12 (over 15)",
            lambda: d.mention("x --n 12", [(f"r{i}.png", F.png(20, 20)) for i in range(5)]),
        ),
        # A pinged reply to a human's message is simply a new request (served, charged).
        Case("discord", "pinged reply to a human's message", reply_to_human, served=True),
        Case("discord", "Edit with Seedream on a message that is not a result", edit_non_result),
        Case("discord", "Delete pressed by someone else", delete_by_other),
    ]


def _slack_cases(s: SlackUser, state: dict[str, Any]) -> list[Case]:
    png = "image/png"

    def m(text: str, *files: tuple[str, bytes, str]) -> Callable[[], Awaitable[Outcome]]:
        return lambda: s.mention(text, list(files))

    def button_by_other(action: str) -> Callable[[], Awaitable[Outcome]]:
        async def press() -> Outcome:
            emu = s.emu
            return await s._answer(
                lambda: emu.post_block_action(
                    s.bot.slack_url, action, state["slack_job"], state["slack_ts"], user="U2"
                )
            )

        return press

    async def replayed() -> Outcome:
        emu = s.emu
        event = emu.mention_event("<@UBOT> a paper boat, once")
        first = await s._answer(lambda: emu.post_event(s.bot.slack_url, event, event_id="EvReplay1"))
        uploads = len(emu.calls("files.completeUploadExternal"))
        for retry in (None, 1, 2):
            await emu.post_event(s.bot.slack_url, event, event_id="EvReplay1", retry_num=retry, store=False)
        # A later request is a barrier: once it is answered, the replays were dropped.
        barrier = await s.mention("a barrier")
        assert len(emu.calls("files.completeUploadExternal")) == uploads + 1
        return Outcome("answered once (+1 barrier request): " + first.text, first.served + barrier.served)

    refs15 = [(f"r{i}.png", F.png(20, 20), png) for i in range(15)]
    refs5 = [(f"r{i}.png", F.png(20, 20), png) for i in range(5)]
    return [
        Case("slack", "non-image renamed .png", m("x", ("a.png", F.NOT_AN_IMAGE, png))),
        Case("slack", "truncated PNG", m("x", ("t.png", F.truncated_png(), png))),
        Case("slack", "decompression bomb", m("x", ("b.png", F.bomb_png(), png))),
        # Over the hosts' 10 MB: shrunk to fit, and made.
        Case("slack", "image over 10 MB", m("x", ("big.png", state["big"], png)), served=True),
        Case("slack", "image over 6000 px, past 1:16", m("x", ("w.png", F.over_6000_px(), png))),
        Case("slack", "15 references (max 14)", m("x", *refs15)),
        Case("slack", "5 references + --n 11 (over 15)", m("x --n 11", *refs5)),
        Case("slack", "SVG", m("x", ("v.svg", F.SVG, "image/svg+xml"))),
        Case("slack", "HEIC", m("x", ("h.heic", F.HEIC, "image/heic"))),
        Case("slack", "zero-byte file", m("x", ("z.png", b"", png))),
        Case("slack", "10,000-character prompt", m(LONG)),
        Case("slack", "empty mention", m("")),
        Case("slack", "whitespace slash command", lambda: s.slash("   ")),
        Case("slack", "zero-width only", m("\u200b\u200d\ufeff")),
        Case("slack", "control + zero-width stripped", m(CONTROL), served=True),
        Case(
            "slack",
            "<!everyone> <!here> <!subteam^S1> echoed",
            m("<!everyone> <!here> <!subteam^S1> a cat"),
            served=True,
        ),
        Case("slack", "--n 99", lambda: s.slash("a fox --n 99")),
        Case("slack", "--ar 1:100", m("a fox --ar 1:100")),
        Case("slack", "--res 8K", lambda: s.slash("a fox --res 8K")),
        Case("slack", "unknown flag", m("a fox --zoom 2")),
        Case("slack", "Delete pressed by someone else", button_by_other("seedbot.delete")),
        # One rule on every surface: others may re-roll a result, on their own quota.
        Case(
            "slack",
            "Re-roll pressed by someone else",
            button_by_other("seedbot.reroll"),
            served=True,
            payer="slack:T1:U2",
        ),
        Case("slack", "event replayed with the same event id", replayed, served=True),
    ]


CLI_CASES: list[tuple[str, list[str]]] = [
    ("non-image renamed .png", ["x", "--image", "notimage.png"]),
    ("truncated PNG", ["x", "--image", "truncated.png"]),
    ("decompression bomb", ["x", "--image", "bomb.png"]),
    ("image over 6000 px, past 1:16", ["x", "--image", "wide.png"]),
    ("SVG", ["x", "--image", "v.svg"]),
    ("zero-byte file", ["x", "--image", "empty.png"]),
    ("missing file", ["x", "--image", "no-such-file.png"]),
    ("15 references", ["x", *[a for i in range(15) for a in ("--image", f"r{i}.png")]]),
    ("--count 99", ["a fox", "--count", "99"]),
    ("--aspect 1:100", ["a fox", "--aspect", "1:100"]),
    ("--resolution 8K", ["a fox", "--resolution", "8K"]),
    ("whitespace prompt", ["   "]),
    ("10,000-character prompt", [LONG]),
    ("--image to a non-http URL", ["x", "--image", "file:///etc/passwd"]),
]


def _cli_files(where: Path) -> None:
    files = {
        "notimage.png": F.NOT_AN_IMAGE,
        "truncated.png": F.truncated_png(),
        "bomb.png": F.bomb_png(),
        "wide.png": F.over_6000_px(),
        "v.svg": F.SVG,
        "empty.png": b"",
        **{f"r{i}.png": F.png(20, 20) for i in range(15)},
    }
    for name, data in files.items():
        (where / name).write_bytes(data)


async def test_hostile_input_corpus(stack: Stack, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.INFO)
    bot = await stack.start_bot(provider_retries=0, providers=["demo"])
    d, s = DiscordUser(stack.discord), SlackUser(stack.slack, bot)
    bob = stack.discord.add_user("bob")
    stack.slack.add_user("U2", "bob")

    # Results to press buttons on, made before the corpus.
    first = await d.slash({"prompt": "a result to delete"})
    assert first.served
    [result] = [m for m in stack.discord.messages.values() if buttons(m)]
    slack_first = await s.mention("a result to re-roll")
    assert slack_first.served
    [controls] = s._controls()
    actions = next(b for b in controls["blocks"] if b["type"] == "actions")
    state = {
        "discord_job": buttons(result)["delete"],
        "bob": bob["id"],
        "slack_job": actions["elements"][0]["value"],
        "slack_ts": controls["ts"],
        "big": await asyncio.to_thread(F.over_10_mb),
    }

    cases = _discord_cases(d, stack.discord, state) + _slack_cases(s, state)
    rows: list[tuple[str, str, str, int, int]] = []
    for case in cases:
        user = case.payer or (DISCORD_USER if case.platform == "discord" else SLACK_USER)
        before = (await bot.usage(user)).day_used
        try:
            outcome = await case.run()
        except Exception as exc:
            raise AssertionError(f"{case.platform}: {case.name}: {exc!r}") from exc
        await bot.runtime.engine.wait_background()
        charged = (await bot.usage(user)).day_used - before
        rows.append((case.platform, case.name, outcome.text, outcome.served, charged))

    # The CLI, in subprocesses (four at a time) on its own database.
    cli_dir = tmp_path / "cli"
    cli_dir.mkdir()
    _cli_files(cli_dir)
    env = {"SEEDBOT_DATABASE": str(cli_dir / "cli.db")}
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda c: seedbot(cli_dir, "generate", *c[1], env=env), CLI_CASES))
    for (name, _), run in zip(CLI_CASES, runs, strict=True):
        rows.append(("cli", name, (run.stderr.strip() or run.stdout.strip()).splitlines()[-1], 0, 0))
        assert run.returncode != 0, (name, run.stdout, run.stderr)
        assert "Traceback" not in run.stderr, (name, run.stderr)
    quota = seedbot(cli_dir, "quota", "show", "cli:local", env=env)
    assert quota.returncode == 0, quota.stderr

    served_names = {(c.platform, c.name) for c in cases if c.served}
    problems = []
    for platform, name, text, served, charged in rows:
        expect_served = (platform, name) in served_names
        if expect_served and (not served or charged != served):
            problems.append(
                f"{platform}: {name}: expected served and charged {served}, got {charged}: {text}"
            )
        if not expect_served and (served or charged):
            problems.append(
                f"{platform}: {name}: should be refused for free; served {served}, charged {charged}: {text}"
            )
        if not text.strip():
            problems.append(f"{platform}: {name}: no message to the user")
    for platform, name, text, served, charged in rows:
        print(
            f"  {platform:8} {name:45} {'served' if served else 'refused':8} charged={charged}  {text[:110]!r}"
        )

    # No ping: every Discord message the bot wrote allowed no mentions except the owner.
    for r in stack.discord.requests:
        body = r.payload_json if r.payload_json is not None else r.json
        if (
            r.kind == "api"
            and r.method in ("POST", "PATCH")
            and isinstance(body, dict)
            and ("content" in body or "components" in body)
        ):
            allowed = body.get("allowed_mentions")
            if allowed is None or "everyone" in (allowed.get("parse") or []) or allowed.get("roles"):
                problems.append(f"discord {r.method} {r.path}: allowed_mentions {allowed}")
    # Slack: nothing the bot wrote can form a special mention.
    for r in stack.slack.requests:
        if r.kind in ("api", "response_url"):
            text = str(r.params)
            if re.search(r"<!(everyone|here|channel|subteam)", text):
                problems.append(f"slack {r.path}: special mention in {text[:200]}")

    tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]

    # Still serving: a valid request on each platform is delivered.
    assert (await d.slash({"prompt": "still here"})).served
    assert (await s.mention("still here")).served
    assert "Images left today: 20 of 20" in quota.stdout, quota.stdout  # the CLI charged nothing

    charged_refusals = sum(c for p, n, _, sv, c in rows if (p, n) not in served_names)
    print(
        f"\nhostile inputs: {len(rows)} tried ({len(cases) - len(served_names)} discord/slack refusals, "
        f"{len(served_names)} served as documented, {len(CLI_CASES)} cli), charged 0 for refusals "
        f"(measured {charged_refusals}), tracebacks {len(tracebacks)}, still serving: yes"
    )
    assert not problems, "\n".join(problems)
    assert not tracebacks, [r.getMessage() for r in tracebacks]
    assert len(rows) >= 40
