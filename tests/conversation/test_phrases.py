"""Whole messages that are no prompt, told apart from prompts that contain the same words."""

from __future__ import annotations

import pytest

from bot import i18n, messages
from bot.conversation.phrases import (
    CANCEL_WORD,
    EDIT_WORD,
    UNDO_WORDS,
    UPSCALE_WORDS,
    VARY_PICK,
    as_button_word,
    asks_about_rights,
    asks_for_a_surprise,
    asks_for_description,
    asks_for_help,
    asks_for_history,
    asks_for_status,
    asks_for_styles,
    asks_for_transparency,
    asks_for_usage,
    asks_for_variations,
    asks_for_video,
    asks_how_to_save,
    asks_why,
    button_word,
    is_a_miss,
    is_small_talk,
    ordinals_as_picks,
    speaks_of_an_image,
    without_chatter,
)
from bot.conversation.turns import Delete, Info, Reroll, Variations


@pytest.mark.parametrize(
    "text",
    [
        "thanks!",
        "Thank you so much 🙏",
        "thx",
        "nice",
        "Nice one!!",
        "love it 😍😍",
        "I LOVE IT",
        "lol",
        "hahaha",
        "👍",
        "👍🏽",
        "❤️",
        ":+1:",
        ":thumbsup::skin-tone-3:",
        ":tada: :tada:",
        "great :)",
        "thanks, seedbot!",
        "danke schön",
        "merci beaucoup !",
        "ありがとうございます！",
        "谢谢",
        "super!",
        "Genial 😍",
        "parfait",
        "me encanta",
        "すごい！",
        "太棒了",
        "!!!",
    ],
)
def test_thanks_praise_and_reactions_are_small_talk(text: str) -> None:
    assert is_small_talk(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "a thank-you card with roses",
        "thanks but make it blue",
        "nice, now add a hat",
        "love it #2 brighter",
        "🦊🌲❄️",  # an emoji prompt: a fox in a snowy forest
        "🔥",
        "#2",
        "cool cat in sunglasses",
        "great wave off kanagawa",
        "a super hero",
        "schöne Katze im Schnee",
    ],
)
def test_prompts_and_edits_are_not_small_talk(text: str) -> None:
    assert not is_small_talk(text)


@pytest.mark.parametrize(
    "text",
    [
        "usage",
        "Quota?",
        "credits",
        "my balance",
        "limits!",
        "limit",
        "my usage?",
        "Guthaben?",
        "créditos",
        "残り",
        "额度",
        "how many credits do I have?",
        "how many images can I make today?",
        "how many left?",
        "credits left?",
        "remaining images",
        "what's my limit?",
        "is there a limit?",
    ],
)
def test_the_words_for_usage(text: str) -> None:
    assert asks_for_usage(text) and not asks_for_history(text)


@pytest.mark.parametrize(
    "text",
    [
        "usage of color in art",
        "credits roll at the end",
        "balance a rock",
        "how many stars in the sky",
        "a sign: images left",
        "how many",
    ],
)
def test_usage_words_in_a_prompt_are_the_prompt(text: str) -> None:
    assert not asks_for_usage(text)


def test_history_and_help() -> None:
    assert asks_for_history("History") and asks_for_history("my history?")
    assert asks_for_history("Verlauf") and asks_for_history("historique") and asks_for_history("履歴")
    assert not asks_for_history("history of rome")
    assert asks_for_help("ヘルプ") and asks_for_help("what can you do?")
    assert not asks_for_help("help me find a cat")


@pytest.mark.parametrize(
    ("text", "pick"),
    [
        ("upscale", None),
        ("upscale #2", "2"),
        ("Upscale 2 to 4K", "2"),
        ("upscale #3 4k.", "3"),
        ("in 4k", None),
        ("4K", None),
        ("make it 4k please", None),
        ("higher resolution", None),
        ("enhance #2", "2"),
        ("U2", "2"),  # Midjourney's habit
        ("upscale all", None),  # a batch is asked which
        ("upscale both please", None),
        ("upscale it", None),
        ("in HD", None),
        ("better quality please", None),
        ("upscale #2 to hd", "2"),
    ],
)
def test_upscale_words(text: str, pick: str | None) -> None:
    words = UPSCALE_WORDS.fullmatch(text)
    assert words is not None and words["pick"] == pick


