"""Every configured secret goes only where it belongs.

Real traffic through both adapters and all four providers (mentions, slash commands with
images, failover across providers, a provider refusal, a download refused), with every log
record captured at DEBUG and every request every emulator received. Each secret may appear
only in the auth header of requests to its own service:

* Discord token: `Authorization: Bot <token>` on Discord REST calls (and the gateway IDENTIFY,
  which is how Discord's gateway authenticates a bot: it never leaves the Discord emulator);
* Slack bot token: `Authorization: Bearer <token>` on Slack Web API calls and its file host;
* Slack signing secret: never sent anywhere (it only verifies inbound requests);
* provider keys: each provider's own auth header, on requests to that provider only.

None of them may appear in any log record (rendered message or traceback, before the
redacting log handler) or in anything shown to a user (every message body the bot sent).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from bot.request.models import JobStatus
from tests.emulators.discord import HUMAN_USER_ID
from tests.emulators.slack import USER_ID
from tests.reliability.conftest import Stack
from tests.slack.conftest import png

EPHEMERAL = 64
PROVIDER_HEADER = {
    "novita": ("authorization", "Bearer {}"),
    "segmind": ("x-api-key", "{}"),
    "apiframe": ("x-api-key", "{}"),
    "modellix": ("authorization", "Bearer {}"),
}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    try:
        return json.dumps(value, default=repr)
    except (TypeError, ValueError):
        return repr(value)


def _log_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), record.name]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


async def test_secrets_only_in_their_own_auth_headers(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    keys = stack.secrets
    bot = await stack.start_bot(provider_retries=0)
    dc, sl, pv = stack.discord, stack.slack, stack.providers

    # Failover: Novita, Segmind and Apiframe are out of credits, Modellix makes the image.
    for name in ("novita", "segmind", "apiframe"):
        pv.state(name).fail("no_credits")
    inter = await dc.send_slash_command("imagine", {"prompt": "a lantern"})
    assert await inter.wait_ack() == 5
    await bot.wait_closed(f"discord:{HUMAN_USER_ID}", 1)
    # A slash command with an image and a mention, served by Novita.
    with_image = await dc.send_slash_command(
        "imagine", {"prompt": "a lantern, bluer", "image": dc.add_cdn_file("in.png", png())}
    )
    assert await with_image.wait_ack() == 5
    await dc.send_message(f"{dc.bot_mention} a paper crane", mentions=[dc.bot_user_id])
    await bot.wait_closed(f"discord:{HUMAN_USER_ID}", 3)
    # A provider refusal (moderation: not retried, not failed over) told to the user.
    pv.novita.fail("moderation")
    refused = await dc.send_slash_command("imagine", {"prompt": "something refused"})
    [answer] = await refused.wait_followups(1, timeout=10)
    assert answer["flags"] & EPHEMERAL
    await bot.wait_closed(f"discord:{HUMAN_USER_ID}", 4)

    # Slack: a mention with an image, a slash command, and a file on a foreign host (refused).
    f = sl.add_file("cat.png", png(), "image/png")
    await sl.post_event(bot.slack_url, sl.mention_event("make the cat purple", files=[f]))
    cmd = await sl.post_slash_command(bot.slack_url, "/imagine", "a fox in snow")
    assert cmd.status == 200
    await bot.wait_closed(f"slack:T1:{USER_ID}", 2)
    foreign = sl.add_file("dog.png", png(), "image/png")
    for key in ("url_private", "url_private_download"):
        foreign[key] = foreign[key].replace("127.0.0.1", "localhost")
    await sl.post_event(bot.slack_url, sl.mention_event("and the dog", files=[foreign]))
    await sl.wait_for(lambda: sl.ephemerals, timeout=10)

    jobs = await bot.jobs(f"discord:{HUMAN_USER_ID}") + await bot.jobs(f"slack:T1:{USER_ID}")
    assert sorted(j.status for j in jobs) == sorted([JobStatus.SUCCEEDED] * 5 + [JobStatus.FAILED]), jobs
    # Every provider really saw traffic with its key.
    for name in ("novita", "segmind", "apiframe", "modellix"):
        assert pv.state(name).submissions >= 1, name

    leaks: list[str] = []
    checked = 0

    # -- Discord emulator: REST, CDN and gateway frames.
    for r in dc.requests:
        checked += 1
        headers = {k.lower(): v for k, v in r.headers.items()}
        auth = headers.pop("authorization", "")
        rest = _text([r.path, r.raw_path, r.query, headers, r.json, r.payload_json, r.files, r.response])
        for label, value in keys.all().items():
            if value in rest:
                leaks.append(f"discord {r.method} {r.path}: {label} outside the auth header")
            if value in auth and not (
                label == "discord_token" and r.kind == "api" and auth == f"Bot {keys.discord_token}"
            ):
                leaks.append(f"discord {r.method} {r.path}: {label} in Authorization")
    for frame in dc.gateway_received:
        checked += 1
        data = frame.get("d")
        body = dict(data) if isinstance(data, dict) else data
        if frame.get("op") in (2, 6) and isinstance(body, dict):
            assert body.pop("token") == keys.discord_token  # how the gateway authenticates
        for label, value in keys.all().items():
            if value in _text(body):
                leaks.append(f"discord gateway op {frame.get('op')}: {label}")

    # -- Slack emulator: Web API, uploads, file host, response_url.
    for r in sl.requests:
        checked += 1
        headers = dict(r.headers)
        auth = headers.pop("Authorization", "") or headers.pop("authorization", "")
        rest = _text([r.path, r.query, headers, r.params, r.body, r.response])
        for label, value in keys.all().items():
            if value in rest:
                leaks.append(f"slack {r.kind} {r.path}: {label} outside the auth header")
            if value in auth and not (
                label == "slack_bot_token"
                and r.kind in ("api", "file")
                and auth == f"Bearer {keys.slack_bot_token}"
            ):
                leaks.append(f"slack {r.kind} {r.path}: {label} in Authorization")
    # Slack signs what it sends to the bot; the bot never sends the signing secret back.
    assert keys.slack_signing_secret not in _text([r.body for r in sl.requests])

    # -- Provider emulator: the four APIs and their result-file host.
    for r in stack.provider_requests:
        checked += 1
        service = r.path.split("/")[1]
        headers = {k.lower(): v for k, v in r.headers.items()}
        own = PROVIDER_HEADER.get(service)
        auth_value = headers.pop(own[0], "") if own else ""
        rest = _text([r.path, headers, r.body])
        for label, value in keys.all().items():
            if value in rest:
                leaks.append(f"provider {r.method} {r.path}: {label} outside its auth header")
            if value in auth_value and not (
                own is not None
                and label == f"{service}_api_key"
                and auth_value == own[1].format(keys.provider_keys[service])
            ):
                leaks.append(f"provider {r.method} {r.path}: {label} in {own and own[0]}")
    # Each provider's requests carried its own key and no other's.
    for name, (header, shape) in PROVIDER_HEADER.items():
        mine = [r for r in stack.provider_requests if r.path.startswith(f"/{name}/")]
        assert mine and all(
            {k.lower(): v for k, v in r.headers.items()}.get(header) == shape.format(keys.provider_keys[name])
            for r in mine
        ), name
    file_hits = [r for r in stack.provider_requests if r.path.startswith("/files/")]
    assert file_hits  # result downloads happened, and carried no key (checked above)

    # -- Logs, raw (before the redacting handler), at DEBUG, every logger.
    for record in caplog.records:
        checked += 1
        text = _log_text(record)
        for label, value in keys.all().items():
            if value in text:
                leaks.append(f"log {record.name}:{record.levelname}: {label}: {text[:200]}")

    print(
        f"\nsecrets: {len(keys.all())} configured, {len(dc.requests)} discord + "
        f"{len(dc.gateway_received)} gateway + {len(sl.requests)} slack + "
        f"{len(stack.provider_requests)} provider requests, {len(caplog.records)} log records; "
        f"checked {checked}, leaked {len(leaks)}"
    )
    assert not leaks, "\n".join(leaks)
