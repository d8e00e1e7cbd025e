"""`seedbot ...`: run the bot, generate from the shell, manage quotas, check the set-up."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import httpx
from pydantic import ValidationError

from bot import messages
from bot.app.config import Settings, get_settings
from bot.app.health import HealthServer
from bot.app.invite import (
    DISCORD_PERMISSIONS,
    DISCORD_USER_INSTALL,
    discord_invite_url,
    discord_user_install_url,
)
from bot.app.logs import RedactingFilter, configure_logging
from bot.app.platform import Platform, load_factories
from bot.app.runtime import Runtime, open_runtime
from bot.engine.pipeline import Delivery
from bot.errors import ProviderError, SeedbotError
from bot.media.images import load_reference
from bot.request.models import GenerationRequest, GenerationResult, ImageInput, Requester
from bot.request.validation import MAX_OUTPUTS, MODELS, REFERENCE_MAX_BYTES

__all__ = ["main"]

log = logging.getLogger("bot.app.cli")

CLI_USER = Requester(platform="cli", user_id="local", display_name="local")
# Not messages.DEMO_NOTICE: demo may be chosen (--provider demo) with keys set, and when no key
# is set the runtime's warning has said so already.
DEMO_RESULT = "Demo mode: these are placeholder images from the offline demo provider."

NOTHING_CONFIGURED = """\
seedbot has no chat platform configured, so there is nothing to run.

Set these in .env (see .env.example) or in the environment:
  Discord: DISCORD_TOKEN
  Slack:   SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)
Provider keys (without one, seedbot runs on the offline demo provider):
  NOVITA_API_KEY, SEGMIND_API_KEY, APIFRAME_API_KEY, MODELLIX_API_KEY

Try it without any platform: seedbot generate "a red fox" --provider demo --out out/
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seedbot", description="Seedream images for Discord and Slack.")
    parser.add_argument("--env-file", default=".env", help="settings file to read (default: .env)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot on the configured platforms")
    run.add_argument("--discord", action="store_true", help="run only Discord (with --slack: both)")
    run.add_argument("--slack", action="store_true", help="run only Slack (with --discord: both)")

    gen = sub.add_parser("generate", help="generate images from the shell, as user cli:local")
    gen.add_argument("prompt")
    gen.add_argument("--image", action="append", default=[], metavar="PATH_OR_URL", help="reference image")
    gen.add_argument("--model", default=None, choices=sorted(MODELS))
    gen.add_argument("--provider", default=None, help="use only this provider")
    gen.add_argument("--resolution", default=None, help="2K, 3K, 4K or WxH")
    gen.add_argument("--aspect", default=None, help="W:H, e.g. 16:9")
    gen.add_argument("--count", type=int, default=1, help=f"images to make (1-{MAX_OUTPUTS})")
    gen.add_argument("--format", default="jpeg", choices=["png", "jpeg", "jpg"])
    gen.add_argument("--no-watermark", action="store_true", help="ask for no watermark (the default)")
    gen.add_argument("--watermark", action="store_true", help="ask for the provider's watermark")
    gen.add_argument("--out", default=".", help="directory to write the images to")

    quota = sub.add_parser("quota", help="show or change a user's quota (changes are audited)")
    quota.add_argument("action", choices=["show", "set", "grant", "reset", "block", "unblock"])
    quota.add_argument("user", help="platform:id, e.g. discord:123 or slack:T1:U1")
    quota.add_argument("--daily", type=int, default=None, help="with set: images per day")
    quota.add_argument("--monthly", type=int, default=None, help="with set: images per month")
    quota.add_argument("--images", type=int, default=None, help="with grant: extra images for today")

    ws = sub.add_parser("settings", help="show or change a server's/workspace's settings (audited)")
    ws.add_argument("workspace", help="discord:<guild id> or slack:<team id>")
    ws.add_argument("key", nargs="?", help="model, resolution, watermark, format, channels, pool, max_batch")
    ws.add_argument("value", nargs="*", help="the new value ('none' clears it)")

    st = sub.add_parser("stats", help="images and jobs today and this month, by user and provider")
    st.add_argument("workspace", nargs="?", default=None, help="discord:<guild id> or slack:<team id>")

    audit = sub.add_parser("audit", help="the newest admin changes: who changed what, when")
    audit.add_argument("target", nargs="?", default=None, help="only changes to this user or workspace")
    audit.add_argument("--limit", type=int, default=20, help="how many (default 20)")

    sub.add_parser(
        "doctor", help="check the configuration and each credential (free calls), say what is missing"
    )

    backup = sub.add_parser("backup", help="copy the database consistently, even while the bot runs")
    backup.add_argument("path", help="file to write (or a directory: a dated file is made in it)")
    backup.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    return parser