@pytest.mark.parametrize(
    "text",
    ["upscale #2 and make it blue", "4k wallpaper", "under 4k", "high", "u", "hd wallpaper of a cat", "hdr"],
)
def test_upscale_words_with_a_change_are_an_edit(text: str) -> None:
    assert UPSCALE_WORDS.fullmatch(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "styles",
        "Style",
        "styles list",
        "list styles",
        "list the styles?",
        "what styles are there?",
        "which styles can I use?",
        "show me the styles",
        "presets",
    ],
)
def test_the_words_for_the_styles(text: str) -> None:
    assert asks_for_styles(text)


@pytest.mark.parametrize("text", ["style me a cat", "styles of hats in 1920", "what style of hat is this"])
def test_style_words_in_a_prompt_are_the_prompt(text: str) -> None:
    assert not asks_for_styles(text)


@pytest.mark.parametrize(
    ("text", "cancels"),
    [
        ("cancel", True),
        ("Cancel it.", True),
        ("cancel all", True),
        ("stop!", True),
        ("abort", True),
        ("stop it please", True),
        ("cancel culture", False),
        ("a stop sign", False),
    ],
)
def test_cancel_words(text: str, cancels: bool) -> None:
    assert (CANCEL_WORD.fullmatch(text) is not None) is cancels


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("reroll", Reroll),
        ("Re-roll!", Reroll),
        ("again", Reroll),
        ("try again please", Reroll),
        ("one more", Reroll),
        ("another one?", Reroll),
        ("redo", Reroll),
        ("nochmal", Reroll),
        ("same again", Reroll),
        ("another version", Reroll),
        ("もう一度", Reroll),
        ("vary", Variations),
        ("more like this", Variations),
        ("delete this", Delete),
        ("Delete.", Delete),
        ("delete all", Delete),
        ("delete them", Delete),
        ("remove it", Delete),
        ("info", Info),
        ("what prompt did you use?", Info),
        ("prompt?", Info),
        ("what model is this?", Info),
        ("which model did you use?", Info),
        ("seed?", Info),
        ("what settings did you use?", Info),
        ("how was this made?", Info),
        ("new seed", Reroll),
        ("noch eins", Reroll),
        ("same", Reroll),
        ("encore une fois", Reroll),
        ("otra", Reroll),
        ("mais uma", Reroll),
        ("もう1枚", Reroll),
        ("something different", Reroll),
        ("cost?", Info),
        ("how much did this cost?", Info),
        ("different seed please", Reroll),
        ("same prompt again", Reroll),
        ("more", Reroll),
    ],
)
def test_a_buttons_name_or_what_people_say_for_it_is_that_button(text: str, action: type) -> None:
    button = button_word(text)
    assert button is not None and button.action is action
    assert button.word == text.rstrip("?!.").removesuffix(" please")


@pytest.mark.parametrize(
    "text",
    [
        "delete the sky",
        "again, but at night",
        "another cat",
        "more like a watercolor",
        "information",
        "more cats",
        "remove the sky",
        "delete the background",
        "what model should wear this dress",
        "seed pods in spring",
        "a new seed pod",
        "same prompt but with a dog",
    ],
)
def test_an_edit_that_starts_with_a_buttons_word_is_an_edit(text: str) -> None:
    assert button_word(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "status",
        "Queue?",
        "my jobs",
        "is it done yet?",
        "Are they ready",
        "still working?",
        "where's my image",
        "what's taking so long?",
        "is it stuck?",
        "how long will it take?",
        "ETA?",
    ],
)
def test_is_it_done_asks_for_the_status(text: str) -> None:
    assert asks_for_status(text)


