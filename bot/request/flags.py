"""Short flags in free text, read the same for every surface.

    "a red fox in snow --ar 3:2 --res 3K --n 4 --model 4.5 #2"
    "a red fox, 3:2"          (a trailing ratio after a comma is an aspect ratio too)

Unknown flags and bad values raise FlagError with a friendly sentence; nothing is guessed.
Other models' settings (Midjourney's "--v 6.1 --style raw", a negative prompt "--neg blurry",
Stable Diffusion's generation data; other_models.py) are named together, with the text to send
instead.
What phones, input methods and habit do to what was typed is undone: an em or en dash that
autocorrect made of "--" (or a single "-") before a flag's name ("—ar 16:9", "-n 2"), a ratio
typed with spaces ("16 : 9"), full-width forms in a flag's value ("16：9", "２K"), and a message
sent as code or quoted with its flags; the prompt itself is kept as typed.
In a reply, words that only say an option ("make it portrait", "again in 16:9", "4.5") are that
option.
"""

from __future__ import annotations

import difflib
import io
import re
import shlex
from dataclasses import dataclass, replace

from bot import messages
from bot.errors import FlagError, InvalidRequest
from bot.numbers import COUNT_PATTERN, count_of, whole_number
from bot.request import other_models
from bot.request.models import GenerationRequest, ImageInput
from bot.request.styles import check_name
from bot.request.validation import ASPECTS, MAX_OUTPUTS, check_prompt, clean_prompt, get_model, parse_aspect

__all__ = [
    "AGAIN_WORDS",
    "ParsedText",
    "cast_names",
    "check_values",
    "flag_help",
    "form_problem",
    "parse_text",
    "unwrapped",
]

_FLAG_SYNTAX = [
    "--ar W:H",
    "--res 2K|3K|4K|WxH",
    "--n 1-15",
    "--model 5.0-lite|4.5",
    "--format png|jpeg",
    "--no-watermark",
    "--watermark",
]


def flag_help() -> list[str]:
    """The options as the help and an unknown flag's refusal list them (in the user's language)."""
    return [*_FLAG_SYNTAX, messages.FLAG_PICK, "--style NAME", messages.FLAG_REF]