def _request(
    args: argparse.Namespace, settings: Settings, images: tuple[ImageInput, ...]
) -> GenerationRequest:
    width = height = None
    resolution = args.resolution
    if resolution and "x" in resolution.lower():
        w, _, h = resolution.lower().partition("x")
        if w.isdigit() and h.isdigit():
            width, height, resolution = int(w), int(h), None
    return GenerationRequest(
        prompt=args.prompt,
        images=images,
        model=args.model or settings.model,
        resolution=resolution,
        width=width,
        height=height,
        aspect=args.aspect,
        count=args.count,
        output_format="jpeg" if args.format == "jpg" else args.format,
        watermark=bool(args.watermark and not args.no_watermark),
        provider=args.provider,
    )


async def _load_images(runtime: Runtime, sources: list[str]) -> tuple[ImageInput, ...]:
    images = []
    for source in sources:
        if source.startswith(("http://", "https://")):
            fetched = await runtime.fetcher.fetch(source, max_bytes=REFERENCE_MAX_BYTES, name=source)
            name = source.rsplit("/", 1)[-1].split("?", 1)[0] or "image"
            # A public URL can be handed to URL-only providers as is.
            images.append(load_reference(fetched.data, name, url=source))
        else:
            path = Path(source)
            if not path.is_file():
                raise SeedbotError(f"There is no file at {source}.")
            if path.stat().st_size > REFERENCE_MAX_BYTES:
                raise SeedbotError(
                    messages.image_too_large(path.name, path.stat().st_size, REFERENCE_MAX_BYTES)
                )
            images.append(load_reference(path.read_bytes(), path.name))
    return tuple(images)


async def _generate(args: argparse.Namespace, settings: Settings) -> int:
    if args.provider:
        settings = settings.model_copy(update={"providers": [args.provider.lower()]})
    out = Path(args.out)
    async with open_runtime(settings) as runtime:
        images = await _load_images(runtime, args.image)
        request = _request(args, settings, images)
        written: list[Path] = []

        async def deliver(result: GenerationResult) -> Delivery:
            out.mkdir(parents=True, exist_ok=True)
            for i, image in enumerate(result.images, start=1):
                path = out / f"seedbot-{result.job_id}-{i}.{image.extension}"
                path.write_bytes(image.data)
                written.append(path)
            return Delivery(delivered=len(written))

        try:  # on a shared database the job is leased to this process while it runs
            result, _ = await runtime.engine.generate(request, CLI_USER, deliver=deliver)
        finally:
            await runtime.engine.close()
        for path in written:
            print(path)
        notes = []
        if result.demo:
            notes.append(DEMO_RESULT)
        if result.missing:
            notes.append(messages.partial_delivery(len(result.images), result.requested))
        for note in notes:
            print(note, file=sys.stderr)
    return 0


