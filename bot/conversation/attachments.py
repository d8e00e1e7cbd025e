"""A surface's attachments -> reference images, checked the same way on every surface.

Cheapest first: the count (with the references the request already has), then every file's
declared type and size (the platform's metadata, before any download), then the downloads, then
the bytes (type by content, dimensions): a photo over Seedream's limits on a reference (bytes,
sides) is shrunk to fit them, and one no shrinking mends (the sides' ratio) is refused.
Every refusal raises with the user's explanation before the engine sees a request, so nothing is
charged. A surface says only what it was sent (`declared`) and how its bytes are fetched
(`fetch`); the order and the checks live here, once.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.media.images import fit_reference, load_reference
from bot.request.models import ImageInput
from bot.request.validation import (
    REFERENCE_MAX_BYTES,
    REFERENCE_MAX_SIDE,
    REFERENCE_MIMES,
    REFERENCE_MIN_SIDE,
    check_declared,
    check_reference,
    check_reference_count,
    check_shape,
    clean_prompt,
)

__all__ = ["AttachedFiles", "Declared", "reference"]

T = TypeVar("T")


def reference(data: bytes, name: str, *, url: str | None = None, source: str = "upload") -> ImageInput:
    """Bytes of an attachment -> a measured reference image within Seedream's limits (a big
    photo is shrunk to fit); InvalidImage if it is not an image."""
    check_declared(name, None, len(data))
    # The name is kept with the job: cleaned as a prompt is (PostgreSQL's text refuses a NUL).
    image = load_reference(data, clean_prompt(name) or "image", url=url, source=source)
    check_shape(image.name or "image", image.width, image.height)  # before any resizing
    return fit_reference(
        image,
        max_bytes=REFERENCE_MAX_BYTES,
        max_side=REFERENCE_MAX_SIDE,
        min_side=REFERENCE_MIN_SIDE,
        readable=REFERENCE_MIMES,
    )


@dataclass(frozen=True, slots=True)
class Declared(Generic[T]):
    """A file as the platform describes it before anything is downloaded; `source` is what the
    surface fetches it from (an attachment object, a file record, the bytes sent)."""

    name: str
    content_type: str | None
    size: int | None
    source: T


class AttachedFiles(ABC, Generic[T]):
    """The conversation's `Attachments` (turns.py) for a surface's own kind of file."""

    def __init__(self, items: Sequence[T]) -> None:
        self.items = list(items)

    def __len__(self) -> int:
        return len(self.items)

    @abstractmethod
    async def declared(self) -> list[Declared[T]]:
        """Every item as the platform declares it, in order (may ask the platform for details)."""

    @abstractmethod
    async def fetch(self, item: Declared[T]) -> bytes:
        """The item's bytes; raises DownloadError or InvalidImage with the user's explanation."""

    def public_url(self, item: Declared[T]) -> str | None:
        """A link any host may fetch the item from as it is (the shell's --image URL); None for
        a platform's, which expire or need its token: hosts then get the bytes."""
        return None

    def loaded(self, images: list[ImageInput]) -> None:
        """Every check passed (the playground shows the images now)."""

    async def load(self, *, alongside: int = 0) -> list[ImageInput]:
        """Every item as a reference image, in order; `alongside`: references the request
        already has (an earlier result being edited), counted against Seedream's limit."""
        if not self.items:
            return []
        check_reference_count(len(self.items) + alongside)
        declared = await self.declared()
        for item in declared:
            check_declared(item.name, item.content_type, item.size)
        data = await asyncio.gather(*(self.fetch(item) for item in declared))
        # Decoding is CPU work: off the event loop, the images side by side.
        images = await asyncio.gather(
            *(
                asyncio.to_thread(reference, blob, item.name, url=self.public_url(item))
                for blob, item in zip(data, declared, strict=True)
            )
        )
        for image in images:
            check_reference(image)
        self.loaded(images)
        return images
