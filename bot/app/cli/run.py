"""`seedbot run`: start every configured platform (or those named by flags), serve until
SIGINT/SIGTERM, then drain. Platforms come from the `seedbot.platforms` plug-ins."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.app.config_check import ignored_settings, settings_problems
from bot.app.health import HealthServer
from bot.app.platform import Platform, PlatformPlugin, PlatformSettings
from bot.app.runtime import open_runtime
from bot.config import PROVIDER_ORDER, Settings

__all__ = ["PLAYGROUND_DEMO_LATENCY", "invocation", "nothing_configured", "playground_for", "run"]

log = logging.getLogger("bot.app.cli")

PLAYGROUND_DEMO_LATENCY = 3.0  # seconds: long enough to see the queue and the progress bar


def invocation() -> str:
    """How to run seedbot again from this shell: `seedbot` when that is on PATH and is this
    one, else the path of this script (".venv/bin/seedbot" after `make run`), else `-m bot`."""
    script = Path(sys.argv[0])
    if script.name == "seedbot":
        found = shutil.which("seedbot")
        if found and Path(found).resolve() == script.resolve():
            return "seedbot"
        return _relative(script)
    return f"{_relative(Path(sys.executable))} -m bot"


def _relative(path: Path) -> str:
    """ ".venv/bin/seedbot" for a virtualenv in the current directory (as after `make run`),
    else the absolute path (it works from anywhere)."""
    absolute = Path(os.path.abspath(path))  # not resolve(): keep the venv's own bin/ path
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return str(absolute)
    if len(relative.parts) > 3:
        return str(absolute)
    return str(relative) if len(relative.parts) > 1 else f".{os.sep}{relative}"  # run by path


def nothing_configured(plugins: Mapping[str, PlatformPlugin]) -> int:
    """`seedbot run` with no platform configured: what to set, and how to try seedbot without
    one. Kept in one place: a later `seedbot run` may start a web playground here instead."""
    chats = [p for p in plugins.values() if not p.playground]
    width = max((len(p.title) for p in chats), default=0) + 1
    platforms = "\n".join(f"  {f'{p.title}:':<{width}} {p.setup_hint()}" for p in chats)
    keys = ", ".join(Settings.provider_key_env(name) for name in PROVIDER_ORDER)
    print(
        "seedbot has no chat platform configured, so there is nothing to run.\n\n"
        "Set these in .env (see .env.example) or in the environment:\n"
        f"{platforms}\n"
        "Provider keys (without one, seedbot runs on the offline demo provider):\n"
        f"  {keys}\n\n"
        f"{try_it()}",
        file=sys.stderr,
    )
    return 2


def try_it() -> str:
    """A command that works from this shell, with nothing configured."""
    return f'Try it without any platform: {invocation()} generate "a red fox" --provider demo --out out/'


def playground_for(
    wanted: list[str], plugins: Mapping[str, PlatformPlugin], settings: Settings
) -> tuple[str, Settings] | None:
    """No chat platform asked for or configured: the playground plug-in, and the settings it runs
    on (the demo provider slowed, so its queue and progress are visible). None otherwise."""
    if any(not plugins[name].playground for name in wanted):
        return None
    name = next((n for n, p in plugins.items() if p.playground), None)
    if name is None:
        return None
    latency = PLAYGROUND_DEMO_LATENCY if settings.demo_latency is None else settings.demo_latency
    return name, settings.model_copy(update={"demo_latency": latency})


async def run(
    args: argparse.Namespace,
    settings: Settings,
    plugins: Mapping[str, PlatformPlugin],
    platform_settings: Mapping[str, PlatformSettings],
) -> int:
    problems = settings_problems(settings, plugins)
    for problem in problems:
        print(f"seedbot: {problem}", file=sys.stderr)
    if problems:
        return 2
    for ignored in ignored_settings(settings, platform_settings):
        log.warning("%s", ignored)  # not fatal: a deployment may set names of its own
    named = [name for name in plugins if getattr(args, name, False)]
    # A platform set up in part was meant to run: say what is missing, don't quietly skip it.
    partial = [(plugins[n].title, platform_settings[n].incomplete) for n in named or plugins]
    for title, missing in partial:
        if missing is not None:
            print(f"seedbot: {title} is set up in part: {missing}", file=sys.stderr)
    if any(missing is not None for _, missing in partial):
        return 2
    # Asked for alone, a playground needs no settings (`run --web` is plain `run`); beside a chat
    # platform it needs its port.
    alone = all(plugins[name].playground for name in named)
    for name in named:
        if not platform_settings[name].enabled and not (alone and plugins[name].playground):
            plugin = plugins[name]
            print(f"seedbot: {plugin.title} is not configured: set {plugin.setup_hint()}", file=sys.stderr)
            print(try_it(), file=sys.stderr)
            return 2
    wanted = named or [name for name in plugins if platform_settings[name].enabled]
    playground = playground_for(wanted, plugins, settings)
    if playground is not None:
        wanted, settings = [playground[0]], playground[1]
    if not wanted:
        return nothing_configured(plugins)
    for name in wanted:  # SettingsRefused, before the database is created or migrated
        platform_settings[name].check()
    async with open_runtime(settings, mode="run") as runtime:
        runtime.playground = playground is not None
        platforms: list[Platform] = []
        for name in wanted:
            platform = plugins[name].create(runtime, platform_settings[name])
            if platform is not None:
                platforms.append(platform)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:  # POSIX only, like the Makefile, Docker image and systemd unit
            loop.add_signal_handler(sig, _on_signal, sig, stop)
        health = HealthServer(runtime, settings.http_port) if settings.http_port is not None else None
        started: list[Platform] = []
        try:
            if health is not None:
                await health.start()
            for platform in platforms:
                started.append(platform)  # closed even when start() fails half-way
                await platform.start()  # PlatformUnavailable: one line, via main()
                log.info("%s connected", platform.name)
            if health is not None:
                health.set_platforms(platforms)
            resumed = await runtime.engine.recover()
            if resumed:
                log.info("resuming %d job(s) left running by the last run", len(resumed))
            runtime.retention.start()
            await stop.wait()
            # Stop taking new work, give running jobs the grace period, checkpoint the rest.
            cancelled = await runtime.engine.shutdown(settings.shutdown_grace)
            log.info("shut down cleanly%s", f" ({len(cancelled)} job(s) cut short)" if cancelled else "")
        finally:
            runtime.engine.draining = True
            await runtime.retention.close()
            with contextlib.suppress(Exception):
                await runtime.engine.close()  # stop renewing job leases
            for platform in reversed(started):
                with contextlib.suppress(Exception):
                    await platform.close()
            if health is not None:
                await health.close()
            for sig in signals:
                loop.remove_signal_handler(sig)
    return 0


def _on_signal(sig: signal.Signals, stop: asyncio.Event) -> None:
    if stop.is_set():
        log.info("%s again: already shutting down", sig.name)
        return
    log.info("%s: shutting down (no new jobs; running ones get SEEDBOT_SHUTDOWN_GRACE)", sig.name)
    stop.set()