_ALIASES = {
    "--ar": "aspect",
    "--aspect": "aspect",
    "--res": "resolution",
    "--resolution": "resolution",
    "--size": "resolution",
    "--n": "count",
    "--count": "count",
    "--model": "model",
    "--m": "model",
    "--format": "format",
    "--fmt": "format",
    "--style": "style",
}
_EXAMPLES = {
    "aspect": "16:9",
    "resolution": "2K",
    "count": "2",
    "model": "4.5",
    "format": "png",
    "style": "anime",
}
_REFS = {"--ref", "--cast"}  # may repeat: each adds saved cast images, in order
_SWITCHES = {"--no-watermark": False, "--watermark": True}
# "--4k", "--png": a value that names its option alone, as other bots take them.
_SHORTHANDS = {
    **{f"--{tier}": ("resolution", tier.upper()) for tier in ("2k", "3k", "4k")},
    **{f"--{fmt}": ("format", fmt) for fmt in ("png", "jpg", "jpeg")},
}
# "--n2", "--ar16:9", "--res4k": a value typed against its flag.
_GLUED = re.compile(r"(--[a-z]+?)(\d[\w.:x×/]*)", re.IGNORECASE)
_SIZE_RE = re.compile(r"^(\d{3,5})\s*[x×*]\s*(\d{3,5})$", re.IGNORECASE)
_TRAILING_RATIO = re.compile(r"[,、，،]\s*(\d{1,2}\s*[:：]\s*\d{1,2})\s*$")
# "a cat (16:9)", "a cat in 16:9", "a cat, aspect ratio 16:9", "a cat ar 16:9" (the flag without
# its dashes): only a ratio seedbot offers, so "a clock in 10:30" is words.
_OFFERED = "|".join(re.escape(a) for a in ASPECTS)
# Also in brackets with its name ("(aspect ratio 16:9)", "[16:9]"), or named after it ("a cat
# 16:9 format"; alone, "a clock showing 3:2" is a time); an orientation named so ("a cat,
# portrait orientation") is that shape's name.
_RATIO_NAME = r"(?:ar|aspect(?:\s+ratio)?|ratio|format|orientation)"
# "in a 16:9 format", "with a 16:9 ratio", "in the 16:9 aspect ratio": the words before go with it.
_IN_A = r"[\s,]+(?:in|with)\s+(?:(?:a|an|the)\s+)?"
_NAMED_RATIO = re.compile(
    rf"(?:[\s,]+in\s+|\s*[(\[（［]\s*(?:{_RATIO_NAME}\s*[:=]?\s*)?|[\s,]+{_RATIO_NAME}\s*[:=]?\s*"
    rf"|(?:{_IN_A}|[\s,]+)(?=\S+\s+{_RATIO_NAME}))"
    rf"({_OFFERED}|(?<=\s)(?:portrait|landscape|vertical|horizontal|square|widescreen)(?=\s+{_RATIO_NAME}))"
    rf"(?:\s+{_RATIO_NAME})?\s*[)\]）］]?\s*[.!]?\s*$",
    re.IGNORECASE,
)
# "ein Fuchs im Hochformat", "雪の中の狐、縦長で": the names that mean a shape and nothing else,
# at the end of a new request ("portrait" or "paysage" alone may be the picture's subject).
_TRAILING_SHAPE_NAME = re.compile(
    r"[\s,、，]+(?:(?:im|in|als)\s+)?(hochformat|querformat|縦長|横長|竖版|横版|竖屏|横屏)(?:で|に(?:して)?|的)?\s*[.!。]?\s*$"
    r"|(?<=[^\s,、，])(縦長|横長|竖版|横版|竖屏|横屏)(?:で|に(?:して)?|的)?\s*[.!。]?\s*$",
    re.IGNORECASE,
)
# "a mountain lake, phone wallpaper", "… for a YouTube thumbnail": where the picture goes, said at
# the end of a new request (only the places that want one shape; "a logo for youtube" is words).
_PLACES = (
    "phone wallpaper",
    "mobile wallpaper",
    "iphone wallpaper",
    "phone background",
    "lock screen",
    "desktop wallpaper",
    "desktop background",
    "instagram story",
    "instagram post",
    "youtube thumbnail",
    "youtube short",
    "tiktok",
    "reels",
)
_TRAILING_PLACE = re.compile(
    r"(?:\s*,\s*|\s+(?:as|for)\s+)(?:(?:an?|my)\s+)?("
    + "|".join(re.escape(p).replace(re.escape(" "), r"\s+") for p in _PLACES)
    + r")\s*[.!]?\s*$",
    re.IGNORECASE,
)
# "a cat 1920x1080": a size typed last is the shape it has (it is seldom one Seedream makes).
_TRAILING_SIZE = re.compile(
    r"[\s,]+([1-9]\d{2,4})\s*[x×]\s*([1-9]\d{2,4})(?:\s*(?:px|pixels))?\s*$", re.IGNORECASE
)
_SAID = r"(?:,?\s+please)?\s*[.!]?\s*"  # how a sentence of a few words ends
# "make it", "in": what may come before a shape said alone (also in seedbot's other languages).
_MAKE_IT_IN = r"\s*(?:(?:make|change|turn|crop|redo)\s+(?:it|this|that|them)\s+)?(?:(?:in|to|into|as|at|im|als|en|em)\s+)?"
# "16:9", "make it 9:16 please", "in 3:2": a message that only says a shape is that option alone
# (replied to a result, it remakes it in that shape; a new request still needs a prompt).
_RATIO_ALONE = re.compile(
    _MAKE_IT_IN
    + r"(\d{1,2}(?:\.\d{1,2})?\s*[:：]\s*\d{1,2})(?:\s+(?:ratio|format|aspect(?:\s+ratio)?))?"
    + _SAID,
    re.IGNORECASE,
)
# "/imagine prompt: a cat": what a Midjourney habit pastes before the prompt.
_COMMAND_WORD = re.compile(r"\s*(?:[/!]imagine\b\s*)?(?:prompt\s*:\s*)?", re.IGNORECASE)
# "#2", "#1,#3" or "#2." (a sentence's end): which images of the result a reply edits.
# Also "#2's hat", "#2: make it night", "(#2)".
_PICK_RE = re.compile(r"(?<![^\s,(])#(\d{1,2})(?![^\s,.!?:)'’])")
# Picks side by side at the start or the end (before the flags): they only say which images.
_PICK_RUN = r"#\d{1,2}(?:[\s,]+#\d{1,2})*"
# Picks and nothing else ("#1 and #3" replied alone): which images, no change said. With words,
# "combine #1 and #3" names them in the sentence.
_PICKS_ONLY = re.compile(
    r"\s*#\d{1,2}(?:(?:\s*[,&+、，和と]\s*|\s+(?:and|und|et|y|e)\s+|\s+)#\d{1,2})*[\s.!?]*"
)
_BARE_PICK = re.compile(r"^\s*(\d{1,2})\s*[.!]?\s*$")  # "2" replied alone: image 2
_LEADING_PICKS = re.compile(rf"\s*{_PICK_RUN}[\s,:]*")
_TRAILING_PICKS = re.compile(rf"[\s,]*{_PICK_RUN}[\s,.!?]*(?=(?<!\S)--[A-Za-z]|$)")
# "4 images of a cat": a new request that says how many, as people ask for them.
# In seedbot's other languages with digits: "4 Bilder von", "3 imágenes de", "2 images de".
_COUNTED = re.compile(
    r"\s*(?:(?:please\s+)?(?:make|draw|generate|create|give\s+me|show\s+me)\s+(?:me\s+)?)?"
    rf"(?:(?P<n>{COUNT_PATTERN})\s+"
    r"(?:different\s+|more\s+)?(?:images?|pictures?|pics?|photos?|versions?|variations?|options?)\s+of\s"
    r"|(?P<digits>\d{1,2})\s+(?:bilder|fotos|versionen|varianten|imágenes|imagenes|versiones|images|photos|"
    r"imagens|versões|versoes)\s+(?:(?:von|de)\s|d')"
    r")\s*",
    re.IGNORECASE,
)
# "a cat, 4 images", "a cat (3 versions)": a count set off at the end ("a collage of 4 images" is
# words: without the comma or brackets the count is part of the picture).
_TRAILING_COUNT = re.compile(
    rf"\s*(?:,\s*|\(\s*)(?P<n>{COUNT_PATTERN})\s+(?:different\s+)?(?:images?|pictures?|pics?|versions?|"
    r"variations?|options?)\s*\)?\s*$",
    re.IGNORECASE,
)
# A typo is told the option it looks like ("--rez": "--res"). Not for names too short to tell
# apart ("--no" is not "--n").
_SUGGESTED = sorted(f for f in {*_ALIASES, *_REFS, *_SWITCHES} if len(f) > 4)
# U+FF01-FF5E are ASCII's full-width twins; only they are folded (NFKC would also make "²" a 2).
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# "—ar" or "–n": smart punctuation (iOS, macOS) turns a typed "--" into one dash; "-ar" is one
# hyphen short. Only before a flag's own name, so a dash in the prompt ("a fox —majestic",
# "rock -and- roll") stays words.
_FLAG_NAMES = "|".join(sorted((f[2:] for f in {*_ALIASES, *_REFS, *_SWITCHES}), key=len, reverse=True))
_DASHED_FLAG = re.compile(rf"(?<!\S)(?:[—–]|-(?!-))(?=(?:{_FLAG_NAMES})(?:[\s=]|$))", re.IGNORECASE)
# "--ar portrait": a shape by the name other image tools give it.
_ASPECT_NAMES = {
    "square": "1:1",
    "portrait": "3:4",
    "landscape": "4:3",
    "wide": "16:9",
    "widescreen": "16:9",
    "horizontal": "16:9",
    "tall": "9:16",
    "vertical": "9:16",
    # In seedbot's other languages (replied alone, "querformat" remakes a result in 4:3).
    **dict.fromkeys(
        ("quadrat", "quadratisch", "cuadrado", "carré", "carre", "quadrado", "正方形", "方形"), "1:1"
    ),
    **dict.fromkeys(("hochformat", "retrato", "縦長", "竖版", "竖屏"), "3:4"),
    **dict.fromkeys(("querformat", "paysage", "paisagem", "横長", "横版", "横屏"), "4:3"),
    # Where the picture is going: the shape that place wants (the nearest seedbot offers).
    **dict.fromkeys(
        (
            "phone wallpaper",
            "mobile wallpaper",
            "iphone wallpaper",
            "phone background",
            "lock screen",
            "instagram story",
            "story",
            "reel",
            "reels",
            "tiktok",
            "youtube short",
            "shorts",
        ),
        "9:16",
    ),
    **dict.fromkeys(
        ("desktop wallpaper", "desktop background", "youtube thumbnail", "thumbnail", "youtube"), "16:9"
    ),
    **dict.fromkeys(("instagram post", "instagram", "profile picture", "avatar", "pfp", "icon"), "1:1"),
    "banner": "21:9",
}
# The words for Re-roll (conversation/phrases.py reads a reply of them alone as the button).
AGAIN_WORDS = (
    r"re-?roll|again|(?:the\s+)?same(?:\s+thing)?\s+again|try\s+again|do\s+it\s+again|once\s+more|"
    # a new seed is what a re-roll is
    r"(?:a\s+)?(?:different|new|another|other|random)\s+seed|(?:the\s+)?same\s+prompt(?:\s+again)?|"
    r"retry|re-?do|re-?generate|regen|nochmal|noch\s*einmal|encore|otra\s+vez|de\s+novo|もう一度|もう一回|"
    r"再来一[张次]|重新生成|"
    # "one more" in seedbot's other languages
    r"noch\s+eins|noch\s+ein\s+bild|encore\s+une(?:\s+fois)?|une\s+autre|otra(?:\s+m[aá]s)?|"
    r"una\s+m[aá]s|outra|mais\s+uma|もう(?:1|一)枚|再来(?:一个)?"
)
# Replied to a result, words that only say an option remake it with that option, as the flag
# would: a shape by its name ("make it portrait", "in landscape", "as a square"), a model
# ("4.5", "try seedream 4.5"), a format ("as png"), each maybe after a word for Re-roll ("again
# in 16:9", "reroll with --model 4.5"). "as a portrait" stays words (a portrait, painted).
_AGAIN_LEAD = re.compile(
    rf"\s*(?:{AGAIN_WORDS}|(?:the\s+)?same(?:\s+(?:thing|one))?)\b,?"  # "same but 16:9"
    r"(?:\s+(?:but|with|in|as|at|using|on|aber|mit|als|mais|avec|en|pero|con|mas|com|em))*(?=\s|$)",
    re.IGNORECASE,
)
# The names, longest first, a space in one matching any run of spaces.
_SHAPE_WORDS = "|".join(
    re.escape(name).replace(re.escape(" "), r"\s+") for name in sorted(_ASPECT_NAMES, key=len, reverse=True)
)
_SHAPE_NAMED = re.compile(
    _MAKE_IT_IN
    + r"(?:for\s+(?:an?\s+)?)?(?:改成|换成|变成)?(?:an?\s+(?=square|phone|mobile|iphone|desktop|youtube|instagram|"
    + r"tiktok|reel|story|short|thumbnail|banner|profile|avatar|pfp|icon|lock))?"
    + f"({_SHAPE_WORDS})"
    rf"(?:\s+(?:ratio|format|mode|orientation|aspect(?:\s+ratio)?|version|one))?"
    rf"(?:で|に(?:して)?(?:ください)?|的)?{_SAID}",
    re.IGNORECASE,
)
_MODEL_NAMED = re.compile(
    r"\s*(?:(?:try|use|using|with|on|in|switch\s+to|change\s+to)\s+)*(?:the\s+)?"
    # "4.5", "seedream 5", "v4.5", "5 lite": a bare "5" is a pick, and "with 5" may be minutes
    r"(seedream\s*(?:v\s*)?\d(?:\.\d)?(?:\s*-?\s*lite)?|(?:v\s*)?\d\.\d(?:\s*-?\s*lite)?|\d\s*-?\s*lite|lite)"
    rf"(?:\s+model)?{_SAID}",
    re.IGNORECASE,
)
# A format seedbot cannot give ("as webp") is read too: the refusal names the two it can.
_FORMAT_NAMED = re.compile(
    rf"\s*(?:(?:as|in|to)\s+(?:an?\s+)?)?(png|jpe?g|webp|gif|svg|avif|heic|tiff?|bmp)(?:\s+(?:file|format))?{_SAID}",
    re.IGNORECASE,
)
# "in 3K", "2k resolution": a tier said alone (4K is Upscale's: conversation/phrases.py).
_TIER_NAMED = re.compile(
    rf"\s*(?:make\s+it\s+(?:(?:in|at)\s+)?|(?:in|at|to)\s+)?([23]k)(?:\s+(?:resolution|res|quality|version))?{_SAID}",
    re.IGNORECASE,
)
# "make it 1920x1080" replied: the size's shape, as a new request's size typed last is.
_SIZE_NAMED = re.compile(
    _MAKE_IT_IN + rf"([1-9]\d{{2,4}})\s*[x×]\s*([1-9]\d{{2,4}})(?:\s*(?:px|pixels))?{_SAID}", re.IGNORECASE
)
_NAMED = (
    ("aspect", _SHAPE_NAMED),
    ("model", _MODEL_NAMED),
    ("format", _FORMAT_NAMED),
    ("resolution", _TIER_NAMED),
)
# "no watermark", "remove the watermark", "with a watermark": the --no-watermark / --watermark
# switch said in words (in seedbot's languages too).
_WATERMARK_NAMED = re.compile(
    r"\s*(?:(?P<off>(?:(?:no|without|remove|drop|lose|take\s+off|get\s+rid\s+of)(?:\s+(?:a|the|any))?"
    r"|ohne|sans|sin|sem)\s+(?:watermarks?|wasserzeichen|filigrane|marca\s+de\s+agua|marca\s+d['’]\s*água)"
    r"|透かしなし|透かしを消して|去水印|无水印|不要水印)"
    r"|(?:with|add)(?:\s+(?:a|the))?\s+watermark|mit\s+wasserzeichen|avec\s+filigrane|con\s+marca\s+de\s+agua)"
    rf"{_SAID}",
    re.IGNORECASE,
)
# Chat formatting around a message: "`a fox --ar 3:2`", a code block, a quoted prompt with flags.
_CODE = re.compile(r"```(?:[a-z]+\n)?(.*?)```|`([^`\n]+)`", re.DOTALL)
_QUOTED = re.compile(r'\s*(["“])(.*?(?<!\S)--[A-Za-z].*?)(["”])\s*', re.DOTALL)
# "--ar 16 : 9", "--res 2048 x 1536": a ratio or a size typed with spaces is one value.
_SPACED_RATIO = re.compile(r"(?<=\d)\s*([:：])\s*(?=\d)|(?<=\d{3})\s+([x×*])\s+(?=\d{3})")


