"""bot/messages.py, every sentence a user reads: each function has a sample (its branches too),
and every constant and sample renders in every language, placeholders filled and translated;
what people type (prompts, flags, file names) is never translated; a refusal says once that
nothing was charged. The catalogs themselves: tests/test_i18n.py."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot import i18n, messages
from bot.conversation.surface import RESULT_ACTIONS
from bot.engine.pipeline import FAILURE_KINDS
from bot.request.workspace import SETTING_KEYS

POT = Path(__file__).resolve().parent.parent / "bot" / "locales" / "seedbot.pot"
TRANSLATED = [code for code in i18n.LOCALES if code != i18n.ENGLISH]


# -- every message, in every language ------------------------------------------------------------

WHEN = datetime(2026, 5, 4, 0, 0, tzinfo=UTC)

# Each public function of bot/messages.py with sample arguments (its branches too).
SAMPLES: list[tuple[str, Callable[[], object]]] = [
    ("image_count", lambda: [messages.image_count(n) for n in (0, 1, 2, 5, 21)]),
    ("extra_images", lambda: messages.extra_images(2)),
    ("result_name", lambda: messages.result_name(2, "0123456789ab")),
    (
        "shown_prompt",
        lambda: [messages.shown_prompt(p) for p in (messages.UPSCALE_PROMPT, messages.VARIATIONS_PROMPT)],
    ),
    ("jobs", lambda: messages.jobs(3)),
    ("streaming", lambda: messages.streaming(2, 4)),
    ("more_lines", lambda: [messages.more_lines(1), messages.more_lines(7)]),
    ("restarted_partial", lambda: [messages.restarted_partial(2, 4), messages.restarted_partial(1, 1)]),
    (
        "quota_exceeded",
        lambda: [
            messages.quota_exceeded("daily", 20, 20, WHEN),
            messages.quota_exceeded("monthly", 300, 299, WHEN, 4),
            messages.quota_exceeded("pool", 50, 49, WHEN),
            messages.quota_exceeded("pool", 50, 50, WHEN, 2),
            messages.quota_exceeded("pool", 50, 40, WHEN, 16, images=8),
            messages.quota_exceeded("daily", 20, 19, WHEN, 4, images=2),
        ],
    ),
    ("no_provider", lambda: messages.no_provider(messages.cannot_count(4))),
    (
        "provider_failed",
        lambda: [
            messages.provider_failed(k)
            for k in (
                "auth",
                "no_credits",
                "rate_limited",
                "moderation",
                "bad_request",
                "unavailable",
                "timeout",
                "?",
            )
        ],
    ),
    ("cannot_model", lambda: messages.cannot_model("Seedream 4.5")),
    ("cannot_count", lambda: messages.cannot_count(4)),
    ("cannot_references", lambda: messages.cannot_references(10)),
    ("cannot_aspect", lambda: messages.cannot_aspect("21:9")),
    ("cannot_format", lambda: messages.cannot_format("png")),
    ("cannot_prompt", lambda: messages.cannot_prompt(1000)),
    ("provider_not_set_up", lambda: messages.provider_not_set_up("fal", messages.CANNOT_NONE_CONFIGURED)),
    ("unknown_provider", lambda: messages.unknown_provider("nope", ["fal", "ark"])),
    ("prompt_too_long", lambda: messages.prompt_too_long(2500, 2000)),
    ("unknown_model", lambda: messages.unknown_model("5.1", ["5.0-lite", "4.5"])),
    ("bad_count", lambda: messages.bad_count(20, 15)),
    ("too_many_references", lambda: messages.too_many_references(16, 14)),
    ("references_plus_outputs", lambda: messages.references_plus_outputs(10, 8, 15)),
    ("bad_resolution", lambda: messages.bad_resolution("8K", "Seedream 4.5", ["2K", "4K"])),
    ("bad_aspect", lambda: messages.bad_aspect("40:1")),
    (
        "another_model_can",
        lambda: messages.another_model_can(messages.bad_aspect("40:1"), "Seedream 4.5", "4.5"),
    ),
    (
        "size_out_of_range",
        lambda: [
            messages.size_out_of_range(100, 100, "Seedream 4.5", 3_686_400, 16_777_216),
            messages.size_out_of_range(
                960, 540, "Seedream 4.5", 3_686_400, 16_777_216, ("16:9", "2560x1440")
            ),
        ],
    ),
    ("bad_output_format", lambda: messages.bad_output_format("gif", "Seedream 4.5", ["jpeg", "png"])),
    ("bad_optimize", lambda: messages.bad_optimize("turbo", "Seedream 4.5", ["standard", "fast"])),
    ("not_an_image", lambda: messages.not_an_image("notes.txt")),
    ("image_too_large", lambda: messages.image_too_large("huge.png", 12_500_000, 10_000_000)),
    ("image_too_many_pixels", lambda: messages.image_too_many_pixels("big.png", 9000, 100, 6000)),
    ("image_bad_ratio", lambda: messages.image_bad_ratio("thin.png", 1700, 100)),
    ("image_too_small", lambda: messages.image_too_small("dot.png", 8, 8, 15)),
    ("no_watermark", lambda: messages.no_watermark("fal")),
    ("image_unreadable", lambda: messages.image_unreadable("broken.png")),
    ("download_failed", lambda: messages.download_failed("https://x.test/a.png", messages.REASON_SLOW)),
    ("server_answered", lambda: messages.server_answered(404)),
    (
        "unknown_flag",
        lambda: [
            messages.unknown_flag("--zoom", ["--ar W:H", "--n 1-15"]),
            messages.unknown_flag("--rez", ["--ar W:H", "--n 1-15"], ["--res"]),
        ],
    ),
    (
        "working",
        lambda: [messages.working([messages.working_line("a fox", "running", 12.0)]), messages.working([])],
    ),
    ("working_line", lambda: messages.working_line("a fox", "queued", 3.0)),
    (
        "other_models_settings",
        lambda: [
            messages.other_models_settings(["--v", "--no"], "a fox, without text --ar 16:9", negative=True),
            messages.other_models_settings(["--style raw"], ""),
        ],
    ),
    ("bad_flag_value", lambda: messages.bad_flag_value("--ar", "wide", messages.HINT_ASPECT)),
    ("flag_needs_value", lambda: messages.flag_needs_value("--ar", "--ar 16:9")),
    ("hint_number", lambda: messages.hint_number(1, 15)),
    ("no_such_image", lambda: [messages.no_such_image(5, 4), messages.no_such_image(2, 1)]),
    ("pick_needs_words", lambda: messages.pick_needs_words(2)),
    ("nothing_saved", lambda: messages.nothing_saved(messages.CAST_ONE_IMAGE)),
    ("file_not_visible", lambda: messages.file_not_visible("F0123ABCD")),
    ("made_from_still_there", lambda: messages.made_from_still_there("job 1a2b3c4d5e6f")),
    ("upscale_upload_note", lambda: messages.upscale_upload_note("photo.png")),
    ("hint_tiers", lambda: messages.hint_tiers(["2K", "4K"])),
    ("hint_one_of", lambda: messages.hint_one_of(["all", "owner"])),
    ("hint_batch", lambda: messages.hint_batch(15)),
    (
        "usage_summary",
        lambda: [
            messages.usage_summary(
                unlimited=True,
                day_used=3,
                day_limit=None,
                month_used=9,
                month_limit=None,
                day_resets=WHEN,
                month_resets=WHEN,
            ),
            messages.usage_summary(
                unlimited=False,
                day_used=3,
                day_limit=20,
                month_used=9,
                month_limit=300,
                day_resets=WHEN,
                month_resets=WHEN,
                granted=2,
            ),
            messages.usage_summary(
                unlimited=False,
                day_used=3,
                day_limit=None,
                month_used=9,
                month_limit=300,
                day_resets=WHEN,
                month_resets=WHEN,
            ),
        ],
    ),
    ("queued", lambda: messages.queued(3)),
    ("running", lambda: [messages.running(12.4, None), messages.running(12.4, 40.0)]),
    ("partial_delivery", lambda: [messages.partial_delivery(1, 4), messages.partial_delivery(3, 4, 2)]),
    ("not_posted", lambda: [messages.not_posted(1, 4), messages.not_posted(3, 4, 2)]),
    ("left_today", lambda: messages.left_today(5)),
    ("failure_kind", lambda: [messages.failure_kind(kind) for kind in FAILURE_KINDS]),
    ("image_label", lambda: messages.image_label(2)),
    ("references_legend", lambda: messages.references_legend(["cat.png", "hat.png"])),
    (
        "result_caption",
        lambda: messages.result_caption(
            prompt="a red fox",
            model_name="Seedream 4.5",
            size="2048x2048",
            provider="demo",
            elapsed=12.3,
            left=17,
            delivered=3,
            requested=4,
            demo=True,
            refitted=True,
            legend="image 1 = cat.png",
            weight=2,
        ),
    ),
    ("home_result_line", lambda: messages.home_result_line("2026-05-04 10:00", "a red fox", 2)),
    (
        "with_charge_note",
        lambda: [messages.with_charge_note(messages.bad_aspect("x")), messages.with_charge_note("x", True)],
    ),
    ("asked_for", lambda: messages.asked_for("<@U1>", "a red fox")),
    ("workflow_asked_for", lambda: messages.workflow_asked_for("<@U1>", "a red fox")),
    ("only_operators_give", lambda: messages.only_operators_give(20, 300)),
    ("help_text", lambda: messages.help_text("/imagine", ["--ar W:H", "--n 1-15"])),
    ("file_not_hosted", lambda: messages.file_not_hosted("a.png")),
    ("file_access_denied", lambda: messages.file_access_denied("a.png")),
    ("option_more_image", lambda: messages.option_more_image(2)),
    ("seconds", lambda: messages.seconds(12.34)),
    (
        "result_notes",
        lambda: messages.result_notes(
            delivered=2, requested=3, refitted=True, demo=True, legend="x", weight=2
        ),
    ),
    ("answer_window_closed", lambda: messages.answer_window_closed(15)),
    ("images_range", lambda: messages.images_range(11, 15, 15)),
    ("results_in_thread", lambda: messages.results_in_thread(4)),
    ("mention_help", lambda: messages.mention_help("@seedbot", ["--ar W:H"])),
    (
        "job_status",
        lambda: [messages.job_status(s) for s in ("queued", "running", "succeeded", "failed", "cancelled")],
    ),
    (
        "job_kind",
        lambda: [messages.job_kind(k) for k in ("imagine", "edit", "reroll", "variations", "upscale")],
    ),
    ("charged_line", lambda: messages.charged_line(4)),
    ("batch_too_large", lambda: messages.batch_too_large(8, 4)),
    ("weights_note", lambda: messages.weights_note({"2K": 1, "4K": 2})),
    ("pool_left", lambda: messages.pool_left(10, 50, WHEN)),
    (
        "history_line",
        lambda: messages.history_line(
            1,
            when="05-04 10:00",
            prompt="a fox",
            model="Seedream 4.5",
            size="2K",
            status="succeeded",
            images=2,
            link=None,
        ),
    ),
    (
        "audit_trail",
        lambda: [
            messages.audit_trail([], None),
            messages.audit_trail([], "discord:1"),
            messages.audit_trail([("2026-05-04T10:00:00", "a", "quota.set", "b", "daily=5")], None),
            messages.audit_trail([("2026-05-04T10:00:00", "a", "quota.set", "b", "")], "b"),
        ],
    ),
    ("history", lambda: [messages.history([]), messages.history(["1. x"])]),
    (
        "lineage",
        lambda: messages.lineage(
            job_id="abc",
            kind="edit",
            prompt="a fox",
            references=[messages.reference_upload(1, "a.png")],
            parent=None,
            model="Seedream 4.5",
            provider=None,
            size="2K",
            took=3.2,
            charged=1,
            status="succeeded",
            style="anime",
        ),
    ),
    ("reference_upload", lambda: [messages.reference_upload(1, "a.png"), messages.reference_upload(1, "")]),
    ("reference_result", lambda: messages.reference_result(2, "abc")),
    ("references_expired", lambda: messages.references_expired(3)),
    ("quota_changed", lambda: messages.quota_changed("discord:1", messages.USAGE_RESET)),
    ("limits_set", lambda: messages.limits_set("daily=5 monthly=50")),
    ("granted_today", lambda: messages.granted_today(5)),
    (
        "quota_show",
        lambda: [messages.quota_show("discord:1", True, "x"), messages.quota_show("discord:1", False, "x")],
    ),
    ("settings_show", lambda: messages.settings_show("discord:1", [("model", "4.5")])),
    ("setting_changed", lambda: messages.setting_changed("discord:1", "model", "4.5")),
    ("bad_setting", lambda: messages.bad_setting("colour", ["model", "pool"])),
    ("bad_setting_value", lambda: messages.bad_setting_value("pool", "lots", messages.HINT_WHOLE_OR_NONE)),
    ("limit_hint", lambda: messages.limit_hint(0, 1_000_000)),
    ("style_words_too_long", lambda: messages.style_words_too_long(1200, 1000)),
    (
        "stats",
        lambda: [
            messages.stats(
                "discord:1",
                [(messages.PERIOD_TODAY, 2, 5)],
                [("a", 1, 2)],
                [("demo", 1, 2)],
                [("timeout", 1)],
            ),
            messages.stats("x", [], [], [], []),
        ],
    ),
    ("admin_help", lambda: messages.admin_help("admin", list(SETTING_KEYS))),
    ("playground_help", lambda: messages.playground_help(["--ar W:H"])),
    ("upscale_button", lambda: messages.upscale_button(2)),
    ("action_label", lambda: [messages.action_label(a) for a in (*RESULT_ACTIONS, "cancel")]),
    (
        "option_chips",
        lambda: messages.option_chips(
            aspect="3:2",
            resolution="4K",
            count=2,
            model="4.5",
            output_format="png",
            watermark=False,
            style="anime",
            refs=["mia", "hat"],
        ),
    ),
    # The script fills %(n)s in itself.
    (
        "web_labels",
        lambda: [
            v.replace("%(n)s", "2").replace("%(title)s", "a fox")
            for v in messages.web_labels().values()
            if isinstance(v, str)
        ],
    ),
    ("web_body_too_large", lambda: messages.web_body_too_large(140_000_000, 10_000_000, 14)),
    ("upscale_note", lambda: messages.upscale_note(2, "abc")),
    ("upscale_which", lambda: messages.upscale_which(4)),
    ("button_how", lambda: messages.button_how(messages.action_label("reroll"), "reroll")),
    ("upscale_of", lambda: messages.upscale_of(2, "abc")),
    ("cancelled", lambda: [messages.cancelled(True), messages.cancelled(False), messages.cancelled(True, 3)]),
    ("cancel_done", lambda: [messages.cancel_done("abc"), messages.cancel_done("abc", 1)]),
    ("shown_charged", lambda: [messages.shown_charged(1), messages.shown_charged(14)]),
    ("delivery_cut_short", lambda: [messages.delivery_cut_short(1), messages.delivery_cut_short(10)]),
    ("name_hint", lambda: [messages.name_hint("style", "a b"), messages.name_hint("cast", "a b")]),
    (
        "unknown_style",
        lambda: [
            messages.unknown_style("anim", ["anime"], ["anime"]),
            messages.unknown_style("x", [], ["anime", "film"]),
        ],
    ),
    (
        "unknown_cast",
        lambda: [
            messages.unknown_cast("mai", ["mia"]),
            messages.unknown_cast("mai", [], shared=False, listing="seedbot cast cli:local"),
        ],
    ),
    ("styles_list", lambda: messages.styles_list(["• x"])),
    (
        "style_line",
        lambda: [
            messages.style_line("anime", "anime style", "--ar 2:3", "built-in"),
            messages.style_line("mine", "soft", "", "own"),
        ],
    ),
    ("style_hidden_line", lambda: messages.style_hidden_line("anime")),
    (
        "style_changed",
        lambda: [
            messages.style_changed("discord:1", "x", w)
            for w in ("added", "changed", "removed", "removed-builtin", "hidden")
        ],
    ),
    ("style_not_found", lambda: messages.style_not_found("x")),
    ("style_exists", lambda: messages.style_exists("x")),
    ("style_hide_own", lambda: messages.style_hide_own("x")),
    ("style_help", lambda: messages.style_help("admin")),
    (
        "cast_saved",
        lambda: [
            messages.cast_saved("mia", True, 3, 30),
            messages.cast_saved("mia", False, 3, 30, replaced=True),
        ],
    ),
    ("cast_removed", lambda: [messages.cast_removed("mia", True), messages.cast_removed("mia", False)]),
    ("cast_missing", lambda: [messages.cast_missing("mia", True), messages.cast_missing("mia", False)]),
    ("cast_full", lambda: [messages.cast_full(30, True), messages.cast_full(30, False)]),
    ("own_cast_title", lambda: messages.own_cast_title(3, 30)),
    ("cast_list", lambda: messages.cast_list(messages.shared_cast_title(), ["• x"])),
    ("shared_cast_title", messages.shared_cast_title),
    ("shared_cast_empty", messages.shared_cast_empty),
    ("not_a_member", messages.not_a_member),
    ("operator_limits_stand", messages.operator_limits_stand),
    ("setting_state", lambda: [messages.setting_state(s) for s in ("default", "no limit", "everywhere")]),
    ("cast_line", lambda: messages.cast_line("mia", 512, 512, "mia.png")),
    ("reference_cast", lambda: messages.reference_cast(1, "mia")),
    ("cast_label", lambda: messages.cast_label("mia")),
    ("cast_help", messages.cast_help),
    ("lineage_style", lambda: messages.lineage_style("anime")),
]
# Not translated: the operator's words (the shell) and what holds no words.
UNTRANSLATED = {
    "playground_ready",
    "web_needs_token",
    "web_token_too_short",
    "web_cannot_listen",
    "cannot_listen",
    "progress_bar",
    "thread_name",
}


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    raise AssertionError(f"a message is text, not {value!r}")


def _rendered(locale: str) -> dict[str, list[str]]:
    with i18n.use(locale):
        out = {f"messages.{name}": _texts(getattr(messages, name)) for name in messages.CONSTANTS}
        out["messages.SUGGESTED_PROMPTS"] = [title for title, _ in messages.SUGGESTED_PROMPTS]
        # Sentences naming the server or workspace have a msgid for each word (i18n.use_place).
        for place in i18n.PLACES:
            with i18n.use_place(place):
                out.update({f"{name} ({place})": _texts(render()) for name, render in SAMPLES})
    return out


def test_every_message_has_a_sample() -> None:
    public = {
        name
        for name, value in vars(messages).items()
        if inspect.isfunction(value) and value.__module__ == messages.__name__ and not name.startswith("_")
    }
    assert public - UNTRANSLATED == {name for name, _ in SAMPLES}


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_message_renders_in_every_language(locale: str) -> None:
    """Each constant and each function (with its sample arguments) in `locale`: text, every
    placeholder filled, and translated: a sentence longer than a short label differs from its
    English (labels such as "Info" or "Format" may be the same word)."""
    english = _rendered(i18n.ENGLISH)
    here = _rendered(locale)
    untranslated = []
    for name, texts in here.items():
        for text, source in zip(texts, english[name], strict=True):
            assert text.strip(), (locale, name)
            assert "%(" not in text, (locale, name, text)
            if locale != i18n.ENGLISH and text == source and len(source) > 12:
                untranslated.append(f"{name}: {source[:60]!r}")
    assert untranslated == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_prompts_and_what_users_type_are_never_translated(locale: str) -> None:
    with i18n.use(locale):
        prompts = [prompt for _, prompt in messages.SUGGESTED_PROMPTS]
        caption = messages.result_caption(
            prompt="一只红狐狸 in snow",
            model_name="Seedream 4.5",
            size="2K",
            provider="demo",
            elapsed=1.0,
            left=None,
            delivered=1,
            requested=1,
        )
        legend = messages.references_legend(["fox.png"])
        flags = messages.help_text("/imagine", ["--ar W:H"])
    with i18n.use("en"):
        assert prompts == [prompt for _, prompt in messages.SUGGESTED_PROMPTS]
    assert caption.startswith("一只红狐狸 in snow\n")
    assert "fox.png" in legend
    assert "/imagine a red fox in snow --ar 3:2 --n 2" in flags and "--ar W:H" in flags
    # The upscale's instructions to the model are not a sentence for users: never in a catalog.
    assert messages.UPSCALE_PROMPT not in {m.id for m in read_po(POT.open("rb"))}


def test_a_refusal_says_once_that_nothing_was_charged() -> None:
    for locale in i18n.LOCALES:
        with i18n.use(locale):
            note = messages.NOT_CHARGED
            for text in (
                messages.with_charge_note(messages.bad_aspect("x")),
                messages.with_charge_note(messages.BLOCKED),
                messages.with_charge_note(messages.RESTARTED_REFUNDED),
                messages.with_charge_note(messages.quota_exceeded("daily", 5, 5, WHEN)),
            ):
                assert text.count(note) == 1, (locale, text)
            charged = messages.with_charge_note(messages.bad_aspect("x"), charged=True)
            assert note not in charged


def test_every_failure_kind_stats_counts_is_said_in_words() -> None:
    """`stats` listed the ledger's codes (`no_credits: 2`) under a translated heading."""
    for locale in i18n.LOCALES:
        with i18n.use(locale):
            named = {kind: messages.failure_kind(kind) for kind in FAILURE_KINDS}
        said = set(named.values())
        assert len(said) == len(named) and not [name for name in said if "_" in name], (locale, named)
        if locale != i18n.ENGLISH:
            assert not said & set(FAILURE_KINDS), (locale, named)


