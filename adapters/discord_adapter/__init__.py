"""seedbot on Discord: /imagine, /edit, /usage, "Edit with Seedream", mentions, replies to
results, DMs, persistent Re-roll / Variations / Edit / Delete / Info buttons, results in threads
as Components V2 galleries; installed to a server or to a person's account.

`plugin` is the `seedbot.platforms` entry point (see pyproject.toml). Modules:

    plugin.py       the plug-in: settings, set-up hint, key shapes, doctor, create (light)
    settings.py     DiscordSettings: the DISCORD_* settings
    invite.py       scopes, permissions, the invite link, what a token says offline
    doctor.py       `seedbot doctor`'s Discord checks
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

from adapters.discord_adapter.plugin import plugin

__all__ = ["plugin"]