@dataclass(frozen=True, slots=True)
class ParsedText:
    prompt: str
    aspect: str | None = None
    resolution: str | None = None
    width: int | None = None
    height: int | None = None
    count: int | None = None
    model: str | None = None
    output_format: str | None = None
    watermark: bool | None = None
    picks: tuple[int, ...] = ()  # 1-based images of a batch ("#2", "#1 and #3"), in order
    style: str | None = None  # a style preset's name
    refs: tuple[str, ...] = ()  # saved cast names, in order

    def to_request(
        self, *, images: tuple[ImageInput, ...] = (), default_model: str = "5.0-lite", **defaults: object
    ) -> GenerationRequest:
        """A request from these flags; flags the user gave win over `defaults`."""
        request = GenerationRequest(prompt=self.prompt, images=images, model=self.model or default_model)
        return self.over(replace(request, **defaults))  # type: ignore[arg-type]

    def over(self, request: GenerationRequest) -> GenerationRequest:
        """`request` with the options these flags gave in place of its own (see `on_top`)."""
        given = {
            "aspect": self.aspect,
            "resolution": self.resolution,
            "width": self.width,
            "height": self.height,
            "count": self.count,
            "model": self.model,
            "output_format": self.output_format,
            "watermark": self.watermark,
        }
        own = {k: getattr(request, k) for k in given}
        return replace(request, **on_top(own, {k: v for k, v in given.items() if v is not None}))  # type: ignore[arg-type]


