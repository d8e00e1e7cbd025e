"""bot/errors.py: the exception tree its docstring draws is the package's, class for class and
parent for parent (JobCancelled was raised and caught but missing from it), and errors keep
what a user or a log may read on one line."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import bot
from bot import errors
from bot.errors import (
    InvalidImage,
    InvalidRequest,
    JobCancelled,
    ProviderError,
    ProviderErrorKind,
    SeedbotError,
    one_line,
)

_BRANCH = re.compile(r"^(?P<indent>[ │]*)(?:[├└]── )?(?P<name>[A-Z]\w+)\s", re.MULTILINE)


def _drawn() -> dict[str, str | None]:
    """Each class the docstring's tree names -> the class it hangs under (None: the root)."""
    tree = errors.__doc__.split("\n\n")[1]  # type: ignore[union-attr]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in _BRANCH.finditer(tree):
        depth = line.start("name") - line.start()  # how far in the name stands
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[line["name"]] = stack[-1][1] if stack else None
        stack.append((depth, line["name"]))
    return parents


def _defined() -> dict[str, str | None]:
    """Each exception class defined anywhere in bot/ -> its base class within bot/."""
    found: dict[str, str | None] = {}
    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        if module.name.endswith("__main__") or ".migrations" in module.name:
            continue  # __main__ runs the CLI when imported
        for cls in vars(importlib.import_module(module.name)).values():
            if inspect.isclass(cls) and issubclass(cls, BaseException) and cls.__module__.startswith("bot."):
                base = cls.__bases__[0]
                found[cls.__name__] = base.__name__ if base.__module__.startswith("bot.") else None
    return found


def test_the_docstring_tree_is_every_exception_class_of_the_package_under_its_parent() -> None:
    drawn, defined = _drawn(), _defined()
    assert len(defined) >= 18
    assert drawn == defined


def test_every_exception_class_is_exported() -> None:
    assert set(_defined()) <= set(errors.__all__)


def test_a_refusal_is_never_charged_and_carries_its_user_text() -> None:
    refusal = InvalidImage("'cat.txt' is not an image")
    assert isinstance(refusal, InvalidRequest)
    assert refusal.user_text == "'cat.txt' is not an image" and refusal.charged is False
    assert str(SeedbotError("what the user reads", detail="what the log reads")) == "what the log reads"


def test_a_cancelled_job_says_who_cancelled_it() -> None:
    assert JobCancelled(by_owner=True).user_text != JobCancelled(by_owner=False).user_text


@pytest.mark.parametrize("kind", list(ProviderErrorKind))
def test_every_provider_failure_kind_has_a_user_text_without_the_hosts_words(kind: ProviderErrorKind) -> None:
    error = ProviderError("novita", kind, status=500, detail="upstream\nFAKE LOG LINE")
    assert error.user_text and "upstream" not in error.user_text  # the host's words stay in the log
    assert str(error) == f"novita: {kind} (status 500) upstream FAKE LOG LINE"


def test_a_provider_failure_is_retried_and_failed_over_by_its_kind() -> None:
    """Retry what may pass on its own; fail over what another host may not share (not a
    refused prompt or a bad request: every host would refuse it too)."""
    retried = {k for k in ProviderErrorKind if ProviderError("x", k).retryable}
    failed_over = {k for k in ProviderErrorKind if ProviderError("x", k).failover}
    assert retried == {
        ProviderErrorKind.RATE_LIMITED,
        ProviderErrorKind.UNAVAILABLE,
        ProviderErrorKind.TIMEOUT,
    }
    assert failed_over == retried | {ProviderErrorKind.AUTH, ProviderErrorKind.NO_CREDITS}
    assert not ProviderError("x", ProviderErrorKind.TIMEOUT, retryable=False).retryable


def test_one_line_turns_control_characters_into_spaces() -> None:
    assert one_line("bad\x00key\nforged: line\tx") == "bad key forged: line x"
    assert one_line("ünïcode stays · 猫") == "ünïcode stays · 猫"
