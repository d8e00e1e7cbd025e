"""The Ark, fal and Replicate emulators are strict where the documents are: auth header forms,
field names per endpoint/model, ranges, and errors in each host's own shape."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.providers.helpers import png


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


# -- Ark ---------------------------------------------------------------------------------------

GOOD_ARK = {"model": "seedream-5-0-260128", "prompt": "p", "size": "2048x2048"}


async def ark(http, emu, body, *, auth=None):
    headers = {"Authorization": auth or f"Bearer {emu.ark.api_key}"}
    return await http.post(f"{emu.base_url('ark')}/api/v3/images/generations", json=body, headers=headers)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"n": 2}, "unknown field"),
        ({"size": "1024x1024"}, "total pixels"),
        ({"size": "4K"}, "WIDTHxHEIGHT"),  # a 4.5 tier, not a 5.0 lite one
        ({"image": []}, "1 to 14"),
        ({"image": "data:image/PNG;base64,AAAA"}, "data URI"),
        ({"sequential_image_generation": "on"}, "auto or disabled"),
        ({"sequential_image_generation_options": {"max_images": 16}}, "max_images"),
        ({"response_format": "png"}, "response_format"),
        ({"stream": "yes"}, "boolean"),
        ({"output_format": "webp"}, "output_format"),
        ({"prompt": ""}, "prompt"),
    ],
)
async def test_ark_rejects_bad_bodies(http, emu, change, needle) -> None:
    response = await ark(http, emu, {**GOOD_ARK, **change})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "InvalidParameter" and error["type"] == "BadRequest"
    assert needle in error["message"] and "Request id:" in error["message"]


async def test_ark_auth_models_and_sizes(http, emu) -> None:
    missing = await ark(http, emu, GOOD_ARK, auth=emu.ark.api_key)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "AuthenticationError"
    assert (await ark(http, emu, {**GOOD_ARK, "model": "seedream-9"})).status_code == 404
    lite_png = await ark(http, emu, {**GOOD_ARK, "size": "3K", "output_format": "png"})
    assert lite_png.status_code == 200 and lite_png.json()["usage"]["generated_images"] == 1
    v45 = {**GOOD_ARK, "model": "seedream-4-5-251128", "size": "4K"}
    assert (await ark(http, emu, v45)).status_code == 200
    assert (await ark(http, emu, {**v45, "output_format": "png"})).status_code == 400  # 5.0 lite only
    refs = [f"data:image/png;base64,{base64.b64encode(png()).decode()}"] * 12
    batch = {**GOOD_ARK, "image": refs, "sequential_image_generation": "auto"}
    batch["sequential_image_generation_options"] = {"max_images": 4}
    assert (await ark(http, emu, batch)).status_code == 400  # 12 + 4 > 15


async def test_ark_stream_is_server_sent_events(http, emu) -> None:
    body = {**GOOD_ARK, "stream": True, "prompt": "Generate a set of 2 images."}
    body["sequential_image_generation"] = "auto"
    response = await ark(http, emu, body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in response.text.split("\n\n") if block.strip()]
    kinds = [block.splitlines()[0] for block in events]
    assert kinds == [
        "event: image_generation.partial_succeeded",
        "event: image_generation.partial_succeeded",
        "event: image_generation.completed",
        "data: [DONE]",
    ]


# -- fal ---------------------------------------------------------------------------------------

T2I = "fal-ai/bytedance/seedream/v5/lite/text-to-image"


async def fal(http, emu, body, *, endpoint=T2I, auth=None):
    headers = {"Authorization": auth or f"Key {emu.fal.api_key}"}
    return await http.post(f"{emu.base_url('fal')}/{endpoint}", json=body, headers=headers)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"image_urls": ["https://x/y.png"]}, "unknown field"),  # text-to-image takes none
        ({"image_size": "auto_4K"}, "image_size"),  # a 4.5 preset
        ({"image_size": {"width": 0, "height": 10}}, "image_size"),
        ({"num_images": 7}, "num_images"),
        ({"max_images": 0}, "max_images"),
        ({"sync_mode": 1}, "sync_mode"),
        ({"prompt": ""}, "prompt"),
    ],
)
async def test_fal_rejects_bad_bodies(http, emu, change, needle) -> None:
    response = await fal(http, emu, {"prompt": "p", **change})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list) and needle in str(detail)


async def test_fal_auth_endpoints_and_queue(http, emu) -> None:
    bearer = await fal(http, emu, {"prompt": "p"}, auth=f"Bearer {emu.fal.api_key}")
    assert bearer.status_code == 401 and "detail" in bearer.json()
    assert (await fal(http, emu, {"prompt": "p"}, endpoint="fal-ai/bytedance/seedream/v9")).status_code == 404
    edit = "fal-ai/bytedance/seedream/v4.5/edit"
    assert (await fal(http, emu, {"prompt": "p"}, endpoint=edit)).status_code == 422  # image_urls required
    eleven = {"prompt": "p", "image_urls": ["https://x/y.png"] * 11}
    assert (await fal(http, emu, eleven, endpoint=edit)).status_code == 422
    emu.fal.pending_polls = 1
    submitted = (await fal(http, emu, {"prompt": "p", "image_size": "auto_2K"})).json()
    assert set(submitted) >= {"request_id", "status_url", "response_url", "cancel_url"}
    assert "/fal-ai/bytedance/requests/" in submitted["status_url"]
    key = {"Authorization": f"Key {emu.fal.api_key}"}
    early = await http.get(submitted["response_url"], headers=key)
    assert early.status_code == 400
    queued = await http.get(submitted["status_url"], headers=key)
    assert (queued.status_code, queued.json()["status"]) == (202, "IN_QUEUE")
    done = await http.get(submitted["status_url"], headers=key)
    assert (done.status_code, done.json()["status"]) == (200, "COMPLETED")
    result = (await http.get(submitted["response_url"], headers=key)).json()
    assert result["images"][0]["content_type"] == "image/png"
    late = await http.put(submitted["cancel_url"], headers=key)
    assert (late.status_code, late.json()) == (400, {"status": "ALREADY_COMPLETED"})


# -- Replicate ---------------------------------------------------------------------------------


async def replicate(http, emu, data, *, name="seedream-5-lite", auth=None):
    headers = {"Authorization": auth or f"Bearer {emu.replicate.api_key}"}
    url = f"{emu.base_url('replicate')}/v1/models/bytedance/{name}/predictions"
    return await http.post(url, json={"input": data}, headers=headers)


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [
        ("seedream-5-lite", {"prompt": "p", "size": "4K"}, "input.size"),
        ("seedream-5-lite", {"prompt": "p", "size": "custom", "width": 2048}, "unknown field"),
        ("seedream-4.5", {"prompt": "p", "output_format": "png"}, "unknown field"),
        ("seedream-4.5", {"prompt": "p", "size": "custom", "width": 512, "height": 512}, "width/height"),
        ("seedream-5-lite", {"prompt": "p", "aspect_ratio": "5:4"}, "aspect_ratio"),
        ("seedream-5-lite", {"prompt": "p", "max_images": 16}, "max_images"),
        ("seedream-5-lite", {"prompt": ""}, "prompt"),
    ],
)
async def test_replicate_rejects_bad_inputs(http, emu, name, data, needle) -> None:
    response = await replicate(http, emu, data, name=name)
    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422 and problem["title"] == "Input validation failed"
    assert needle in problem["detail"]


async def test_replicate_auth_models_and_predictions(http, emu) -> None:
    bad = await replicate(http, emu, {"prompt": "p"}, auth="Token nope")
    assert bad.status_code == 401 and set(bad.json()) >= {"title", "detail", "status"}
    assert (await replicate(http, emu, {"prompt": "p"}, name="seedream-9")).status_code == 404
    created = await replicate(http, emu, {"prompt": "p", "size": "3K", "aspect_ratio": "16:9"})
    assert created.status_code == 201
    prediction = created.json()
    assert prediction["status"] == "starting" and prediction["output"] is None
    key = {"Authorization": f"Bearer {emu.replicate.api_key}"}
    done = (await http.get(prediction["urls"]["get"], headers=key)).json()
    assert done["status"] == "succeeded" and len(done["output"]) == 1
    account = await http.get(f"{emu.base_url('replicate')}/v1/account", headers=key)
    assert account.json()["username"] == "seedbot-test"
