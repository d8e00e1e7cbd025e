"""bot/media/heap.py: freed heap memory given back to the operating system (glibc's malloc_trim),
and the big decodes in images.py that do it once they are done."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.media import heap, images


def test_trim_returns_freed_memory_where_glibc_is() -> None:
    """The CI machine is Debian (glibc): the call is found, and it runs."""
    assert heap.trimming()
    heap.trim()


def test_without_glibc_trim_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_malloc_trim", lambda: None)
    assert not heap.trimming()
    heap.trim()  # nothing to call: no error


def _png(side: int, mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (side, side), (1, 2, 3, 255) if mode == "RGBA" else 0).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_big_decode_is_trimmed_after_and_a_small_one_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """Six 70 MP PNGs in one message, decoded on six threads, left the process at 4.4 GB: each
    thread kept what it had freed. (The memory itself is measured in bench/, not here.)"""
    trims: list[int] = []
    monkeypatch.setattr(images, "trim", lambda: trims.append(1))
    images.measure(_png(512), "small.png")
    assert trims == []
    big = images.load_reference(_png(4200), "big.png")  # 17.6 MP: past what decodes freely
    assert trims == [1]
    fitted = images.fit_reference(big, max_bytes=10_000_000, max_side=4000, readable=frozenset({"image/png"}))
    assert trims == [1, 1] and (fitted.width, fitted.height) == (4000, 4000)
