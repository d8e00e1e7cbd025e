"""The playground's HTTP API, in process through aiohttp's test client: turns, threads, images,
refusals in the core's words, and nothing charged for what is refused."""

from __future__ import annotations

import asyncio
import json

import pytest

from adapters.web_adapter.reply import status_fields
from adapters.web_adapter.security import CSRF_HEADER
from bot import messages
from bot.conversation.surface import Progress
from bot.engine.pipeline import ProgressEvent
from bot.request.flags import flag_help
from bot.request.validation import MAX_REFERENCES, PROMPT_MAX_CHARS, UPLOAD_MAX_BYTES
from tests.web.conftest import OpenPlayground, Playground, has, kinds, of, png


async def test_a_prompt_with_flags_and_options_becomes_a_thread_with_its_images(
    playground: Playground,
) -> None:
    thread = await playground.ask("a red fox in snow --ar 3:2", count="2", model="4.5", format="jpeg")
    entries = await playground.until(thread, has("result"))
    ask, result = of(entries, "ask")[0], of(entries, "result")[0]
    assert ask["text"] == "a red fox in snow --ar 3:2" and "2 images" in ask["options"]
    assert "status" not in kinds(entries)  # the status entry gives way to the result
    assert len(result["images"]) == 2
    assert "Seedream 4.5" in result["caption"] and "2496x1664" in result["caption"]
    assert [a["action"] for a in result["actions"]] == ["reroll", "variations", "edit", "info", "delete"] + [
        "upscale"
    ] * len(result["images"])
    for image in result["images"]:
        full = await playground.client.get(image["url"])
        assert full.status == 200 and full.content_type == "image/jpeg"
        assert "attachment" not in full.headers.get("Content-Disposition", "")
        thumb = await playground.client.get(image["thumb"])
        assert thumb.status == 200 and len(await thumb.read()) < len(await full.read())
    await playground.settled()
    assert "Images left today: 18 of 20" in await playground.usage()


async def test_a_reply_edits_the_latest_result_with_the_attached_image(playground: Playground) -> None:
    thread = await playground.ask("a red fox")
    first = of(await playground.until(thread, has("result")), "result")[0]
    await playground.reply(thread, "make it blue", [("fox.png", png(), "image/png")])
    entries = await playground.until(thread, has("result", 2))
    edit = of(entries, "result")[1]
    legend = f"image 1 = result 1 of job {first['job']}; image 2 = fox.png"
    assert legend in edit["caption"]
    refs = of(entries, "ask")[1]["refs"]
    assert [r["name"] for r in refs] == ["fox.png"]
    served = await playground.client.get(refs[0]["url"])
    assert served.status == 200 and served.content_type == "image/png"
    info = await playground.press(edit["job"], "info")
    assert info == {"say": "", "refused": False, "edit": None}
    note = of(await playground.until(thread, has("note")), "note")[0]
    assert f"Made from: job {first['job']}" in note["text"] and "a result of job" in note["text"]


async def test_a_reply_while_the_image_is_still_being_made_waits_for_it(
    open_playground: OpenPlayground,
) -> None:
    pg = await open_playground(demo_latency=1.0)
    await pg.open_page()
    thread = await pg.ask("a slow fox")
    await pg.until(thread, lambda es: any(e.get("stage") == "running" for e in es))
    await pg.reply(thread, "make it blue")
    entries = await pg.until(thread, lambda es: any(e.get("text") == messages.WAITING_FOR_PARENT for e in es))
    assert "refusal" not in kinds(entries)
    first, edit = of(await pg.until(thread, has("result", 2)), "result")
    assert f"image 1 = result 1 of job {first['job']}" in edit["caption"]


async def test_edit_on_one_result_and_a_pick_from_a_batch(playground: Playground) -> None:
    thread = await playground.ask("two foxes --n 2")
    batch = of(await playground.until(thread, has("result")), "result")[0]
    # Edit asks in the response what should change, with the prompt being edited (the core's form).
    form = await playground.press(batch["job"], "edit")
    edit_form = {"job": batch["job"], "prompt": "two foxes", "max": PROMPT_MAX_CHARS}
    assert form == {"say": "", "refused": False, "edit": edit_form}
    await playground.reply(thread, "#2 in the rain", job=batch["job"])
    edit = of(await playground.until(thread, has("result", 2)), "result")[1]
    assert f"image 1 = result 2 of job {batch['job']}" in edit["caption"]
    # Re-rolled, the edit's reference is still named for the result it is (it read "result 1").
    await playground.press(edit["job"], "reroll")
    again = of(await playground.until(thread, has("result", 3)), "result")[2]
    assert f"image 1 = result 2 of job {batch['job']}" in again["caption"]


