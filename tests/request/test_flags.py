"""The free-text flag parser every surface shares, and what a form may say before it is sent."""

from __future__ import annotations

import pytest

from bot import messages
from bot.errors import FlagError, InvalidRequest
from bot.request.flags import ParsedText, cast_names, flag_help, form_problem, parse_text
from bot.request.models import GenerationRequest, ImageInput
from bot.request.validation import PROMPT_MAX_CHARS, validate


def test_the_documented_example() -> None:
    parsed = parse_text("a red fox in snow --ar 3:2 --res 3K --n 4 --model 4.5 #2")
    assert parsed == ParsedText(
        prompt="a red fox in snow", aspect="3:2", resolution="3K", count=4, model="4.5", picks=(2,)
    )


def test_plain_prompt_has_no_flags() -> None:
    assert parse_text("  a red fox in snow  ") == ParsedText(prompt="a red fox in snow")


@pytest.mark.parametrize(
    ("text", "prompt", "picks"),
    [
        ("#2 a fox", "a fox", (2,)),
        ("a fox #3", "a fox", (3,)),
        ("a fox #3.", "a fox", (3,)),
        ("a fox #3 --n 2", "a fox", (3,)),
        ("a fox#2", "a fox#2", ()),
        # Several images: those standing together at an end only say which ones.
        ("#1 #3 make them night", "make them night", (1, 3)),
        ("#1,#3 night", "night", (1, 3)),
        ("make them night #3 #1", "make them night", (3, 1)),
        # Inside the sentence a pick is a reference's name: the picked come first, in order.
        ("make #2 brighter", "make image 1 brighter", (2,)),
        ("combine #1 and #3", "combine image 1 and image 2", (1, 3)),
        ("#1 and #3 side by side", "image 1 and image 2 side by side", (1, 3)),
        ("put the hat from #3 on #1", "put the hat from image 1 on image 2", (3, 1)),
        ("#2 beside #2", "image 1 beside image 1", (2,)),
        # Picks alone, however joined, say no change (it was an edit of "image 1 and image 2").
        ("#2 and #3", "", (2, 3)),
        ("#1 & #3!", "", (1, 3)),
    ],
)
def test_pick(text: str, prompt: str, picks: tuple[int, ...]) -> None:
    parsed = parse_text(text)
    assert (parsed.prompt, parsed.picks) == (prompt, picks)
    # Where there is nothing to pick from (a new request), "#N" is words of the prompt.
    assert parse_text(text, picks=False).picks == ()
    assert parse_text(text, picks=False).prompt == text.split(" --")[0]


def test_trailing_ratio_after_a_comma_is_the_aspect() -> None:
    assert parse_text("a red fox, 3:2") == ParsedText(prompt="a red fox", aspect="3:2")
    assert parse_text("a red fox ,16 : 9 ").aspect == "16:9"
    assert parse_text("a red fox, 3:2 --n 2") == ParsedText(prompt="a red fox", aspect="3:2", count=2)


def test_ratio_without_a_comma_stays_in_the_prompt() -> None:
    assert parse_text("a clock showing 3:2") == ParsedText(prompt="a clock showing 3:2")


@pytest.mark.parametrize(
    ("typed", "prompt", "aspect"),
    [
        ("a cat (aspect ratio 16:9)", "a cat", "16:9"),
        ("a cat [16:9]", "a cat", "16:9"),
        ("a cat 16:9 format", "a cat", "16:9"),
        ("a cat, portrait orientation", "a cat", "3:4"),
        ("a cat in landscape format", "a cat", "4:3"),
        ("a cat 1920x1080", "a cat", "16:9"),  # a size typed last: its shape
        ("a cat, 1080x1920 px", "a cat", "9:16"),
        ("a cat --portrait", "a cat", "3:4"),  # a shape's name as a flag
        ("a cat --tiktok", "a cat", "9:16"),
        ("ein Fuchs im Schnee im Hochformat", "ein Fuchs im Schnee", "3:4"),  # names only of a shape
        ("ein Fuchs, Querformat", "ein Fuchs", "4:3"),
        ("雪の中の狐、縦長で", "雪の中の狐", "3:4"),
        ("雪中的狐狸竖版", "雪中的狐狸", "3:4"),
        ("un renard, paysage", "un renard, paysage", None),  # a landscape may be the subject
        ("das Hochformat-Foto", "das Hochformat-Foto", None),
        ("a mountain lake, phone wallpaper", "a mountain lake", "9:16"),  # where it goes: its shape
        ("a mountain lake as a desktop wallpaper", "a mountain lake", "16:9"),
        ("a cat for my instagram story", "a cat", "9:16"),
        ("a logo for youtube", "a logo for youtube", None),
        ("a desk with a phone wallpaper", "a desk with a phone wallpaper", None),
        ("a portrait of a cat", "a portrait of a cat", None),
        ("a portrait format camera", "a portrait format camera", None),
        ("a 1920x1080 monitor", "a 1920x1080 monitor", None),
        ("a cat --ar 3:2 1920x1080", "a cat 1920x1080", "3:2"),  # the flag says the shape
    ],
)
def test_a_shape_said_at_the_prompts_end_or_as_a_flag(typed: str, prompt: str, aspect: str | None) -> None:
    parsed = parse_text(typed, picks=False)
    assert (parsed.prompt, parsed.aspect) == (prompt, aspect)


