"""`seedbot`'s parser and entry point: settings (the core's and each platform plug-in's), logging,
one command, and one line (never a traceback) for what the operator can fix.

argparse (the standard library) rather than typer/cyclopts: the `run --<platform>` flags come
from the installed plug-ins at start-up, which argparse takes as plain calls, and the usage
lines and error exit code (2) that scripts and tests rely on stay as they were.

Exit codes: 0 done; 1 the command failed (a refused request, a platform that could not start,
a doctor problem); 2 a usage or configuration error (the message says what to change);
130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.app.keys import Kind, key_shapes
from bot.app.platform import PlatformPlugin, PlatformSettings, load_plugins
from bot.config import KNOWN_PROVIDERS, Settings, get_settings
from bot.errors import InvalidRequest, ProviderError, SeedbotError, SettingsRefused
from bot.logs import configure_logging
from bot.numbers import whole_number
from bot.request.styles import BUILTIN_STYLES
from bot.request.validation import MAX_OUTPUTS, MAX_REFERENCES, MODELS, get_model
from bot.request.workspace import SETTING_KEYS

__all__ = ["build_parser", "main"]

# Commands that print a result and exit: quiet logs (WARNING) unless -v; `run` logs at
# SEEDBOT_LOG_LEVEL.
ONE_SHOT = ("generate", "quota", "settings", "style", "cast", "stats", "audit", "doctor", "backup")


def seedbot_version() -> str:
    try:
        return version("seedbot")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


class _Help(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default, unless it has none worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "(default" in text
            or not action.option_strings
            or default is None
            or default is False
            or default == []
            or default is argparse.SUPPRESS
        ):
            return text
        return f"{text} (default: %(default)s)"


def _verbosity() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="show the log on stderr: -v for INFO, -vv for DEBUG (default: warnings only)",
    )
    return common


def _between(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high` (argparse's usage error otherwise)."""

    def parse(text: str) -> int:
        number = whole_number(text)
        if number is None or not low <= number <= high:
            raise argparse.ArgumentTypeError(f"use a whole number from {low} to {high}, not {text!r}")
        return number

    return parse


def _model(name: str) -> str:
    """An argparse type: a model as chat takes it ("4.5", "Seedream 4.5", "lite"), its key."""
    try:
        return get_model(name).key
    except InvalidRequest as exc:
        raise argparse.ArgumentTypeError(exc.user_text) from None


_MODEL_CHOICES = "{" + ",".join(sorted(MODELS)) + "}"