def test_a_restart_notice_counts_what_came_and_what_did_not_each_in_its_own_form() -> None:
    """The plural was chosen by the images that came: 3 of 4 said "the other 1 were"."""
    said = messages.restarted_partial(3, 4)
    assert "3 of 4 reached you and were charged." in said
    assert "You were not charged for the other 1." in said
    with i18n.use("fr"):
        assert "La 1 restante n'a pas été décomptée" in messages.restarted_partial(3, 4)
        assert "Les 2 autres n'ont pas été décomptées" in messages.restarted_partial(2, 4)
    # All of it was up (the restart came before the job closed): nothing is said missing.
    assert (
        messages.restarted_partial(2, 2)
        == "seedbot restarted while posting 2 images: all of them reached you and were charged."
    )


def test_figures_and_settings_are_written_with_the_locales_colon_and_separator() -> None:
    """`stats` and `settings` joined their figures with ASCII ": " and ", " in every language."""

    def stats() -> str:
        return messages.stats(
            "discord:1", [("Today", 1, 2)], [("ann", 3, 4)], [("ark", 5, 6)], [("timeout", 2)]
        )

    assert "Today: 1 job, 2 images" in stats()
    with i18n.use("ja"):
        said, timeout = stats(), messages.failure_kind("timeout")
        shown = messages.settings_show("discord:1", [("model", "4.5")])
    assert ": " not in said.replace("discord:1", "") and "、" in said, said
    assert f"{timeout}：2" in said and "model：4.5" in shown
    with i18n.use("fr"):
        assert "model\u00a0: 4.5" in messages.settings_show("discord:1", [("model", "4.5")])


