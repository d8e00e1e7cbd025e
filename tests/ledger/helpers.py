"""Rows the ledger tests store on both backends: a job and an input image."""

from __future__ import annotations

from bot.request.models import ImageInput, Job, JobStatus

USER = "discord:42"


def make_job(job_id: str, **kw: object) -> Job:
    fields: dict[str, object] = {
        "id": job_id,
        "user_key": USER,
        "platform": "discord",
        "status": JobStatus.QUEUED,
        "kind": "imagine",
        "prompt": "a red fox",
        "model": "5.0-lite",
        "request": {"prompt": "a red fox", "count": 2, "aspect": "3:2", "image_count": 0},
        "channel_id": "c1",
        "images_requested": 2,
    }
    fields.update(kw)
    return Job(**fields)  # type: ignore[arg-type]


def image(seed: int, name: str = "") -> ImageInput:
    return ImageInput(
        data=bytes([seed]) * (100 + seed), mime="image/png", width=10 + seed, height=20, name=name
    )
