"""The request and result types: the names results go by on every surface."""

from __future__ import annotations

from bot.request.models import GeneratedImage, result_filename


def test_a_result_image_is_named_by_job_position_and_type() -> None:
    jpeg = GeneratedImage(data=b"x", mime="image/jpeg", width=1, height=1)
    assert jpeg.filename("j7", 2) == "seedbot-j7-2.jpg"
    assert result_filename("j7", 1, "image/webp") == "seedbot-j7-1.webp"
    assert result_filename("j7", 1, "application/octet-stream") == "seedbot-j7-1.bin"
