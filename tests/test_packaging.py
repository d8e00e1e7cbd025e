"""The Docker image's shape (no Docker engine here) and the wheel it installs, built offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.app.helpers import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages() -> dict[str, list[tuple[str, str]]]:
    """Each stage's instructions, by its name (FROM ... AS name)."""
    out: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for word, args in instructions():
        if word == "FROM":
            current = out.setdefault(args.split()[-1], [])
        current.append((word, args))
    return out


def test_dockerfile_stages_use_one_slim_base_pinned_by_digest() -> None:
    froms = [args.split()[0] for word, args in instructions() if word == "FROM"]
    assert len(froms) == 2 and len(set(froms)) == 1, froms
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", froms[0]), froms[0]
    assert list(stages()) == ["build", "runtime"]


def test_dockerfile_installs_only_hash_checked_pinned_packages_and_drops_pip() -> None:
    build, runtime = stages()["build"], stages()["runtime"]
    installs = [args for word, args in build if word == "RUN" and "install" in args]
    for lock in ("requirements.lock", "requirements-build.lock"):
        assert any(f"--require-hashes --no-deps --only-binary=:all: -r {lock}" in a for a in installs), lock
    # seedbot's own wheel is the one thing installed without a hash, from this build, offline.
    assert any("install --no-deps --no-index /wheels/seedbot-*.whl" in a for a in installs)
    runs = " ".join(args for word, args in runtime if word == "RUN")
    assert "pip uninstall --yes pip" in runs and "pip install" not in runs
    assert ("COPY", "--from=build /opt/seedbot /opt/seedbot") in runtime
    assert any(word == "ENV" and "PATH=/opt/seedbot/bin:$PATH" in args for word, args in runtime)


def test_dockerfile_labels_say_what_the_image_is() -> None:
    labels = dict(re.findall(r'(org\.opencontainers\.image\.[a-z.]+)="([^"]*)"', DOCKERFILE))
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert labels["org.opencontainers.image.title"] == "seedbot"
    assert labels["org.opencontainers.image.licenses"] == project["license"] == "MIT"
    assert labels["org.opencontainers.image.version"] == "${VERSION}"
    assert f"ARG VERSION={project['version']}" in DOCKERFILE
    assert labels["org.opencontainers.image.description"] == project["description"]


def _pins(path: Path) -> dict[str, tuple[str, int]]:
    """{normalized name: (version, number of hashes)} of a hashed requirements file."""
    pins: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", line):
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            pins[name] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = pins[name]
            pins[name] = (version, hashes + 1)
    return pins


def test_the_locks_match_constraints_and_carry_hashes() -> None:
    constraints = {
        re.sub(r"[-_.]+", "-", name).lower(): version
        for name, _, version in (
            line.partition("==")
            for line in (REPO / "constraints.txt").read_text().splitlines()
            if "==" in line
        )
    }
    runtime, build = _pins(REPO / "requirements.lock"), _pins(REPO / "requirements-build.lock")
    for pins in (runtime, build):
        assert pins
        for name, (version, hashes) in pins.items():
            assert constraints.get(name) == version, (name, version)
            assert hashes >= 1, name
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.sub(r"[-_.]+", "-", re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0]).lower()
        assert name in runtime, name
    assert {"setuptools", "wheel"} <= set(build)
    assert "pytest" not in runtime and "mypy" not in runtime  # the image has no dev tools


def test_license_and_the_docs_that_are_linked_exist() -> None:
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the seedbot authors\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text
    linked = set(re.findall(r"docs/[\w./-]+\.md", (REPO / "slack-manifest.yml").read_text()))
    linked |= set(re.findall(r"\]\((docs/[\w./-]+\.md)", (REPO / "README.md").read_text()))
    assert "docs/slack.md" in linked
    for doc in linked:
        assert (REPO / doc).is_file(), doc


def test_dockerfile_runs_as_a_non_root_user_with_a_data_volume() -> None:
    users = [args for word, args in instructions() if word == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    assert ("VOLUME", '["/data"]') in instructions()
    assert "SEEDBOT_DATABASE=/data/seedbot.db" in DOCKERFILE


def test_dockerfile_entrypoint_is_exec_form_seedbot_run() -> None:
    entry = [args for word, args in instructions() if word == "ENTRYPOINT"]
    cmd = [args for word, args in instructions() if word == "CMD"]
    assert json.loads(entry[-1]) == ["seedbot"]
    assert json.loads(cmd[-1]) == ["run"]


def test_dockerfile_healthcheck_probes_healthz_on_the_http_port() -> None:
    (check,) = [args for word, args in instructions() if word == "HEALTHCHECK"]
    assert "--interval=" in check
    probe = json.loads(check.split("CMD", 1)[1].strip())
    assert probe[:2] == ["python", "-c"]
    assert "/healthz" in probe[2] and "SEEDBOT_HTTP_PORT" in probe[2]
    assert "SEEDBOT_HTTP_PORT=8080" in DOCKERFILE
    compile(probe[2], "<healthcheck>", "exec")  # the one-liner is valid Python


def test_dockerignore_keeps_secrets_and_databases_out() -> None:
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    for pattern in (".env", "*.db", ".venv", ".git", "tests"):
        assert pattern in ignored
    for needed in (
        "bot", "adapters", "pyproject.toml", "constraints.txt", "README.md", "LICENSE",
        "requirements.lock", "requirements-build.lock",
    ):  # fmt: skip
        assert needed not in ignored
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.M):
        for name in copied.split():
            assert (REPO / name).exists(), name


