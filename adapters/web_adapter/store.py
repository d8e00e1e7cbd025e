"""The images the page shows, held in memory and bounded: results as the Reply received them,
references once the conversation checked them, and thumbnails of both.

Least recently used first out, past `max_bytes`. A result that fell out (or was made before a
restart) is read again through the conversation (`Conversation.images`), never the ledger.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image

__all__ = ["THUMB_SIDE", "ImageStore", "Stored", "thumbnail"]

THUMB_SIDE = 512  # pixels: the longest side of a thumbnail in the timeline and the gallery


@dataclass(frozen=True, slots=True)
class Stored:
    data: bytes
    mime: str
    name: str = ""  # the file name offered when the original is downloaded


class ImageStore:
    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[str, Stored] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, key: str, item: Stored) -> None:
        self.drop(key)
        self._items[key] = item
        self.size += len(item.data)
        while self.size > self.max_bytes and len(self._items) > 1:
            _, old = self._items.popitem(last=False)
            self.size -= len(old.data)

    def get(self, key: str) -> Stored | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def drop(self, key: str) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= len(old.data)

    def drop_prefix(self, prefix: str) -> None:
        for key in [k for k in self._items if k.startswith(prefix)]:
            self.drop(key)


def thumbnail(data: bytes, side: int = THUMB_SIDE) -> Stored:
    """A JPEG at most `side` pixels on its longest side (run in a thread: it decodes)."""
    with Image.open(io.BytesIO(data)) as source:
        source.draft("RGB", (side, side))
        image = source.convert("RGB")
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82)
    return Stored(out.getvalue(), "image/jpeg")
