"""slack-manifest.yml and slack-manifest-assistant.yml, read as data (PyYAML is not a dependency).

The manifests use a plain subset of YAML and this reads exactly that: nested maps, block lists
of scalars or of maps (`- key: value` items), quoted or plain scalars (true/false and integers
become bool and int), and `#` comments. Anything else fails loudly rather than being misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.botproc import REPO

BASE = REPO / "slack-manifest.yml"
ASSISTANT = REPO / "slack-manifest-assistant.yml"

_KEY = re.compile(r"^([A-Za-z0-9_.#/-]+):(?:\s+|$)(.*)$")


@dataclass
class _Line:
    indent: int
    text: str
    number: int


def _strip_comment(text: str) -> str:
    quote = None
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip()
    return text.rstrip()


def _scalar(text: str, line: _Line) -> Any:
    if text[:1] in "\"'":
        if len(text) < 2 or text[-1] != text[0]:
            raise ValueError(f"line {line.number}: unterminated quote in {text!r}")
        return text[1:-1]
    if text[:1] in "[{&*!|>" or text.startswith("- "):
        raise ValueError(f"line {line.number}: this reader does not know {text!r}")
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _block(lines: list[_Line], i: int, indent: int) -> tuple[Any, int]:
    if lines[i].text.startswith("- "):
        return _list(lines, i, indent)
    return _map(lines, i, indent)


def _map(lines: list[_Line], i: int, indent: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    while i < len(lines) and lines[i].indent == indent and not lines[i].text.startswith("- "):
        line = lines[i]
        match = _KEY.match(line.text)
        if match is None:
            raise ValueError(f"line {line.number}: expected 'key: value', got {line.text!r}")
        key, rest = match.group(1), match.group(2).strip()
        if key in out:
            raise ValueError(f"line {line.number}: {key!r} appears twice")
        i += 1
        if rest:
            out[key] = _scalar(rest, line)
        elif i < len(lines) and lines[i].indent > indent:
            out[key], i = _block(lines, i, lines[i].indent)
        elif i < len(lines) and lines[i].indent == indent and lines[i].text.startswith("- "):
            out[key], i = _list(lines, i, indent)
        else:
            out[key] = None
    if i < len(lines) and lines[i].indent > indent:
        raise ValueError(f"line {lines[i].number}: unexpected indentation")
    return out, i


def _list(lines: list[_Line], i: int, indent: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    while i < len(lines) and lines[i].indent == indent and lines[i].text.startswith("- "):
        line = lines[i]
        item = line.text[2:].strip()
        if _KEY.match(item):  # a map: its first key on the dash's line, the rest below it
            lines[i] = _Line(indent + 2, item, line.number)
            value, i = _map(lines, i, indent + 2)
            out.append(value)
        else:
            out.append(_scalar(item, line))
            i += 1
    return out, i


def parse(text: str) -> dict[str, Any]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise ValueError(f"line {number}: tabs in indentation")
        content = _strip_comment(raw.strip())
        if content:
            lines.append(_Line(len(raw) - len(raw.lstrip()), content, number))
    if not lines:
        return {}
    value, i = _map(lines, 0, lines[0].indent)
    if i != len(lines):
        raise ValueError(f"line {lines[i].number}: unexpected text {lines[i].text!r}")
    return value


def load(path: Path = BASE) -> dict[str, Any]:
    return parse(path.read_text())


def step_definition(callback_id: str, path: Path = BASE) -> dict[str, Any]:
    """A Workflow Builder step as the manifest declares it (`functions.<callback_id>`)."""
    definition: dict[str, Any] = load(path)["functions"][callback_id]
    return definition
