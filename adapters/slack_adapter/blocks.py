"""Block Kit builders: the buttons under a result, the Edit modal, the App Home tab and its
prompt form.

Buttons carry only the job id; everything else is read back from the ledger when they are
pressed, so they keep working after a restart. Texts are cut to Block Kit's limits (a section's
text 3000 characters, a header's 150, a button's 75, an option's 75, a modal title 24, at most
100 blocks in a view): a long prompt or usage text never makes Slack refuse the whole view.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.slack_adapter.text import escape
from bot import messages
from bot.conversation.surface import RESULT_ACTIONS, EditForm, result_buttons
from bot.request.validation import ASPECTS, MAX_OUTPUTS, MODELS, PROMPT_MAX_CHARS

__all__ = [
    "ACTION_DELETE",
    "ACTION_EDIT",
    "ACTION_INFO",
    "ACTION_PREFIX",
    "ACTION_REROLL",
    "ACTION_VARIATIONS",
    "EDIT_ACTION",
    "EDIT_BLOCK",
    "EDIT_CALLBACK",
    "HOME_NEW",
    "PROMPT_ASPECT",
    "PROMPT_BLOCK",
    "PROMPT_CALLBACK",
    "PROMPT_CAST",
    "PROMPT_COUNT",
    "PROMPT_MODEL",
    "PROMPT_STYLE",
    "SELECT_ACTION",
    "HomeResult",
    "edit_modal",
    "home_view",
    "prompt_modal",
    "result_controls",
    "status_blocks",
]

ACTION_PREFIX = "seedbot."  # then the button's name on every surface (bot.conversation.turns.PRESSES)
ACTION_REROLL = "seedbot.reroll"
ACTION_VARIATIONS = "seedbot.variations"
ACTION_EDIT = "seedbot.edit"
ACTION_INFO = "seedbot.info"
ACTION_DELETE = "seedbot.delete"
ACTION_CANCEL = "seedbot.cancel"  # on a job's status message
# "Upscale #N": one button per image; action ids are unique within a block, so N is in the id.
ACTION_UPSCALE = "seedbot.upscale.{}"
UPSCALE_ID = re.compile(r"seedbot\.upscale\.(?P<pick>[1-9][0-9]?)")
UPSCALE_ACTIONS = tuple(ACTION_UPSCALE.format(n) for n in range(1, MAX_OUTPUTS + 1))  # listened for
EDIT_CALLBACK = "seedbot.edit_modal"
EDIT_BLOCK = "prompt"
EDIT_ACTION = "value"
HOME_NEW = "seedbot.home_new"  # the Home tab's "New image" button
PROMPT_CALLBACK = "seedbot.prompt_modal"
PROMPT_BLOCK = "prompt"  # its prompt field (action EDIT_ACTION, as in the Edit modal)
PROMPT_ASPECT = "aspect"
PROMPT_COUNT = "count"
PROMPT_MODEL = "model"
PROMPT_STYLE = "style"
PROMPT_CAST = "cast"  # a text field: saved cast names, comma-separated
SELECT_ACTION = "choice"
DEFAULT = "default"  # a select's "use the workspace default" option

SECTION_MAX = 3000
HEADER_MAX = 150
VIEW_MAX_BLOCKS = 100
HOME_RESULTS_MAX = 20  # past results a Home tab lists (each one block)


def _cut(text: str, most: int) -> str:
    """At most `most` characters, never empty (Block Kit refuses empty text)."""
    text = text if len(text) <= most else text[: most - 1] + "…"
    return text or " "


def section(text: str) -> dict[str, Any]:
    """A section of `text` as mrkdwn: escaped, then cut within Block Kit's limit (never inside
    an entity: "&am…" showed as it is)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": _within(escape(text), SECTION_MAX) or " "}}


def _plain(text: str, most: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, most), "emoji": True}


def _button(action_id: str, label: str, job_id: str, *, primary: bool = False) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": _plain(label, 75),
        "value": job_id,
    }
    if primary:
        button["style"] = "primary"
    return button


def result_controls(
    job_id: str, images: int = 0, actions: Sequence[str] = RESULT_ACTIONS
) -> list[dict[str, Any]]:
    """The result's `actions` in the core's order; "Upscale #N" for each of its `images`."""
    whole, each = result_buttons(actions, 1, images)
    row = [_button(ACTION_PREFIX + b.action, b.label, job_id, primary=b.action == "edit") for b in whole]
    upscales = [_button(ACTION_UPSCALE.format(b.pick), b.label, job_id) for b in each]
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(messages.RESULT_ACTIONS)}},
        *([{"type": "actions", "block_id": f"seedbot.controls.{job_id}", "elements": row}] if row else []),
        *(
            [{"type": "actions", "block_id": f"seedbot.upscales.{job_id}", "elements": upscales}]
            if upscales
            else []
        ),
    ]


def status_blocks(text: str, job_id: str) -> list[dict[str, Any]]:
    """A job's status message while it is queued or running: its progress and Cancel."""
    return [
        section(text),
        {
            "type": "actions",
            "block_id": f"seedbot.status.{job_id}",
            "elements": [_button(ACTION_CANCEL, messages.action_label("cancel"), job_id)],
        },
    ]


