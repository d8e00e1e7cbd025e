"""Images as discord.py uploads, sent from the bytes in hand.

discord.py takes a file as a readable, seekable buffer and hands it to aiohttp's multipart form.
For an `io.BytesIO`, aiohttp measures it through `getbuffer()`, which makes the BytesIO copy
bytes it was given (3 MB a result), then sends it 64 KiB at a time: about fifty writes to the
socket, each a trip through aiohttp's writer (BENCHMARKS.md, Issue 17). `ImageUpload` is a
read-only buffer over the bytes themselves; the payload registered for it below writes them to
the connection in one call, without copying them first.
"""

from __future__ import annotations

import io
from typing import Any

import discord
from aiohttp import payload
from aiohttp.abc import AbstractStreamWriter

__all__ = ["ImageUpload", "image_file"]


class ImageUpload(io.BufferedIOBase):
    """A read-only, seekable view of bytes (what discord.File needs: read, seek, tell)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = data
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self.data)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        end = len(self.data) if size is None or size < 0 else min(len(self.data), self._pos + size)
        chunk = self.data[self._pos : end]
        self._pos = max(self._pos, end)
        return chunk

    def rest(self) -> memoryview:
        """What is left to send from here (no copy)."""
        return memoryview(self.data)[self._pos :]


class _ImagePayload(payload.Payload):
    """aiohttp's payload for an ImageUpload: its bytes from the current position, in one write."""

    _value: ImageUpload

    def __init__(self, value: ImageUpload, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("content_type", "application/octet-stream")
        super().__init__(value, *args, **kwargs)
        self._size = len(value.rest())

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytes(self._value.rest()).decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return bytes(self._value.rest())

    async def write(self, writer: AbstractStreamWriter) -> None:
        await writer.write(self._value.rest())

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        rest = self._value.rest()
        await writer.write(rest if content_length is None else rest[:content_length])


payload.register_payload(_ImagePayload, ImageUpload)


def image_file(data: bytes, filename: str) -> discord.File:
    """An image to upload with a message, named `filename`."""
    return discord.File(ImageUpload(data), filename=filename)
