"""The shell's surface (bot/app/cli/generate.py): --image files and URLs as attachments, checked
in the conversation's order."""

from __future__ import annotations

import asyncio
import errno
import io
import os
import sqlite3
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image

from bot import messages
from bot.app.cli.generate import References, generate
from bot.app.cli.main import build_parser
from bot.app.platform import load_plugins
from bot.app.runtime import Runtime
from bot.errors import InvalidImage, SeedbotError
from bot.media.fetch import Fetched
from bot.request.validation import MAX_REFERENCES, UPLOAD_MAX_BYTES
from tests.app.helpers import settings


def _png(size: tuple[int, int] = (300, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 40)).save(buf, format="PNG")
    return buf.getvalue()


class _Fetcher:
    def __init__(self) -> None:
        self.fetched: list[str] = []

    async def fetch(self, url: str, **kwargs: Any) -> Fetched:
        self.fetched.append(url)
        return Fetched(_png(), "image/png", url)


class _Runtime:
    def __init__(self) -> None:
        self.fetcher = _Fetcher()


def _references(sources: list[str]) -> tuple[References, _Fetcher]:
    runtime = _Runtime()
    return References(cast(Runtime, runtime), sources), runtime.fetcher


def test_files_and_public_urls_become_references_in_order(tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(_png((400, 300)))
    url = "https://images.example.com/a/dog.png?sig=1"
    refs, fetcher = _references([str(tmp_path / "cat.png"), url])
    cat, dog = asyncio.run(refs.load())
    assert (cat.name, cat.width, cat.height, cat.url) == ("cat.png", 400, 300, None)
    # A public URL is kept, so a host that takes only URLs gets it as it is.
    assert (dog.name, dog.url) == ("dog.png", url) and fetcher.fetched == [url]


def test_the_cheap_checks_come_before_any_read_or_download(tmp_path: Path) -> None:
    url = "https://images.example.com/x.png"
    refs, fetcher = _references([url] * (MAX_REFERENCES + 1))
    with pytest.raises(SeedbotError):
        asyncio.run(refs.load())
    assert fetcher.fetched == []  # one too many: nothing downloaded
    big = tmp_path / "big.png"
    with big.open("wb") as f:
        f.truncate(UPLOAD_MAX_BYTES + 1)  # sparse: never read
    refs, fetcher = _references([url, str(big)])
    with pytest.raises(SeedbotError) as refused:
        asyncio.run(refs.load())
    too_large = messages.image_too_large("big.png", UPLOAD_MAX_BYTES + 1, UPLOAD_MAX_BYTES)
    assert refused.value.user_text == too_large
    assert fetcher.fetched == []  # the URL waited for the file's size to pass
    (tmp_path / "notes.png").write_text("not an image")
    refs, _ = _references([str(tmp_path / "notes.png")])
    with pytest.raises(InvalidImage):
        asyncio.run(refs.load())


def test_a_write_that_fails_midway_leaves_no_image_and_is_a_delivery_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The disk fills while the second of two images is written: no file (the first, or the cut
    one) stays in --out for a job that was refunded, none is printed, and `seedbot stats` counts
    it as a delivery failure (not the provider's)."""
    real_write = Path.write_bytes
    writes = 0

    def disk_fills(path: Path, data: bytes) -> int:
        nonlocal writes
        writes += 1
        if writes == 2:
            real_write(path, bytes(data)[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_write(path, data)

    monkeypatch.setattr(Path, "write_bytes", disk_fills)
    out = tmp_path / "out"
    args = build_parser(load_plugins()).parse_args(["generate", "a fox", "--count", "2", "--out", str(out)])
    with pytest.raises(SeedbotError) as failed:
        asyncio.run(generate(args, settings(tmp_path, providers=["demo"])))
    assert writes == 2
    assert "could not be written to" in failed.value.user_text
    assert "No space left on device" in failed.value.user_text
    assert list(out.iterdir()) == []  # nothing kept: the job was refunded
    assert capsys.readouterr().out == ""  # no path printed
    with sqlite3.connect(tmp_path / "bot.db") as db:
        job = db.execute("SELECT status, error_kind, images_delivered FROM jobs").fetchone()
        reservation = db.execute("SELECT state, used FROM reservations").fetchone()
    assert job == ("failed", "delivery", 0) and reservation == ("settled", 0)  # refunded