def test_an_explicit_ar_wins_over_a_trailing_ratio() -> None:
    parsed = parse_text("a fox, 3:2 --ar 16:9")
    assert parsed.aspect == "16:9"
    assert parsed.prompt == "a fox, 3:2"


def test_trailing_ratio_outside_bounds_is_a_flag_error() -> None:
    with pytest.raises(FlagError):
        parse_text("a tall tower, 1:17")


@pytest.mark.parametrize(
    ("flag", "width", "height"),
    [
        ("2048x1536", 2048, 1536),
        ("2048X1536", 2048, 1536),
        ("2048×1536", 2048, 1536),
        ("4096*4096", 4096, 4096),
    ],
)
def test_res_as_explicit_size(flag: str, width: int, height: int) -> None:
    parsed = parse_text(f"a fox --res {flag}")
    assert (parsed.width, parsed.height, parsed.resolution) == (width, height, None)


@pytest.mark.parametrize(
    ("flag", "tier"), [("--res 3k", "3K"), ("--resolution 2K", "2K"), ("--size 4k", "4K")]
)
def test_res_tiers_and_aliases(flag: str, tier: str) -> None:
    assert parse_text(f"a fox {flag}").resolution == tier


def test_watermark_switches() -> None:
    assert parse_text("a fox").watermark is None
    assert parse_text("a fox --no-watermark").watermark is False
    assert parse_text("a fox --watermark").watermark is True


@pytest.mark.parametrize(
    ("value", "fmt"), [("png", "png"), ("PNG", "png"), ("jpeg", "jpeg"), ("jpg", "jpeg")]
)
def test_format(value: str, fmt: str) -> None:
    assert parse_text(f"a fox --format {value}").output_format == fmt
    assert parse_text(f"a fox --fmt {value}").output_format == fmt


def test_model_flag_takes_aliases() -> None:
    assert parse_text("a fox --model 5").model == "5.0-lite"
    assert parse_text("a fox --m 4.5").model == "4.5"


def test_inline_values_and_upper_case_flags() -> None:
    parsed = parse_text("a fox --ar=16:9 --N=3 --AR 4:3")
    assert parsed.count == 3
    assert parsed.aspect == "4:3"  # the last one given wins


def test_full_width_digits_are_numbers() -> None:
    """What a Japanese or Chinese keyboard types: ３ and #２ count as 3 and 2."""
    parsed = parse_text("a fox --n ３ #２")
    assert (parsed.count, parsed.picks, parsed.prompt) == (3, (2,), "a fox")


def test_words_after_flags_stay_in_the_prompt() -> None:
    parsed = parse_text("a fox --ar 3:2 in the snow --n 2 at dusk")
    assert parsed.prompt == "a fox in the snow at dusk"
    assert (parsed.aspect, parsed.count) == ("3:2", 2)


def test_words_after_flags_are_sent_as_typed() -> None:
    """Re-split and joined, they lost their quotes (Seedream draws quoted words as text), their
    apostrophes and backslashes, and the comma after a flag's value."""
    assert parse_text('a fox --n 2 "in the snow"').prompt == 'a fox "in the snow"'
    assert (
        parse_text('--ar 16:9 a neon sign that says "OPEN 24/7"').prompt
        == 'a neon sign that says "OPEN 24/7"'
    )
    assert parse_text("--n 1 the cat's and the dog's bowls").prompt == "the cat's and the dog's bowls"
    assert parse_text("a cat --ar 16:9, cinematic lighting").prompt == "a cat, cinematic lighting"
    assert parse_text("a folder --n 1 C:\\Users\\me").prompt == "a folder C:\\Users\\me"
    # An unbalanced quote falls back to whitespace splitting instead of failing.
    assert parse_text("a fox --n 2 it's cold").prompt == "a fox it's cold"
    # Quotes inside that pair with the outer ones are the prompt's, not a wrapping.
    assert parse_text("“STOP” sign --ar 1:1, text says “GO”").prompt == "“STOP” sign, text says “GO”"


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("a fox --seed 42", "--seed"),
        ("a fox --ar", "--ar"),
        ("a fox --ar 17:1", "17:1"),
        ("a fox --ar wider", "wider"),
        ("a fox --res 8K", "8K"),
        ("a fox --res huge", "huge"),
        ("a fox --res 20x20", "20x20"),
        ("a fox --n 0", "0"),
        ("a fox --n 16", "16"),
        ("a fox --n twenty", "twenty"),
        ("a fox --n ²", "²"),  # str.isdigit() says yes, int() says no
        ("a fox --n -1", "--n"),
        ("a fox --n", "--n"),
        ("a fox --format gif", "gif"),
        ("a fox --model 9", "9"),
        ("a fox --model", "--model"),
    ],
)
def test_unknown_flags_and_bad_values_raise_flag_error(text: str, mentions: str) -> None:
    with pytest.raises(FlagError) as err:
        parse_text(text)
    text_shown = err.value.user_text
    assert mentions in text_shown
    # A friendly sentence, not a Python error.
    assert text_shown[0].isupper() or text_shown[0] == "'"
    assert text_shown.rstrip().endswith(".")
    assert "Traceback" not in text_shown and "Error" not in text_shown


