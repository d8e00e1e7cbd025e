"""The operator's admin commands: quota, settings, stats, audit. Changes are audited with the
shell user's name ("cli:<login>"); keys are checked for their shape first (bot/app/keys.py)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bot.app.keys import Kind, check_channels, check_key
from bot.app.platform import PlatformPlugin
from bot.config import Settings
from bot.request.workspace import clears, parse_setting

if TYPE_CHECKING:
    from bot.conversation.community import Community

__all__ = ["audit", "bad_key", "cast", "quota", "settings_command", "stats", "style"]


def cli_actor() -> str:
    """Who made a change from the shell, for the audit trail."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


def bad_key(key: str | None, kind: Kind, plugins: Mapping[str, PlatformPlugin]) -> bool:
    """Print why `key` is refused (exit code 2 follows); False when it is fine or absent."""
    problem = None if key is None else check_key(key, kind, plugins)
    if problem is not None:
        print(f"seedbot: {problem}", file=sys.stderr)
    return problem is not None


@asynccontextmanager
async def _community(settings: Settings, *, changes: bool) -> AsyncIterator[Community]:
    """The community commands' ledger: read-only ones open it without creating anything."""
    from bot.conversation.community import Community
    from bot.ledger import open_ledger

    ledger = await open_ledger(settings, mode="write" if changes else "read")
    try:
        yield Community(settings, ledger)
    finally:
        await ledger.close()


async def quota(args: argparse.Namespace, settings: Settings, plugins: Mapping[str, PlatformPlugin]) -> int:
    if bad_key(args.user, "user", plugins):
        return 2
    if args.action == "set" and args.daily is None and args.monthly is None:
        print("seedbot: quota set needs --daily and/or --monthly", file=sys.stderr)
        return 2
    if args.action == "grant" and args.images is None:
        print("seedbot: quota grant needs --images N", file=sys.stderr)
        return 2
    actor, user = cli_actor(), args.user
    async with _community(settings, changes=args.action != "show") as community:
        if args.action == "set":
            print(
                await community.quota_set(
                    actor, user, daily=args.daily, monthly=args.monthly, by_operator=True
                )
            )
        elif args.action == "grant":
            print(await community.quota_grant(actor, user, args.images))
        elif args.action == "reset":
            print(await community.quota_reset(actor, user))
        elif args.action in ("block", "unblock"):
            print(await community.quota_block(actor, user, args.action == "block", by_operator=True))
        print(await community.quota_show(user))
    return 0


async def settings_command(
    args: argparse.Namespace, settings: Settings, plugins: Mapping[str, PlatformPlugin]
) -> int:
    if bad_key(args.workspace, "workspace", plugins):
        return 2
    key, value = args.key, args.value
    if key == "show":  # the slash commands' words (`server set`, `server show`): no setting's name
        key, value = None, []
    elif key == "set":
        key, value = (value[0] if value else None), value[1:]
    if key and key.strip().lower() == "channels" and not clears(" ".join(value)):
        problem = check_channels(args.workspace, parse_setting("channels", " ".join(value)), plugins)
        if problem is not None:
            print(f"seedbot: {problem}", file=sys.stderr)
            return 2
    async with _community(settings, changes=bool(key and value)) as community:
        if key and not value:  # a setting's name alone shows it, as in chat ('none' clears it)
            print(await community.settings_show(args.workspace, key=key))
            return 0
        if key:
            print(await community.settings_set(cli_actor(), args.workspace, key, " ".join(value)))
        print(await community.settings_show(args.workspace))
    return 0


async def stats(args: argparse.Namespace, settings: Settings, plugins: Mapping[str, PlatformPlugin]) -> int:
    if bad_key(args.workspace, "workspace", plugins):
        return 2
    async with _community(settings, changes=False) as community:
        print(await community.stats(args.workspace))
    return 0


async def audit(args: argparse.Namespace, settings: Settings, plugins: Mapping[str, PlatformPlugin]) -> int:
    if bad_key(args.target, "target", plugins):
        return 2
    async with _community(settings, changes=False) as community:
        print(await community.audit(args.target, args.limit))
    return 0


async def style(args: argparse.Namespace, settings: Settings, plugins: Mapping[str, PlatformPlugin]) -> int:
    from bot.conversation.styles import Styles

    if bad_key(args.workspace, "workspace", plugins):
        return 2
    if args.action != "list" and not args.name:
        print(f"seedbot: style {args.action} needs a NAME", file=sys.stderr)
        return 2
    if args.action == "add" and not args.words:  # (the chat's refusal names the chat's syntax)
        print(
            f"seedbot: a style needs words to add to prompts: seedbot style {args.workspace} add "
            f"{args.name} WORDS... [--aspect W:H] [--resolution 2K] [--model 4.5]",
            file=sys.stderr,
        )
        return 2
    async with _community(settings, changes=args.action != "list") as community:
        styles, actor = Styles(community.ledger), cli_actor()
        if args.action in ("add", "change"):
            print(
                await styles.put(
                    actor,
                    args.workspace,
                    args.name,
                    " ".join(args.words),
                    change=args.action == "change",
                    aspect=args.aspect,
                    resolution=args.resolution,
                    model=args.model,
                )
            )
        elif args.action == "remove":
            print(await styles.remove(actor, args.workspace, args.name))
        elif args.action == "hide":
            print(await styles.hide(actor, args.workspace, args.name))
        print(await styles.listing_of(args.workspace))
    return 0


async def cast(args: argparse.Namespace, settings: Settings, plugins: Mapping[str, PlatformPlugin]) -> int:
    from bot.app.cli.generate import read_reference
    from bot.conversation.cast import Cast
    from bot.conversation.policy import Policy

    if bad_key(args.owner, "workspace" if args.server else "user", plugins):
        return 2
    if args.action != "list" and not args.name:
        print(f"seedbot: cast {args.action} needs a NAME", file=sys.stderr)
        return 2
    if args.action == "save" and not args.image:
        print("seedbot: cast save needs --image PATH", file=sys.stderr)
        return 2
    async with _community(settings, changes=args.action != "list") as community:
        book = Cast(community.ledger, Policy(settings), settings.cast_limit)
        owner = Cast.server_owner(args.owner) if args.server else args.owner
        if args.action == "save":
            print(await book.keep(owner, args.name, read_reference(args.image), server=args.server))
            await community.ledger.record_audit(cli_actor(), "cast.save", args.owner, args.name)
        elif args.action == "remove":
            print(await book.forget(owner, args.name, server=args.server))
            await community.ledger.record_audit(cli_actor(), "cast.remove", args.owner, args.name)
        if await community.ledger.cast(owner):
            print(await book.listing_of(owner, server=args.server))
        else:  # the chat's sentence names chat words (`cast save NAME` on an attachment)
            where = " --server" if args.server else ""
            print(
                f"No cast images for {args.owner}. Save one: seedbot cast {args.owner} save NAME --image PATH{where}"
            )
    return 0
