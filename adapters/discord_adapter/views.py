"""The buttons under a result and the Edit modals.

The buttons sit in an ActionRow of the result's layout (layout.py). They are persistent: each custom_id carries the action and the job id
(`seedbot:reroll:<job id>`), and `ResultButton` is registered once with
`bot.add_dynamic_items`, so a button on a message posted by an earlier process still works
after a restart. Everything else (prompt, references, owner) is read back from the ledger
when the button is pressed.

A result's Edit form is persistent the same way: its custom_id carries the job id
(`seedbot:edit-modal:<job id>`) and its answer is read from the submission itself
(`edit_submission`, called by the client's on_interaction), so a form left open across a
restart still works. "Edit with Seedream" on any other message is answered the same way
(`context_submission`: `seedbot:context-edit:<message id>`); the message's images are read from
the copy this process kept when it opened the form, else fetched again. Where the bot is not a
member it cannot fetch: that form, submitted after a restart, is answered with a private "open
it again".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol, cast

import discord

from bot import messages
from bot.request.validation import PROMPT_MAX_CHARS

__all__ = [
    "ContextEditModal",
    "EditModal",
    "ResultActions",
    "ResultButton",
    "context_submission",
    "edit_submission",
]

# How each action's button looks on Discord (its words: messages.action_label).
_LOOKS = {
    "reroll": (discord.ButtonStyle.secondary, "🔁"),
    "variations": (discord.ButtonStyle.secondary, "🎲"),
    "edit": (discord.ButtonStyle.primary, "✏️"),
    "info": (discord.ButtonStyle.secondary, "ℹ️"),
    "delete": (discord.ButtonStyle.danger, "🗑️"),
    "upscale": (discord.ButtonStyle.secondary, "🔍"),
    "cancel": (discord.ButtonStyle.danger, "✖️"),
}
PROMPT_INPUT_ID = "prompt"
EDIT_MODAL_ID = re.compile(r"seedbot:edit-modal:(?P<job>[0-9a-f]{4,32})")
CONTEXT_MODAL_ID = re.compile(r"seedbot:context-edit:(?P<message>[0-9]{1,20})")
SHOWN_PROMPT_MAX = 1000  # of the prompt quoted above the change (a modal is a small window)


class ResultActions(Protocol):
    """What the buttons and modals call (implemented by DiscordSurface)."""

    async def button(
        self, interaction: discord.Interaction[Any], action: str, job_id: str, pick: int | None = None
    ) -> None: ...


class _HasActions(Protocol):
    actions: ResultActions


def _actions(interaction: discord.Interaction[Any]) -> ResultActions:
    return cast(_HasActions, interaction.client).actions


# Upscale carries the image's number: seedbot:upscale:<job id>:2.
BUTTON_ID = re.compile(
    r"seedbot:(?P<action>reroll|variations|edit|info|delete|upscale|cancel):(?P<job>[0-9a-f]{4,32})"
    r"(?::(?P<pick>[1-9][0-9]?))?"
)


def is_result_button(custom_id: str) -> bool:
    return BUTTON_ID.fullmatch(custom_id) is not None


class ResultButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.LayoutView]],
    template=BUTTON_ID,
):
    def __init__(self, action: str, job_id: str, pick: int | None = None) -> None:
        style, emoji = _LOOKS[action]
        label = messages.action_label(action, pick)  # in the language of the message it is on
        custom_id = f"seedbot:{action}:{job_id}" + (f":{pick}" if pick is not None else "")
        super().__init__(discord.ui.Button(label=label, style=style, emoji=emoji, custom_id=custom_id))
        self.action = action
        self.job_id = job_id
        self.pick = pick

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ResultButton:
        return cls(match["action"], match["job"], int(match["pick"]) if match["pick"] else None)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _actions(interaction).button(interaction, self.action, self.job_id, self.pick)


def _change(modal: discord.ui.Modal, prompt: str, max_chars: int) -> discord.ui.TextInput[Any]:
    """The modal's fields: the prompt being edited (when there is one, quoted), then the change."""
    if prompt.strip():
        cut = prompt if len(prompt) <= SHOWN_PROMPT_MAX else prompt[:SHOWN_PROMPT_MAX] + "…"
        modal.add_item(discord.ui.TextDisplay(">>> " + cut))
    change: discord.ui.TextInput[Any] = discord.ui.TextInput(
        placeholder=messages.EDIT_PROMPT_PLACEHOLDER[:100],
        style=discord.TextStyle.paragraph,
        custom_id=PROMPT_INPUT_ID,
        max_length=max_chars,
        required=True,
    )
    modal.add_item(discord.ui.Label(text=messages.EDIT_PROMPT_LABEL[:45], component=change))
    return change


class EditModal(discord.ui.Modal):
    """Edit a result: what the core's EditForm asks, the result's prompt shown above the change
    (the result's images are the references). Its answer: `edit_submission`."""

    def __init__(self, job_id: str, prompt: str, max_chars: int) -> None:
        super().__init__(
            title=messages.EDIT_TITLE[:45], custom_id=f"seedbot:edit-modal:{job_id}", timeout=900
        )
        _change(self, prompt, max_chars)


def edit_submission(data: Mapping[str, Any]) -> tuple[str, str] | None:
    """A submitted Edit form of a result, read from the payload alone: (job id, the change
    typed). None: another modal."""
    match = EDIT_MODAL_ID.fullmatch(str(data.get("custom_id", "")))
    change = _typed_change(data) if match else None
    return (match["job"], change) if match and change is not None else None


def context_submission(data: Mapping[str, Any]) -> tuple[int, str] | None:
    """A submitted "Edit with Seedream" form of a message: (message id, the change typed)."""
    match = CONTEXT_MODAL_ID.fullmatch(str(data.get("custom_id", "")))
    change = _typed_change(data) if match else None
    return (int(match["message"]), change) if match and change is not None else None


def _typed_change(data: Mapping[str, Any]) -> str | None:
    for top in data.get("components") or []:  # a Label holds its input; a legacy row, a list
        inputs = [top["component"]] if "component" in top else list(top.get("components") or [])
        for item in inputs:
            if item.get("custom_id") == PROMPT_INPUT_ID:
                return str(item.get("value") or "")
    return None


class ContextEditModal(discord.ui.Modal):
    """ "Edit with Seedream" on any message: a prompt, that message's images as references.
    Its answer: `context_submission`."""

    def __init__(self, message: discord.Message) -> None:
        super().__init__(
            title=messages.EDIT_TITLE[:45], custom_id=f"seedbot:context-edit:{message.id}", timeout=900
        )
        _change(self, "", PROMPT_MAX_CHARS)