def test_unknown_flag_text_lists_the_options() -> None:
    with pytest.raises(FlagError) as err:
        parse_text("a fox --sharpen 30")
    assert "--ar" in err.value.user_text and "--n" in err.value.user_text


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("--rez", "--res"),
        ("--moel", "--model"),
        ("--watermak", "--watermark"),
        ("--nowatermark", "--no-watermark"),
        ("--stlye", "--style"),
        ("--resoluton", "--resolution"),
        ("--Formt", "--format"),
    ],
)
def test_a_typo_of_an_option_is_told_the_option(typed: str, meant: str) -> None:
    with pytest.raises(FlagError) as err:
        parse_text(f"a fox {typed} x")
    assert err.value.user_text == messages.unknown_flag(typed, [], [meant])
    assert "--ar W:H" not in err.value.user_text  # the one it looks like, not all of them


@pytest.mark.parametrize("typed", ["--sharpen", "--lens", "--mood"])
def test_an_option_we_dont_have_gets_the_whole_list_not_a_wrong_guess(typed: str) -> None:
    with pytest.raises(FlagError) as err:
        parse_text(f"a fox {typed} 100")
    assert err.value.user_text == messages.unknown_flag(typed, flag_help())


@pytest.mark.parametrize(
    ("typed", "named", "send"),
    [
        # As Midjourney's gallery copies a prompt: every setting named in one answer, and the
        # message to send instead, our own flags kept.
        (
            "a cat in a spacesuit --ar 16:9 --v 6.1 --style raw --s 250",
            "--v, --style raw, --s",
            "a cat in a spacesuit --ar 16:9",
        ),
        ("/imagine prompt: a fox --chaos 20 --q 2 --n 2", "--chaos, --q", "a fox --n 2"),
        ("a fox --niji 6 --tile --stylize 100", "--niji, --tile, --stylize", "a fox"),
        ("a fox --niji --ar 2:3", "--niji", "a fox --ar 2:3"),  # "--niji" may stand alone
        ("a fox --p --seed 42", "--p, --seed", "a fox"),
        ("a fox --sref https://a.example/1.png https://a.example/2.png --sw 50", "--sref, --sw", "a fox"),
        ("a fox --fast", "--fast", "a fox"),  # not "did you mean --format"
        ("a fox --V 6", "--V", "a fox"),
        (
            "a fox --steps 30 --cfg 7 --sampler euler_a --ar 3:2",
            "--steps, --cfg, --sampler",
            "a fox --ar 3:2",
        ),
    ],
)
def test_other_models_settings_are_named_together_with_what_to_send_instead(
    typed: str, named: str, send: str
) -> None:
    with pytest.raises(FlagError) as err:
        parse_text(typed, picks=False)
    said = err.value.user_text
    assert said == messages.other_models_settings(named.split(", "), send)
    assert said.startswith(f"Seedream has no {named}: ")
    assert said.endswith(f"Send it like this: `{send}`.")
    # What it says to send is taken.
    assert parse_text(send, picks=False).prompt.startswith("a ")


@pytest.mark.parametrize("flag", ["--no", "--neg", "--negative", "--negative-prompt"])
def test_a_negative_prompt_is_told_to_say_it_in_words(flag: str) -> None:
    with pytest.raises(FlagError) as err:
        parse_text(f"a harbour {flag} boats, people --ar 3:2", picks=False)
    said = err.value.user_text
    assert said.startswith(f"Seedream has no {flag}: ")
    assert 'say so in the prompt ("without text")' in said
    assert said.endswith("Send it like this: `a harbour, without boats, people --ar 3:2`.")


def test_a_long_prompt_is_not_said_back() -> None:
    with pytest.raises(FlagError) as err:
        parse_text("a fox " * 200 + "--v 6", picks=False)
    assert err.value.user_text == messages.other_models_settings(["--v"], "")


def test_a_reply_keeps_its_picks_in_what_to_send() -> None:
    with pytest.raises(FlagError) as err:
        parse_text("#2 make it night --v 7")
    assert err.value.user_text.endswith("`#2 make it night`.")


def test_one_setting_is_named_as_one() -> None:
    with pytest.raises(FlagError) as err:
        parse_text("a fox --seed 42", picks=False)
    assert err.value.user_text.startswith("Seedream has no --seed: that is another image model's setting.")


def test_generation_data_pasted_after_a_command_word_is_answered_with_the_prompt() -> None:
    with pytest.raises(FlagError) as err:
        parse_text("/imagine prompt: a fox\nSteps: 20, Sampler: Euler a, Size: 768x512", picks=False)
    assert err.value.user_text.endswith("Send it like this: `a fox --ar 3:2`.")


