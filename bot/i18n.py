"""The languages seedbot speaks, and the one it speaks right now.

Every sentence a user reads comes from bot/messages.py through gettext catalogs managed with
Babel: `bot/locales/seedbot.pot` holds the English source sentences (the msgids), and
`bot/locales/<locale>/LC_MESSAGES/seedbot.po` their translations. The .po files are compiled in
memory the first time a locale is used (no binary .mo is kept next to its source, so a catalog
can never be stale), and fuzzy or empty entries fall back to English.

The language of the moment is a context variable: a surface sets it from the platform's locale
for the turn it handles (`use`), tasks started inside inherit it, and a job resumed after a
restart takes it back from its stored request (`locale_of`). Placeholders are named, in
Python's %-style (`%(count)s`), so a translation may put them in any order; the catalog tests
check that every translation keeps exactly the placeholders of its msgid.

Prompts are never translated: only seedbot's own words are.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext as _gettext
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

__all__ = [
    "DOMAIN",
    "ENGLISH",
    "LOCALES",
    "LOCALE_DIR",
    "NC_",
    "N_",
    "PLACES",
    "current",
    "decimal",
    "gettext",
    "language_name",
    "locale_of",
    "ngettext",
    "normalize",
    "npgettext",
    "number",
    "pgettext",
    "pick",
    "place",
    "reset",
    "set_current",
    "set_place",
    "translations",
    "use",
    "use_place",
]

DOMAIN = "seedbot"
LOCALE_DIR = Path(__file__).parent / "locales"
ENGLISH = "en"
# English is the source language (the msgids); the others have a catalog each.
LOCALES = ("en", "zh_CN", "ja", "es", "pt_BR", "de", "fr")

_current: contextvars.ContextVar[str] = contextvars.ContextVar("seedbot_locale", default=ENGLISH)

# What a surface calls the community a request comes from ("server" on Discord, "workspace" on
# Slack): the one word of seedbot's that differs between surfaces, so it is part of how it speaks
# there, set with the language for each turn. Sentences that name it have one msgid per word,
# since translations do not just swap the noun.
PLACES = ("workspace", "server")
_place: contextvars.ContextVar[str] = contextvars.ContextVar("seedbot_place", default=PLACES[0])

# A bare language names its usual variant: Chinese without a region is read as simplified
# Chinese (zh-CN, zh-Hans, zh-SG), Portuguese as Brazilian; zh-TW/zh-HK have no catalog yet, so
# they fall back to English rather than be shown the simplified script.
_BY_LANGUAGE = {"en": "en", "ja": "ja", "es": "es", "pt": "pt_BR", "de": "de", "fr": "fr"}
_SIMPLIFIED = {"", "cn", "hans", "sg", "my"}
_TAG = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$")


def normalize(tag: str | None) -> str:
    """A platform's or a browser's language tag (Discord "zh-CN", "pt-BR", "es-419", "en-US";
    Slack "ja-JP"; "de_DE.UTF-8") -> one of LOCALES; English for anything else."""
    if not tag:
        return ENGLISH
    tag = tag.strip().split(".", 1)[0].split("@", 1)[0]
    if not _TAG.match(tag):
        return ENGLISH
    parts = tag.replace("_", "-").lower().split("-")
    language = parts[0]
    if language == "zh":
        rest = set(parts[1:])
        return "zh_CN" if not rest or rest & (_SIMPLIFIED - {""}) else ENGLISH
    return _BY_LANGUAGE.get(language, ENGLISH)


def pick(accept_language: str | None) -> str:
    """The best of LOCALES for an HTTP Accept-Language header (highest q first, English if
    nothing there is spoken here)."""
    ranked: list[tuple[float, int, str]] = []
    for i, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, i, tag))
    for _, _, tag in sorted(ranked):
        locale = normalize(tag)
        if locale != ENGLISH or tag.lower().startswith("en"):
            return locale
    return ENGLISH


def current() -> str:
    """The locale seedbot speaks in this context."""
    return _current.get()


def set_current(locale: str | None) -> contextvars.Token[str]:
    """Speak `locale` (normalized; None is English) from here on in this context; `reset` with
    the token."""
    return _current.set(normalize(locale))


def reset(token: contextvars.Token[str]) -> None:
    """Speak again what was spoken before `set_current` gave `token`."""
    _current.reset(token)


@contextlib.contextmanager
def use(locale: str | None) -> Iterator[str]:
    """Speak `locale` inside the block (tasks created inside keep it); None keeps the current
    one (a requester whose language the surface could not tell)."""
    if locale is None:
        yield current()
        return
    token = set_current(locale)
    try:
        yield current()
    finally:
        _current.reset(token)


def place() -> str:
    """What the community is called where seedbot speaks now (one of PLACES)."""
    return _place.get()


def set_place(word: str) -> contextvars.Token[str]:
    """Call the community `word` (one of PLACES) from here on in this context."""
    return _place.set(word if word in PLACES else PLACES[0])


@contextlib.contextmanager
def use_place(word: str) -> Iterator[None]:
    """Call the community `word` inside the block (tasks created inside keep it)."""
    token = set_place(word)
    try:
        yield
    finally:
        _place.reset(token)


def locale_of(stored: Mapping[str, object], key: str = "locale") -> str:
    """The locale a stored request was made in (a job's request JSON), English if it has none:
    a job resumed after a restart answers in the language it was asked in."""
    value = stored.get(key)
    return normalize(value) if isinstance(value, str) else ENGLISH


@functools.cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalog of `locale` (NullTranslations for English or a missing file)."""
    if locale == ENGLISH or locale not in LOCALES:
        return _gettext.NullTranslations()
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return _gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def gettext(message: str) -> str:
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(current()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations(current()).npgettext(context, singular, plural, n)


def N_(message: str) -> str:
    """Mark a sentence for the catalog without translating it yet (it is translated where it
    is shown, in the locale of that moment)."""
    return message


def NC_(context: str, message: str) -> str:
    """N_ with a context (msgctxt): the same English word used for two things."""
    return message


def number(value: int) -> str:
    """A whole number as the current locale writes it (1,000,000 / 1.000.000 / 1 000 000)."""
    return format_decimal(value, locale=_babel_locale(current()))


def decimal(value: float, digits: int = 1) -> str:
    """A number with `digits` decimals as the current locale writes it (1.5 / 1,5)."""
    pattern = "0." + "0" * digits if digits else "0"
    return format_decimal(value, format=pattern, locale=_babel_locale(current()))


def language_name(locale: str) -> str:
    """A locale's name in its own language ("日本語", "Deutsch"), for a language menu."""
    return _NAMES.get(locale, locale)


_NAMES = {
    "en": "English",
    "zh_CN": "简体中文",
    "ja": "日本語",
    "es": "Español",
    "pt_BR": "Português (Brasil)",
    "de": "Deutsch",
    "fr": "Français",
}


@functools.cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale if locale in LOCALES else ENGLISH)
