"""The languages (bot/i18n.py) and their catalogs (bot/locales): every catalog translates every
message with the placeholders of its msgid and the plural forms of its language, and the template
is what the code says. That every message renders in every language: tests/test_messages.py.

A catalog still being translated fails `test_every_catalog_translates_every_message` (which
names what is missing); the other tests check the catalogs' shape whatever their progress.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot import i18n, messages

REPO = Path(__file__).resolve().parent.parent
LOCALES = REPO / "bot" / "locales"
TRANSLATED = [code for code in i18n.LOCALES if code != i18n.ENGLISH]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ANY_FORMAT = re.compile(r"%(?!\(\w+\)s|%)")  # a % that is neither %(name)s nor %%


def _pot() -> Catalog:
    with (LOCALES / "seedbot.pot").open("rb") as f:
        return read_po(f)


def _po(locale: str) -> Catalog:
    with (LOCALES / locale / "LC_MESSAGES" / "seedbot.po").open("rb") as f:
        return read_po(f, locale=locale)


def _key(message: Message) -> tuple[str | None, str]:
    return message.context, message.id[0] if isinstance(message.id, tuple) else message.id


def _forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


# -- which language ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("zh-CN", "zh_CN"),
        ("zh", "zh_CN"),
        ("zh-Hans-SG", "zh_CN"),
        ("zh-TW", "en"),  # traditional script: no catalog yet, so not the simplified one
        ("ja", "ja"),
        ("ja-JP", "ja"),
        ("es-ES", "es"),
        ("es-419", "es"),
        ("pt-BR", "pt_BR"),
        ("pt", "pt_BR"),
        ("de", "de"),
        ("de_DE.UTF-8", "de"),
        ("fr", "fr"),
        ("fr-CA", "fr"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("ko", "en"),
        ("", "en"),
        (None, "en"),
        ("<script>", "en"),
        ("pt_BR", "pt_BR"),
        ("zh_CN", "zh_CN"),
    ],
)
def test_platform_tags_map_to_our_locales(tag: str | None, locale: str) -> None:
    assert i18n.normalize(tag) == locale


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("ja,en-US;q=0.9,en;q=0.8", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("ko-KR,ko;q=0.9,de;q=0.5", "de"),
        ("fr;q=0.2, pt-BR;q=0.8", "pt_BR"),
        ("it, ko", "en"),
        ("de;q=0, fr", "fr"),  # q=0: "not this one"
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        ("zh-TW, zh-CN;q=0.5", "zh_CN"),
    ],
)
def test_accept_language_picks_the_best_locale_we_speak(header: str | None, locale: str) -> None:
    assert i18n.pick(header) == locale


async def test_the_locale_is_per_context_and_tasks_keep_the_one_they_started_in() -> None:
    assert i18n.current() == "en"
    seen: list[str] = []

    async def speak() -> None:
        await asyncio.sleep(0)
        seen.append(messages.NOT_CHARGED)

    with i18n.use("ja"):
        task = asyncio.create_task(speak())
        with i18n.use(None):  # a requester whose language is unknown: the current one stays
            assert i18n.current() == "ja"
        with i18n.use("fr"):
            assert i18n.current() == "fr"
        assert i18n.current() == "ja"
    other = asyncio.create_task(speak())
    await asyncio.gather(task, other)
    with i18n.use("ja"):
        japanese = messages.NOT_CHARGED
    assert seen == [japanese, "You were not charged."]
    assert japanese != "You were not charged."
    token = i18n.set_current("zh-CN")
    assert i18n.current() == "zh_CN"
    i18n.reset(token)
    assert i18n.current() == "en"


def test_a_stored_request_remembers_its_locale() -> None:
    assert i18n.locale_of({"locale": "ja"}) == "ja"
    assert i18n.locale_of({"workspace_locale": "pt-BR"}, "workspace_locale") == "pt_BR"
    assert i18n.locale_of({}) == "en"  # a job stored before seedbot spoke other languages
    assert i18n.locale_of({"locale": 3}) == "en"


def test_numbers_are_written_the_locales_way() -> None:
    with i18n.use("de"):
        assert i18n.number(1_000_000) == "1.000.000" and i18n.decimal(1.25, 1) in ("1,2", "1,3")
    with i18n.use("en"):
        assert i18n.number(1_000_000) == "1,000,000" and i18n.decimal(12.34) == "12.3"
    assert {i18n.language_name(code) for code in i18n.LOCALES} >= {"日本語", "简体中文", "Deutsch"}


# -- the catalogs --------------------------------------------------------------------------------


def test_the_template_holds_exactly_what_the_code_says(tmp_path: Path) -> None:
    """`make catalogs` would not change the .pot: a sentence added to bot/messages.py, a
    template or the Discord names without extracting it fails here."""
    fresh = tmp_path / "fresh.pot"
    subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_n:1,2",
            "-k",
            "_p:1c,2",
            "-k",
            "NC_:1c,2",
            "-k",
            "N_",
            "--no-wrap",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    with fresh.open("rb") as f:
        extracted = {_key(m): m.id for m in read_po(f) if m.id}
    kept = {_key(m): m.id for m in _pot() if m.id}
    assert set(extracted) - set(kept) == set(), "run `make catalogs`: new messages are not in seedbot.pot"
    assert set(kept) - set(extracted) == set(), "run `make catalogs`: seedbot.pot has messages no longer used"
    assert extracted == kept  # plural msgids too


def test_every_message_keeps_its_placeholders_in_every_catalog() -> None:
    """A translation may move %(name)s but never drop, add or rename one (the code fills in
    exactly the msgid's), nor hold a bare % that formatting would choke on."""
    wrong: list[str] = []
    for locale in TRANSLATED:
        for message in _po(locale):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            wanted = set(PLACEHOLDER.findall(ids[-1]))
            for form in _forms(message):
                if not form:
                    continue  # a missing translation: the completeness test says so
                if set(PLACEHOLDER.findall(form)) != wanted or ANY_FORMAT.search(form):
                    wrong.append(f"{locale}: {ids[0]!r} -> {form!r}")
    assert wrong == []


# (number of forms, the rule choosing one for n): CLDR's, as gettext writes them.
PLURALS = {
    "zh_CN": (1, "0"),
    "ja": (1, "0"),
    "es": (2, "(n != 1)"),
    "pt_BR": (2, "(n > 1)"),  # Brazilian Portuguese: 0 is singular, like 1
    "de": (2, "(n != 1)"),
    "fr": (2, "(n > 1)"),  # French: 0 and 1 are singular
}


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_catalog_has_its_languages_plural_forms(locale: str) -> None:
    catalog = _po(locale)
    count, rule = PLURALS[locale]
    assert (catalog.num_plurals, catalog.plural_expr) == (count, rule)
    assert get_plural(locale).num_plurals == count  # CLDR agrees
    for message in catalog:
        if message.pluralizable:
            assert len(_forms(message)) == count, message.id
    # The compiled catalog picks the form the rule says, for 0, 1, 2 and 21 images.
    [images] = [m for m in catalog if m.id == ("%(n)s image", "%(n)s images")]
    forms = _forms(images)
    if all(forms):
        compiled = i18n.translations(locale)
        for n in (0, 1, 2, 21):
            index = int(eval(rule, {"n": n}))  # noqa: S307 - the rule is one of PLURALS above
            assert compiled.ngettext("%(n)s image", "%(n)s images", n) == forms[index]


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_catalog_translates_every_message(locale: str) -> None:
    """No message missing, empty or fuzzy, and nothing the template no longer has."""
    wanted = {_key(m) for m in _pot() if m.id}
    catalog = _po(locale)
    have = {_key(m): m for m in catalog if m.id}
    missing = sorted(str(k) for k in wanted - set(have))
    stale = sorted(str(k) for k in set(have) - wanted)
    untranslated = sorted(str(k) for k, m in have.items() if k in wanted and (not all(_forms(m)) or m.fuzzy))
    assert (missing, stale, untranslated[:20], len(untranslated)) == ([], [], [], 0)


# What "charged" must not become: a word for money (billed, paid), where seedbot means the
# person's quota (bot/locales/README.md: one word for the quota everywhere).
BILLING_WORDS = {
    "de": "berechnet",
    "es": "cobr",
    "fr": "factur",
    "pt_BR": "cobra",
    "ja": "料金",
    "zh_CN": "扣费",
}


@pytest.mark.parametrize("locale", TRANSLATED)
def test_charged_is_said_of_the_quota_never_of_money(locale: str) -> None:
    word = BILLING_WORDS[locale]
    billed = [
        str(_key(m))[:60]
        for m in _po(locale)
        if m.id and "charged" in str(_key(m)) and any(word in form for form in _forms(m))
    ]
    assert billed == []


def test_every_locale_is_a_babel_locale() -> None:
    for code in i18n.LOCALES:
        assert Locale.parse(code)