@pytest.mark.parametrize(
    "text",
    ["a status bar icon", "a queue of people", "is it done in watercolor", "how long is a piece of string"],
)
def test_a_prompt_with_status_words_is_drawn(text: str) -> None:
    assert not asks_for_status(text)


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "Hello!",
        "hey seedbot",
        "Good morning",
        "Bonjour",
        "こんにちは",
        "which model are you?",
        "about",
        "how do I change the aspect ratio?",
        "can you draw?",
        "what can you make?",
        "what is this?",
        "test",
        "testing 123",
        "are you there?",
        "is this working?",
        "/help",
        "options",
    ],
)
def test_a_greeting_or_a_question_about_the_bot_is_the_help(text: str) -> None:
    assert asks_for_help(text)


@pytest.mark.parametrize(
    "text",
    [
        "hello kitty",
        "hi, a cat in a hat",
        "a fashion model",
        "about a boy",
        "can you draw a cat",
        "how do I look as a pirate",
        "a test tube",
        "examples of art deco",
    ],
)
def test_a_prompt_that_starts_with_a_greeting_is_drawn(text: str) -> None:
    assert not asks_for_help(text)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("2 more", 2),
        ("three more images", 3),
        ("another 4", 4),
        ("one more", 1),
        ("again", None),
        ("one more time", None),
        ("make 2 more", 2),
        ("give me three more", 3),
    ],
)
def test_how_many_more_is_re_rolls_count(text: str, count: int | None) -> None:
    button = button_word(text)
    assert button is not None and (button.action, button.count) == (Reroll, count)


@pytest.mark.parametrize(
    ("prompt", "asks"),
    [
        ("variations", True),
        ("vary", True),
        ("this", True),
        ("this image", True),
        ("this cat in space", False),
        ("make it blue", False),
    ],
)
def test_what_asks_for_variations_of_an_image_sent(prompt: str, asks: bool) -> None:
    assert asks_for_variations(prompt) is asks


@pytest.mark.parametrize("text", ["undo", "Undo that!", "go back", "revert", "previous version", "back"])
def test_undo_words(text: str) -> None:
    assert UNDO_WORDS.fullmatch(text)


@pytest.mark.parametrize(
    "text", ["undo the crop and make it blue", "back to the future poster", "a back alley"]
)
def test_a_change_that_says_undo_is_an_edit(text: str) -> None:
    assert not UNDO_WORDS.fullmatch(text)


@pytest.mark.parametrize(
    ("text", "count"),
    [("4 more like this", 4), ("two more like that", 2), ("3 variations", 3), ("variations", None)],
)
def test_how_many_like_this_is_variations_count(text: str, count: int | None) -> None:
    button = button_word(text)
    assert button is not None and (button.action, button.count) == (Variations, count)


@pytest.mark.parametrize(
    ("text", "pick"),
    [("V2", "2"), ("v 1", "1"), ("vary #3", "3"), ("variations of image 2", "2"), ("more like #2!", "2")],
)
def test_variations_of_one_image_by_its_number(text: str, pick: str) -> None:
    said = VARY_PICK.fullmatch(text)
    assert said is not None and said["pick"] == pick


@pytest.mark.parametrize("text", ["v", "vary", "v2 engine on a car", "variations of a theme"])
def test_words_that_name_no_image_are_not_variations_of_one(text: str) -> None:
    assert VARY_PICK.fullmatch(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "no",
        "Nope.",
        "wrong",
        "that's not what I asked for",
        "not what i wanted",
        "👎",
        ":thumbsdown:",
        "ugly!",
        "falsch",
    ],
)
def test_a_miss_said_alone(text: str) -> None:
    assert is_a_miss(text)


@pytest.mark.parametrize("text", ["no text", "bad hands fixed", "not a cat but a dog", "a wrong turn", "👍"])
def test_a_change_or_a_prompt_is_no_miss(text: str) -> None:
    assert not is_a_miss(text)


