"""What seedbot's Discord messages look like: Components V2 layouts (discord.py `LayoutView`).

Every message the bot writes is a V2 message: discord.py sets the IS_COMPONENTS_V2 flag (1 << 15)
for a layout, and such a message carries no `content` and no embeds. Its text is TextDisplay
components in a Container with seedbot's accent colour; its images are a MediaGallery whose items
point at this message's own uploads (`attachment://<filename>`).

    notice(text)                 progress, refusals, usage, info, history: one TextDisplay
    result_layout(...)           a result: the prompt, the details, the gallery, the actions
    more_layout(...)             a result's later message (past 10 images): caption, gallery, Delete
    stream_layout(...)           a streamed batch while it grows: the prompt, how many are here, gallery

Discord's rules for these (developer docs, Component Reference and Create Message):
  - a message sent with the flag keeps it; `content`, `embeds`, `poll`, `sticker_ids` are refused,
    and an edit that turns a message into V2 sets `content` to null and `embeds` to [];
  - at most 40 components in a message, nested ones counted;
  - a MediaGallery holds 1-10 items; an ActionRow up to 5 buttons;
  - uploads show only where a component references them;
  - all TextDisplays together hold at most 4000 characters (discord-api-docs PR #8562).
A mention in a TextDisplay pings as `allowed_mentions` says, as it would in `content`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import discord

from adapters.discord_adapter.views import ResultButton
from bot import messages
from bot.conversation.surface import Button, Details, result_buttons

__all__ = [
    "ACCENT",
    "GALLERY_MAX",
    "TEXT_MAX",
    "more_layout",
    "notice",
    "result_layout",
    "status_layout",
    "stream_layout",
]

ACCENT = discord.Colour(0x3B82F6)
GALLERY_MAX = 10  # items in one MediaGallery (and files in one message)
TEXT_MAX = 4000  # characters of all TextDisplays of a message together
ALT_MAX = 1024  # a gallery item's description


def _layout(*items: discord.ui.Item[discord.ui.LayoutView]) -> discord.ui.LayoutView:
    view = discord.ui.LayoutView(timeout=None)
    for item in items:
        view.add_item(item)
    return view


def _cut(text: str, limit: int) -> str:
    if limit <= 0:
        return ""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def notice(text: str) -> discord.ui.LayoutView:
    """Plain words from the bot, in the same frame as its results."""
    return _layout(discord.ui.Container(discord.ui.TextDisplay(_cut(text, TEXT_MAX)), accent_colour=ACCENT))


def _small_print(details: Details, limit: int) -> str:
    """The details in Discord's small print (`-#`) within `limit`: the fields, the references,
    then the notes. Only the references give way: the notes say what was charged and refunded
    (14 long file names cut them off)."""
    fields = "-# " + " · ".join(f"{label}: {value}" for label, value in details.fields)
    notes = [f"-# {note}" for note in details.notes]
    room = limit - len(fields) - sum(len(note) + 1 for note in notes) - 1
    legend = f"-# {messages.LABEL_REFERENCES}: {details.references}" if details.references else ""
    legend = _cut(legend, room) if room > len("-# …") else ""
    return _cut("\n".join(line for line in (fields, legend, *notes) if line), limit)


def _gallery(names: Sequence[str], alt: str) -> discord.ui.MediaGallery[discord.ui.LayoutView]:
    if not 1 <= len(names) <= GALLERY_MAX:
        raise ValueError(f"a gallery holds 1 to {GALLERY_MAX} images, not {len(names)}")
    description = _cut(alt, ALT_MAX) or None
    return discord.ui.MediaGallery(
        *(discord.MediaGalleryItem(f"attachment://{name}", description=description) for name in names)
    )


def _action_rows(
    job_id: str, actions: Sequence[str], first: int, count: int
) -> list[discord.ui.ActionRow[discord.ui.LayoutView]]:
    """The core's buttons: the request's in one row, then "Upscale #N" for each image of this
    message, five to a row (Discord's limit)."""
    whole, each = result_buttons(actions, first, count)
    rows = [_buttons(job_id, whole)] if whole else []
    return rows + [_buttons(job_id, each[i : i + 5]) for i in range(0, len(each), 5)]


def _buttons(job_id: str, buttons: Sequence[Button]) -> discord.ui.ActionRow[discord.ui.LayoutView]:
    # DynamicItem is typed for both kinds of view; in a layout it is one of the layout's items.
    return discord.ui.ActionRow(
        *(
            cast(discord.ui.Item[discord.ui.LayoutView], ResultButton(b.action, job_id, b.pick))
            for b in buttons
        )
    )


def status_layout(text: str, cancel_job: str | None) -> discord.ui.LayoutView:
    """A job's status message: its progress, and Cancel once the job exists."""
    frame: discord.ui.Container[discord.ui.LayoutView] = discord.ui.Container(
        discord.ui.TextDisplay(_cut(text, TEXT_MAX)), accent_colour=ACCENT
    )
    if cancel_job is not None:
        button = cast(discord.ui.Item[discord.ui.LayoutView], ResultButton("cancel", cancel_job))
        frame.add_item(discord.ui.ActionRow(button))
    return _layout(frame)


def result_layout(
    *,
    job_id: str,
    prompt: str,
    details: Details,
    names: Sequence[str],
    actions: Sequence[str],
    ping: str | None = None,
) -> discord.ui.LayoutView:
    """A result's first message: `ping` (a mention, above the frame) pulls the requester into a
    thread; the prompt gets what the 4000 characters leave after the details."""
    small_print = _small_print(details, TEXT_MAX // 2)
    room = TEXT_MAX - len(small_print) - len(ping or "")
    frame: discord.ui.Container[discord.ui.LayoutView] = discord.ui.Container(accent_colour=ACCENT)
    shown = _cut(prompt, room)
    if shown:
        frame.add_item(discord.ui.TextDisplay(shown))
    frame.add_item(discord.ui.TextDisplay(small_print))
    frame.add_item(_gallery(names, prompt))
    for row in _action_rows(job_id, actions, 1, len(names)):
        frame.add_item(row)
    if ping:
        return _layout(discord.ui.TextDisplay(ping), frame)
    return _layout(frame)


def more_layout(
    *, job_id: str, prompt: str, names: Sequence[str], first: int, total: int, actions: Sequence[str]
) -> discord.ui.LayoutView:
    """A later message of the same result: which images these are, and their own buttons."""
    caption = "-# " + messages.images_range(first, first + len(names) - 1, total)
    frame: discord.ui.Container[discord.ui.LayoutView] = discord.ui.Container(
        discord.ui.TextDisplay(caption), _gallery(names, prompt), accent_colour=ACCENT
    )
    for row in _action_rows(job_id, actions, first, len(names)):
        frame.add_item(row)
    return _layout(frame)


def stream_layout(
    *, prompt: str | None, caption: str, names: Sequence[str], ping: str | None = None
) -> discord.ui.LayoutView:
    """A streamed batch while its images arrive: no buttons yet (the job is not settled). The
    first message shows the prompt; a later one (`prompt` None) only its caption."""
    small_print = "-# " + _cut(caption, TEXT_MAX // 2)
    frame: discord.ui.Container[discord.ui.LayoutView] = discord.ui.Container(accent_colour=ACCENT)
    shown = _cut(prompt or "", TEXT_MAX - len(small_print) - len(ping or "") - 1)
    if shown:
        frame.add_item(discord.ui.TextDisplay(shown))
    frame.add_item(discord.ui.TextDisplay(small_print))
    frame.add_item(_gallery(names, prompt or caption))
    if ping:
        return _layout(discord.ui.TextDisplay(ping), frame)
    return _layout(frame)