def test_settings_alone_name_them_and_nothing_to_send() -> None:
    with pytest.raises(FlagError) as err:
        parse_text("--v 6 --style raw", picks=False)
    assert err.value.user_text == "Seedream has no --v, --style raw: those are other image models' settings."


def test_a_style_preset_is_not_midjourneys() -> None:
    assert parse_text("a fox --style anime --ar 1:1").style == "anime"


def test_flag_error_is_an_invalid_request() -> None:
    assert issubclass(FlagError, InvalidRequest)


def test_to_request_defaults() -> None:
    request = parse_text("a red fox").to_request()
    assert request == GenerationRequest(prompt="a red fox")
    assert (request.model, request.count, request.output_format, request.watermark) == (
        "5.0-lite",
        1,
        "jpeg",
        False,
    )
    assert request.aspect is None and request.resolution is None and request.width is None


def test_to_request_given_flags_win_over_defaults() -> None:
    image = ImageInput(data=b"x", mime="image/png", width=100, height=100)
    parsed = parse_text("a fox --n 4 --ar 16:9 --format png --watermark")
    request = parsed.to_request(
        images=(image,), default_model="4.5", count=2, output_format="jpeg", resolution="2K", watermark=False
    )
    assert request.images == (image,)
    assert request.model == "4.5"  # the default model, since no --model was given
    assert (request.count, request.aspect, request.output_format, request.watermark) == (
        4,
        "16:9",
        "png",
        True,
    )
    assert request.resolution == "2K"  # a default the flags did not override


def test_to_request_defaults_apply_where_no_flag_was_given() -> None:
    request = parse_text("a fox --model 5").to_request(default_model="4.5", count=3)
    assert (request.model, request.count) == ("5.0-lite", 3)


def test_to_request_explicit_size_validates_unchanged() -> None:
    request = parse_text("a fox --res 2999x2001").to_request()
    v = validate(request)
    assert (v.width, v.height, v.tier) == (2999, 2001, None)


def test_parsed_flags_still_meet_model_limits_at_validation() -> None:
    # The parser accepts any tier name; the model decides (3K is not offered by 4.5).
    request = parse_text("a fox --model 4.5 --res 3K").to_request()
    with pytest.raises(InvalidRequest):
        validate(request)


def test_style_and_refs() -> None:
    parsed = parse_text("mia in a hat --style Anime --ref mia --ref=hat,logo --n 2")
    assert (parsed.prompt, parsed.style, parsed.refs, parsed.count) == (
        "mia in a hat",
        "anime",
        ("mia", "hat", "logo"),
        2,
    )
    assert parse_text("a fox").refs == () and parse_text("a fox").style is None


@pytest.mark.parametrize("text", ["a fox --ref", "a fox --style 'two words'", "a fox --ref ../x"])
def test_bad_style_or_ref_names_are_refused(text: str) -> None:
    with pytest.raises(FlagError):
        parse_text(text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a fox --n 2", None),
        ("--style anime", None),  # a style's words are a prompt: the conversation takes it
        ("  ", messages.PROMPT_EMPTY),
        ("--n 3", messages.PROMPT_EMPTY),  # no prompt once the flags are read
        ("a fox --zoom 2", "I don't know the option '--zoom'"),
        ("x" * (PROMPT_MAX_CHARS + 1), messages.prompt_too_long(PROMPT_MAX_CHARS + 1, PROMPT_MAX_CHARS)),
    ],
)
def test_a_form_says_what_the_request_would_be_refused_for(text: str, problem: str | None) -> None:
    said = form_problem(text)
    if problem is None:
        assert said is None
    else:
        assert said is not None and said.startswith(problem), said


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("--ar 16:9", None),  # options alone make the result again with them
        ("--res 3K --n 2", None),
        ("make it night", None),
        ("  ", messages.PROMPT_EMPTY),  # nothing to change
        ("--ar 16:9 --zoom 2", "I don't know the option '--zoom'"),
        ("x" * (PROMPT_MAX_CHARS + 1), messages.prompt_too_long(PROMPT_MAX_CHARS + 1, PROMPT_MAX_CHARS)),
    ],
)
def test_an_edit_form_takes_options_alone(text: str, problem: str | None) -> None:
    said = form_problem(text, edit=True)
    if problem is None:
        assert said is None
    else:
        assert said is not None and said.startswith(problem), said


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        # iOS and macOS turn a typed "--" into an em dash (or an en dash) as you type.
        ("a fox —ar 16:9", ParsedText(prompt="a fox", aspect="16:9")),
        ("a fox –n 2 —res 4K", ParsedText(prompt="a fox", count=2, resolution="4K")),
        ("a fox —AR=3:2 —no-watermark", ParsedText(prompt="a fox", aspect="3:2", watermark=False)),
        # One hyphen, as a command line's short options are typed.
        ("a fox -ar 16:9 -n 2", ParsedText(prompt="a fox", aspect="16:9", count=2)),
        ("a fox -no-watermark", ParsedText(prompt="a fox", watermark=False)),
        # A dash that is no flag's name, or one inside a word, is the prompt's.
        ("a fox —majestic and red", ParsedText(prompt="a fox —majestic and red")),
        ("a fox—ar the sea", ParsedText(prompt="a fox—ar the sea")),
        ("a fox — ar", ParsedText(prompt="a fox — ar")),
        ("rock -and- roll, -nice-", ParsedText(prompt="rock -and- roll, -nice-")),
        ("x-ray -rayed", ParsedText(prompt="x-ray -rayed")),
    ],
)
def test_a_dash_that_autocorrect_made_of_two_hyphens_starts_a_flag(text: str, parsed: ParsedText) -> None:
    assert parse_text(text) == parsed


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        # A Chinese or Japanese input method types full-width forms; the value means the same.
        ("一只狐狸 --ar 16：9 --n ２", ParsedText(prompt="一只狐狸", aspect="16:9", count=2)),
        ("狐 --res ４K --ar １６:９", ParsedText(prompt="狐", resolution="4K", aspect="16:9")),
        ("雪の中の狐、, 3：2", ParsedText(prompt="雪の中の狐、", aspect="3:2")),
        ("狐 --res ２０４８x１０２４", ParsedText(prompt="狐", width=2048, height=1024)),
        # The prompt keeps its own full-width characters.
        ("ＡＢＣ ロゴ --n 2", ParsedText(prompt="ＡＢＣ ロゴ", count=2)),
    ],
)
def test_full_width_values_are_read_as_their_plain_forms(text: str, parsed: ParsedText) -> None:
    assert parse_text(text) == parsed


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        # A flag that ends a sentence keeps its value: "16:9." was refused as no ratio.
        ("a fox in snow --ar 16:9.", ParsedText(prompt="a fox in snow", aspect="16:9")),
        ("a fox --n 2, cinematic", ParsedText(prompt="a fox, cinematic", count=2)),
        ("a fox --no-watermark.", ParsedText(prompt="a fox", watermark=False)),
        ("a fox --ref mia.", ParsedText(prompt="a fox", refs=("mia",))),
        ("狐 --ar 16:9。", ParsedText(prompt="狐", aspect="16:9")),
        # The words after the flags keep theirs.
        ("a fox --n 2 at dawn.", ParsedText(prompt="a fox at dawn.", count=2)),
    ],
)
def test_a_flag_at_the_end_of_a_sentence_keeps_its_value(text: str, parsed: ParsedText) -> None:
    assert parse_text(text) == parsed


