"""Slack's message markup in and out: incoming text to a plain prompt, plain text to mrkdwn.

Slack escapes `&`, `<` and `>` in message text and wraps mentions and links in angle
brackets (`<@U123>`, `<https://x|label>`). Prompts are parsed as plain text, so incoming
text is unwrapped first, and everything posted back is escaped again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot import messages
from bot.errors import InvalidRequest
from bot.request.models import Requester

__all__ = [
    "LINK",
    "as_typed",
    "channel_id",
    "channel_link",
    "escape",
    "mentioned_users",
    "person_key",
    "to_plain",
]

# Slack's angle-bracket entities: `<https://x|label>`, `<@U123>`, `<#C123|art>` (target, label).
LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_USER = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")
# A public (C) or private (G) channel: the link a message makes of `#name`, or the bare ID.
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|[^>]*)?>|#?([CG][A-Z0-9]{8,})")
_CHANNEL_LINK = re.compile(r"(<#[CG][A-Z0-9]+>)")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def as_typed(text: str) -> str:
    """Words a person typed for a command ("admin style add noir black & white"), as they typed
    them: links unwrapped and `&`, `<`, `>` decoded (a style stored "black &amp; white" and sent
    it to the model), but people and channels kept as Slack marks them (`<@U123>`, `<#C123>`),
    which the admin commands read."""

    def unwrap(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#")):
            return match.group(0)
        if target.startswith("!"):
            return label or ""
        return label or target

    text = LINK.sub(unwrap, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentioned_users(text: str) -> list[str]:
    """The users a message's text mentions (`<@U123>`), in order."""
    return _MENTION.findall(text)


def to_plain(text: str, bot_user_id: str | None = None, names: Mapping[str, str] | None = None) -> str:
    """The prompt a user typed: without mentions of the bot, links and entities unwrapped, a
    mention of someone else as `@name` (`names`: user id -> the name Slack shows)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    shown = names or {}

    def unwrap(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#")):
            # Other users and channels: the name they show as (`@bob`, `#art`), as on Discord;
            # the id alone means nothing to an image model.
            name = label or shown.get(target[1:])
            return f"{target[0]}{name.lstrip(target[0])}" if name else ""
        if target.startswith("!"):
            return label or ""  # special mentions (`<!here>`, a user group's `@team`)
        return label or target

    text = LINK.sub(unwrap, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def escape(text: str) -> str:
    """Plain text made safe for Slack's mrkdwn (no accidental mentions or links). Channel links
    stay links: they notify nobody, and `admin settings` lists channels with them."""
    parts = _CHANNEL_LINK.split(text)
    return "".join(
        part if n % 2 else part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for n, part in enumerate(parts)
    )


def channel_link(channel: str) -> str:
    """A channel as a message links it (Slack shows its name)."""
    return f"<#{channel}>"


def person_key(who: Requester, word: str) -> str:
    """A Slack mention in typed words (`<@U123>`, `<@U123|name>`, `@U123`) -> that person's
    user key in the requester's workspace (`admin quota show @ann`)."""
    match = _USER.match(word)
    if not match:
        raise InvalidRequest(messages.bad_setting_value("user", word, messages.HINT_MENTION))
    return f"slack:{who.workspace_id or ''}:{match.group(1) or match.group(2)}"


def channel_id(who: Requester, word: str) -> str:
    """A channel in typed words (`<#C123|art>`, as a message links `#art`, or the bare ID) ->
    its ID. A plain name (what /imagine's text carries) is refused: stored, it would match no
    channel and lock everyone out."""
    match = _CHANNEL.fullmatch(word)
    if not match:
        raise InvalidRequest(messages.bad_setting_value("channels", word, messages.HINT_CHANNEL_LINK))
    return match.group(1) or match.group(2)