def on_top(lower: dict[str, object], upper: dict[str, object]) -> dict[str, object]:
    """Request fields `upper` sets over `lower`'s (the bot's, a server's, a style's, a form's, the
    text's flags, each over the one before). A shape or a tier said above drops a size said
    below, and a size drops them: an exact size comes first in validation, so a server's default
    2560x1440 made `--ar 9:16` 2560x1440 too."""
    merged = {**lower, **upper}
    if upper.get("aspect") is not None or upper.get("resolution") is not None:
        if upper.get("width") is None:
            merged["width"] = merged["height"] = None
    elif upper.get("width") is not None:
        merged["aspect"] = merged["resolution"] = None
    return merged


def _split(text: str) -> tuple[list[str], list[str]]:
    """The words (quotes taken off, as a flag's value wants them) and each as typed (as words
    of the prompt want them: "a sign that says \"OPEN\"", "the cat's bowl" kept their quotes)."""
    stream = io.StringIO(text)
    lexer = shlex.shlex(stream, posix=True)
    lexer.whitespace_split = True
    words: list[str] = []
    typed: list[str] = []
    try:
        while True:
            start = stream.tell()
            word = lexer.get_token()
            if word is None:
                return words, typed
            words.append(word)
            typed.append(text[start : stream.tell()].strip())
    except ValueError:  # an unbalanced quote: plain whitespace
        return text.split(), text.split()