def test_punctuation_alone_is_no_value() -> None:
    with pytest.raises(FlagError) as err:
        parse_text("a fox --n .")
    assert err.value.user_text == messages.bad_flag_value("--n", ".", messages.hint_number(1, 15))


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("a fox --ar 16 : 9", ParsedText(prompt="a fox", aspect="16:9")),
        ("a fox --ar 21 :9 --n 2", ParsedText(prompt="a fox", aspect="21:9", count=2)),
        ("a fox --ar 2.39:1", ParsedText(prompt="a fox", aspect="2.39:1")),
        # The prompt's own ratio words stay as typed.
        ("a clock at 10 : 30 --n 2", ParsedText(prompt="a clock at 10 : 30", count=2)),
    ],
)
def test_a_ratio_typed_with_spaces_is_one_value(text: str, parsed: ParsedText) -> None:
    assert parse_text(text) == parsed


@pytest.mark.parametrize(
    ("text", "prompt", "count"),
    [
        ("4 images of a cat", "a cat", 4),
        ("Four pictures of a red fox --ar 16:9", "a red fox", 4),
        ("draw 3 versions of a logo", "a logo", 3),
        ("make me 2 different images of a dog", "a dog", 2),
        ("give me 15 photos of the sea", "the sea", 15),
        ("4 Bilder von einer Katze", "einer Katze", 4),
        ("3 imágenes de un gato", "un gato", 3),
        ("2 images d'un chat", "un chat", 2),
        ("2 imagens de um gato", "um gato", 2),
        # ... or at the end, set off by a comma or brackets, beside a shape in either order.
        ("a cat, 4 images", "a cat", 4),
        ("a red fox (three versions)", "a red fox", 3),
        ("a cat, four images, 16:9", "a cat", 4),
        ("a cat, 16:9, 2 pictures", "a cat", 2),
        ("a collage of 4 images", "a collage of 4 images", None),
        # What says no count, or one past what Seedream makes, is the prompt's.
        ("three cats", "three cats", None),
        ("a collage of 4 images of cats", "a collage of 4 images of cats", None),
        ("20 images of a cat", "20 images of a cat", None),
        # A typed --n wins, and the words stay.
        ("4 images of a cat --n 2", "4 images of a cat", 2),
    ],
)
def test_a_new_request_may_say_how_many_in_words(text: str, prompt: str, count: int | None) -> None:
    parsed = parse_text(text, picks=False)
    assert (parsed.prompt, parsed.count) == (prompt, count)
    # A reply's words are an edit's instruction, read as they are.
    assert parse_text(text).count == (2 if "--n 2" in text else None)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("a cat (16:9)", ParsedText(prompt="a cat", aspect="16:9")),
        ("a cat in 9:16 --n 2", ParsedText(prompt="a cat", aspect="9:16", count=2)),
        ("a cat ar 16:9", ParsedText(prompt="a cat", aspect="16:9")),  # the flag without its dashes
        ("a poster, aspect ratio 9:16", ParsedText(prompt="a poster", aspect="9:16")),
        ("a cat --res 2048 x 1536", ParsedText(prompt="a cat", width=2048, height=1536)),
        # A Midjourney habit pasted before the prompt.
        ("/imagine prompt: a cat --ar 3:2", ParsedText(prompt="a cat", aspect="3:2")),
        ("!imagine a cat", ParsedText(prompt="a cat")),
        # Words that only look like it.
        ("a clock in 10:30", ParsedText(prompt="a clock in 10:30")),
        ("a clock ratio 10:30", ParsedText(prompt="a clock ratio 10:30")),
        ("a radar 16:9", ParsedText(prompt="a radar 16:9")),
        ("imagine a world of cats", ParsedText(prompt="imagine a world of cats")),
        ("a cat in 16:9 --ar 1:1", ParsedText(prompt="a cat in 16:9", aspect="1:1")),
    ],
)
def test_a_ratio_or_command_word_as_people_write_them(text: str, parsed: ParsedText) -> None:
    assert parse_text(text, picks=False) == parsed


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("16:9", "16:9"),
        ("make it 9:16 please", "9:16"),
        ("in 3:2", "3:2"),
        ("change it to 21:9 ratio.", "21:9"),
    ],
)
def test_a_message_that_only_says_a_shape_is_that_option(text: str, aspect: str) -> None:
    parsed = parse_text(text)
    assert (parsed.prompt, parsed.aspect) == ("", aspect)


