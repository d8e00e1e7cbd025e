"""The Seedream models' real limits, the size resolver and request validation.

Limits come from the providers' documents (../shared/docs/providers.md): pixel ranges, tiers,
ratio bounds, 14 references, references + outputs <= 15, 10 MB / 6000 px per reference.
Nothing that fails here reaches a provider or costs quota.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

from bot import messages
from bot.errors import InvalidImage, InvalidRequest
from bot.request.models import GenerationRequest, ImageInput

__all__ = [
    "ASPECTS",
    "FORMATS",
    "MAX_OUTPUTS",
    "MAX_REFERENCES",
    "MAX_TOTAL_IMAGES",
    "MODELS",
    "PROMPT_MAX_CHARS",
    "STYLE_WORDS_MAX_CHARS",
    "TIERS",
    "UPLOAD_MAX_BYTES",
    "ModelSpec",
    "ValidatedRequest",
    "check_declared",
    "check_prompt",
    "check_reference_count",
    "check_shape",
    "clean_prompt",
    "common_shape",
    "get_model",
    "may_be_image",
    "parse_aspect",
    "resolve_size",
    "validate",
]

MAX_REFERENCES = 14
MAX_TOTAL_IMAGES = 15  # references + outputs in one request
MAX_OUTPUTS = 15
REFERENCE_MAX_BYTES = 10 * 1024 * 1024
REFERENCE_MAX_SIDE = 6000
REFERENCE_MIN_SIDE = 15  # Seedream: "width and height (px) > 14"
# What a person may send as one reference: a phone's full-size photo or a 5K screenshot is over
# Seedream's limits above, and is shrunk to fit (attachments.reference) rather than refused.
UPLOAD_MAX_BYTES = 40_000_000
RATIO_MIN, RATIO_MAX = 1 / 16, 16.0
# Apiframe takes up to 2000 characters, the most of any provider; narrower ones are routed around.
PROMPT_MAX_CHARS = 2000
# A style's words are added to every prompt that picks it: half a prompt leaves the user room.
STYLE_WORDS_MAX_CHARS = 1000
REFERENCE_MIMES = frozenset({"image/jpeg", "image/png", "image/webp", "image/bmp", "image/tiff", "image/gif"})
# What a platform declares for bytes it does not know the type of: the magic bytes decide.
_UNDECLARED_TYPES = frozenset({"", "application/octet-stream"})

# Recommended sizes (landscape; portrait swaps W and H).
_RECOMMENDED: dict[str, dict[tuple[int, int], tuple[int, int]]] = {
    "2K": {
        (1, 1): (2048, 2048),
        (4, 3): (2304, 1728),
        (16, 9): (2848, 1600),
        (3, 2): (2496, 1664),
        (21, 9): (3136, 1344),
    },
    "3K": {
        (1, 1): (3072, 3072),
        (4, 3): (3456, 2592),
        (16, 9): (4096, 2304),
        (3, 2): (3744, 2496),
        (21, 9): (4704, 2016),
    },
    "4K": {(1, 1): (4096, 4096)},
}

# The aspect ratios every surface offers as choices: the documents' recommended sizes, both ways
# round (21:9 only wide); any other W:H within the limits is accepted as typed.
ASPECTS = ("1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "21:9")

_TIER_SIDE = {"2K": 2048, "3K": 3072, "4K": 4096}


@dataclass(frozen=True, slots=True)
class ModelSpec:
    key: str  # "5.0-lite"
    name: str  # "Seedream 5.0 lite"
    tiers: tuple[str, ...]
    min_pixels: int
    max_pixels: int
    output_formats: tuple[str, ...]
    optimize_modes: tuple[str, ...]

    @property
    def default_tier(self) -> str:
        return self.tiers[0]

    def makes(self, width: int, height: int) -> bool:
        """Whether the model makes a WxH image: pixels in its range, sides from 1:16 to 16:1."""
        ratio_ok = width > 0 and height > 0 and RATIO_MIN <= width / height <= RATIO_MAX
        return ratio_ok and self.min_pixels <= width * height <= self.max_pixels


MODELS: dict[str, ModelSpec] = {
    "5.0-lite": ModelSpec(
        key="5.0-lite",
        name="Seedream 5.0 lite",
        tiers=("2K", "3K"),
        min_pixels=3_686_400,
        max_pixels=10_404_496,
        output_formats=("jpeg", "png"),
        optimize_modes=("standard",),
    ),
    "4.5": ModelSpec(
        key="4.5",
        name="Seedream 4.5",
        tiers=("2K", "4K"),
        min_pixels=3_686_400,
        max_pixels=16_777_216,
        output_formats=("jpeg",),
        optimize_modes=("standard",),
    ),
}
# What some model offers, in order: a surface's choices (validate() checks them against the
# model chosen).
TIERS = tuple(dict.fromkeys(t for spec in MODELS.values() for t in spec.tiers))
FORMATS = tuple(dict.fromkeys(f for spec in MODELS.values() for f in spec.output_formats))

# A model as people write it, once spaces, '-', '_', "Seedream" and a leading "v" are gone:
# "Seedream 5.0 lite", "seedream-4.5", "v4.5", "lite". A bare "4" is not guessed (Seedream 4.0).
_MODEL_ALIASES = {
    "5": "5.0-lite",
    "5.0": "5.0-lite",
    "5lite": "5.0-lite",
    "5.0lite": "5.0-lite",
    "lite": "5.0-lite",
    "4.5": "4.5",
}


def model_name(key: str) -> str:
    """A model's display name ("Seedream 4.5"), or the key itself when it is not one we know
    (a job recorded by an older seedbot)."""
    try:
        return get_model(key).name
    except InvalidRequest:
        return key


def get_model(name: str) -> ModelSpec:
    written = re.sub(r"[\s_-]+", "", name.lower()).removeprefix("seedream").removeprefix("v")
    key = _MODEL_ALIASES.get(written, name.strip().lower())
    if key not in MODELS:
        raise InvalidRequest(messages.unknown_model(name, list(MODELS)))
    return MODELS[key]


# Whole numbers, or a film's ratio as it is written ("2.39:1", "1.85:1").
_ASPECT_RE = re.compile(r"^\s*(\d{1,5}(?:\.\d{1,3})?)\s*[:x/]\s*(\d{1,5}(?:\.\d{1,3})?)\s*$")


def parse_aspect(value: str) -> tuple[int, int]:
    """'16:9' -> (16, 9), '2.39:1' -> (239, 100), reduced; raises InvalidRequest outside
    [1/16, 16]."""
    match = _ASPECT_RE.match(value)
    if not match:
        raise InvalidRequest(messages.bad_aspect(value))
    w, h = Fraction(match.group(1)), Fraction(match.group(2))
    if w == 0 or h == 0 or not RATIO_MIN <= w / h <= RATIO_MAX:
        raise InvalidRequest(messages.bad_aspect(value))
    ratio = w / h
    return ratio.numerator, ratio.denominator


def _fit(ratio: float, target: int, spec: ModelSpec) -> tuple[int, int]:
    """A WxH of `ratio`, sides multiples of 16, near `target` pixels, inside the model's range."""
    pixels = min(max(target, spec.min_pixels), spec.max_pixels)
    w = math.sqrt(pixels * ratio)
    width, height = round(w / 16) * 16, round(w / ratio / 16) * 16
    # Rounding can step just outside the range: shrink or grow by one step until inside.
    while width * height > spec.max_pixels:
        width, height = width - 16, max(16, round((width - 16) / ratio / 16) * 16)
    while width * height < spec.min_pixels:
        width, height = width + 16, round((width + 16) / ratio / 16) * 16
    return width, height


