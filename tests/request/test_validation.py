"""The model table, the size resolver and validation at every limit (both sides of each boundary)."""

from __future__ import annotations

import json
import math

import pytest

from bot.errors import InvalidImage, InvalidRequest
from bot.request.models import GenerationRequest, ImageInput
from bot.request.validation import (
    ASPECTS,
    FORMATS,
    MAX_OUTPUTS,
    MAX_REFERENCES,
    MAX_TOTAL_IMAGES,
    MODELS,
    PROMPT_MAX_CHARS,
    REFERENCE_MAX_BYTES,
    REFERENCE_MAX_SIDE,
    TIERS,
    UPLOAD_MAX_BYTES,
    check_declared,
    check_reference_count,
    clean_prompt,
    get_model,
    may_be_image,
    model_name,
    parse_aspect,
    resolve_size,
    validate,
)

LITE = MODELS["5.0-lite"]
V45 = MODELS["4.5"]


def ref(
    width: int = 1024, height: int = 1024, *, size: int = 100, mime: str = "image/png", name: str = "ref.png"
) -> ImageInput:
    return ImageInput(data=b"\0" * size, mime=mime, width=width, height=height, name=name)


def req(**kwargs: object) -> GenerationRequest:
    kwargs.setdefault("prompt", "a red fox in the snow")
    return GenerationRequest(**kwargs)  # type: ignore[arg-type]


# -- the model table -------------------------------------------------------------------------


def test_model_table_matches_the_documented_limits() -> None:
    assert LITE.tiers == ("2K", "3K")
    assert (LITE.min_pixels, LITE.max_pixels) == (2560 * 1440, 10_404_496)
    assert V45.tiers == ("2K", "4K")
    assert (V45.min_pixels, V45.max_pixels) == (2560 * 1440, 4096 * 4096)
    assert "png" in LITE.output_formats and V45.output_formats == ("jpeg",)
    assert (MAX_REFERENCES, MAX_TOTAL_IMAGES, MAX_OUTPUTS) == (14, 15, 15)
    assert REFERENCE_MAX_BYTES == 10 * 1024 * 1024 and REFERENCE_MAX_SIDE == 6000
    assert PROMPT_MAX_CHARS == 2000


def test_the_choices_are_what_some_model_offers_in_order() -> None:
    assert TIERS == ("2K", "3K", "4K")  # 3K: 5.0 lite only; 4K: 4.5 only
    assert FORMATS == ("jpeg", "png")  # png: 5.0 lite only


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("5.0-lite", "5.0-lite"),
        ("5", "5.0-lite"),
        (" 4.5 ", "4.5"),
        # As people write them: the display name, the host's model id, a version, the short word.
        ("Seedream 5.0 lite", "5.0-lite"),
        ("seedream-4.5", "4.5"),
        ("Seedream_4.5", "4.5"),
        ("v4.5", "4.5"),
        ("lite", "5.0-lite"),
        ("5.0 Lite", "5.0-lite"),
    ],
)
def test_model_aliases(name: str, key: str) -> None:
    assert get_model(name).key == key


@pytest.mark.parametrize("name", ["4", "4.0", "seedream", "v", "6.0", "3.0", ""])
def test_a_model_we_do_not_make_is_not_guessed(name: str) -> None:
    with pytest.raises(InvalidRequest):
        get_model(name)


def test_unknown_model_is_refused() -> None:
    with pytest.raises(InvalidRequest) as err:
        validate(req(model="6.0"))
    assert "6.0" in err.value.user_text and "5.0-lite" in err.value.user_text


# -- the size resolver ---------------------------------------------------------------------------

RECOMMENDED_2K = {
    (1, 1): (2048, 2048),
    (4, 3): (2304, 1728),
    (16, 9): (2848, 1600),
    (3, 2): (2496, 1664),
    (21, 9): (3136, 1344),
}
RECOMMENDED_3K = {
    (1, 1): (3072, 3072),
    (4, 3): (3456, 2592),
    (16, 9): (4096, 2304),
    (3, 2): (3744, 2496),
    (21, 9): (4704, 2016),
}


