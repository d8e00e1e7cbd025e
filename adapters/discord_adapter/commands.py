"""The application commands: /imagine, /edit, /usage and the message context menu
"Edit with Seedream". They only translate options; the Studio does the work.

    /imagine prompt:a red fox in snow aspect:3:2 count:2
    /imagine prompt:put the hat on the cat image:<cat.png> image2:<hat.png>
    /edit prompt:make it night image:<photo.jpg>
    /usage
    /history
    /seedbot quota show|set|grant|reset|block|unblock user:@someone ...   (admins)
    /seedbot settings show | /seedbot settings set setting:pool value:50  (admins)
    /seedbot stats                                                        (admins)
    /seedbot style list | add | change | remove | hide                    (admins)
    /cast save name:mia image:<mia.png> | /cast list | /cast remove name:mia
    /imagine prompt:… style:anime ref:mia,hat      (both autocompleted)

Admin commands are visible to everyone (SEEDBOT_ADMINS need not have Manage Server) and
checked when used: Manage Server in that server, or SEEDBOT_ADMINS.

Installs: seedbot can be added to a server and to a person's account. The image commands and
the context menu work from both installs, in servers, in the bot's DM and in group DMs and DMs
between people (Discord's "private channel" context, only for a person's own install); /seedbot
is for servers that installed the bot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord_adapter.surface import DiscordSurface, interaction_requester
from adapters.discord_adapter.translator import CHOICE_NAMES, localized
from bot import messages
from bot.config import MAX_LIMIT
from bot.conversation.community import MAX_GRANT, SETTING_KEYS
from bot.conversation.turns import CastCommand, Options
from bot.request.flags import cast_names
from bot.request.models import Requester
from bot.request.validation import (
    ASPECTS,
    FORMATS,
    MAX_OUTPUTS,
    MODELS,
    PROMPT_MAX_CHARS,
    STYLE_WORDS_MAX_CHARS,
)

__all__ = ["ImageCommands"]

# "16:9 (widescreen)": the ratio, and a word for it that the translator localizes.
_ASPECT_CHOICES = [
    app_commands.Choice(name=next((c for c in CHOICE_NAMES if c.split(" ")[0] == a), a), value=a)
    for a in ASPECTS
]
_MODEL_CHOICES = [app_commands.Choice(name=spec.name, value=key) for key, spec in MODELS.items()]

_F = TypeVar("_F", bound=Callable[..., Any])


def _style_options(command: _F) -> _F:
    """The descriptions and choices `/seedbot style add` and `style change` share."""
    described = app_commands.describe(
        suffix=messages.OPTION_STYLE_SUFFIX,
        aspect=messages.OPTION_ASPECT,
        resolution=messages.OPTION_RESOLUTION,
        model=messages.OPTION_MODEL,
    )
    return described(app_commands.choices(aspect=_ASPECT_CHOICES, model=_MODEL_CHOICES)(command))


_FORMAT_CHOICES = [app_commands.Choice(name=f.upper(), value=f) for f in FORMATS]
_WHERE = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
_INSTALLS = app_commands.allowed_installs(guilds=True, users=True)

_SETTING_CHOICES = [app_commands.Choice(name=k, value=k) for k in SETTING_KEYS]
Prompt = app_commands.Range[str, 1, PROMPT_MAX_CHARS]
Amount = app_commands.Range[int, 0, MAX_LIMIT]
Count = app_commands.Range[int, 1, MAX_OUTPUTS]


def _attachments(*items: discord.Attachment | None) -> list[discord.Attachment]:
    return [a for a in items if a is not None]


def _key(user: discord.abc.User) -> str:
    return f"discord:{user.id}"


class ImageCommands(commands.Cog):
    admin = app_commands.Group(
        name="seedbot",
        description=messages.COMMAND_ADMIN,
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )
    quota = app_commands.Group(name="quota", description=messages.COMMAND_ADMIN, parent=admin)
    server = app_commands.Group(name="settings", description=messages.COMMAND_ADMIN, parent=admin)
    styles = app_commands.Group(name="style", description=messages.COMMAND_ADMIN, parent=admin)
    cast = app_commands.Group(
        name="cast",
        description=messages.COMMAND_CAST,
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True),
        allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
    )

    def __init__(self, bot: commands.Bot, studio: DiscordSurface) -> None:
        self.bot = bot
        self.studio = studio
        self.context_menu = app_commands.ContextMenu(
            name=messages.CONTEXT_EDIT_NAME, callback=self.edit_message
        )
        self.context_menu.allowed_contexts = app_commands.AppCommandContext(
            guild=True, dm_channel=True, private_channel=True
        )
        self.context_menu.allowed_installs = app_commands.AppInstallationType(guild=True, user=True)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.context_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.context_menu.name, type=self.context_menu.type)

    @app_commands.command(name="imagine", description=messages.COMMAND_IMAGINE)
    @app_commands.describe(
        prompt=messages.OPTION_PROMPT,
        image=messages.OPTION_IMAGE,
        image2=localized(messages.option_more_image(2), lambda: messages.option_more_image(2)),
        image3=localized(messages.option_more_image(3), lambda: messages.option_more_image(3)),
        image4=localized(messages.option_more_image(4), lambda: messages.option_more_image(4)),
        aspect=messages.OPTION_ASPECT,
        resolution=messages.OPTION_RESOLUTION,
        count=messages.OPTION_COUNT,
        model=messages.OPTION_MODEL,
        output_format=messages.OPTION_FORMAT,
        watermark=messages.OPTION_WATERMARK,
        style=messages.OPTION_STYLE,
        ref=messages.OPTION_REF,
    )
    @app_commands.rename(output_format="format")
    @app_commands.choices(aspect=_ASPECT_CHOICES, model=_MODEL_CHOICES, output_format=_FORMAT_CHOICES)
    @_WHERE
    @_INSTALLS
    async def imagine(
        self,
        interaction: discord.Interaction[Any],
        prompt: Prompt,
        image: discord.Attachment | None = None,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        image4: discord.Attachment | None = None,
        aspect: str | None = None,
        resolution: str | None = None,
        count: Count | None = None,
        model: str | None = None,
        output_format: str | None = None,
        watermark: bool | None = None,
        style: app_commands.Range[str, 1, 32] | None = None,
        ref: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        refs = cast_names(ref or "")
        options = Options(aspect, resolution, count, model, output_format, watermark, style=style, refs=refs)
        await self.studio.imagine(interaction, prompt, _attachments(image, image2, image3, image4), options)

    @imagine.autocomplete("style")
    async def style_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """The styles of this server (and the built-ins it has not hidden)."""
        names = await self.studio.conversation.styles.names(interaction_requester(interaction))
        typed = current.strip().lower()
        return [app_commands.Choice(name=n, value=n) for n in names if typed in n][:25]

    @imagine.autocomplete("ref")
    async def ref_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """Cast names (own, then the server's), completing the last of a comma-separated list."""
        names = await self.studio.conversation.cast.names(interaction_requester(interaction))
        done, _, typed = current.rpartition(",")
        chosen = {n.strip() for n in done.split(",")}
        prefix = f"{done}," if done else ""
        return [
            app_commands.Choice(name=f"{prefix}{n}", value=f"{prefix}{n}")
            for n in names
            # a choice is at most 100 characters: one longer makes Discord refuse the whole list
            if typed.strip().lower() in n and n not in chosen and len(prefix) + len(n) <= 100
        ][:25]

    @imagine.autocomplete("resolution")
    async def resolution_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """The tiers of the model the request would be made with (chosen here, its style's, the
        server's)."""
        namespace = interaction.namespace
        picked = Options(model=getattr(namespace, "model", None), style=getattr(namespace, "style", None))
        tiers = await self.studio.conversation.resolutions(interaction_requester(interaction), picked)
        typed = current.strip().upper()
        return [app_commands.Choice(name=t, value=t) for t in tiers if typed in t]

    @app_commands.command(name="edit", description=messages.COMMAND_EDIT)
    @app_commands.describe(
        prompt=messages.OPTION_PROMPT,
        image=messages.OPTION_IMAGE,
        image2=localized(messages.option_more_image(2), lambda: messages.option_more_image(2)),
        image3=localized(messages.option_more_image(3), lambda: messages.option_more_image(3)),
        image4=localized(messages.option_more_image(4), lambda: messages.option_more_image(4)),
    )
    @_WHERE
    @_INSTALLS
    async def edit(
        self,
        interaction: discord.Interaction[Any],
        prompt: Prompt,
        image: discord.Attachment,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        image4: discord.Attachment | None = None,
    ) -> None:
        await self.studio.imagine(
            interaction, prompt, _attachments(image, image2, image3, image4), Options(), what="/edit"
        )

    @app_commands.command(name="usage", description=messages.COMMAND_USAGE)
    @_WHERE
    @_INSTALLS
    async def usage(self, interaction: discord.Interaction[Any]) -> None:
        await self.studio.usage(interaction)

    async def edit_message(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        await self.studio.context_menu(interaction, message)

    @app_commands.command(name="history", description=messages.COMMAND_HISTORY)
    @_WHERE
    @_INSTALLS
    async def history(self, interaction: discord.Interaction[Any]) -> None:
        await self.studio.history(interaction)

    # -- /seedbot (admins) ----------------------------------------------------------------------

    async def _on_user(
        self,
        interaction: discord.Interaction[Any],
        what: str,
        user: discord.User,
        action: Callable[[Requester, str], Awaitable[str]],
    ) -> None:
        """An admin action on one user's quota, as `action(admin, user key)`. Discord resolves
        members of this server as discord.Member."""
        member = isinstance(user, discord.Member)
        admin = self.studio.conversation.admin

        async def act(who: Requester) -> str:
            admin.may_manage(who, target_is_member=member)
            return await action(who, _key(user))

        await self.studio.admin(interaction, what, act)

    @quota.command(name="show", description=messages.COMMAND_ADMIN)
    @app_commands.describe(user=messages.OPTION_USER)
    async def quota_show(self, interaction: discord.Interaction[Any], user: discord.User) -> None:
        admin = self.studio.conversation.admin
        await self._on_user(interaction, "quota show", user, admin.quota_show)

    @quota.command(name="set", description=messages.COMMAND_ADMIN)
    @app_commands.describe(
        user=messages.OPTION_USER, daily=messages.OPTION_DAILY, monthly=messages.OPTION_MONTHLY
    )
    async def quota_set(
        self,
        interaction: discord.Interaction[Any],
        user: discord.User,
        daily: Amount | None = None,
        monthly: Amount | None = None,
    ) -> None:
        admin = self.studio.conversation.admin
        await self._on_user(
            interaction,
            "quota set",
            user,
            lambda who, key: admin.quota_set(who, key, daily=daily, monthly=monthly),
        )

    @quota.command(name="grant", description=messages.COMMAND_ADMIN)
    @app_commands.describe(user=messages.OPTION_USER, images=messages.OPTION_EXTRA)
    async def quota_grant(
        self,
        interaction: discord.Interaction[Any],
        user: discord.User,
        images: app_commands.Range[int, 1, MAX_GRANT],
    ) -> None:
        admin = self.studio.conversation.admin
        await self._on_user(
            interaction, "quota grant", user, lambda who, key: admin.quota_grant(who, key, images)
        )

    @quota.command(name="reset", description=messages.COMMAND_ADMIN)
    @app_commands.describe(user=messages.OPTION_USER)
    async def quota_reset(self, interaction: discord.Interaction[Any], user: discord.User) -> None:
        await self._on_user(interaction, "quota reset", user, self.studio.conversation.admin.quota_reset)

    @quota.command(name="block", description=messages.COMMAND_ADMIN)
    @app_commands.describe(user=messages.OPTION_USER)
    async def quota_block(self, interaction: discord.Interaction[Any], user: discord.User) -> None:
        admin = self.studio.conversation.admin
        await self._on_user(
            interaction, "quota block", user, lambda who, key: admin.quota_block(who, key, True)
        )

    @quota.command(name="unblock", description=messages.COMMAND_ADMIN)
    @app_commands.describe(user=messages.OPTION_USER)
    async def quota_unblock(self, interaction: discord.Interaction[Any], user: discord.User) -> None:
        admin = self.studio.conversation.admin
        await self._on_user(
            interaction, "quota unblock", user, lambda who, key: admin.quota_block(who, key, False)
        )

    @server.command(name="show", description=messages.COMMAND_ADMIN)
    async def settings_show(self, interaction: discord.Interaction[Any]) -> None:
        await self.studio.admin(interaction, "settings show", self.studio.conversation.admin.settings_show)

    @server.command(name="set", description=messages.COMMAND_ADMIN)
    @app_commands.describe(setting=messages.OPTION_SETTING, value=messages.OPTION_VALUE)
    @app_commands.choices(setting=_SETTING_CHOICES)
    async def settings_set(
        self, interaction: discord.Interaction[Any], setting: str, value: app_commands.Range[str, 1, 1000]
    ) -> None:
        admin = self.studio.conversation.admin
        await self.studio.admin(
            interaction, "settings set", lambda who: admin.settings_set(who, setting, value)
        )

    @admin.command(name="stats", description=messages.COMMAND_ADMIN)
    async def stats(self, interaction: discord.Interaction[Any]) -> None:
        await self.studio.admin(interaction, "stats", self.studio.conversation.admin.stats)

    # -- /seedbot style (admins) ----------------------------------------------------------------

    @styles.command(name="list", description=messages.COMMAND_ADMIN)
    async def style_list(self, interaction: discord.Interaction[Any]) -> None:
        await self.studio.admin(interaction, "style list", self.studio.conversation.admin.style_list)

    async def _style_put(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        suffix: str | None,
        aspect: str | None,
        resolution: str | None,
        model: str | None,
        *,
        change: bool,
    ) -> None:
        admin = self.studio.conversation.admin
        await self.studio.admin(
            interaction,
            "style change" if change else "style add",
            lambda who: admin.style_put(
                who, name, suffix or "", change=change, aspect=aspect, resolution=resolution, model=model
            ),
        )

    @styles.command(name="add", description=messages.COMMAND_ADMIN)
    @_style_options
    async def style_add(
        self,
        interaction: discord.Interaction[Any],
        name: app_commands.Range[str, 1, 32],
        suffix: app_commands.Range[str, 1, STYLE_WORDS_MAX_CHARS],
        aspect: str | None = None,
        resolution: str | None = None,
        model: str | None = None,
    ) -> None:
        await self._style_put(interaction, name, suffix, aspect, resolution, model, change=False)

    @styles.command(name="change", description=messages.COMMAND_ADMIN)
    @_style_options
    async def style_change(
        self,
        interaction: discord.Interaction[Any],
        name: app_commands.Range[str, 1, 32],
        suffix: app_commands.Range[str, 1, STYLE_WORDS_MAX_CHARS] | None = None,
        aspect: str | None = None,
        resolution: str | None = None,
        model: str | None = None,
    ) -> None:
        await self._style_put(interaction, name, suffix, aspect, resolution, model, change=True)

    @styles.command(name="remove", description=messages.COMMAND_ADMIN)
    async def style_remove(
        self, interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, 32]
    ) -> None:
        admin = self.studio.conversation.admin
        await self.studio.admin(interaction, "style remove", lambda who: admin.style_remove(who, name))

    @styles.command(name="hide", description=messages.COMMAND_ADMIN)
    async def style_hide(
        self, interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, 32]
    ) -> None:
        admin = self.studio.conversation.admin
        await self.studio.admin(interaction, "style hide", lambda who: admin.style_hide(who, name))

    # -- /cast ----------------------------------------------------------------------------------

    @cast.command(name="save", description=messages.COMMAND_CAST)
    @app_commands.describe(
        name=messages.OPTION_CAST_NAME, image=messages.OPTION_CAST_IMAGE, server=messages.OPTION_CAST_SERVER
    )
    async def cast_save(
        self,
        interaction: discord.Interaction[Any],
        name: app_commands.Range[str, 1, 32],
        image: discord.Attachment,
        server: bool = False,
    ) -> None:
        command = CastCommand("save", name, server, self.studio.attachments([image]))
        await self.studio.private(interaction, command, "/cast save")

    @cast.command(name="list", description=messages.COMMAND_CAST)
    @app_commands.describe(server=messages.OPTION_CAST_SERVER)
    async def cast_list(self, interaction: discord.Interaction[Any], server: bool = False) -> None:
        await self.studio.answer(interaction, CastCommand("list", server=server), "/cast list")

    @cast.command(name="remove", description=messages.COMMAND_CAST)
    @app_commands.describe(name=messages.OPTION_CAST_NAME, server=messages.OPTION_CAST_SERVER)
    async def cast_remove(
        self,
        interaction: discord.Interaction[Any],
        name: app_commands.Range[str, 1, 32],
        server: bool = False,
    ) -> None:
        await self.studio.answer(interaction, CastCommand("remove", name, server), "/cast remove")

    @cast_remove.autocomplete("name")
    async def cast_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        names = await self.studio.conversation.cast.names(interaction_requester(interaction))
        return [app_commands.Choice(name=n, value=n) for n in names if current.strip().lower() in n][:25]