def resolve_size(spec: ModelSpec, tier: str, aspect: tuple[int, int]) -> tuple[int, int]:
    """Tier + aspect -> WxH, using the recommended sizes where the documents give them."""
    w, h = aspect
    wide, narrow = max(w, h), min(w, h)
    # By ratio, not by key: parse_aspect reduces "21:9" to (7, 3).
    recommended = _RECOMMENDED.get(tier, {}).items()
    known = next((size for (kw, kh), size in recommended if kw * narrow == kh * wide), None)
    if known is not None:
        size = known if w >= h else (known[1], known[0])
        if spec.min_pixels <= size[0] * size[1] <= spec.max_pixels:
            return size
    side = _TIER_SIDE[tier]
    return _fit(w / h, side * side, spec)


_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def _joins(text: str, i: int, kept: list[str]) -> bool:
    """Whether text[i] is an invisible character a script or an emoji is written with, where it
    does that: a zero-width non-joiner or joiner between two visible characters (Persian
    "کتاب‌خانه", Devanagari, 👨‍👩‍👧), a flag's tags after it (🏴 Scotland)."""
    after_visible = bool(kept) and not kept[-1].isspace()
    if text[i] in "\u200c\u200d":
        following = text[i + 1 : i + 2]
        return (
            after_visible
            and bool(following.strip())
            and unicodedata.category(following) not in {"Cc", "Cf", "Cs"}
        )
    return after_visible and 0xE0020 <= ord(text[i]) <= 0xE007F