def test_a_shape_inside_a_prompt_stays_words() -> None:
    assert parse_text("a 16:9 cinema poster").prompt == "a 16:9 cinema poster"
    # A ratio alone that seedbot does not offer is a time, not a shape; with words it is a shape.
    assert (parse_text("10:30").prompt, parse_text("10:30").aspect) == ("10:30", None)
    assert parse_text("make it 2:5").aspect == "2:5"


@pytest.mark.parametrize(
    ("name", "aspect"),
    [("square", "1:1"), ("Portrait", "3:4"), ("landscape", "4:3"), ("wide", "16:9"), ("tall", "9:16")],
)
def test_a_shape_by_name_is_its_ratio(name: str, aspect: str) -> None:
    assert parse_text(f"a fox --ar {name}").aspect == aspect


@pytest.mark.parametrize(
    ("size", "hint"),
    [
        ("1920x1080", "`--ar 16:9` makes 2848x1600"),
        ("512x512", "`--ar 1:1` makes 2048x2048"),
        ("1366x768", None),
    ],
)
def test_a_size_too_small_is_told_the_ratio_that_makes_its_shape(size: str, hint: str | None) -> None:
    with pytest.raises(InvalidRequest) as err:
        validate(parse_text(f"a fox --res {size}").to_request())
    said = err.value.user_text
    assert said.startswith(f"{size} is ")
    assert (hint in said) if hint else "--ar" not in said


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("a fox --n2", "count", 2),
        ("a fox --ar16:9", "aspect", "16:9"),
        ("a fox --res4K", "resolution", "4K"),
        ("a fox --res2048x1536", "width", 2048),
        ("a fox --4k", "resolution", "4K"),
        ("a fox --2K --n 2", "resolution", "2K"),
        ("a fox --png", "output_format", "png"),
        ("a fox --jpg", "output_format", "jpeg"),
    ],
)
def test_a_value_typed_against_its_flag_or_naming_it_alone_is_read(
    text: str, field: str, value: object
) -> None:
    parsed = parse_text(text, picks=False)
    assert (parsed.prompt, getattr(parsed, field)) == ("a fox", value)


def test_a_midjourney_setting_typed_against_its_value_is_named_too() -> None:
    with pytest.raises(FlagError) as err:
        parse_text("a fox --v6 --s250 --ar 3:2", picks=False)
    assert err.value.user_text == messages.other_models_settings(["--v", "--s"], "a fox --ar 3:2")


def test_a_number_after_two_dashes_inside_a_prompt_stays_words() -> None:
    assert parse_text("a countdown --10, 9, 8", picks=False).prompt == "a countdown --10, 9, 8"


