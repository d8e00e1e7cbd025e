"""Other image models' settings in a prompt, as people paste it: Midjourney's ("--v 6.1 --style
raw --s 250", copied from its gallery), a negative prompt ("--no text", "--neg blurry"), and
Stable Diffusion's generation data as Civitai and AUTOMATIC1111 copy it ("Negative prompt: …",
"Steps: 30, Sampler: …, Seed: …, Size: 832x1216", "<lora:name:0.8>").

Seedream has none of them. flags.py collects every one a message carries, so one answer names
them all with the message to send without them, instead of a refusal per setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from bot.request.validation import common_shape

__all__ = [
    "NEGATIVE_FLAGS",
    "Pasted",
    "generation_data",
    "has_negative",
    "is_setting",
    "names",
    "shape_of",
    "shown",
    "take",
    "without",
]

NEGATIVE_FLAGS = ("--no", "--neg", "--negative", "--negative-prompt", "--negative_prompt")

# By what follows each: nothing, an optional number or code ("--niji 6", "--p"), one value, or
# everything up to the next flag ("--no text, people", "--sref URL URL").
_BARE, _OPTIONAL, _ONE, _RUN = range(4)
_SETTINGS = {
    **dict.fromkeys(("--tile", "--raw", "--fast", "--relax", "--turbo", "--draft", "--hd"), _BARE),
    **dict.fromkeys(("--niji", "--p", "--personalize", "--video"), _OPTIONAL),
    **dict.fromkeys(("--v", "--version", "--q", "--quality", "--s", "--stylize", "--c"), _ONE),
    **dict.fromkeys(("--chaos", "--w", "--weird", "--iw", "--sw", "--sv", "--cw", "--ow"), _ONE),
    **dict.fromkeys(("--seed", "--sameseed", "--stop", "--r", "--repeat", "--exp"), _ONE),
    # Stable Diffusion's, as its bots and UIs name them.
    **dict.fromkeys(("--steps", "--cfg", "--cfg-scale", "--cfg_scale", "--sampler", "--scheduler"), _ONE),
    **dict.fromkeys(("--guidance", "--guidance-scale", "--guidance_scale", "--strength", "--denoise"), _ONE),
    **dict.fromkeys(("--sref", "--cref", "--oref", "--profile", *NEGATIVE_FLAGS), _RUN),
}
_STYLES = {"raw", "4a", "4b", "4c"}  # "--style raw" is Midjourney's, not a preset
_CODE = re.compile(r"^(?=.*\d)[\w.:-]{1,24}$")


def is_setting(flag: str, value: str | None) -> bool:
    """Whether `flag` (lower case, as read), followed by `value`, is another model's setting."""
    return flag in _SETTINGS or (flag == "--style" and value is not None and value.lower() in _STYLES)


def names(flag: str) -> bool:
    """Whether `flag` alone names another model's setting ("--v" of "--v6")."""
    return flag in _SETTINGS


def take(tokens: list[str], i: int, found: list[list[str]]) -> int:
    """Note the setting at tokens[i - 1] with its values in `found`, as typed; the index after
    them."""
    kind = _SETTINGS.get(tokens[i - 1].lower().rstrip(".,;!?"), _ONE)  # "--style raw": one value
    end = i
    if kind == _ONE or (kind == _OPTIONAL and i < len(tokens) and _CODE.match(tokens[i])):
        end = min(i + 1, len(tokens))
    elif kind == _RUN:
        while end < len(tokens) and not tokens[end].startswith("--"):
            end += 1
    found.append([tokens[i - 1], *tokens[i:end]])
    return end


def has_negative(found: list[list[str]]) -> bool:
    """Whether one of them is a negative prompt (the answer says to put it in words)."""
    return any(words[0].lower() in NEGATIVE_FLAGS for words in found)


def shown(found: list[list[str]]) -> list[str]:
    """How the answer names them: the flag, and the style for "--style raw"."""
    return [" ".join(words[:2]) if words[0].lower() == "--style" else words[0] for words in found]