def build_parser(plugins: Mapping[str, PlatformPlugin]) -> argparse.ArgumentParser:
    *rest, last = [p.title for p in plugins.values()] or ["chat platforms"]
    titles = f"{', '.join(rest)} and {last}" if rest else last
    parser = argparse.ArgumentParser(
        prog="seedbot",
        allow_abbrev=False,
        description=f"Seedream images for {titles}: run the bot, or make images from the shell.",
        epilog=(
            "examples:\n"
            "  seedbot doctor                    check the settings and every credential\n"
            "  seedbot run                       serve every configured platform\n"
            '  seedbot generate "a red fox" --out out/\n'
            "  seedbot COMMAND --help            the options of one command"
        ),
        formatter_class=_Help,
    )
    parser.add_argument("--version", action="version", version=f"seedbot {seedbot_version()}")
    parser.add_argument(
        "--env-file", metavar="PATH", help="settings file to read (default: .env, when there is one)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    quiet = [_verbosity()]

    def command(name: str, help: str, **kw: Any) -> argparse.ArgumentParser:
        # No abbreviations: `generate a fox --n 3` must not read `--n` as `--no-watermark`.
        return sub.add_parser(
            name, help=help, description=help, formatter_class=_Help, allow_abbrev=False, **kw
        )

    runner = command("run", "run the bot on the configured platforms until SIGINT/SIGTERM")
    for name, plugin in plugins.items():
        runner.add_argument(
            f"--{name}",
            action="store_true",
            help=f"run {plugin.title} (several flags: those platforms; none: every configured one)",
        )

    default_model = Settings.model_fields["model"].default
    gen = command("generate", "generate images from the shell, as user cli:local", parents=quiet)
    gen.add_argument("prompt", help="what to make, in quotes (- reads it from stdin)")
    gen.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="PATH_OR_URL",
        help=f"a reference image to edit or combine: a file or an http(s) URL; repeat for up to {MAX_REFERENCES}",
    )
    gen.add_argument(
        "--model",
        default=None,
        type=_model,
        metavar=_MODEL_CHOICES,
        help=f"Seedream model (default: SEEDBOT_MODEL, else {default_model})",
    )
    gen.add_argument(
        "--provider",
        default=None,
        help=f"use only this provider: {', '.join(KNOWN_PROVIDERS[:-1])} or {KNOWN_PROVIDERS[-1]} "
        "(default: every configured one, in SEEDBOT_PROVIDERS order)",
    )
    gen.add_argument("--resolution", default=None, help="2K, 3K, 4K or WxH, e.g. 2560x1440 (default: 2K)")
    gen.add_argument(
        "--aspect", default=None, help="W:H, e.g. 16:9 (default: 1:1, or the first reference image's)"
    )
    gen.add_argument("--count", type=int, default=1, help=f"images to make, 1-{MAX_OUTPUTS}")
    gen.add_argument("--format", default="jpeg", choices=["png", "jpeg", "jpg"], help="image format")
    gen.add_argument(
        "--watermark",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add the provider's watermark (default: no watermark)",
    )
    gen.add_argument(
        "--style",
        default=None,
        metavar="NAME",
        # The shell belongs to no server, so a server's own styles are not offered to it.
        help=f"a built-in style preset: {', '.join(BUILTIN_STYLES)}",
    )
    gen.add_argument(
        "--ref",
        action="append",
        default=[],
        metavar="NAME",
        help="an image of your saved cast (seedbot cast cli:local); repeat for several",
    )
    gen.add_argument("--out", default=".", metavar="DIR", help="directory to write the images to")
    gen.add_argument(
        "-q", "--quiet", action="store_true", help="no progress display (the paths written still print)"
    )

    users = key_shapes("user", plugins)
    workspaces = key_shapes("workspace", plugins)
    quota = command("quota", "show or change a user's quota (changes are audited)", parents=quiet)
    quota.add_argument(
        "action", choices=["show", "set", "grant", "reset", "block", "unblock"], help="what to do"
    )
    quota.add_argument("user", help=f"whose quota: {users}")
    quota.add_argument("--daily", type=int, default=None, help="with set: images per day")
    quota.add_argument("--monthly", type=int, default=None, help="with set: images per month")
    quota.add_argument("--images", type=int, default=None, help="with grant: extra images for today")

    ws = command("settings", "show or change a server's or workspace's settings (audited)", parents=quiet)
    ws.add_argument("workspace", help=workspaces)
    ws.add_argument(
        "key",
        nargs="?",
        help=f"{', '.join(SETTING_KEYS)} (none: show them all; a KEY alone: show it; `set KEY VALUE` works too)",
    )
    ws.add_argument("value", nargs="*", help="the new value ('none' clears it)")

    sty = command(
        "style", "list, add, change, remove or hide a server's style presets (audited)", parents=quiet
    )
    sty.add_argument("workspace", help=workspaces)
    sty.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=["list", "add", "change", "remove", "hide"],
        help="what to do",
    )
    sty.add_argument("name", nargs="?", default=None, help="the style's name (anime, product-shot, ...)")
    sty.add_argument(
        "words", nargs="*", help="with add/change: the words added to every prompt in this style"
    )
    sty.add_argument("--aspect", default=None, help="with add/change: the style's default W:H")
    sty.add_argument(
        "--resolution", default=None, help="with add/change: the style's default 2K, 3K, 4K or WxH"
    )
    sty.add_argument(
        "--model",
        default=None,
        type=_model,
        metavar=_MODEL_CHOICES,
        help="with add/change: the style's model",
    )

    cast = command(
        "cast", "list, save or remove a person's (or with --server a workspace's) cast", parents=quiet
    )
    cast.add_argument("owner", help=f"whose cast: {users} (with --server: {workspaces})")
    cast.add_argument(
        "action", nargs="?", default="list", choices=["list", "save", "remove"], help="what to do"
    )
    cast.add_argument("name", nargs="?", default=None, help="the entry's name (used as --ref NAME)")
    cast.add_argument("--image", default=None, metavar="PATH", help="with save: the image file to keep")
    cast.add_argument("--server", action="store_true", help="OWNER is a server or workspace: its shared cast")

    st = command("stats", "images and jobs today and this month, by user and provider", parents=quiet)
    st.add_argument("workspace", nargs="?", default=None, help=f"only this one: {workspaces} (default: all)")

    audit = command("audit", "the newest admin changes: who changed what, when", parents=quiet)
    audit.add_argument(
        "target", nargs="?", default=None, help="only changes to this user or workspace (default: all)"
    )
    audit.add_argument("--limit", type=_between(1, 1000), default=20, help="how many, 1 to 1000")

    command(
        "doctor",
        "check the configuration and each credential (free calls), say what is missing",
        parents=quiet,
    )

    bk = command("backup", "copy the database consistently, even while the bot runs", parents=quiet)
    bk.add_argument("path", help="file to write (or a directory: a dated file is made in it)")
    bk.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    return parser