@pytest.mark.parametrize(
    ("typed", "option", "value"),
    [
        ("again in 16:9", "aspect", "16:9"),
        ("again but 9:16", "aspect", "9:16"),
        ("make it portrait", "aspect", "3:4"),
        ("in landscape", "aspect", "4:3"),
        ("as a square please", "aspect", "1:1"),
        ("redo in portrait mode", "aspect", "3:4"),
        ("Querformat", "aspect", "4:3"),
        ("nochmal im Hochformat", "aspect", "3:4"),
        ("encore en paysage", "aspect", "4:3"),
        ("正方形", "aspect", "1:1"),
        ("縦長にして", "aspect", "3:4"),
        ("改成横版", "aspect", "4:3"),
        ("4.5", "model", "4.5"),
        ("try with Seedream 4.5", "model", "4.5"),
        ("again with 4.5", "model", "4.5"),
        ("reroll with --model 4.5", "model", "4.5"),
        ("as png", "output_format", "png"),
        ("again in JPEG format", "output_format", "jpeg"),
        ("no watermark", "watermark", False),
        ("remove the watermark please", "watermark", False),
        ("again without the watermark", "watermark", False),
        ("ohne Wasserzeichen", "watermark", False),
        ("去水印", "watermark", False),
        ("with a watermark", "watermark", True),
        ("make it a phone wallpaper", "aspect", "9:16"),
        ("for instagram", "aspect", "1:1"),
        ("as a YouTube thumbnail", "aspect", "16:9"),
        ("again for TikTok", "aspect", "9:16"),
        ("in 3k", "resolution", "3K"),
        ("make it 3k", "resolution", "3K"),
        ("2K resolution please", "resolution", "2K"),
        ("same prompt again in 16:9", "aspect", "16:9"),
        ("make it 1920x1080", "aspect", "16:9"),  # a size said: its shape
        ("1080x1920", "aspect", "9:16"),
    ],
)
def test_a_reply_that_only_says_an_option_sets_it_and_has_no_prompt(
    typed: str, option: str, value: object
) -> None:
    parsed = parse_text(typed)
    assert (parsed.prompt, getattr(parsed, option)) == ("", value)


@pytest.mark.parametrize(
    "typed",
    [
        "as a portrait",
        "again but with a hat",
        "make it wider",
        "same but in blue",
        "in 4.5 seconds",
        "in 5",
        "no watermark on the bottle label",
        "a youtube thumbnail of a cat",
        "a story about a fox",
        "in 4k",  # Upscale's words (conversation/phrases.py)
    ],
)
def test_a_reply_that_says_more_than_an_option_is_its_words(typed: str) -> None:
    parsed = parse_text(typed)
    assert parsed.prompt == typed and parsed.aspect is None and parsed.model is None
    assert parsed.watermark is None


@pytest.mark.parametrize("typed", ["portrait", "4.5", "png"])
def test_a_new_request_of_an_option_word_is_drawn(typed: str) -> None:
    assert parse_text(typed, picks=False).prompt == typed


@pytest.mark.parametrize(
    ("typed", "example"), [("a fox --ar", "--ar 16:9"), ("a fox --N", "--n 2"), ("a fox --ref", "--ref mia")]
)
def test_a_flag_with_nothing_after_it_is_shown_how_it_goes(typed: str, example: str) -> None:
    with pytest.raises(FlagError) as err:
        parse_text(typed, picks=False)
    assert err.value.user_text == messages.flag_needs_value(typed.split()[-1], example)
    assert err.value.user_text.endswith(f"e.g. `{example}`.")


@pytest.mark.parametrize(
    "typed",
    [
        "`a fox --ar 16:9 --n 2`",  # the help's example, copied with its code marks
        "```a fox --ar 16:9 --n 2```",
        "```text\na fox --ar 16:9 --n 2```",
        '"a fox --ar 16:9 --n 2"',
        "“a fox --ar 16:9 --n 2”",
        "a fox `--ar 16:9` `--n 2`",
    ],
)
def test_chat_formatting_around_a_message_is_not_part_of_it(typed: str) -> None:
    parsed = parse_text(typed, picks=False)
    assert (parsed.prompt, parsed.aspect, parsed.count) == ("a fox", "16:9", 2)


@pytest.mark.parametrize(
    "typed", ['"Hello"', 'a sign that says "OPEN" --ar 16:9', '"a fox" and "a hen" --n 2']
)
def test_quotes_in_a_prompt_are_kept(typed: str) -> None:
    assert parse_text(typed, picks=False).prompt == typed.split(" --")[0]


def test_a_count_in_words_after_n_is_that_count() -> None:
    assert parse_text("a fox --n Four", picks=False).count == 4


@pytest.mark.parametrize("typed", ["as webp", "in GIF format", "as an svg"])
def test_a_format_seedbot_cannot_give_replied_alone_is_refused_with_the_two_it_can(typed: str) -> None:
    with pytest.raises(FlagError) as err:
        parse_text(typed)
    assert err.value.user_text.endswith("use png or jpeg.")


def test_a_count_set_off_at_the_end_past_the_most_is_refused_with_the_range() -> None:
    """'a dog, 40 images' drew one image of those words."""
    with pytest.raises(FlagError) as err:
        parse_text("a dog, 40 images", picks=False)
    assert err.value.user_text == messages.bad_flag_value("--n", "40", messages.hint_number(1, 15))