@pytest.mark.parametrize("model", ["5.0-lite", "4.5"])
@pytest.mark.parametrize(("aspect", "size"), list(RECOMMENDED_2K.items()))
def test_recommended_2k_sizes_and_portrait_swaps(
    model: str, aspect: tuple[int, int], size: tuple[int, int]
) -> None:
    spec = MODELS[model]
    assert resolve_size(spec, "2K", aspect) == size
    assert resolve_size(spec, "2K", (aspect[1], aspect[0])) == (size[1], size[0])


@pytest.mark.parametrize(("aspect", "size"), list(RECOMMENDED_3K.items()))
def test_recommended_3k_sizes_on_5_lite(aspect: tuple[int, int], size: tuple[int, int]) -> None:
    assert resolve_size(LITE, "3K", aspect) == size
    assert resolve_size(LITE, "3K", (aspect[1], aspect[0])) == (size[1], size[0])


@pytest.mark.parametrize("tier", ["2K", "3K"])
@pytest.mark.parametrize("aspect", ASPECTS)
def test_every_offered_aspect_gets_its_recommended_size(aspect: str, tier: str) -> None:
    w, h = parse_aspect(aspect)  # reduced: "21:9" is (7, 3)
    table = RECOMMENDED_2K if tier == "2K" else RECOMMENDED_3K
    [size] = [s for (kw, kh), s in table.items() if kw * min(w, h) == kh * max(w, h)]
    assert resolve_size(LITE, tier, (w, h)) == (size if w >= h else size[::-1])


def test_4k_square_on_4_5_is_the_top_of_the_range() -> None:
    assert resolve_size(V45, "4K", (1, 1)) == (4096, 4096)


def test_validate_resolves_tier_and_aspect_through_the_table() -> None:
    v = validate(req(resolution="3K", aspect="9:16"))
    assert (v.width, v.height, v.tier, v.aspect) == (2304, 4096, "3K", (9, 16))
    assert v.size == "2304x4096" and v.aspect_text == "9:16"
    v = validate(req(resolution="2k"))  # tiers are case-insensitive
    assert (v.width, v.height, v.tier) == (2048, 2048, "2K")
    assert validate(req()).tier == LITE.default_tier == "2K"
    assert validate(req(model="4.5")).tier == "2K"


def _all_ratios() -> list[tuple[int, int]]:
    return [
        (w, h) for w in range(1, 33) for h in range(1, 33) if 1 / 16 <= w / h <= 16 and math.gcd(w, h) == 1
    ]


@pytest.mark.parametrize(
    ("model", "tier"), [("5.0-lite", "2K"), ("5.0-lite", "3K"), ("4.5", "2K"), ("4.5", "4K")]
)
def test_computed_sizes_stay_inside_the_pixel_range_for_every_ratio(model: str, tier: str) -> None:
    spec = MODELS[model]
    for w, h in _all_ratios():
        width, height = resolve_size(spec, tier, (w, h))
        assert spec.min_pixels <= width * height <= spec.max_pixels, (model, tier, w, h, width, height)
        assert 1 / 16 <= width / height <= 16, (model, tier, w, h, width, height)
        assert width % 16 == 0 and height % 16 == 0, (model, tier, w, h, width, height)
        # The shape is the one asked for (within rounding to multiples of 16).
        assert abs(math.log((width / height) / (w / h))) < 0.02, (model, tier, w, h, width, height)
        # Landscape stays landscape, portrait stays portrait.
        assert (width > height) == (w > h) and (width < height) == (w < h)