def clean_prompt(text: str) -> str:
    """Drop control and zero-width characters (keeping newlines and tabs, and a joiner between
    two visible characters) and lone surrogates (undecodable bytes a shell hands on, a JSON
    "\\udcff": no text, and no database stores them), and trim."""
    kept: list[str] = []
    for i, ch in enumerate(text):
        if ch in "\n\t" or _joins(text, i, kept):
            kept.append(ch)
        elif ch in _INVISIBLE or unicodedata.category(ch) in {"Cc", "Cf", "Cs"}:
            continue
        else:
            kept.append(ch)
    return "".join(kept).strip()


@dataclass(frozen=True, slots=True)
class ValidatedRequest:
    """A request that passed every limit, with its size resolved."""

    request: GenerationRequest
    spec: ModelSpec
    prompt: str
    width: int
    height: int
    tier: str | None  # None when the user gave an explicit size
    aspect: tuple[int, int]

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def count(self) -> int:
        return self.request.count

    @property
    def images(self) -> tuple[ImageInput, ...]:
        return self.request.images

    @property
    def aspect_text(self) -> str:
        return f"{self.aspect[0]}:{self.aspect[1]}"


def may_be_image(content_type: str | None) -> bool:
    """Whether a declared type leaves the file a possible image (no type, or an unknown one,
    leaves it to the magic bytes)."""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    return declared in _UNDECLARED_TYPES or declared.startswith("image/")


def check_declared(name: str, content_type: str | None, size: int | None) -> None:
    """What a surface knows of an attachment before downloading it: its declared type and size."""
    if not may_be_image(content_type):
        raise InvalidImage(messages.not_an_image(name))
    if size is not None and size > UPLOAD_MAX_BYTES:
        raise InvalidImage(messages.image_too_large(name, size, UPLOAD_MAX_BYTES))
    if size == 0:
        raise InvalidImage(messages.not_an_image(name))


def check_reference_count(count: int) -> None:
    """Seedream's limit on references, checked on their count before any is downloaded."""
    if count > MAX_REFERENCES:
        raise InvalidImage(messages.too_many_references(count, MAX_REFERENCES))


def check_reference(image: ImageInput) -> None:
    name = image.name or "image"
    if image.mime not in REFERENCE_MIMES:
        raise InvalidImage(messages.not_an_image(name))
    if image.size > REFERENCE_MAX_BYTES:
        raise InvalidImage(messages.image_too_large(name, image.size, REFERENCE_MAX_BYTES))
    if image.width > REFERENCE_MAX_SIDE or image.height > REFERENCE_MAX_SIDE:
        raise InvalidImage(
            messages.image_too_many_pixels(name, image.width, image.height, REFERENCE_MAX_SIDE)
        )
    check_shape(name, image.width, image.height)
    if min(image.width, image.height) < REFERENCE_MIN_SIDE:  # one stored before they were enlarged
        raise InvalidImage(messages.image_too_small(name, image.width, image.height, REFERENCE_MIN_SIDE))