@pytest.mark.parametrize(
    "text",
    [
        "animate it",
        "Animate this please",
        "make it move",
        "make a video of a cat running",
        "turn this into a gif",
        "animate a cat running",
    ],
)
def test_a_video_asked_for(text: str) -> None:
    assert asks_for_video(text)


@pytest.mark.parametrize(
    "text",
    [
        "a video game hero",
        "a gif of a cat",
        "animated movie poster",
        "make a poster of a movie",
        "an animated cat",
    ],
)
def test_a_still_of_moving_things_is_a_prompt(text: str) -> None:
    assert not asks_for_video(text)


@pytest.mark.parametrize(
    "text", ["describe", "/describe", "describe this image", "what's in this picture?", "caption this"]
)
def test_a_description_asked_for(text: str) -> None:
    assert asks_for_description(text)


@pytest.mark.parametrize(
    "text", ["describe a cat in detail", "what is this cat doing", "a caption for a meme"]
)
def test_a_prompt_that_describes_is_a_prompt(text: str) -> None:
    assert not asks_for_description(text)


@pytest.mark.parametrize(
    ("text", "picked"),
    [
        ("upscale the second one", "upscale #2"),
        ("make the first one night", "make #1 night"),
        ("the 3rd image in 4k", "#3 in 4k"),
        ("the first snow of winter", "the first snow of winter"),  # no "one": words
        ("add a second one", "add a second one"),  # no "the": another of it
    ],
)
def test_the_second_one_is_image_2(text: str, picked: str) -> None:
    assert ordinals_as_picks(text) == picked


@pytest.mark.parametrize(
    ("text", "speaks"),
    [
        ("make it red", True),
        ("please turn this into a poster", True),
        ("a red fox", False),
        ("make a logo", False),
    ],
)
def test_words_about_an_image_that_is_there(text: str, speaks: bool) -> None:
    assert speaks_of_an_image(text) is speaks


@pytest.mark.parametrize(
    "text",
    ["save", "download it", "Download!", "send me the original", "full size", "link?", "original file"],
)
def test_the_words_for_keeping_an_image(text: str) -> None:
    assert asks_how_to_save(text)


@pytest.mark.parametrize("text", ["save the cat", "keep it red", "a file cabinet", "the original painting"])
def test_a_prompt_with_keeping_words_is_drawn(text: str) -> None:
    assert not asks_how_to_save(text)


@pytest.mark.parametrize(
    "text",
    [
        "transparent",
        "transparent background please",
        "make the background transparent",
        "as a transparent png",
        "png with transparency",
        "背景を透明にして",
    ],
)
def test_the_words_for_a_transparent_background(text: str) -> None:
    assert asks_for_transparency(text)


@pytest.mark.parametrize("text", ["make it transparent", "a transparent glass vase", "transparent jellyfish"])
def test_a_prompt_or_edit_with_transparent_in_it_is_drawn(text: str) -> None:
    """'make it transparent' may be a glass made see-through: an edit."""
    assert not asks_for_transparency(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("why is it blurry?", True),
        ("why?", True),
        ("what happened?", True),
        ("why does it have six fingers", True),
        ("hmm", True),
        ("why not add a hat", False),
        ("a why sign", False),
    ],
)
def test_why_replied_alone_is_a_question_about_what_went_wrong(text: str, why: bool) -> None:
    assert asks_why(text) is why


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("can I use this commercially?", True),
        ("license?", True),
        ("copyright?", True),
        ("who owns this?", True),
        ("is it free to use?", True),
        ("a license plate", False),
        ("copyright symbol on a book", False),
    ],
)
def test_questions_about_the_rights_to_an_image(text: str, asks: bool) -> None:
    assert asks_about_rights(text) is asks


BUTTONS = {
    "BUTTON_REROLL": "reroll",
    "BUTTON_VARIATIONS": "variations",
    "BUTTON_EDIT": "edit",
    "BUTTON_DELETE": "delete",
    "BUTTON_INFO": "info",
    "BUTTON_UPSCALE": "upscale",
    "BUTTON_CANCEL": "cancel",
}