async def test_reroll_variations_and_delete_answer_in_the_results_thread(playground: Playground) -> None:
    thread = await playground.ask("a lighthouse")
    first = of(await playground.until(thread, has("result")), "result")[0]
    await playground.press(first["job"], "reroll")
    await playground.press(first["job"], "variations")
    entries = await playground.until(thread, has("result", 3))
    counts = sorted(len(r["images"]) for r in of(entries, "result"))
    assert counts == [1, 1, 4]
    assert [e.get("pressed") for e in of(entries, "ask")[1:]] == ["Re-roll", "Variations"]

    url = first["images"][0]["url"]
    await playground.press(first["job"], "delete")
    entries = await playground.until(thread, lambda es: any(e.get("text") == messages.DELETED for e in es))
    assert first["job"] not in [r["job"] for r in of(entries, "result")]
    assert (await playground.client.get(url)).status == 404
    history = (await (await playground.client.get("/api/history")).json())["jobs"]
    deleted = next(job for job in history if job["id"] == first["job"])
    assert deleted["deleted"] and deleted["images"] == []


async def test_buttons_on_jobs_that_are_not_results_here_are_refused_in_the_response(
    playground: Playground,
) -> None:
    answer = await playground.press("0123456789ab", "reroll")
    assert answer["say"] == messages.with_charge_note(messages.NOT_A_RESULT) and answer["refused"]
    refused = {"say": messages.NOT_A_RESULT, "refused": True, "edit": None}
    assert await playground.press("0123456789ab", "edit") == refused
    assert (await playground.post("/api/jobs/0123456789ab/explode")).status == 404


async def test_usage_help_and_history(playground: Playground) -> None:
    assert "Images left today: 20 of 20" in await playground.usage()
    help_text = (await (await playground.client.get("/api/help")).json())["text"]
    assert help_text == messages.playground_help(flag_help())
    typed = await playground.ask("usage")  # the bots' command words work in the box too
    note = of(await playground.until(typed, has("note")), "note")[0]
    assert "Images left today: 20 of 20" in note["text"]
    thread = await playground.ask("a castle --n 2")
    await playground.until(thread, has("result"))
    await playground.settled()  # the result shows before the engine records what was delivered
    history = (await (await playground.client.get("/api/history")).json())["jobs"]
    assert history[0]["prompt"] == "a castle" and len(history[0]["images"]) == 2
    assert history[0]["thread"] == thread


async def test_results_are_read_again_through_the_conversation_when_not_in_memory(
    playground: Playground,
) -> None:
    thread = await playground.ask("a tower")
    result = of(await playground.until(thread, has("result")), "result")[0]
    playground.platform.page.store.drop_prefix("")  # as after a restart
    served = await playground.client.get(result["images"][0]["url"])
    assert served.status == 200 and served.content_type == "image/jpeg"


async def test_quotas_apply_as_configured(open_playground: OpenPlayground) -> None:
    pg = await open_playground(daily_images=1)
    await pg.open_page()
    thread = await pg.ask("three owls --n 3")
    refusal = of(await pg.until(thread, has("refusal")), "refusal")[0]
    assert "only 1 is left of your daily limit" in refusal["text"] and messages.NOT_CHARGED in refusal["text"]
    assert "Images left today: 1 of 1" in await pg.usage()


async def test_the_channel_list_names_the_playgrounds_one_channel(open_playground: OpenPlayground) -> None:
    """Any other word was stored as a channel and refused every request after it."""
    pg = await open_playground(admins="web:local")
    await pg.open_page()

    async def note(text: str) -> str:
        thread = await pg.ask(text)
        return str(of(await pg.until(thread, has("note")), "note")[0]["text"])

    said = await note("admin settings channels general")
    assert said == messages.bad_setting_value("channels", "general", messages.HINT_PLAYGROUND_CHANNEL)
    assert "channels is now #playground" in await note("admin settings channels here")
    thread = await pg.ask("a fox")
    await pg.until(thread, has("result"))


async def test_flag_errors_are_the_cores_words(playground: Playground) -> None:
    thread = await playground.ask("a fox --ar banana")
    refusal = of(await playground.until(thread, has("refusal")), "refusal")[0]
    assert "--ar" in refusal["text"] and messages.NOT_CHARGED in refusal["text"]
    thread = await playground.ask("a fox", resolution="9K")
    assert messages.NOT_CHARGED in of(await playground.until(thread, has("refusal")), "refusal")[0]["text"]


