"""`seedbot doctor`'s Discord section: the token's shape offline, then two free REST calls
(/users/@me, /oauth2/applications/@me), and the invite link whenever the application id is
known (from Discord's answer, else from the token itself)."""

from __future__ import annotations

import httpx

from adapters.discord_adapter.invite import (
    DISCORD_PERMISSIONS,
    DISCORD_USER_INSTALL,
    REFUSED_LOGIN,
    application_id_from_token,
    discord_invite_url,
    discord_user_install_url,
    token_shape_problem,
)
from adapters.discord_adapter.settings import DiscordSettings
from bot.app.checkup import Checkup

__all__ = ["check_discord"]


def _invite(checkup: Checkup, application_id: str, source: str, *, user_install: bool | None = None) -> None:
    checkup.say(f"  invite: {discord_invite_url(application_id)}")
    checkup.say(
        f"          (scopes bot, applications.commands; permissions: {', '.join(DISCORD_PERMISSIONS)})"
    )
    checkup.say(f"  user install: {discord_user_install_url(application_id)}")
    if user_install is False:
        checkup.say("          (not enabled: Developer Portal -> Installation -> User Install)")
    if source:
        checkup.say(f"          ({source})")


async def check_discord(settings: DiscordSettings, checkup: Checkup, http: httpx.AsyncClient) -> None:
    if not settings.enabled:
        checkup.say("discord: not configured (DISCORD_TOKEN)")
        return
    checkup.say("discord: configured")
    token = settings.token
    shape = token_shape_problem(token)
    if shape is not None:
        checkup.problem(shape)
        return
    base = settings.discord_api_base_url.rstrip("/")
    headers = {"Authorization": f"Bot {token}"}
    from_token = application_id_from_token(token)
    try:
        me = await http.get(f"{base}/users/@me", headers=headers)
        if me.status_code == 401:
            checkup.problem(REFUSED_LOGIN)
            return
        if me.status_code != 200:
            checkup.problem(f"Discord answered /users/@me with HTTP {me.status_code}")
            return
        user = me.json()
        checkup.ok(f"token accepted, signed in as {user.get('username')} (id {user.get('id')})")
        app = await http.get(f"{base}/oauth2/applications/@me", headers=headers)
    except httpx.HTTPError as exc:
        checkup.unreachable("DISCORD_TOKEN", base, exc)
        if from_token is not None:
            _invite(checkup, from_token, "application id read from the token, not verified")
        return
    except ValueError:
        checkup.problem(f"{base} did not answer with JSON: is DISCORD_API_BASE_URL Discord's API?")
        return
    if app.status_code != 200:
        checkup.problem(f"Discord answered /oauth2/applications/@me with HTTP {app.status_code}")
        return
    try:
        application_id = str(app.json()["id"])
    except (ValueError, KeyError, TypeError):
        checkup.problem(f"{base} did not answer /oauth2/applications/@me with an application id")
        return
    types = app.json().get("integration_types_config") or {}
    _invite(checkup, application_id, "", user_install=DISCORD_USER_INSTALL in types)