@pytest.mark.parametrize(
    ("model", "tier", "aspect", "size"),
    [
        ("5.0-lite", "2K", (16, 1), (8192, 512)),
        ("5.0-lite", "2K", (1, 16), (512, 8192)),
        ("5.0-lite", "3K", (16, 1), (12288, 768)),
        ("5.0-lite", "3K", (1, 16), (768, 12288)),
        ("4.5", "2K", (16, 1), (8192, 512)),
        ("4.5", "4K", (16, 1), (16384, 1024)),
        ("4.5", "4K", (1, 16), (1024, 16384)),
    ],
)
def test_extreme_ratios(model: str, tier: str, aspect: tuple[int, int], size: tuple[int, int]) -> None:
    spec = MODELS[model]
    width, height = resolve_size(spec, tier, aspect)
    assert (width, height) == size
    assert spec.min_pixels <= width * height <= spec.max_pixels
    v = validate(req(model=model, resolution=tier, aspect=f"{aspect[0]}:{aspect[1]}"))
    assert (v.width, v.height) == size


def test_odd_ratio_is_computed_near_the_tier() -> None:
    width, height = resolve_size(LITE, "2K", (7, 5))
    assert abs(width * height - 2048 * 2048) < 0.05 * 2048 * 2048
    width, height = resolve_size(V45, "4K", (16, 9))  # no recommended 4K 16:9: computed
    assert V45.min_pixels <= width * height <= V45.max_pixels
    assert width * height > 0.99 * V45.max_pixels


def test_edit_defaults_to_the_first_references_shape() -> None:
    v = validate(req(images=(ref(1600, 900), ref(100, 100))))
    assert (v.aspect, v.width, v.height) == ((16, 9), 2848, 1600)
    v = validate(req(images=(ref(900, 1600),)))
    assert (v.width, v.height) == (1600, 2848)
    assert validate(req()).aspect == (1, 1)


# -- aspect ratio bounds ----------------------------------------------------------------------------


@pytest.mark.parametrize("aspect", ["16:1", "1:16", "32:2", "3:2", "16x9", "16/9", " 4 : 3 "])
def test_aspect_inside_bounds(aspect: str) -> None:
    w, h = parse_aspect(aspect)
    assert 1 / 16 <= w / h <= 16
    validate(req(aspect=aspect))


@pytest.mark.parametrize(
    ("aspect", "reduced"),
    [("2.39:1", (239, 100)), ("1.85:1", (37, 20)), ("1:1.5", (2, 3)), ("16.0:1", (16, 1))],
)
def test_a_films_ratio_is_taken_as_it_is_written(aspect: str, reduced: tuple[int, int]) -> None:
    assert parse_aspect(aspect) == reduced
    v = validate(req(aspect=aspect))
    assert abs(v.width / v.height - reduced[0] / reduced[1]) < 0.02