# -- uploads: the chat's checks, before anything is spent ----------------------------------------


async def _refused(pg: Playground, files: list[tuple[str, bytes, str]], **fields: str) -> str:
    thread = await pg.ask("edit these", files, **fields)
    entries = await pg.until(thread, has("refusal"))
    assert "result" not in kinds(entries)
    assert of(entries, "ask")[0]["refs"] == []  # nothing refused is ever served back
    return str(of(entries, "refusal")[0]["text"])


async def test_refused_uploads_cost_nothing(playground: Playground) -> None:
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (UPLOAD_MAX_BYTES + 10)
    text = await _refused(playground, [("huge.png", big, "image/png")])
    assert text == messages.with_charge_note(messages.image_too_large("huge.png", len(big), UPLOAD_MAX_BYTES))

    text = await _refused(playground, [("notes.png", b"just some text, not a picture", "image/png")])
    assert text == messages.not_an_image("notes.png")

    text = await _refused(playground, [("notes.txt", b"hello", "text/plain")])
    assert text == messages.not_an_image("notes.txt")

    thread = await playground.ask("edit it", declared=declared_file("giant.jpg", 50_000_000, "image/jpeg"))
    refusal = of(await playground.until(thread, has("refusal")), "refusal")[0]["text"]
    assert refusal == messages.with_charge_note(
        messages.image_too_large("giant.jpg", 50_000_000, UPLOAD_MAX_BYTES)
    )

    many = [(f"p{i}.png", png(), "image/png") for i in range(MAX_REFERENCES + 1)]
    text = await _refused(playground, many)
    assert text == messages.with_charge_note(messages.too_many_references(MAX_REFERENCES + 1, MAX_REFERENCES))

    await playground.settled()
    assert "Used today: 0; this month: 0." in await playground.usage()


def declared_file(name: str, size: int, content_type: str) -> str:
    return json.dumps({"name": name, "size": size, "type": content_type})


async def test_a_body_over_the_limit_is_cut_off(open_playground: OpenPlayground) -> None:
    pg = await open_playground(max_body=200_000)
    await pg.open_page()
    response = await pg.post("/api/ask", pg.form("big", [("big.png", b"\0" * 400_000, "image/png")]))
    assert response.status == 413
    assert (await response.json())["error"] == messages.web_body_too_large(
        200_000, UPLOAD_MAX_BYTES, MAX_REFERENCES
    )
    assert (await pg.timeline())["threads"] == []


async def test_a_malformed_count_is_refused_before_anything_runs(playground: Playground) -> None:
    for count in ("lots", "²"):  # ² passes str.isdigit() but not int(): it was a 500
        response = await playground.post("/api/ask", playground.form("a fox", count=count))
        assert response.status == 400 and messages.NOT_CHARGED in (await response.json())["error"]
    assert (await playground.timeline())["threads"] == []


# Bodies no page sends: each was a 500 with a traceback out of aiohttp's form parser.
UNREADABLE_FORMS = [
    (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="text"\r\n\r\na fox \xff\r\n--x--\r\n',
    ),
    (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="text"\r\nContent-Type: text/plain; charset=no-such\r\n\r\nhi\r\n--x--\r\n',
    ),
    ("multipart/form-data; boundary=x", b"garbage"),
    ("multipart/form-data", b"no boundary"),
    (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="text"\r\nContent-Transfer-Encoding: x-foo\r\n\r\n'
        b"hi\r\n--x--\r\n",
    ),
    # A file named with a control character (ESC, DEL): browsers escape only CR, LF and '"'.
    (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="image"; filename="\x1b[31mred.png"\r\n'
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n--x--\r\n",
    ),
]


async def test_a_form_no_page_sends_is_a_plain_refusal(playground: Playground) -> None:
    await playground.open_page()
    job = "0123456789ab"
    for path in ("/api/ask", "/api/threads/t0123456789ab/reply", f"/api/jobs/{job}/cast"):
        for content_type, body in UNREADABLE_FORMS:
            headers = {CSRF_HEADER: playground.csrf, "Content-Type": content_type}
            response = await playground.client.post(path, data=body, headers=headers)
            assert response.status == 400, (path, content_type, await response.text())
            assert (await response.json())["error"] == messages.WEB_STALE_PAGE, path
    assert (await playground.timeline())["threads"] == []
    assert "Images left today: 20 of 20" in await playground.usage()


