"""Loopback Discord emulator for end-to-end tests that drive the *real* discord.py library.

One aiohttp application on ``127.0.0.1`` (port 0) serves the REST API under ``/api/v10``, the gateway
websocket under ``/gateway`` (and ``/resume-gateway``, the URL handed out as ``resume_gateway_url``) and a
CDN under ``/cdn`` (``/media`` is the proxy-url twin).  Every HTTP request is recorded.

Typical use::

    async with DiscordEmulator() as emu:
        bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
        async with emu.run_client(bot):          # patches discord.py's URLs, starts, waits for on_ready
            await bot.tree.sync()
            att = emu.add_cdn_file("in.png", png_bytes)
            inter = await emu.send_slash_command("imagine", {"prompt": "a cat", "image": att})
            assert await inter.wait_ack() == 5
            [msg] = await inter.wait_followups(1)

Public API (see docstrings):

* constants ``APPLICATION_ID`` (== ``BOT_USER_ID``), ``GUILD_ID``, ``TEXT_CHANNEL_ID`` ("general"),
  ``OTHER_CHANNEL_ID`` ("random"), ``HUMAN_USER_ID`` ("alice"), ``BOT_ROLE_ID``, ``OTHER_GUILD_ID``,
  ``DEFAULT_TOKEN``, ``Intents``, ``PERMISSIONS`` (also available as attributes of ``DiscordEmulator``);
* URLs: ``api_base``, ``gateway_url``, ``resume_gateway_url``, ``cdn_base``, ``media_base``, ``token``;
* discord.py glue: ``patch_discord()``, ``run_client(client)``;
* record: ``requests``, ``find_requests()``, ``last_request()``, ``wait_for()``, ``mark()``,
  ``unhandled_requests()``, ``uploaded_files()``, ``gateway_received``, ``gateway_sent``,
  ``gateway_connections``, ``identify_payload``, ``presence_updates``;
* state: ``messages``, ``channels``, ``users``, ``members``, ``commands``, ``interactions``,
  ``wait_for_message()``, ``message_payload()``, ``text_of()``, ``find_command()``,
  ``register_commands()``, ``add_user()``, ``add_text_channel()``, ``add_message()``,
  ``dm_channel()``, ``block_dms()``, ``set_bot_channel_permissions()``, ``permissions_for()``,
  ``guilds``, ``add_guild()``, ``shard_of()``;
* where the bot is not a member (user installs): ``add_foreign_guild()``, ``foreign_guilds``,
  ``group_dm()``, ``bot_absent()``; options ``user_install`` and ``interaction_token_lifetime``;
* CDN: ``add_cdn_file()``, ``cdn_bytes()``;
* faults: ``fail_next()``, ``rate_limit_next()``, ``EmulatedInteraction.expire()``,
  ``delete_channel()`` (a moderator deletes it mid-job: 404 Unknown Channel from then on);
* gateway: ``dispatch()``, ``wait_identified()``, ``wait_ready()``, ``wait_resumed()``,
  ``wait_connections()``, ``disconnect_gateway()``, ``ack_heartbeats``, ``session_shards()``;
* users acting: ``send_message()``, ``send_reaction()``, ``send_slash_command()``,
  ``send_autocomplete()``, ``send_message_command()``, ``send_user_command()``, ``send_component()``,
  ``send_modal_submit()`` / ``EmulatedInteraction.submit_modal()``, ``send_interaction()`` (raw);
  each interaction helper returns an :class:`EmulatedInteraction` (``wait_ack()``,
  ``wait_original()``, ``wait_followups()``, ``original``, ``followups``, ``modal``, ``choices``).

Wire facts follow /work/shared/docs/emulating-discord-and-slack.md.  Where real Discord is strict the
emulator is strict too (unsynced commands cannot be invoked, interactions must be acknowledged within
3 s and only once, followups before the acknowledgement get "Unknown Webhook", empty or oversized
messages are rejected, privileged intents are checked, message content is blanked without the
MESSAGE_CONTENT intent, CDN links must carry their signature).  Every strictness has a switch.

Components V2 (flag IS_COMPONENTS_V2, 1 << 15) follow the Component Reference (validation.py):
no ``content``/``embeds`` beside them, at most 40 components counted recursively, 1-10 gallery
items, 4000 characters of text displays, ``attachment://`` references only to the message's own
files (resolved to CDN URLs as Discord returns them), and the flag stays once set.

User installs: ``add_foreign_guild()`` is a server the bot is not in and ``group_dm()`` a group
DM. Interactions from there carry ``authorizing_integration_owners`` ``{"1": <user>}``, context 0
or 2 and the reduced ``app_permissions``; the bot's REST calls on those channels get 403 Missing
Access (50001) and it receives no gateway events from them; such an interaction allows at most
5 follow-ups. Every interaction token serves its webhook for ``interaction_token_lifetime``
(15 minutes) and then answers 404 Unknown Webhook.

Shards: an IDENTIFY with ``shard: [id, count]`` gets its own session (one per shard id; a second
IDENTIFY of the same shard replaces it, closing the old connection with 4009).  READY and
GUILD_CREATE list only that shard's guilds (``(guild_id >> 22) % count == id``), guild events go
to the session of the shard owning the guild and DMs to shard 0.  An IDENTIFY without ``shard``
is shard 0 of 1 and gets every guild and event, as a single connection does.  ``add_guild()``
adds a guild with its own "general" channel, @everyone and bot role (every user is a member of
every guild); ``OTHER_GUILD_ID``, its default id, is on shard 1 of 2 while ``GUILD_ID`` is on 0.

Edits with files follow API v10: an edit that sends ``attachments`` leaves the message exactly
those (kept ones by id, new uploads by index); an unknown id, or dropping a file the message's
kept gallery still shows, is refused (400 50035). ``message_log`` (``MessageSeen``) notes every
create and edit of a message: when, how many files, how many gallery items show them.

Layout (one mixin of :class:`DiscordEmulator` per module, all sharing the state set up in ``server.py``):

* ``constants.py`` ids, intents, type numbers, limits; ``models.py`` records (``Recorded``, ``Fault``,
  ``GatewayConnection``, ``EmulatedInteraction``, ``MessageSeen``) and REST errors; ``permissions.py`` permission bits
  and checks;
* ``server.py`` the aiohttp app, route table, recording, waiting, faults; ``state.py`` users, members,
  roles, channels, guilds and their payloads; ``gateway.py`` the websocket gateway and dispatch;
* REST: ``messages.py``, ``reactions.py``, ``channels.py`` (threads, DMs), ``commands.py``
  (application commands), ``callbacks.py`` (interaction callbacks, followups, webhooks);
  ``validation.py`` payload and limit checks; ``cdn.py`` attachments and the CDN;
* users acting: ``interactions.py`` (slash, autocomplete, context menus), ``components.py``
  (buttons, selects, modal submits), ``messages.py`` / ``reactions.py`` (messages, reactions).
"""

from __future__ import annotations

from tests.emulators.discord.constants import (
    APPLICATION_ID,
    BOT_ROLE_ID,
    BOT_USER_ID,
    CT_PUBLIC_THREAD,
    DEFAULT_TOKEN,
    GUILD_ID,
    HUMAN_USER_ID,
    OTHER_CHANNEL_ID,
    OTHER_GUILD_ID,
    TEXT_CHANNEL_ID,
    Intents,
)
from tests.emulators.discord.emulator import DiscordEmulator
from tests.emulators.discord.models import EmulatedInteraction, Fault, GatewayConnection, Recorded
from tests.emulators.discord.permissions import PERMISSIONS

__all__ = [
    "APPLICATION_ID",
    "BOT_ROLE_ID",
    "BOT_USER_ID",
    "CT_PUBLIC_THREAD",
    "DEFAULT_TOKEN",
    "GUILD_ID",
    "HUMAN_USER_ID",
    "OTHER_CHANNEL_ID",
    "OTHER_GUILD_ID",
    "PERMISSIONS",
    "TEXT_CHANNEL_ID",
    "DiscordEmulator",
    "EmulatedInteraction",
    "Fault",
    "GatewayConnection",
    "Intents",
    "Recorded",
]