def test_info_on_an_upscale_or_variations_says_what_it_is_in_the_readers_words() -> None:
    """Info showed seedbot's English instruction to the model as an upscale's prompt."""

    def info(prompt: str) -> str:
        return messages.lineage(
            job_id="j2", kind="upscale", prompt=prompt, references=[], parent="j1", model="Seedream 4.5",
            provider="novita", size="4096x4096", took=3.0, charged=1, status="succeeded",
        )  # fmt: skip

    with i18n.use("de"):
        upscaled, varied = info(messages.UPSCALE_PROMPT), info(messages.VARIATIONS_PROMPT)
        shown = (
            messages.shown_prompt(messages.UPSCALE_PROMPT),
            messages.shown_prompt(messages.VARIATIONS_PROMPT),
        )
    assert shown[0] in upscaled and messages.UPSCALE_PROMPT not in upscaled
    assert shown[1] in varied and messages.VARIATIONS_PROMPT not in varied
    assert "Prompt: a fox at dawn" in info("a fox at dawn")
    # No number: "image 1" beside "an upscale of ... image #3" read as the wrong image.
    assert not any(c.isdigit() for c in messages.shown_prompt(messages.UPSCALE_PROMPT).replace("4K", ""))


def test_long_admin_lists_fit_one_message() -> None:
    """`stats` of a server of hundreds (9,891 characters for 200 people: Discord shows 4,000, the
    failures were cut off), a style list of long words, a cast of long file names."""
    people = [(f"discord:{n:018d}", 3, 9) for n in range(200)]
    said = messages.stats("discord:1", [("Today", 1, 2)], people, [("ark", 600, 1800)], [("timeout", 2)])
    assert len(said) < 2500 and messages.failure_kind("timeout") in said
    assert said.endswith(f"  and {200 - messages.STATS_USERS} more people")
    assert said.index("This month by provider:") < said.index("This month by user:")
    line = messages.style_line("long", "w" * 1000, "", "own")
    assert len(line) < messages.STYLE_WORDS_SHOWN + 60 and "…" in line
    assert len(messages.cast_line("mia", 64, 64, "x" * 500)) < 100


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_a_long_listing_keeps_whole_lines_and_counts_the_rest(locale: str) -> None:
    """Forty styles were cut at Discord's 4,000 characters mid-line, a code span left open and
    the hidden built-ins dropped without a word."""
    with i18n.use(locale):
        lines = [messages.style_line(f"style{n}", "w" * 300, "--ar 16:9", "own") for n in range(40)]
        shown = messages.styles_list(lines)
        kept = [line for line in lines if line in shown]
        assert len(shown) <= messages.LIST_BUDGET + 200 and 0 < len(kept) < 40
        assert shown.endswith(messages.more_lines(40 - len(kept)))
        assert shown.count("`") % 2 == 0


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_info_on_a_job_of_fourteen_long_named_uploads_keeps_what_it_charged(locale: str) -> None:
    """Shown whole, fourteen file names of 130 characters pushed the last line (what the job
    charged) past Discord's 4,000 in Spanish and Portuguese."""
    job = {"job_id": "j1", "kind": "edit", "parent": "j0", "model": "4.5", "provider": "fal"}
    job |= {"size": "4096x4096", "took": 123.4, "charged": 30, "status": "succeeded"}
    with i18n.use(locale):
        uploads = [messages.reference_upload(n, "x" * 130 + ".png") for n in range(1, 15)]
        said = messages.lineage(prompt="p" * 2000, references=uploads, **job)  # type: ignore[arg-type]
        last = messages.lineage(prompt="", references=[], **job).splitlines()[-1]  # type: ignore[arg-type]
        assert len(said) <= 3900 and said.endswith(last)
