"""Image bytes: magic-byte sniffing, safe measuring (truncated files, bombs) and fitting a byte limit."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image
from pillow_heif import register_heif_opener

from bot.errors import InvalidImage
from bot.media.images import (
    MAX_DECODE_PIXELS,
    all_fit,
    fit_reference,
    fit_to_limit,
    load_reference,
    measure,
    sniff_mime,
)
from bot.request.models import GeneratedImage, ImageInput
from bot.request.validation import REFERENCE_MIMES


def encode(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    img = Image.new(mode, size, (200, 80, 40) if mode == "RGB" else 128)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def noise_png(size: tuple[int, int]) -> bytes:
    img = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bilevel_png(width: int, height: int) -> bytes:
    """A whole, valid 1-bit PNG of `width` x `height` zeros: tiny on disk, huge once decoded."""
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_accepted_formats_are_sniffed_and_measured(fmt: str, mime: str) -> None:
    data = encode(fmt)
    assert sniff_mime(data) == mime
    assert measure(data) == (mime, 64, 48)
    image = load_reference(data, f"pic.{fmt.lower()}")
    assert (image.mime, image.width, image.height, image.size) == (mime, 64, 48, len(data))
    assert image.source == "upload" and image.name == f"pic.{fmt.lower()}"


def test_big_endian_tiff_is_sniffed() -> None:
    assert sniff_mime(b"MM\x00*" + b"\0" * 16) == "image/tiff"


def test_a_text_file_renamed_png_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "holiday.png"
    path.write_text("these are my holiday notes, not a picture\n" * 20)
    data = path.read_bytes()
    assert sniff_mime(data) is None
    with pytest.raises(InvalidImage) as err:
        load_reference(data, path.name)
    assert "holiday.png" in err.value.user_text


@pytest.mark.parametrize(
    "data",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"%PDF-1.7\n",
        b"RIFF\0\0\0\0WAVEfmt ",  # RIFF, but not WebP
        b"\x89PNG",  # a prefix of the signature
    ],
)
def test_other_bytes_are_not_images(data: bytes) -> None:
    assert sniff_mime(data) is None
    with pytest.raises(InvalidImage):
        measure(data)


def test_zero_bytes_are_refused() -> None:
    assert sniff_mime(b"") is None
    with pytest.raises(InvalidImage):
        measure(b"")
    with pytest.raises(InvalidImage) as err:
        load_reference(b"", "empty.jpg")
    assert "empty.jpg" in err.value.user_text


def test_png_signature_with_garbage_is_refused() -> None:
    with pytest.raises(InvalidImage):
        measure(b"\x89PNG\r\n\x1a\n" + os.urandom(500))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_images_are_refused(fmt: str) -> None:
    img = Image.frombytes("RGB", (256, 256), os.urandom(256 * 256 * 3))
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    whole = buf.getvalue()
    assert measure(whole)[1:] == (256, 256)
    with pytest.raises(InvalidImage) as err:
        measure(whole[: len(whole) // 2], "cut." + fmt.lower())
    assert "cut." in err.value.user_text


def test_the_bomb_builder_makes_real_images() -> None:
    # The same builder at a harmless size decodes fine, so a refusal below is the pixel guard.
    assert measure(bilevel_png(3000, 2000)) == ("image/png", 3000, 2000)


@pytest.mark.parametrize(("width", "height"), [(9000, 9000), (13000, 13000), (100_000, 100_000)])
def test_decompression_bombs_are_refused_quickly(width: int, height: int) -> None:
    if width < 50_000:
        data = bilevel_png(width, height)
    else:  # too big to build whole: a valid header and the first rows only
        header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
        idat = zlib.compress(b"\0" * (1 + width // 8) * 4)
        data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    assert len(data) < 2_000_000  # small on disk...
    assert width * height > MAX_DECODE_PIXELS  # ...huge decoded
    started = time.monotonic()
    with pytest.raises(InvalidImage):
        load_reference(data, "bomb.png")
    assert time.monotonic() - started < 1.0


def test_fit_to_limit_leaves_small_images_alone() -> None:
    image = GeneratedImage(encode("PNG"), "image/png", 64, 48)
    fitted, changed = fit_to_limit(image, 1_000_000)
    assert fitted is image and changed is False


def test_fit_to_limit_makes_a_big_png_fit() -> None:
    data = noise_png((768, 768))
    limit = 150_000
    assert len(data) > 10 * limit
    fitted, changed = fit_to_limit(GeneratedImage(data, "image/png", 768, 768), limit)
    assert changed is True
    assert len(fitted.data) <= limit
    assert fitted.mime == "image/jpeg"
    with Image.open(io.BytesIO(fitted.data)) as img:
        img.load()
        assert img.format == "JPEG"
        assert img.size == (fitted.width, fitted.height)
    assert fitted.width <= 768 and fitted.height <= 768
    assert fitted.width / fitted.height == pytest.approx(1.0, abs=0.02)


def test_fit_to_limit_reencodes_before_it_downscales() -> None:
    # When a JPEG at full size is small enough, no pixels are lost.
    data = noise_png((512, 512))
    fitted, changed = fit_to_limit(GeneratedImage(data, "image/png", 512, 512), len(data) - 1)
    assert changed and len(fitted.data) < len(data)
    assert (fitted.width, fitted.height) == (512, 512)


def test_fit_to_limit_gives_up_rather_than_looping() -> None:
    with pytest.raises(ValueError):
        fit_to_limit(GeneratedImage(noise_png((128, 128)), "image/png", 128, 128), 50)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_header_only_measure_still_refuses_cut_off_files(fmt: str) -> None:
    whole = encode(fmt, (200, 150))
    assert measure(whole, "result", decode=False)[1:] == (200, 150)
    with pytest.raises(InvalidImage):
        measure(whole[: len(whole) * 2 // 3], "result", decode=False)


def test_all_fit_says_whether_fitting_would_change_anything() -> None:
    small = GeneratedImage(encode("JPEG"), "image/jpeg", 64, 48)
    size = len(small.data)
    assert all_fit([small, small], size) and all_fit([], 1)
    assert not all_fit([small], size - 1)
    assert fit_to_limit(small, size) == (small, False)


def _reference(data: bytes) -> ImageInput:
    return load_reference(data, "photo", url="https://example.org/photo")


def test_fit_reference_hands_a_reference_within_the_limits_back_as_it_is() -> None:
    image = _reference(encode("PNG", (300, 200)))
    assert fit_reference(image, max_bytes=image.size, max_side=300, readable=REFERENCE_MIMES) is image


def test_fit_reference_brings_the_longest_side_down_keeping_the_shape() -> None:
    image = _reference(encode("PNG", (1200, 300)))
    shrunk = fit_reference(image, max_bytes=10_000_000, max_side=600, readable=REFERENCE_MIMES)
    assert (shrunk.width, shrunk.height) == (600, 150)
    assert shrunk.mime == "image/jpeg" and measure(shrunk.data) == ("image/jpeg", 600, 150)
    # The URL was the original's: a host must get these bytes, not fetch the big photo.
    assert shrunk.url is None and image.url is not None
    assert (shrunk.name, shrunk.source) == (image.name, image.source)


def test_fit_reference_brings_the_bytes_under_the_limit() -> None:
    image = _reference(noise_png((400, 400)))
    shrunk = fit_reference(image, max_bytes=60_000, max_side=6000, readable=REFERENCE_MIMES)
    assert shrunk.size <= 60_000 < image.size
    assert measure(shrunk.data)[0] == "image/jpeg"


def turned_jpeg(width: int, height: int) -> bytes:
    """A phone's photo taken upright: stored on its side, with the EXIF turn to show it."""
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def test_fit_reference_stands_a_turned_photo_upright() -> None:
    turned = _reference(turned_jpeg(800, 400))
    assert (turned.width, turned.height) == (800, 400)  # as stored
    upright = fit_reference(turned, max_bytes=10_000_000, max_side=6000, readable=REFERENCE_MIMES)
    assert (upright.width, upright.height) == (400, 800)
    with Image.open(io.BytesIO(upright.data)) as out:
        assert out.size == (400, 800) and out.getexif().get(0x0112, 1) == 1
    shrunk = fit_reference(turned, max_bytes=10_000_000, max_side=200, readable=REFERENCE_MIMES)
    assert (shrunk.width, shrunk.height) == (100, 200)