def edit_modal(form: EditForm) -> dict[str, Any]:
    """What the core's EditForm asks: the result's prompt (small, above), then the change."""
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK,
        "private_metadata": form.job_id or "",
        "title": {"type": "plain_text", "text": messages.EDIT_TITLE[:24]},
        "submit": {"type": "plain_text", "text": messages.EDIT_SUBMIT[:24]},
        "blocks": [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _within(escape(form.prompt), 3000) or " "}],
            },
            {
                "type": "input",
                "block_id": EDIT_BLOCK,
                "label": {"type": "plain_text", "text": messages.EDIT_PROMPT_LABEL},
                "hint": {"type": "plain_text", "text": messages.EDIT_PROMPT_HINT},
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_ACTION,
                    "multiline": True,
                    "max_length": form.max_chars,
                },
            },
        ],
    }


@dataclass(frozen=True, slots=True)
class HomeResult:
    """One past result on the Home tab: its line, a link to it, and its first image."""

    line: str
    link: str | None = None
    file_id: str | None = None  # a Slack file (png, jpg or gif): shown as a thumbnail
    alt: str = ""


def home_view(usage: str, results: list[HomeResult], help_text: str) -> dict[str, Any]:
    """The person's Home tab: a New image button, their usage, their latest results (with a
    link and a thumbnail each), and help."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(messages.HOME_TITLE, HEADER_MAX)},
        {
            "type": "actions",
            "block_id": "seedbot.home_actions",
            "elements": [_button(HOME_NEW, messages.HOME_NEW, "new", primary=True)],
        },
        section(usage),
        {"type": "divider"},
        {"type": "header", "text": _plain(messages.HOME_RECENT, HEADER_MAX)},
    ]
    if not results:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": messages.HOME_NO_RESULTS}]})
    for result in results[:HOME_RESULTS_MAX]:
        text = escape(result.line)
        if result.link:
            room = max(200, SECTION_MAX - len(result.link) - len(messages.HOME_OPEN) - 5)
            text = f"{_within(text, room)}\n<{result.link}|{messages.HOME_OPEN}>"
        entry: dict[str, Any] = {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _cut(text, SECTION_MAX)},
        }
        if result.file_id:
            # A Slack-hosted image needs no public URL: Block Kit takes the file by id.
            entry["accessory"] = {
                "type": "image",
                "slack_file": {"id": result.file_id},
                "alt_text": _cut(result.alt or result.line, 2000),
            }
        blocks.append(entry)
    blocks.append({"type": "divider"})
    blocks.append(section(help_text))
    return {"type": "home", "blocks": blocks[:VIEW_MAX_BLOCKS]}


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(label, 75), "value": value}


def _select(block_id: str, label: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": _plain(label, 2000),
        "element": {
            "type": "static_select",
            "action_id": SELECT_ACTION,
            "options": options,
            "initial_option": options[0],
        },
    }


def prompt_modal(styles: Sequence[str] = ()) -> dict[str, Any]:
    """The Home tab's form: a prompt and the options of /imagine (the workspace's `styles` and
    saved cast names too); the result comes by DM."""
    default = _option(messages.OPTION_DEFAULT, DEFAULT)
    extra: list[dict[str, Any]] = []
    if styles:  # a select holds at most 100 options
        none = _option(messages.OPTION_NO_STYLE, DEFAULT)
        extra.append(
            _select(PROMPT_STYLE, messages.LABEL_STYLE, [none, *(_option(n, n) for n in styles[:99])])
        )
    extra.append(
        {
            "type": "input",
            "block_id": PROMPT_CAST,
            "optional": True,
            "label": _plain(messages.LABEL_CAST, 2000),
            "hint": _plain(messages.OPTION_REF, 2000),
            "element": {"type": "plain_text_input", "action_id": EDIT_ACTION, "max_length": 500},
        }
    )
    return {
        "type": "modal",
        "callback_id": PROMPT_CALLBACK,
        "title": _plain(messages.PROMPT_TITLE, 24),
        "submit": _plain(messages.PROMPT_SUBMIT, 24),
        "blocks": [
            {
                "type": "input",
                "block_id": PROMPT_BLOCK,
                "label": _plain(messages.PROMPT_LABEL, 2000),
                "hint": _plain(messages.PROMPT_HINT, 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_ACTION,
                    "multiline": True,
                    "max_length": PROMPT_MAX_CHARS,
                },
            },
            _select(PROMPT_ASPECT, messages.LABEL_ASPECT, [default, *(_option(a, a) for a in ASPECTS)]),
            _select(
                PROMPT_COUNT,
                messages.LABEL_COUNT,
                [_option(str(n), str(n)) for n in range(1, MAX_OUTPUTS + 1)],
            ),
            _select(
                PROMPT_MODEL,
                messages.LABEL_MODEL,
                [default, *(_option(spec.name, key) for key, spec in MODELS.items())],
            ),
            *extra,
        ],
    }


def _within(escaped: str, limit: int) -> str:
    """Escaped mrkdwn cut to Block Kit's `limit` without halving an entity ("&amp;" is five
    characters: cut before escaping, a prompt full of "&" grew past the limit and the form was
    refused)."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    entity = cut.rfind("&")
    if entity != -1 and ";" not in cut[entity:]:
        cut = cut[:entity]
    return cut + "…"
