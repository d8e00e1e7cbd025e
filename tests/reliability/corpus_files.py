"""Hostile files for the input corpus: each built small and fast, in memory."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image


def png(width: int = 64, height: int = 48) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buf, format="PNG")
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(side: int = 60_000) -> bytes:
    """A ~100-byte PNG claiming side x side pixels (3.6 G pixels): a decompression bomb."""
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def truncated_png() -> bytes:
    data = png(300, 300)
    return data[: len(data) // 2]


def animated_gif(frames: int = 300) -> bytes:
    images = [Image.new("P", (32, 32), i % 256) for i in range(frames)]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=20, loop=0)
    return buf.getvalue()


def over_10_mb() -> bytes:
    """A real PNG of noise, just over 10 MB."""
    side = 1880
    img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=0)
    data = buf.getvalue()
    assert 10 * 1024 * 1024 < len(data) < 11 * 1024 * 1024, len(data)
    return data


def over_6000_px() -> bytes:
    return png(6001, 8)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
NOT_AN_IMAGE = b"#!/bin/sh\necho this is a shell script\n"
