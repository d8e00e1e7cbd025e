"""The request and result types: the names results go by on every surface."""

from __future__ import annotations

from bot.request.models import GeneratedImage, parse_result_filename, result_filename


def test_a_result_image_is_named_by_job_position_and_type() -> None:
    jpeg = GeneratedImage(data=b"x", mime="image/jpeg", width=1, height=1)
    assert jpeg.filename("j7", 2) == "seedbot-j7-2.jpg"
    assert result_filename("j7", 1, "image/webp") == "seedbot-j7-1.webp"
    assert result_filename("j7", 1, "application/octet-stream") == "seedbot-j7-1.bin"


def test_a_result_file_name_reads_back_and_other_names_do_not() -> None:
    assert parse_result_filename(result_filename("0af3", 12, "image/png")) == ("0af3", 12)
    assert parse_result_filename("seedbot-0af3-0.png") is None  # images count from 1
    assert parse_result_filename("holiday-0af3-1.png") is None
    assert parse_result_filename("seedbot-0af3-1.png.exe") is None