def _invalid(exc: ValidationError) -> int:
    print("seedbot: the configuration is not valid:", file=sys.stderr)
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "settings"
        print(f"  {where}: {error['msg']}", file=sys.stderr)
    return 2


def _log_level(args: argparse.Namespace, settings: Settings) -> str:
    if args.command not in ONE_SHOT:
        return settings.log_level
    verbose = getattr(args, "verbose", 0)
    return "WARNING" if verbose == 0 else "INFO" if verbose == 1 else "DEBUG"


async def _dispatch(
    args: argparse.Namespace,
    settings: Settings,
    plugins: Mapping[str, PlatformPlugin],
    platform_settings: Mapping[str, PlatformSettings],
) -> int:
    # Each command imports what it needs when it runs: an admin command never loads the engine,
    # the providers or the HTTP stack, and answers in half the time.
    if args.command == "generate":
        from bot.app.cli.generate import generate

        return await generate(args, settings)
    if args.command in ("quota", "settings", "stats", "style", "cast", "audit"):
        from bot import i18n
        from bot.app.cli import admin

        commands = {
            "quota": admin.quota,
            "settings": admin.settings_command,
            "stats": admin.stats,
            "style": admin.style,
            "cast": admin.cast,
            "audit": admin.audit,
        }
        named = (getattr(args, arg, None) for arg in ("workspace", "user", "owner"))
        key = next((str(value) for value in named if value), "")
        owner = plugins.get(key.split(":", 1)[0])
        # In the words of the key's platform: "this server's cast" for a Discord server.
        with i18n.use_place(owner.place if owner else i18n.PLACES[0]):
            return await commands[args.command](args, settings, plugins)
    if args.command == "doctor":
        from bot.app.doctor import run_doctor

        return await run_doctor(settings, plugins, platform_settings)
    if args.command == "backup":
        from bot.app.cli.backup import backup

        return await backup(args, settings)
    from bot.app.cli.run import run

    return await run(args, settings, plugins, platform_settings)


def _typed_before_the_command(
    parser: argparse.ArgumentParser, command: str | None, extra: list[str], words: list[str]
) -> bool:
    """`seedbot -v generate ...`: options the command has, typed before it, where argparse reads
    them as the top level's."""
    if command is None or command not in words:
        return False
    before = words[: words.index(command)]
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    known = commands[command]._option_string_actions
    return all(x in before and x.split("=", 1)[0] in known for x in extra)


# Commands whose first word names whose (a person's cast, a workspace's styles): their actions.
_WHOSE_FIRST: dict[str, tuple[Kind, tuple[str, ...]]] = {
    "cast": ("user", ("list", "save", "remove")),
    "style": ("workspace", ("list", "add", "change", "remove", "hide")),
}


def _whose_left_out(words: list[str], plugins: Mapping[str, PlatformPlugin]) -> str | None:
    """`seedbot cast save mia`: the action typed where whose it is goes (argparse said only
    "invalid choice: 'mia'"); the line that says so, else None."""
    command = next((w for w in words if not w.startswith("-")), None)
    if command not in _WHOSE_FIRST:
        return None
    kind, actions = _WHOSE_FIRST[command]
    rest = words[words.index(command) + 1 :]
    first = next((w for w in rest if not w.startswith("-")), None)
    if first not in actions:
        return None
    example = "cli:local" if kind == "user" else "discord:<server id>"
    return (
        f"say whose first: seedbot {command} {example} {' '.join(rest)} "
        f"(a {kind}: {key_shapes(kind, plugins)})"
    )