@pytest.mark.parametrize(
    "aspect",
    [
        "17:1",
        "1:17",
        "161:10",
        "10:161",
        "0:1",
        "1:0",
        "abc",
        "",
        "16:9:1",
        "-1:2",
        "16.5:1",
        "1.2345:1",
        "1.:1",
    ],
)
def test_aspect_outside_bounds_or_malformed(aspect: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_aspect(aspect)
    if aspect:
        with pytest.raises(InvalidRequest):
            validate(req(aspect=aspect))


def test_aspect_is_reduced() -> None:
    assert parse_aspect("32:18") == (16, 9)


# -- prompt ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt", ["", " ", "   \n\t  ", "\u200b\u200c\u200d\u2060\ufeff", "\x00\x07\x1b", " \u200b \x00 "]
)
def test_empty_prompts_are_refused(prompt: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        validate(req(prompt=prompt))
    assert "prompt" in err.value.user_text.lower()


def test_control_and_zero_width_characters_are_stripped() -> None:
    assert clean_prompt("  a\x00 red\u200b fox\x1b\ufeff  ") == "a red fox"
    assert clean_prompt("line one\nline\ttwo") == "line one\nline\ttwo"
    assert clean_prompt("e\u0301t\u00e9 caf\u00e9 猫 🦊") == "e\u0301t\u00e9 caf\u00e9 猫 🦊"
    assert validate(req(prompt="\u200ba\x00 fox ")).prompt == "a fox"
    # Lone surrogates (a shell's undecodable bytes, a JSON "\\udcff") encode to nothing a
    # database stores; a real pair (an emoji from JSON) is one character and stays.
    assert clean_prompt("a fox \udcff\ud800") == "a fox"
    assert clean_prompt(json.loads('"a \\ud83e\\udd8a"')) == "a 🦊"


@pytest.mark.parametrize(
    "prompt",
    [
        "گربه\u200cها در کتاب\u200cخانه",  # Persian: the non-joiner is part of the spelling
        "क्\u200dष",  # Devanagari with a joiner
        "a 👨\u200d👩\u200d👧 at the beach",  # one family, not three people
        "the \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f flag",  # Scotland's
    ],
)
def test_the_invisible_characters_a_script_or_emoji_is_written_with_are_kept(prompt: str) -> None:
    """They were stripped with the other zero-width characters: a word misspelt, a family of
    three strangers, a black flag."""
    assert clean_prompt(prompt) == prompt
    assert clean_prompt(f"\u200d {prompt} \u200c") == prompt  # not where they join nothing
    assert clean_prompt("a\u200d\u2060 cat") == "a cat"  # nor before a character that is dropped


def test_prompt_length_boundary() -> None:
    assert validate(req(prompt="a" * PROMPT_MAX_CHARS)).prompt == "a" * 2000
    with pytest.raises(InvalidRequest) as err:
        validate(req(prompt="a" * (PROMPT_MAX_CHARS + 1)))
    assert "2001" in err.value.user_text and "2000" in err.value.user_text


def test_prompt_length_is_counted_after_cleaning() -> None:
    padded = "\u200b" * 50 + "  " + "a" * 2000 + "\x00" * 50 + "  \n"
    assert validate(req(prompt=padded)).prompt == "a" * 2000


# -- counts and references -------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 14, 15])
def test_count_inside_bounds(count: int) -> None:
    assert validate(req(count=count)).count == count


@pytest.mark.parametrize("count", [-1, 0, 16, 100])
def test_count_outside_bounds(count: int) -> None:
    with pytest.raises(InvalidRequest) as err:
        validate(req(count=count))
    assert str(count) in err.value.user_text


def test_fourteen_references_pass_fifteen_do_not() -> None:
    assert len(validate(req(images=tuple(ref() for _ in range(14)))).images) == 14
    with pytest.raises(InvalidImage) as err:
        validate(req(images=tuple(ref() for _ in range(15))))
    assert "15" in err.value.user_text and "14" in err.value.user_text


@pytest.mark.parametrize(
    ("refs", "count", "ok"),
    [
        (14, 1, True),
        (14, 2, False),
        (10, 5, True),
        (10, 6, False),
        (1, 14, True),
        (1, 15, False),
        (0, 15, True),
    ],
)
def test_references_plus_outputs_at_most_fifteen(refs: int, count: int, ok: bool) -> None:
    request = req(images=tuple(ref() for _ in range(refs)), count=count)
    if ok:
        assert validate(request).count == count
    else:
        with pytest.raises(InvalidRequest) as err:
            validate(request)
        assert "15" in err.value.user_text


def test_reference_byte_limit() -> None:
    validate(req(images=(ref(size=REFERENCE_MAX_BYTES),)))
    with pytest.raises(InvalidImage) as err:
        validate(req(images=(ref(size=REFERENCE_MAX_BYTES + 1, name="huge.png"),)))
    assert "huge.png" in err.value.user_text


@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [(6000, 6000, True), (6001, 6000, False), (6000, 6001, False), (6000, 375, True), (375, 6000, True)],
)
def test_reference_side_limit(width: int, height: int, ok: bool) -> None:
    request = req(images=(ref(width, height),))
    if ok:
        validate(request)
    else:
        with pytest.raises(InvalidImage):
            validate(request)


