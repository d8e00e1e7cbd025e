"""The emulators are strict where the documents are: auth header names, field names, ranges."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.providers.helpers import png

GOOD_NOVITA = {
    "prompt": "p",
    "size": "2048x2048",
    "watermark": False,
    "optimize_prompt_options": {"mode": "standard"},
    "sequential_image_generation": "disabled",
}


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def novita(http, emu, body, *, auth=None, model="seedream-5.0-lite"):
    headers = {"Authorization": auth or f"Bearer {emu.novita.api_key}"}
    return await http.post(f"{emu.base_url('novita')}/v3/{model}", json=body, headers=headers)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"watermak": True}, "unknown field"),
        ({"images": []}, "unknown field"),
        ({"size": "1024x1024"}, "total pixels"),
        ({"size": "4K"}, "WIDTHxHEIGHT"),  # 4K is a 4.5 tier, not a 5.0 lite one
        ({"size": "8320x480"}, "aspect ratio"),
        ({"watermark": "no"}, "boolean"),
        ({"optimize_prompt_options": {"mode": "fast"}}, "standard"),
        ({"optimize_prompt_options": {"mode": "standard", "x": 1}}, "unknown field"),
        ({"sequential_image_generation": "on"}, "auto or disabled"),
        ({"sequential_image_generation_options": {"max_images": 16}}, "max_images"),
        ({"image": []}, "1 to 14"),
        ({"image": ["data:image/png;base64,!!!"]}, "base64"),
        ({"prompt": ""}, "prompt"),
    ],
)
async def test_novita_rejects_bad_bodies(http, emu, change, needle) -> None:
    response = await novita(http, emu, {**GOOD_NOVITA, **change})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and body["reason"] == "INVALID_REQUEST_BODY" and body["metadata"] == {}
    assert needle in body["message"]


async def test_novita_auth_and_models(http, emu) -> None:
    assert (await novita(http, emu, GOOD_NOVITA, auth=emu.novita.api_key)).json()[
        "reason"
    ] == "FAILED_TO_AUTH"
    assert (await novita(http, emu, GOOD_NOVITA, auth="Bearer nope")).json()["reason"] == "INVALID_API_KEY"
    ok_45 = await novita(http, emu, {**GOOD_NOVITA, "size": "4K"}, model="seedream-4.5")
    assert ok_45.status_code == 200 and len(ok_45.json()["images"]) == 1


async def test_novita_sequential_needs_the_prompt_to_ask(http, emu) -> None:
    auto = {**GOOD_NOVITA, "sequential_image_generation": "auto"}
    auto["sequential_image_generation_options"] = {"max_images": 4}
    assert len((await novita(http, emu, auto)).json()["images"]) == 1
    auto["prompt"] = "cats. Generate a set of 4 images."
    assert len((await novita(http, emu, auto)).json()["images"]) == 4
    refs = [f"data:image/png;base64,{base64.b64encode(png()).decode()}"] * 12
    assert (await novita(http, emu, {**auto, "image": refs})).status_code == 400  # 12 + 4 > 15


async def test_segmind_contract(http, emu) -> None:
    url = f"{emu.base_url('segmind')}/v1/seedream-v5-lite-text-to-image"
    good = {"prompt": "p", "aspect_ratio": "16:9", "size": "2K", "max_images": 1}
    key = {"x-api-key": emu.segmind.api_key}

    bearer = await http.post(url, json=good, headers={"Authorization": f"Bearer {emu.segmind.api_key}"})
    assert bearer.status_code == 401 and "error" in bearer.json()
    ok = await http.post(url, json=good, headers=key)
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/jpeg"
    assert float(ok.headers["x-remaining-credits"]) < 1000
    form = await http.post(url, data={"prompt": "p"}, headers=key)
    assert (form.status_code, form.json()) == (406, {"error": "Invalid content type"})
    for bad in ({"aspect_ratio": "5:4"}, {"size": "4K"}, {"max_images": 16}, {"image": "x"}, {"prompt": ""}):
        response = await http.post(url, json={**good, **bad}, headers=key)
        assert response.status_code == 400 and "error" in response.json(), bad
    method = await http.get(url, headers=key)
    assert method.status_code == 405 and method.headers["content-type"].startswith("text/html")
    missing = await http.post(f"{emu.base_url('segmind')}/v1/seedream-v9", json=good, headers=key)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")


async def test_apiframe_contract(http, emu) -> None:
    url = f"{emu.base_url('apiframe')}/v2/images/generate"
    key = {"X-API-Key": emu.apiframe.api_key}
    good = {
        "prompt": "p",
        "model": "seedream-5-lite",
        "seedreamParams": {"size": "2K", "aspect_ratio": "3:2"},
    }

    assert (await http.post(url, json=good, headers={"Authorization": "Bearer x"})).status_code == 401
    ok = await http.post(url, json=good, headers=key)
    assert ok.status_code == 202 and ok.json()["status"] == "QUEUED"
    job = await http.get(f"{emu.base_url('apiframe')}/v2/jobs/{ok.json()['jobId']}", headers=key)
    assert job.json()["status"] == "COMPLETED" and job.json()["result"].startswith("http")
    for bad in (
        {"model": "seedream-4"},
        {"prompt": "x" * 2001},
        {"seedreamParams": {"size": "4K"}},
        {"seedreamParams": {"output_format": "jpeg"}},
        {"seedreamParams": {"aspect_ratio": "match_input_image"}},
        {"seedreamParams": {"image_input": ["data:image/png;base64,AAAA"]}},
        {"seedreamParams": {"imageInput": ["https://example.com/a.png"]}},
        {"count": 2},
    ):
        response = await http.post(url, json={**good, **bad}, headers=key)
        assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_ERROR", bad
    lost = await http.get(f"{emu.base_url('apiframe')}/v2/jobs/nope", headers=key)
    assert lost.status_code == 404


async def test_modellix_contract(http, emu) -> None:
    base = f"{emu.base_url('modellix')}/api/v1/bytedance"
    key = {"Authorization": f"Bearer {emu.modellix.api_key}"}
    good = {"prompt": "p", "size": "2048x2048"}

    assert (await http.post(f"{base}/seedream-5.0-lite/async", json=good)).json()["code"] == 401
    ok = await http.post(f"{base}/seedream-5.0-lite/async", json=good, headers=key)
    data = ok.json()["data"]
    assert ok.json()["code"] == 0 and data["status"] == "pending" and data["get_result"]["method"] == "GET"
    task = await http.get(data["get_result"]["url"], headers=key)
    resources = task.json()["data"]["result"]["resources"]
    assert resources[0]["type"] == "image" and resources[0]["url"].startswith("http")
    image = {"image": ["https://example.com/a.png"]}
    assert (
        await http.post(f"{base}/seedream-5.0-lite/async", json={**good, **image}, headers=key)
    ).status_code == 400
    assert (
        await http.post(f"{base}/seedream-5.0-lite-edit/async", json=good, headers=key)
    ).status_code == 400
    for bad in (
        {"prompt": "x" * 601},
        {"size": "2K"},
        {"size": "1024x1024"},
        {"sequential_image_generation_max_images": 0},
        {"optimize_prompt_mode": "fast"},
        {"output_format": "webp"},
        {"optimize_prompt_options": {"mode": "standard"}},
    ):
        response = await http.post(
            f"{base}/seedream-5.0-lite-edit/async", json={**good, **image, **bad}, headers=key
        )
        body = response.json()
        assert (
            response.status_code == 400
            and body["code"] == 400
            and body["message"].startswith("Invalid Parameter:")
        ), bad


async def test_records_and_counts(http, emu) -> None:
    await novita(http, emu, GOOD_NOVITA)
    await novita(http, emu, {"prompt": "p", "bogus": 1})
    assert emu.novita.submissions == 2 and emu.novita.created == 1
    assert emu.novita.requests[0].headers["authorization"].startswith("Bearer ")
    assert emu.novita.last_json == {"prompt": "p", "bogus": 1}
    with pytest.raises(ValueError, match="unknown fault"):
        emu.novita.fail("explode")
