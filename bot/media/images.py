"""Image bytes: sniffing by magic bytes, measuring safely, and fitting an upload limit."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import threading
import warnings
from collections.abc import Iterable, Iterator

from PIL import ExifTags, Image, ImageOps

from bot import messages
from bot.errors import InvalidImage
from bot.media.heap import trim
from bot.request.models import GeneratedImage, ImageInput

__all__ = [
    "MAX_DECODE_PIXELS",
    "all_fit",
    "fit_reference",
    "fit_to_limit",
    "load_reference",
    "measure",
    "sniff_mime",
]

# Seedream takes references up to 6000x6000; anything past ~2x that is a bomb, not a photo.
MAX_DECODE_PIXELS = 6000 * 6000 * 2
Image.MAX_IMAGE_PIXELS = MAX_DECODE_PIXELS

# A big picture being decoded (to check it, or to shrink it) holds a few hundred MB: one at a
# time (each takes a second or two, and they are rare), so a burst cannot take the memory.
_FITTING = threading.BoundedSemaphore(1)
_SMALL = 4096 * 4096  # pixels a decode may have outside it (64 MB as RGBA)


@contextlib.contextmanager
def _then_trimmed() -> Iterator[None]:
    """Give the big decode's memory back once it is done: glibc keeps what a thread freed for
    that thread, and six 70 MP PNGs in one message, decoded two at a time on six threads, left
    the process at 4.4 GB (1.1 GB so, one at a time)."""
    try:
        yield
    finally:
        trim()


_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"BM", 0, "image/bmp"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
)


# HEIF and AVIF files are ISO media files: an `ftyp` box first, naming the brands it follows.
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
_AVIF_BRANDS = {b"avif", b"avis"}


def sniff_mime(data: bytes) -> str | None:
    """The image type the bytes really are, whatever the file name or header says."""
    for magic, offset, mime in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        box = data[8 : min(int.from_bytes(data[:4], "big"), 64)]
        brands = {box[i : i + 4] for i in range(0, len(box) - 3, 4)}  # major, version, compatible…
        if brands & _AVIF_BRANDS:
            return "image/avif"
        if brands & _HEIC_BRANDS:
            return "image/heic"
    return None


@functools.cache
def _open_heic() -> None:
    """An iPhone's photos are HEIC: Pillow opens them with pillow-heif's plug-in (AVIF it reads
    itself). Loaded the first time one comes: its library costs ~50 ms at every start."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def measure(data: bytes, name: str = "image", *, decode: bool = True) -> tuple[str, int, int]:
    """(mime, width, height) of an accepted image; raises InvalidImage otherwise.

    The header gives the size without decoding; then a full load proves the file is whole.
    Pillow's bomb guard (MAX_IMAGE_PIXELS) stops huge pixel counts before any allocation.
    With decode=False (provider results: ~60 ms saved per 2K image on the event loop) the
    file's end marker stands in for the full load as proof that nothing was cut off.
    """
    mime = sniff_mime(data)
    if mime is None:
        raise InvalidImage(messages.not_an_image(name))
    if mime == "image/heic":
        _open_heic()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > MAX_DECODE_PIXELS:
                    raise InvalidImage(messages.image_unreadable(name))
                if decode and width * height > _SMALL:
                    with _FITTING, _then_trimmed():  # a big decode holds hundreds of MB
                        img.load()
                elif decode:
                    img.load()
                elif not _ends_whole(mime, data):
                    raise InvalidImage(messages.image_unreadable(name))
    except InvalidImage:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(messages.image_unreadable(name)) from None
    return mime, width, height


def _ends_whole(mime: str, data: bytes) -> bool:
    tail = data[-1024:]
    if mime == "image/jpeg":
        return b"\xff\xd9" in tail
    if mime == "image/png":
        return b"IEND" in tail
    return True


def load_reference(data: bytes, name: str, *, url: str | None = None, source: str = "upload") -> ImageInput:
    if not data:
        raise InvalidImage(messages.not_an_image(name))
    mime, width, height = measure(data, name)
    return ImageInput(data=data, mime=mime, width=width, height=height, name=name, url=url, source=source)


_UPRIGHT = 1  # EXIF orientation: stored as it is shown


