"""bot/ is the platform-free engine: it imports nothing from adapters/, discord or Slack's SDKs."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BOT = REPO / "bot"
FORBIDDEN = ("adapters", "discord", "slack_bolt", "slack_sdk")


def _forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


def _imports(tree: ast.AST) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(node.args[0].value)
    return found


def test_the_scanner_sees_every_kind_of_import() -> None:
    source = "import discord\nfrom slack_bolt.app import App\nimport importlib\nimportlib.import_module('adapters.x')\n"
    assert [m for m in _imports(ast.parse(source)) if _forbidden(m)] == [
        "discord",
        "slack_bolt.app",
        "adapters.x",
    ]
    assert not _forbidden("discordant") and not _forbidden("bot.adapters_util")


def test_no_bot_source_imports_a_platform() -> None:
    files = sorted(BOT.rglob("*.py"))
    assert len(files) > 15  # the scan really covers the package
    offenders = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders.extend(
            f"{path.relative_to(REPO)}: {module}" for module in _imports(tree) if _forbidden(module)
        )
    assert offenders == []


PROBE = """
import importlib, json, pkgutil, sys
import bot
names = sorted(m.name for m in pkgutil.walk_packages(bot.__path__, "bot.") if m.name != "bot.__main__")
for name in names:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"adapters", "discord", "slack_bolt", "slack_sdk"})
print(json.dumps({"imported": names, "loaded": loaded}))
"""


def test_importing_every_bot_module_loads_no_platform() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEEDBOT_", "DISCORD_", "SLACK_"))}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {
        "bot.engine.pipeline",
        "bot.app.cli",
        "bot.ledger.sqlite",
        "bot.providers.router",
        "bot.app.runtime",
    } <= set(report["imported"])
    assert report["loaded"] == []


# What a surface may use of the core: the conversation and the values it speaks in. No ledger,
# no engine, no providers: a rule that lives in an adapter is a rule that drifts.
ADAPTER_MAY_IMPORT = {
    "bot",  # bot.messages: every sentence a user reads; bot.i18n: in which language
    "bot.i18n",  # NC_, for the Discord command names in the catalog
    "bot.errors",
    "bot.config",
    "bot.logs",  # one line for a chat library's network notices
    "bot.numbers",  # whole numbers as people type them (a count or pick from a form)
    "bot.app.checkup",  # the report a plug-in's doctor checks write to
    "bot.app.platform",
    "bot.app.runtime",
    "bot.conversation.attachments",  # a surface declares and fetches its files; the checks are the core's
    "bot.conversation.batches",  # posting a packed batch, and what partly posted means
    "bot.conversation.community",  # SETTING_KEYS, for the admin command's choices
    "bot.conversation.conversation",
    "bot.conversation.surface",
    "bot.conversation.tasks",
    "bot.conversation.turns",
    "bot.media.fetch",
    "bot.media.images",
    "bot.media.packing",  # fitting a batch to a surface's limits and grouping it into messages
    "bot.request.flags",
    "bot.request.models",
    "bot.request.validation",
}
ADAPTERS = REPO / "adapters"


def test_adapters_use_only_the_core_entry_points() -> None:
    files = sorted(ADAPTERS.rglob("*.py"))
    assert len(files) > 10
    used: set[str] = set()
    offenders = []
    for path in files:
        source = path.read_text(encoding="utf-8")
        for module in _imports(ast.parse(source, filename=str(path))):
            if module == "bot" or module.startswith("bot."):
                used.add(module)
                if module not in ADAPTER_MAY_IMPORT:
                    offenders.append(f"{path.relative_to(REPO)}: {module}")
        for reach in ("runtime.ledger", "runtime.engine", ".community.", "engine."):
            if reach in source:
                offenders.append(f"{path.relative_to(REPO)}: reaches {reach}")
    assert offenders == []
    assert {"bot.conversation.conversation", "bot.conversation.turns"} <= used  # the scan sees them