def parse_text(text: str, *, picks: bool = True) -> ParsedText:
    """`picks`: read "#N" as a pick of the image a reply edits. A new request has none to pick
    from, so there "#1" is the prompt's ("a trophy that says #1")."""
    values: dict[str, object] = {}
    refs: list[str] = []
    foreign: list[list[str]] = []  # other models' settings, each as typed with its values (other_models)
    typed = text = unwrapped(text)
    text = _DASHED_FLAG.sub("--", text)
    chosen: tuple[int, ...] = ()
    if picks:
        text, chosen = _picked(_BARE_PICK.sub(r"#\1", text))
    if lead := _COMMAND_WORD.match(text):
        text = text[lead.end() :]
    typed = typed[lead.end() :] if (lead := _COMMAND_WORD.match(typed)) else typed
    if pasted := other_models.generation_data(typed):
        raise FlagError(
            messages.other_models_settings(pasted.settings, pasted.send, negative=pasted.negative)
        )
    # The prompt is what comes before the first flag; flags come in pairs after it.
    flag_at = re.search(r"(?<!\S)--(?:[A-Za-z]|[234]k(?!\S))", text, re.IGNORECASE)
    prompt, tail = (text[: flag_at.start()], text[flag_at.start() :]) if flag_at else (text, "")
    # Any space between a flag and its value (a no-break space from a phone, an IME's ideographic
    # one) is one: shlex splits at ASCII spaces only ("--ar\u00a016:9" was an unknown flag).
    tail = re.sub(r"\s", " ", tail)
    tokens, as_typed = _split(_SPACED_RATIO.sub(lambda m: m.group(1) or m.group(2), tail))
    after = " "  # what joins the next word of the prompt ("--ar 16:9, cinematic": ", ")
    i = 0
    while i < len(tokens):
        token = _unpunctuated(tokens[i].lower())
        i += 1
        if token in _SWITCHES:
            values["watermark"] = _SWITCHES[token]
            continue
        if token in _SHORTHANDS:
            name, value = _SHORTHANDS[token]
            values[name] = value
            continue
        if token.startswith("--") and token[2:] in _ASPECT_NAMES:  # "--portrait", "--tiktok"
            values["aspect"] = token[2:]
            continue
        if (glued := _GLUED.fullmatch(token)) and (glued[1] in _ALIASES or other_models.names(glued[1])):
            token, typed_token = glued[1], tokens[i - 1]
            tokens[i - 1 : i] = [typed_token[: len(token)], typed_token[len(token) :]]
            as_typed[i - 1 : i] = tokens[i - 1 : i + 1]
        if "=" in token and token.split("=", 1)[0] in {*_ALIASES, *_REFS}:
            token, inline = token.split("=", 1)
            tokens.insert(i, inline)
            as_typed.insert(i, inline)
        if token in _REFS:
            if i >= len(tokens):
                raise FlagError(messages.flag_needs_value(tokens[i - 1], f"{token} mia"))
            # "--ref mia, bob": the names go on while a comma says another comes
            while True:
                refs.extend(cast_names(tokens[i]))
                i += 1
                if not tokens[i - 1].endswith(_COMMAS) or i >= len(tokens) or tokens[i].startswith("--"):
                    break
            continue
        if other_models.is_setting(token, _unpunctuated(tokens[i]) if i < len(tokens) else None):
            i = other_models.take(tokens, i, foreign)
            continue
        if token not in _ALIASES:
            if token.startswith("--"):
                raise FlagError(messages.unknown_flag(tokens[i - 1], flag_help(), _typo_of(token)))
            prompt = prompt.rstrip() + after + as_typed[i - 1]  # words after flags still belong to the prompt
            after = " "
            continue
        if i >= len(tokens):
            raise FlagError(messages.flag_needs_value(tokens[i - 1], f"{token} {_EXAMPLES[_ALIASES[token]]}"))
        name = _ALIASES[token]
        if i + 1 < len(tokens) and _two_words(name, tokens[i], tokens[i + 1]):
            tokens[i : i + 2] = [f"{tokens[i]} {tokens[i + 1]}"]  # "--ar instagram story"
            as_typed[i : i + 2] = [tokens[i]]
        values[name] = _unpunctuated(tokens[i])
        after = ", " if tokens[i].endswith(_COMMAS) else " "
        i += 1
    if foreign:
        shown, send = other_models.shown(foreign), other_models.without(typed, foreign)
        raise FlagError(
            messages.other_models_settings(shown, send, negative=other_models.has_negative(foreign))
        )

    counted = _COUNTED.match(prompt) if not picks and "count" not in values else None
    if counted and 1 <= (count := count_of(counted["n"] or counted["digits"])) <= MAX_OUTPUTS:
        values["count"] = str(count)
        prompt = prompt[counted.end() :]
    if picks and (words := _option_words(prompt, values)) is not None:
        prompt = words
    # A count and a shape set off at the end, in either order ("a cat, 16:9, 4 images"), each
    # looked for in the prompt's last words only (_at_end).
    prompt = prompt.rstrip()
    for _ in range(2):
        counted = _at_end(_TRAILING_COUNT, prompt) if not picks and "count" not in values else None
        if counted and prompt[: counted.start()].strip():
            # set off so, a count is one even past what Seedream makes: refused with the range
            values["count"] = str(count_of(counted["n"]))
            prompt = prompt[: counted.start()]
        ratio = _shape_alone(prompt) or _at_end(_TRAILING_RATIO, prompt) or _at_end(_NAMED_RATIO, prompt)
        if ratio and "aspect" not in values:
            values["aspect"] = re.sub(r"\s", "", ratio.group(1))
            prompt = prompt[: ratio.start()]
        named = _at_end(_TRAILING_SHAPE_NAME, prompt) if "aspect" not in values else None
        if named and prompt[: named.start()].strip():
            values["aspect"] = named.group(1) or named.group(2)
            prompt = prompt[: named.start()]
        place = _at_end(_TRAILING_PLACE, prompt) if not picks and "aspect" not in values else None
        if place and prompt[: place.start()].strip():
            values["aspect"] = place.group(1)
            prompt = prompt[: place.start()]
    # (a new request's: replied, "make it 1920x1080" would leave "make it" to draw)
    size = (
        _at_end(_TRAILING_SIZE, prompt) if not picks and not {"aspect", "resolution"} & set(values) else None
    )
    if size and prompt[: size.start()].strip():
        values["aspect"] = other_models.shape_of(int(size[1]), int(size[2]))
        prompt = prompt[: size.start()]
    if refs:
        values["refs"] = refs
    return _typed(prompt.strip(), values, chosen)