def _not_a_settings_file(name: str) -> str | None:
    """Why `--env-file NAME` can't be read, else None. Named, it is meant: pydantic-settings
    quietly reads nothing from a directory (or from "", the current one), as from a missing file.
    A device or a pipe is read as it is (os.devnull: no settings)."""
    path = Path(name)
    if name and path.is_dir():
        return f"{name} is a directory, not a settings file"
    if not name or not path.exists():
        return f"there is no file {name or repr(name)}"
    return None


def main(argv: list[str] | None = None) -> int:
    plugins = load_plugins()
    parser = build_parser(plugins)
    words = sys.argv[1:] if argv is None else argv
    if (left_out := _whose_left_out(words, plugins)) is not None:
        print(f"seedbot: {left_out}", file=sys.stderr)
        return 2
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "style" and not any(word.startswith("-") for word in extra):
        # a style's words after its options ("add neon --aspect 16:9 neon lights"): still its words
        args.words, extra = [*args.words, *extra], []
    if extra:
        unknown = " ".join(extra)
        if _typed_before_the_command(parser, args.command, extra, sys.argv[1:] if argv is None else argv):
            unknown += f" (a command's options go after it: seedbot {args.command} {unknown} ...)"
        elif args.command == "run" and set(extra) <= {"-v", "-vv", "-vvv", "--verbose"}:
            unknown += (
                " (run logs at SEEDBOT_LOG_LEVEL, INFO unless set: SEEDBOT_LOG_LEVEL=DEBUG seedbot run)"
            )
        elif args.command == "generate":  # most likely a prompt without quotes, or a chat flag
            unknown += (
                f' (the prompt is one argument, chat flags too: seedbot generate "{args.prompt} {unknown}";'
                " seedbot generate --help lists the options)"
            )
        parser.error(f"unrecognized arguments: {unknown}")
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if args.env_file is None:
        args.env_file = ".env"  # read when there is one
    elif (refused := _not_a_settings_file(args.env_file)) is not None:
        print(f"seedbot: {refused} (--env-file)", file=sys.stderr)
        return 2
    # python-dotenv warns of a line it can't parse once per settings class, in its own words;
    # `run` and `doctor` say it once, naming the line (bot/app/config_check.py).
    logging.getLogger("dotenv.main").setLevel(logging.ERROR)
    try:
        settings = get_settings(env_file=args.env_file)
        platform_settings = {name: p.load_settings(args.env_file) for name, p in plugins.items()}
    except ValidationError as exc:
        return _invalid(exc)
    except OSError as exc:
        print(f"seedbot: could not read {args.env_file} (--env-file): {exc.strerror or exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        where = f"byte 0x{exc.object[exc.start]:02x} at position {exc.start}"
        print(f"seedbot: {args.env_file} is not UTF-8 text ({where}): save it as UTF-8", file=sys.stderr)
        return 2
    except SeedbotError as exc:  # a plug-in's own settings refused (SEEDBOT_WEB_PORT=99999)
        print(f"seedbot: {exc.user_text}", file=sys.stderr)
        return 2
    secrets = settings.secrets() + [s for ps in platform_settings.values() for s in ps.secrets()]
    configure_logging(_log_level(args, settings), secrets, settings.log_format)
    try:
        return asyncio.run(_dispatch(args, settings, plugins, platform_settings))
    except ProviderError as exc:
        # Operators get the kind and status; the key is never part of a ProviderError.
        print(f"seedbot: {exc.user_text} [{exc.provider}: {exc.kind}, status {exc.status}]", file=sys.stderr)
        return 1
    except SettingsRefused as exc:
        print(f"seedbot: {exc.user_text}", file=sys.stderr)
        return 2
    except SeedbotError as exc:
        print(f"seedbot: {exc.user_text}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`seedbot stats | head -1`): as any shell tool, stop quietly. The
        # exit's own flush would raise again, so stdout goes to /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool SIGPIPE stopped