def check_shape(name: str, width: int, height: int) -> None:
    """Seedream's limit on a reference's shape: no side more than 16 times the other."""
    if width <= 0 or height <= 0 or not RATIO_MIN <= width / height <= RATIO_MAX:
        raise InvalidImage(messages.image_bad_ratio(name, width, height))


def check_prompt(text: str) -> str:
    """The prompt as it is sent (clean_prompt); InvalidRequest when nothing is left or it is
    too long."""
    prompt = clean_prompt(text)
    if not prompt:
        raise InvalidRequest(messages.PROMPT_EMPTY)
    if len(prompt) > PROMPT_MAX_CHARS:
        raise InvalidRequest(messages.prompt_too_long(len(prompt), PROMPT_MAX_CHARS))
    return prompt


def validate(request: GenerationRequest) -> ValidatedRequest:
    spec = get_model(request.model)
    prompt = check_prompt(request.prompt)
    if not 1 <= request.count <= MAX_OUTPUTS:
        raise InvalidRequest(messages.bad_count(request.count, MAX_OUTPUTS))
    refs = len(request.images)
    check_reference_count(refs)
    if refs + request.count > MAX_TOTAL_IMAGES:
        raise InvalidRequest(messages.references_plus_outputs(refs, request.count, MAX_TOTAL_IMAGES))
    for image in request.images:
        check_reference(image)
    if request.output_format not in spec.output_formats:
        raise InvalidRequest(
            messages.bad_output_format(request.output_format, spec.name, list(spec.output_formats))
        )
    if request.optimize not in spec.optimize_modes:
        raise InvalidRequest(messages.bad_optimize(request.optimize, spec.name, list(spec.optimize_modes)))

    if request.width is not None or request.height is not None:
        width, height = request.width or 0, request.height or 0
        if not spec.makes(width, height):
            shape = _same_shape(spec, width, height)
            raise InvalidRequest(
                messages.size_out_of_range(width, height, spec.name, spec.min_pixels, spec.max_pixels, shape)
            )
        g = math.gcd(width, height)
        return ValidatedRequest(request, spec, prompt, width, height, None, (width // g, height // g))

    tier = (request.resolution or spec.default_tier).upper()
    if tier not in spec.tiers:
        raise InvalidRequest(messages.bad_resolution(request.resolution or "", spec.name, list(spec.tiers)))
    aspect = parse_aspect(request.aspect) if request.aspect else _default_aspect(request)
    width, height = resolve_size(spec, tier, aspect)
    return ValidatedRequest(request, spec, prompt, width, height, tier, aspect)


def _same_shape(spec: ModelSpec, width: int, height: int) -> tuple[str, str] | None:
    """For a size under the model's smallest ("1920x1080", "512x512"): the `--ar` that makes its
    shape and the size it makes, where the shape is a plain ratio the model makes."""
    g = math.gcd(width, height)
    w, h = (width // g, height // g) if g else (0, 0)
    plain = 0 < w <= 32 and 0 < h <= 32 and RATIO_MIN <= w / h <= RATIO_MAX
    if width * height >= spec.min_pixels or not plain:
        return None
    made = resolve_size(spec, spec.default_tier, (w, h))
    return f"{w}:{h}", f"{made[0]}x{made[1]}"


_COMMON_SHAPES = ((1, 1), (4, 3), (3, 4), (16, 9), (9, 16), (3, 2), (2, 3), (21, 9), (9, 21))


def common_shape(width: int, height: int) -> tuple[int, int]:
    """The common ratio nearest to width:height (where the recommended sizes apply)."""
    ratio = max(width, 1) / max(height, 1)  # "000x1080" typed: no side is nothing (log(0) failed)
    return min(_COMMON_SHAPES, key=lambda r: abs(math.log(ratio / (r[0] / r[1]))))


def _default_aspect(request: GenerationRequest) -> tuple[int, int]:
    """Square, or the first reference's shape for edits (what users expect from an edit)."""
    if request.images:
        first = request.images[0]
        w, h = common_shape(first.width, first.height)
        return w // math.gcd(w, h), h // math.gcd(w, h)  # 21:9 as 7:3, as `--ar 21:9` is read
    return (1, 1)