HOSTILE_PROMPTS = [
    "a cat" + ", " * 20_000,
    "、" * 40_000,
    "ok" + " " * 40_000 + "but",
    "a cat " + "(" * 20_000 + "16:9",
    "a cat" + " x" * 20_000 + " 1920x1080",
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text", HOSTILE_PROMPTS, ids=range(len(HOSTILE_PROMPTS)))
@pytest.mark.parametrize("picks", [False, True], ids=["new", "reply"])
def test_a_long_hostile_prompt_is_parsed_in_one_pass(text: str, picks: bool) -> None:
    """What is set off at a prompt's end was searched for from every start: 5,000 characters of
    ", " took 4 s, Slack's 40,000 would take minutes. Only the last words are searched now.
    (A time-out, not a speed target.)"""
    assert parse_text(text, picks=picks).prompt.startswith(text.strip()[:5])


@pytest.mark.parametrize("text", ["a cat 000x1080", "a cat 0000x0000", "make it 0000x1920"])
@pytest.mark.parametrize("picks", [False, True], ids=["new", "reply"])
def test_a_size_with_a_side_of_zero_is_words(text: str, picks: bool) -> None:
    """Its shape was log(0): a ValueError, "something went wrong" and a traceback."""
    parsed = parse_text(text, picks=picks)
    assert parsed.aspect is None and parsed.prompt == text


@pytest.mark.parametrize(
    ("typed", "prompt", "aspect"),
    [
        # The words that go with a shape named so were left to draw ("a poster in a").
        ("a poster in a 16:9 format", "a poster", "16:9"),
        ("a cat in a square format", "a cat", "1:1"),
        ("a photo of a dog in the 16:9 aspect ratio", "a photo of a dog", "16:9"),
        ("a cat with a 16:9 ratio", "a cat", "16:9"),
        ("a castle, in 16:9", "a castle", "16:9"),
        ("a castle in 16:9.", "a castle", "16:9"),
        # Written in Japanese, Chinese or Arabic, with that script's comma or brackets.
        ("雪の中の狐、16:9", "雪の中の狐", "16:9"),
        ("一只猫，16:9", "一只猫", "16:9"),
        ("雪の中の狐（16:9）", "雪の中の狐", "16:9"),
        ("ثعلب في الثلج، 16:9", "ثعلب في الثلج", "16:9"),
        # A no-break or ideographic space between a flag and its value (an unknown flag before).
        ("a cat --ar\u00a016:9", "a cat", "16:9"),
        ("猫\u3000--ar\u300016:9", "猫", "16:9"),
        # Still words.
        ("a clock in 10:30", "a clock in 10:30", None),
        ("a cat with 16:9", "a cat with 16:9", None),
        ("a girl in a portrait", "a girl in a portrait", None),
    ],
)
def test_a_shape_said_at_the_end_takes_the_words_that_go_with_it(
    typed: str, prompt: str, aspect: str | None
) -> None:
    parsed = parse_text(typed, picks=False)
    assert (parsed.prompt, parsed.aspect) == (prompt, aspect)


@pytest.mark.parametrize(
    ("typed", "prompt", "picks"),
    [
        ("make #2's hat red", "make image 1's hat red", (2,)),
        ("#2: make it night", "make it night", (2,)),
        ("(#2) make it night", "(image 1) make it night", (2,)),
    ],
)
def test_a_pick_with_punctuation_around_it_is_a_pick(typed: str, prompt: str, picks: tuple[int, ...]) -> None:
    """ "#2's" and "#2:" were words: every image of the batch was sent, the prompt as typed."""
    parsed = parse_text(typed)
    assert (parsed.prompt, parsed.picks) == (prompt, picks)


@pytest.mark.parametrize(
    ("typed", "prompt", "option", "value"),
    [
        # A value of two words: the second was drawn ("a cat story") or the first refused.
        ("a cat --ar instagram story", "a cat", "aspect", "9:16"),
        ("a cat --ar phone wallpaper", "a cat", "aspect", "9:16"),
        ("a cat --model Seedream 4.5", "a cat", "model", "4.5"),
        ("a cat --model 5.0 lite", "a cat", "model", "5.0-lite"),
        ("a cat --ar 16:9 story", "a cat story", "aspect", "16:9"),
        ("a cat --model 4.5 lite blue", "a cat lite blue", "model", "4.5"),
    ],
)
def test_a_value_of_two_words_is_taken_whole(typed: str, prompt: str, option: str, value: str) -> None:
    parsed = parse_text(typed, picks=False)
    assert (parsed.prompt, getattr(parsed, option)) == (prompt, value)


def test_ref_names_go_on_while_a_comma_says_another_comes() -> None:
    """ "--ref mia, bob" sent bob's name to the model as a word and left his image out."""
    assert parse_text("mia and bob --ref mia, bob").refs == ("mia", "bob")
    assert parse_text("mia and bob --ref mia, bob, --n 2 at the beach").refs == ("mia", "bob")
    assert parse_text("x --ref mia bob").prompt == "x bob"


@pytest.mark.parametrize(
    ("typed", "names"),
    [
        ("mia, bob", ("mia", "bob")),
        ("mia,bob.", ("mia", "bob")),  # the sentence's full stop is no part of a name
        ("mia、bob", ("mia", "bob")),  # a Japanese input method's comma
        (" , ", ()),
    ],
)
def test_a_forms_cast_names_are_read_as_ref_reads_them(typed: str, names: tuple[str, ...]) -> None:
    """Each surface split its form's field itself, keeping what `--ref` drops."""
    assert cast_names(typed) == names
    assert parse_text(f"a fox --ref {typed}").refs == names if names else True