@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [(1600, 100, True), (1601, 100, False), (100, 1600, True), (100, 1601, False), (0, 100, False)],
)
def test_reference_ratio_limit(width: int, height: int, ok: bool) -> None:
    request = req(images=(ref(width, height),))
    if ok:
        validate(request)
    else:
        with pytest.raises(InvalidImage):
            validate(request)


@pytest.mark.parametrize(
    "mime", ["image/jpeg", "image/png", "image/webp", "image/bmp", "image/tiff", "image/gif"]
)
def test_reference_formats_accepted(mime: str) -> None:
    validate(req(images=(ref(mime=mime),)))


@pytest.mark.parametrize("mime", ["image/svg+xml", "image/heic", "application/pdf", ""])
def test_reference_formats_refused(mime: str) -> None:
    with pytest.raises(InvalidImage):
        validate(req(images=(ref(mime=mime),)))


# -- explicit sizes -------------------------------------------------------------------------

# 5.0 lite's top (3072^2 * 1.1025 = 10,404,496) is no product of two sides within 1:16, and
# neither is 4.5's max + 1 (2^24 + 1): the nearest products either side stand in for them.
SIZES = [
    # model, width, height, ok
    ("5.0-lite", 1921, 1919, False),  # min - 1
    ("5.0-lite", 2560, 1440, True),  # min
    ("5.0-lite", 1440, 2560, True),
    ("5.0-lite", 1920, 1920, True),  # min
    ("5.0-lite", 12735, 817, True),  # 10,404,495: the largest product <= max
    ("5.0-lite", 3226, 3225, True),  # 10,403,850
    ("5.0-lite", 11484, 906, False),  # 10,404,504: the smallest product > max
    ("5.0-lite", 3226, 3226, False),  # 10,407,076
    ("5.0-lite", 4096, 4096, False),
    ("4.5", 1921, 1919, False),  # min - 1
    ("4.5", 2560, 1440, True),  # min
    ("4.5", 4096, 4096, True),  # max
    ("4.5", 16384, 1024, True),  # max at 16:1
    ("4.5", 4097, 4095, True),  # max - 1
    ("4.5", 4097, 4096, False),
    ("4.5", 10831, 1549, False),  # 16,777,219: the smallest product > max
    # ratio bounds for explicit sizes
    ("4.5", 8192, 512, True),
    ("4.5", 8208, 512, False),
    ("4.5", 512, 8192, True),
    ("4.5", 512, 8208, False),
]


@pytest.mark.parametrize(("model", "width", "height", "ok"), SIZES)
def test_explicit_size_bounds(model: str, width: int, height: int, ok: bool) -> None:
    request = req(model=model, width=width, height=height)
    if ok:
        v = validate(request)
        assert (v.width, v.height, v.tier) == (width, height, None)
    else:
        with pytest.raises(InvalidRequest) as err:
            validate(request)
        assert f"{width}x{height}" in err.value.user_text


def test_pixel_boundaries_are_the_documented_numbers() -> None:
    # Guards the table above: each "min - 1" / "> max" row really sits just past the limit.
    assert LITE.min_pixels - 1 == 1921 * 1919
    assert LITE.max_pixels - 1 == 12735 * 817 and LITE.max_pixels < 11484 * 906
    assert V45.max_pixels - 1 == 4097 * 4095 and V45.max_pixels + 3 == 10831 * 1549


def test_an_explicit_size_is_never_changed() -> None:
    # Not multiples of 16, not a common ratio, with a tier and an aspect that disagree: kept as given.
    v = validate(req(width=2999, height=2001, resolution="3K", aspect="1:1"))
    assert (v.width, v.height, v.tier, v.size) == (2999, 2001, None, "2999x2001")
    v = validate(req(model="4.5", width=4096, height=4096, resolution="2K"))
    assert (v.width, v.height) == (4096, 4096)


