"""A Discord message's text -> the prompt the user typed.

Mentions of the bot (its user or its managed role) are dropped; other mentions become the
names they show as (`@Alice`, `#general`), since an id means nothing to an image model.
"""

from __future__ import annotations

import re

import discord

__all__ = ["mentions_bot", "prompt_from_message"]


def _bot_role_ids(message: discord.Message, bot_id: int) -> set[int]:
    return {r.id for r in message.role_mentions if r.tags is not None and r.tags.bot_id == bot_id}


def mentions_bot(message: discord.Message, bot_id: int) -> bool:
    """The message pings the bot: its user (a reply with the ping on counts) or its role."""
    return any(u.id == bot_id for u in message.mentions) or bool(_bot_role_ids(message, bot_id))


def prompt_from_message(message: discord.Message, bot_id: int) -> str:
    text = re.sub(rf"<@!?{bot_id}>", " ", message.content)
    for role_id in _bot_role_ids(message, bot_id):
        text = text.replace(f"<@&{role_id}>", " ")
    for user in message.mentions:
        text = re.sub(rf"<@!?{user.id}>", f"@{user.display_name}", text)
    for role in message.role_mentions:
        text = text.replace(f"<@&{role.id}>", f"@{role.name}")
    for channel in message.channel_mentions:
        text = text.replace(f"<#{channel.id}>", f"#{getattr(channel, 'name', channel.id)}")
    return re.sub(r"[ \t]{2,}", " ", text).strip()
