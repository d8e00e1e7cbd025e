"""What a surface hands the conversation: one typed turn per user action.

A surface (Discord, Slack, the playground) converts a platform event into a `Turn` (who, and
one action below) and calls `Conversation.handle(turn, reply)`. Options stay typed from the
form to the provider body; only text the user typed goes through the flag parser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot import messages
from bot.request.models import ImageInput, Requester

__all__ = [
    "MAKES_IMAGES",
    "PRESSES",
    "Action",
    "Ask",
    "Attachments",
    "Cancel",
    "CastCommand",
    "Delete",
    "Edit",
    "Help",
    "History",
    "Info",
    "NoAttachments",
    "OpenEdit",
    "Options",
    "Reroll",
    "ResultRef",
    "Turn",
    "Upscale",
    "Usage",
    "Variations",
    "pressed",
]


@dataclass(frozen=True, slots=True)
class Options:
    """Options picked in a form (slash command options, web controls), already typed.

    `resolution` is a tier ("2K") or an explicit size ("2048x1536") as the user picked it.
    Flags typed in the prompt win over these; workspace defaults lose to both.
    """

    aspect: str | None = None
    resolution: str | None = None
    count: int | None = None
    model: str | None = None
    output_format: str | None = None
    watermark: bool | None = None
    style: str | None = None  # a style preset's name (a `--style` flag wins)
    refs: tuple[str, ...] = ()  # saved cast names, before `--ref` flags' and the attachments
    provider: str | None = None  # the one host to use, where a surface offers it (the shell)

    def chips(self) -> list[str]:
        """The options picked, as a thread shows them under the prompt ("aspect 16:9", "2K")."""
        return messages.option_chips(
            aspect=self.aspect,
            resolution=self.resolution,
            count=self.count,
            model=self.model,
            output_format=self.output_format,
            watermark=self.watermark,
            style=self.style,
            refs=list(self.refs),
        )


class Attachments(Protocol):
    """A surface's attachments, checked and downloaded only when the conversation asks (after
    the text's flags are known to be good, so a typo costs no download)."""

    def __len__(self) -> int: ...

    async def load(self, *, alongside: int = 0) -> list[ImageInput]:
        """Every attachment as a reference image, in order; `alongside`: references the request
        already has (an earlier result being edited), counted against Seedream's limit."""
        ...


class NoAttachments:
    def __len__(self) -> int:
        return 0

    async def load(self, *, alongside: int = 0) -> list[ImageInput]:
        return []


@dataclass(frozen=True, slots=True)
class ResultRef:
    """One of seedbot's results, as the surface knows it: a job id (buttons, modals), a message
    of the platform's (a reply, a context menu), or a conversation thread (the latest result in
    it, or the job still working there)."""

    job_id: str | None = None
    message_id: str | None = None
    thread: tuple[str, str] | None = None  # (channel, thread id)


@dataclass(frozen=True, slots=True)
class Ask:
    """A new request: text with flags, typed options, attachments (references)."""

    text: str
    options: Options = Options()
    attachments: Attachments = field(default_factory=NoAttachments)
    # A message the request replies to whose images come first (not one of our results).
    quoted: Attachments = field(default_factory=NoAttachments)
    # Typed commands ("usage", "history", "admin quota show @ann", "cast ...") answer directly
    # instead of becoming a prompt: for text typed in a chat (mentions, DMs, a slash command's
    # prompt, the playground's box); not for a form's prompt field (Slack's Home form, a
    # workflow step, the shell), which is only ever a prompt.
    commands: bool = False
    # The text as typed, people's mentions in the surface's own form (`<@U123>`), where `text`
    # shows them as names for the model: what `admin quota ... @user` reads. None: `text`.
    words: str | None = None


@dataclass(frozen=True, slots=True)
class Edit:
    """Edit a result: its images (or the one picked with #N) first, then new attachments. A
    result still being made is waited for."""

    result: ResultRef
    text: str
    attachments: Attachments = field(default_factory=NoAttachments)
    # When the ref is not one of our results: treat it as a new request with these images.
    fallback: Attachments | None = None
    # A reply typed in a chat: "usage", "history", "help" or "admin ..." as the whole text
    # answer directly instead of editing (as Ask.commands; `words` as Ask.words).
    commands: bool = False
    words: str | None = None


@dataclass(frozen=True, slots=True)
class Reroll:
    job_id: str
    count: int | None = None  # "3 more": that many, else as many as the result asked for


@dataclass(frozen=True, slots=True)
class Variations:
    job_id: str
    count: int | None = None  # "4 more like this": that many, else VARIATIONS_COUNT


@dataclass(frozen=True, slots=True)
class OpenEdit:
    """Edit pressed on a result, or "edit this" on any message: ask what should change
    (Reply.edit_form); the text the person sends back is an Edit of it. `fallback`: the
    message's own images, edited when it is not one of our results."""

    result: ResultRef
    fallback: Attachments | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    job_id: str


@dataclass(frozen=True, slots=True)
class Info:
    job_id: str


@dataclass(frozen=True, slots=True)
class Usage:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class History:
    """The requester's last jobs, each linked to its result where the surface can link."""


@dataclass(frozen=True, slots=True)
class Upscale:
    """Re-render image #`pick` (from 1) of a result at 4K with Seedream 4.5."""

    result: ResultRef
    pick: int | None = None  # None: the only image (a batch must say which)


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop a job that is queued or running (its status message's button, or a reply)."""

    job: ResultRef


@dataclass(frozen=True, slots=True)
class CastCommand:
    """The saved cast: `save` an image under a name (an attachment, or a result's image: `pick`
    one of a batch), `list`, `remove`; `server`: the workspace's cast (admins change it)."""

    verb: str  # "save" | "list" | "remove"
    name: str = ""
    server: bool = False
    attachments: Attachments = field(default_factory=NoAttachments)
    result: ResultRef | None = None
    pick: int | None = None


Action = (
    Ask
    | Edit
    | OpenEdit
    | Reroll
    | Variations
    | Delete
    | Info
    | Usage
    | Help
    | History
    | Upscale
    | Cancel
    | CastCommand
)

# The turn each button on a result (or Cancel on a status message) is, by the button's name on
# every surface; `pick` is Upscale's image. "edit" asks for the change in a form first.
PRESSES: dict[str, Callable[[str, int | None], Action]] = {
    "reroll": lambda job, _: Reroll(job),
    "variations": lambda job, _: Variations(job),
    "edit": lambda job, _: OpenEdit(ResultRef(job_id=job)),
    "upscale": lambda job, pick: Upscale(ResultRef(job_id=job), pick),
    "delete": lambda job, _: Delete(job),
    "info": lambda job, _: Info(job),
    "cancel": lambda job, _: Cancel(ResultRef(job_id=job)),
}
# The presses that make images: a surface runs them as a new job, and answers the rest at once.
MAKES_IMAGES = frozenset({"reroll", "variations", "upscale"})


def pressed(name: str, job_id: str, pick: int | None = None) -> Action:
    """The turn a press of the button `name` is (KeyError: not one of PRESSES)."""
    return PRESSES[name](job_id, pick)


@dataclass(frozen=True, slots=True)
class Turn:
    who: Requester
    action: Action
    what: str = ""  # for logs: "/imagine", "reply", "reroll", ...