# How far from its end a prompt is searched for what people set off there ("…, 16:9", "… for a
# phone wallpaper", "(aspect ratio 16:9)"): each is a few words. Searched from the start, a long
# run of commas or spaces cost seconds (every start tried, each scanning to the end).
_END_WINDOW = 120


def _at_end(pattern: re.Pattern[str], prompt: str) -> re.Match[str] | None:
    return pattern.search(prompt, max(0, len(prompt) - _END_WINDOW))


def unwrapped(text: str) -> str:
    """The text without the chat formatting wrapped around it: code spans and blocks ("`a fox
    --ar 3:2`", as the help shows an example), and quotes around a message that has flags."""
    text = _CODE.sub(lambda code: code.group(1) if code.group(1) is not None else code.group(2), text)
    quoted = _QUOTED.fullmatch(text)
    # Not when quotes inside pair with the outer ones ('“STOP” sign --ar 1:1, says “GO”')
    return quoted.group(2) if quoted and not set(quoted.group(2)) & set('"“”') else text


def _option_words(prompt: str, values: dict[str, object]) -> str | None:
    """A reply's words that only say an option (_NAMED, _WATERMARK_NAMED, a ratio), maybe after
    "again": that option set in `values`, and what is left of the prompt (nothing). None when
    the words say more."""
    lead = _AGAIN_LEAD.match(prompt)
    rest = prompt[lead.end() :] if lead else prompt
    if lead and not rest.strip():
        return "" if values else None  # "reroll with --model 4.5": the flag said it
    if _shape_alone(rest):
        return rest if lead else None  # read as a ratio next
    for name, said in _NAMED:
        if name not in values and (found := said.fullmatch(rest)):
            if name == "model" and not _is_model(found.group(1)):
                continue
            values[name] = found.group(1)
            return ""
    if "aspect" not in values and (size := _SIZE_NAMED.fullmatch(rest)):
        values["aspect"] = other_models.shape_of(int(size[1]), int(size[2]))
        return ""
    if "watermark" not in values and (switch := _WATERMARK_NAMED.fullmatch(rest)):
        values["watermark"] = switch.group("off") is None
        return ""
    return None