async def test_hostile_prompts_and_file_names_travel_as_plain_data(playground: Playground) -> None:
    prompt = '<script>alert(1)</script> "><img src=x onerror=alert(2)> \u202egnp.exe'
    name = "<svg onload=alert(3)>.png"
    thread = await playground.ask(prompt, [(name, png(), "image/png")])
    entries = await playground.until(thread, has("result"))
    assert of(entries, "ask")[0]["text"] == prompt
    assert of(entries, "ask")[0]["refs"][0]["name"] == name
    html = await playground.open_page()
    assert "<script>alert" not in html and "onerror" not in html


# -- the progress text -> a bar ---------------------------------------------------------------------


def test_status_fields_show_the_cores_progress_in_parts() -> None:
    running = status_fields(Progress.of(ProgressEvent("running", elapsed=3, percent=45), "image 1 = fox.png"))
    assert running == {
        "text": "Generating… 3s",
        "stage": "running",
        "percent": 45.0,
        "position": None,
        "footer": "image 1 = fox.png",
    }
    assert status_fields(Progress.of(ProgressEvent("running", elapsed=12)))["text"] == "Generating… 12s"
    queued = status_fields(Progress.of(ProgressEvent("queued", position=3)))
    assert queued["stage"] == "queued" and queued["position"] == 3 and queued["text"] == messages.queued(3)
    other = status_fields(Progress.said(messages.WAITING_FOR_PARENT))
    assert other["stage"] == "" and other["text"] == messages.WAITING_FOR_PARENT


async def test_a_lone_surrogate_in_a_name_or_prompt_leaves_every_pages_stream_working(
    playground: Playground,
) -> None:
    """Half of a UTF-16 pair, sent as JSON's \\ud800 in a declared file's name or in a UTF-7
    text part, was kept in the timeline: UTF-8 cannot carry it, and every page's event stream
    failed (the one open then, and each opened after) until a restart."""
    declared = '{"name": "cat\\ud800.png", "size": 10, "type": "image/png"}'
    thread = await playground.ask("a fox \ufffd", declared=declared)
    utf7 = (
        b'--x\r\nContent-Disposition: form-data; name="text"\r\n'
        b"Content-Type: text/plain; charset=utf-7\r\n\r\na fox +2AA-\r\n--x--\r\n"
    )
    headers = {CSRF_HEADER: playground.csrf, "Content-Type": "multipart/form-data; boundary=x"}
    assert (await playground.client.post("/api/ask", data=utf7, headers=headers)).status == 202
    await playground.until(thread, has("refusal"))
    stream = await playground.client.get("/api/events")
    snapshot = await stream.content.readuntil(b"\n\n")
    while b"snapshot" not in snapshot:
        snapshot = await stream.content.readuntil(b"\n\n")
    stream.close()
    assert "cat\ufffd.png".encode() in snapshot and "a fox \ufffd".encode() in snapshot


async def test_the_timeline_keeps_a_refused_giants_text_cut_short(playground: Playground) -> None:
    """Two refused 20 MB prompts were kept whole, and the snapshot sent to every page was 80 MB."""
    giant = "a fox " * 100_000
    thread = await playground.ask(giant)
    entries = await playground.until(thread, has("refusal"))
    kept = of(entries, "ask")[0]["text"]
    assert len(kept) <= 10_001 and kept.endswith("…") and giant.startswith(kept[:-1])
    assert len((await playground.thread(thread))["title"]) <= 10_001


async def test_a_declared_file_nested_past_pythons_stack_is_a_plain_refusal(playground: Playground) -> None:
    response = await playground.post("/api/ask", playground.form("a fox", declared="[" * 100_000))
    assert response.status == 400  # a RecursionError: a 500 with a traceback


async def test_an_idle_event_stream_sends_a_keep_alive_event_the_page_can_see(
    playground: Playground, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keep-alive was a comment, which never reaches the page's script: it could not tell a
    dead (half-open) connection from an idle one, and froze mid-job with no sign."""
    monkeypatch.setattr("adapters.web_adapter.app.HEARTBEAT", 0.2)
    html = await playground.open_page()
    assert 'data-heartbeat="' in html and f'data-max-prompt="{PROMPT_MAX_CHARS}"' in html
    stream = await playground.client.get("/api/events")
    seen = b""
    while b"event: ping\n" not in seen:
        seen += await asyncio.wait_for(stream.content.readuntil(b"\n\n"), 5)
    stream.close()
    assert b"event: ping\ndata: {}\n\n" in seen