def _read_as(text: str) -> str | None:
    """The button a reply of `text` is read as, after as_button_word (as conversation reads it)."""
    word = as_button_word(text)
    for name, pattern in (("cancel", CANCEL_WORD), ("upscale", UPSCALE_WORDS), ("edit", EDIT_WORD)):
        if pattern.fullmatch(word):
            return name
    button = button_word(word)
    return button.action.__name__.lower() if button else None


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_a_buttons_name_in_any_language_is_that_button(locale: str) -> None:
    """People type what the button shows them: 'Neu generieren', '再生成', 'Hochskalieren #2'."""
    with i18n.use(locale):
        names = {constant: str(getattr(messages, constant)) for constant in BUTTONS}
    for constant, action in BUTTONS.items():
        assert _read_as(names[constant]) == action, (locale, names[constant])
        assert _read_as(f"{names[constant].upper()}!") == action, (locale, names[constant])
    upscale = UPSCALE_WORDS.fullmatch(as_button_word(f"{names['BUTTON_UPSCALE']} #2"))
    assert upscale is not None and upscale["pick"] == "2"


@pytest.mark.parametrize("text", ["a red fox", "again", "Neu generieren mit Hut", "upscale #2"])
def test_other_words_stay_as_they_are(text: str) -> None:
    assert as_button_word(text) == text


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("edit", True),
        ("Edit it please", True),
        ("fix it", True),
        ("edit the sky", False),
        ("change the hat to red", False),
    ],
)
def test_edit_alone_says_no_change(text: str, asks: bool) -> None:
    assert (EDIT_WORD.fullmatch(text) is not None) is asks


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("surprise me", True),
        ("Surprise me!", True),
        ("draw something", True),
        ("draw me anything cool", True),
        ("random", True),
        ("you choose", True),
        ("überrasch mich", True),
        ("おまかせ", True),
        ("a surprise party", False),
        ("draw anything you see in a forest", False),
        ("random shapes in blue", False),
    ],
)
def test_the_words_that_leave_the_picture_to_seedbot(text: str, asks: bool) -> None:
    assert asks_for_a_surprise(text) is asks


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("ok but darker", "darker"),
        ("nice, now add a hat", "add a hat"),
        ("thanks! now make it night", "make it night"),
        ("same but at night", "at night"),
        ("cool cat in sunglasses", "cool cat in sunglasses"),
        ("great wave off kanagawa", "great wave off kanagawa"),
        ("nice but", "nice but"),
        ("ok,but darker", "darker"),
        # Talk is only at the start, and only whole words: these are all change. The talk was
        # searched for anywhere ("the same but" mid-sentence, "ty" inside "city" and "pretty").
        ("keep the face the same but change the hair", "keep the face the same but change the hair"),
        ("give him a city then a forest", "give him a city then a forest"),
        ("make her pretty but sad", "make her pretty but sad"),
        ("make it cool but not too dark", "make it cool but not too dark"),
        ("okay so", "okay so"),
    ],
)
def test_the_talk_before_a_replys_change_is_not_sent(text: str, change: str) -> None:
    assert without_chatter(text) == change


HOSTILE = [
    "ok" + " " * 40_000 + "but darker",
    " " * 40_000 + "x",
    "`" + " " * 40_000 + "#`",
    "a cat" + ", " * 20_000,
    "、" * 40_000,
    "Info" + " " * 40_000 + "#2",
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_a_long_hostile_reply_is_read_in_one_pass(text: str) -> None:
    """Slack takes 40,000 characters. Overlapping patterns over a long run of spaces or commas
    blocked the event loop for minutes (an 807-character button name: 16 s; 5,000 spaces of
    talk: 6 s); read once, each of these is a moment. (A time-out, not a speed target.)"""
    assert without_chatter(text) == text or text.startswith("ok")
    assert as_button_word(text) == text
