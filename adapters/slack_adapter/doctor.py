"""`seedbot doctor`'s Slack section: the transport, the tokens' prefixes offline, then a free
call per token (auth.test for the bot token, apps.connections.open for the app token), and
where the app manifest is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from adapters.slack_adapter.settings import SlackSettings
from bot.app.checkup import Checkup

__all__ = ["SLACK_ERRORS", "check_slack", "describe_error", "token_prefix_problem"]

SLACK_ERRORS = {
    "invalid_auth": "the token is not valid",
    "not_authed": "no token was sent",
    "account_inactive": "the app was uninstalled or its user deactivated",
    "token_revoked": "the token was revoked",
    "token_expired": "the token expired",
    "not_allowed_token_type": "this is the wrong kind of token",
}
# What each token prefix is, for telling someone which one they pasted.
_KINDS = {
    "xoxb-": "a bot token",
    "xapp-": "an app-level token",
    "xoxp-": "a user token",
    "xoxe": "a refresh token",
}
_WHERE = {
    "xoxb-": "api.slack.com/apps -> your app -> OAuth & Permissions -> Bot User OAuth Token",
    "xapp-": "api.slack.com/apps -> your app -> Basic Information -> App-Level Tokens (connections:write)",
}
MANIFEST = Path(__file__).resolve().parents[2] / "slack-manifest.yml"


def describe_error(error: str) -> str:
    return f"{error} ({SLACK_ERRORS.get(error, 'see the Slack API docs for this error')})"


def token_prefix_problem(name: str, token: str, prefix: str) -> str | None:
    """What is wrong with a token that can't be the kind `prefix` names, offline; else None."""
    if token.startswith(prefix):
        return None
    pasted = next((kind for start, kind in _KINDS.items() if token.startswith(start)), None)
    what = f"this is {pasted}" if pasted else f"it does not start with {prefix}"
    return f"{name} should be {_KINDS[prefix]} ({prefix}...), but {what}: copy it from {_WHERE[prefix]}"


async def _call(
    checkup: Checkup, http: httpx.AsyncClient, api_url: str, method: str, token: str, what: str
) -> dict[str, Any] | None:
    try:
        response = await http.post(f"{api_url}{method}", headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        checkup.unreachable(what, api_url, exc)
        return None
    if response.status_code != 200:
        return {"ok": False, "error": f"HTTP {response.status_code}"}
    try:
        body = response.json()
    except ValueError:
        return {"ok": False, "error": "not a JSON answer"}
    return dict(body) if isinstance(body, dict) else {"ok": False, "error": "unexpected answer"}


async def check_slack(settings: SlackSettings, checkup: Checkup, http: httpx.AsyncClient) -> None:
    if settings.incomplete is not None:
        checkup.say("slack: set up in part")
        checkup.problem(settings.incomplete)
        if not settings.bot_token:
            return
    elif not settings.enabled:
        checkup.say("slack: not configured (SLACK_BOT_TOKEN + secret)")
        return
    else:
        mode = "Socket Mode" if settings.socket_mode else f"HTTP on port {settings.slack_port}"
        checkup.say(f"slack: {mode}")
    api = settings.slack_api_url
    shape = token_prefix_problem("SLACK_BOT_TOKEN", settings.bot_token, "xoxb-")
    if shape is not None:
        checkup.problem(shape)
    else:
        auth = await _call(checkup, http, api, "auth.test", settings.bot_token, "SLACK_BOT_TOKEN")
        if auth is not None and auth.get("ok"):
            checkup.ok(f"bot token accepted (team {auth.get('team')}, bot user {auth.get('user')})")
        elif auth is not None:
            checkup.problem(
                f"SLACK_BOT_TOKEN was refused by auth.test: {describe_error(str(auth.get('error')))}"
            )
    if settings.app_token:
        shape = token_prefix_problem("SLACK_APP_TOKEN", settings.app_token, "xapp-")
        if shape is not None:
            checkup.problem(shape)
        else:
            opened = await _call(
                checkup, http, api, "apps.connections.open", settings.app_token, "SLACK_APP_TOKEN"
            )
            if opened is not None and opened.get("ok"):
                checkup.ok("app token accepted (Socket Mode)")
            elif opened is not None:
                checkup.problem(f"SLACK_APP_TOKEN was refused: {describe_error(str(opened.get('error')))}")
    where = str(MANIFEST) if MANIFEST.is_file() else "slack-manifest.yml in the seedbot repository"
    checkup.say(f"  manifest: {where} (api.slack.com/apps -> Create New App -> From a manifest)")
