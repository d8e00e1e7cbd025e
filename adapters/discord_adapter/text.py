"""A Discord message's text -> the prompt the user typed.

Mentions of the bot (its user or its managed role) are dropped; other mentions become the
names they show as (`@Alice`, `#general`), and a server's own emoji its name (`:castle:`, as
Slack writes emoji), since an id means nothing to an image model.
"""

from __future__ import annotations

import re

import discord

from bot import messages
from bot.errors import InvalidRequest
from bot.request.models import Requester

__all__ = [
    "channel_id",
    "channel_link",
    "emoji_names",
    "mentions_bot",
    "person_key",
    "prompt_from_message",
    "words_from_message",
]

_USER = re.compile(r"<@!?(\d{15,21})>|(\d{15,21})")
_CHANNEL = re.compile(r"<#(\d{15,21})>|#?(\d{15,21})")
_CUSTOM_EMOJI = re.compile(r"<a?(:\w{2,32}:)\d{15,21}>")


def _bot_role_ids(message: discord.Message, bot_id: int) -> set[int]:
    return {r.id for r in message.role_mentions if r.tags is not None and r.tags.bot_id == bot_id}


def mentions_bot(message: discord.Message, bot_id: int) -> bool:
    """The message pings the bot: its user (a reply with the ping on counts) or its role."""
    return any(u.id == bot_id for u in message.mentions) or bool(_bot_role_ids(message, bot_id))


def words_from_message(message: discord.Message, bot_id: int) -> str:
    """The text as typed, without the bot's mentions; other mentions stay as Discord wrote them
    (`<@123>`), for typed commands that name someone."""
    text = re.sub(rf"<@!?{bot_id}>", " ", message.content)
    for role_id in _bot_role_ids(message, bot_id):
        text = text.replace(f"<@&{role_id}>", " ")
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def prompt_from_message(message: discord.Message, bot_id: int) -> str:
    text = words_from_message(message, bot_id)
    for user in message.mentions:
        text = re.sub(rf"<@!?{user.id}>", f"@{user.display_name}", text)
    for role in message.role_mentions:
        text = text.replace(f"<@&{role.id}>", f"@{role.name}")
    for channel in message.channel_mentions:
        text = text.replace(f"<#{channel.id}>", f"#{getattr(channel, 'name', channel.id)}")
    text = emoji_names(text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def emoji_names(text: str) -> str:
    """A server's own emoji (`<:castle:123>`, `<a:sparkle:123>`) as its name, `:castle:`; a slash
    command's text option carries them as written too."""
    return _CUSTOM_EMOJI.sub(r"\1", text)


def person_key(who: Requester, word: str) -> str:
    """A Discord mention in typed words (`<@123>`, `<@!123>`, or the bare id) -> that person's
    user key (`admin quota show @ann`)."""
    match = _USER.fullmatch(word)
    if not match:
        raise InvalidRequest(messages.bad_setting_value("user", word, messages.HINT_MENTION))
    return f"discord:{match.group(1) or match.group(2)}"


def channel_id(who: Requester, word: str) -> str:
    """A channel in typed words (`<#123>`, picked from the list `#` opens, or the bare id) ->
    its id. A name is refused: stored, it would match no channel and lock everyone out."""
    match = _CHANNEL.fullmatch(word)
    if not match:
        raise InvalidRequest(messages.bad_setting_value("channels", word, messages.HINT_CHANNEL_LINK))
    return match.group(1) or match.group(2)


def channel_link(channel: str) -> str:
    """A channel as a message mentions it (Discord shows its name; nobody is notified)."""
    return f"<#{channel}>"