def without(text: str, found: list[list[str]]) -> str:
    """The message as typed without these settings: what to send instead. What a negative
    prompt left out is said in the prompt's words ("a cat --no dogs": "a cat, without dogs")."""
    left_out = []
    for words in found:
        pattern = r"\s*".join(re.escape(w) for w in words)  # "--v6" as typed is "--v", "6"
        text = re.sub(rf"(?<!\S){pattern}(?!\S)", " ", text, count=1)
        if words[0].lower() in NEGATIVE_FLAGS and len(words) > 1:
            left_out.append(" ".join(words[1:]).strip(" ,"))
    text = " ".join(text.split())
    if left_out:
        flags = re.search(r"(?<!\S)--[A-Za-z]", text)
        at = flags.start() if flags else len(text)
        prompt = text[:at].rstrip(" ,")
        said = f"without {', '.join(left_out)}"
        text = f"{prompt + ', ' if prompt else ''}{said} {text[at:]}".strip()
    return text


# Stable Diffusion's generation data: the prompt, then "Negative prompt: …" and a line of
# settings that begins with the steps and names the sampler, CFG scale or seed. A slash
# command's box joins the lines into one, so neither needs to start a line.
_NEGATIVE = re.compile(r"(?:^|\s)Negative prompt:", re.IGNORECASE)
_SETTINGS_LINE = re.compile(r"(?:^|\s)Steps:\s*\d+\s*,(?=[^\n]*\b(?:Sampler|CFG scale|Seed):)")
_SETTING_NAME = re.compile(r"(?:^|,)\s*([A-Za-z][\w .+-]*?):")
_SIZE = re.compile(r"\bSize:\s*(\d{2,5})\s*x\s*(\d{2,5})")
_NETWORK = re.compile(r"<(?:lora|lyco|hypernet):[^<>]*>", re.IGNORECASE)  # "<lora:film_grain:0.8>"
_NAMED = 4  # "Steps, Sampler, CFG scale, Seed": the line goes on with a dozen more
_NEAR = 0.05  # a size within 5% of a usual shape is that shape ("832x1216" is 2:3)


@dataclass(frozen=True, slots=True)
class Pasted:
    """Generation data found in a message: what it named, what to send instead."""

    settings: list[str]
    send: str
    negative: bool


def generation_data(text: str) -> Pasted | None:
    """Stable Diffusion's generation data in `text`, or None. What to send is the prompt before
    it, without LoRA tags, with its size as "--ar" (the negative prompt is left out: it is mostly
    "lowres, bad hands", which Seedream needs no telling)."""
    negative, line, networks = _NEGATIVE.search(text), _SETTINGS_LINE.search(text), _NETWORK.findall(text)
    if not (negative or line or networks):
        return None
    starts = [m.start() for m in (negative, line) if m]
    prompt = text[: min(starts)] if starts else text
    settings = ["Negative prompt"] if negative else []
    if line:
        settings += _SETTING_NAME.findall(text[line.start() :].strip())[:_NAMED]
    settings += networks[:2]
    send = re.sub(r"\s*,(?:\s*,)*", ",", " ".join(_NETWORK.sub(" ", prompt).split())).strip(" ,")
    if send and (size := _SIZE.search(text[min(starts) :] if starts else "")):
        send += f" --ar {shape_of(int(size[1]), int(size[2]))}"
    return Pasted(settings, send, negative=negative is not None)


def shape_of(width: int, height: int) -> str:
    """A size as a ratio: the common shape it is near, else its own reduced ratio."""
    width, height = max(width, 1), max(height, 1)  # a side typed as 0: out of any range, refused so
    w, h = common_shape(width, height)
    if abs(width / height / (w / h) - 1) > _NEAR:
        exact = Fraction(width, height)
        w, h = exact.numerator, exact.denominator
    return f"{w}:{h}"