def _two_words(option: str, first: str, second: str) -> bool:
    """Whether a value is the two words ("--ar instagram story", "--model Seedream 4.5", "--model
    5.0 lite"): the second word was drawn ("a cat story") or the first refused ("Seedream")."""
    both = f"{first} {_unpunctuated(second)}"
    if first.endswith((",", ".")) or second.startswith("--"):
        return False
    if option == "aspect":
        return both.lower() in _ASPECT_NAMES
    if option == "model":
        return _is_model(both) and (not _is_model(first) or second.lower().strip(".,") == "lite")
    return False


def _is_model(name: str) -> bool:
    try:
        get_model(name)
    except InvalidRequest:
        return False
    return True


def _shape_alone(text: str) -> re.Match[str] | None:
    """A message that only says a shape (_RATIO_ALONE). A ratio with no word around it must be
    one seedbot offers: "10:30" alone is a time, "make it 10:30" a shape."""
    said = _RATIO_ALONE.fullmatch(text)
    if said is None:
        return None
    ratio = re.sub(r"\s", "", said.group(1))
    bare = re.sub(r"\s", "", said.group(0)).rstrip(".!") == ratio
    return None if bare and ratio not in ASPECTS else said


def _picked(text: str) -> tuple[str, tuple[int, ...]]:
    """The text without its picks, and the images picked, in order. Picks that stand together
    at the start or the end ("#2 make it night", "make them night #1 #3") only say which images;
    picks inside the sentence ("put the hat from #1 on #2") become the names the model knows
    the references by ("image 1", "image 2": the picked images come first, in this order)."""
    numbers = tuple(dict.fromkeys(int(m.group(1)) for m in _PICK_RE.finditer(text)))
    if not numbers:
        return text, ()
    if _PICKS_ONLY.fullmatch(text):
        return "", numbers
    for edge in (_LEADING_PICKS.match(text), _TRAILING_PICKS.search(text)):
        if edge is not None and len(_PICK_RE.findall(edge.group())) == len(_PICK_RE.findall(text)):
            return text[: edge.start()] + " " + text[edge.end() :], numbers
    name = {n: messages.image_label(i) for i, n in enumerate(numbers, start=1)}
    return _PICK_RE.sub(lambda m: name[int(m.group(1))], text), numbers


