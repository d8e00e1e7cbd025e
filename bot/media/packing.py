"""A batch of images made ready to post: each fitted to the upload limit, then grouped into
messages. The surface gives its limits (UploadLimits) and, where it can post only so many
messages, its room; the rules are the same everywhere.

    fit_each / fit_each_off_loop   every image within a byte limit, or None where it cannot be
    fit_batch                      the same, the images that cannot be fitted left out
    pack                           indexes grouped into messages by count and bytes
    fit_and_pack                   all of it, and the room rule: at most `room` messages
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.media.images import all_fit, fit_to_limit
from bot.request.models import GeneratedImage

__all__ = [
    "Packed",
    "UploadLimits",
    "fit_and_pack",
    "fit_batch",
    "fit_each",
    "fit_each_off_loop",
    "pack",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadLimits:
    """What one surface takes: bytes per file, files per message, and bytes per message (None:
    only each file is limited)."""

    file_bytes: int
    files_per_message: int
    message_bytes: int | None = None


@dataclass(frozen=True)
class Packed:
    """A batch fitted and grouped: `groups` holds indexes into `images`, one list a message."""

    images: list[GeneratedImage]
    refitted: bool  # some image was re-encoded or downscaled (the result says so)
    groups: list[list[int]]

    @property
    def planned(self) -> int:
        """The images the groups will post (fewer than `images` when the room ran out)."""
        return sum(len(group) for group in self.groups)


def fit_each(images: Sequence[GeneratedImage], limit: int) -> tuple[list[GeneratedImage | None], bool]:
    """Each image within `limit` bytes (re-encoded or downscaled), or None where it cannot be;
    True if any was changed."""
    out: list[GeneratedImage | None] = []
    changed = False
    for image in images:
        try:
            fitted, refit = fit_to_limit(image, limit)
        except ValueError:
            log.warning("an image could not be fitted into %d bytes", limit)
            out.append(None)
            continue
        out.append(fitted)
        changed = changed or refit
    return out, changed


async def fit_each_off_loop(
    images: Sequence[GeneratedImage], limit: int
) -> tuple[list[GeneratedImage | None], bool]:
    """fit_each on a worker thread when an image needs re-encoding (tens of milliseconds each);
    on the loop when they all fit already (a length check each: not worth the hop)."""
    if all_fit(images, limit):
        return fit_each(images, limit)
    return await asyncio.to_thread(fit_each, images, limit)


async def fit_batch(images: Sequence[GeneratedImage], limit: int) -> tuple[list[GeneratedImage], bool]:
    """Every image within `limit` bytes; one that cannot be fitted is left out (and logged)."""
    each, changed = await fit_each_off_loop(images, limit)
    return [image for image in each if image is not None], changed


def pack(sizes: Sequence[int], *, per_message: int, message_bytes: int | None = None) -> list[list[int]]:
    """Indexes of files grouped into messages, in order: at most `per_message` files and
    `message_bytes` bytes each (a file alone in its message may have the whole of it)."""
    groups: list[list[int]] = []
    total = 0
    for index, size in enumerate(sizes):
        full = message_bytes is not None and total + size > message_bytes
        if not groups or len(groups[-1]) >= per_message or full:
            groups.append([])
            total = 0
        groups[-1].append(index)
        total += size
    return groups


async def fit_and_pack(
    images: Sequence[GeneratedImage], limits: UploadLimits, room: int | None = None
) -> Packed:
    """The images fitted to the upload limit and grouped into at most `room` messages (None: as
    many as they need). When the plain packing needs more, every image is fitted into an even
    share of a message so the batch fits; a group beyond `room` is left out: it cannot be posted."""
    fitted, refitted = await fit_batch(images, limits.file_bytes)
    per, cap = limits.files_per_message, limits.message_bytes
    groups = pack([len(i.data) for i in fitted], per_message=per, message_bytes=cap)
    if room is None or len(groups) <= room or not fitted:
        return Packed(fitted, refitted, groups)
    if cap is None:  # only the count limits a message: every one but the last is full already
        return Packed(fitted, refitted, groups[:room])
    per = min(per, -(-len(images) // room))
    fitted, refitted = await fit_batch(images, min(limits.file_bytes, max(1, cap // per)))
    groups = pack([len(i.data) for i in fitted], per_message=per, message_bytes=cap)
    return Packed(fitted, refitted, groups[:room])