def test_compose_example_uses_the_env_file_and_a_volume() -> None:
    compose = (REPO / "docker-compose.yml").read_text()
    assert "env_file: .env" in compose
    assert re.search(r"- seedbot-data:/data", compose)
    assert re.search(r"^volumes:\n  seedbot-data:", compose, re.M)


@pytest.mark.timeout(300)
def test_the_wheel_builds_offline_with_migrations_and_entry_points(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("bot", "adapters"):
        shutil.copytree(REPO / package, src / package, ignore=ignore)
    proc = subprocess.run(  # noqa: S603
        [
            sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
            "--disable-pip-version-check", "-w", str(tmp_path / "dist"), str(src),
        ],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = (tmp_path / "dist").glob("seedbot-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        migrations = [n for n in names if n.startswith("bot/ledger/migrations/") and n.endswith(".sql")]
        assert migrations
        expected = {
            str(p.relative_to(REPO)).replace("\\", "/")
            for p in (REPO / "bot/ledger/migrations").rglob("*.sql")
        }
        assert set(migrations) == expected
        for module in ("bot/app/cli/main.py", "bot/app/health.py", "bot/metrics.py", "bot/py.typed"):
            assert module in names
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
        # The playground serves its pages and scripts from the installed package.
        web_files = {
            str(p.relative_to(REPO)).replace("\\", "/")
            for folder in ("templates", "static")
            for p in (REPO / "adapters/web_adapter" / folder).iterdir()
        }
        assert web_files and web_files <= set(names)
        # Every language's catalog: seedbot compiles the .po files when it first speaks one.
        catalogs = {
            str(p.relative_to(REPO)).replace("\\", "/") for p in (REPO / "bot/locales").rglob("*.po*")
        }
        assert len(catalogs) == 7 and catalogs <= set(names)
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        text = zf.read(entry_points).decode()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = zf.read(metadata).decode()
    assert "[console_scripts]\nseedbot = bot.app.cli:main" in text
    assert "[seedbot.platforms]" in text and "slack = adapters.slack_adapter:plugin" in text
    assert "web = adapters.web_adapter:plugin" in text
    assert "Requires-Dist: prometheus-client" in requires

    # Installed (as the image installs it) and run from there, not from the source tree.
    site = tmp_path / "site"
    install = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check",
         "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = "import bot, adapters.discord_adapter, adapters.slack_adapter, adapters.web_adapter; print(bot.__file__)"
    where = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(site)
    helped = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert helped.returncode == 0 and "generate" in helped.stdout, helped.stderr


def test_operating_settings_are_documented() -> None:
    example = (REPO / ".env.example").read_text()
    readme = (REPO / "README.md").read_text()
    for name in (
        "SEEDBOT_HTTP_PORT",
        "SEEDBOT_LOG_FORMAT",
        "SEEDBOT_SHUTDOWN_GRACE",
        "SEEDBOT_WEB_HOST",
        "SEEDBOT_WEB_PORT",
        "SEEDBOT_WEB_TOKEN",
        "SEEDBOT_DEMO_LATENCY",
    ):
        assert name in example and f"`{name}`" in readme, name
    guide = readme.split("## Operating seedbot", 1)[1]
    for topic in ("[Service]", "docker compose", "seedbot backup", "/healthz", "/metrics", "Troubleshooting"):
        assert topic in guide, topic


def test_the_slack_guide_explains_every_scope_and_event_of_the_manifest() -> None:
    from tests.slack import manifest

    settings = manifest.load(manifest.ASSISTANT)  # the base manifest plus the side panel's
    guide = (REPO / "docs" / "slack.md").read_text()
    names = [
        *settings["settings"]["event_subscriptions"]["bot_events"],
        *settings["oauth_config"]["scopes"]["bot"],
    ]
    assert len(names) >= 12
    for name in names:
        assert f"`{name}`" in guide, name
    for topic in ("From a manifest", "Socket Mode", "connections:write", "SLACK_SIGNING_SECRET", "/imagine"):
        assert topic in guide, topic


# Modules with no file of their own: `python -m bot` (the CLI's tests run it as `seedbot`).
UNMIRRORED = {"bot/__main__.py"}


def test_every_bot_module_has_its_test_file_in_its_rooms_folder() -> None:
    """Tests mirror the tree (README): bot/<room>/<name>.py is tested in
    tests/<room>/test_<name>.py, a private module's underscore dropped (_common -> test_common)."""
    missing = []
    for module in sorted((REPO / "bot").rglob("*.py")):
        relative = module.relative_to(REPO)
        if module.name == "__init__.py" or "migrations" in relative.parts or str(relative) in UNMIRRORED:
            continue
        room = relative.parent.relative_to("bot")
        expected = REPO / "tests" / room / f"test_{module.stem.lstrip('_')}.py"
        if not expected.exists():
            missing.append(f"{relative} -> {expected.relative_to(REPO)}")
    assert missing == []