def _turned(data: bytes) -> bool:
    """Whether the photo is stored turned, to be shown by its EXIF orientation (a phone held
    upright stores its photo on its side); read from the header alone."""
    with Image.open(io.BytesIO(data)) as img:
        return bool(img.getexif().get(ExifTags.Base.Orientation, _UPRIGHT) != _UPRIGHT)


def fit_reference(
    image: ImageInput, *, max_bytes: int, max_side: int, min_side: int = 1, readable: frozenset[str]
) -> ImageInput:
    """A reference as hosts take it: of a type in `readable`, upright, `min_side` to `max_side`
    a side and at most `max_bytes`; one already so is returned as it is.

    A HEIC or AVIF photo becomes one the hosts read. A turned photo is stood upright, since a
    host may ignore the EXIF turn (and the edit's default shape is read from the sides). One over
    the limits is shrunk, keeping its shape; one under `min_side` is enlarged. Each is JPEG (WebP where it has transparency) at
    falling quality, then 85% steps in size, until it fits. It has no public URL: that is the
    original's, so hosts get these bytes.
    """
    short, long = sorted((image.width, image.height))
    within = image.size <= max_bytes and min_side <= short and long <= max_side
    if within and image.mime in readable and not _turned(image.data):
        return image
    with _FITTING, _then_trimmed():
        with Image.open(io.BytesIO(image.data)) as opened:
            opened.draft("RGB", (max_side, max_side))  # JPEG: decoded at a fraction of its size
            src: Image.Image = opened
            if src.mode in ("1", "P"):  # shrunk by palette index, it would lose its smooth edges
                src = src.convert("RGBA" if "transparency" in src.info else "RGB")
            # Shrunk first, in place: the full-size decode is let go before any copy of it (the
            # turned and converted copies of a 70 MP picture held ~1.4 GB at once).
            src.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            upright = ImageOps.exif_transpose(src)
        if min(upright.size) < min_side:
            upright = _enlarged(upright, min_side)
        clear = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        img = upright.convert("RGBA" if clear else "RGB")
        kind, mime = ("WEBP", "image/webp") if clear else ("JPEG", "image/jpeg")
        while True:
            for quality in (90, 80):
                buf = io.BytesIO()
                img.save(buf, format=kind, quality=quality)
                if buf.tell() <= max_bytes:
                    return dataclasses.replace(
                        image, data=buf.getvalue(), mime=mime, width=img.width, height=img.height, url=None
                    )
            img = img.resize((max(1, img.width * 85 // 100), max(1, img.height * 85 // 100)))


def _enlarged(img: Image.Image, min_side: int) -> Image.Image:
    """An icon or an emoji hosts would refuse, its shorter side made `min_side`, its shape kept
    (rounded, so a 1:16 strip stays within 1:16)."""
    width, height = img.size
    short = min(width, height)
    size = (round(width * min_side / short), round(height * min_side / short))
    return img.resize(size, Image.Resampling.LANCZOS)


def all_fit(images: Iterable[GeneratedImage], max_bytes: int) -> bool:
    """True when fit_to_limit would hand every image back as it is: fitting them is then a
    length check, cheaper on the event loop than the hop to a worker thread that a real
    re-encode (tens of milliseconds) needs."""
    return all(len(image.data) <= max_bytes for image in images)


def fit_to_limit(image: GeneratedImage, max_bytes: int) -> tuple[GeneratedImage, bool]:
    """Re-encode (then downscale) an image until it fits `max_bytes`. Returns (image, changed).

    JPEG at falling quality first, since it keeps full resolution; then 85% steps in size.
    """
    if len(image.data) <= max_bytes:
        return image, False
    with Image.open(io.BytesIO(image.data)) as src:
        img = src.convert("RGB")
    scale = 1.0
    while True:
        frame = (
            img
            if scale == 1.0
            else img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))))
        )
        for quality in (90, 82, 72):
            buf = io.BytesIO()
            frame.save(buf, format="JPEG", quality=quality, optimize=False)
            if buf.tell() <= max_bytes:
                return GeneratedImage(buf.getvalue(), "image/jpeg", frame.width, frame.height), True
        scale *= 0.85
        if frame.width < 64:
            raise ValueError("cannot fit image into limit")
