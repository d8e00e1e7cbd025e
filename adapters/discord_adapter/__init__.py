"""seedbot on Discord: /imagine, /edit, /usage, "Edit with Seedream", mentions, replies to
results, DMs, persistent Re-roll / Variations / Edit / Delete / Info buttons, results in threads
as Components V2 galleries; installed to a server or to a person's account.

`create(runtime)` is the `seedbot.platforms` entry point (see pyproject.toml). Modules:

    platform.py     DiscordPlatform: start/close for `seedbot run`
    endpoints.py    pointing discord.py at DISCORD_API_BASE_URL / DISCORD_GATEWAY_URL
    client.py       the commands.Bot subclass: intents, command sync, invite links
    commands.py     the application commands (options -> Studio)
    replies.py      mentions, replies to results, DMs (on_message)
    views.py        persistent result buttons (DynamicItem) and the Edit modals
    surface.py      interactions -> the conversation's turns (guests where the bot is not a member)
    reply.py        the conversation's Reply over an anchor
    delivery.py     anchors (interaction, message, resumed), results (files, galleries, thread)
    layout.py       the Components V2 layouts every message uses
    attachments.py  attachments -> checked reference images
    text.py         message text -> prompt
"""

from adapters.discord_adapter.platform import DiscordPlatform, create

__all__ = ["DiscordPlatform", "create"]
