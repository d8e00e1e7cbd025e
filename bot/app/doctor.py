"""`seedbot doctor`: check the configuration and each credential, say what is missing.

The core checks the database and the providers here; each platform plug-in checks its own
settings (`PlatformPlugin.doctor`) and reports on the same `Checkup`. Offline checks (token
shapes, documented key prefixes) run first; a credential whose service can't be reached is
"not verified", never "ok". Exit 0 when no problem was found (the last line says whether
everything was verified), 1 otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import httpx

from bot.app.checkup import Checkup
from bot.app.config_check import ignored_settings, settings_problems
from bot.app.platform import PlatformPlugin, PlatformSettings
from bot.config import Settings
from bot.errors import LedgerUnavailable, ProviderError

__all__ = [
    "DOCTOR_TIMEOUT",
    "KEY_PREFIXES",
    "check_providers",
    "is_server_url",
    "run_doctor",
    "without_password",
]

DOCTOR_TIMEOUT = 10.0

# Providers whose documentation states a key format: (prefix, where to get a key).
KEY_PREFIXES = {
    "novita": ("sk_", "novita.ai -> Settings -> Key Management"),
    "segmind": ("SG_", "segmind.com -> Console -> API Keys"),
}


def is_server_url(database: str) -> bool:
    return database.startswith(("postgres://", "postgresql://"))


def without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


async def check_database(settings: Settings, checkup: Checkup) -> None:
    from bot.ledger import SQLiteLedger, open_ledger

    url = settings.database
    checkup.say(f"database: {without_password(url) if is_server_url(url) else url}")
    path = Path(url)
    if not is_server_url(url) and not path.exists():
        if path.parent.is_dir() and os.access(path.parent, os.W_OK):
            checkup.say("  not created yet: `seedbot run` creates and migrates it here")
        else:
            checkup.problem(f"{path.parent} does not exist or is not writable: the database can't be created")
        return
    try:
        ledger = await open_ledger(settings)
        try:
            if isinstance(ledger, SQLiteLedger):
                await ledger.db.execute("SELECT 1")
            else:
                await ledger.open_reservations()
        finally:
            await ledger.close()
    except LedgerUnavailable as exc:  # says what it is and what to do
        checkup.problem(exc.user_text)
        return
    except Exception as exc:
        checkup.problem(f"the database could not be opened and migrated: {type(exc).__name__}: {exc}")
        return
    checkup.ok("opened, migrations up to date, answers queries")


async def check_providers(settings: Settings, checkup: Checkup, http: httpx.AsyncClient) -> None:
    from bot.media.fetch import SafeFetcher
    from bot.providers.registry import PROVIDER_CLASSES

    if settings.demo_only:
        checkup.say(
            "providers: none configured -> offline demo provider (set NOVITA_API_KEY, SEGMIND_API_KEY, ...)"
        )
    else:
        checkup.say(f"providers (routing order): {', '.join(settings.provider_names)}")
    for name in settings.provider_names:
        if name == "demo":
            continue
        key = settings.provider_key(name)
        assert key is not None  # provider_names lists only providers with a key
        env = settings.provider_key_env(name)
        prefix, where = KEY_PREFIXES.get(name, ("", ""))
        if prefix and not key.get_secret_value().startswith(prefix):
            checkup.problem(
                f"{env} does not start with {prefix} as {name.capitalize()} keys do: copy it again ({where})"
            )
            continue
        # A free authenticated call where the host has one (Replicate's account); else the shape.
        provider = PROVIDER_CLASSES[name](settings, http, SafeFetcher(http))
        try:
            check = await provider.check_key()
        except ProviderError as exc:
            checkup.unreachable(env, provider.base_url, exc)
            continue
        shape = f"starts with {prefix}, " if prefix else ""
        if check.ok is False:
            checkup.problem(f"{name}: {check.detail}")
        elif check.ok:
            checkup.say(f"  {name}: ok: {check.detail}")
        else:
            checkup.say(f"  {name}: key set, {shape}{check.detail}")


async def run_doctor(
    settings: Settings,
    plugins: Mapping[str, PlatformPlugin],
    platform_settings: Mapping[str, PlatformSettings],
) -> int:
    secrets = settings.secrets() + [s for ps in platform_settings.values() for s in ps.secrets()]
    checkup = Checkup(secrets)
    await check_database(settings, checkup)
    async with httpx.AsyncClient(
        timeout=DOCTOR_TIMEOUT, headers={"User-Agent": "seedbot-doctor/0.1"}
    ) as http:
        await check_providers(settings, checkup, http)
        for name, plugin in plugins.items():
            await plugin.doctor(platform_settings[name], checkup, http)
    # With no chat platform `seedbot run` serves the playground (its plug-in said so above): the
    # first-hour set-up, not a problem. Without a playground plug-in there is nothing to serve.
    for problem in settings_problems(settings, plugins) + ignored_settings(settings, platform_settings):
        checkup.problem(problem)
    if not any(ps.enabled for ps in platform_settings.values()) and not any(
        p.playground for p in plugins.values()
    ):
        checkup.problem("no chat platform is configured: `seedbot run` has nothing to serve")
    checkup.say(checkup.summary())
    return 0 if checkup.problems == 0 else 1