def test_fit_reference_keeps_transparency() -> None:
    img = Image.new("RGBA", (900, 300), (200, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    shrunk = fit_reference(
        _reference(buf.getvalue()), max_bytes=10_000_000, max_side=300, readable=REFERENCE_MIMES
    )
    assert shrunk.mime == "image/webp"
    with Image.open(io.BytesIO(shrunk.data)) as out:
        assert out.size == (300, 100) and out.mode == "RGBA"
        assert out.getpixel((5, 5))[3] == 0


@pytest.mark.parametrize(
    ("size", "enlarged"),
    [((10, 10), (15, 15)), ((1, 16), (15, 240)), ((7, 112), (15, 240)), ((12, 40), (15, 50))],
)
def test_fit_reference_enlarges_an_icon_hosts_would_refuse_keeping_its_shape(
    size: tuple[int, int], enlarged: tuple[int, int]
) -> None:
    """Seedream refuses a reference of 14 pixels a side or less: an emoji or an icon was sent
    and the job failed at the host."""
    image = _reference(encode("PNG", size))
    fitted = fit_reference(image, max_bytes=10_000_000, max_side=6000, min_side=15, readable=REFERENCE_MIMES)
    assert (fitted.width, fitted.height) == enlarged
    assert measure(fitted.data)[1:] == enlarged
    assert max(enlarged) / min(enlarged) <= 16  # Seedream's ratio, kept
    big_enough = _reference(encode("PNG", (15, 20)))
    assert (
        fit_reference(big_enough, max_bytes=10_000_000, max_side=6000, min_side=15, readable=REFERENCE_MIMES)
        is big_enough
    )


def phone_photo(kind: str, size: tuple[int, int] = (640, 480)) -> bytes:
    """An iPhone's photo (HEIC) or a browser's saved image (AVIF)."""
    register_heif_opener()  # to write one (seedbot loads it to read one, when one comes)
    buf = io.BytesIO()
    Image.new("RGB", size, (30, 90, 200)).save(buf, format=kind, quality=60)
    return buf.getvalue()


@pytest.mark.parametrize(("kind", "mime"), [("HEIF", "image/heic"), ("AVIF", "image/avif")])
def test_a_heic_or_avif_photo_is_read_and_sent_as_jpeg(kind: str, mime: str) -> None:
    """An iPhone's photo was refused as "not an image"; no host reads HEIC, so it goes as JPEG."""
    data = phone_photo(kind)
    assert sniff_mime(data) == mime
    image = _reference(data)
    assert (image.mime, image.width, image.height) == (mime, 640, 480)
    sent = fit_reference(image, max_bytes=10_000_000, max_side=6000, readable=REFERENCE_MIMES)
    assert measure(sent.data) == ("image/jpeg", 640, 480) and sent.url is None
    with Image.open(io.BytesIO(sent.data)) as out:
        r, _g, b = out.convert("RGB").getpixel((320, 240))
        assert b > 150 and r < 80  # the photo's own colour, not a blank


def test_an_iso_media_file_that_is_no_image_is_not_one() -> None:
    mp4 = struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2" + b"\x00" * 64
    assert sniff_mime(mp4) is None
    with pytest.raises(InvalidImage):
        load_reference(mp4, "clip.mp4")


def test_a_fresh_process_reads_heic_without_loading_pillow_heif_first(tmp_path: Path) -> None:
    """The plug-in is loaded when a HEIC photo comes, not at start (it costs ~50 ms)."""
    photo = tmp_path / "IMG_0001.HEIC"
    photo.write_bytes(phone_photo("HEIF", (320, 240)))
    script = (
        "import sys; from pathlib import Path; from bot.media import images; "
        "assert 'pillow_heif' not in sys.modules; "
        f"print(images.measure(Path({str(photo)!r}).read_bytes()))"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, the test's own script
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "('image/heic', 320, 240)"


def test_a_palette_picture_is_shrunk_smoothly_not_by_index() -> None:
    """Shrunk before it is converted (to hold less), a palette image would be resized by its
    palette's indexes (nearest neighbour): converted first, it is shrunk in colour."""
    buffer = io.BytesIO()
    stripes = Image.new("P", (400, 400))
    stripes.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    stripes.putdata([(x // 1) % 2 for y in range(400) for x in range(400)])
    stripes.save(buffer, "PNG")
    source = load_reference(buffer.getvalue(), "stripes.png")
    fitted = fit_reference(source, max_bytes=10_000_000, max_side=200, readable=frozenset())
    with Image.open(io.BytesIO(fitted.data)) as out:
        grey = out.convert("L").getpixel((100, 100))
    assert 60 < int(grey) < 200  # black and white stripes averaged, not one of them picked
