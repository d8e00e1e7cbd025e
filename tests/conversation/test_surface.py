"""Shown.details and Progress: what a result says under its prompt and what a job's status
shows, decided once for every surface."""

from __future__ import annotations

import dataclasses

from bot import i18n, messages
from bot.conversation.surface import RESULT_ACTIONS, Button, Progress, Shown, result_buttons
from bot.engine.pipeline import ProgressEvent
from bot.request.models import UNMARKED, GeneratedImage, GenerationResult


def _shown(*, requested: int = 2, left: int | None = 5, weight: int = 1) -> Shown:
    image = GeneratedImage(data=b"x", mime="image/png", width=8, height=8)
    result = GenerationResult(
        job_id="j1",
        images=(image,) * requested,
        provider="novita",
        model="seedream-4.5",
        size="2048x2048",
        requested=requested,
        elapsed=3.2,
        weight=weight,
    )
    return Shown(result=result, prompt="a cat", legend="image 1 = cat.png", left=left, requester="ann")


def test_details_name_the_model_size_provider_and_what_is_left() -> None:
    details = _shown().details(2)
    fields = dict(details.fields)
    assert fields[messages.LABEL_PROVIDER] == "novita"
    assert fields[messages.LABEL_SIZE] == "2048x2048"
    assert fields[messages.LABEL_LEFT_TODAY] == "5"
    assert details.references == "image 1 = cat.png"
    assert details.notes == ()


def test_images_not_posted_count_as_left_and_say_so() -> None:
    details = _shown(requested=3, left=1, weight=2).details(3, posted=1)
    assert dict(details.fields)[messages.LABEL_LEFT_TODAY] == "5"  # 1 + 2 unposted x weight 2
    assert details.notes[-1] == messages.not_posted(1, 3, 2)  # after the weight note


def test_a_note_after_the_caption_says_what_is_left_with_the_unposted_refunded() -> None:
    # The caption went out with the first message, counting every image; two were not posted.
    note = _shown(requested=3, left=1, weight=2).not_posted(1, 3)
    assert note == f"{messages.not_posted(1, 3, 2)}\n{messages.left_today(5)}"
    assert _shown(requested=3, left=None).not_posted(1, 3) == messages.not_posted(1, 3, 1)


def test_unlimited_stays_unlimited_and_a_short_batch_is_noted() -> None:
    details = _shown(requested=3, left=None).details(2, posted=1)
    assert dict(details.fields)[messages.LABEL_LEFT_TODAY] == messages.UNLIMITED
    assert messages.partial_delivery(2, 3, 1) in details.notes
    assert messages.not_posted(1, 2, 1) in details.notes


def test_later_messages_offer_only_what_concerns_their_images() -> None:
    assert _shown().later_actions == ("delete", "upscale")
    resumed = Shown(
        result=_shown().result,
        prompt="a cat",
        legend="",
        left=None,
        requester="ann",
        actions=("info", "delete"),
    )
    assert resumed.later_actions == ("delete",)


def test_a_results_buttons_are_its_actions_then_one_upscale_per_image_shown() -> None:
    whole, each = result_buttons(RESULT_ACTIONS, 11, 3)  # a message showing images 11 to 13
    assert [b.action for b in whole] == ["reroll", "variations", "edit", "info", "delete"]
    assert each == (Button("upscale", 11), Button("upscale", 12), Button("upscale", 13))
    assert each[1].label == messages.upscale_button(12)
    with i18n.use("de"):
        assert whole[0].label == messages.action_label("reroll") != "Re-roll"
    assert result_buttons(("delete",), 1, 4) == ((Button("delete"),), ())  # no Upscale offered
    assert result_buttons(RESULT_ACTIONS)[1] == ()  # no images on this message


def test_a_result_made_without_the_watermark_asked_for_says_so() -> None:
    shown = _shown()
    unmarked = dataclasses.replace(shown, result=dataclasses.replace(shown.result, usage={UNMARKED: True}))
    said = messages.no_watermark("novita")
    assert said in unmarked.details(2).notes and said in unmarked.caption(2)
    assert said not in shown.details(2).notes and said not in shown.caption(2)


def test_progress_keeps_its_parts_typed_in_any_language() -> None:
    event = ProgressEvent("running", elapsed=7, percent=30)
    with i18n.use("ja"):
        progress = Progress.of(event, "image 1 = a.png")
        assert progress.text == f"{messages.running(7, 30)}\nimage 1 = a.png"
        assert progress.line == messages.running(7, None)
    assert progress.line != Progress.of(event).line  # worded in Japanese, not parsed back
    assert (progress.stage, progress.percent, progress.position) == ("running", 30, None)
    queued = Progress.of(ProgressEvent("queued"))
    assert (queued.stage, queued.position, queued.percent) == ("queued", 1, None)


def test_a_status_the_conversation_words_itself_has_no_stage() -> None:
    said = Progress.said("Waiting…\nimage 1 = a.png")
    assert (said.line, said.footer, said.stage, said.percent) == ("Waiting…", "image 1 = a.png", "", None)
