"""Block Kit builders: the buttons under a result, the Edit modal, the App Home tab.

Buttons carry only the job id; everything else is read back from the ledger when they are
pressed, so they keep working after a restart.
"""

from __future__ import annotations

from typing import Any

from adapters.slack_adapter.text import escape
from bot import messages

__all__ = [
    "ACTION_DELETE",
    "ACTION_EDIT",
    "ACTION_INFO",
    "ACTION_REROLL",
    "ACTION_VARIATIONS",
    "EDIT_ACTION",
    "EDIT_BLOCK",
    "EDIT_CALLBACK",
    "edit_modal",
    "home_view",
    "result_controls",
]

ACTION_REROLL = "seedbot.reroll"
ACTION_VARIATIONS = "seedbot.variations"
ACTION_EDIT = "seedbot.edit"
ACTION_INFO = "seedbot.info"
ACTION_DELETE = "seedbot.delete"
EDIT_CALLBACK = "seedbot.edit_modal"
EDIT_BLOCK = "prompt"
EDIT_ACTION = "value"


def _button(action_id: str, label: str, job_id: str, *, primary: bool = False) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": job_id,
    }
    if primary:
        button["style"] = "primary"
    return button


def result_controls(job_id: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(messages.RESULT_ACTIONS)}},
        {
            "type": "actions",
            "block_id": f"seedbot.controls.{job_id}",
            "elements": [
                _button(ACTION_REROLL, messages.BUTTON_REROLL, job_id),
                _button(ACTION_VARIATIONS, messages.BUTTON_VARIATIONS, job_id),
                _button(ACTION_EDIT, messages.BUTTON_EDIT, job_id, primary=True),
                _button(ACTION_INFO, messages.BUTTON_INFO, job_id),
                _button(ACTION_DELETE, messages.BUTTON_DELETE, job_id),
            ],
        },
    ]


def edit_modal(job_id: str, prompt: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK,
        "private_metadata": job_id,
        "title": {"type": "plain_text", "text": messages.EDIT_TITLE[:24]},
        "submit": {"type": "plain_text", "text": messages.EDIT_SUBMIT[:24]},
        "blocks": [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": escape(prompt[:2900]) or " "}],
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
                    "max_length": 2000,
                },
            },
        ],
    }


def home_view(usage: str, help_text: str) -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": messages.HOME_TITLE}},
            {"type": "section", "text": {"type": "mrkdwn", "text": escape(usage)}},
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": escape(help_text)}},
        ],
    }
