"""Localized application commands: discord.py asks this Translator, while syncing the command
tree, for each command's, option's and choice's name and description in every locale Discord
supports; it answers from seedbot's catalogs (bot/locales) for the locales seedbot speaks.

    /imagine  ja: /画像生成 "プロンプトから画像を作ります…"   option prompt -> プロンプト

Discord's rules for a localized name are checked here too (a name that breaks them is left out,
so Discord falls back to the English one rather than refusing the whole sync): command and
option names lowercase, 1-32 characters of letters, digits, `-` and `_` (Devanagari and Thai
marks allowed); choice names 1-100 characters; descriptions 1-100 characters.

Descriptions are the English sentences of bot/messages.py, which are their own msgids; a
description made by a function (`option_more_image(2)`) carries that function in its
`locale_str` extras (`render`), called again in the target locale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from bot import i18n
from bot.i18n import NC_

__all__ = ["NAME_RE", "SeedbotTranslator", "localized", "name_localizations"]

# Discord's CHAT_INPUT name rule (letters, numbers, marks of Devanagari and Thai; `-` and `_`).
NAME_RE = re.compile(r"^[-_\w\u0900-\u097f\u0e00-\u0e7f]{1,32}$")
DESCRIPTION_MAX = 100
CHOICE_MAX = 100

# discord.Locale values -> seedbot's locales (the rest fall back to English: no localization).
_DISCORD_LOCALES = {locale: i18n.normalize(locale.value) for locale in discord.Locale}

_COMMAND = "discord command name (lowercase, no spaces, at most 32 characters)"
_OPTION = "discord option name (lowercase, no spaces, at most 32 characters)"
_CHOICE = "discord choice name (at most 100 characters)"

# The names seedbot registers, for the catalog. "seedbot" itself is a name, never translated.
COMMAND_NAMES = {
    name: name
    for name in (
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "imagine"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "edit"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "usage"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "history"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "cast"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "quota"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "settings"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "style"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "stats"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "show"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "set"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "grant"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "reset"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "block"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "unblock"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "list"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "add"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "change"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "remove"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "hide"),
        NC_("discord command name (lowercase, no spaces, at most 32 characters)", "save"),
    )
}
OPTION_NAMES = {
    name: name
    for name in (
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "prompt"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "image"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "image2"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "image3"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "image4"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "aspect"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "resolution"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "count"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "model"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "format"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "watermark"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "style"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "ref"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "user"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "daily"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "monthly"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "images"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "setting"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "value"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "name"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "suffix"),
        NC_("discord option name (lowercase, no spaces, at most 32 characters)", "server"),
    )
}
# Choices shown with words (the aspect ratios); a choice without words (JPEG) stays as it is.
CHOICE_NAMES = {
    name: name
    for name in (
        NC_("discord choice name (at most 100 characters)", "1:1 (square)"),
        NC_("discord choice name (at most 100 characters)", "4:3 (landscape)"),
        NC_("discord choice name (at most 100 characters)", "3:4 (portrait)"),
        NC_("discord choice name (at most 100 characters)", "16:9 (widescreen)"),
        NC_("discord choice name (at most 100 characters)", "9:16 (phone screen)"),
        NC_("discord choice name (at most 100 characters)", "3:2 (photo)"),
        NC_("discord choice name (at most 100 characters)", "2:3 (poster)"),
        NC_("discord choice name (at most 100 characters)", "21:9 (cinema)"),
    )
}


def localized(message: str, render: Callable[[], str]) -> app_commands.locale_str:
    """A description made by a function of bot/messages.py, rendered again in each locale."""
    return app_commands.locale_str(message, render=render)


def _translate(
    string: app_commands.locale_str, location: app_commands.TranslationContextLocation, *, menu: bool
) -> str:
    """`string` in the current locale (the English text when the catalog has none)."""
    Location = app_commands.TranslationContextLocation
    render: Any = string.extras.get("render")
    if callable(render):
        return str(render())
    if menu:  # a context menu's name ("Edit with Seedream") is a sentence of bot/messages.py
        return i18n.gettext(string.message)
    if location in (Location.command_name, Location.group_name):
        if string.message == "seedbot" or string.message not in COMMAND_NAMES:
            return string.message
        return i18n.pgettext(_COMMAND, string.message)
    if location is Location.parameter_name:
        return i18n.pgettext(_OPTION, string.message) if string.message in OPTION_NAMES else string.message
    if location is Location.choice_name:
        return i18n.pgettext(_CHOICE, string.message) if string.message in CHOICE_NAMES else string.message
    return i18n.gettext(string.message)


def _fits(text: str, location: app_commands.TranslationContextLocation, *, menu: bool) -> bool:
    Location = app_commands.TranslationContextLocation
    if menu:
        return 1 <= len(text) <= 32  # a context menu's name: any case, spaces allowed
    if location in (Location.command_name, Location.group_name, Location.parameter_name):
        return bool(NAME_RE.match(text)) and text == text.lower()
    if location is Location.choice_name:
        return 1 <= len(text) <= CHOICE_MAX
    if location in (Location.command_description, Location.group_description, Location.parameter_description):
        return 1 <= len(text) <= DESCRIPTION_MAX
    return False


class SeedbotTranslator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        ours = _DISCORD_LOCALES.get(locale, i18n.ENGLISH)
        if ours == i18n.ENGLISH:
            return None  # Discord shows the default (English) text
        menu = isinstance(context.data, app_commands.ContextMenu)
        with i18n.use(ours):
            text = _translate(string, context.location, menu=menu)
        if text == str(string):
            return None  # not translated: no localization, the English default stands
        return text if _fits(text, context.location, menu=menu) else None


def name_localizations(context: str, name: str) -> dict[str, str]:
    """A name's translations by Discord locale (for tests and docs)."""
    out: dict[str, str] = {}
    for locale, ours in _DISCORD_LOCALES.items():
        if ours != i18n.ENGLISH:
            with i18n.use(ours):
                text = i18n.pgettext(context, name)
            if text != name:
                out[locale.value] = text
    return out
