"""The wire helpers the providers share (providers/_common.py): reading error bodies, spotting
moderation, decoding result strings, asking for batches, riding out flaky polls."""

from __future__ import annotations

import base64

import httpx
import pytest

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers._common import (
    PollErrors,
    batch_prompt,
    body_message,
    error_text,
    images_from_strings,
    json_body,
    looks_moderated,
    number,
)
from tests.providers.helpers import png

# -- error bodies ------------------------------------------------------------------------------


def test_json_body_is_none_when_empty_or_not_json() -> None:
    assert json_body(httpx.Response(200, content=b"")) is None
    assert json_body(httpx.Response(502, text="<html>Bad Gateway</html>")) is None
    assert json_body(httpx.Response(200, content=b"\xff\xfe{")) is None
    assert json_body(httpx.Response(400, json={"error": "x"})) == {"error": "x"}
    assert json_body(httpx.Response(200, json=[1, 2])) == [1, 2]


def test_error_text_shapes() -> None:
    assert (
        error_text({"code": 403, "reason": "NOT_ENOUGH_BALANCE", "message": "low"})
        == "NOT_ENOUGH_BALANCE: 403: low"
    )
    assert error_text({"error": {"code": "X", "message": "m"}}) == "X: m"
    assert error_text({"error": "plain"}) == "plain"
    assert error_text(None, "fallback") == "fallback"


def test_error_text_skips_empty_and_repeated_values_and_caps_length() -> None:
    assert error_text({"code": 0, "message": "busy", "error": "busy", "detail": ""}) == "busy"
    assert error_text({"status": "failed"}, "HTTP 500") == "HTTP 500"
    assert error_text(["a", "list"], "fallback") == "fallback"
    assert error_text("x" * 1000) == "x" * 300
    assert len(error_text({"message": "m" * 200, "detail": "d" * 200})) == 300


def test_body_message_squeezes_a_non_json_body_into_a_short_hint() -> None:
    page = httpx.Response(502, text="<html>\n  <h1>Bad   Gateway</h1>\n" + "y" * 500)
    hint = body_message(page, None)
    assert hint.startswith("<html> <h1>Bad Gateway</h1> yyy")
    assert len(hint) < 160 and "\n" not in hint


def test_body_message_prefers_the_parsed_body() -> None:
    response = httpx.Response(400, json={"message": "prompt too long"})
    assert body_message(response, json_body(response)) == "prompt too long"


def test_body_message_of_json_in_no_known_shape_is_its_text() -> None:
    """It was empty: the job's error and the log said nothing of what the host answered."""
    for payload in ([{"loc": "prompt"}], {"status": "overloaded"}, 503):
        response = httpx.Response(400, json=payload)
        assert body_message(response, json_body(response)) == " ".join(response.text.split())


# -- moderation --------------------------------------------------------------------------------


def test_moderation_words() -> None:
    assert looks_moderated("OutputImageSensitiveContentDetected")
    assert looks_moderated("Provider returned an error: content policy violation")
    assert looks_moderated("NSFW content detected")
    assert not looks_moderated("ContentSecurityDetectionError: the sensitive-content check failed")
    assert not looks_moderated("rate limit exceeded", None)


def test_moderation_is_spotted_in_any_of_the_texts() -> None:
    assert looks_moderated(None, "InvalidParameter", "InputImageRiskDetection")
    assert looks_moderated("400", "the image is inappropriate")
    assert not looks_moderated(None, "", "InvalidParameter")


# -- headers and prompts -----------------------------------------------------------------------


def test_number_reads_a_numeric_header_and_ignores_anything_else() -> None:
    assert number("42") == 42 and isinstance(number("42"), int)
    assert number("42.0") == 42 and isinstance(number("42.0"), int)
    assert number("12.5") == 12.5
    assert number("plenty") is None
    assert number("") is None
    assert number(None) is None
    for odd in ("nan", "inf", "-Infinity"):  # a float, but no count; PostgreSQL's JSON refuses NaN
        assert number(odd) is None


def test_batch_prompt() -> None:
    assert batch_prompt("fox", 1) == "fox"
    assert batch_prompt("fox ", 3) == "fox\n\nGenerate a set of 3 images."
    assert batch_prompt("a" * 590, 3, limit=600) == "a" * 590


# -- result strings ----------------------------------------------------------------------------


async def test_inline_results_decode_from_data_uris_and_bare_base64(make) -> None:
    first, second = png(40, 30), png(20, 10)
    bare = base64.b64encode(second).decode()
    wrapped = "\n".join(bare[i : i + 60] for i in range(0, len(bare), 60))  # MIME-style lines
    items = [f"data:image/png;base64,{base64.b64encode(first).decode()}", wrapped]
    images, failed = await images_from_strings(make("novita"), items)
    assert failed == 0
    assert [(i.data, i.width, i.height) for i in images] == [(first, 40, 30), (second, 20, 10)]


async def test_result_urls_are_fetched_and_the_unusable_ones_counted(make, emu) -> None:
    good = png(48, 32)
    items = [
        emu.host_file(good, "image/png"),
        emu.host_file(b"<html>expired</html>", "text/html"),  # fetched, but not an image
        "not base64 at all!",
        base64.b64encode(b"just some bytes").decode(),  # base64, but not an image
        "data:image/png;base64",  # a data URI cut before its comma (an IndexError ended the job)
    ]
    images, failed = await images_from_strings(make("novita"), items)
    assert [(i.data, i.mime) for i in images] == [(good, "image/png")]
    assert failed == 4


async def test_oversized_inline_result_is_refused_before_decoding(make, monkeypatch) -> None:
    data = png(64, 64)
    inline = base64.b64encode(data).decode()
    monkeypatch.setattr("bot.providers._common.RESULT_MAX_BYTES", len(data) // 2)
    images, failed = await images_from_strings(make("novita"), [inline])
    assert (images, failed) == ([], 1)
    monkeypatch.setattr("bot.providers._common.RESULT_MAX_BYTES", len(data))
    images, failed = await images_from_strings(make("novita"), [inline])
    assert (len(images), failed) == (1, 0)


# -- polling -----------------------------------------------------------------------------------


def test_poll_errors_absorb_transients_then_give_up() -> None:
    guard = PollErrors(limit=2)

    def transient() -> ProviderError:
        return ProviderError("p", ProviderErrorKind.UNAVAILABLE)

    guard.absorb(transient())
    guard.absorb(transient())
    with pytest.raises(ProviderError) as gave_up:
        guard.absorb(transient())
    # The task is alive upstream: submitting it again (a retry, another host) would pay twice.
    assert (gave_up.value.retryable, gave_up.value.failover) == (False, False)
    guard.ok()
    guard.absorb(transient())
    with pytest.raises(ProviderError):
        guard.absorb(ProviderError("p", ProviderErrorKind.AUTH))
