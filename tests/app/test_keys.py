"""User and workspace keys (bot/app/keys.py): the shapes the platform plug-ins give, and
the check that refuses a malformed one."""

from __future__ import annotations

import pytest

from bot.app.keys import check_key, key_shapes
from bot.app.platform import KeyForm, load_plugins

KEYS = [
    ("discord:80351110224678912", "user", True),
    ("discord:8035111022467891x", "user", False),
    ("slack:T0ABC:U0DEF", "user", True),
    ("slack:T0ABC", "user", False),
    ("slack:t0abc:u0def", "user", False),
    ("cli:local", "user", True),
    ("web:local", "user", True),
    ("cli:bob", "user", False),
    ("bob", "user", False),
    ("discord:123", "workspace", True),
    ("slack:T0ABC", "workspace", True),
    ("cli:local", "workspace", False),
    ("slack:T0ABC:U0DEF", "workspace", False),
    ("slack:T0ABC:U0DEF", "target", True),
    ("discord:123", "target", True),
    ("irc:123", "target", False),
]


@pytest.mark.parametrize(("key", "kind", "ok"), KEYS)
def test_key_shapes(key: str, kind: str, ok: bool) -> None:
    problem = check_key(key, kind, load_plugins())  # type: ignore[arg-type]
    assert (problem is None) == ok, problem


def test_key_shapes_come_from_the_plugins() -> None:
    plugins = load_plugins()
    assert key_shapes("workspace", plugins) == "discord:<numeric server id>, slack:<TEAM ID> or web:local"
    assert KeyForm(r"\d+", "x:<n>").matches("12") and not KeyForm(r"\d+", "x:<n>").matches("12a")


def test_each_shape_is_named_once() -> None:
    plugins = load_plugins()
    # web:local is the playground's user and its workspace: one shape, said once.
    assert key_shapes("user", plugins) == (
        "discord:<numeric user id>, slack:<TEAM ID>:<USER ID>, web:local or cli:local"
    )
    assert key_shapes("target", plugins).count("web:local") == 1