def _cli_actor() -> str:
    """Who made a change from the shell, for the audit trail."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


async def _quota(args: argparse.Namespace, settings: Settings) -> int:
    from bot.conversation.community import Community
    from bot.ledger import open_ledger

    ledger = await open_ledger(settings)
    community = Community(settings, ledger)
    actor = _cli_actor()
    try:
        user = args.user
        if args.action == "set":
            if args.daily is None and args.monthly is None:
                print("quota set needs --daily and/or --monthly", file=sys.stderr)
                return 2
            print(await community.quota_set(actor, user, daily=args.daily, monthly=args.monthly))
        elif args.action == "grant":
            if args.images is None:
                print("quota grant needs --images N", file=sys.stderr)
                return 2
            print(await community.quota_grant(actor, user, args.images))
        elif args.action == "reset":
            print(await community.quota_reset(actor, user))
        elif args.action in ("block", "unblock"):
            print(await community.quota_block(actor, user, args.action == "block"))
        print(await community.quota_show(user))
    finally:
        await ledger.close()
    return 0


async def _settings(args: argparse.Namespace, settings: Settings) -> int:
    from bot.conversation.community import Community
    from bot.ledger import open_ledger

    ledger = await open_ledger(settings)
    try:
        community = Community(settings, ledger)
        if args.key:
            print(await community.settings_set(_cli_actor(), args.workspace, args.key, " ".join(args.value)))
        print(await community.settings_show(args.workspace))
    finally:
        await ledger.close()
    return 0


async def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from bot.conversation.community import Community
    from bot.ledger import open_ledger

    ledger = await open_ledger(settings)
    try:
        print(await Community(settings, ledger).stats(args.workspace))
    finally:
        await ledger.close()
    return 0


async def _audit(args: argparse.Namespace, settings: Settings) -> int:
    from bot.conversation.community import Community
    from bot.ledger import open_ledger

    ledger = await open_ledger(settings)
    try:
        print(await Community(settings, ledger).audit(args.target, max(1, args.limit)))
    finally:
        await ledger.close()
    return 0


DOCTOR_TIMEOUT = 10.0
SLACK_ERRORS = {
    "invalid_auth": "the token is not valid",
    "not_authed": "no token was sent",
    "account_inactive": "the app was uninstalled or its user deactivated",
    "token_revoked": "the token was revoked",
    "token_expired": "the token expired",
    "not_allowed_token_type": "this is the wrong kind of token",
}


class _Doctor:
    """Prints what it finds; counts problems (definite failures) and checks it could not run."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.problems = 0
        self.unverified = 0
        self._scrub = RedactingFilter(settings.secrets()).scrub

    def say(self, line: str) -> None:
        print(self._scrub(line))

    def problem(self, line: str) -> None:
        self.problems += 1
        self.say(f"  ! {line}")

    def unreachable(self, what: str, url: str, exc: Exception) -> None:
        self.unverified += 1
        self.say(f"  ? could not reach {url} to check {what} ({type(exc).__name__}); not checked")

    async def database(self) -> None:
        from bot.ledger import SQLiteLedger, open_ledger

        url = self.settings.database
        if _is_server_url(url):
            self.say(f"database: {_without_password(url)}")
        else:
            self.say(f"database: {url}")
        path = Path(url)
        if not _is_server_url(url) and not path.exists():
            if path.parent.is_dir() and os.access(path.parent, os.W_OK):
                self.say("  not created yet: `seedbot run` creates and migrates it here")
            else:
                self.problem(
                    f"{path.parent} does not exist or is not writable: the database can't be created"
                )
            return
        try:
            ledger = await open_ledger(self.settings)
            try:
                if isinstance(ledger, SQLiteLedger):
                    await ledger.db.execute("SELECT 1")
                else:
                    await ledger.open_reservations()
            finally:
                await ledger.close()
        except Exception as exc:
            self.problem(f"the database could not be opened and migrated: {type(exc).__name__}: {exc}")
            return
        self.say("  ok: opened, migrations up to date, answers queries")

    def providers(self) -> None:
        settings = self.settings
        if settings.demo_only:
            self.say(
                "providers: none configured -> offline demo provider "
                "(set NOVITA_API_KEY, SEGMIND_API_KEY, ...)"
            )
        else:
            self.say(f"providers (routing order): {', '.join(settings.provider_names)}")
            for name in settings.provider_names:
                if name != "demo":
                    # None of the four documents a free authenticated call (providers.md).
                    self.say(f"  {name}: key set, no free check available")
        if settings.providers:
            for name in settings.providers:
                if name != "demo" and not settings.provider_key(name):
                    self.problem(
                        f"{name} is listed in SEEDBOT_PROVIDERS but {name.upper()}_API_KEY is not set"
                    )

    async def discord(self, http: httpx.AsyncClient) -> None:
        settings = self.settings
        if not settings.discord_enabled or settings.discord_token is None:
            self.say("discord: not configured (DISCORD_TOKEN)")
            return
        self.say("discord: configured")
        base = settings.discord_api_base_url.rstrip("/")
        headers = {"Authorization": f"Bot {settings.discord_token.get_secret_value()}"}
        try:
            me = await http.get(f"{base}/users/@me", headers=headers)
            if me.status_code == 401:
                self.problem(
                    "DISCORD_TOKEN was refused (401 Unauthorized): copy a new one from the Developer "
                    "Portal (your application -> Bot -> Reset Token)"
                )
                return
            if me.status_code != 200:
                self.problem(f"Discord answered /users/@me with HTTP {me.status_code}")
                return
            user = me.json()
            self.say(f"  ok: token accepted, signed in as {user.get('username')} (id {user.get('id')})")
            app = await http.get(f"{base}/oauth2/applications/@me", headers=headers)
        except httpx.HTTPError as exc:
            self.unreachable("DISCORD_TOKEN", base, exc)
            return
        if app.status_code != 200:
            self.problem(f"Discord answered /oauth2/applications/@me with HTTP {app.status_code}")
            return
        self.say(f"  invite: {discord_invite_url(str(app.json().get('id')))}")
        self.say(
            f"          (scopes bot, applications.commands; permissions: {', '.join(DISCORD_PERMISSIONS)})"
        )
        self.say(f"  user install: {discord_user_install_url(str(app.json().get('id')))}")
        if DISCORD_USER_INSTALL not in (app.json().get("integration_types_config") or {}):
            self.say("          (not enabled: Developer Portal -> Installation -> User Install)")

    async def _slack_call(self, http: httpx.AsyncClient, method: str, token: str) -> dict[str, Any] | None:
        url = f"{self.settings.slack_api_url}{method}"
        try:
            response = await http.post(url, headers={"Authorization": f"Bearer {token}"})
            body = (
                response.json()
                if response.status_code == 200
                else {"ok": False, "error": f"HTTP {response.status_code}"}
            )
        except httpx.HTTPError as exc:
            self.unreachable(method, self.settings.slack_api_url, exc)
            return None
        except ValueError:
            body = {"ok": False, "error": "not a JSON answer"}
        return dict(body) if isinstance(body, dict) else {"ok": False, "error": "unexpected answer"}

    async def slack(self, http: httpx.AsyncClient) -> None:
        settings = self.settings
        if settings.slack_bot_token and not settings.slack_enabled:
            self.say("slack: configured without a transport")
            self.problem("SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN is")
        elif not settings.slack_enabled:
            self.say("slack: not configured (SLACK_BOT_TOKEN + secret)")
            return
        else:
            mode = "Socket Mode" if settings.slack_app_token else f"HTTP on port {settings.slack_port}"
            self.say(f"slack: {mode}")
        assert settings.slack_bot_token is not None
        auth = await self._slack_call(http, "auth.test", settings.slack_bot_token.get_secret_value())
        if auth is not None:
            if auth.get("ok"):
                self.say(f"  ok: bot token accepted (team {auth.get('team')}, bot user {auth.get('user')})")
            else:
                error = str(auth.get("error"))
                self.problem(
                    f"SLACK_BOT_TOKEN was refused by auth.test: {error} ({SLACK_ERRORS.get(error, 'see Slack docs')})"
                )
        if settings.slack_app_token and settings.slack_app_token.get_secret_value():
            opened = await self._slack_call(
                http, "apps.connections.open", settings.slack_app_token.get_secret_value()
            )
            if opened is not None:
                if opened.get("ok"):
                    self.say("  ok: app token accepted (Socket Mode)")
                else:
                    error = str(opened.get("error"))
                    self.problem(
                        f"SLACK_APP_TOKEN was refused: {error} ({SLACK_ERRORS.get(error, 'see Slack docs')})"
                    )
        manifest = Path(__file__).resolve().parents[2] / "slack-manifest.yml"
        where = str(manifest) if manifest.is_file() else "slack-manifest.yml in the seedbot repository"
        self.say(f"  manifest: {where} (api.slack.com/apps -> Create New App -> From a manifest)")