def _unpunctuated(word: str) -> str:
    """A flag or its value without the punctuation of the sentence it ended ("--ar 16:9.",
    "--n 2, cinematic"); a word of punctuation alone stays what it is."""
    return word.rstrip(".,;!?。，、；！？") or word


def _typo_of(flag: str) -> list[str]:
    return difflib.get_close_matches(flag, _SUGGESTED, n=1, cutoff=0.8)


# How a refusal names a value: the flag typed in text, or the field a form (a slash command's
# option, the playground's control, the shell's --count) set it with.
_TYPED_NAMES = {"aspect": "--ar", "resolution": "--res", "count": "--n", "format": "--format"}
_FORM_NAMES = {key: key for key in _TYPED_NAMES}


_COMMAS = (",", "，", "、")


def cast_names(text: str) -> tuple[str, ...]:
    """Saved cast names as a list says them ("mia, bob", "ミア、ボブ"): `--ref`'s value, a form's."""
    return tuple(name for n in re.split("[,，、]", text) if (name := _unpunctuated(n).strip()))


def check_values(values: dict[str, object]) -> ParsedText:
    """Typed option values (a form's) checked exactly like the same flags in text."""
    fields = {k: v for k, v in values.items() if k != "watermark"}
    return _typed("", fields, (), values.get("watermark"), names=_FORM_NAMES)


def _typed(
    prompt: str,
    values: dict[str, object],
    picks: tuple[int, ...] = (),
    watermark: object = None,
    *,
    names: dict[str, str] = _TYPED_NAMES,
) -> ParsedText:
    if watermark is None:
        watermark = values.get("watermark")
    # A CJK input method types "16：9" and "２K": their plain forms, as a value (never the prompt).
    values = {k: v.translate(_FULL_WIDTH) if isinstance(v, str) else v for k, v in values.items()}
    out = ParsedText(prompt=prompt, picks=picks, watermark=watermark)  # type: ignore[arg-type]
    if "aspect" in values:
        aspect = str(values["aspect"])
        aspect = _ASPECT_NAMES.get(" ".join(aspect.lower().split()), aspect)
        try:
            parse_aspect(aspect)
        except Exception:
            raise FlagError(messages.bad_flag_value(names["aspect"], aspect, messages.HINT_ASPECT)) from None
        out = replace(out, aspect=aspect)
    if "resolution" in values:
        res = str(values["resolution"])
        size = _SIZE_RE.match(res)
        if size:
            out = replace(out, width=int(size.group(1)), height=int(size.group(2)))
        elif res.upper() in {"2K", "3K", "4K"}:
            out = replace(out, resolution=res.upper())
        else:
            raise FlagError(messages.bad_flag_value(names["resolution"], res, messages.HINT_RESOLUTION))
    if "count" in values:
        raw = str(values["count"])
        count = whole_number(raw)
        if count is None and re.fullmatch(COUNT_PATTERN, raw, re.IGNORECASE):
            count = count_of(raw)  # "--n two"
        if count is None or not 1 <= count <= MAX_OUTPUTS:
            hint = messages.hint_number(1, MAX_OUTPUTS)
            raise FlagError(messages.bad_flag_value(names["count"], raw, hint))
        out = replace(out, count=count)
    if "model" in values:
        try:
            model = get_model(str(values["model"])).key
        except InvalidRequest as exc:
            raise FlagError(exc.user_text) from None
        out = replace(out, model=model)
    if "format" in values:
        fmt = str(values["format"]).lower()
        fmt = {"jpg": "jpeg"}.get(fmt, fmt)
        if fmt not in {"png", "jpeg"}:
            raise FlagError(messages.bad_flag_value(names["format"], fmt, messages.HINT_FORMAT))
        out = replace(out, output_format=fmt)
    if "style" in values:
        out = replace(out, style=check_name(str(values["style"]), "style"))
    if "refs" in values:
        refs = values["refs"]
        assert isinstance(refs, list | tuple)
        out = replace(out, refs=tuple(check_name(str(n), "cast") for n in refs))
    return out


def form_problem(text: str, *, edit: bool = False) -> str | None:
    """What a form may say under its prompt field while it stays open (Slack's modals can), in
    the order the request would be refused later: a flag it can't read, then no prompt left once
    the flags are read (a style's words alone are one; in an `edit` of a result, options alone
    make it again with them), or one too long (validation's own check_prompt). None: the
    rest is the conversation's to check."""
    try:
        parsed = parse_text(text)
        options_alone = edit and parsed != ParsedText(prompt=parsed.prompt)
        if clean_prompt(parsed.prompt) or not (parsed.style or options_alone):
            check_prompt(parsed.prompt)
    except InvalidRequest as exc:
        return exc.user_text
    return None