@pytest.mark.parametrize(("width", "height"), [(2048, None), (None, 2048), (0, 2048), (-2048, -2048)])
def test_half_or_non_positive_explicit_sizes_are_refused(width: int | None, height: int | None) -> None:
    with pytest.raises(InvalidRequest):
        validate(req(width=width, height=height))


# -- tiers, formats, options ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "tier", "ok"),
    [
        ("5.0-lite", "2K", True),
        ("5.0-lite", "3K", True),
        ("5.0-lite", "4K", False),
        ("4.5", "2K", True),
        ("4.5", "4K", True),
        ("4.5", "3K", False),
        ("4.5", "1K", False),
        ("5.0-lite", "8K", False),
    ],
)
def test_tiers_offered_per_model(model: str, tier: str, ok: bool) -> None:
    request = req(model=model, resolution=tier)
    if ok:
        assert validate(request).tier == tier
    else:
        with pytest.raises(InvalidRequest) as err:
            validate(request)
        assert tier in err.value.user_text and MODELS[model].name in err.value.user_text


@pytest.mark.parametrize(
    ("model", "fmt", "ok"),
    [
        ("5.0-lite", "jpeg", True),
        ("5.0-lite", "png", True),
        ("4.5", "jpeg", True),
        ("4.5", "png", False),
        ("5.0-lite", "gif", False),
    ],
)
def test_output_formats_per_model(model: str, fmt: str, ok: bool) -> None:
    request = req(model=model, output_format=fmt)
    if ok:
        validate(request)
    else:
        with pytest.raises(InvalidRequest) as err:
            validate(request)
        assert fmt in err.value.user_text


def test_only_standard_prompt_optimisation() -> None:
    validate(req(optimize="standard"))
    with pytest.raises(InvalidRequest):
        validate(req(optimize="fast"))


def test_validation_errors_carry_user_text_and_charge_nothing() -> None:
    with pytest.raises(InvalidRequest) as err:
        validate(req(count=0))
    assert err.value.user_text and not err.value.charged


def test_model_name_is_the_display_name_or_the_key_it_does_not_know() -> None:
    assert model_name("4.5") == MODELS["4.5"].name != "4.5"
    assert model_name("seedream-9") == "seedream-9"  # a job an older seedbot recorded


@pytest.mark.parametrize(
    ("declared", "possible"),
    [
        (None, True),
        ("", True),
        ("image/png", True),
        ("IMAGE/JPEG; charset=binary", True),
        ("application/octet-stream", True),  # unknown to the platform: the bytes decide
        ("text/html", False),
        ("application/pdf", False),
    ],
)
def test_a_declared_type_rules_out_only_what_cannot_be_an_image(declared: str | None, possible: bool) -> None:
    assert may_be_image(declared) is possible


def test_declared_type_and_size_are_checked_before_a_download() -> None:
    check_declared("cat.png", "image/png", UPLOAD_MAX_BYTES)  # over a host's limit: it is shrunk
    check_declared("cat.png", None, None)  # nothing declared: the download is capped
    with pytest.raises(InvalidImage, match=r"notes\.pdf"):
        check_declared("notes.pdf", "application/pdf", 10)
    with pytest.raises(InvalidImage, match=r"big\.png"):
        check_declared("big.png", "image/png", UPLOAD_MAX_BYTES + 1)
    with pytest.raises(InvalidImage, match=r"empty\.png"):
        check_declared("empty.png", "image/png", 0)


def test_the_reference_count_is_checked_on_its_own() -> None:
    check_reference_count(MAX_REFERENCES)
    with pytest.raises(InvalidImage, match=str(MAX_REFERENCES)):
        check_reference_count(MAX_REFERENCES + 1)