def _is_server_url(database: str) -> bool:
    return database.startswith(("postgres://", "postgresql://"))


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


async def _doctor(settings: Settings) -> int:
    doctor = _Doctor(settings)
    await doctor.database()
    doctor.providers()
    async with httpx.AsyncClient(
        timeout=DOCTOR_TIMEOUT, headers={"User-Agent": "seedbot-doctor/0.1"}
    ) as http:
        await doctor.discord(http)
        await doctor.slack(http)
    if not (settings.discord_enabled or settings.slack_enabled):
        doctor.problem("no chat platform is configured: `seedbot run` has nothing to serve")
    if doctor.unverified:
        doctor.say(f"{doctor.unverified} check(s) could not reach their service (network?)")
    doctor.say("ok" if doctor.problems == 0 else f"{doctor.problems} problem(s) found")
    return 0 if doctor.problems == 0 else 1


async def _backup(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the database with SQLite's online backup API: one consistent snapshot, even
    while the bot writes to it (WAL readers never block the writer)."""
    if _is_server_url(settings.database):
        print("seedbot: backup copies a SQLite file; back up PostgreSQL with pg_dump", file=sys.stderr)
        return 1
    source = Path(settings.database)
    if not source.is_file():
        print(f"seedbot: there is no database at {source} (SEEDBOT_DATABASE)", file=sys.stderr)
        return 1
    target = Path(args.path)
    if target.is_dir():
        target = target / f"seedbot-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.db"
    if target.exists() and not args.force:
        print(f"seedbot: {target} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    if not target.parent.is_dir():
        print(f"seedbot: there is no directory {target.parent}", file=sys.stderr)
        return 1
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    copy = sqlite3.connect(partial, check_same_thread=False)  # written from aiosqlite's thread
    try:
        async with aiosqlite.connect(source) as db:
            await db.execute("PRAGMA busy_timeout=10000")
            await db.backup(copy)  # pages=0: the whole database in one step, one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        jobs = copy.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
        held = copy.execute("SELECT COUNT(*) FROM reservations WHERE state = 'reserved'").fetchone()[0]
    except (sqlite3.Error, OSError) as exc:
        copy.close()
        partial.unlink(missing_ok=True)
        print(f"seedbot: the backup failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    copy.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        print(f"seedbot: the copy failed its integrity check: {check}", file=sys.stderr)
        return 1
    partial.replace(target)
    size = target.stat().st_size
    print(f"{target}: {size:,} bytes, {jobs} job(s), {held} open reservation(s), integrity ok")
    return 0


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if not (settings.discord_enabled or settings.slack_enabled):
        print(NOTHING_CONFIGURED, file=sys.stderr)
        return 2
    factories = load_factories()
    wanted = [name for name, flag in (("discord", args.discord), ("slack", args.slack)) if flag] or list(
        factories
    )
    async with open_runtime(settings) as runtime:
        platforms: list[Platform] = []
        for name in wanted:
            factory = factories.get(name)
            platform = factory(runtime) if factory else None
            if platform is not None:
                platforms.append(platform)
        if not platforms:
            print(NOTHING_CONFIGURED, file=sys.stderr)
            return 2
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:  # POSIX only, like the Makefile, Docker image and systemd unit
            loop.add_signal_handler(sig, _on_signal, sig, stop)
        health = HealthServer(runtime, settings.http_port) if settings.http_port is not None else None
        try:
            if health is not None:
                await health.start()
            for platform in platforms:
                await platform.start()
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
            for platform in reversed(platforms):
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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = get_settings(env_file=args.env_file)
    except ValidationError as exc:
        print("seedbot: the configuration is not valid:", file=sys.stderr)
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "settings"
            print(f"  {where}: {error['msg']}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.secrets(), settings.log_format)
    try:
        if args.command == "generate":
            return asyncio.run(_generate(args, settings))
        if args.command == "quota":
            return asyncio.run(_quota(args, settings))
        if args.command == "settings":
            return asyncio.run(_settings(args, settings))
        if args.command == "stats":
            return asyncio.run(_stats(args, settings))
        if args.command == "audit":
            return asyncio.run(_audit(args, settings))
        if args.command == "doctor":
            return asyncio.run(_doctor(settings))
        if args.command == "backup":
            return asyncio.run(_backup(args, settings))
        return asyncio.run(_run(args, settings))
    except ProviderError as exc:
        # Operators get the kind and status; the key is never part of a ProviderError.
        print(f"seedbot: {exc.user_text} [{exc.provider}: {exc.kind}, status {exc.status}]", file=sys.stderr)
        return 1
    except SeedbotError as exc:
        print(f"seedbot: {exc.user_text}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
