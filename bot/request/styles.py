"""Style presets as values: a name, words added to the prompt, optional defaults.

A workspace's admins add their own (stored in the ledger); the built-ins below are offered
everywhere unless a workspace hides one or has its own style of the same name. Names are also
the names of cast entries' rules (`check_name`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot import messages
from bot.errors import FlagError

__all__ = ["BUILTIN_STYLES", "Style", "check_name", "close_names", "styled_prompt"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True, slots=True)
class Style:
    name: str
    suffix: str
    aspect: str | None = None
    resolution: str | None = None  # a tier ("2K") or "WxH"
    model: str | None = None
    builtin: bool = False

    def defaults_text(self) -> str:
        given = (("--ar", self.aspect), ("--res", self.resolution), ("--model", self.model))
        return " ".join(f"{flag} {value}" for flag, value in given if value)


# Seedream follows plain descriptive English best: the medium, then lighting and finish.
BUILTIN_STYLES: dict[str, Style] = {
    style.name: style
    for style in (
        Style(
            "anime",
            "anime key visual, clean cel shading, crisp confident line art, vibrant harmonious "
            "colors, expressive eyes, detailed painted background, soft rim light",
            builtin=True,
        ),
        Style(
            "product-shot",
            "professional studio product photograph, seamless light grey backdrop, softbox "
            "lighting with a gentle reflection on the surface, sharp focus on the product, high "
            "detail, clean commercial look",
            aspect="1:1",
            builtin=True,
        ),
        Style(
            "watercolor",
            "delicate watercolor painting on textured cold-press paper, soft translucent washes, "
            "colors bleeding at the edges, visible pigment granulation, light airy palette, "
            "white of the paper showing through",
            builtin=True,
        ),
        Style(
            "cinematic",
            "cinematic film still, anamorphic lens, dramatic natural lighting, shallow depth of "
            "field, subtle film grain, rich color grading",
            aspect="16:9",
            builtin=True,
        ),
        Style(
            "pixel-art",
            "pixel art in the style of a 16-bit console game, limited color palette, crisp hard "
            "pixel edges, no anti-aliasing, clear readable silhouettes",
            builtin=True,
        ),
        Style(
            "line-drawing",
            "black ink line drawing on white paper, confident clean contours, fine cross-hatching "
            "for shadows, no color",
            builtin=True,
        ),
    )
}


def check_name(name: str, what: str) -> str:
    """A style or cast name as stored (lower case), or FlagError with the rule."""
    key = name.strip().lower()
    if not _NAME.match(key):
        raise FlagError(messages.name_hint(what, name.strip()))
    return key


def close_names(name: str, known: list[str]) -> list[str]:
    """Up to three known names like `name` (a typo's suggestions)."""
    return difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.6)


def styled_prompt(prompt: str, style: Style) -> str:
    """The prompt sent: the user's words, then the style's."""
    prompt = prompt.strip().rstrip(",.;")
    return f"{prompt}, {style.suffix}" if prompt else style.suffix
