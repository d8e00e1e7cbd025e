"""The checks every surface's attachments go through, in their order (bot.conversation.attachments)."""

from __future__ import annotations

import pytest

from bot import messages
from bot.conversation.attachments import AttachedFiles, Declared
from bot.errors import DownloadError, InvalidImage
from bot.request.models import ImageInput
from bot.request.validation import MAX_REFERENCES, REFERENCE_MIN_SIDE, UPLOAD_MAX_BYTES, check_reference
from tests.web.conftest import png

File = tuple[str, str | None, int | None, bytes]  # name, declared type, declared size, bytes


class Recorded(AttachedFiles[File]):
    """A surface that records what the core asked of it."""

    def __init__(self, files: list[File], *, broken: str = "") -> None:
        super().__init__(files)
        self.broken = broken
        self.calls: list[str] = []
        self.shown: list[ImageInput] | None = None

    async def declared(self) -> list[Declared[File]]:
        self.calls.append("declared")
        return [Declared(name, kind, size, (name, kind, size, data)) for name, kind, size, data in self.items]

    async def fetch(self, item: Declared[File]) -> bytes:
        self.calls.append(f"fetch {item.name}")
        if item.name == self.broken:
            raise DownloadError(messages.download_failed(item.name, "timed out"), detail="scripted")
        return item.source[3]

    def loaded(self, images: list[ImageInput]) -> None:
        self.shown = images


def _file(name: str, data: bytes, kind: str | None = "image/png", size: int | None = None) -> File:
    return (name, kind, len(data) if size is None else size, data)


async def test_every_file_becomes_a_measured_reference_in_order() -> None:
    files = Recorded(
        [_file("a.png", png(64, 48)), _file("b.png", png(30, 60)), _file("c", png(16, 16), None)]
    )
    images = await files.load()
    assert [(i.name, i.width, i.height, i.mime) for i in images] == [
        ("a.png", 64, 48, "image/png"),
        ("b.png", 30, 60, "image/png"),
        ("c", 16, 16, "image/png"),
    ]
    assert all(i.url is None for i in images)  # a platform's link expires or needs its token
    assert files.shown == images
    assert files.calls == ["declared", "fetch a.png", "fetch b.png", "fetch c"]


async def test_a_name_kept_with_the_job_is_cleaned_like_a_prompt() -> None:
    """A web upload's name is what the browser sent: a NUL in it failed the job's insert on
    PostgreSQL. Control and zero-width characters go; a name of nothing else is "image"."""
    files = Recorded([_file("ca\x00t\u200b.png", png(8, 8)), _file("\x1b\x00", png(8, 8))])
    assert [i.name for i in await files.load()] == ["cat.png", "image"]


async def test_the_count_with_the_edited_result_is_refused_before_anything_is_asked() -> None:
    files = Recorded([_file("a.png", png())] * 2)
    with pytest.raises(InvalidImage) as err:
        await files.load(alongside=MAX_REFERENCES - 1)
    assert err.value.user_text == messages.too_many_references(MAX_REFERENCES + 1, MAX_REFERENCES)
    assert files.calls == [] and files.shown is None


@pytest.mark.parametrize(
    ("declared", "refusal"),
    [
        (("notes.pdf", "application/pdf", 1000), messages.not_an_image("notes.pdf")),
        (
            ("huge.png", "image/png", UPLOAD_MAX_BYTES + 1),
            messages.image_too_large("huge.png", UPLOAD_MAX_BYTES + 1, UPLOAD_MAX_BYTES),
        ),
        (("empty.png", "image/png", 0), messages.not_an_image("empty.png")),
    ],
)
async def test_a_declared_type_or_size_is_refused_before_any_download(
    declared: tuple[str, str, int], refusal: str
) -> None:
    name, kind, size = declared
    files = Recorded([_file("ok.png", png()), (name, kind, size, b"")])
    with pytest.raises(InvalidImage) as err:
        await files.load()
    assert err.value.user_text == refusal
    assert files.calls == ["declared"]


async def test_bytes_that_are_no_image_or_out_of_seedreams_range_are_refused() -> None:
    fake = Recorded([_file("fake.png", b"<html>sign in</html>")])
    with pytest.raises(InvalidImage) as err:
        await fake.load()
    assert err.value.user_text == messages.not_an_image("fake.png")
    strip = Recorded([_file("strip.png", png(340, 20))])  # 17:1, past Seedream's 16:1
    with pytest.raises(InvalidImage) as err:
        await strip.load()
    assert err.value.user_text == messages.image_bad_ratio("strip.png", 340, 20)
    assert fake.shown is None and strip.shown is None


async def test_an_icon_is_enlarged_to_seedreams_least_side_and_a_thin_strip_refused_as_sent() -> None:
    """Seedream refuses a side of 14 pixels or less: an emoji failed at the host, after the
    quota was reserved. A strip past 1:16 is refused by the size it was sent at."""
    icon = await Recorded([_file("emoji.png", png(12, 8))]).load()
    assert [(i.width, i.height) for i in icon] == [(REFERENCE_MIN_SIDE * 3 // 2, REFERENCE_MIN_SIDE)]
    with pytest.raises(InvalidImage) as err:
        await Recorded([_file("line.png", png(2, 100))]).load()
    assert err.value.user_text == messages.image_bad_ratio("line.png", 2, 100)


def test_a_reference_kept_from_before_is_refused_if_hosts_would_refuse_it() -> None:
    """A re-roll of a job whose 8-pixel reference was stored before they were enlarged."""
    old = ImageInput(data=png(8, 8), mime="image/png", width=8, height=8, name="dot.png")
    with pytest.raises(InvalidImage) as err:
        check_reference(old)
    assert err.value.user_text == messages.image_too_small("dot.png", 8, 8, REFERENCE_MIN_SIDE)


async def test_a_failed_download_is_the_users_explanation() -> None:
    files = Recorded([_file("a.png", png()), _file("b.png", png())], broken="b.png")
    with pytest.raises(DownloadError) as err:
        await files.load()
    assert err.value.user_text == messages.download_failed("b.png", "timed out")
    assert files.shown is None


async def test_no_files_ask_nothing() -> None:
    files = Recorded([])
    assert await files.load(alongside=MAX_REFERENCES) == []
    assert len(files) == 0 and files.calls == []
